//! Seeded training of a [`Forecaster`] on the training windows, with the loss on both spans
//! after every epoch, cancellation, and a stop at the first non-finite loss.

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::rnn::{CellKind, Forecaster, windows_tensor};
use super::{ForecastError, Prepared, Windows};
use crate::rng::SplitMix64;

/// Largest hidden size offered: beyond it a CPU epoch gets slow for no gain on these series.
pub const MAX_HIDDEN: usize = 256;

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The recurrent cell.
    pub cell: CellKind,
    /// Size of the hidden state.
    pub hidden: usize,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Windows per Adam step.
    pub batch_size: usize,
    /// Fixes the initial weights and the order of the windows.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            cell: CellKind::Elman,
            hidden: 32,
            epochs: 200,
            learning_rate: 0.01,
            batch_size: 32,
            seed: 7,
        }
    }
}

impl TrainConfig {
    /// Checks the settings a student types.
    ///
    /// # Errors
    /// [`ForecastError::Setting`] naming the setting and its range.
    pub fn check(&self) -> Result<(), ForecastError> {
        let fail = |s: &str| Err(ForecastError::Setting(s.to_string()));
        if !(1..=MAX_HIDDEN).contains(&self.hidden) {
            return fail("the hidden size must be from 1 to 256");
        }
        if self.epochs == 0 {
            return fail("train for at least 1 epoch");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return fail("the learning rate must be a positive number");
        }
        if self.batch_size == 0 {
            return fail("the batch size must be 1 or more");
        }
        Ok(())
    }
}

/// Mean squared error on both spans after one epoch, in transformed units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLoss {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Over the training windows.
    pub train: f32,
    /// Over the test windows.
    pub test: f32,
}

/// What the progress hook is told.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// A batch of epoch `epoch` is done (`done` of `total` batches).
    Batch { epoch: usize, done: usize, total: usize },
    /// An epoch is done and both losses are finite.
    Epoch(EpochLoss),
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// Every epoch ran.
    Finished,
    /// The hook asked to stop.
    Cancelled,
    /// The training loss became NaN or infinite in `epoch`; the model from before it is kept.
    Diverged { epoch: usize, loss: f32 },
}

/// A trained forecaster and how it got there.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The last model whose losses were finite, ready for inference.
    pub model: Forecaster,
    /// The losses of every completed epoch.
    pub history: Vec<EpochLoss>,
    /// Why training ended.
    pub stop: Stop,
}

impl Stop {
    /// A sentence for the student.
    pub fn describe(&self, epochs: usize) -> String {
        match self {
            Stop::Finished => format!("Trained for {epochs} epochs."),
            Stop::Cancelled => "Training cancelled; the model so far is kept.".to_string(),
            Stop::Diverged { epoch, loss } => {
                let kept = match epoch {
                    1 => "the initial model".to_string(),
                    _ => format!("the model from epoch {}", epoch - 1),
                };
                format!(
                    "Training diverged at epoch {epoch} (loss {loss}); {kept} is kept. Try a \
                     smaller learning rate or a scaled series."
                )
            }
        }
    }
}

/// Mean squared error of `model` on `windows` (one batch), as a one-element tensor.
fn mse(model: &Forecaster, windows: &Windows, lookback: usize, device: &Device) -> Tensor<1> {
    let inputs = windows_tensor(&windows.inputs, lookback, device);
    let targets =
        Tensor::<1>::from_data(TensorData::new(windows.targets.clone(), [windows.len()]), device);
    let predictions = model.forward(inputs).reshape([windows.len()]);
    (predictions - targets).powi_scalar(2).mean()
}

/// Mean squared error of an inference model on `windows`, read back to the host.
///
/// # Errors
/// [`ForecastError::Read`] when the device cannot be read.
pub async fn loss(
    model: &Forecaster,
    windows: &Windows,
    lookback: usize,
) -> Result<f32, ForecastError> {
    if windows.is_empty() {
        return Ok(0.0);
    }
    Ok(crate::read_f32(mse(model, windows, lookback, &model.device())).await?[0])
}

