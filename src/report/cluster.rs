//! Correlation matrices and the order that puts correlated features side by side.
//!
//! The heat maps order features by agglomerative hierarchical clustering with average linkage
//! (UPGMA) on the distance 1 - |r|: at each step the two clusters with the smallest mean
//! pairwise distance between their members merge. Reading the dendrogram's leaves left to right
//! gives an order in which every cluster's members are contiguous, so correlated groups show as
//! blocks along the diagonal. Ties (equal distances) go to the pair of clusters with the lowest
//! ids, so the order is deterministic.

use crate::matrix::Matrix;

/// Pearson correlation of every pair of columns of `x` (n x d), as a d x d matrix.
///
/// r_ab = sum_i (x_ia - mean_a)(x_ib - mean_b) / sqrt(sum_i (x_ia - mean_a)^2 sum_i (x_ib -
/// mean_b)^2), with sums over rows in order. A constant column has no correlation: its row and
/// column are NaN, its diagonal entry too.
pub fn correlation(x: &Matrix) -> Matrix {
    let (n, d) = (x.rows(), x.cols());
    let mut centred = Matrix::zeros(n, d);
    for j in 0..d {
        let mean = (0..n).map(|i| x.get(i, j)).sum::<f64>() / n.max(1) as f64;
        for i in 0..n {
            centred.set(i, j, x.get(i, j) - mean);
        }
    }
    let norm: Vec<f64> =
        (0..d).map(|j| (0..n).map(|i| centred.get(i, j).powi(2)).sum::<f64>().sqrt()).collect();
    let mut r = Matrix::zeros(d, d);
    for a in 0..d {
        for b in a..d {
            let v = if norm[a] > 0.0 && norm[b] > 0.0 {
                let dot: f64 = (0..n).map(|i| centred.get(i, a) * centred.get(i, b)).sum();
                (dot / (norm[a] * norm[b])).clamp(-1.0, 1.0)
            } else {
                f64::NAN
            };
            r.set(a, b, v);
            r.set(b, a, v);
        }
    }
    r
}

/// One merge of the clustering: clusters `a` < `b` joined at mean distance `height` into a
/// cluster of `size` leaves. Leaves are clusters `0..n`; the k-th merge creates cluster `n + k`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merge {
    pub a: usize,
    pub b: usize,
    pub height: f64,
    pub size: usize,
}

/// Average-linkage clustering of `n` items with the symmetric distances `dist` (n x n, row-major).
///
/// Distances between clusters are updated by the Lance-Williams rule for average linkage,
/// d(a + b, c) = (|a| d(a, c) + |b| d(b, c)) / (|a| + |b|), which keeps each one equal to the
/// mean distance over all pairs of members. NaN distances count as the largest possible, 1 more
/// than the largest finite one. O(n^3), fine for the hundred-odd features of a radiomics table.
pub fn average_linkage(dist: &Matrix) -> Vec<Merge> {
    let n = dist.rows();
    assert_eq!(dist.cols(), n, "average_linkage: distances must be square");
    let worst = dist.as_slice().iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max) + 1.0;

    // d[a][b] between active clusters, indexed by cluster id (leaves and merges alike).
    let total = 2 * n.max(1) - 1;
    let mut d = vec![vec![f64::NAN; total]; total];
    for (a, row) in d.iter_mut().enumerate().take(n) {
        for (b, cell) in row.iter_mut().enumerate().take(n) {
            let v = dist.get(a, b);
            *cell = if v.is_finite() { v } else { worst };
        }
    }
    let mut size = vec![1usize; total];
    let mut active: Vec<usize> = (0..n).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    while active.len() > 1 {
        // The closest pair; `active` ascends, so the first minimum found has the lowest ids.
        let mut best = (f64::INFINITY, 0, 0);
        for (i, &a) in active.iter().enumerate() {
            for &b in &active[i + 1..] {
                if d[a][b] < best.0 {
                    best = (d[a][b], a, b);
                }
            }
        }
        let (height, a, b) = best;
        let c = n + merges.len();
        size[c] = size[a] + size[b];
        active.retain(|&k| k != a && k != b);
        for &k in &active {
            let v = (size[a] as f64 * d[a][k] + size[b] as f64 * d[b][k]) / size[c] as f64;
            d[c][k] = v;
            d[k][c] = v;
        }
        active.push(c);
        merges.push(Merge { a, b, height, size: size[c] });
    }
    merges
}

