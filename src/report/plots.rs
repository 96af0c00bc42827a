//! The report's figures, each a function from plain numbers to an [`Svg`]: elimination curves,
//! bar charts, correlation heat maps, class-wise distributions, ROC curves and the confusion
//! matrix. None of them knows where its numbers came from, so `select`, `evaluate` and any later
//! command can draw the same figure from their own results.

use super::cluster;
use super::stats;
use super::svg::{
    self, BLUE, Frame, GREY, INK, LIGHT, Scale, Stroke, Svg, Text, VERMILLION, fixed,
};
use crate::matrix::Matrix;

/// Approximate width in px of `s` at font size `size` (sans-serif, average glyph 0.58 em).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// A figure's heading line, drawn at the top left.
fn heading(svg: &mut Svg, text: &str) {
    svg.text(14.0, 24.0, text, Text::new(15.0).bold());
}

/// One point of an elimination curve: the score at `x` features, with an optional spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    /// Lower and upper end of the spread band (e.g. mean ± sd, or min and max over folds).
    pub spread: Option<(f64, f64)>,
}

/// One panel of an elimination curve: a score and what its spread band means.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePanel {
    /// Axis title of the score, with its unit, e.g. "mean training loss (cross-entropy, nats)".
    pub y_label: String,
    /// What the band shows, e.g. "± 1 sd over the features in"; empty when there is none.
    pub spread_label: String,
    pub points: Vec<CurvePoint>,
}

/// Scores against the number of features still in, one panel per score stacked above a shared
/// x axis, with a dashed vertical line at `keep`.
pub fn elimination_curve(title: &str, panels: &[CurvePanel], keep: usize, x_label: &str) -> Svg {
    let (left, width, panel_h, gap) = (80.0, 640.0, 200.0, 70.0);
    let top = 60.0;
    let height = top + panels.len() as f64 * (panel_h + gap) + 20.0;
    let mut s = Svg::new(left + width + 30.0, height, title);
    heading(&mut s, title);
    let xs: Vec<f64> = panels.iter().flat_map(|p| p.points.iter().map(|q| q.x)).collect();
    let xmax = xs.iter().copied().fold(keep as f64, f64::max);
    let xr = (0.0, xmax.max(1.0));
    for (k, p) in panels.iter().enumerate() {
        let y0 = top + k as f64 * (panel_h + gap);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for q in &p.points {
            for v in
                [Some(q.mean), q.spread.map(|s| s.0), q.spread.map(|s| s.1)].into_iter().flatten()
            {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        let yr = svg::nice_range(lo, hi, 6);
        let f = Frame::new(left, y0, width, panel_h, xr, yr);
        f.axes(&mut s, if k + 1 == panels.len() { x_label } else { "" }, &p.y_label);
        let mut pts: Vec<&CurvePoint> = p.points.iter().filter(|q| q.mean.is_finite()).collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        let band: Vec<(f64, f64, f64)> =
            pts.iter().filter_map(|q| q.spread.map(|(a, b)| (q.x, a, b))).collect();
        if band.len() > 1 {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, a, _)| f.px(x, a)).collect();
            poly.extend(band.iter().rev().map(|&(x, _, b)| f.px(x, b)));
            s.polygon(&poly, BLUE, 0.2);
        }
        let line: Vec<(f64, f64)> = pts.iter().map(|q| f.px(q.x, q.mean)).collect();
        s.polyline(&line, Stroke::new(BLUE, 2.0));
        if line.len() <= 40 {
            for &(x, y) in &line {
                s.circle(x, y, 2.5, BLUE);
            }
        }
        let kx = f.x.px(keep as f64);
        s.line(kx, f.top, kx, f.bottom(), Stroke::new(VERMILLION, 1.5).dashed("6 4"));
        s.text(
            kx + 5.0,
            f.top + 14.0,
            &format!("K = {keep} kept"),
            Text::new(12.0).fill(VERMILLION),
        );
        // Legend above the panel's top right corner.
        let lx = f.right() - 250.0;
        let ly = y0 - 10.0;
        s.line(lx, ly - 4.0, lx + 22.0, ly - 4.0, Stroke::new(BLUE, 2.0));
        s.text(lx + 28.0, ly, "mean", Text::new(12.0));
        if !p.spread_label.is_empty() && band.len() > 1 {
            s.polygon(
                &[(lx + 75.0, ly - 10.0), (lx + 97.0, ly - 10.0), (lx + 97.0, ly), (lx + 75.0, ly)],
                BLUE,
                0.2,
            );
            s.text(lx + 103.0, ly, &p.spread_label, Text::new(12.0));
        }
    }
    s
}

