//! Adversarial training: fine-tuning the CNN on a mix of clean and FGSM images.
//!
//! The loss of a batch is `α·CE(x) + (1 − α)·CE(x_FGSM)`, where `x_FGSM` is the untargeted FGSM
//! image at ε for the current weights (the attack is recomputed at every step, so the network
//! keeps facing attacks on itself). α = 0.5 by default.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

use crate::ReadError;
use crate::attack::{AttackForm, fgsm};
use crate::data::mnist::{Mnist, to_input};
use crate::models::cnn::{Cnn, inputs_to_tensor};
use crate::rng::SplitMix64;
use crate::train::cross_entropy;

/// Settings of adversarial training.
#[derive(Debug, Clone)]
pub struct AdversarialConfig {
    /// FGSM step in input units ([-1, 1]).
    pub epsilon: f32,
    /// Weight of the clean loss; `1 − alpha` weighs the adversarial loss.
    pub alpha: f32,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for AdversarialConfig {
    fn default() -> Self {
        Self { epsilon: 0.2, alpha: 0.5, epochs: 1, batch_size: 64, learning_rate: 5e-4, seed: 7 }
    }
}

/// One step of adversarial training on `batch`; returns the model and the batch loss.
pub fn adversarial_step(
    model: Cnn,
    optimizer: &mut burn::optim::ModuleOptimizer,
    batch: &Mnist,
    config: &AdversarialConfig,
) -> (Cnn, Tensor<1>) {
    let device = model.device();
    let clean = inputs_to_tensor(to_input(&batch.pixels), batch.len(), &device);
    let attacked =
        fgsm(&model, clean.clone(), AttackForm::Untargeted, &batch.labels, config.epsilon).detach();

    let clean_loss = cross_entropy(model.forward(clean), &batch.labels);
    let attacked_loss = cross_entropy(model.forward(attacked), &batch.labels);
    let loss = clean_loss * config.alpha + attacked_loss * (1.0 - config.alpha);

    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(config.learning_rate, model, grads);
    (model, loss.detach())
}

/// Fine-tunes `model` (its weights must live on an autodiff device) on `data`. After each batch
/// `progress(done, total, mean loss so far)` is awaited; answering `false` cancels (`None`).
pub async fn adversarial_training<F, Fut>(
    mut model: Cnn,
    data: &Mnist,
    config: &AdversarialConfig,
    mut progress: F,
) -> Result<Option<Cnn>, ReadError>
where
    F: FnMut(usize, usize, f32) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut optimizer = AdamConfig::new().init();
    let mut rng = SplitMix64::new(config.seed);
    let total = config.epochs * data.len().div_ceil(config.batch_size.max(1));
    let mut done = 0;
    for _ in 0..config.epochs {
        let mut order: Vec<usize> = (0..data.len()).collect();
        rng.shuffle(&mut order);
        let mut losses = Vec::new();
        for chunk in order.chunks(config.batch_size.max(1)) {
            let (next, loss) = adversarial_step(model, &mut optimizer, &data.subset(chunk), config);
            model = next;
            losses.push(loss);
            done += 1;
            if done % 20 == 0 || done == total {
                let mean = crate::read_f32(Tensor::cat(losses.clone(), 0).mean()).await?[0];
                if !progress(done, total, mean).await {
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(model))
}
