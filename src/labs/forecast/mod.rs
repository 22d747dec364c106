//! The Forecast lab: prepare a real, simulated or uploaded series, train a recurrent network on
//! windows of its past, and compare its forecasts of the test span with naive ones.
//!
//! All computation is in `gradlab_core::forecast`, on the CPU backend with autodiff; this file
//! holds the page state, the controls and the views.

mod chart;

use std::cell::Cell;
use std::rc::Rc;

use burn::prelude::*;
use gradlab_core::forecast::catalogue::{INDEX_FILE, IndexEntry, read_index};
use gradlab_core::forecast::metrics::format_value;
use gradlab_core::forecast::predict::{Evaluation, evaluate};
use gradlab_core::forecast::rnn::CellKind;
use gradlab_core::forecast::series::{Series, read_csv, read_csv_bytes};
use gradlab_core::forecast::simulate::{Process, Simulation};
use gradlab_core::forecast::train::{EpochLoss, Progress, Stop, TrainConfig, train};
use gradlab_core::forecast::transform::{Scaling, TransformConfig};
use gradlab_core::forecast::{PrepareConfig, Prepared};
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::browser::{fetch_bytes, now_ms, yield_now};
use chart::{Line, LineChart};

/// Folder of the shipped series, relative to the page.
const SERIES_DIR: &str = "series";
/// The series shown first.
const FIRST_SERIES: &str = "airpassengers.csv";
/// Largest upload read, in bytes.
const MAX_UPLOAD: f64 = 5.0e6;
/// Most epochs one run may ask for.
const MAX_EPOCHS: usize = 5000;
/// The page yields to the browser at least this often while training, in milliseconds.
const YIELD_EVERY_MS: f64 = 30.0;

const TRAIN_COLOR: (u8, u8, u8) = (40, 90, 170);
const TEST_COLOR: (u8, u8, u8) = (230, 120, 20);
const ONE_STEP_COLOR: (u8, u8, u8) = (20, 150, 70);
const RECURSIVE_COLOR: (u8, u8, u8) = (200, 40, 60);

/// The pre-processing and training settings, as typed.
#[derive(Debug, Clone, PartialEq)]
struct Form {
    log: bool,
    /// `none` or a lag.
    diff: String,
    /// `minmax`, `std` or `none`.
    scale: String,
    lookback: String,
    test: String,
    /// `elman`, `lstm` or `gru`.
    cell: String,
    hidden: String,
    epochs: String,
    lr: String,
    seed: String,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            log: true,
            diff: "12".into(),
            scale: "minmax".into(),
            lookback: "12".into(),
            test: "24".into(),
            cell: "elman".into(),
            hidden: "32".into(),
            epochs: "200".into(),
            lr: "0.01".into(),
            seed: "7".into(),
        }
    }
}

/// The simulation settings, as typed.
#[derive(Debug, Clone, PartialEq)]
struct SimForm {
    /// `sine`, `ar2` or `trend`.
    process: String,
    period: String,
    amplitude: String,
    phi1: String,
    phi2: String,
    level: String,
    slope: String,
    noise: String,
    length: String,
    seed: String,
}

impl Default for SimForm {
    fn default() -> Self {
        Self {
            process: "sine".into(),
            period: "20".into(),
            amplitude: "1".into(),
            phi1: "0.6".into(),
            phi2: "-0.3".into(),
            level: "10".into(),
            slope: "0.05".into(),
            noise: "0.1".into(),
            length: "200".into(),
            seed: "1".into(),
        }
    }
}

/// A finished run: what was trained on, how it went, and its forecasts.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    series: Rc<Series>,
    prepared: Prepared,
    history: Rc<Vec<EpochLoss>>,
    stop: Stop,
    epochs: usize,
    params: usize,
    cell: CellKind,
    evaluation: Evaluation,
}

/// State of the training run.
#[derive(Debug, Clone, PartialEq)]
enum Run {
    Idle,
    Training { epoch: usize, total: usize, history: Rc<Vec<EpochLoss>> },
    Done(Rc<Outcome>),
    Failed(String),
}

