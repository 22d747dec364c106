//! Small reusable views.

pub mod bars;
pub mod confusion;
pub mod digit;
pub mod drawpad;
pub mod inputs;
pub mod plot;
