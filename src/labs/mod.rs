//! One module per lab page.

pub mod attack;
pub mod fit;
pub mod forecast;