#[function_component(ForecastLab)]
pub fn forecast_lab() -> Html {
    let index = use_state(|| None::<Result<Vec<IndexEntry>, String>>);
    let series = use_state(|| None::<Rc<Series>>);
    let chosen = use_state(|| FIRST_SERIES.to_string());
    let load_error = use_state(|| None::<String>);
    let form = use_state(Form::default);
    let sim = use_state(SimForm::default);
    let run = use_state(|| Run::Idle);
    let cancel = use_memo((), |_| Cell::new(false));
    let training = matches!(*run, Run::Training { .. });

    // Effect: read the index of shipped series and load the first one.
    {
        let (index, series, form, run, load_error) =
            (index.clone(), series.clone(), form.clone(), run.clone(), load_error.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let entries = fetch_index().await;
                index.set(Some(entries.clone()));
                let first = entries.map(|e| e.into_iter().find(|e| e.file == FIRST_SERIES));
                match first {
                    Ok(Some(entry)) => match load_real(&entry).await {
                        Ok(loaded) => adopt(loaded, &series, &form, &run),
                        Err(message) => load_error.set(Some(message)),
                    },
                    Ok(None) => load_error.set(Some(format!("{FIRST_SERIES} is not listed"))),
                    Err(message) => load_error.set(Some(message)),
                }
            });
        });
    }

    // Callbacks: choosing a series
    let on_choose = {
        let (index, series, chosen, form, run, load_error) = (
            index.clone(),
            series.clone(),
            chosen.clone(),
            form.clone(),
            run.clone(),
            load_error.clone(),
        );
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            let file = select.value();
            let Some(Ok(entries)) = &*index else { return };
            let Some(entry) = entries.iter().find(|e| e.file == file).cloned() else {
                return;
            };
            chosen.set(file);
            let (series, form, run, load_error) =
                (series.clone(), form.clone(), run.clone(), load_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match load_real(&entry).await {
                    Ok(loaded) => {
                        load_error.set(None);
                        adopt(loaded, &series, &form, &run);
                    }
                    Err(message) => load_error.set(Some(message)),
                }
            });
        })
    };
    let on_upload = {
        let (series, chosen, form, run, load_error) =
            (series.clone(), chosen.clone(), form.clone(), run.clone(), load_error.clone());
        Callback::from(move |event: Event| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            let (series, chosen, form, run, load_error) =
                (series.clone(), chosen.clone(), form.clone(), run.clone(), load_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let picked = picked_file(&input).await;
                // Clearing the input lets the same file be picked again after a fix.
                input.set_value("");
                let current = (*series).as_ref().map(|s| s.name.clone());
                match picked {
                    Ok(None) => {}
                    Ok(Some((name, text))) => match read_csv(&name, &text) {
                        Ok(loaded) => {
                            load_error.set(None);
                            chosen.set(String::new());
                            adopt(loaded, &series, &form, &run);
                        }
                        Err(e) => load_error.set(Some(kept_message(&name, &e, current))),
                    },
                    Err(message) => {
                        load_error.set(Some(kept_message("the file", &message, current)))
                    }
                }
            });
        })
    };
    let on_simulate = {
        let (sim, series, chosen, form, run, load_error) = (
            sim.clone(),
            series.clone(),
            chosen.clone(),
            form.clone(),
            run.clone(),
            load_error.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let current = (*series).as_ref().map(|s| s.name.clone());
            match parse_simulation(&sim).and_then(|s| s.generate().map_err(|e| e.to_string())) {
                Ok(generated) => {
                    load_error.set(None);
                    chosen.set(String::new());
                    adopt(generated, &series, &form, &run);
                }
                Err(message) => {
                    load_error.set(Some(kept_message("the simulation", &message, current)))
                }
            }
        })
    };

    // Callbacks: settings and training
    let on_train = {
        let (series, form, run, cancel) =
            (series.clone(), form.clone(), run.clone(), cancel.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(series) = (*series).clone() else { return };
            match parse_prepare(&form).and_then(|p| {
                let prepared = Prepared::new(&series.values, &p).map_err(|e| e.to_string())?;
                Ok((prepared, parse_training(&form)?))
            }) {
                Ok((prepared, config)) => {
                    cancel.set(false);
                    let (run, cancel) = (run.clone(), cancel.clone());
                    wasm_bindgen_futures::spawn_local(run_training(
                        series, prepared, config, run, cancel,
                    ));
                }
                Err(message) => run.set(Run::Failed(message)),
            }
        })
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_: MouseEvent| cancel.set(true))
    };

    // Derived values
    let prepared = use_memo(((*series).clone(), (*form).clone()), |(series, form)| {
        let series = series.as_ref()?;
        Some(
            parse_prepare(form)
                .and_then(|p| Prepared::new(&series.values, &p).map_err(|e| e.to_string())),
        )
    });

    html! {
        <>
            <section class="panel" aria-labelledby="fc-series-title">
                <h2 id="fc-series-title">{ "Series" }</h2>
                <div class="fc-sources">
                    { real_picker(&index, &chosen, on_choose, training) }
                    { simulation_form(&sim, on_simulate, training) }
                    <fieldset class="fc-source">
                        <legend>{ "Your own CSV" }</legend>
                        <p class="muted">
                            { "A time column (YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY or 1, 2, 3, …) " }
                            { "and a value column, with a header line." }
                        </p>
                        <label>{ "Upload a CSV series" }
                            <input type="file" accept=".csv,text/csv,text/plain"
                                onchange={on_upload} disabled={training} />
                        </label>
                    </fieldset>
                </div>
                { alert(&load_error) }
                { series_view(&series, &prepared) }
            </section>
            <section class="panel" aria-labelledby="fc-prep-title">
                <h2 id="fc-prep-title">{ "Pre-processing and split" }</h2>
                { prep_controls(&form, (*series).as_deref(), training) }
                { transformed_view(&series, &prepared) }
            </section>
            <section class="panel" aria-labelledby="fc-train-title">
                <h2 id="fc-train-title">{ "Model and training" }</h2>
                { train_controls(&form, on_train, on_cancel, training, (*series).is_some()) }
                { run_view(&run) }
            </section>
        </>
    }
}

