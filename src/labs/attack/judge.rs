//! Judging the CNN on test images: a random sample shown as a grid with each prediction, the
//! accuracy on the sample, and the accuracy and confusion matrix on all 10,000 test images.
//! Any image of the sample can be picked to be attacked.

use std::cell::Cell;
use std::rc::Rc;

use gradlab_core::data::mnist::{IMAGE_PIXELS, Mnist, NUM_CLASSES};
use gradlab_core::eval::{Confusion, Prediction, evaluate, predict};
use gradlab_core::rng::SplitMix64;
use yew::prelude::*;

use crate::browser::{now_ms, yield_now};
use crate::components::confusion::ConfusionTable;
use crate::components::digit::DigitImage;
use crate::components::inputs::text_setter;
use crate::runtime::RuntimeHandle;

/// Images per batch when evaluating: small enough that the page answers input in between.
const EVAL_BATCH: usize = 64;
/// Largest sample the grid shows.
const MAX_SAMPLE: usize = 500;

#[derive(Properties, PartialEq)]
pub struct JudgeProps {
    pub runtime: RuntimeHandle,
    /// Called with the index of a test image the student picks for the attack.
    pub on_pick: Callback<usize>,
}

/// Which test images are on show: `size` distinct indices drawn with `seed`.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    size: usize,
    seed: u64,
    indices: Vec<usize>,
}

impl Sample {
    fn draw(size: usize, seed: u64, population: usize) -> Self {
        let indices = SplitMix64::new(seed).sample(population, size);
        Self { size, seed, indices }
    }
}

/// The predictions for one sample on one runtime.
#[derive(Clone, PartialEq)]
struct Judged {
    sample: Sample,
    runtime: RuntimeHandle,
    predictions: Vec<Prediction>,
}

/// State of the evaluation of the whole test set.
#[derive(Clone, PartialEq)]
enum FullRun {
    Idle,
    Running { done: usize, total: usize },
    Cancelled,
    Done { confusion: Box<Confusion>, seconds: f64, backend: &'static str },
    Failed(String),
}

#[function_component(JudgeView)]
pub fn judge_view(props: &JudgeProps) -> Html {
    let runtime = props.runtime.clone();
    let population = runtime.test.len();
    let sample = use_state(|| Sample::draw(24, 1, population));
    let size_text = use_state(|| "24".to_string());
    let seed_text = use_state(|| "1".to_string());
    let input_error = use_state(|| None::<String>);
    let judged = use_state(|| None::<Judged>);
    let judge_error = use_state(|| None::<String>);
    let full = use_state(|| FullRun::Idle);
    let cancel = use_memo((), |_| Cell::new(false));

    // Effect: judge the sample whenever it or the runtime changes.
    {
        let judged = judged.clone();
        let judge_error = judge_error.clone();
        use_effect_with((runtime.clone(), (*sample).clone()), move |(runtime, sample)| {
            let (runtime, sample) = (runtime.clone(), sample.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let subset = runtime.test.subset(&sample.indices);
                match predict_in_batches(&runtime, &subset).await {
                    Ok(predictions) => {
                        judge_error.set(None);
                        judged.set(Some(Judged { sample, runtime, predictions }));
                    }
                    Err(message) => judge_error.set(Some(message)),
                }
            });
        });
    }

