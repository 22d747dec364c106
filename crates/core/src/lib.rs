//! gradlab-core: the mathematics behind gradlab's labs, with no browser or UI types.
//!
//! Everything here runs on any Burn device (the pure-Rust `flex` CPU backend natively and in the
//! browser, WebGPU through `wgpu` in the browser), so the same code is tested natively and ships
//! unchanged in the page.
//!
//! Tensor reads that leave the device are `async` (`into_data_async`): a synchronous read panics
//! on WebGPU in the browser. Native callers drive them with a blocking executor.
//!
//! - [`data`]: MNIST in IDX form and seeded shuffling.
//! - [`drawing`]: a drawn digit turned into an MNIST input.
//! - [`models`]: the MNIST CNN and its weight file format.
//! - [`train`]: seeded training of the CNN.
//! - [`eval`]: batched prediction, accuracy and the confusion matrix.
//! - [`defend`]: adversarial training.
//! - [`attack`]: the Fast Gradient Sign attack, its iterative form and accuracy under attack.

pub mod attack;
pub mod data;
pub mod defend;
pub mod drawing;
pub mod eval;
pub mod fit;
pub mod forecast;
pub mod models;
pub mod rng;
pub mod train;

/// Reads a tensor back to the host as `f32` values, row-major.
///
/// # Errors
/// [`ReadError`] when the device fails to execute or the data is not `f32`.
pub async fn read_f32<const D: usize>(tensor: burn::Tensor<D>) -> Result<Vec<f32>, ReadError> {
    let data = tensor.into_data_async().await.map_err(|e| ReadError(e.to_string()))?;
    data.try_into_vec::<f32>().map_err(|e| ReadError(format!("{e:?}")))
}

/// A tensor could not be read back from its device.
#[derive(Debug, Clone, thiserror::Error)]
#[error("reading a tensor from the device failed: {0}")]
pub struct ReadError(pub String);
