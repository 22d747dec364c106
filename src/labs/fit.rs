//! The Fit lab: a one-hidden-layer MLP on a noisy nonlinear function.
//!
//! This page is not built yet; it says so plainly rather than showing controls that do nothing.

use yew::prelude::*;

#[function_component(FitLab)]
pub fn fit_lab() -> Html {
    html! {
        <section class="panel">
            <h2>{ "Fit" }</h2>
            <p>
                { "Fit a noisy nonlinear function with a one-hidden-layer network, sweep the " }
                { "hidden size and fine-tune the best model with L2 or L1 regularisation." }
            </p>
            <p class="message" role="status">{ "This lab is not available yet." }</p>
        </section>
    }
}