/// A new series replaces the current one: the old run is dropped, and settings the new series
/// cannot take (a log of non-positive values, a seasonal lag it does not have) are reset.
fn adopt(
    loaded: Series,
    series: &UseStateHandle<Option<Rc<Series>>>,
    form: &UseStateHandle<Form>,
    run: &UseStateHandle<Run>,
) {
    let mut next = (**form).clone();
    if next.log && !loaded.is_positive() {
        next.log = false;
    }
    let allowed: Vec<String> = diff_choices(&loaded).into_iter().map(|(v, _)| v).collect();
    if !allowed.contains(&next.diff) {
        next.diff = "none".into();
    }
    form.set(next);
    run.set(Run::Idle);
    series.set(Some(Rc::new(loaded)));
}

fn kept_message(what: &str, error: &dyn std::fmt::Display, current: Option<String>) -> String {
    match current {
        Some(name) => format!("{what}: {error}. The series {name} is still loaded."),
        None => format!("{what}: {error}."),
    }
}

async fn fetch_index() -> Result<Vec<IndexEntry>, String> {
    let bytes = fetch_bytes(&format!("{SERIES_DIR}/{INDEX_FILE}")).await?;
    let text = String::from_utf8(bytes).map_err(|_| "the series index is not text".to_string())?;
    read_index(&text).map_err(|e| e.to_string())
}

async fn load_real(entry: &IndexEntry) -> Result<Series, String> {
    let bytes = fetch_bytes(&format!("{SERIES_DIR}/{}", entry.file)).await?;
    let mut series =
        read_csv_bytes(&entry.name, &bytes).map_err(|e| format!("{}: {e}", entry.file))?;
    series.units = entry.units.clone();
    series.source = entry.source.clone();
    Ok(series)
}

/// The name and text of the file picked in a file input, if any.
async fn picked_file(
    input: &web_sys::HtmlInputElement,
) -> Result<Option<(String, String)>, String> {
    let get = |target: &JsValue, key: &str| {
        js_sys::Reflect::get(target, &JsValue::from_str(key))
            .map_err(|_| "the browser cannot read the file".to_string())
    };
    let files = get(input, "files")?;
    if files.is_null() || files.is_undefined() {
        return Ok(None);
    }
    let file = js_sys::Reflect::get(&files, &JsValue::from(0))
        .map_err(|_| "the browser cannot read the file".to_string())?;
    if file.is_undefined() || file.is_null() {
        return Ok(None);
    }
    let name = get(&file, "name")?.as_string().unwrap_or_else(|| "upload".into());
    if get(&file, "size")?.as_f64().unwrap_or(0.0) > MAX_UPLOAD {
        return Err(format!("{name} is larger than 5 MB"));
    }
    let text: js_sys::Function = get(&file, "text")?
        .dyn_into()
        .map_err(|_| "the browser cannot read files as text".to_string())?;
    let promise: js_sys::Promise = text
        .call0(&file)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or("the browser cannot read the file")?;
    let content = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    Ok(Some((name, content.as_string().unwrap_or_default())))
}

/// Differencing choices for a series: none, lag 1, and its seasonal lag if it has one.
fn diff_choices(series: &Series) -> Vec<(String, String)> {
    let mut choices =
        vec![("none".to_string(), "none".to_string()), ("1".to_string(), "lag 1".to_string())];
    if let Some(s) = series.season.filter(|&s| s > 1) {
        choices.push((s.to_string(), format!("seasonal lag {s}")));
    }
    choices
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| format!("{what} must be a number; '{}' is not", text.trim()))
}