    // Callbacks
    let on_size = text_setter(&size_text);
    let on_seed = text_setter(&seed_text);
    let apply = {
        let (sample, size_text, seed_text, input_error) =
            (sample.clone(), size_text.clone(), seed_text.clone(), input_error.clone());
        move |seed_step: u64| match parse_sample(&size_text, &seed_text) {
            Ok((size, seed)) => {
                let seed = seed.wrapping_add(seed_step);
                seed_text.set(seed.to_string());
                input_error.set(None);
                sample.set(Sample::draw(size, seed, population));
            }
            Err(message) => input_error.set(Some(message)),
        }
    };
    let on_show = {
        let apply = apply.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            apply(0);
        })
    };
    let on_redraw = Callback::from(move |_: MouseEvent| apply(1));
    let on_evaluate = {
        let (runtime, full, cancel) = (runtime.clone(), full.clone(), cancel.clone());
        Callback::from(move |_: MouseEvent| {
            cancel.set(false);
            let (runtime, full, cancel) = (runtime.clone(), full.clone(), cancel.clone());
            wasm_bindgen_futures::spawn_local(evaluate_all(runtime, full, cancel));
        })
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_: MouseEvent| cancel.set(true))
    };

    // Derived values
    let current = judged.as_ref().filter(|j| j.sample == *sample && j.runtime == runtime);
    let running = matches!(*full, FullRun::Running { .. });
    let stats = use_memo(runtime.test.clone(), |test| test_set_summary(test));

    html! {
        <>
            <section class="panel" aria-labelledby="judge-title">
                <h2 id="judge-title">{ "Judge the pretrained CNN" }</h2>
                <p class="muted">
                    { "Conv 3x3 1→16, relu, max-pool 2 · Conv 3x3 16→32, relu, max-pool 2 · " }
                    { "Conv 3x3 32→32, relu, max-pool 2 · Dense 288→10 · softmax. " }
                    { format!(
                        "{} parameters; inputs are pixels mapped to [-1, 1]. ",
                        thousands(runtime.weights().num_params())
                    ) }
                    { (*stats).clone() }
                </p>
                <form class="controls" onsubmit={on_show} novalidate=true>
                    <label>{ "Sample size" }
                        <input type="number" min="1" max={MAX_SAMPLE.to_string()}
                            value={(*size_text).clone()} oninput={on_size} />
                    </label>
                    <label>{ "Seed" }
                        <input type="number" min="0" value={(*seed_text).clone()}
                            oninput={on_seed} />
                    </label>
                    <button type="submit">{ "Show sample" }</button>
                    <button type="button" class="secondary" onclick={on_redraw}>
                        { "Draw a new sample" }
                    </button>
                </form>
                { message(&input_error, false) }
                { message(&judge_error, true) }
                { sample_view(&runtime.test, current, &props.on_pick) }
            </section>
            <section class="panel" aria-labelledby="full-title">
                <h2 id="full-title">{ "All 10,000 test images" }</h2>
                <div class="controls">
                    <button type="button" onclick={on_evaluate} disabled={running}>
                        { "Evaluate all test images" }
                    </button>
                    <button type="button" class="secondary" onclick={on_cancel} disabled={!running}>
                        { "Cancel evaluation" }
                    </button>
                </div>
                { full_view(&full) }
            </section>
        </>
    }
}

/// Reads the sample size (1..=MAX_SAMPLE) and the seed, or says what is wrong.
fn parse_sample(size: &str, seed: &str) -> Result<(usize, u64), String> {
    let size = size
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|s| (1..=MAX_SAMPLE).contains(s))
        .ok_or(format!("The sample size must be a whole number from 1 to {MAX_SAMPLE}."))?;
    let seed = seed
        .trim()
        .parse::<u64>()
        .map_err(|_| "The seed must be a whole number, 0 or more.".to_string())?;
    Ok((size, seed))
}

/// Predicts a set in batches, yielding to the browser between them.
async fn predict_in_batches(
    runtime: &RuntimeHandle,
    set: &Mnist,
) -> Result<Vec<Prediction>, String> {
    let mut all = Vec::with_capacity(set.len());
    for chunk in set.pixels.chunks(EVAL_BATCH * IMAGE_PIXELS) {
        all.extend(predict(&runtime.model, chunk).await.map_err(|e| e.to_string())?);
        yield_now().await;
    }
    Ok(all)
}

async fn evaluate_all(
    runtime: RuntimeHandle,
    full: UseStateHandle<FullRun>,
    cancel: Rc<Cell<bool>>,
) {
    let started = now_ms();
    let total = runtime.test.len();
    full.set(FullRun::Running { done: 0, total });
    yield_now().await;

    let progress = |done: usize, total: usize| {
        let (full, cancel) = (full.clone(), cancel.clone());
        async move {
            full.set(FullRun::Running { done, total });
            yield_now().await;
            !cancel.get()
        }
    };
    let result = evaluate(&runtime.model, &runtime.test, EVAL_BATCH, progress).await;
    full.set(match result {
        Ok(Some(confusion)) => FullRun::Done {
            confusion: Box::new(confusion),
            seconds: (now_ms() - started) / 1000.0,
            backend: runtime.backend.label(),
        },
        Ok(None) => FullRun::Cancelled,
        Err(e) => FullRun::Failed(e.to_string()),
    });
}

