//! The Fit lab: a one-hidden-layer MLP on a noisy nonlinear function.
//!
//! Four steps on one page: choose the data, train one network, sweep the hidden size, and
//! continue the best model with an L2 or L1 penalty. All the maths is in
//! `gradlab_core::fit`; this file holds the controls, the plots and the per-epoch plumbing.
//!
//! Training runs on the CPU backend whatever the page's backend is: a network of a few dozen
//! weights does far less work per step than it takes to dispatch a GPU kernel. The loops hand
//! control back to the browser about every [`FRAME_MS`] milliseconds rather than every epoch,
//! so plots stay live without slowing training down (a redraw of the charts costs far more
//! than an epoch).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::prelude::*;
use gradlab_core::fit::FitError;
use gradlab_core::fit::data::{
    DataConfig, Dataset, Target, benchmark_data, generate, plot_grid, truth_curve,
};
use gradlab_core::fit::formula::Formula;
use gradlab_core::fit::mlp::{Activation, Mlp, Penalty, PenaltyKind};
use gradlab_core::fit::regularise::{
    Assessment, Severity, assess, check_lambda, mean_abs_weight, penalty_warning,
};
use gradlab_core::fit::sweep::{
    SizeSummary, SweepConfig, SweepEvent, SweepRun, best_size, parse_sizes, summarise, sweep,
};
use gradlab_core::fit::train::{EpochLosses, OptimizerKind, Start, Stop, TrainConfig, train};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

use crate::browser::{now_ms, yield_now};
use crate::components::plot::{LineChart, Mark, Series, colors};

/// Points on which the true function and the fitted curve are drawn.
const CURVE_SAMPLES: usize = 200;
/// Least time (ms) a running loop trains between two redraws (see [`Pacer`]).
const FRAME_MS: f64 = 250.0;

/// The data controls, as typed.
#[derive(Debug, Clone, PartialEq)]
struct DataForm {
    function: String,
    formula: String,
    x_min: String,
    x_max: String,
    points: String,
    noise: String,
    validation: String,
    seed: String,
}

impl Default for DataForm {
    fn default() -> Self {
        let d = DataConfig::default();
        Self {
            function: d.target.name().into(),
            formula: "sin(2*x)*exp(-x^2/4)".into(),
            x_min: d.x_min.to_string(),
            x_max: d.x_max.to_string(),
            points: d.points.to_string(),
            noise: d.noise.to_string(),
            validation: d.validation_fraction.to_string(),
            seed: d.seed.to_string(),
        }
    }
}

/// Why the data controls do not make a data set.
#[derive(Debug, Clone, PartialEq)]
enum DataProblem {
    /// The formula does not parse: the message and, when known, a caret under the text.
    Formula(String, Option<String>),
    /// Anything else.
    Other(String),
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| format!("{what}: '{text}' is not a number"))
}

impl DataForm {
    fn config(&self) -> Result<DataConfig, DataProblem> {
        let target = if self.function == "formula" {
            let formula = Formula::parse(&self.formula).map_err(|e| {
                DataProblem::Formula(format!("Formula: {e}"), e.pointer(&self.formula))
            })?;
            Target::Formula(formula)
        } else {
            Target::built_in(&self.function).unwrap_or(Target::Sin)
        };
        let other = DataProblem::Other;
        Ok(DataConfig {
            target,
            x_min: number(&self.x_min, "x from").map_err(other)?,
            x_max: number(&self.x_max, "x to").map_err(other)?,
            points: number(&self.points, "Points").map_err(other)?,
            noise: number(&self.noise, "Noise σ").map_err(other)?,
            validation_fraction: number(&self.validation, "Validation share").map_err(other)?,
            seed: number(&self.seed, "Data seed").map_err(other)?,
        })
    }
}

/// The data set on show, with its plotting grid.
#[derive(Debug)]
struct DataView {
    config: DataConfig,
    data: Dataset,
    grid: Vec<f32>,
    truth: Vec<f32>,
}

impl DataView {
    fn new(config: DataConfig) -> Result<Self, String> {
        let data = generate(&config).map_err(|e| e.to_string())?;
        let grid = plot_grid(config.x_min, config.x_max, CURVE_SAMPLES);
        let truth = truth_curve(&config.target, &grid);
        Ok(Self { config, data, grid, truth })
    }
}

/// The training, sweep and regularisation controls, as typed.
#[derive(Debug, Clone, PartialEq)]
struct TrainForm {
    hidden: String,
    activation: String,
    optimizer: String,
    learning_rate: String,
    momentum: String,
    batch: String,
    epochs: String,
    seed: String,
    sizes: String,
    repeats: String,
    penalty: String,
    lambda: String,
    more_epochs: String,
}

impl Default for TrainForm {
    fn default() -> Self {
        let d = TrainConfig::default();
        Self {
            hidden: d.hidden.to_string(),
            activation: d.activation.name().into(),
            optimizer: "adam".into(),
            learning_rate: d.learning_rate.to_string(),
            momentum: "0.9".into(),
            batch: String::new(),
            epochs: "300".into(),
            seed: d.seed.to_string(),
            sizes: "1,2,4,8,16,32,64".into(),
            repeats: "2".into(),
            penalty: "L2".into(),
            lambda: "0.001".into(),
            more_epochs: "300".into(),
        }
    }
}

