//! The gradlab page: a thin Yew view over `gradlab-core`.
//!
//! Layout: [`app`] is the shell (navigation between the labs, the compute backend);
//! [`runtime`] loads the assets and picks the backend; [`labs`] holds one module per lab;
//! [`components`] holds small reusable views; [`browser`] wraps the few browser calls.

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod labs;
#[cfg(target_arch = "wasm32")]
mod runtime;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("gradlab-web is the page: build it for the browser with `trunk build` (see README)");
}
