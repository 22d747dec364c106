//! The gradlab page: a thin Yew view over `gradlab-core`.
//!
//! Layout: [`app`] is the shell (navigation between the labs, the compute backend);
//! [`runtime`] loads the assets and picks the backend; [`labs`] holds one module per lab;
//! [`components`] holds small reusable views; [`browser`] wraps the few browser calls.

mod app;
mod browser;
mod components;
mod labs;
mod runtime;

fn main() {
    console_error_panic_hook::set_once();
    yew::Renderer::<app::App>::new().render();
}
