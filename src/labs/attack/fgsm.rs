//! Draw a digit (or pick a test image), see the network's belief, and slide epsilon to watch the
//! Fast Gradient Sign attack change it.
//!
//! The input gradient is computed once per image, attack form and target. The attacked images
//! for every epsilon of the slider's grid (0 to 1 in steps of 0.005) then go through the network
//! in one batch, so moving the slider only repaints results that are already known.

use std::cell::Cell;

use gradlab_core::attack::{
    AttackForm, input_gradient, iterative, smallest_flipping_epsilon, succeeded,
};
use gradlab_core::data::mnist::{IMAGE_PIXELS, to_input, to_pixels};
use gradlab_core::drawing::to_mnist;
use gradlab_core::eval::{Prediction, predict, predict_inputs};
use gradlab_core::models::cnn::inputs_to_tensor;
use gradlab_core::read_f32;
use yew::prelude::*;

use super::Subject;
use crate::browser::yield_now;
use crate::components::bars::Bars;
use crate::components::digit::DigitImage;
use crate::components::drawpad::{DrawPad, Ink};
use crate::components::inputs::text_setter;
use crate::runtime::RuntimeHandle;

/// Steps of the epsilon slider between 0 and [`MAX_EPSILON`].
const STEPS: usize = 200;
/// The slider's largest epsilon, in input units ([-1, 1]).
const MAX_EPSILON: f32 = 1.0;

fn epsilon_at(step: usize) -> f32 {
    MAX_EPSILON * step as f32 / STEPS as f32
}

#[derive(Properties, PartialEq)]
pub struct AttackViewProps {
    pub runtime: RuntimeHandle,
    pub subject: Option<Subject>,
    /// Called with the drawing after each stroke (`None` when the drawing is empty).
    pub on_drawing: Callback<Option<Subject>>,
}

/// The clean prediction for the current subject.
#[derive(Clone, PartialEq)]
struct Clean {
    subject: Subject,
    runtime: RuntimeHandle,
    prediction: Prediction,
}

/// Everything the slider shows, for one subject, form and target.
#[derive(Clone, PartialEq)]
struct Sweep {
    key: (Subject, RuntimeHandle, AttackForm),
    /// The label the untargeted form moves away from: the true digit, or the prediction.
    label: u8,
    /// Clean inputs in [-1, 1] and the sign of the gradient, 784 each.
    inputs: Vec<f32>,
    sign: Vec<f32>,
    /// Predictions at each slider step.
    at: Vec<Prediction>,
    /// First slider step where the attack succeeds.
    flip: Option<usize>,
}

