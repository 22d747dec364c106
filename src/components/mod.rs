//! Small reusable views.

pub mod confusion;
pub mod digit;
