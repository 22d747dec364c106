//! The ten class probabilities as a bar chart made of HTML, readable by screen readers.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BarsProps {
    /// Probabilities of digits 0..9.
    pub probabilities: Vec<f32>,
    /// Accessible name of the chart.
    pub label: AttrValue,
    /// A digit to mark (the attack's target), if any.
    #[prop_or_default]
    pub marked: Option<u8>,
}

#[function_component(Bars)]
pub fn bars(props: &BarsProps) -> Html {
    let best = props
        .probabilities
        .iter()
        .enumerate()
        .fold(0, |best, (i, &p)| if p > props.probabilities[best] { i } else { best });
    let rows = props.probabilities.iter().enumerate().map(|(digit, &p)| {
        let percent = 100.0 * p;
        let class = classes!(
            "bar-row",
            (digit == best).then_some("best"),
            (props.marked == Some(digit as u8)).then_some("marked")
        );
        html! {
            <li class={class} aria-label={format!("digit {digit}: {percent:.1}%")}>
                <span class="bar-digit">{ digit }</span>
                <span class="bar-track"><span class="bar-fill"
                    style={format!("width: {:.2}%", percent.clamp(0.0, 100.0))} /></span>
                <span class="bar-value">{ format!("{percent:.1}%") }</span>
            </li>
        }
    });
    html! { <ol class="bars" aria-label={props.label.clone()}>{ for rows }</ol> }
}
