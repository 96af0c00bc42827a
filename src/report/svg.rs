//! A minimal SVG writer and the axis arithmetic the figures share.
//!
//! Every number is written with a fixed number of decimals ([`num`]), every attribute in a fixed
//! order, and text is XML-escaped, so the same figure data gives the same bytes. Styling is by
//! presentation attributes on each element rather than CSS, so a figure looks the same inlined in
//! the HTML page and opened on its own.

use std::fmt::Write as _;

/// The font stack of every label: fonts found on most systems, then the generic family.
pub const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
pub const BLUE: &str = "#0072B2";
pub const VERMILLION: &str = "#D55E00";
pub const GREEN: &str = "#009E73";
pub const ORANGE: &str = "#E69F00";
pub const SKY: &str = "#56B4E9";
pub const PURPLE: &str = "#CC79A7";
pub const GREY: &str = "#666666";
pub const LIGHT: &str = "#DDDDDD";
pub const INK: &str = "#222222";

/// `x` with two decimals; `-0.00` is written `0.00` so that the sign of a rounded zero cannot
/// differ between runs. Non-finite values become 0 (a figure never carries NaN coordinates).
pub fn num(x: f64) -> String {
    fixed(x, 2)
}

/// `x` with `decimals` decimals, as [`num`].
pub fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return format!("{:.*}", decimals, 0.0);
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// `s` with the five XML special characters escaped, for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a text label is placed and drawn.
#[derive(Clone, Copy, Debug)]
pub struct Text<'a> {
    /// Font size in px.
    pub size: f64,
    /// `start`, `middle` or `end`.
    pub anchor: &'a str,
    pub bold: bool,
    /// Rotation in degrees about the anchor point (e.g. -90 for a vertical axis title).
    pub rotate: f64,
    pub fill: &'a str,
}

impl Text<'static> {
    /// A label of `size` px, anchored at its start, in ink colour.
    pub fn new(size: f64) -> Text<'static> {
        Text { size, anchor: "start", bold: false, rotate: 0.0, fill: INK }
    }
}

impl<'a> Text<'a> {
    pub fn anchor(self, anchor: &'a str) -> Text<'a> {
        Text { anchor, ..self }
    }
    pub fn middle(self) -> Text<'a> {
        self.anchor("middle")
    }
    pub fn end(self) -> Text<'a> {
        self.anchor("end")
    }
    pub fn bold(self) -> Text<'a> {
        Text { bold: true, ..self }
    }
    pub fn rotate(self, degrees: f64) -> Text<'a> {
        Text { rotate: degrees, ..self }
    }
    pub fn fill(self, fill: &'a str) -> Text<'a> {
        Text { fill, ..self }
    }
}

/// A stroke: colour, width in px and an optional dash pattern.
#[derive(Clone, Copy, Debug)]
pub struct Stroke<'a> {
    pub colour: &'a str,
    pub width: f64,
    pub dash: Option<&'a str>,
}

impl<'a> Stroke<'a> {
    pub fn new(colour: &'a str, width: f64) -> Stroke<'a> {
        Stroke { colour, width, dash: None }
    }
    pub fn dashed(self, dash: &'a str) -> Stroke<'a> {
        Stroke { dash: Some(dash), ..self }
    }
    fn attrs(&self) -> String {
        let mut s = format!(" stroke=\"{}\" stroke-width=\"{}\"", self.colour, num(self.width));
        if let Some(d) = self.dash {
            let _ = write!(s, " stroke-dasharray=\"{d}\"");
        }
        s
    }
}

/// An SVG document being written: a width and height in px and the elements so far.
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    title: String,
    body: String,
}

impl Svg {
    /// An empty figure of `width` x `height` px whose `<title>` is `title`.
    pub fn new(width: f64, height: f64, title: &str) -> Svg {
        Svg { width, height, title: title.to_string(), body: String::new() }
    }

    pub fn width(&self) -> f64 {
        self.width
    }

    pub fn height(&self) -> f64 {
        self.height
    }

