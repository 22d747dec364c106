//! The page shell: the three labs at their own addresses and the compute backend.

use std::rc::Rc;

use yew::prelude::*;

use crate::browser::{location_hash, on_hash_change};
use crate::labs::{attack::AttackLab, fit::FitLab, forecast::ForecastLab};
use crate::runtime::{Backend, ModelChoice, RuntimeHandle, load_assets, start};

/// The labs, each at `#/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Fit,
    Attack,
    Forecast,
}

impl Route {
    const ALL: [Route; 3] = [Route::Fit, Route::Attack, Route::Forecast];

    fn from_hash(hash: &str) -> Route {
        match hash.trim_start_matches('/') {
            "fit" => Route::Fit,
            "forecast" => Route::Forecast,
            _ => Route::Attack,
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Route::Fit => "#/fit",
            Route::Attack => "#/attack",
            Route::Forecast => "#/forecast",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Route::Fit => "Fit",
            Route::Attack => "Attack",
            Route::Forecast => "Forecast",
        }
    }
}

/// Loading state of the shared runtime.
#[derive(Clone, PartialEq)]
enum Startup {
    Loading(String),
    Ready(RuntimeHandle),
    Failed(String),
}

#[function_component(App)]
pub fn app() -> Html {
    let route = use_state(|| Route::from_hash(&location_hash()));
    let startup = use_state(|| Startup::Loading("loading the model and the test images…".into()));
    let switching = use_state(|| false);

    // Effects
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            on_hash_change(move || route.set(Route::from_hash(&location_hash())));
        });
    }
    {
        let startup = startup.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match load_assets().await {
                    Ok((weights, test)) => {
                        startup.set(Startup::Loading("choosing the compute backend…".into()));
                        let builtin =
                            ModelChoice { name: "built-in".into(), weights: Rc::new(weights) };
                        let runtime =
                            start(builtin.clone(), builtin, Rc::new(test), Backend::WebGpu).await;
                        startup.set(Startup::Ready(RuntimeHandle(Rc::new(runtime))));
                    }
                    Err(message) => startup.set(Startup::Failed(message)),
                }
            });
        });
    }

    // Callbacks
    let restart = {
        let startup = startup.clone();
        let switching = switching.clone();
        move |choice: Option<ModelChoice>, prefer: Option<Backend>| {
            let Startup::Ready(current) = &*startup else { return };
            let choice = choice.unwrap_or_else(|| current.choice.clone());
            let prefer = prefer.unwrap_or(current.backend);
            let (builtin, test) = (current.builtin.clone(), current.test.clone());
            let (startup, switching) = (startup.clone(), switching.clone());
            switching.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let runtime = start(choice, builtin, test, prefer).await;
                startup.set(Startup::Ready(RuntimeHandle(Rc::new(runtime))));
                switching.set(false);
            });
        }
    };
    let on_backend = {
        let restart = restart.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            let prefer = if select.value() == "webgpu" { Backend::WebGpu } else { Backend::Cpu };
            restart(None, Some(prefer));
        })
    };
    let on_model = Callback::from(move |choice: ModelChoice| restart(Some(choice), None));

    // View
    let nav = Route::ALL.iter().map(|&r| {
        let current = (r == *route).then_some("page");
        html! { <a href={r.hash()} aria-current={current}>{ r.title() }</a> }
    });
    let backend = match &*startup {
        Startup::Ready(runtime) => html! {
            <div class="backend">
                <label for="backend-select">{ "Compute backend" }</label>
                <select id="backend-select" onchange={on_backend} disabled={*switching}>
                    <option value="webgpu" selected={runtime.backend == Backend::WebGpu}>
                        { "WebGPU" }
                    </option>
                    <option value="cpu" selected={runtime.backend == Backend::Cpu}>
                        { "CPU" }
                    </option>
                </select>
                <span id="backend-status" role="status">
                    { format!("running on {} ({})", runtime.backend.label(), runtime.reason) }
                </span>
            </div>
        },
        _ => html! {},
    };
    let body = match (&*startup, *route) {
        (Startup::Loading(what), _) => html! { <p role="status">{ what.clone() }</p> },
        (Startup::Failed(message), _) => html! {
            <p class="message error" role="alert">
                { format!("The page could not start: {message}") }
            </p>
        },
        (Startup::Ready(runtime), Route::Attack) => {
            html! { <AttackLab runtime={runtime.clone()} on_model={on_model} /> }
        }
        (Startup::Ready(_), Route::Fit) => html! { <FitLab /> },
        (Startup::Ready(_), Route::Forecast) => html! { <ForecastLab /> },
    };

    html! {
        <>
            <header class="top">
                <h1>{ "gradlab" }</h1>
                <nav class="labs" aria-label="Labs">{ for nav }</nav>
                { backend }
            </header>
            <main>{ body }</main>
        </>
    }
}