impl TrainForm {
    fn config(&self) -> Result<TrainConfig, String> {
        let optimizer = match self.optimizer.as_str() {
            "sgd" => OptimizerKind::Sgd { momentum: number(&self.momentum, "Momentum")? },
            _ => OptimizerKind::Adam,
        };
        let batch_size = match self.batch.trim() {
            "" => None,
            text => Some(number(text, "Batch size")?),
        };
        let config = TrainConfig {
            hidden: number(&self.hidden, "Hidden units")?,
            activation: Activation::from_name(&self.activation).unwrap_or_default(),
            optimizer,
            learning_rate: number(&self.learning_rate, "Learning rate")?,
            batch_size,
            epochs: number(&self.epochs, "Epochs")?,
            seed: number(&self.seed, "Seed")?,
            penalty: None,
        };
        config.validate().map_err(|e| e.to_string())?;
        if config.epochs > 100_000 {
            return Err("at most 100,000 epochs per run".into());
        }
        Ok(config)
    }

    fn penalty(&self) -> Result<Penalty, String> {
        let lambda: f64 = number(&self.lambda, "λ")?;
        check_lambda(lambda).map_err(|e| e.to_string())?;
        let kind = if self.penalty == "L1" { PenaltyKind::L1 } else { PenaltyKind::L2 };
        Ok(Penalty { kind, lambda })
    }
}

/// The loss curves on show: a run, and the regularised continuation of the best model.
#[derive(Debug, Clone, PartialEq, Default)]
struct Curves {
    /// Epochs before regularisation (a training run, or the best model's run).
    history: Vec<EpochLosses>,
    /// Epochs of the regularised continuation.
    regularised: Vec<EpochLosses>,
    /// The penalty of the continuation.
    penalty: Option<Penalty>,
    /// The latest fitted curve on the data view's grid.
    fit: Vec<f32>,
}

impl Curves {
    fn epochs(&self) -> usize {
        self.history.len() + self.regularised.len()
    }

    /// The epoch and loss of the lowest validation loss (`regularised` included).
    fn best(&self) -> Option<(usize, f32)> {
        self.history
            .iter()
            .chain(&self.regularised)
            .filter(|e| e.validation.is_finite())
            .min_by(|a, b| a.validation.total_cmp(&b.validation))
            .map(|e| (e.epoch, e.validation))
    }
}

/// The best model kept for regularisation.
#[derive(Debug, Clone)]
struct Kept {
    model: Mlp,
    history: Vec<EpochLosses>,
    epoch: usize,
    validation_loss: f32,
    hidden: usize,
    data: Rc<DataView>,
}

/// A summary of [`Kept`] for rendering.
#[derive(Debug, Clone, PartialEq)]
struct KeptInfo {
    hidden: usize,
    epoch: usize,
    validation_loss: f32,
    mean_abs_weight: f64,
    source: &'static str,
}

/// What the long-running task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Idle,
    Training,
    Sweeping,
    Regularising,
}

/// A message under the controls.
#[derive(Debug, Clone, PartialEq)]
enum Note {
    Info(String),
    Error(String),
}

/// Before/after scores of a regularised run.
#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    penalty: Penalty,
    before: Assessment,
    after: Assessment,
}

/// The state handles the long tasks write to.
#[derive(Clone)]
struct Sinks {
    busy: UseStateHandle<Busy>,
    curves: UseStateHandle<Curves>,
    curves_view: UseStateHandle<Option<Rc<DataView>>>,
    progress: UseStateHandle<(usize, usize)>,
    note: UseStateHandle<Option<Note>>,
    runs: UseStateHandle<Vec<SweepRun>>,
    kept: Rc<RefCell<Option<Kept>>>,
    kept_info: UseStateHandle<Option<KeptInfo>>,
    comparison: UseStateHandle<Option<Comparison>>,
    cancel: Rc<Cell<bool>>,
}

impl Sinks {
    async fn keep(&self, kept: Kept, source: &'static str) {
        let mean_abs_weight = mean_abs_weight(&kept.model).await.unwrap_or(f64::NAN);
        self.kept_info.set(Some(KeptInfo {
            hidden: kept.hidden,
            epoch: kept.epoch,
            validation_loss: kept.validation_loss,
            mean_abs_weight,
            source,
        }));
        *self.kept.borrow_mut() = Some(kept);
    }
}

/// Lets the page render after a state change: Yew's scheduler renders, then yields to the
/// browser itself before it runs effects (where the charts draw), so one turn is not enough.
async fn let_page_render() {
    for _ in 0..3 {
        yield_now().await;
    }
}

/// Paces a training loop: it trains for at least [`FRAME_MS`], and at least as long as the
/// last redraw took, between two redraws, so that training keeps at least half of the time
/// however slow the charts are to draw.
struct Pacer {
    /// When the last redraw ended (ms).
    last: Cell<f64>,
    /// How long the last redraw took (ms).
    cost: Cell<f64>,
}

impl Pacer {
    fn new() -> Rc<Self> {
        Rc::new(Self { last: Cell::new(now_ms()), cost: Cell::new(0.0) })
    }

    /// True when a redraw is due.
    fn due(&self) -> bool {
        now_ms() - self.last.get() >= FRAME_MS.max(self.cost.get())
    }

    /// Lets the page redraw, and times it.
    async fn redraw(&self) {
        let start = now_ms();
        let_page_render().await;
        let end = now_ms();
        self.cost.set(end - start);
        self.last.set(end);
    }
}