    /// A rectangle; `stroke` outlines it.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<Stroke>) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{}/>",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            stroke.map(|s| s.attrs()).unwrap_or_default()
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Stroke) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            stroke.attrs()
        );
    }

    /// An open polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke) {
        if points.is_empty() {
            return;
        }
        let _ = writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\"{} stroke-linejoin=\"round\"/>",
            point_list(points),
            stroke.attrs()
        );
    }

    /// A filled polygon with `opacity` in [0, 1].
    pub fn polygon(&mut self, points: &[(f64, f64)], fill: &str, opacity: f64) {
        if points.is_empty() {
            return;
        }
        let _ = writeln!(
            self.body,
            "<polygon points=\"{}\" fill=\"{fill}\" fill-opacity=\"{}\" stroke=\"none\"/>",
            point_list(points),
            num(opacity)
        );
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\"/>",
            num(cx),
            num(cy),
            num(r)
        );
    }

    /// A text label; `content` is escaped.
    pub fn text(&mut self, x: f64, y: f64, content: &str, t: Text) {
        let mut attrs = format!(
            "x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"",
            num(x),
            num(y),
            num(t.size),
            t.anchor,
            t.fill
        );
        if t.bold {
            attrs.push_str(" font-weight=\"bold\"");
        }
        if t.rotate != 0.0 {
            let _ = write!(attrs, " transform=\"rotate({} {} {})\"", num(t.rotate), num(x), num(y));
        }
        let _ = writeln!(self.body, "<text {attrs}>{}</text>", escape(content));
    }

    /// The document as a standalone `.svg` file: XML declaration and namespace included.
    pub fn standalone(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            self.element(Some("http://www.w3.org/2000/svg"))
        )
    }

    /// The document as an `<svg>` element for inlining in HTML, which needs no namespace (and
    /// so the page holds no URL at all).
    pub fn inline(&self) -> String {
        self.element(None)
    }

    fn element(&self, xmlns: Option<&str>) -> String {
        let ns = xmlns.map(|n| format!(" xmlns=\"{n}\"")).unwrap_or_default();
        format!(
            "<svg{ns} width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             font-family=\"{FONT}\" role=\"img\">\n<title>{}</title>\n\
             <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\"/>\n{}</svg>\n",
            escape(&self.title),
            self.body,
            w = num(self.width),
            h = num(self.height),
        )
    }
}

fn point_list(points: &[(f64, f64)]) -> String {
    let mut s = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{},{}", num(*x), num(*y));
    }
    s
}

/// A linear map from data values in [lo, hi] to pixels in [from, to] (`to < from` for a y axis,
/// whose pixels grow downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub from: f64,
    pub to: f64,
}

impl Scale {
    /// The scale of [lo, hi] onto [from, to]; an empty range is widened by 1 each way so that
    /// nothing divides by zero.
    pub fn new(lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        Scale { lo, hi, from, to }
    }

    /// The pixel of value `v`.
    pub fn px(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }
}

/// Round tick positions covering [lo, hi]: multiples of a step 1, 2 or 5 times a power of ten,
/// chosen so that there are at most `max` ticks, and the number of decimals their labels need.
pub fn ticks(lo: f64, hi: f64, max: usize) -> (Vec<f64>, usize) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || max < 2 {
        return (vec![lo], 0);
    }
    let raw = (hi - lo) / (max - 1) as f64;
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    (ticks, decimals)
}

/// [lo, hi] widened outwards to the nearest ticks of [`ticks`], for axes that start and end on a
/// labelled value.
pub fn nice_range(lo: f64, hi: f64, max: usize) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi <= lo {
        return (lo - 1.0, lo + 1.0);
    }
    let (t, _) = ticks(lo, hi, max);
    if t.len() < 2 {
        return (lo, hi);
    }
    let step = t[1] - t[0];
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

/// A rectangular plotting area with an x and a y scale, and the axis drawing around it.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub x: Scale,
    pub y: Scale,
}

impl Frame {
    /// A frame at (`left`, `top`) of `width` x `height` px showing x in [x0, x1], y in [y0, y1].
    pub fn new(
        left: f64,
        top: f64,
        width: f64,
        height: f64,
        xr: (f64, f64),
        yr: (f64, f64),
    ) -> Frame {
        Frame {
            left,
            top,
            width,
            height,
            x: Scale::new(xr.0, xr.1, left, left + width),
            y: Scale::new(yr.0, yr.1, top + height, top),
        }
    }

