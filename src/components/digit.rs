//! A 28x28 digit drawn pixel for pixel on a canvas and enlarged without blurring.

use wasm_bindgen::Clamped;
use yew::prelude::*;

use gradlab_core::data::mnist::{IMAGE_PIXELS, IMAGE_SIDE};

#[derive(Properties, PartialEq)]
pub struct DigitProps {
    /// 784 pixels, 0 = background, 255 = ink, row by row.
    pub pixels: Vec<u8>,
    /// Accessible description of the image.
    pub label: AttrValue,
}

/// Ink is drawn dark on white; CSS enlarges the 28x28 canvas with `image-rendering: pixelated`,
/// which stays sharp on high-DPI screens.
#[function_component(DigitImage)]
pub fn digit_image(props: &DigitProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.pixels.clone(), move |pixels| paint(&canvas, pixels));
    }
    let side = IMAGE_SIDE.to_string();
    html! {
        <canvas ref={canvas} width={side.clone()} height={side} role="img"
            aria-label={props.label.clone()} />
    }
}

fn paint(canvas: &NodeRef, pixels: &[u8]) {
    let Some(canvas) = canvas.cast::<web_sys::HtmlCanvasElement>() else { return };
    if pixels.len() != IMAGE_PIXELS {
        return;
    }
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let Ok(context) = wasm_bindgen::JsCast::dyn_into::<web_sys::CanvasRenderingContext2d>(context)
    else {
        return;
    };

    let mut rgba = Vec::with_capacity(IMAGE_PIXELS * 4);
    for &p in pixels {
        let shade = 255 - p;
        rgba.extend_from_slice(&[shade, shade, shade, 255]);
    }
    let side = IMAGE_SIDE as u32;
    if let Ok(image) =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side)
    {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}
