//! The few browser calls the page needs: fetching assets and yielding to the event loop.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn window() -> web_sys::Window {
    web_sys::window().expect("the page runs in a browser window")
}

/// Fetches `url` (relative to the page) and returns its bytes.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = JsFuture::from(window().fetch_with_str(url))
        .await
        .map_err(|e| format!("cannot fetch {url}: {}", describe(&e)))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    let buffer = response.array_buffer().map_err(|e| describe(&e))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| describe(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Lets the browser handle input and repaint before the next piece of long work.
pub async fn yield_now() {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds since the page started, for timing long work.
pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// True when the browser exposes WebGPU at all (`navigator.gpu`).
pub fn has_webgpu() -> bool {
    let navigator = window().navigator();
    js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu"))
        .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .unwrap_or(false)
}

/// The current location hash without `#`.
pub fn location_hash() -> String {
    window().location().hash().unwrap_or_default().trim_start_matches('#').to_string()
}

/// Calls `on_change` whenever the location hash changes, for the page's lifetime.
pub fn on_hash_change(on_change: impl Fn() + 'static) {
    let closure = wasm_bindgen::closure::Closure::<dyn Fn()>::new(on_change);
    let _ =
        window().add_event_listener_with_callback("hashchange", closure.as_ref().unchecked_ref());
    closure.forget();
}

fn describe(value: &JsValue) -> String {
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
