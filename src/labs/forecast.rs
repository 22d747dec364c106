//! The Forecast lab: an Elman recurrent network on a time series.
//!
//! This page is not built yet; it says so plainly rather than showing controls that do nothing.

use yew::prelude::*;

#[function_component(ForecastLab)]
pub fn forecast_lab() -> Html {
    html! {
        <section class="panel">
            <h2>{ "Forecast" }</h2>
            <p>
                { "Prepare a real or simulated series, train a recurrent network whose cell is " }
                { "h' = tanh(Wxh·x + Whh·h + b), and forecast the test span." }
            </p>
            <p class="message" role="status">{ "This lab is not available yet." }</p>
        </section>
    }
}
