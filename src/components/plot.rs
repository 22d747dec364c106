//! A line chart drawn with plotters on a canvas, crisp on high-DPI screens.
//!
//! The canvas's backing store is its CSS size times `devicePixelRatio`, and fonts, line widths
//! and markers are scaled by the same factor. Log axes are drawn by plotting `log10` of the
//! values and labelling the ticks with the values themselves.

use std::rc::Rc;

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// How a series is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A polyline through the points, in order (broken at non-finite values).
    Line(Vec<(f64, f64)>),
    /// A small disc per point.
    Points(Vec<(f64, f64)>),
    /// A large ring per point, to highlight it.
    Rings(Vec<(f64, f64)>),
    /// A vertical bar from `low` to `high` at each `x`: `(x, low, high)`.
    Ranges(Vec<(f64, f64, f64)>),
    /// A vertical line across the plot at this `x`.
    VLine(f64),
}

/// One series of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry; empty for none.
    pub label: String,
    /// Red, green, blue.
    pub color: (u8, u8, u8),
    /// What to draw.
    pub mark: Mark,
}

impl Series {
    /// A series with a legend entry.
    pub fn new(label: impl Into<String>, color: (u8, u8, u8), mark: Mark) -> Self {
        Self { label: label.into(), color, mark }
    }
}

/// Colours shared by the labs' charts.
pub mod colors {
    /// Training data and training loss.
    pub const TRAIN: (u8, u8, u8) = (47, 95, 208);
    /// Validation data and validation loss.
    pub const VALIDATION: (u8, u8, u8) = (230, 120, 20);
    /// The true function.
    pub const TRUTH: (u8, u8, u8) = (120, 128, 140);
    /// A fitted curve.
    pub const FIT: (u8, u8, u8) = (198, 40, 40);
    /// A penalty term.
    pub const PENALTY: (u8, u8, u8) = (46, 125, 50);
    /// A highlighted point or epoch.
    pub const MARK: (u8, u8, u8) = (110, 40, 170);
}

#[derive(Properties, Clone, PartialEq)]
pub struct LineChartProps {
    /// The series, drawn in order.
    pub series: Rc<Vec<Series>>,
    /// The accessible name of the chart (the canvas has role `img`).
    pub aria_label: AttrValue,
    /// A visible caption under the chart.
    #[prop_or_default]
    pub caption: Option<AttrValue>,
    /// Axis titles.
    #[prop_or_default]
    pub x_label: AttrValue,
    #[prop_or_default]
    pub y_label: AttrValue,
    /// Logarithmic axes (values ≤ 0 are left out).
    #[prop_or_default]
    pub log_x: bool,
    #[prop_or_default]
    pub log_y: bool,
    /// Size in CSS pixels.
    #[prop_or(520)]
    pub width: u32,
    #[prop_or(300)]
    pub height: u32,
    /// Optional element id of the canvas.
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// A chart of lines, points and ranges.
#[function_component(LineChart)]
pub fn line_chart(props: &LineChartProps) -> Html {
    let canvas = use_node_ref();
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    let (width, height) = (
        (f64::from(props.width) * dpr).round() as u32,
        (f64::from(props.height) * dpr).round() as u32,
    );
    {
        let canvas = canvas.clone();
        use_effect_with((props.clone(), width, height), move |(props, _, _)| {
            if let Some(element) = canvas.cast::<HtmlCanvasElement>() {
                // A failed drawing leaves the canvas blank; the caption still tells the story.
                if let Err(message) = draw(element, props, dpr) {
                    web_sys::console::warn_1(&format!("chart not drawn: {message}").into());
                }
            }
        });
    }
    let style =
        format!("max-width: {}px; aspect-ratio: {} / {};", props.width, props.width, props.height);
    html! {
        <figure class="chart">
            <canvas ref={canvas} id={props.id.clone()} role="img"
                aria-label={props.aria_label.clone()}
                width={width.to_string()} height={height.to_string()} {style} />
            if let Some(caption) = &props.caption {
                <figcaption>{ caption.clone() }</figcaption>
            }
        </figure>
    }
}

fn axis_value(v: f64, log: bool) -> Option<f64> {
    match (v.is_finite(), log) {
        (false, _) => None,
        (true, true) if v <= 0.0 => None,
        (true, true) => Some(v.log10()),
        (true, false) => Some(v),
    }
}

/// A tick label: plain numbers in a readable range, powers of ten otherwise.
pub fn format_tick(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else if magnitude >= 100.0 || (value.fract() == 0.0) {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The range covering `values`, padded by 5 %, never empty.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    if high - low < 1e-9 {
        let pad = (low.abs() * 0.1).max(0.5);
        return (low - pad, high + pad);
    }
    let pad = (high - low) * 0.05;
    (low - pad, high + pad)
}

fn draw(canvas: HtmlCanvasElement, props: &LineChartProps, dpr: f64) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2-D context")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;

    let (log_x, log_y) = (props.log_x, props.log_y);
    let tx = |x: f64| axis_value(x, log_x);
    let ty = |y: f64| axis_value(y, log_y);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for series in props.series.iter() {
        match &series.mark {
            Mark::Line(p) | Mark::Points(p) | Mark::Rings(p) => {
                for &(x, y) in p {
                    if let (Some(x), Some(y)) = (tx(x), ty(y)) {
                        xs.push(x);
                        ys.push(y);
                    }
                }
            }
            Mark::Ranges(r) => {
                for &(x, low, high) in r {
                    if let Some(x) = tx(x) {
                        xs.push(x);
                        ys.extend(ty(low));
                        ys.extend(ty(high));
                    }
                }
            }
            Mark::VLine(x) => xs.extend(tx(*x)),
        }
    }
    let (x0, x1) = span(xs.into_iter());
    let (y0, y1) = span(ys.into_iter());

    let px = |v: f64| (v * dpr).round() as i32;
    let font = |size: f64| ("sans-serif", size * dpr).into_font();
    let mut chart = ChartBuilder::on(&root)
        .margin(px(8.0))
        .x_label_area_size(px(34.0))
        .y_label_area_size(px(58.0))
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(&e))?;
    let label = |v: &f64, log: bool| format_tick(if log { 10f64.powf(*v) } else { *v });
    let x_fmt = |v: &f64| label(v, log_x);
    let y_fmt = |v: &f64| label(v, log_y);
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(props.x_label.as_str())
        .y_desc(props.y_label.as_str())
        .label_style(font(11.0))
        .axis_desc_style(font(12.0))
        .light_line_style(RGBColor(238, 241, 245))
        .bold_line_style(RGBColor(225, 229, 235))
        .draw()
        .map_err(|e| err(&e))?;