#[function_component(AttackView)]
pub fn attack_view(props: &AttackViewProps) -> Html {
    let runtime = props.runtime.clone();
    let targeted = use_state(|| false);
    let target = use_state(|| 0u8);
    let step = use_state(|| 20usize);
    let clean = use_state(|| None::<Clean>);
    let sweep = use_state(|| None::<Sweep>);
    let failure = use_state(|| None::<String>);
    let generation = use_memo((), |_| Cell::new(0u64));
    let steps_text = use_state(|| "10".to_string());
    let smallest = use_state(|| None::<String>);
    let form =
        if *targeted { AttackForm::Targeted { target: *target } } else { AttackForm::Untargeted };

    // Effect: judge the subject, then sweep epsilon, whenever subject, model or form change.
    {
        let (clean, sweep, failure, generation) =
            (clean.clone(), sweep.clone(), failure.clone(), generation.clone());
        use_effect_with(
            (props.subject.clone(), runtime.clone(), form),
            move |(subject, runtime, form)| {
                let ticket = generation.get() + 1;
                generation.set(ticket);
                if let Some(subject) = subject.clone() {
                    let (runtime, form) = (runtime.clone(), *form);
                    wasm_bindgen_futures::spawn_local(async move {
                        let current = || generation.get() == ticket;
                        let result =
                            judge_and_sweep(&runtime, &subject, form, &clean, current).await;
                        match result {
                            Ok(Some(result)) if current() => {
                                failure.set(None);
                                sweep.set(Some(result));
                            }
                            Err(message) if current() => failure.set(Some(message)),
                            _ => {}
                        }
                    });
                }
            },
        );
    }

    // Callbacks
    let on_ink =
        {
            let on_drawing = props.on_drawing.clone();
            Callback::from(move |ink: Ink| {
                let drawn = to_mnist(&ink.values, ink.width, ink.height)
                    .ok()
                    .map(|pixels| Subject { pixels, label: None, origin: "your drawing".into() });
                on_drawing.emit(drawn);
            })
        };
    let on_form = {
        let targeted = targeted.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            targeted.set(select.value() == "targeted");
        })
    };
    let on_target = {
        let target = target.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            target.set(select.value().parse().unwrap_or(0));
        })
    };
    let on_epsilon = {
        let step = step.clone();
        Callback::from(move |event: InputEvent| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            let epsilon = input.value().parse::<f32>().unwrap_or(0.0).clamp(0.0, MAX_EPSILON);
            step.set((epsilon / MAX_EPSILON * STEPS as f32).round() as usize);
        })
    };

    let on_steps = text_setter(&steps_text);
    let search = |iterative: bool| {
        let (runtime, subject, smallest, steps_text, clean) = (
            runtime.clone(),
            props.subject.clone(),
            smallest.clone(),
            steps_text.clone(),
            clean.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(subject) = subject.clone() else {
                smallest.set(Some("Draw a digit or pick a test image first.".into()));
                return;
            };
            let steps = match (iterative, steps_text.trim().parse::<usize>()) {
                (false, _) => 1,
                (true, Ok(n)) if (2..=100).contains(&n) => n,
                (true, _) => {
                    smallest
                        .set(Some("Iterative steps must be a whole number from 2 to 100.".into()));
                    return;
                }
            };
            let label = subject.label.or(clean.as_ref().map(|c| c.prediction.digit)).unwrap_or(0);
            let (runtime, smallest) = (runtime.clone(), smallest.clone());
            smallest.set(Some("Searching…".into()));
            wasm_bindgen_futures::spawn_local(async move {
                let x = inputs_to_tensor(to_input(&subject.pixels), 1, &runtime.model.device());
                let found =
                    smallest_flipping_epsilon(&runtime.model, x, form, label, MAX_EPSILON, steps)
                        .await;
                let name = if steps > 1 {
                    format!("{steps}-step iterative attack")
                } else {
                    "FGSM".into()
                };
                smallest.set(Some(match found {
                    Ok(Some(e)) => {
                        format!("Smallest ε that succeeds ({name}, {}): {e:.3}", form.describe())
                    }
                    Ok(None) => format!("The {name} does not succeed up to ε = {MAX_EPSILON:.1}."),
                    Err(e) => format!("The search failed: {e}"),
                }));
            });
        })
    };
    let on_smallest_fgsm = search(false);
    let on_smallest_iterative = search(true);
    let step_size_text = use_state(|| "0.02".to_string());
    let iterative_result = use_state(|| None::<(Vec<u8>, String)>);
    let on_step_size = text_setter(&step_size_text);
    let on_iterative = {
        let (runtime, subject, smallest, clean) =
            (runtime.clone(), props.subject.clone(), smallest.clone(), clean.clone());
        let (steps_text, step_size_text, result) =
            (steps_text.clone(), step_size_text.clone(), iterative_result.clone());
        let epsilon = epsilon_at(*step);
        Callback::from(move |_: MouseEvent| {
            let Some(subject) = subject.clone() else {
                smallest.set(Some("Draw a digit or pick a test image first.".into()));
                return;
            };
            let steps = steps_text.trim().parse::<usize>().ok().filter(|n| (2..=100).contains(n));
            let size = step_size_text.trim().parse::<f32>().ok().filter(|s| *s > 0.0 && *s <= 1.0);
            let (Some(steps), Some(size)) = (steps, size) else {
                smallest.set(Some(
                    "Iterative steps must be from 2 to 100 and the step size in (0, 1].".into(),
                ));
                return;
            };
            let label = subject.label.or(clean.as_ref().map(|c| c.prediction.digit)).unwrap_or(0);
            let (runtime, result, smallest) = (runtime.clone(), result.clone(), smallest.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let x = inputs_to_tensor(to_input(&subject.pixels), 1, &runtime.model.device());
                let attacked = iterative(&runtime.model, x, form, &[label], epsilon, size, steps);
                let pixels = read_f32(attacked.clone()).await;
                let prediction = predict_inputs(&runtime.model, attacked).await;
                match (pixels, prediction) {
                    (Ok(pixels), Ok(prediction)) => {
                        let p = prediction[0];
                        let verdict = format!(
                            "Iterative attack ({steps} steps of {size}, ε = {epsilon:.3}): \
                             predicted {} ({:.1}%){}",
                            p.digit,
                            100.0 * p.confidence(),
                            if succeeded(form, label, p.digit) { " — succeeded" } else { "" }
                        );
                        result.set(Some((to_pixels(&pixels), verdict)));
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        smallest.set(Some(format!("The attack failed: {e}")))
                    }
                }
            });
        })
    };

    // Derived values
    let subject = props.subject.as_ref();
    let clean_now = clean.as_ref().filter(|c| Some(&c.subject) == subject && c.runtime == runtime);
    let sweep_now = sweep
        .as_ref()
        .filter(|s| subject == Some(&s.key.0) && s.key.1 == runtime && s.key.2 == form);
    let target_options = (0..10u8).map(|k| {
        html! { <option value={k.to_string()} selected={k == *target}>{ k }</option> }
    });

    html! {
        <section class="panel" aria-labelledby="attack-title">
            <h2 id="attack-title">{ "Draw a digit and attack it" }</h2>
            <div class="attack-layout">
                <div>
                    <DrawPad on_ink={on_ink} />
                    <p class="muted">{ "Or pick a test image below with its “attack” button." }</p>
                </div>
                <div class="attack-clean">
                    { clean_view(subject, clean_now) }
                </div>
            </div>
            <div class="controls">
                <label>{ "Attack form" }
                    <select onchange={on_form}>
                        <option value="untargeted" selected={!*targeted}>
                            { "Untargeted: away from the label" }
                        </option>
                        <option value="targeted" selected={*targeted}>
                            { "Targeted: toward a chosen digit" }
                        </option>
                    </select>
                </label>
                <label>{ "Target digit" }
                    <select onchange={on_target} disabled={!*targeted}>
                        { for target_options }
                    </select>
                </label>
                <label class="slider">{ format!("Epsilon (ε = {:.3})", epsilon_at(*step)) }
                    <input type="range" min="0" max={MAX_EPSILON.to_string()}
                        step={(MAX_EPSILON / STEPS as f32).to_string()}
                        value={epsilon_at(*step).to_string()} oninput={on_epsilon}
                        aria-label="Epsilon" />
                    { flip_marker(sweep_now) }
                </label>
            </div>
            <p class="muted">
                { "ε is in input units: pixels are mapped to [-1, 1], so ε = 0.2 here equals " }
                { "ε = 0.1 for pixels in [0, 1]. The targeted form climbs the gradient of the " }
                { "chosen digit's log-probability (the same sign as the probability's gradient). " }
                { "In the course's Julia code attack_label = 1 means digit 0: " }
                { "Julia counts from 1." }
            </p>
            { match (&*failure, subject) {
                (Some(message), Some(_)) => html! {
                    <p class="message error" role="alert">{ message.clone() }</p>
                },
                _ => html! {},
            } }
            { attacked_view(subject, clean_now, sweep_now, *step, form) }
            <div class="controls">
                <button type="button" class="secondary" onclick={on_smallest_fgsm}>
                    { "Find the smallest flipping ε (FGSM)" }
                </button>
                <label>{ "Iterative steps" }
                    <input type="number" min="2" max="100" value={(*steps_text).clone()}
                        oninput={on_steps} />
                </label>
                <button type="button" class="secondary" onclick={on_smallest_iterative}>
                    { "Find the smallest flipping ε (iterative)" }
                </button>
                <label>{ "Iterative step size" }
                    <input type="number" min="0.005" max="1" step="0.005"
                        value={(*step_size_text).clone()} oninput={on_step_size} />
                </label>
                <button type="button" class="secondary" onclick={on_iterative}>
                    { "Run the iterative attack at this ε" }
                </button>
            </div>
            if let Some((pixels, verdict)) = &*iterative_result {
                <div class="attack-layout">
                    <figure class="digit large">
                        <DigitImage pixels={pixels.clone()} label={verdict.clone()} />
                        <figcaption>{ "iterative attack" }</figcaption>
                    </figure>
                    <p id="iterative-verdict" role="status">{ verdict.clone() }</p>
                </div>
            }
            <p class="muted">
                { "The iterative attack (basic iterative method, PGD with sign steps) takes the " }
                { "given number of sign steps of the given size, projecting after each onto the " }
                { "ε-ball around the image and onto [-1, 1]; the smallest-ε search uses steps of " }
                { "2ε/steps." }
            </p>
            if let Some(text) = &*smallest {
                <p id="smallest-epsilon" role="status">{ text.clone() }</p>
            }
        </section>
    }
}

