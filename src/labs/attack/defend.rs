//! Adversarial training in the browser: fine-tune the active model on MNIST training images with
//! `α·CE(x) + (1 − α)·CE(x_FGSM)`, then compare it with the original under attack.
//!
//! The training images (the first 10,000 of MNIST's training split, 1.6 MB) load only when the
//! student starts a run, so the first page load stays small.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::prelude::*;
use gradlab_core::attack::{AttackForm, accuracy_under_attack};
use gradlab_core::data::mnist::Mnist;
use gradlab_core::defend::{AdversarialConfig, adversarial_training};
use gradlab_core::models::{Cnn, CnnWeights};
use yew::prelude::*;

use crate::browser::{fetch_bytes, yield_now};
use crate::components::inputs::text_setter;
use crate::components::plot::{LineChart, Mark, Series, colors};
use crate::runtime::{ModelChoice, RuntimeHandle};

/// Epsilons of the before/after comparison.
const COMPARED: [f32; 5] = [0.0, 0.1, 0.2, 0.3, 0.4];
/// Test images of the comparison (seeded sample).
const COMPARED_IMAGES: usize = 500;

#[derive(Properties, PartialEq)]
pub struct DefendProps {
    pub runtime: RuntimeHandle,
    pub on_model: Callback<ModelChoice>,
}

#[derive(Clone, PartialEq)]
enum Run {
    Idle,
    Loading,
    Training { done: usize, total: usize, losses: Vec<(f64, f64)> },
    Comparing,
    Cancelled,
    Failed(String),
    Done(Box<Outcome>),
}

/// A finished run: the defended weights, its loss curve and both models under attack.
#[derive(Clone, PartialEq)]
struct Outcome {
    weights: Rc<CnnWeights>,
    name: String,
    losses: Vec<(f64, f64)>,
    original: Vec<f64>,
    defended: Vec<f64>,
}

#[function_component(DefendView)]
pub fn defend_view(props: &DefendProps) -> Html {
    let runtime = props.runtime.clone();
    let epsilon_text = use_state(|| "0.2".to_string());
    let alpha_text = use_state(|| "0.5".to_string());
    let epochs_text = use_state(|| "1".to_string());
    let images_text = use_state(|| "2000".to_string());
    let run = use_state(|| Run::Idle);
    let message = use_state(|| None::<String>);
    let cancel = use_memo((), |_| Cell::new(false));
    let training_set = use_mut_ref(|| None::<Rc<Mnist>>);

    let on_start = {
        let (runtime, run, message, cancel, training_set) =
            (runtime.clone(), run.clone(), message.clone(), cancel.clone(), training_set.clone());
        let texts =
            (epsilon_text.clone(), alpha_text.clone(), epochs_text.clone(), images_text.clone());
        Callback::from(move |_: MouseEvent| {
            let settings = parse_settings(&texts.0, &texts.1, &texts.2, &texts.3);
            let (config, images) = match settings {
                Ok(settings) => settings,
                Err(text) => return message.set(Some(text)),
            };
            message.set(None);
            cancel.set(false);
            let (runtime, run, cancel, training_set) =
                (runtime.clone(), run.clone(), cancel.clone(), training_set.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = defend(&runtime, config, images, &run, &cancel, &training_set).await;
                run.set(outcome);
            });
        })
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_: MouseEvent| cancel.set(true))
    };
    let on_use = {
        let (run, on_model) = (run.clone(), props.on_model.clone());
        Callback::from(move |_: MouseEvent| {
            if let Run::Done(outcome) = &*run {
                on_model.emit(ModelChoice {
                    name: outcome.name.as_str().into(),
                    weights: outcome.weights.clone(),
                });
            }
        })
    };

    let busy = matches!(*run, Run::Loading | Run::Training { .. } | Run::Comparing);
    html! {
        <section class="panel" aria-labelledby="defend-title">
            <h2 id="defend-title">{ "Defend: adversarial training" }</h2>
            <p class="muted">
                { "Fine-tunes the active model on MNIST training images with the loss " }
                { "α·CE(x) + (1 − α)·CE(x_FGSM), the FGSM image recomputed at every step " }
                { "(Adam, learning rate 5e-4, batches of 64). The first 10,000 training images " }
                { "(1.6 MB) load when you start." }
            </p>
            <div class="controls">
                <label>{ "Training epsilon" }
                    <input type="number" step="0.05" min="0" max="1"
                        value={(*epsilon_text).clone()} oninput={text_setter(&epsilon_text)} />
                </label>
                <label>{ "Clean-loss weight α" }
                    <input type="number" step="0.1" min="0" max="1"
                        value={(*alpha_text).clone()} oninput={text_setter(&alpha_text)} />
                </label>
                <label>{ "Epochs" }
                    <input type="number" min="1" max="20" value={(*epochs_text).clone()}
                        oninput={text_setter(&epochs_text)} />
                </label>
                <label>{ "Training images" }
                    <input type="number" min="64" max="10000" step="64"
                        value={(*images_text).clone()} oninput={text_setter(&images_text)} />
                </label>
                <button type="button" onclick={on_start} disabled={busy}>
                    { "Start adversarial training" }
                </button>
                <button type="button" class="secondary" onclick={on_cancel} disabled={!busy}>
                    { "Cancel adversarial training" }
                </button>
            </div>
            if let Some(text) = &*message {
                <p class="message" role="alert">{ text.clone() }</p>
            }
            { run_view(&run, &runtime.choice.name) }
            if matches!(*run, Run::Done(_)) {
                <button type="button" class="secondary" onclick={on_use}>
                    { "Use the defended model" }
                </button>
            }
        </section>
    }
}

