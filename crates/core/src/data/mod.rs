//! Data sets: MNIST in the original IDX form.

pub mod mnist;