/// Judges the subject (stored in `clean` as soon as known, so the bars follow the drawing
/// within a frame), then computes the gradient sign and the predictions at every slider step.
/// Returns `None` when a newer request superseded this one.
async fn judge_and_sweep(
    runtime: &RuntimeHandle,
    subject: &Subject,
    form: AttackForm,
    clean: &UseStateHandle<Option<Clean>>,
    current: impl Fn() -> bool,
) -> Result<Option<Sweep>, String> {
    let prediction = predict(&runtime.model, &subject.pixels).await.map_err(|e| e.to_string())?;
    let prediction = prediction[0];
    if !current() {
        return Ok(None);
    }
    clean.set(Some(Clean { subject: subject.clone(), runtime: runtime.clone(), prediction }));
    yield_now().await;

    let device = runtime.model.device();
    let label = subject.label.unwrap_or(prediction.digit);
    let inputs = to_input(&subject.pixels);
    let x = inputs_to_tensor(inputs.clone(), 1, &device);
    let sign = read_f32(input_gradient(&runtime.model, x, form, &[label]).sign())
        .await
        .map_err(|e| e.to_string())?;
    if !current() {
        return Ok(None);
    }

    let mut batch = Vec::with_capacity((STEPS + 1) * IMAGE_PIXELS);
    for step in 0..=STEPS {
        batch.extend(perturbed(&inputs, &sign, epsilon_at(step)));
    }
    let batch = inputs_to_tensor(batch, STEPS + 1, &device);
    let at = predict_inputs(&runtime.model, batch).await.map_err(|e| e.to_string())?;
    let flip = (1..=STEPS).find(|&s| succeeded(form, label, at[s].digit));

    let key = (subject.clone(), runtime.clone(), form);
    Ok(Some(Sweep { key, label, inputs, sign, at, flip }))
}

