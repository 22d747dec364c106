//! Seeded training of the CNN on MNIST.

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::ReadError;
use crate::data::mnist::{Mnist, NUM_CLASSES};
use crate::eval::{evaluate, no_progress};
use crate::models::cnn::{Cnn, images_to_tensor};
use crate::rng::SplitMix64;

/// Settings of `gradlab train-cnn`; the defaults produce the committed weights.
#[derive(Debug, Clone)]
pub struct CnnTrainingConfig {
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate in the first epoch.
    pub learning_rate: f64,
    /// The learning rate is multiplied by this after every epoch.
    pub decay: f64,
    /// Training images held out for validation (taken after a seeded shuffle).
    pub validation: usize,
    /// Fixes the initial weights, the split and the order of batches.
    pub seed: u64,
}

impl Default for CnnTrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 8,
            batch_size: 64,
            learning_rate: 2e-3,
            decay: 0.7,
            validation: 5_000,
            seed: 2024,
        }
    }
}

/// What one epoch achieved.
#[derive(Debug, Clone, Copy)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's batches.
    pub train_loss: f32,
    /// Accuracy by argmax on the held-out images.
    pub validation_accuracy: f64,
}

/// Mean cross-entropy of `logits` `[N, 10]` against digit `labels`, through log-softmax so that
/// no probability underflows. Returns a one-element tensor.
pub fn cross_entropy(logits: Tensor<2>, labels: &[u8]) -> Tensor<1> {
    let targets = one_hot(labels, &logits.device());
    let log_probs = log_softmax(logits, 1);
    (log_probs * targets).sum_dim(1).mean().neg()
}

/// One-hot rows `[N, 10]` for digit labels.
pub fn one_hot(labels: &[u8], device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * NUM_CLASSES];
    for (row, &label) in labels.iter().enumerate() {
        values[row * NUM_CLASSES + label as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), NUM_CLASSES]), device)
}

/// Splits `0..n` into (training, validation) index lists after a seeded shuffle.
pub fn split_indices(n: usize, validation: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let validation = validation.min(n);
    let held_out = order.split_off(n - validation);
    (order, held_out)
}

/// One Adam step on a batch: returns the updated model and the batch's loss (still on the
/// device, so that the caller decides when to pay for reading it).
pub fn train_step(
    model: Cnn,
    optimizer: &mut ModuleOptimizer,
    batch: &Mnist,
    learning_rate: f64,
    device: &Device,
) -> (Cnn, Tensor<1>) {
    let logits = model.forward(images_to_tensor(&batch.pixels, device));
    let loss = cross_entropy(logits, &batch.labels);

    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(learning_rate, model, grads);
    (model, loss.detach())
}

/// Trains a fresh CNN on `data` (an autodiff `device` is required), calling `on_epoch` after
/// each epoch. Returns the model after the last epoch.
///
/// # Errors
/// [`ReadError`] when a loss or a prediction cannot be read from the device.
pub async fn train_cnn(
    data: &Mnist,
    config: &CnnTrainingConfig,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Cnn, ReadError> {
    device.seed(config.seed);
    let mut model = Cnn::init(device);
    let mut optimizer = AdamConfig::new().init();
    let (train, validation) = split_indices(data.len(), config.validation, config.seed);
    let validation = data.subset(&validation);
    let mut rng = SplitMix64::new(config.seed ^ 0x5eed);

    for epoch in 1..=config.epochs {
        let learning_rate = config.learning_rate * config.decay.powi(epoch as i32 - 1);
        let mut order = train.clone();
        rng.shuffle(&mut order);

        let mut losses = Vec::new();
        for chunk in order.chunks(config.batch_size) {
            let batch = data.subset(chunk);
            let (next, loss) = train_step(model, &mut optimizer, &batch, learning_rate, device);
            model = next;
            losses.push(loss);
        }
        let train_loss = crate::read_f32(Tensor::cat(losses, 0).mean()).await?[0];

        let confusion = evaluate(&model.valid(), &validation, 1000, no_progress).await?;
        on_epoch(&EpochReport {
            epoch,
            train_loss,
            validation_accuracy: confusion.map_or(0.0, |c| c.accuracy()),
        });
    }
    Ok(model)
}