/// Reads ε and α in [0, 1], epochs 1..=20 and 64..=10,000 training images.
fn parse_settings(
    epsilon: &str,
    alpha: &str,
    epochs: &str,
    images: &str,
) -> Result<(AdversarialConfig, usize), String> {
    let unit = |text: &str, what: &str| {
        text.trim()
            .parse::<f32>()
            .ok()
            .filter(|v| (0.0..=1.0).contains(v))
            .ok_or(format!("{what} must be a number from 0 to 1."))
    };
    let whole = |text: &str, low: usize, high: usize, what: &str| {
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|v| (low..=high).contains(v))
            .ok_or(format!("{what} must be a whole number from {low} to {high}."))
    };
    let config = AdversarialConfig {
        epsilon: unit(epsilon, "The training epsilon")?,
        alpha: unit(alpha, "α")?,
        epochs: whole(epochs, 1, 20, "Epochs")?,
        ..AdversarialConfig::default()
    };
    Ok((config, whole(images, 64, 10_000, "Training images")?))
}

async fn defend(
    runtime: &RuntimeHandle,
    config: AdversarialConfig,
    images: usize,
    run: &UseStateHandle<Run>,
    cancel: &Rc<Cell<bool>>,
    training_set: &Rc<RefCell<Option<Rc<Mnist>>>>,
) -> Run {
    run.set(Run::Loading);
    let train = match load_training_set(training_set).await {
        Ok(train) => train,
        Err(message) => return Run::Failed(message),
    };
    let train = train.subset(&(0..images.min(train.len())).collect::<Vec<_>>());

    let device = runtime.model.device();
    let trainable = match Cnn::from_weights(runtime.weights(), &device.clone().autodiff()) {
        Ok(model) => model,
        Err(e) => return Run::Failed(e.to_string()),
    };
    let batches_per_epoch = train.len().div_ceil(config.batch_size) as f64;
    let losses = Rc::new(RefCell::new(Vec::new()));
    let progress = |done: usize, total: usize, loss: f32| {
        let (run, cancel, losses) = (run.clone(), cancel.clone(), losses.clone());
        async move {
            losses.borrow_mut().push((done as f64 / batches_per_epoch, loss as f64));
            run.set(Run::Training { done, total, losses: losses.borrow().clone() });
            yield_now().await;
            !cancel.get()
        }
    };
    let defended = match adversarial_training(trainable, &train, &config, progress).await {
        Ok(Some(model)) => model.valid(),
        Ok(None) => return Run::Cancelled,
        Err(e) => return Run::Failed(e.to_string()),
    };

    run.set(Run::Comparing);
    yield_now().await;
    let weights = match defended.to_weights().await {
        Ok(weights) => Rc::new(weights),
        Err(e) => return Run::Failed(e.to_string()),
    };
    let defended = Cnn::from_weights(&weights, &device).expect("weights from a trained model");
    let sample = runtime.test.random_subset(COMPARED_IMAGES, 2);
    let form = AttackForm::Untargeted;
    // Yields between batches so that the page stays responsive; cancel still applies.
    let breathe = |_: usize, _: usize| {
        let cancel = cancel.clone();
        async move {
            yield_now().await;
            !cancel.get()
        }
    };
    let original = accuracy_under_attack(&runtime.model, &sample, form, &COMPARED, 50, breathe);
    let original = match original.await {
        Ok(Some(curve)) => curve,
        Ok(None) => return Run::Cancelled,
        Err(e) => return Run::Failed(e.to_string()),
    };
    yield_now().await;
    let after = match accuracy_under_attack(&defended, &sample, form, &COMPARED, 50, breathe).await
    {
        Ok(Some(curve)) => curve,
        Ok(None) => return Run::Cancelled,
        Err(e) => return Run::Failed(e.to_string()),
    };
    let name = format!(
        "{} + adversarial training (ε = {}, α = {}, {} images × {} epochs)",
        runtime.choice.name,
        config.epsilon,
        config.alpha,
        train.len(),
        config.epochs
    );
    let losses = losses.borrow().clone();
    Run::Done(Box::new(Outcome { weights, name, losses, original, defended: after }))
}

