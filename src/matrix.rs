//! A dense, row-major matrix of `f64`: one row a sample, one column a feature.
//!
//! The tables glrfe handles are small (hundreds of rows, about a hundred columns) and are read
//! row by row (SMOTE neighbours, mini-batches, fold subsets), so a plain row-major buffer is the
//! natural layout. Linear algebra on the network's hot path lives in `nn` with its own kernels;
//! this type only stores, slices and gathers.

/// A dense row-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows x cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix { rows, cols, data: vec![0.0; rows * cols] }
    }

    /// A matrix over `data`, read row by row. Panics if `data.len() != rows * cols`.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "matrix data length must be rows * cols");
        Matrix { rows, cols, data }
    }

    /// A matrix whose rows are `rows`; all must have the same length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Matrix {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for r in rows {
            assert_eq!(r.len(), cols, "all rows must have the same length");
            data.extend_from_slice(r);
        }
        Matrix { rows: rows.len(), cols, data }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The whole buffer, row by row.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }

    /// Column `j` as a new vector.
    pub fn col(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.get(i, j)).collect()
    }

    /// The rows at `idx`, in that order (indices may repeat).
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix { rows: idx.len(), cols: self.cols, data }
    }

    /// The columns at `idx`, in that order.
    pub fn select_cols(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(self.rows * idx.len());
        for i in 0..self.rows {
            let r = self.row(i);
            data.extend(idx.iter().map(|&j| r[j]));
        }
        Matrix { rows: self.rows, cols: idx.len(), data }
    }

    /// Append the rows of `other` (same column count) below these.
    pub fn append_rows(&mut self, other: &Matrix) {
        assert_eq!(self.cols, other.cols, "appended rows must have the same column count");
        self.data.extend_from_slice(&other.data);
        self.rows += other.rows;
    }

    /// Append one row.
    pub fn push_row(&mut self, row: &[f64]) {
        assert_eq!(row.len(), self.cols, "pushed row must have the matrix's column count");
        self.data.extend_from_slice(row);
        self.rows += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_append() {
        let m = Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        assert_eq!(m.select_rows(&[1, 1, 0]).as_slice(), &[4., 5., 6., 4., 5., 6., 1., 2., 3.]);
        assert_eq!(m.select_cols(&[2, 0]).as_slice(), &[3., 1., 6., 4.]);
        assert_eq!(m.col(1), vec![2.0, 5.0]);
        let mut a = m.clone();
        a.append_rows(&m);
        a.push_row(&[7.0, 8.0, 9.0]);
        assert_eq!((a.rows(), a.get(4, 2)), (5, 9.0));
    }
}