fn stop_note(stop: Stop, what: &str) -> Option<Note> {
    match stop {
        Stop::Finished => None,
        Stop::Cancelled => Some(Note::Info(format!("{what} cancelled; what it reached is kept."))),
        Stop::Diverged { epoch } => Some(Note::Error(format!(
            "The loss became NaN or infinite at epoch {epoch}: {what} stopped and the model of \
             epoch {} is kept. Lower the learning rate.",
            epoch - 1
        ))),
    }
}

async fn run_training(view: Rc<DataView>, config: TrainConfig, sinks: Sinks) {
    let device = Device::flex().autodiff();
    let curves = Rc::new(RefCell::new(Curves::default()));
    let pacer = Pacer::new();
    let total = config.epochs;
    sinks.curves.set(Curves::default());
    sinks.curves_view.set(Some(view.clone()));
    yield_now().await;
    let hook = |report: gradlab_core::fit::train::EpochReport| {
        let (curves, pacer, sinks) = (curves.clone(), pacer.clone(), sinks.clone());
        async move {
            let epoch = report.losses.epoch;
            {
                let mut c = curves.borrow_mut();
                c.history.push(report.losses);
                c.fit = report.curve;
            }
            if pacer.due() || epoch == total {
                sinks.curves.set(curves.borrow().clone());
                sinks.progress.set((epoch, total));
                pacer.redraw().await;
            }
            !sinks.cancel.get()
        }
    };
    let result = train(&view.data, &config, Start::Fresh, &view.grid, &device, hook).await;
    sinks.curves.set(curves.borrow().clone());
    match result {
        Ok(outcome) => {
            sinks.note.set(stop_note(outcome.stop, "Training"));
            if let Some(best) = outcome.best {
                let history = outcome.history[..best.epoch.min(outcome.history.len())].to_vec();
                let kept = Kept {
                    model: best.model,
                    history,
                    epoch: best.epoch,
                    validation_loss: best.validation_loss,
                    hidden: config.hidden,
                    data: view,
                };
                sinks.keep(kept, "training run").await;
            }
        }
        Err(e) => sinks.note.set(Some(Note::Error(format!("Training failed: {e}")))),
    }
    sinks.busy.set(Busy::Idle);
}

async fn run_sweep(view: Rc<DataView>, config: SweepConfig, sinks: Sinks) {
    let device = Device::flex().autodiff();
    let runs = Rc::new(RefCell::new(Vec::new()));
    let pacer = Pacer::new();
    let total = config.hidden_sizes.len() * config.repeats;
    sinks.runs.set(Vec::new());
    sinks.progress.set((0, total));
    yield_now().await;
    let hook = |event: SweepEvent| {
        let (runs, pacer, sinks) = (runs.clone(), pacer.clone(), sinks.clone());
        async move {
            match event {
                SweepEvent::RunDone(run) => {
                    runs.borrow_mut().push(run);
                    sinks.runs.set(runs.borrow().clone());
                    sinks.progress.set((runs.borrow().len(), total));
                    let_page_render().await;
                }
                SweepEvent::Epoch { .. } if pacer.due() => pacer.redraw().await,
                SweepEvent::Epoch { .. } => {}
            }
            !sinks.cancel.get()
        }
    };
    let result = sweep(&view.data, &config, &device, hook).await;
    match result {
        Ok(outcome) => {
            if outcome.cancelled {
                sinks.note.set(Some(Note::Info("Sweep cancelled; finished runs are kept.".into())));
            } else {
                sinks.note.set(None);
            }
            if let Some(best) = outcome.best {
                let kept = Kept {
                    model: best.model,
                    history: best.history,
                    epoch: best.run.best_epoch.unwrap_or(0),
                    validation_loss: best.run.best_validation_loss,
                    hidden: best.run.hidden,
                    data: view,
                };
                sinks.keep(kept, "sweep").await;
            }
        }
        Err(e) => sinks.note.set(Some(Note::Error(format!("Sweep failed: {e}")))),
    }
    sinks.busy.set(Busy::Idle);
}

async fn run_regularise(kept: Kept, config: TrainConfig, penalty: Penalty, sinks: Sinks) {
    let device = Device::flex().autodiff();
    let view = kept.data.clone();
    let before = match assess(&kept.model, &view.data, &view.grid).await {
        Ok(a) => a,
        Err(e) => {
            sinks.note.set(Some(Note::Error(format!("Regularisation failed: {e}"))));
            sinks.busy.set(Busy::Idle);
            return;
        }
    };
    let curves = Rc::new(RefCell::new(Curves {
        history: kept.history.clone(),
        regularised: Vec::new(),
        penalty: Some(penalty),
        fit: before.curve.clone(),
    }));
    sinks.curves.set(curves.borrow().clone());
    sinks.curves_view.set(Some(view.clone()));
    sinks.comparison.set(None);
    let pacer = Pacer::new();
    let total = config.epochs;
    yield_now().await;
    let hook = |report: gradlab_core::fit::train::EpochReport| {
        let (curves, pacer, sinks) = (curves.clone(), pacer.clone(), sinks.clone());
        async move {
            let done = {
                let mut c = curves.borrow_mut();
                c.regularised.push(report.losses);
                c.fit = report.curve;
                c.regularised.len()
            };
            if pacer.due() || done == total {
                sinks.curves.set(curves.borrow().clone());
                sinks.progress.set((done, total));
                pacer.redraw().await;
            }
            !sinks.cancel.get()
        }
    };
    let start = Start::From { model: Box::new(kept.model.clone()), epochs_done: kept.epoch };
    let config = TrainConfig { penalty: Some(penalty), ..config };
    let result = train(&view.data, &config, start, &view.grid, &device, hook).await;
    sinks.curves.set(curves.borrow().clone());
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            sinks.note.set(Some(Note::Error(format!("Regularisation failed: {e}"))));
            sinks.busy.set(Busy::Idle);
            return;
        }
    };
    sinks.note.set(stop_note(outcome.stop, "Regularisation"));
    match assess(&outcome.model, &view.data, &view.grid).await {
        Ok(after) => sinks.comparison.set(Some(Comparison { penalty, before, after })),
        Err(e) => sinks.note.set(Some(Note::Error(format!("Scoring failed: {e}")))),
    }
    sinks.busy.set(Busy::Idle);
}