    pub fn px(&self, x: f64, y: f64) -> (f64, f64) {
        (self.x.px(x), self.y.px(y))
    }

    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }

    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// Light grid lines at the ticks, the frame, tick labels and the two axis titles.
    pub fn axes(&self, svg: &mut Svg, x_title: &str, y_title: &str) {
        let (xt, xd) = ticks(self.x.lo, self.x.hi, 7);
        let (yt, yd) = ticks(self.y.lo, self.y.hi, 6);
        let grid = Stroke::new("#EEEEEE", 1.0);
        for &v in &xt {
            let px = self.x.px(v);
            svg.line(px, self.top, px, self.bottom(), grid);
        }
        for &v in &yt {
            let py = self.y.py(v);
            svg.line(self.left, py, self.right(), py, grid);
        }
        svg.rect(
            self.left,
            self.top,
            self.width,
            self.height,
            "none",
            Some(Stroke::new(GREY, 1.0)),
        );
        let label = Text::new(12.0);
        for &v in &xt {
            let px = self.x.px(v);
            svg.line(px, self.bottom(), px, self.bottom() + 5.0, Stroke::new(GREY, 1.0));
            svg.text(px, self.bottom() + 18.0, &fixed(v, xd), label.middle());
        }
        for &v in &yt {
            let py = self.y.py(v);
            svg.line(self.left - 5.0, py, self.left, py, Stroke::new(GREY, 1.0));
            svg.text(self.left - 8.0, py + 4.0, &fixed(v, yd), label.end());
        }
        let title = Text::new(13.0);
        svg.text(self.left + self.width / 2.0, self.bottom() + 38.0, x_title, title.middle());
        svg.text(
            self.left - 50.0,
            self.top + self.height / 2.0,
            y_title,
            title.middle().rotate(-90.0),
        );
    }
}

impl Scale {
    /// [`Scale::px`] under the name a y axis reads best with.
    pub fn py(&self, v: f64) -> f64 {
        self.px(v)
    }
}

/// A colour for `r` in [-1, 1] on a diverging scale: blue (-1) through white (0) to red (+1),
/// interpolated in sRGB. NaN maps to mid grey.
pub fn diverging(r: f64) -> String {
    if !r.is_finite() {
        return "#BBBBBB".to_string();
    }
    let r = r.clamp(-1.0, 1.0);
    // Endpoints: #2166AC (blue) and #B2182B (red), ColorBrewer RdBu's darkest pair.
    let (end, t) = if r < 0.0 { ((0x21, 0x66, 0xAC), -r) } else { ((0xB2, 0x18, 0x2B), r) };
    let mix = |e: u8| -> u8 { (255.0 + (e as f64 - 255.0) * t).round() as u8 };
    format!("#{:02X}{:02X}{:02X}", mix(end.0), mix(end.1), mix(end.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_fixed_and_never_negative_zero() {
        assert_eq!(num(1.0), "1.00");
        assert_eq!(num(-0.001), "0.00");
        assert_eq!(num(-0.005001), "-0.01");
        assert_eq!(num(f64::NAN), "0.00");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(-0.04, 1), "0.0");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        let (t, d) = ticks(0.0, 1.0, 6);
        assert_eq!(t, vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(d, 1);
        let (t, d) = ticks(15.0, 106.0, 7);
        assert_eq!(t, vec![20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(d, 0);
        assert_eq!(nice_range(0.13, 0.68, 6), (0.0, 0.8));
    }

    #[test]
    fn diverging_scale_ends_and_middle() {
        assert_eq!(diverging(0.0), "#FFFFFF");
        assert_eq!(diverging(-1.0), "#2166AC");
        assert_eq!(diverging(1.0), "#B2182B");
        assert_eq!(diverging(2.0), "#B2182B");
        assert_eq!(diverging(f64::NAN), "#BBBBBB");
    }

    #[test]
    fn text_is_escaped() {
        let mut s = Svg::new(10.0, 10.0, "a<b");
        s.text(1.0, 2.0, "x & \"y\"", Text::new(12.0));
        let out = s.inline();
        assert!(out.contains("<title>a&lt;b</title>"));
        assert!(out.contains(">x &amp; &quot;y&quot;</text>"));
        assert!(!out.contains("xmlns"));
        assert!(s.standalone().contains("xmlns=\"http://www.w3.org/2000/svg\""));
    }
}