fn parse_prepare(form: &Form) -> Result<PrepareConfig, String> {
    let diff = match form.diff.as_str() {
        "none" => None,
        lag => Some(number(lag, "The differencing lag")?),
    };
    Ok(PrepareConfig {
        transform: TransformConfig {
            log: form.log,
            diff,
            scaling: Scaling::from_name(&form.scale).unwrap_or(Scaling::MinMax),
        },
        lookback: number(&form.lookback, "The look-back")?,
        test_len: number(&form.test, "The test span")?,
    })
}

fn parse_training(form: &Form) -> Result<TrainConfig, String> {
    let epochs: usize = number(&form.epochs, "The number of epochs")?;
    if epochs > MAX_EPOCHS {
        return Err(format!("Train for at most {MAX_EPOCHS} epochs at a time."));
    }
    let config = TrainConfig {
        cell: CellKind::from_name(&form.cell).unwrap_or(CellKind::Elman),
        hidden: number(&form.hidden, "The hidden size")?,
        epochs,
        learning_rate: number(&form.lr, "The learning rate")?,
        seed: number(&form.seed, "The seed")?,
        ..TrainConfig::default()
    };
    config.check().map_err(|e| {
        let text = e.to_string();
        let mut chars = text.chars();
        chars.next().map_or(text.clone(), |c| c.to_uppercase().chain(chars).collect()) + "."
    })?;
    Ok(config)
}

fn parse_simulation(sim: &SimForm) -> Result<Simulation, String> {
    let f = |text: &str, what: &str| number::<f64>(text, what);
    let process = match sim.process.as_str() {
        "ar2" => Process::Ar2 { phi1: f(&sim.phi1, "phi1")?, phi2: f(&sim.phi2, "phi2")? },
        "trend" => Process::TrendSeasonal {
            level: f(&sim.level, "The level")?,
            slope: f(&sim.slope, "The slope")?,
            period: f(&sim.period, "The period")?,
            amplitude: f(&sim.amplitude, "The amplitude")?,
        },
        _ => Process::Sine {
            period: f(&sim.period, "The period")?,
            amplitude: f(&sim.amplitude, "The amplitude")?,
        },
    };
    Ok(Simulation {
        process,
        noise: f(&sim.noise, "The noise")?,
        length: number(&sim.length, "The length")?,
        seed: number(&sim.seed, "The seed")?,
    })
}

async fn run_training(
    series: Rc<Series>,
    prepared: Prepared,
    config: TrainConfig,
    run: UseStateHandle<Run>,
    cancel: Rc<Cell<bool>>,
) {
    let total = config.epochs;
    run.set(Run::Training { epoch: 0, total, history: Rc::default() });
    yield_now().await;

    let history = Rc::new(std::cell::RefCell::new(Vec::new()));
    let last_yield = Rc::new(Cell::new(now_ms()));
    let hook = |progress: Progress| {
        let (run, cancel, history, last_yield) =
            (run.clone(), cancel.clone(), history.clone(), last_yield.clone());
        async move {
            if let Progress::Epoch(loss) = progress {
                history.borrow_mut().push(loss);
                let snapshot = Rc::new(history.borrow().clone());
                run.set(Run::Training { epoch: loss.epoch, total, history: snapshot });
            }
            if now_ms() - last_yield.get() > YIELD_EVERY_MS {
                yield_now().await;
                last_yield.set(now_ms());
            }
            !cancel.get()
        }
    };
    let device = Device::flex().autodiff();
    let result = match train(&prepared, &config, &device, hook).await {
        Ok(trained) => {
            evaluate(&trained.model, &prepared, series.season).await.map(|evaluation| Outcome {
                params: trained.model.num_params(),
                cell: trained.model.kind(),
                series,
                prepared,
                history: Rc::new(trained.history),
                stop: trained.stop,
                epochs: total,
                evaluation,
            })
        }
        Err(e) => Err(e),
    };
    run.set(match result {
        Ok(outcome) => Run::Done(Rc::new(outcome)),
        Err(e) => Run::Failed(format!("Training failed: {e}")),
    });
}

/// The vertical axis title: the units when they fit, else `value` (the units are printed
/// beside the chart).
fn axis_units(series: &Series) -> String {
    if series.units.is_empty() || series.units.chars().count() > 40 {
        "value".to_string()
    } else {
        series.units.clone()
    }
}