/// `clamp(x + ε·sign, −1, 1)` on the host.
fn perturbed(inputs: &[f32], sign: &[f32], epsilon: f32) -> impl Iterator<Item = f32> {
    inputs.iter().zip(sign).map(move |(x, s)| (x + epsilon * s).clamp(-1.0, 1.0))
}

fn clean_view(subject: Option<&Subject>, clean: Option<&Clean>) -> Html {
    let Some(subject) = subject else {
        return html! { <p class="message" role="status">{ "Draw a digit." }</p> };
    };
    let Some(clean) = clean else {
        return html! { <p role="status">{ "Judging…" }</p> };
    };
    let p = clean.prediction;
    let truth = subject.label.map_or(String::new(), |l| format!(", true digit {l}"));
    html! {
        <>
            <figure class="digit large">
                <DigitImage pixels={subject.pixels.clone()}
                    label={format!("The network's 28x28 input: {}", subject.origin)} />
                <figcaption>{ format!("28x28 input ({})", subject.origin) }</figcaption>
            </figure>
            <p class="metric" id="clean-prediction" role="status">
                { format!("Prediction: {} ({:.1}%){truth}", p.digit, 100.0 * p.confidence()) }
            </p>
            <Bars probabilities={p.probabilities.to_vec()} label="Class probabilities" />
        </>
    }
}