/// One bar of a [`bar_chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Whiskers, e.g. min and max over folds.
    pub whisker: Option<(f64, f64)>,
}

/// Horizontal bars, one a row, labelled on the left, in the order given; values are written at
/// the bar ends with `decimals` decimals. `x_range` fixes the axis (e.g. (0, 1) for
/// frequencies); otherwise it runs from 0 to the largest value.
pub fn bar_chart(
    title: &str,
    bars: &[Bar],
    x_label: &str,
    x_range: Option<(f64, f64)>,
    decimals: usize,
) -> Svg {
    let label_w = bars.iter().map(|b| text_width(&b.label, 12.0)).fold(60.0, f64::max) + 16.0;
    let (row, plot_w) = (20.0, 420.0);
    let top = 48.0;
    let height = top + bars.len().max(1) as f64 * row + 60.0;
    let mut s = Svg::new(label_w + plot_w + 70.0, height, title);
    heading(&mut s, title);
    let hi = bars
        .iter()
        .map(|b| b.whisker.map_or(b.value, |w| w.1.max(b.value)))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let xr = x_range.unwrap_or((0.0, svg::nice_range(0.0, hi, 6).1));
    let f = Frame::new(label_w, top, plot_w, bars.len().max(1) as f64 * row, xr, (0.0, 1.0));
    // Only the x axis: the y axis is categorical.
    let (xt, xd) = svg::ticks(f.x.lo, f.x.hi, 6);
    for &v in &xt {
        let x = f.x.px(v);
        s.line(x, f.top, x, f.bottom(), Stroke::new("#EEEEEE", 1.0));
        s.line(x, f.bottom(), x, f.bottom() + 5.0, Stroke::new(GREY, 1.0));
        s.text(x, f.bottom() + 18.0, &fixed(v, xd), Text::new(12.0).middle());
    }
    s.line(f.left, f.bottom(), f.right(), f.bottom(), Stroke::new(GREY, 1.0));
    s.line(f.left, f.top, f.left, f.bottom(), Stroke::new(GREY, 1.0));
    s.text(f.left + plot_w / 2.0, f.bottom() + 38.0, x_label, Text::new(13.0).middle());
    for (i, b) in bars.iter().enumerate() {
        let y = top + i as f64 * row;
        s.text(f.left - 8.0, y + row * 0.7, &b.label, Text::new(12.0).end());
        let v = if b.value.is_finite() { b.value } else { 0.0 };
        let x1 = f.x.px(v.max(f.x.lo));
        s.rect(f.left, y + 3.0, x1 - f.left, row - 6.0, BLUE, None);
        let mut end = x1;
        if let Some((a, c)) = b.whisker {
            let (xa, xc) = (f.x.px(a), f.x.px(c));
            let my = y + row / 2.0;
            s.line(xa, my, xc, my, Stroke::new(INK, 1.2));
            s.line(xa, my - 4.0, xa, my + 4.0, Stroke::new(INK, 1.2));
            s.line(xc, my - 4.0, xc, my + 4.0, Stroke::new(INK, 1.2));
            end = end.max(xc);
        }
        s.text(end + 5.0, y + row * 0.7, &fixed(b.value, decimals), Text::new(11.0).fill(GREY));
    }
    s
}

/// A correlation heat map of the features `names` (r is their d x d correlation matrix), rows
/// and columns in `order`; `marked[j]` draws feature j's label in bold with a black tick (e.g.
/// the kept features among all). Small maps write r in each cell; a colour bar gives the scale.
pub fn correlation_heatmap(
    title: &str,
    names: &[String],
    r: &Matrix,
    order: &[usize],
    marked: &[bool],
) -> Svg {
    let d = order.len();
    let cell = (640.0 / d.max(1) as f64).clamp(8.0, 40.0);
    let font = (cell - 1.5).clamp(7.0, 12.0);
    let label_w = names.iter().map(|n| text_width(n, font)).fold(40.0, f64::max) + 18.0;
    let col_labels = d <= 40;
    let top = 46.0 + if col_labels { label_w } else { 10.0 };
    let left = label_w;
    let map = cell * d as f64;
    let mut s = Svg::new(left + map + 120.0, top + map + 40.0, title);
    heading(&mut s, title);
    for (row, &a) in order.iter().enumerate() {
        let y = top + row as f64 * cell;
        let bold = marked.get(a).copied().unwrap_or(false);
        let mut t = Text::new(font).end();
        if bold {
            t = t.bold();
            s.rect(left - 6.0, y + cell * 0.25, 4.0, cell * 0.5, INK, None);
        }
        s.text(left - 9.0, y + cell / 2.0 + font * 0.35, &names[a], t);
        if col_labels {
            let x = left + row as f64 * cell + cell / 2.0 + font * 0.35;
            let mut t = Text::new(font).rotate(-90.0);
            if bold {
                t = t.bold();
            }
            s.text(x, top - 8.0, &names[a], t);
        }
        for (col, &b) in order.iter().enumerate() {
            let v = r.get(a, b);
            let x = left + col as f64 * cell;
            s.rect(x, y, cell, cell, &svg::diverging(v), None);
            if cell >= 28.0 && v.is_finite() {
                let ink = if v.abs() > 0.6 { "#FFFFFF" } else { INK };
                s.text(
                    x + cell / 2.0,
                    y + cell / 2.0 + 3.5,
                    &fixed(v, 2),
                    Text::new(10.0).middle().fill(ink),
                );
            }
        }
    }
    s.rect(left, top, map, map, "none", Some(Stroke::new(GREY, 1.0)));
    colour_bar(&mut s, left + map + 30.0, top, map.clamp(160.0, 320.0));
    s
}