fn message(text: &Option<String>, is_error: bool) -> Html {
    match text {
        Some(text) if is_error => {
            html! { <p class="message error" role="alert">{ text.clone() }</p> }
        }
        Some(text) => html! { <p class="message" role="alert">{ text.clone() }</p> },
        None => html! {},
    }
}

fn sample_view(test: &Mnist, judged: Option<&Judged>, on_pick: &Callback<usize>) -> Html {
    let Some(judged) = judged else {
        return html! { <p role="status">{ "Judging the sample…" }</p> };
    };
    let cells = judged.sample.indices.iter().zip(&judged.predictions).map(|(&index, p)| {
        let truth = test.labels[index];
        let wrong = p.digit != truth;
        let percent = 100.0 * p.confidence();
        let label = format!(
            "Test image {index}: true digit {truth}, predicted {} with probability {percent:.1}%",
            p.digit
        );
        let pick = on_pick.reform(move |_: MouseEvent| index);
        html! {
            <figure class={classes!("digit", wrong.then_some("wrong"))}>
                <DigitImage pixels={test.image(index).to_vec()} label={label} />
                <figcaption>
                    <span class="verdict">{ p.digit }</span>{ format!(" {percent:.1}%") }<br />
                    <span class="muted">{ format!("true {truth}") }</span>
                </figcaption>
                <button type="button" class="link" onclick={pick}
                    aria-label={format!("Attack test image {index}")}>{ "attack" }</button>
            </figure>
        }
    });
    let correct = judged
        .sample
        .indices
        .iter()
        .zip(&judged.predictions)
        .filter(|(i, p)| test.labels[**i] == p.digit)
        .count();
    let total = judged.predictions.len();

    html! {
        <>
            <p class="metric" id="sample-accuracy" role="status">
                { format!(
                    "Sample accuracy: {correct} of {total} correct ({:.1}%)",
                    100.0 * correct as f64 / total.max(1) as f64
                ) }
            </p>
            <div class="grid" role="list" aria-label="Sample of test images">
                { for cells.map(|cell| html! { <div role="listitem">{ cell }</div> }) }
            </div>
        </>
    }
}

fn full_view(full: &FullRun) -> Html {
    match full {
        FullRun::Idle => html! {
            <p class="muted">{ "Runs the network on every test image, in batches of 64." }</p>
        },
        FullRun::Running { done, total } => html! {
            <p role="status">
                <progress aria-label="Evaluation progress" max={total.to_string()}
                    value={done.to_string()} />
                { format!(" {done} of {total} images") }
            </p>
        },
        FullRun::Cancelled => html! {
            <p class="message" role="status">{ "Evaluation cancelled." }</p>
        },
        FullRun::Failed(message) => html! {
            <p class="message error" role="alert">{ format!("Evaluation failed: {message}") }</p>
        },
        FullRun::Done { confusion, seconds, backend } => html! {
            <>
                <p class="metric" id="full-accuracy" role="status">
                    { format!(
                        "accuracy {:.4} ({}/{})",
                        confusion.accuracy(),
                        confusion.correct(),
                        confusion.total()
                    ) }
                </p>
                <p class="muted">{ format!("{seconds:.1} s on {backend}") }</p>
                <ConfusionTable confusion={(**confusion).clone()} />
            </>
        },
    }
}

/// A line that describes the test set: count, mean pixel and images per digit.
fn test_set_summary(test: &Mnist) -> String {
    let mean = test.pixels.iter().map(|&p| p as u64).sum::<u64>() as f64 / test.pixels.len() as f64;
    let mut counts = [0usize; NUM_CLASSES];
    for &label in &test.labels {
        counts[label as usize] += 1;
    }
    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    format!(
        "Test set: {} images, mean pixel {mean:.3}, images per digit 0–9: {}.",
        thousands(test.len()),
        counts.join(" ")
    )
}

/// `10000` → `10,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