fn flip_marker(sweep: Option<&Sweep>) -> Html {
    match sweep.and_then(|s| s.flip) {
        Some(flip) => html! {
            <span class="flip-marker" aria-hidden="true"
                style={format!("left: {:.2}%", 100.0 * flip as f32 / STEPS as f32)} />
        },
        None => html! {},
    }
}

fn attacked_view(
    subject: Option<&Subject>,
    clean: Option<&Clean>,
    sweep: Option<&Sweep>,
    step: usize,
    form: AttackForm,
) -> Html {
    let (Some(_), Some(clean)) = (subject, clean) else { return html! {} };
    let Some(sweep) = sweep else {
        return html! { <p role="status">{ "Computing the input gradient…" }</p> };
    };
    let epsilon = epsilon_at(step);
    let at = sweep.at[step];
    let attacked: Vec<f32> = perturbed(&sweep.inputs, &sweep.sign, epsilon).collect();
    // The perturbation δ = x' − x in [−ε, ε], shown as grey levels around mid-grey.
    let shades: Vec<u8> =
        attacked
            .iter()
            .zip(&sweep.inputs)
            .map(|(a, x)| {
                if epsilon > 0.0 { (127.5 + 127.5 * (a - x) / epsilon).round() as u8 } else { 127 }
            })
            .collect();
    let attacked = to_pixels(&attacked);

    let notice = match form {
        AttackForm::Targeted { target } if target == clean.prediction.digit => Some(format!(
            "The network already predicts {target}: choose another target digit to attack."
        )),
        _ if step == 0 => Some("ε = 0: the image is unchanged. Move the slider.".to_string()),
        _ => None,
    };
    let flipped = step > 0 && succeeded(form, sweep.label, at.digit);
    let verdict = format!(
        "At ε = {epsilon:.3}: predicted {} ({:.1}%){}",
        at.digit,
        100.0 * at.confidence(),
        if flipped { " — the attack succeeded" } else { "" }
    );
    let flip_text = match sweep.flip {
        Some(flip) => format!("The prediction flips at ε = {:.3}.", epsilon_at(flip)),
        None => format!("No flip up to ε = {MAX_EPSILON:.1}."),
    };
    let marked = match form {
        AttackForm::Targeted { target } => Some(target),
        AttackForm::Untargeted => None,
    };

    html! {
        <div class="attack-result">
            { notice.map_or(html! {}, |n| html! { <p class="message" role="status">{ n }</p> }) }
            <p class="metric" id="attack-verdict" role="status">{ verdict }</p>
            <p id="attack-flip" role="status">{ flip_text }</p>
            <div class="attack-layout">
                <figure class="digit large">
                    <DigitImage pixels={attacked}
                        label={format!("Attacked image at ε = {epsilon:.3}")} />
                    <figcaption>{ "attacked image" }</figcaption>
                </figure>
                <figure class="digit large">
                    <DigitImage pixels={shades}
                        label={format!(
                            "Perturbation at ε = {epsilon:.3}: dark adds ink, light removes it"
                        )} />
                    <figcaption>{ "perturbation (grey: none)" }</figcaption>
                </figure>
                <Bars probabilities={at.probabilities.to_vec()} marked={marked}
                    label={format!("Class probabilities at ε = {epsilon:.3}")} />
            </div>
        </div>
    }
}