/// The training subset, fetched on first use and kept for later runs.
async fn load_training_set(cache: &Rc<RefCell<Option<Rc<Mnist>>>>) -> Result<Rc<Mnist>, String> {
    if let Some(set) = cache.borrow().clone() {
        return Ok(set);
    }
    let images = fetch_bytes("mnist/train-10k-images-idx3-ubyte.gz").await?;
    let labels = fetch_bytes("mnist/train-10k-labels-idx1-ubyte.gz").await?;
    let set = Rc::new(
        Mnist::from_idx(&images, &labels).map_err(|e| format!("MNIST training images: {e}"))?,
    );
    *cache.borrow_mut() = Some(set.clone());
    Ok(set)
}

fn run_view(run: &Run, original_name: &str) -> Html {
    match run {
        Run::Idle => html! {},
        Run::Loading => html! { <p role="status">{ "Loading the training images…" }</p> },
        Run::Comparing => html! {
            <p role="status">{ "Comparing both models under attack…" }</p>
        },
        Run::Cancelled => html! {
            <p class="message" role="status">{ "Adversarial training cancelled." }</p>
        },
        Run::Failed(e) => html! {
            <p class="message error" role="alert">
                { format!("Adversarial training failed: {e}") }
            </p>
        },
        Run::Training { done, total, losses } => html! {
            <>
                <p role="status">
                    <progress aria-label="Adversarial training progress"
                        max={total.to_string()} value={done.to_string()} />
                    { format!(" {done} of {total} batches") }
                </p>
                { loss_chart(losses) }
            </>
        },
        Run::Done(outcome) => outcome_view(outcome, original_name),
    }
}

fn loss_chart(losses: &[(f64, f64)]) -> Html {
    let series = Rc::new(vec![Series::new(
        "training loss (running mean over the epoch)",
        colors::TRAIN,
        Mark::Line(losses.to_vec()),
    )]);
    html! {
        <LineChart series={series} x_label="epoch" y_label="loss" width={420} height={220}
            aria_label={format!("Adversarial training loss: {} points", losses.len())} />
    }
}

fn outcome_view(outcome: &Outcome, original_name: &str) -> Html {
    let points = |values: &[f64]| -> Vec<(f64, f64)> {
        COMPARED.iter().zip(values).map(|(&e, &a)| (e as f64, a)).collect()
    };
    let series = Rc::new(vec![
        Series::new("original", colors::VALIDATION, Mark::Line(points(&outcome.original))),
        Series::new("", colors::VALIDATION, Mark::Points(points(&outcome.original))),
        Series::new("defended", colors::TRAIN, Mark::Line(points(&outcome.defended))),
        Series::new("", colors::TRAIN, Mark::Points(points(&outcome.defended))),
    ]);
    let rows = COMPARED.iter().enumerate().map(|(i, e)| {
        let label = if *e == 0.0 { "clean (ε = 0)".to_string() } else { format!("FGSM ε = {e}") };
        html! {
            <tr>
                <th scope="row">{ label }</th>
                <td>{ format!("{:.3}", outcome.original[i]) }</td>
                <td>{ format!("{:.3}", outcome.defended[i]) }</td>
            </tr>
        }
    });
    html! {
        <>
            <p role="status">{ format!("Defended model ready: {}.", outcome.name) }</p>
            <div class="attack-layout">
                { loss_chart(&outcome.losses) }
                <LineChart series={series} x_label="epsilon" y_label="accuracy" width={420}
                    height={220} aria_label="Accuracy under FGSM: original and defended" />
                <table class="confusion" aria-label="Original and defended models">
                    <caption class="muted">
                        { format!("Untargeted FGSM on {COMPARED_IMAGES} random test images") }
                    </caption>
                    <thead><tr>
                        <th></th>
                        <th scope="col">{ format!("original ({original_name})") }</th>
                        <th scope="col">{ "defended" }</th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        </>
    }
}
