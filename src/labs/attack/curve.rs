//! Accuracy against epsilon, for the untargeted and the targeted attack, on a random sample of
//! test images or on all 10,000; and a gallery of the images that flipped at a chosen epsilon.

use std::cell::Cell;
use std::rc::Rc;

use gradlab_core::attack::{AttackForm, accuracy_under_attack, fgsm};
use gradlab_core::data::mnist::{IMAGE_PIXELS, Mnist, to_input, to_pixels};
use gradlab_core::eval::predict_inputs;
use gradlab_core::models::cnn::inputs_to_tensor;
use gradlab_core::read_f32;
use yew::prelude::*;

use crate::browser::yield_now;
use crate::components::digit::DigitImage;
use crate::components::inputs::text_setter;
use crate::components::plot::{LineChart, Mark, Series, colors};
use crate::runtime::RuntimeHandle;

/// Images per batch: the gradient is computed once per batch and reused for every epsilon.
const BATCH: usize = 50;
/// Size of the random sample.
const SAMPLE: usize = 500;
/// Most images the gallery shows.
const GALLERY: usize = 24;

#[derive(Properties, PartialEq)]
pub struct CurveProps {
    pub runtime: RuntimeHandle,
}

/// One finished measurement.
#[derive(Clone, PartialEq)]
struct Curves {
    epsilons: Vec<f32>,
    untargeted: Vec<f64>,
    targeted: Vec<f64>,
    target: u8,
    images: usize,
}

#[derive(Clone, PartialEq)]
enum Run {
    Idle,
    Running { done: usize, total: usize },
    Cancelled,
    Failed(String),
    Done(Curves),
}

/// A flipped image: original and attacked pixels with both predictions.
#[derive(Clone, PartialEq)]
struct Flipped {
    index: usize,
    label: u8,
    original: Vec<u8>,
    attacked: Vec<u8>,
    predicted: u8,
}

#[function_component(CurveView)]
pub fn curve_view(props: &CurveProps) -> Html {
    let runtime = props.runtime.clone();
    let grid_text = use_state(|| "0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5".to_string());
    let all = use_state(|| false);
    let target = use_state(|| 0u8);
    let run = use_state(|| Run::Idle);
    let message = use_state(|| None::<String>);
    let gallery_epsilon = use_state(|| 0.2f32);
    let gallery = use_state(|| None::<Result<Vec<Flipped>, String>>);
    let cancel = use_memo((), |_| Cell::new(false));

    // Callbacks
    let on_grid = text_setter(&grid_text);
    let on_set = {
        let all = all.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            all.set(select.value() == "all");
        })
    };
    let on_target = {
        let target = target.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            target.set(select.value().parse().unwrap_or(0));
        })
    };
    let on_run = {
        let (runtime, run, message, cancel) =
            (runtime.clone(), run.clone(), message.clone(), cancel.clone());
        let (grid_text, all, target) = (grid_text.clone(), all.clone(), target.clone());
        Callback::from(move |_: MouseEvent| match parse_grid(&grid_text) {
            Err(text) => message.set(Some(text)),
            Ok(epsilons) => {
                message.set(None);
                cancel.set(false);
                let set = Rc::new(images(&runtime.test, *all));
                let (runtime, run, cancel) = (runtime.clone(), run.clone(), cancel.clone());
                let target = *target;
                wasm_bindgen_futures::spawn_local(async move {
                    let result = measure(&runtime, &set, epsilons, target, &run, &cancel).await;
                    run.set(result);
                });
            }
        })
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_: MouseEvent| cancel.set(true))
    };
    let on_gallery_epsilon = {
        let gallery_epsilon = gallery_epsilon.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            gallery_epsilon.set(select.value().parse().unwrap_or(0.0));
        })
    };
    let on_gallery = {
        let (runtime, all, gallery, gallery_epsilon) =
            (runtime.clone(), all.clone(), gallery.clone(), gallery_epsilon.clone());
        Callback::from(move |_: MouseEvent| {
            let set = images(&runtime.test, *all);
            let (runtime, gallery, epsilon) = (runtime.clone(), gallery.clone(), *gallery_epsilon);
            wasm_bindgen_futures::spawn_local(async move {
                gallery.set(Some(flipped_images(&runtime, &set, epsilon).await));
            });
        })
    };

    // Derived values
    let running = matches!(*run, Run::Running { .. });
    let targets = (0..10u8).map(|k| {
        html! {
            <option value={k.to_string()} selected={k == *target}>{ k }</option>
        }
    });

    html! {
        <section class="panel" aria-labelledby="curve-title">
            <h2 id="curve-title">{ "Accuracy against epsilon" }</h2>
            <div class="controls">
                <label>{ "Epsilons (comma-separated)" }
                    <input type="text" value={(*grid_text).clone()} oninput={on_grid} size="36" />
                </label>
                <label>{ "Images" }
                    <select onchange={on_set}>
                        <option value="sample" selected={!*all}>
                            { format!("{SAMPLE} random test images (seed 1)") }
                        </option>
                        <option value="all" selected={*all}>{ "All 10,000 test images" }</option>
                    </select>
                </label>
                <label>{ "Targeted toward digit" }
                    <select onchange={on_target}>{ for targets }</select>
                </label>
                <button type="button" onclick={on_run} disabled={running}>
                    { "Measure accuracy against epsilon" }
                </button>
                <button type="button" class="secondary" onclick={on_cancel} disabled={!running}>
                    { "Cancel measurement" }
                </button>
            </div>
            if let Some(text) = &*message {
                <p class="message" role="alert">{ text.clone() }</p>
            }
            { run_view(&run) }
            if let Run::Done(curves) = &*run {
                <div class="controls">
                    <label>{ "Show flipped images at epsilon" }
                        <select onchange={on_gallery_epsilon}>
                            { for curves.epsilons.iter().filter(|e| **e > 0.0).map(|e| html! {
                                <option value={e.to_string()}
                                    selected={*e == *gallery_epsilon}>{ e }</option>
                            }) }
                        </select>
                    </label>
                    <button type="button" class="secondary" onclick={on_gallery}>
                        { "Show flipped images" }
                    </button>
                </div>
            }
            { gallery_view(gallery.as_ref()) }
        </section>
    }
}

