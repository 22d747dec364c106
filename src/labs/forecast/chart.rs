//! Line charts for the Forecast lab, drawn with plotters on a canvas whose backing store is
//! sized in device pixels (CSS size × `devicePixelRatio`), so lines and text stay crisp on
//! high-DPI screens. The legend is HTML beside the canvas, readable by screen readers.

use std::rc::Rc;

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// One line of a chart: `(x, y)` points; a non-finite `y` breaks the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Shown in the legend.
    pub name: String,
    /// Red, green, blue.
    pub color: (u8, u8, u8),
    /// Stroke width in CSS pixels.
    pub width: u32,
    /// The points, in increasing `x`.
    pub points: Vec<(f64, f64)>,
}

#[derive(Properties, PartialEq)]
pub struct LineChartProps {
    /// Accessible name of the chart (it is an image to assistive technology).
    pub label: AttrValue,
    /// The lines, drawn in order.
    pub lines: Rc<Vec<Line>>,
    /// Title of the horizontal axis.
    pub x_label: AttrValue,
    /// Title of the vertical axis.
    pub y_label: AttrValue,
    /// Names for whole-number `x` values (time stamps); plain numbers when absent.
    #[prop_or_default]
    pub x_names: Option<Rc<Vec<String>>>,
    /// Plot `log10 y` and label the axis with `y` itself.
    #[prop_or_default]
    pub log_y: bool,
    /// The `x` where the test span begins: everything right of it is shaded.
    #[prop_or_default]
    pub split: Option<f64>,
    /// Height in CSS pixels.
    #[prop_or(260)]
    pub height: u32,
}

/// What a drawing depends on, for the effect that draws it.
#[derive(Clone, PartialEq)]
struct Drawing {
    lines: Rc<Vec<Line>>,
    x_label: AttrValue,
    y_label: AttrValue,
    x_names: Option<Rc<Vec<String>>>,
    log_y: bool,
    split: Option<f64>,
    height: u32,
}

#[function_component(LineChart)]
pub fn line_chart(props: &LineChartProps) -> Html {
    let canvas = use_node_ref();
    let drawing = Drawing {
        lines: props.lines.clone(),
        x_label: props.x_label.clone(),
        y_label: props.y_label.clone(),
        x_names: props.x_names.clone(),
        log_y: props.log_y,
        split: props.split,
        height: props.height,
    };
    {
        let canvas = canvas.clone();
        use_effect_with(drawing, move |drawing| {
            if let Some(element) = canvas.cast::<HtmlCanvasElement>()
                && let Err(message) = draw(&element, drawing)
            {
                web_sys::console::warn_1(&format!("chart not drawn: {message}").into());
            }
        });
    }

    let counts: Vec<String> = props
        .lines
        .iter()
        .map(|l| format!("{}:{}", l.name, l.points.iter().filter(|p| p.1.is_finite()).count()))
        .collect();
    let legend = props.lines.iter().map(|line| {
        let (r, g, b) = line.color;
        html! {
            <li>
                <span class="fc-swatch" style={format!("background: rgb({r}, {g}, {b})")} />
                { line.name.clone() }
            </li>
        }
    });
    html! {
        <figure class="fc-chart">
            <canvas ref={canvas} role="img" aria-label={props.label.clone()}
                data-points={counts.join(";")}
                style={format!("height: {}px", props.height)} />
            <ul class="fc-legend">{ for legend }</ul>
        </figure>
    }
}

/// A number with `digits` significant digits for axis labels; whole numbers print without a
/// decimal point.
fn short(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_string();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        return format!("{value:.1e}");
    }
    if magnitude >= 0 && (value - value.round()).abs() < 1e-9 {
        return format!("{value:.0}");
    }
    let decimals = (digits - 1 - magnitude).clamp(0, 5) as usize;
    format!("{value:.decimals$}")
}

/// The smallest and largest of `values`, widened a little so lines do not touch the frame.
fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return None;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1.0) };
    Some((lo - pad, hi + pad))
}

fn draw(canvas: &HtmlCanvasElement, d: &Drawing) -> Result<(), String> {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    let css_width = f64::from(canvas.client_width().max(240));
    canvas.set_width((css_width * ratio).round() as u32);
    canvas.set_height((f64::from(d.height) * ratio).round() as u32);
    let px = |css: f64| (css * ratio).round() as u32;

    let to_y = |y: f64| {
        if d.log_y { if y > 0.0 { y.log10() } else { f64::NAN } } else { y }
    };
    let points = || d.lines.iter().flat_map(|l| l.points.iter());
    let x_range = padded_range(points().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let (x0, x1) = match &d.x_names {
        // Whole-number x: no padding, so the axis starts at the first point.
        Some(_) => {
            let lo = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = points().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            if lo < hi { (lo, hi) } else { x_range }
        }
        None => x_range,
    };
    let (y0, y1) = padded_range(points().map(|p| to_y(p.1))).unwrap_or((0.0, 1.0));

    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;

    let font = ("sans-serif", 12.0 * ratio).into_font().color(&RGBColor(60, 60, 60));
    let mut chart = ChartBuilder::on(&root)
        .margin(px(10.0))
        .x_label_area_size(px(40.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;

    let x_format = |x: &f64| match &d.x_names {
        Some(names) => {
            let i = x.round();
            if i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        }
        None => short(*x, 3),
    };
    // On a log axis the ticks fall between round numbers: two significant digits suffice.
    let y_format = |y: &f64| if d.log_y { short(10f64.powf(*y), 2) } else { short(*y, 3) };
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238).stroke_width(px(1.0)))
        .bold_line_style(RGBColor(220, 220, 220).stroke_width(px(1.0)))
        .axis_style(RGBColor(150, 150, 150).stroke_width(px(1.0)))
        .label_style(font.clone())
        .axis_desc_style(font)
        .x_desc(d.x_label.as_str())
        .y_desc(d.y_label.as_str())
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .draw()
        .map_err(|e| e.to_string())?;

    if let Some(split) = d.split {
        let shade = RGBAColor(70, 90, 160, 0.08).filled();
        chart
            .draw_series(std::iter::once(Rectangle::new([(split, y0), (x1, y1)], shade)))
            .map_err(|e| e.to_string())?;
    }

    for line in d.lines.iter() {
        let (r, g, b) = line.color;
        let style = RGBColor(r, g, b).stroke_width(px(f64::from(line.width)));
        // Non-finite values (a forecast that overflowed) break the line into segments.
        for segment in line.points.split(|p| !to_y(p.1).is_finite()).filter(|s| !s.is_empty()) {
            let coords = segment.iter().map(|&(x, y)| (x, to_y(y)));
            chart.draw_series(LineSeries::new(coords, style)).map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}
