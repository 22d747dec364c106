//! Models: the MNIST CNN, the file format of its weights and the import of Flux models.

pub mod cnn;
pub mod flux;
pub mod weights;

pub use cnn::{Cnn, CnnTrace, InputDomain};
pub use flux::{Domain, FluxError, FluxModel, ImportOptions, ImportSummary, ModelFile};
pub use weights::{CnnWeights, HostTensor, WeightsError};