/// The leaves of the dendrogram of `merges` over `n` items, left to right, with each merge's
/// lower-id cluster on the left.
pub fn leaf_order(merges: &[Merge], n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let root = if merges.is_empty() { 0 } else { n + merges.len() - 1 };
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![root];
    while let Some(c) = stack.pop() {
        if c < n {
            order.push(c);
        } else {
            let m = merges[c - n];
            stack.push(m.b);
            stack.push(m.a);
        }
    }
    order
}

/// The order of the columns of a correlation matrix `r` that puts correlated groups together:
/// average linkage on 1 - |r|, leaves left to right.
pub fn correlation_order(r: &Matrix) -> Vec<usize> {
    let d = r.rows();
    let mut dist = Matrix::zeros(d, d);
    for a in 0..d {
        for b in 0..d {
            dist.set(a, b, if a == b { 0.0 } else { 1.0 - r.get(a, b).abs() });
        }
    }
    leaf_order(&average_linkage(&dist), d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Average linkage by its definition: the mean distance over all pairs of members.
    fn brute_mean(dist: &Matrix, a: &[usize], b: &[usize]) -> f64 {
        let mut s = 0.0;
        for &i in a {
            for &j in b {
                s += dist.get(i, j);
            }
        }
        s / (a.len() * b.len()) as f64
    }

    fn members(merges: &[Merge], n: usize, c: usize) -> Vec<usize> {
        if c < n {
            vec![c]
        } else {
            let m = merges[c - n];
            let mut v = members(merges, n, m.a);
            v.extend(members(merges, n, m.b));
            v
        }
    }

    #[test]
    fn five_items_merge_at_the_mean_pairwise_distances() {
        // a..e with distances whose average-linkage merges are (a,b) 17, (ab,e) 22, (c,d) 28,
        // (abe,cd) 33: the mean of the six cross distances (21+30+39+31+34+43)/6.
        let t = [
            [0.0, 17.0, 21.0, 31.0, 23.0],
            [17.0, 0.0, 30.0, 34.0, 21.0],
            [21.0, 30.0, 0.0, 28.0, 39.0],
            [31.0, 34.0, 28.0, 0.0, 43.0],
            [23.0, 21.0, 39.0, 43.0, 0.0],
        ];
        let dist = Matrix::from_rows(&t.iter().map(|r| r.to_vec()).collect::<Vec<_>>());
        let m = average_linkage(&dist);
        let heights: Vec<f64> = m.iter().map(|m| m.height).collect();
        assert_eq!(heights, vec![17.0, 22.0, 28.0, 33.0]);
        for k in &m {
            let (a, b) = (members(&m, 5, k.a), members(&m, 5, k.b));
            assert!((brute_mean(&dist, &a, &b) - k.height).abs() < 1e-12);
            assert_eq!(k.size, a.len() + b.len());
        }
        assert_eq!(leaf_order(&m, 5), vec![4, 0, 1, 2, 3]);
    }

    #[test]
    fn correlated_blocks_become_contiguous() {
        // Columns 0, 2, 4 follow one latent, 1, 3 another; interleaved on purpose.
        let mut rows = Vec::new();
        for i in 0..40 {
            let u = (i as f64 * 0.7).sin();
            let v = (i as f64 * 1.3).cos();
            rows.push(vec![u, v, 2.0 * u + 0.01 * v, -v + 0.02 * u, u - 0.03 * v]);
        }
        let r = correlation(&Matrix::from_rows(&rows));
        assert!((r.get(0, 2) - 1.0).abs() < 1e-3);
        assert!((r.get(1, 3) + 1.0).abs() < 1e-3);
        let order = correlation_order(&r);
        let pos = |j: usize| order.iter().position(|&k| k == j).unwrap();
        let mut a = [pos(0), pos(2), pos(4)];
        a.sort();
        assert_eq!(a[2] - a[0], 2, "{order:?}");
        assert_eq!(pos(1).abs_diff(pos(3)), 1, "{order:?}");
    }

    #[test]
    fn constant_columns_are_nan_and_still_ordered() {
        let x = Matrix::from_rows(&[vec![1.0, 5.0, 2.0], vec![2.0, 5.0, 4.0], vec![3.0, 5.0, 7.0]]);
        let r = correlation(&x);
        assert!(r.get(0, 1).is_nan() && r.get(1, 1).is_nan());
        assert!(r.get(0, 2) > 0.9);
        let mut o = correlation_order(&r);
        o.sort();
        assert_eq!(o, vec![0, 1, 2]);
    }
}