/// `window.gradlabFitBench(hidden, epochs)`: trains on the benchmark data (see
/// `gradlab bench-fit`) without redrawing and resolves to the milliseconds per epoch over
/// epochs 2..N. Used by `tests/browser/bench/fit-bench.mjs`.
fn install_bench_hook() {
    let Some(window) = web_sys::window() else { return };
    let hook = Closure::<dyn Fn(u32, u32) -> js_sys::Promise>::new(|hidden: u32, epochs: u32| {
        wasm_bindgen_futures::future_to_promise(async move {
            let data = benchmark_data();
            let config = TrainConfig {
                hidden: hidden as usize,
                epochs: epochs.max(2) as usize,
                ..TrainConfig::default()
            };
            let first = Rc::new(Cell::new(f64::NAN));
            let last = Rc::new(Cell::new(0.0));
            let device = Device::flex().autodiff();
            let (f, l) = (first.clone(), last.clone());
            train(&data, &config, Start::Fresh, &[], &device, move |_| {
                let now = now_ms();
                if f.get().is_nan() {
                    f.set(now);
                }
                l.set(now);
                std::future::ready(true)
            })
            .await
            .map_err(|e: FitError| JsValue::from_str(&e.to_string()))?;
            let per_epoch = (last.get() - first.get()) / (config.epochs - 1) as f64;
            Ok(JsValue::from_f64(per_epoch))
        })
    });
    let _ = js_sys::Reflect::set(&window, &"gradlabFitBench".into(), hook.as_ref().unchecked_ref());
    hook.forget();
}

fn input_value(event: &Event) -> String {
    event
        .target()
        .and_then(|t| {
            t.dyn_ref::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| t.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
        })
        .unwrap_or_default()
}

/// A callback that writes an input's value into one field of a form held in state.
fn bind<F: Clone + PartialEq + 'static>(
    form: &UseStateHandle<F>,
    write: fn(&mut F, String),
) -> Callback<Event> {
    let form = form.clone();
    Callback::from(move |event: Event| {
        let mut next = (*form).clone();
        write(&mut next, input_value(&event));
        form.set(next);
    })
}

fn bind_input<F: Clone + PartialEq + 'static>(
    form: &UseStateHandle<F>,
    write: fn(&mut F, String),
) -> Callback<InputEvent> {
    let cb = bind(form, write);
    Callback::from(move |event: InputEvent| cb.emit(event.into()))
}

fn points(xs: &[f32], ys: &[f32]) -> Vec<(f64, f64)> {
    xs.iter().zip(ys).map(|(&x, &y)| (f64::from(x), f64::from(y))).collect()
}

fn fmt_loss(v: f32) -> String {
    if v.is_finite() { format!("{v:.5}") } else { "—".into() }
}