/// A vertical colour bar for r in [-1, 1] at (x, y), `h` px tall, made of flat steps.
fn colour_bar(s: &mut Svg, x: f64, y: f64, h: f64) {
    let steps = 40;
    let sc = Scale::new(-1.0, 1.0, y + h, y);
    for k in 0..steps {
        let a = -1.0 + 2.0 * k as f64 / steps as f64;
        let b = a + 2.0 / steps as f64;
        s.rect(x, sc.px(b), 16.0, sc.px(a) - sc.px(b) + 0.3, &svg::diverging((a + b) / 2.0), None);
    }
    s.rect(x, y, 16.0, h, "none", Some(Stroke::new(GREY, 1.0)));
    for v in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let py = sc.px(v);
        s.line(x + 16.0, py, x + 20.0, py, Stroke::new(GREY, 1.0));
        s.text(x + 23.0, py + 4.0, &fixed(v, 1), Text::new(11.0));
    }
    s.text(x - 4.0, y - 10.0, "Pearson r", Text::new(12.0));
}

/// [`correlation_heatmap`] of the columns of `x` (n x d), Pearson r over its rows, in the
/// average-linkage order of [`cluster::correlation_order`].
pub fn clustered_heatmap(title: &str, names: &[String], x: &Matrix, marked: &[bool]) -> Svg {
    let r = cluster::correlation(x);
    let order = cluster::correlation_order(&r);
    correlation_heatmap(title, names, &r, &order, marked)
}