/// Trains a fresh forecaster on `prepared.train` with Adam (an autodiff `device` is required).
/// After each epoch both losses are measured with the inference model; `progress` is awaited
/// after every batch and epoch and stops training by returning `false`.
///
/// # Errors
/// [`ForecastError::Setting`] for bad settings, [`ForecastError::Read`] when the device fails.
pub async fn train<F, Fut>(
    prepared: &Prepared,
    config: &TrainConfig,
    device: &Device,
    mut progress: F,
) -> Result<Trained, ForecastError>
where
    F: FnMut(Progress) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    config.check()?;
    device.seed(config.seed);
    let mut model = Forecaster::init(config.cell, config.hidden, device);
    let mut optimizer: ModuleOptimizer = AdamConfig::new().init();
    let mut rng = SplitMix64::new(config.seed ^ 0xF0CA_57ED);
    let lookback = prepared.lookback;
    let batches = prepared.train.len().div_ceil(config.batch_size);
    let mut history = Vec::with_capacity(config.epochs);

    for epoch in 1..=config.epochs {
        let last_good = model.clone();
        let mut order: Vec<usize> = (0..prepared.train.len()).collect();
        rng.shuffle(&mut order);

        for (done, chunk) in order.chunks(config.batch_size).enumerate() {
            let batch = prepared.train.subset(chunk, lookback);
            let loss = mse(&model, &batch, lookback, device);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
            let total = batches;
            if !progress(Progress::Batch { epoch, done: done + 1, total }).await {
                return Ok(Trained { model: model.valid(), history, stop: Stop::Cancelled });
            }
        }

        let inference = model.valid();
        let train = loss(&inference, &prepared.train, lookback).await?;
        let test = loss(&inference, &prepared.test, lookback).await?;
        if !train.is_finite() || !test.is_finite() {
            let loss = if train.is_finite() { test } else { train };
            let stop = Stop::Diverged { epoch, loss };
            return Ok(Trained { model: last_good.valid(), history, stop });
        }
        let report = EpochLoss { epoch, train, test };
        history.push(report);
        if !progress(Progress::Epoch(report)).await {
            return Ok(Trained { model: inference, history, stop: Stop::Cancelled });
        }
    }
    Ok(Trained { model: model.valid(), history, stop: Stop::Finished })
}

/// A progress hook that never stops training.
pub fn no_progress(_: Progress) -> std::future::Ready<bool> {
    std::future::ready(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::PrepareConfig;
    use crate::forecast::transform::{Scaling, TransformConfig};

    fn sine_prepared() -> Prepared {
        let values: Vec<f64> = (0..120).map(|t| (t as f64 * 0.3).sin()).collect();
        let config = PrepareConfig {
            transform: TransformConfig { log: false, diff: None, scaling: Scaling::MinMax },
            lookback: 8,
            test_len: 20,
        };
        Prepared::new(&values, &config).unwrap()
    }

    #[test]
    fn the_training_loss_falls() {
        let prepared = sine_prepared();
        let config = TrainConfig { hidden: 8, epochs: 30, ..TrainConfig::default() };
        let device = Device::flex().autodiff();
        let trained = pollster::block_on(train(&prepared, &config, &device, no_progress)).unwrap();
        assert_eq!(trained.stop, Stop::Finished);
        assert_eq!(trained.history.len(), 30);
        let (first, last) = (trained.history[0].train, trained.history[29].train);
        assert!(last < first / 5.0, "{first} → {last}");
    }

    #[test]
    fn a_huge_learning_rate_diverges_and_keeps_the_last_good_model() {
        let prepared = sine_prepared();
        let config =
            TrainConfig { hidden: 4, epochs: 5, learning_rate: 1e30, ..TrainConfig::default() };
        let device = Device::flex().autodiff();
        let trained = pollster::block_on(train(&prepared, &config, &device, no_progress)).unwrap();
        let Stop::Diverged { epoch, loss } = trained.stop else {
            panic!("expected divergence, got {:?}", trained.stop);
        };
        assert!(!loss.is_finite());
        assert_eq!(trained.history.len(), epoch - 1);
        // The kept model still predicts finite values.
        let kept = pollster::block_on(super::loss(&trained.model, &prepared.test, 8)).unwrap();
        assert!(kept.is_finite());
    }

    #[test]
    fn training_can_be_cancelled() {
        let prepared = sine_prepared();
        let config = TrainConfig { hidden: 4, epochs: 50, ..TrainConfig::default() };
        let device = Device::flex().autodiff();
        let mut epochs = 0;
        let hook = |p: Progress| {
            if matches!(p, Progress::Epoch(_)) {
                epochs += 1;
            }
            std::future::ready(epochs < 3)
        };
        let trained = pollster::block_on(train(&prepared, &config, &device, hook)).unwrap();
        assert_eq!(trained.stop, Stop::Cancelled);
        assert_eq!(trained.history.len(), 3);
    }
}