#[function_component(FitLab)]
pub fn fit_lab() -> Html {
    let data_form = use_state(DataForm::default);
    let view = use_state(|| {
        let config = DataForm::default().config().expect("the default settings are valid");
        Rc::new(DataView::new(config).expect("the default data is valid"))
    });
    let data_problem = use_state(|| None::<DataProblem>);
    let train_form = use_state(TrainForm::default);
    let log_scale = use_state(|| true);
    let busy = use_state(|| Busy::Idle);
    let curves = use_state(Curves::default);
    let curves_view = use_state(|| None::<Rc<DataView>>);
    let progress = use_state(|| (0usize, 0usize));
    let note = use_state(|| None::<Note>);
    let runs = use_state(Vec::<SweepRun>::new);
    let kept = use_mut_ref(|| None::<Kept>);
    let kept_info = use_state(|| None::<KeptInfo>);
    let comparison = use_state(|| None::<Comparison>);

    // Effects
    use_effect_with((), |_| install_bench_hook());
    {
        let (view, data_problem) = (view.clone(), data_problem.clone());
        use_effect_with((*data_form).clone(), move |form| {
            // A bad setting keeps the data on show and says what is wrong.
            match form.config() {
                Ok(config) if config == view.config => data_problem.set(None),
                Ok(config) => match DataView::new(config) {
                    Ok(next) => {
                        view.set(Rc::new(next));
                        data_problem.set(None);
                    }
                    Err(message) => data_problem.set(Some(DataProblem::Other(message))),
                },
                Err(problem) => data_problem.set(Some(problem)),
            }
        });
    }

    let sinks = Sinks {
        busy: busy.clone(),
        curves: curves.clone(),
        curves_view: curves_view.clone(),
        progress: progress.clone(),
        note: note.clone(),
        runs: runs.clone(),
        kept: kept.clone(),
        kept_info: kept_info.clone(),
        comparison: comparison.clone(),
        cancel: Rc::new(Cell::new(false)),
    };
    let cancel_flag = use_mut_ref(|| Rc::new(Cell::new(false)));

    // Callbacks
    let start = {
        let (busy, note, sinks, cancel_flag) =
            (busy.clone(), note.clone(), sinks.clone(), cancel_flag.clone());
        move |what: Busy| {
            let flag = Rc::new(Cell::new(false));
            *cancel_flag.borrow_mut() = flag.clone();
            busy.set(what);
            note.set(None);
            Sinks { cancel: flag, ..sinks.clone() }
        }
    };
    let on_train = {
        let (view, train_form, note, start) =
            (view.clone(), train_form.clone(), note.clone(), start.clone());
        Callback::from(move |_: MouseEvent| match train_form.config() {
            Ok(config) => {
                let sinks = start(Busy::Training);
                wasm_bindgen_futures::spawn_local(run_training((*view).clone(), config, sinks));
            }
            Err(message) => note.set(Some(Note::Error(message))),
        })
    };
    let on_sweep = {
        let (view, train_form, note, start) =
            (view.clone(), train_form.clone(), note.clone(), start.clone());
        Callback::from(move |_: MouseEvent| {
            let config = train_form.config().and_then(|train| {
                let sizes =
                    parse_sizes(&train_form.sizes).map_err(|e| format!("Hidden sizes: {e}"))?;
                let repeats: usize = number(&train_form.repeats, "Repeats")?;
                if !(1..=20).contains(&repeats) {
                    return Err("Repeats: choose 1 to 20".into());
                }
                Ok(SweepConfig { hidden_sizes: sizes, repeats, train })
            });
            match config {
                Ok(config) => {
                    let sinks = start(Busy::Sweeping);
                    wasm_bindgen_futures::spawn_local(run_sweep((*view).clone(), config, sinks));
                }
                Err(message) => note.set(Some(Note::Error(message))),
            }
        })
    };
    let on_regularise = {
        let (train_form, note, kept, start) =
            (train_form.clone(), note.clone(), kept.clone(), start.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(best) = kept.borrow().clone() else {
                note.set(Some(Note::Error("Train or sweep first: there is no model yet.".into())));
                return;
            };
            let settings = train_form.config().and_then(|config| {
                let penalty = train_form.penalty()?;
                let epochs: usize = number(&train_form.more_epochs, "More epochs")?;
                if !(1..=100_000).contains(&epochs) {
                    return Err("More epochs: choose 1 to 100,000".into());
                }
                Ok((TrainConfig { epochs, ..config }, penalty))
            });
            match settings {
                Ok((config, penalty)) => {
                    let sinks = start(Busy::Regularising);
                    wasm_bindgen_futures::spawn_local(run_regularise(best, config, penalty, sinks));
                }
                Err(message) => note.set(Some(Note::Error(message))),
            }
        })
    };
    let on_cancel = {
        let cancel_flag = cancel_flag.clone();
        Callback::from(move |_: MouseEvent| cancel_flag.borrow().set(true))
    };
    let on_log = {
        let log_scale = log_scale.clone();
        Callback::from(move |event: Event| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            log_scale.set(input.checked());
        })
    };

    // Derived values
    let running = *busy != Busy::Idle;
    let data = &view.data;
    let shown = (*curves_view).clone().unwrap_or_else(|| (*view).clone());
    let fit_plot = {
        let mut series = vec![
            Series::new(
                "true function",
                colors::TRUTH,
                Mark::Line(points(&shown.grid, &shown.truth)),
            ),
            Series::new(
                "train",
                colors::TRAIN,
                Mark::Points(points(&shown.data.train_x, &shown.data.train_y)),
            ),
            Series::new(
                "validation",
                colors::VALIDATION,
                Mark::Points(points(&shown.data.validation_x, &shown.data.validation_y)),
            ),
        ];
        if !curves.fit.is_empty() {
            series.push(Series::new(
                "network",
                colors::FIT,
                Mark::Line(points(&shown.grid, &curves.fit)),
            ));
        }
        Rc::new(series)
    };
    let data_plot = Rc::new(vec![
        Series::new("true function", colors::TRUTH, Mark::Line(points(&view.grid, &view.truth))),
        Series::new("train", colors::TRAIN, Mark::Points(points(&data.train_x, &data.train_y))),
        Series::new(
            "validation",
            colors::VALIDATION,
            Mark::Points(points(&data.validation_x, &data.validation_y)),
        ),
    ]);
    let epochs_shown = curves.epochs();
    let best_epoch = curves.best();
    let loss_plot = {
        let all: Vec<&EpochLosses> = curves.history.iter().chain(&curves.regularised).collect();
        let line = |f: fn(&EpochLosses) -> f32| {
            all.iter().map(|e| (e.epoch as f64, f64::from(f(e)))).collect::<Vec<_>>()
        };
        let mut series = vec![
            Series::new("train (data loss)", colors::TRAIN, Mark::Line(line(|e| e.train))),
            Series::new("validation", colors::VALIDATION, Mark::Line(line(|e| e.validation))),
        ];
        if let Some(penalty) = curves.penalty {
            let pen =
                curves.regularised.iter().map(|e| (e.epoch as f64, f64::from(e.penalty))).collect();
            let label = match penalty.kind {
                PenaltyKind::L2 => "penalty λ·Σw²",
                PenaltyKind::L1 => "penalty λ·Σ|w|",
            };
            series.push(Series::new(label, colors::PENALTY, Mark::Line(pen)));
            if let Some(first) = curves.regularised.first().or(curves.history.last()) {
                let x = first.epoch as f64 - if curves.regularised.is_empty() { 0.0 } else { 0.5 };
                series.push(Series::new("", colors::TRUTH, Mark::VLine(x)));
            }
        }
        if let Some((epoch, loss)) = best_epoch {
            series.push(Series::new(
                format!("best validation (epoch {epoch})"),
                colors::MARK,
                Mark::Rings(vec![(epoch as f64, f64::from(loss))]),
            ));
        }
        Rc::new(series)
    };
    let summaries: Vec<SizeSummary> = summarise(&runs);
    let best_index = best_size(&summaries);
    let sweep_plot = {
        let finite: Vec<&SizeSummary> = summaries.iter().filter(|s| s.count > 0).collect();
        let mean: Vec<(f64, f64)> =
            finite.iter().map(|s| (s.hidden as f64, f64::from(s.mean))).collect();
        let ranges =
            finite.iter().map(|s| (s.hidden as f64, f64::from(s.min), f64::from(s.max))).collect();
        let mut series = vec![
            Series::new("mean over repeats", colors::TRAIN, Mark::Line(mean.clone())),
            Series::new("min–max", colors::TRUTH, Mark::Ranges(ranges)),
            Series::new("", colors::TRAIN, Mark::Points(mean)),
        ];
        if let Some(i) = best_index {
            let s = &summaries[i];
            series.push(Series::new(
                format!("best size ({})", s.hidden),
                colors::FIT,
                Mark::Rings(vec![(s.hidden as f64, f64::from(s.mean))]),
            ));
        }
        Rc::new(series)
    };
    let warning = (*kept_info).as_ref().and_then(|info| {
        let config = train_form.config().ok()?;
        let penalty = train_form.penalty().ok()?;
        penalty_warning(
            config.optimizer,
            config.learning_rate,
            penalty.kind,
            penalty.lambda,
            info.mean_abs_weight,
        )
    });

    // View
    let data_disabled = running;
    let is_formula = data_form.function == "formula";
    let problem = match &*data_problem {
        None => html! {},
        Some(DataProblem::Formula(message, pointer)) => html! {
            <div class="message error" role="alert" id="data-error">
                <p>{ message.clone() }</p>
                if let Some(pointer) = pointer
                    { <pre class="formula-pointer">{ pointer.clone() }</pre> }
                <p class="muted">{ "The plot keeps the last valid data." }</p>
            </div>
        },
        Some(DataProblem::Other(message)) => html! {
            <div class="message error" role="alert" id="data-error">
                <p>{ message.clone() }</p>
                <p class="muted">{ "The plot keeps the last valid data." }</p>
            </div>
        },
    };
    let (done, total) = *progress;
    let status = match *busy {
        Busy::Idle => html! {},
        what => {
            let label = match what {
                Busy::Training => "Training progress (epochs)",
                Busy::Sweeping => "Sweep progress (runs)",
                _ => "Regularisation progress (epochs)",
            };
            html! {
                <p role="status" class="fit-progress">
                    <progress aria-label={label} max={total.max(1).to_string()}
                        value={done.to_string()} />
                    { format!(" {done} / {total}") }
                    <button type="button" class="secondary"
                        onclick={on_cancel.clone()}>{ "Cancel" }</button>
                </p>
            }
        }
    };
    let note_view = match &*note {
        None => html! {},
        Some(Note::Info(text)) => html! { <p class="message" role="status">{ text.clone() }</p> },
        Some(Note::Error(text)) => {
            html! { <p class="message error" role="alert">{ text.clone() }</p> }
        }
    };
    let loss_label = format!("Loss per epoch: {epochs_shown} epochs");
    let loss_caption = match best_epoch {
        Some((epoch, loss)) => {
            format!("{loss_label}; best validation loss {} at epoch {epoch}", fmt_loss(loss))
        }
        None => loss_label.clone(),
    };
    let sweep_label = format!("Best validation loss per hidden size: {} sizes", summaries.len());
    let is_sgd = train_form.optimizer == "sgd";

    html! {
        <section class="panel fit">
            <h2>{ "Fit" }</h2>
            <p>
                { "Fit a noisy nonlinear function with a one-hidden-layer network, sweep the " }
                { "hidden size and fine-tune the best model with L2 or L1 regularisation. " }
                <span class="muted">
                    { "These networks train on the CPU backend whatever backend is chosen above: " }
                    { "a network this small runs faster on the CPU than through WebGPU dispatch." }
                </span>
            </p>

            <h3>{ "Data" }</h3>
            <div class="controls">
                <label>{ "Function" }
                    <select id="fit-function" disabled={data_disabled}
                        onchange={bind(&data_form, |f, v| f.function = v)}>
                        { for Target::BUILT_IN.iter().map(|t| html! {
                            <option value={t.name()}
                                selected={data_form.function == t.name()}>{ t.describe() }</option>
                        }) }
                        <option value="formula" selected={is_formula}>{ "formula in x…" }</option>
                    </select>
                </label>
                if is_formula {
                    <label>{ "Formula f(x)" }
                        <input id="fit-formula" type="text" value={data_form.formula.clone()}
                            disabled={data_disabled}
                            spellcheck="false"
                                oninput={bind_input(&data_form, |f, v| f.formula = v)} />
                    </label>
                }
                <label>{ "x from" }
                    <input type="number" step="0.5" value={data_form.x_min.clone()}
                        disabled={data_disabled}
                        oninput={bind_input(&data_form, |f, v| f.x_min = v)} />
                </label>
                <label>{ "x to" }
                    <input type="number" step="0.5" value={data_form.x_max.clone()}
                        disabled={data_disabled}
                        oninput={bind_input(&data_form, |f, v| f.x_max = v)} />
                </label>
                <label>{ "Points" }
                    <input type="number" min="4" step="10" value={data_form.points.clone()}
                        disabled={data_disabled}
                        oninput={bind_input(&data_form, |f, v| f.points = v)} />
                </label>
                <label>{ "Noise σ" }
                    <input type="number" min="0" step="0.05" value={data_form.noise.clone()}
                        disabled={data_disabled}
                        oninput={bind_input(&data_form, |f, v| f.noise = v)} />
                </label>
                <label>{ "Validation share" }
                    <input type="number" min="0.05" max="0.95" step="0.05"
                        value={data_form.validation.clone()}
                        disabled={data_disabled}
                            oninput={bind_input(&data_form, |f, v| f.validation = v)} />
                </label>
                <label>{ "Data seed" }
                    <input type="number" min="0" step="1" value={data_form.seed.clone()}
                        disabled={data_disabled}
                        oninput={bind_input(&data_form, |f, v| f.seed = v)} />
                </label>
            </div>
            { problem }
            <LineChart id="fit-data-chart" series={data_plot} x_label="x" y_label="y"
                aria_label={format!("Data: {} training and {} validation points",
                    data.num_train(), data.num_validation())}
                caption={format!("{}: {} training points (blue), {} validation points (orange)",
                    view.config.target.describe(), data.num_train(), data.num_validation())} />

            <h3>{ "Train" }</h3>
            <p class="muted">
                { "Model: Dense(1 → hidden), non-linearity, Dense(hidden → 1); " }
                { "loss: mean squared error." }
            </p>
            <div class="controls">
                <label>{ "Hidden units" }
                    <input type="number" min="1" max="4096" value={train_form.hidden.clone()}
                        disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.hidden = v)} />
                </label>
                <label>{ "Non-linearity" }
                    <select disabled={running}
                        onchange={bind(&train_form, |f, v| f.activation = v)}>
                        { for Activation::ALL.iter().map(|a| html! {
                            <option value={a.name()}
                                selected={train_form.activation == a.name()}>{ a.name() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Optimiser" }
                    <select disabled={running} onchange={bind(&train_form, |f, v| f.optimizer = v)}>
                        <option value="adam" selected={!is_sgd}>{ "Adam" }</option>
                        <option value="sgd" selected={is_sgd}>{ "SGD with momentum" }</option>
                    </select>
                </label>
                <label>{ "Learning rate" }
                    <input type="number" min="0" step="0.001"
                        value={train_form.learning_rate.clone()} disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.learning_rate = v)} />
                </label>
                if is_sgd {
                    <label>{ "Momentum β" }
                        <input type="number" min="0" max="0.99" step="0.05"
                            value={train_form.momentum.clone()}
                            disabled={running}
                                oninput={bind_input(&train_form, |f, v| f.momentum = v)} />
                    </label>
                }
                <label>{ "Batch size (empty: full batch)" }
                    <input type="number" min="1" placeholder="full"
                        value={train_form.batch.clone()} disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.batch = v)} />
                </label>
                <label>{ "Epochs" }
                    <input id="fit-epochs" type="number" min="1" value={train_form.epochs.clone()}
                        disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.epochs = v)} />
                </label>
                <label>{ "Seed" }
                    <input type="number" min="0" value={train_form.seed.clone()} disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.seed = v)} />
                </label>
                <button type="button" onclick={on_train} disabled={running}>{ "Train" }</button>
            </div>
            { status.clone() }
            { note_view }
            <div class="fit-plots">
                <div>
                    <LineChart id="fit-loss-chart" series={loss_plot} x_label="epoch"
                        y_label="mean squared error"
                        log_y={*log_scale} aria_label={loss_label} caption={loss_caption} />
                    <label class="inline">
                        <input id="fit-log" type="checkbox" checked={*log_scale} onchange={on_log}
                            />{ " log scale" }
                    </label>
                </div>
                <LineChart id="fit-curve-chart" series={fit_plot} x_label="x" y_label="y"
                    aria_label={format!("Fitted curve over the data after {epochs_shown} epochs")}
                        />
            </div>

            <h3>{ "Sweep the hidden size" }</h3>
            <p class="muted">
                { "Each run trains with the settings above; repeat r uses seed + r. " }
                { "A run scores its " }
                { "best validation loss over its epochs; the best size has the lowest mean score." }
            </p>
            <div class="controls">
                <label>{ "Hidden sizes (list or ranges, e.g. 1,2,4,8-10)" }
                    <input id="fit-sizes" type="text" value={train_form.sizes.clone()}
                        disabled={running}
                        oninput={bind_input(&train_form, |f, v| f.sizes = v)} />
                </label>
                <label>{ "Repeats per size" }
                    <input id="fit-repeats" type="number" min="1" max="20"
                        value={train_form.repeats.clone()}
                        disabled={running} oninput={bind_input(&train_form, |f, v| f.repeats = v)}
                            />
                </label>
                <button type="button" onclick={on_sweep} disabled={running}>{ "Sweep" }</button>
            </div>
            <div class="fit-plots">
                <LineChart id="fit-sweep-chart" series={sweep_plot} x_label="hidden units"
                    y_label="best validation loss"
                    log_x={true} log_y={true} aria_label={sweep_label.clone()}
                        caption={sweep_label} />
                <table class="fit-table" aria-label="Sweep results">
                    <thead><tr>
                        <th scope="col">{ "hidden" }</th><th scope="col">{ "mean" }</th>
                        <th scope="col">{ "min" }</th><th scope="col">{ "max" }</th><th
                            scope="col">{ "runs" }</th>
                    </tr></thead>
                    <tbody>
                        { for summaries.iter().enumerate().map(|(i, s)| {
                            let best = Some(i) == best_index;
                            html! {
                                <tr class={classes!(best.then_some("best"))}>
                                    <th scope="row">
                                        { s.hidden }{ if best { " (best)" } else { "" } }
                                    </th>
                                    <td>{ fmt_loss(s.mean) }</td><td>{ fmt_loss(s.min) }</td>
                                    <td>{ fmt_loss(s.max) }</td><td>{ s.count }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>

            <h3>{ "Regularise the best model" }</h3>
            <p id="fit-best-model" role="status">
                { match &*kept_info {
                    Some(k) => format!(
                        "Best model (from the last {}): {} hidden units, validation loss {} \
                         at epoch {}.",
                        k.source, k.hidden, fmt_loss(k.validation_loss), k.epoch),
                    None => "No model yet: train or sweep first.".into(),
                } }
            </p>
            <p class="muted">
                { "Continue training on data loss + λ·Σw² (L2) or + λ·Σ|w| (L1). " }
                { "The penalty covers the weights of both layers; biases are excluded, " }
                { "since they only shift the curve. " }
                { "With SGD, L2 makes the weights flip sign once η·λ > 1/2 and diverge once " }
                { "η·λ ≥ 1 + β; L1 cannot diverge, but weights smaller than its step η·λ/(1 − β) " }
                { "jitter around zero. Adam's steps are about η whatever λ is, " }
                { "so no η·λ limit applies." }
            </p>
            <div class="controls">
                <label>{ "Penalty" }
                    <select disabled={running} onchange={bind(&train_form, |f, v| f.penalty = v)}>
                        <option value="L2"
                            selected={train_form.penalty == "L2"}>{ "L2: λ·Σw²" }</option>
                        <option value="L1"
                            selected={train_form.penalty == "L1"}>{ "L1: λ·Σ|w|" }</option>
                    </select>
                </label>
                <label>{ "λ" }
                    <input id="fit-lambda" type="number" min="0" step="0.001"
                        value={train_form.lambda.clone()}
                        disabled={running} oninput={bind_input(&train_form, |f, v| f.lambda = v)} />
                </label>
                <label>{ "More epochs" }
                    <input id="fit-more-epochs" type="number" min="1"
                        value={train_form.more_epochs.clone()}
                        disabled={running}
                            oninput={bind_input(&train_form, |f, v| f.more_epochs = v)} />
                </label>
                <button type="button" onclick={on_regularise}
                    disabled={running || kept_info.is_none()}>
                    { "Regularise" }
                </button>
            </div>
            if let Some(w) = &warning {
                <p role="alert"
                    class={classes!(
                        "message",
                        (w.severity == Severity::Diverges).then_some("error")
                    )}>
                    { format!("Warning: {}", w.message) }
                </p>
            }
            if let Some(c) = &*comparison {
                { comparison_view(c, &shown) }
            }
        </section>
    }
}

fn comparison_view(c: &Comparison, view: &DataView) -> Html {
    let row = |name: &str, f: &dyn Fn(&Assessment) -> String| {
        html! {
            <tr><th scope="row">{ name }</th><td>{ f(&c.before) }</td><td>{ f(&c.after) }</td></tr>
        }
    };
    let curve = |a: &Assessment, title: &str| {
        let series = Rc::new(vec![
            Series::new(
                "true function",
                colors::TRUTH,
                Mark::Line(points(&view.grid, &view.truth)),
            ),
            Series::new(
                "train",
                colors::TRAIN,
                Mark::Points(points(&view.data.train_x, &view.data.train_y)),
            ),
            Series::new("network", colors::FIT, Mark::Line(points(&view.grid, &a.curve))),
        ]);
        html! {
            <LineChart {series} width={360} height={240} x_label="x" y_label="y"
                aria_label={format!("Fitted curve {title}")} caption={format!("{title}")} />
        }
    };
    let name = match c.penalty.kind {
        PenaltyKind::L2 => "L2",
        PenaltyKind::L1 => "L1",
    };
    html! {
        <div class="fit-comparison">
            <table class="fit-table" id="fit-comparison"
                aria-label="Before and after regularisation">
                <caption>{ format!("{name}, λ = {}", c.penalty.lambda) }</caption>
                <thead><tr><th scope="col">{ "" }</th><th scope="col">{ "before" }</th><th
                    scope="col">{ "after" }</th></tr></thead>
                <tbody>
                    { row("train loss", &|a| fmt_loss(a.train_loss)) }
                    { row("validation loss", &|a| fmt_loss(a.validation_loss)) }
                    { row("weight norm ‖w‖₂", &|a| format!("{:.4}", a.weight_norm)) }
                    { row("Σ|w|", &|a| format!("{:.4}", a.weight_l1)) }
                    { row("weights with |w| < 0.001",
                        &|a| format!("{} of {}", a.near_zero_weights, a.num_weights)) }
                </tbody>
            </table>
            <div class="fit-plots">
                { curve(&c.before, "before regularisation") }
                { curve(&c.after, "after regularisation") }
            </div>
        </div>
    }
}
