//! The Attack lab: judge the pretrained CNN, draw or pick a digit, watch the Fast Gradient Sign
//! attack flip it as epsilon grows.

mod curve;
mod defend;
mod fgsm;
mod judge;
mod model;

use yew::prelude::*;

use crate::runtime::{ModelChoice, RuntimeHandle};
use curve::CurveView;
use defend::DefendView;
use fgsm::AttackView;
use judge::{JudgeView, thousands};
use model::ModelPanel;

#[derive(Properties, PartialEq)]
pub struct AttackProps {
    pub runtime: RuntimeHandle,
    /// Makes another model the active one for every view.
    pub on_model: Callback<ModelChoice>,
}

/// The image under attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// 784 pixels, 0 = background, 255 = ink.
    pub pixels: Vec<u8>,
    /// The true digit, for test images; drawings have none (the prediction stands in for it).
    pub label: Option<u8>,
    /// What it is, e.g. "test image 42" or "your drawing".
    pub origin: String,
}

#[function_component(AttackLab)]
pub fn attack_lab(props: &AttackProps) -> Html {
    let subject = use_state(|| None::<Subject>);
    let runtime = props.runtime.clone();

    let on_pick = {
        let (subject, runtime) = (subject.clone(), runtime.clone());
        Callback::from(move |index: usize| {
            subject.set(Some(Subject {
                pixels: runtime.test.image(index).to_vec(),
                label: Some(runtime.test.labels[index]),
                origin: format!("test image {index}"),
            }));
        })
    };
    let on_drawing = {
        let subject = subject.clone();
        Callback::from(move |drawn: Option<Subject>| subject.set(drawn))
    };

    html! {
        <>
            <ModelPanel runtime={runtime.clone()} on_model={props.on_model.clone()} />
            <p class="muted">
                { format!(
                    "Active model: {} ({} parameters), running on {}.",
                    runtime.choice.name,
                    thousands(runtime.weights().num_params()),
                    runtime.backend.label()
                ) }
            </p>
            <AttackView runtime={runtime.clone()} subject={(*subject).clone()}
                on_drawing={on_drawing} />
            <CurveView runtime={runtime.clone()} />
            <JudgeView runtime={runtime.clone()} on_pick={on_pick} />
            <DefendView runtime={runtime} on_model={props.on_model.clone()} />
            { defences() }
        </>
    }
}

/// The families of defence against adversarial examples, one sentence each.
fn defences() -> Html {
    html! {
        <section class="panel" aria-labelledby="defences-title">
            <h2 id="defences-title">{ "Defences" }</h2>
            <ul>
                <li>
                    <strong>{ "Adversarial training: " }</strong>
                    { "train on attacked images as well as clean ones, here with the loss " }
                    { "α·CE(x) + (1 − α)·CE(x_FGSM); `gradlab adv-train` runs it (see the README " }
                    { "for its figures: at ε = 0.2 the error under FGSM halves)." }
                </li>
                <li>
                    <strong>{ "Input transformations: " }</strong>
                    { "denoise, quantise or compress the input before the network sees it, " }
                    { "hoping to wash the perturbation out; adaptive attacks often get through." }
                </li>
                <li>
                    <strong>{ "Detection: " }</strong>
                    { "a second model or a statistical test flags inputs that look attacked and " }
                    { "refuses them instead of classifying them." }
                </li>
                <li>
                    <strong>{ "Certified training: " }</strong>
                    { "train so that the prediction provably cannot change within a given ε " }
                    { "(for example by interval bound propagation), at a cost in clean accuracy." }
                </li>
            </ul>
        </section>
    }
}