/// The images measured: a seeded random sample, or the whole test set.
fn images(test: &Mnist, all: bool) -> Mnist {
    if all { test.clone() } else { test.random_subset(SAMPLE, 1) }
}

/// Reads a grid of epsilons: numbers in [0, 1], separated by commas, at least one.
fn parse_grid(text: &str) -> Result<Vec<f32>, String> {
    let mut epsilons = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.parse::<f32>() {
            Ok(e) if (0.0..=1.0).contains(&e) => epsilons.push(e),
            _ => return Err(format!("'{item}' is not an epsilon between 0 and 1.")),
        }
    }
    if epsilons.is_empty() {
        return Err("Give at least one epsilon, for example 0, 0.1, 0.2.".into());
    }
    epsilons.sort_by(f32::total_cmp);
    epsilons.dedup();
    Ok(epsilons)
}

async fn measure(
    runtime: &RuntimeHandle,
    set: &Mnist,
    epsilons: Vec<f32>,
    target: u8,
    run: &UseStateHandle<Run>,
    cancel: &Rc<Cell<bool>>,
) -> Run {
    let total = 2 * set.len();
    run.set(Run::Running { done: 0, total });
    let mut curves = Vec::new();
    for (pass, form) in
        [AttackForm::Untargeted, AttackForm::Targeted { target }].into_iter().enumerate()
    {
        let progress = |done: usize, _: usize| {
            let (run, cancel) = (run.clone(), cancel.clone());
            async move {
                run.set(Run::Running { done: pass * set.len() + done, total });
                yield_now().await;
                !cancel.get()
            }
        };
        match accuracy_under_attack(&runtime.model, set, form, &epsilons, BATCH, progress).await {
            Ok(Some(curve)) => curves.push(curve),
            Ok(None) => return Run::Cancelled,
            Err(e) => return Run::Failed(e.to_string()),
        }
    }
    let targeted = curves.pop().expect("two passes");
    let untargeted = curves.pop().expect("two passes");
    Run::Done(Curves { epsilons, untargeted, targeted, target, images: set.len() })
}

fn run_view(run: &Run) -> Html {
    match run {
        Run::Idle => html! {
            <p class="muted">
                { "One gradient per image and attack, then one forward pass per epsilon." }
            </p>
        },
        Run::Running { done, total } => html! {
            <p role="status">
                <progress aria-label="Measurement progress" max={total.to_string()}
                    value={done.to_string()} />
                { format!(" {done} of {total} image-attacks") }
            </p>
        },
        Run::Cancelled => {
            html! { <p class="message" role="status">{ "Measurement cancelled." }</p> }
        }
        Run::Failed(e) => html! {
            <p class="message error" role="alert">{ format!("Measurement failed: {e}") }</p>
        },
        Run::Done(curves) => curves_view(curves),
    }
}

