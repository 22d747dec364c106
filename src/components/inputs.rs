//! Callbacks that copy what the student types into a state, as typed: parsing and its
//! messages happen when the value is used, so a half-typed number is never lost.

use yew::prelude::*;

/// An `oninput` callback that stores an `<input>`'s text in `state`.
pub fn text_setter(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |event: InputEvent| {
        let input: web_sys::HtmlInputElement = event.target_unchecked_into();
        state.set(input.value());
    })
}