/// Display name of a cell.
fn cell_title(cell: CellKind) -> &'static str {
    match cell {
        CellKind::Elman => "Elman",
        CellKind::Lstm => "LSTM",
        CellKind::Gru => "GRU",
    }
}

/// `(d − offset) / scale`, written with the sign of the offset.
fn scaling_formula(offset: f64, scale: f64) -> String {
    let sign = if offset < 0.0 { '+' } else { '−' };
    format!("(d {sign} {}) / {}", format_value(Some(offset.abs())), format_value(Some(scale)))
}

fn alert(text: &Option<String>) -> Html {
    match text {
        Some(text) => html! { <p class="message error" role="alert">{ text.clone() }</p> },
        None => html! {},
    }
}

/// Updates one field of a form state from an input's value.
fn setter<T: Clone + PartialEq + 'static>(
    state: &UseStateHandle<T>,
    set: fn(&mut T, String),
) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |event: Event| {
        let value = match event.target() {
            Some(target) => match target.dyn_ref::<web_sys::HtmlSelectElement>() {
                Some(select) => select.value(),
                None => target.unchecked_into::<web_sys::HtmlInputElement>().value(),
            },
            None => return,
        };
        let mut next = (*state).clone();
        set(&mut next, value);
        state.set(next);
    })
}

/// Like [`setter`], on every keystroke rather than when the field is left.
fn typed<T: Clone + PartialEq + 'static>(
    state: &UseStateHandle<T>,
    set: fn(&mut T, String),
) -> Callback<InputEvent> {
    let on_change = setter(state, set);
    Callback::from(move |event: InputEvent| on_change.emit(event.into()))
}

fn real_picker(
    index: &Option<Result<Vec<IndexEntry>, String>>,
    chosen: &str,
    on_choose: Callback<Event>,
    training: bool,
) -> Html {
    let body = match index {
        None => html! { <p role="status">{ "Reading the list of series…" }</p> },
        Some(Err(message)) => html! {
            <p class="message error" role="alert">{ format!("No real series: {message}") }</p>
        },
        Some(Ok(entries)) => {
            let options = entries.iter().map(|e| {
                html! {
                    <option value={e.file.clone()} selected={e.file == chosen}>
                        { format!("{} ({}, {}–{})", e.name, e.frequency.name(), e.first, e.last) }
                    </option>
                }
            });
            html! {
                <label>{ "Real series" }
                    <select onchange={on_choose} disabled={training}>
                        <option value="" selected={chosen.is_empty()} disabled=true>
                            { "choose a series" }
                        </option>
                        { for options }
                    </select>
                </label>
            }
        }
    };
    html! {
        <fieldset class="fc-source">
            <legend>{ "Real data" }</legend>
            { body }
        </fieldset>
    }
}

fn simulation_form(
    sim: &UseStateHandle<SimForm>,
    on_submit: Callback<SubmitEvent>,
    training: bool,
) -> Html {
    let field = |label: &str, value: &str, set: fn(&mut SimForm, String)| {
        html! {
            <label>{ label.to_string() }
                <input type="number" step="any" value={value.to_string()}
                    oninput={typed(sim, set)} />
            </label>
        }
    };
    let params = match sim.process.as_str() {
        "ar2" => html! { <>
            { field("phi1", &sim.phi1, |s, v| s.phi1 = v) }
            { field("phi2", &sim.phi2, |s, v| s.phi2 = v) }
        </> },
        "trend" => html! { <>
            { field("Level", &sim.level, |s, v| s.level = v) }
            { field("Slope", &sim.slope, |s, v| s.slope = v) }
            { field("Period", &sim.period, |s, v| s.period = v) }
            { field("Amplitude", &sim.amplitude, |s, v| s.amplitude = v) }
        </> },
        _ => html! { <>
            { field("Period", &sim.period, |s, v| s.period = v) }
            { field("Amplitude", &sim.amplitude, |s, v| s.amplitude = v) }
        </> },
    };
    let process = |value: &str, text: &str| {
        html! {
            <option value={value.to_string()} selected={sim.process == value}>
                { text.to_string() }
            </option>
        }
    };
    html! {
        <form class="fc-source" onsubmit={on_submit} novalidate=true>
            <fieldset>
                <legend>{ "Simulated" }</legend>
                <div class="controls">
                    <label>{ "Process" }
                        <select onchange={setter(sim, |s, v| s.process = v)}>
                            { process("sine", "sine + noise") }
                            { process("ar2", "AR(2)") }
                            { process("trend", "trend + season + noise") }
                        </select>
                    </label>
                    { params }
                    { field("Noise sd", &sim.noise, |s, v| s.noise = v) }
                    { field("Length", &sim.length, |s, v| s.length = v) }
                    { field("Simulation seed", &sim.seed, |s, v| s.seed = v) }
                </div>
                <button type="submit" disabled={training}>{ "Generate series" }</button>
            </fieldset>
        </form>
    }
}