/// Overlaid histograms of each feature's standardised values by class, one small panel a
/// feature, three panels a row. `columns[k]` holds feature k's values over the rows labelled
/// `y`; values are standardised by the mean and sd over all those rows and binned over [-3, 3]
/// in 24 bins (values beyond go to the end bins). Each class's histogram is a density (count /
/// (class size x bin width)), so the two compare despite unequal class sizes.
pub fn class_distributions(
    title: &str,
    names: &[String],
    columns: &[Vec<f64>],
    y: &[usize],
    class_labels: &[String; 2],
) -> Svg {
    const BINS: usize = 24;
    const LIM: f64 = 3.0;
    let (pw, ph, cols) = (290.0, 120.0, 3);
    let (cell_w, cell_h) = (pw + 40.0, ph + 78.0);
    let rows = names.len().div_ceil(cols).max(1);
    let top = 76.0;
    let mut s = Svg::new(cols as f64 * cell_w + 40.0, top + rows as f64 * cell_h + 10.0, title);
    heading(&mut s, title);
    let styles = [Stroke::new(BLUE, 1.8), Stroke::new(VERMILLION, 1.8).dashed("5 3")];
    let fills = [BLUE, VERMILLION];
    for (k, label) in class_labels.iter().enumerate() {
        let lx = 14.0 + k as f64 * 300.0;
        s.polygon(&[(lx, 40.0), (lx + 22.0, 40.0), (lx + 22.0, 50.0), (lx, 50.0)], fills[k], 0.2);
        s.line(lx, 40.0, lx + 22.0, 40.0, styles[k]);
        let n = y.iter().filter(|&&c| c == k).count();
        s.text(lx + 28.0, 50.0, &format!("{label} (n = {n})"), Text::new(12.0));
    }
    s.text(
        14.0,
        68.0,
        "x: standardised value (z = (value - mean) / sd over all rows; |z| > 3 in the end bins); \
         y: density",
        Text::new(11.0).fill(GREY),
    );
    let w = 2.0 * LIM / BINS as f64;
    for (k, (name, col)) in names.iter().zip(columns).enumerate() {
        let (cx, cy) = (40.0 + (k % cols) as f64 * cell_w, top + (k / cols) as f64 * cell_h);
        let (mean, sd) = stats::mean_sd(col);
        let sd = if sd > 0.0 { sd } else { 1.0 };
        let z: Vec<f64> = col.iter().map(|v| (v - mean) / sd).collect();
        let mut dens = [Vec::new(), Vec::new()];
        let mut means = [0.0; 2];
        for c in 0..2 {
            let zc: Vec<f64> = z.iter().zip(y).filter(|(_, l)| **l == c).map(|(v, _)| *v).collect();
            let n = zc.len().max(1) as f64;
            means[c] = zc.iter().sum::<f64>() / n;
            dens[c] = stats::histogram(&zc, -LIM, LIM, BINS)
                .iter()
                .map(|&h| h as f64 / (n * w))
                .collect();
        }
        let top_d = dens.iter().flatten().copied().fold(0.0, f64::max);
        let (_, ymax) = svg::nice_range(0.0, top_d.max(0.1), 4);
        let f = Frame::new(cx, cy + 22.0, pw, ph, (-LIM, LIM), (0.0, ymax));
        let title_size = if text_width(name, 12.0) > pw + 30.0 { 10.5 } else { 12.0 };
        s.text(cx - 30.0, cy + 12.0, name, Text::new(title_size).bold());
        s.rect(f.left, f.top, f.width, f.height, "none", Some(Stroke::new(LIGHT, 1.0)));
        for c in 0..2 {
            let mut step = vec![f.px(-LIM, 0.0)];
            for (b, &v) in dens[c].iter().enumerate() {
                let x0 = -LIM + b as f64 * w;
                step.push(f.px(x0, v));
                step.push(f.px(x0 + w, v));
            }
            step.push(f.px(LIM, 0.0));
            s.polygon(&step, fills[c], 0.18);
            s.polyline(&step, styles[c]);
            let mx = f.x.px(means[c].clamp(-LIM, LIM));
            s.line(mx, f.bottom(), mx, f.bottom() + 6.0, Stroke::new(fills[c], 2.5));
        }
        for v in [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0] {
            let x = f.x.px(v);
            s.line(x, f.bottom(), x, f.bottom() + 3.0, Stroke::new(GREY, 1.0));
            s.text(x, f.bottom() + 16.0, &fixed(v, 0), Text::new(11.0).middle());
        }
        s.text(f.left - 4.0, f.top + 9.0, &fixed(ymax, 1), Text::new(10.0).end().fill(GREY));
        s.text(f.left - 4.0, f.bottom(), "0", Text::new(10.0).end().fill(GREY));
        s.text(
            f.left,
            f.bottom() + 32.0,
            &format!("class means: {} and {}", fixed(means[0], 2), fixed(means[1], 2)),
            Text::new(11.0).fill(GREY),
        );
    }
    s
}

/// One ROC curve to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct RocCurve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub auc: f64,
}

/// ROC curves of the folds (thin) and of all out-of-fold predictions pooled (thick), with the
/// chance diagonal. More than ten folds share one legend entry.
pub fn roc_curves(title: &str, folds: &[RocCurve], pooled: &RocCurve) -> Svg {
    let (left, top, side) = (80.0, 50.0, 400.0);
    let mut s = Svg::new(left + side + 300.0, top + side + 60.0, title);
    heading(&mut s, title);
    let f = Frame::new(left, top, side, side, (0.0, 1.0), (0.0, 1.0));
    f.axes(&mut s, "false positive rate (1 - specificity)", "true positive rate (sensitivity)");
    s.line(f.left, f.bottom(), f.right(), f.top, Stroke::new(GREY, 1.0).dashed("4 4"));
    let palette = [svg::SKY, svg::GREEN, svg::ORANGE, svg::PURPLE, "#999999"];
    let many = folds.len() > 10;
    let lx = f.right() + 24.0;
    let mut ly = top + 10.0;
    for (k, c) in folds.iter().enumerate() {
        let colour = if many { "#AAAAAA" } else { palette[k % palette.len()] };
        let pts: Vec<(f64, f64)> = c.points.iter().map(|&(a, b)| f.px(a, b)).collect();
        s.polyline(&pts, Stroke::new(colour, 1.3));
        if !many {
            s.line(lx, ly - 4.0, lx + 22.0, ly - 4.0, Stroke::new(colour, 1.3));
            s.text(
                lx + 28.0,
                ly,
                &format!("{}: AUC {}", c.label, fixed(c.auc, 3)),
                Text::new(12.0),
            );
            ly += 20.0;
        }
    }
    if many {
        s.line(lx, ly - 4.0, lx + 22.0, ly - 4.0, Stroke::new("#AAAAAA", 1.3));
        s.text(lx + 28.0, ly, &format!("each of {} folds", folds.len()), Text::new(12.0));
        ly += 20.0;
    }
    let pts: Vec<(f64, f64)> = pooled.points.iter().map(|&(a, b)| f.px(a, b)).collect();
    s.polyline(&pts, Stroke::new(INK, 2.6));
    s.line(lx, ly - 4.0, lx + 22.0, ly - 4.0, Stroke::new(INK, 2.6));
    s.text(
        lx + 28.0,
        ly,
        &format!("{}: AUC {}", pooled.label, fixed(pooled.auc, 3)),
        Text::new(12.0).bold(),
    );
    ly += 20.0;
    s.line(lx, ly - 4.0, lx + 22.0, ly - 4.0, Stroke::new(GREY, 1.0).dashed("4 4"));
    s.text(lx + 28.0, ly, "chance (AUC 0.5)", Text::new(12.0));
    s
}

