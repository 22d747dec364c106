//! Models: the MNIST CNN and the file format of its weights.

pub mod cnn;
pub mod weights;

pub use cnn::{Cnn, CnnTrace};
pub use weights::{CnnWeights, HostTensor, WeightsError};