fn series_view(series: &Option<Rc<Series>>, prepared: &Option<Result<Prepared, String>>) -> Html {
    let Some(series) = series else {
        return html! { <p role="status">{ "Loading the series…" }</p> };
    };
    let n = series.len();
    let train_len = match prepared {
        Some(Ok(p)) => p.train_len,
        _ => n,
    };
    let points = |range: std::ops::Range<usize>| -> Vec<(f64, f64)> {
        range.map(|t| (t as f64, series.values[t])).collect()
    };
    let mut lines = vec![Line {
        name: "training span".into(),
        color: TRAIN_COLOR,
        width: 2,
        points: points(0..train_len),
    }];
    if train_len < n {
        lines.push(Line {
            name: "test span".into(),
            color: TEST_COLOR,
            width: 2,
            points: points(train_len - 1..n),
        });
    }
    let (first, last) = (&series.times[0], &series.times[n - 1]);
    let label = format!(
        "{}: {n} points from {first} to {last}, {train_len} for training and {} for testing",
        series.name,
        n - train_len
    );
    let units = axis_units(series);
    html! {
        <>
            <p class="fc-about" id="fc-about">
                <strong>{ series.name.clone() }</strong>
                { format!(" · {n} {} points, {first} to {last}", series.frequency.name()) }
                { if series.units.is_empty() { html! {} } else {
                    html! { <>{ " · units: " }{ series.units.clone() }</> }
                } }
                { if series.source.is_empty() { html! {} } else {
                    html! { <>{ " · source: " }{ series.source.clone() }</> }
                } }
            </p>
            <LineChart label={label} lines={Rc::new(lines)} x_label="time" y_label={units}
                x_names={Some(Rc::new(series.times.clone()))}
                split={(train_len < n).then_some(train_len as f64 - 0.5)} />
        </>
    }
}

fn prep_controls(form: &UseStateHandle<Form>, series: Option<&Series>, training: bool) -> Html {
    let positive = series.is_none_or(Series::is_positive);
    let diffs = series.map(diff_choices).unwrap_or_default();
    let on_log = {
        let form = form.clone();
        Callback::from(move |event: Event| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            let mut next = (*form).clone();
            next.log = input.checked();
            form.set(next);
        })
    };
    let option = |value: &str, text: &str, current: &str| {
        html! {
            <option value={value.to_string()} selected={value == current}>
                { text.to_string() }
            </option>
        }
    };
    html! {
        <div class="controls">
            <label class="fc-check">
                <input type="checkbox" checked={form.log && positive} onchange={on_log}
                    disabled={!positive || training} />
                { if positive { "Log transform" } else { "Log transform (needs positive values)" } }
            </label>
            <label>{ "Differencing" }
                <select onchange={setter(form, |f, v| f.diff = v)} disabled={training}>
                    { for diffs.iter().map(|(v, t)| option(v, t, &form.diff)) }
                </select>
            </label>
            <label>{ "Scaling" }
                <select onchange={setter(form, |f, v| f.scale = v)} disabled={training}>
                    { option("minmax", "min-max (training span → [0, 1])", &form.scale) }
                    { option("std", "standardise (training mean 0, sd 1)", &form.scale) }
                    { option("none", "none", &form.scale) }
                </select>
            </label>
            <label>{ "Look-back" }
                <input type="number" min="1" value={form.lookback.clone()}
                    oninput={typed(form, |f, v| f.lookback = v)} disabled={training} />
            </label>
            <label>{ "Test span" }
                <input type="number" min="1" value={form.test.clone()}
                    oninput={typed(form, |f, v| f.test = v)} disabled={training} />
            </label>
        </div>
    }
}

