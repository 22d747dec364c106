//! The confusion matrix as a table: rows are true digits, columns predicted digits.

use yew::prelude::*;

use gradlab_core::data::mnist::NUM_CLASSES;
use gradlab_core::eval::Confusion;

#[derive(Properties, PartialEq)]
pub struct ConfusionProps {
    pub confusion: Confusion,
}

#[function_component(ConfusionTable)]
pub fn confusion_table(props: &ConfusionProps) -> Html {
    let header = (0..NUM_CLASSES).map(|d| html! { <th scope="col">{ d }</th> });
    let rows = (0..NUM_CLASSES).map(|truth| {
        let cells = (0..NUM_CLASSES).map(|guess| {
            let count = props.confusion.counts[truth][guess];
            let class = match (truth == guess, count) {
                (true, _) => "diag",
                (false, 0) => "",
                (false, _) => "off",
            };
            html! { <td class={class}>{ count }</td> }
        });
        html! { <tr><th scope="row">{ truth }</th>{ for cells }</tr> }
    });

    html! {
        <table class="confusion" aria-label="Confusion matrix">
            <caption class="muted">{ "Rows: true digit. Columns: predicted digit." }</caption>
            <thead><tr><th></th>{ for header }</tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}