/// The 2 x 2 confusion matrix `[[tn, fp], [fn, tp]]` (rows = true class): counts, the share of
/// each true class, and cells shaded by that share.
pub fn confusion_matrix(title: &str, cm: [[usize; 2]; 2], class_labels: &[String; 2]) -> Svg {
    let label_w = class_labels.iter().map(|l| text_width(l, 12.0)).fold(60.0, f64::max) + 60.0;
    let (cell, top) = (130.0, 96.0);
    let left = label_w;
    let mut s = Svg::new(left + 2.0 * cell + 40.0, top + 2.0 * cell + 30.0, title);
    heading(&mut s, title);
    s.text(left + cell, top - 40.0, "predicted class", Text::new(13.0).middle().bold());
    s.text(20.0, top + cell, "true class", Text::new(13.0).middle().bold().rotate(-90.0));
    for (k, l) in class_labels.iter().enumerate() {
        s.text(left + (k as f64 + 0.5) * cell, top - 12.0, l, Text::new(12.0).middle());
        s.text(left - 10.0, top + (k as f64 + 0.5) * cell + 4.0, l, Text::new(12.0).end());
    }
    for (t, counts) in cm.iter().enumerate() {
        let row = (counts[0] + counts[1]).max(1) as f64;
        for (p, &n) in counts.iter().enumerate() {
            let share = n as f64 / row;
            // White to Okabe-Ito blue by the share of the true class.
            let mix = |e: f64| (255.0 + (e - 255.0) * share * 0.85).round() as u8;
            let fill = format!("#{:02X}{:02X}{:02X}", mix(0.0), mix(114.0), mix(178.0));
            let (x, y) = (left + p as f64 * cell, top + t as f64 * cell);
            s.rect(x, y, cell, cell, &fill, Some(Stroke::new("#FFFFFF", 2.0)));
            let ink = if share > 0.55 { "#FFFFFF" } else { INK };
            s.text(
                x + cell / 2.0,
                y + cell / 2.0,
                &n.to_string(),
                Text::new(22.0).middle().bold().fill(ink),
            );
            s.text(
                x + cell / 2.0,
                y + cell / 2.0 + 22.0,
                &format!("{}% of the row", fixed(100.0 * share, 1)),
                Text::new(11.0).middle().fill(ink),
            );
        }
    }
    s
}

/// How often each feature was kept over `subsets` (e.g. one per outer fold), as bars on [0, 1]:
/// the features kept at least once, most often first (ties by name order in `names`).
pub fn selection_frequency(title: &str, names: &[String], subsets: &[Vec<usize>]) -> Svg {
    let freq = crate::stability::frequencies(subsets, names.len());
    let mut order: Vec<usize> = (0..names.len()).filter(|&j| freq[j] > 0.0).collect();
    order.sort_by(|&a, &b| freq[b].total_cmp(&freq[a]).then(a.cmp(&b)));
    let bars: Vec<Bar> = order
        .iter()
        .map(|&j| Bar { label: names[j].clone(), value: freq[j], whisker: None })
        .collect();
    let x_label = format!("fraction of the {} selections that kept the feature", subsets.len());
    bar_chart(title, &bars, &x_label, Some((0.0, 1.0)), 2)
}
