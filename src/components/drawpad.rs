//! A canvas to draw a digit on with a mouse, a finger or a pen, with undo and clear.
//!
//! Strokes are kept as lists of points in CSS pixels, so the canvas can be redrawn after an undo
//! and at any device-pixel ratio. The backing store is `side × devicePixelRatio` pixels, which
//! keeps strokes crisp on high-DPI screens. After each stroke the ink (the alpha channel, 0..1,
//! row-major) is handed to `on_ink` with its width and height.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};
use yew::prelude::*;

/// Side of the drawing area, in CSS pixels.
const SIDE: f64 = 280.0;
/// Brush width in CSS pixels: about the stroke width of an MNIST digit scaled to this canvas.
const BRUSH: f64 = 22.0;

/// Ink coverage of the canvas: `values.len() == width * height`, each in 0..1.
#[derive(Debug, Clone, PartialEq)]
pub struct Ink {
    pub values: Vec<f32>,
    pub width: usize,
    pub height: usize,
}

#[derive(Properties, PartialEq)]
pub struct DrawPadProps {
    /// Called after every stroke, undo and clear with the current ink (empty after a clear).
    pub on_ink: Callback<Ink>,
}

type Strokes = Rc<RefCell<Vec<Vec<(f64, f64)>>>>;

#[function_component(DrawPad)]
pub fn draw_pad(props: &DrawPadProps) -> Html {
    let canvas = use_node_ref();
    let strokes: Strokes = use_mut_ref(Vec::new);
    let drawing = use_mut_ref(|| false);

    // Effect: size the backing store once.
    {
        let canvas = canvas.clone();
        use_effect_with((), move |_| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
                canvas.set_width((SIDE * ratio).round() as u32);
                canvas.set_height((SIDE * ratio).round() as u32);
                repaint(&canvas, &[]);
            }
        });
    }

    // Callbacks
    let emit = {
        let (canvas, on_ink) = (canvas.clone(), props.on_ink.clone());
        move || {
            if let Some(ink) = canvas.cast::<HtmlCanvasElement>().and_then(|c| read_ink(&c)) {
                on_ink.emit(ink);
            }
        }
    };
    let on_down = {
        let (canvas, strokes, drawing) = (canvas.clone(), strokes.clone(), drawing.clone());
        Callback::from(move |event: PointerEvent| {
            event.prevent_default();
            let Some(element) = canvas.cast::<HtmlCanvasElement>() else { return };
            let _ = element.set_pointer_capture(event.pointer_id());
            *drawing.borrow_mut() = true;
            strokes.borrow_mut().push(vec![point(&element, &event)]);
            repaint(&element, &strokes.borrow());
        })
    };
    let on_move = {
        let (canvas, strokes, drawing) = (canvas.clone(), strokes.clone(), drawing.clone());
        Callback::from(move |event: PointerEvent| {
            if !*drawing.borrow() {
                return;
            }
            let Some(element) = canvas.cast::<HtmlCanvasElement>() else { return };
            if let Some(stroke) = strokes.borrow_mut().last_mut() {
                stroke.push(point(&element, &event));
            }
            repaint(&element, &strokes.borrow());
        })
    };
    let on_up = {
        let (drawing, emit) = (drawing.clone(), emit.clone());
        Callback::from(move |_: PointerEvent| {
            if std::mem::replace(&mut *drawing.borrow_mut(), false) {
                emit();
            }
        })
    };
    let on_undo = {
        let (canvas, strokes, emit) = (canvas.clone(), strokes.clone(), emit.clone());
        Callback::from(move |_: MouseEvent| {
            strokes.borrow_mut().pop();
            if let Some(element) = canvas.cast::<HtmlCanvasElement>() {
                repaint(&element, &strokes.borrow());
            }
            emit();
        })
    };
    let on_clear = {
        let (canvas, strokes) = (canvas.clone(), strokes.clone());
        Callback::from(move |_: MouseEvent| {
            strokes.borrow_mut().clear();
            if let Some(element) = canvas.cast::<HtmlCanvasElement>() {
                repaint(&element, &[]);
            }
            emit();
        })
    };

    html! {
        <div class="drawpad">
            <canvas ref={canvas} class="drawpad-canvas" role="img"
                aria-label="Drawing area: draw a digit with the mouse, a finger or a pen"
                onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up.clone()}
                onpointercancel={on_up} />
            <div class="controls">
                <button type="button" class="secondary" onclick={on_undo}>
                    { "Undo stroke" }
                </button>
                <button type="button" class="secondary" onclick={on_clear}>
                    { "Clear drawing" }
                </button>
            </div>
        </div>
    }
}

/// The pointer's position in CSS pixels of the drawing area.
fn point(canvas: &HtmlCanvasElement, event: &PointerEvent) -> (f64, f64) {
    let rect = canvas.get_bounding_client_rect();
    let scale = SIDE / rect.width().max(1.0);
    (
        (event.client_x() as f64 - rect.left()) * scale,
        (event.client_y() as f64 - rect.top()) * scale,
    )
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Clears the canvas and draws every stroke as a round-capped line.
fn repaint(canvas: &HtmlCanvasElement, strokes: &[Vec<(f64, f64)>]) {
    let Some(context) = context(canvas) else { return };
    let ratio = canvas.width() as f64 / SIDE;
    context.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0).ok();
    context.clear_rect(0.0, 0.0, SIDE, SIDE);
    context.set_line_width(BRUSH);
    context.set_line_cap("round");
    context.set_line_join("round");
    context.set_stroke_style_str("#111");
    context.set_fill_style_str("#111");
    for stroke in strokes {
        let Some(&(x0, y0)) = stroke.first() else { continue };
        context.begin_path();
        if stroke.len() == 1 {
            let _ = context.arc(x0, y0, BRUSH / 2.0, 0.0, std::f64::consts::TAU);
            context.fill();
            continue;
        }
        context.move_to(x0, y0);
        for &(x, y) in &stroke[1..] {
            context.line_to(x, y);
        }
        context.stroke();
    }
}

/// The alpha channel of the backing store as coverage 0..1.
fn read_ink(canvas: &HtmlCanvasElement) -> Option<Ink> {
    let context = context(canvas)?;
    let (width, height) = (canvas.width() as usize, canvas.height() as usize);
    let data = context.get_image_data(0.0, 0.0, width as f64, height as f64).ok()?.data();
    let values = data.0.chunks_exact(4).map(|px| px[3] as f32 / 255.0).collect();
    Some(Ink { values, width, height })
}