fn transformed_view(
    series: &Option<Rc<Series>>,
    prepared: &Option<Result<Prepared, String>>,
) -> Html {
    let (Some(series), Some(prepared)) = (series, prepared) else {
        return html! {};
    };
    let p = match prepared {
        Ok(p) => p,
        Err(message) => {
            return html! { <p class="message error" role="alert">{ message.clone() }</p> };
        }
    };
    let lag = p.transform.lag();
    let points: Vec<(f64, f64)> =
        p.transformed.iter().enumerate().map(|(j, &z)| ((j + lag) as f64, z)).collect();
    let split = p.train_len - lag;
    let lines = vec![
        Line {
            name: "training span".into(),
            color: TRAIN_COLOR,
            width: 2,
            points: points[..split].to_vec(),
        },
        Line {
            name: "test span".into(),
            color: TEST_COLOR,
            width: 2,
            points: points[split - 1..].to_vec(),
        },
    ];
    let t = &p.transform;
    let scaling = match t.config.scaling {
        Scaling::None => "no scaling".to_string(),
        Scaling::MinMax => format!("min-max: {}", scaling_formula(t.offset, t.scale)),
        Scaling::Standard => format!("standardised: {}", scaling_formula(t.offset, t.scale)),
    };
    let steps = [
        t.config.log.then(|| "log".to_string()),
        t.config.diff.map(|d| format!("difference at lag {d}")),
        Some(scaling + ", fitted on the training span"),
    ];
    let steps: Vec<String> = steps.into_iter().flatten().collect();
    html! {
        <>
            <p class="muted" id="fc-transform">
                { format!(
                    "Transform: {}. {} training windows and {} test windows of {} values.",
                    steps.join(", then "), p.train.len(), p.test.len(), p.lookback
                ) }
            </p>
            <LineChart label={format!("Transformed {}: {} values", series.name, points.len())}
                lines={Rc::new(lines)} x_label="time" y_label="transformed value"
                x_names={Some(Rc::new(series.times.clone()))}
                split={Some(p.train_len as f64 - 0.5)} height={200} />
        </>
    }
}

fn train_controls(
    form: &UseStateHandle<Form>,
    on_train: Callback<SubmitEvent>,
    on_cancel: Callback<MouseEvent>,
    training: bool,
    ready: bool,
) -> Html {
    let option = |value: &str, text: &str| {
        html! {
            <option value={value.to_string()} selected={form.cell == value}>
                { text.to_string() }
            </option>
        }
    };
    let hidden: Option<usize> = form.hidden.trim().parse().ok();
    let formula = match (form.cell.as_str(), hidden) {
        ("elman", Some(h)) => format!(
            "h' = tanh(Wxh·x + Whh·h + b), then ŷ = w·h + c: {} parameters for {h} hidden \
             units.",
            h * h + 3 * h + 1
        ),
        ("elman", None) => "h' = tanh(Wxh·x + Whh·h + b), then ŷ = w·h + c.".to_string(),
        ("lstm", _) => "Burn's LSTM cell, then a linear read-out of its last hidden state.".into(),
        _ => "Burn's GRU cell, then a linear read-out of its last hidden state.".into(),
    };
    html! {
        <form onsubmit={on_train} novalidate=true>
            <p class="muted">
                { formula }
                { " The hidden state starts at zero for each window and is carried only along it." }
            </p>
            <div class="controls">
                <label>{ "Cell" }
                    <select onchange={setter(form, |f, v| f.cell = v)} disabled={training}>
                        { option("elman", "Elman RNN") }
                        { option("lstm", "LSTM") }
                        { option("gru", "GRU") }
                    </select>
                </label>
                <label>{ "Hidden units" }
                    <input type="number" min="1" max="256" value={form.hidden.clone()}
                        oninput={typed(form, |f, v| f.hidden = v)} disabled={training} />
                </label>
                <label>{ "Epochs" }
                    <input type="number" min="1" value={form.epochs.clone()}
                        oninput={typed(form, |f, v| f.epochs = v)} disabled={training} />
                </label>
                <label>{ "Learning rate" }
                    <input type="number" step="any" min="0" value={form.lr.clone()}
                        oninput={typed(form, |f, v| f.lr = v)} disabled={training} />
                </label>
                <label>{ "Training seed" }
                    <input type="number" min="0" value={form.seed.clone()}
                        oninput={typed(form, |f, v| f.seed = v)} disabled={training} />
                </label>
                <button type="submit" disabled={training || !ready}>{ "Train" }</button>
                <button type="button" class="secondary" onclick={on_cancel} disabled={!training}>
                    { "Cancel training" }
                </button>
            </div>
        </form>
    }
}

fn run_view(run: &Run) -> Html {
    match run {
        Run::Idle => html! {
            <p class="muted">
                { "Adam on mean squared error, batches of 32 windows, on the CPU." }
            </p>
        },
        Run::Failed(message) => html! {
            <p class="message error" role="alert">{ message.clone() }</p>
        },
        Run::Training { epoch, total, history } => html! {
            <>
                <p role="status">
                    <progress aria-label="Training progress" max={total.to_string()}
                        value={epoch.to_string()} />
                    { format!(" epoch {epoch} of {total}") }
                </p>
                { loss_chart(history) }
            </>
        },
        Run::Done(outcome) => done_view(outcome),
    }
}