    let stroke = (1.6 * dpr).max(1.0) as u32;
    for series in props.series.iter() {
        let (r, g, b) = series.color;
        let color = RGBColor(r, g, b);
        let anno = match &series.mark {
            Mark::Line(points) => {
                // Split at gaps (non-finite values) so that one bad value does not hide the rest.
                let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                for &(x, y) in points {
                    match (tx(x), ty(y)) {
                        (Some(x), Some(y)) => {
                            segments.last_mut().expect("one segment").push((x, y))
                        }
                        _ => segments.push(Vec::new()),
                    }
                }
                let style = color.stroke_width(stroke);
                let mut anno = None;
                for segment in segments.into_iter().filter(|s| !s.is_empty()) {
                    anno = Some(
                        chart.draw_series(LineSeries::new(segment, style)).map_err(|e| err(&e))?,
                    );
                }
                anno
            }
            Mark::Points(points) => {
                let radius = (2.2 * dpr) as i32;
                let dots = points.iter().filter_map(|&(x, y)| {
                    Some(Circle::new((tx(x)?, ty(y)?), radius, color.filled()))
                });
                Some(chart.draw_series(dots).map_err(|e| err(&e))?)
            }
            Mark::Rings(points) => {
                let radius = (7.0 * dpr) as i32;
                let style = color.stroke_width(stroke + 1);
                let rings = points
                    .iter()
                    .filter_map(|&(x, y)| Some(Circle::new((tx(x)?, ty(y)?), radius, style)));
                Some(chart.draw_series(rings).map_err(|e| err(&e))?)
            }
            Mark::Ranges(ranges) => {
                let style = color.stroke_width(stroke);
                let bars = ranges.iter().filter_map(|&(x, low, high)| {
                    Some(PathElement::new(vec![(tx(x)?, ty(low)?), (tx(x)?, ty(high)?)], style))
                });
                Some(chart.draw_series(bars).map_err(|e| err(&e))?)
            }
            Mark::VLine(x) => match tx(*x) {
                Some(x) => {
                    let style = color.mix(0.7).stroke_width(stroke);
                    let line = PathElement::new(vec![(x, y0), (x, y1)], style);
                    Some(chart.draw_series(std::iter::once(line)).map_err(|e| err(&e))?)
                }
                None => None,
            },
        };
        if let Some(anno) = anno
            && !series.label.is_empty()
        {
            let legend = stroke;
            let size = px(14.0);
            anno.label(series.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + size, y)], color.stroke_width(legend + 1))
            });
        }
    }
    if props.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .label_font(font(11.0))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(217, 222, 229))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_well() {
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(16.0), "16");
        assert_eq!(format_tick(1e-5), "1e-5");
    }
}