fn curves_view(curves: &Curves) -> Html {
    let points = |values: &[f64]| -> Vec<(f64, f64)> {
        curves.epsilons.iter().zip(values).map(|(&e, &a)| (e as f64, a)).collect()
    };
    let series = Rc::new(vec![
        Series::new("untargeted FGSM", colors::TRAIN, Mark::Line(points(&curves.untargeted))),
        Series::new("", colors::TRAIN, Mark::Points(points(&curves.untargeted))),
        Series::new(
            format!("targeted toward {}", curves.target),
            colors::VALIDATION,
            Mark::Line(points(&curves.targeted)),
        ),
        Series::new("", colors::VALIDATION, Mark::Points(points(&curves.targeted))),
    ]);
    let rows = curves.epsilons.iter().enumerate().map(|(i, e)| {
        html! {
            <tr>
                <td>{ format!("{e}") }</td>
                <td>{ format!("{:.4}", curves.untargeted[i]) }</td>
                <td>{ format!("{:.4}", curves.targeted[i]) }</td>
            </tr>
        }
    });
    html! {
        <div class="attack-layout">
            <LineChart series={series} x_label="epsilon (input units)" y_label="accuracy"
                aria_label={format!(
                    "Accuracy against epsilon on {} images: {} points per curve",
                    curves.images,
                    curves.epsilons.len()
                )} />
            <table class="confusion" aria-label="Accuracy against epsilon">
                <thead><tr>
                    <th scope="col">{ "ε" }</th>
                    <th scope="col">{ "untargeted" }</th>
                    <th scope="col">{ format!("targeted → {}", curves.target) }</th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </div>
    }
}

/// Up to [`GALLERY`] images of `set` that the untargeted attack at `epsilon` moves away from
/// a correct prediction.
async fn flipped_images(
    runtime: &RuntimeHandle,
    set: &Mnist,
    epsilon: f32,
) -> Result<Vec<Flipped>, String> {
    let device = runtime.model.device();
    let mut found = Vec::new();
    for start in (0..set.len()).step_by(BATCH) {
        let end = (start + BATCH).min(set.len());
        let labels = &set.labels[start..end];
        let pixels = &set.pixels[start * IMAGE_PIXELS..end * IMAGE_PIXELS];
        let x = inputs_to_tensor(to_input(pixels), end - start, &device);

        let clean = predict_inputs(&runtime.model, x.clone()).await.map_err(|e| e.to_string())?;
        let attacked = fgsm(&runtime.model, x, AttackForm::Untargeted, labels, epsilon);
        let after =
            predict_inputs(&runtime.model, attacked.clone()).await.map_err(|e| e.to_string())?;
        let attacked = read_f32(attacked).await.map_err(|e| e.to_string())?;
        for i in 0..end - start {
            if clean[i].digit == labels[i] && after[i].digit != labels[i] {
                let values = &attacked[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
                found.push(Flipped {
                    index: start + i,
                    label: labels[i],
                    original: set.image(start + i).to_vec(),
                    attacked: to_pixels(values),
                    predicted: after[i].digit,
                });
            }
        }
        if found.len() >= GALLERY {
            found.truncate(GALLERY);
            break;
        }
        yield_now().await;
    }
    Ok(found)
}

fn gallery_view(gallery: Option<&Result<Vec<Flipped>, String>>) -> Html {
    match gallery {
        None => html! {},
        Some(Err(e)) => html! { <p class="message error" role="alert">{ e.clone() }</p> },
        Some(Ok(flipped)) if flipped.is_empty() => html! {
            <p class="message" role="status">{ "No correctly classified image flipped." }</p>
        },
        Some(Ok(flipped)) => html! {
            <div class="grid" role="list" aria-label="Flipped images">
                { for flipped.iter().map(|f| html! {
                    <div role="listitem" class="flip-pair">
                        <DigitImage pixels={f.original.clone()}
                            label={format!("Image {}: true {}, predicted {}",
                                f.index, f.label, f.label)} />
                        <DigitImage pixels={f.attacked.clone()}
                            label={format!("Image {} attacked: predicted {}",
                                f.index, f.predicted)} />
                        <span>{ format!("{} → {}", f.label, f.predicted) }</span>
                    </div>
                }) }
            </div>
        },
    }
}