fn loss_chart(history: &[EpochLoss]) -> Html {
    if history.is_empty() {
        return html! {};
    }
    let line = |name: &str, color, pick: fn(&EpochLoss) -> f32| Line {
        name: name.into(),
        color,
        width: 2,
        points: history.iter().map(|l| (l.epoch as f64, f64::from(pick(l)))).collect(),
    };
    let last = history[history.len() - 1];
    let label = format!(
        "Loss per epoch over {} epochs: training {} and test {} at the last epoch",
        history.len(),
        format_value(Some(f64::from(last.train))),
        format_value(Some(f64::from(last.test)))
    );
    let lines = vec![
        line("training windows", TRAIN_COLOR, |l| l.train),
        line("test windows", TEST_COLOR, |l| l.test),
    ];
    html! {
        <LineChart label={label} lines={Rc::new(lines)} x_label="epoch"
            y_label="MSE (transformed units)" log_y=true height={220} />
    }
}

fn done_view(outcome: &Outcome) -> Html {
    let Outcome { series, prepared, history, stop, evaluation, .. } = outcome;
    let (stop_text, diverged) =
        (stop.describe(outcome.epochs), matches!(stop, Stop::Diverged { .. }));
    let train_len = prepared.train_len;
    let n = series.len();
    let start = train_len.saturating_sub(3 * prepared.test_len()).min(train_len - 1);
    let actual: Vec<(f64, f64)> = (start..n).map(|t| (t as f64, series.values[t])).collect();
    let forecast = |values: &[f64]| -> Vec<(f64, f64)> {
        values.iter().enumerate().map(|(i, &v)| ((train_len + i) as f64, v)).collect()
    };
    let lines = vec![
        Line { name: "actual".into(), color: (60, 60, 60), width: 2, points: actual },
        Line {
            name: "one-step forecast".into(),
            color: ONE_STEP_COLOR,
            width: 2,
            points: forecast(&evaluation.one_step),
        },
        Line {
            name: "recursive forecast".into(),
            color: RECURSIVE_COLOR,
            width: 2,
            points: forecast(&evaluation.recursive),
        },
    ];
    let label = format!(
        "Forecasts of {} over the test span {} to {}: one-step and recursive, over the actual \
         series",
        series.name,
        series.times[train_len],
        series.times[n - 1]
    );
    let units = axis_units(series);
    let rows = evaluation.rows.iter().map(|r| {
        html! {
            <tr class={classes!((r.method == "RNN").then_some("fc-rnn"))}>
                <td>{ r.horizon.name() }</td>
                <td>{ r.method.clone() }</td>
                <td>{ format_value(Some(r.metrics.rmse)) }</td>
                <td>{ format_value(Some(r.metrics.mae)) }</td>
                <td>{ format_value(r.metrics.mape) }</td>
            </tr>
        }
    });
    html! {
        <>
            if diverged {
                <p class="message error" role="alert">{ stop_text }</p>
            } else {
                <p class="message" role="status" id="fc-stop">
                    { format!(
                        "{stop_text} {} cell, {} parameters.",
                        cell_title(outcome.cell),
                        outcome.params
                    ) }
                </p>
            }
            { loss_chart(history) }
            <h3>{ "Forecasts of the test span" }</h3>
            <LineChart label={label} lines={Rc::new(lines)} x_label="time" y_label={units}
                x_names={Some(Rc::new(series.times.clone()))}
                split={Some(train_len as f64 - 0.5)} height={300} />
            <table class="fc-metrics" aria-label="Forecast errors on the test span">
                <thead>
                    <tr>
                        <th scope="col">{ "Forecast" }</th>
                        <th scope="col">{ "Method" }</th>
                        <th scope="col">{ "RMSE" }</th>
                        <th scope="col">{ "MAE" }</th>
                        <th scope="col">{ "MAPE %" }</th>
                    </tr>
                </thead>
                <tbody>{ for rows }</tbody>
            </table>
            <p class="muted">
                { "One-step: each forecast sees the true past. Recursive: from the end of the " }
                { "training span, each forecast feeds on the ones before it. Naive repeats the " }
                { "last known value; seasonal naive repeats the value one season back. Errors " }
                { "are in the series' own units." }
            </p>
        </>
    }
}
