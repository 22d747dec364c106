//! Training the MLP, one epoch at a time, with an async hook after every epoch.
//!
//! Each epoch ends with a single read from the device: the training loss, the validation
//! loss, the penalty and (when asked) the fitted curve are concatenated into one tensor, so the
//! page pays for one transfer per epoch and never one per step.

use std::future::Future;

use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig, momentum::MomentumConfig,
};
use burn::prelude::*;

use super::FitError;
use super::data::Dataset;
use super::mlp::{Activation, Mlp, Penalty, column, mse};
use crate::rng::SplitMix64;

/// The optimiser and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// Adam with Burn's defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-5).
    Adam,
    /// Stochastic gradient descent with heavy-ball momentum `β` in [0, 1) (no dampening):
    /// `v ← β·v + g`, `w ← w − η·v`.
    Sgd {
        /// The momentum factor β; 0 is plain gradient descent.
        momentum: f64,
    },
}

impl OptimizerKind {
    fn init(self) -> ModuleOptimizer {
        match self {
            OptimizerKind::Adam => AdamConfig::new().init(),
            OptimizerKind::Sgd { momentum } if momentum > 0.0 => SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new().with_momentum(momentum).with_dampening(0.0),
                ))
                .init(),
            OptimizerKind::Sgd { .. } => SgdConfig::new().init(),
        }
    }
}

/// Settings of one training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Hidden units (ignored when training continues from a given model).
    pub hidden: usize,
    /// The non-linearity (idem).
    pub activation: Activation,
    /// Adam or SGD with momentum.
    pub optimizer: OptimizerKind,
    /// The step size η.
    pub learning_rate: f64,
    /// Points per step; `None` is the full batch (one step per epoch).
    pub batch_size: Option<usize>,
    /// Passes over the training points.
    pub epochs: usize,
    /// Fixes the initial weights and the order of mini-batches.
    pub seed: u64,
    /// An L2 or L1 penalty added to the loss; `None` trains on the data loss alone.
    pub penalty: Option<Penalty>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            hidden: 16,
            activation: Activation::Tanh,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            batch_size: None,
            epochs: 500,
            seed: 1,
            penalty: None,
        }
    }
}

/// Largest hidden size the lab accepts.
pub const MAX_HIDDEN: usize = 4096;

impl TrainConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`FitError::Setting`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), FitError> {
        let fail = |message: String| Err(FitError::Setting(message));
        if !(1..=MAX_HIDDEN).contains(&self.hidden) {
            return fail(format!("the hidden size must be 1 to {MAX_HIDDEN}"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return fail("the learning rate must be a number > 0".into());
        }
        if self.epochs == 0 {
            return fail("train for at least one epoch".into());
        }
        if self.batch_size == Some(0) {
            return fail("the batch size must be at least 1".into());
        }
        if let OptimizerKind::Sgd { momentum } = self.optimizer
            && !(0.0..1.0).contains(&momentum)
        {
            return fail("the momentum must be in [0, 1)".into());
        }
        if let Some(penalty) = self.penalty
            && !(penalty.lambda.is_finite() && penalty.lambda >= 0.0)
        {
            return fail("λ must be a number ≥ 0".into());
        }
        Ok(())
    }
}

/// Losses at the end of one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLosses {
    /// 1-based epoch number, counted across continued runs.
    pub epoch: usize,
    /// Mean squared error on the training points, averaged over the epoch's steps (each
    /// measured before its update, as is usual).
    pub train: f32,
    /// Mean squared error on the validation points after the epoch.
    pub validation: f32,
    /// The penalty term `λ·Σw²` or `λ·Σ|w|` after the epoch (0 without one).
    pub penalty: f32,
}

/// What the hook after each epoch receives.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// The epoch's losses.
    pub losses: EpochLosses,
    /// The network's output on the `curve_x` grid passed to [`train`] (empty when none).
    pub curve: Vec<f32>,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// All epochs ran.
    Finished,
    /// The hook asked to stop after this epoch.
    Cancelled,
    /// A loss became NaN or infinite in this epoch; the model of the epoch before is kept.
    Diverged {
        /// The epoch whose loss was not finite.
        epoch: usize,
    },
}

/// The model at its lowest validation loss.
#[derive(Debug, Clone)]
pub struct BestModel {
    /// The epoch reached.
    pub epoch: usize,
    /// Its validation loss.
    pub validation_loss: f32,
    /// The network then.
    pub model: Mlp,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The last model whose losses were all finite.
    pub model: Mlp,
    /// The model at the epoch of lowest validation loss (`None` if no epoch completed).
    pub best: Option<BestModel>,
    /// Losses of every completed epoch.
    pub history: Vec<EpochLosses>,
    /// How the run ended.
    pub stop: Stop,
}

/// Where a run starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new network, initialised from `config.seed`.
    Fresh,
    /// Continue from `model`, numbering epochs from `epochs_done + 1` (the optimiser starts
    /// afresh). The model must already live on the training device: moving it with
    /// `to_device` would record the move in the autodiff graph, which the first backward pass
    /// consumes.
    From {
        /// The network to continue (boxed: a module is large next to `Fresh`).
        model: Box<Mlp>,
        /// Epochs it has already had.
        epochs_done: usize,
    },
}

/// The host-side data on the device, as `[N, 1]` columns.
struct DeviceData {
    train_x: Tensor<2>,
    train_y: Tensor<2>,
    validation_x: Tensor<2>,
    validation_y: Tensor<2>,
    curve_x: Option<Tensor<2>>,
}

/// Trains on `data` (an autodiff `device` is required). After each epoch `on_epoch` is awaited
/// with the losses and the fitted curve on `curve_x`; training stops early, keeping what it has,
/// when the hook answers `false`.
///
/// # Errors
/// [`FitError::Setting`] for invalid settings, [`FitError::Read`] when the device fails.
pub async fn train<F, Fut>(
    data: &Dataset,
    config: &TrainConfig,
    start: Start,
    curve_x: &[f32],
    device: &Device,
    mut on_epoch: F,
) -> Result<TrainOutcome, FitError>
where
    F: FnMut(EpochReport) -> Fut,
    Fut: Future<Output = bool>,
{
    config.validate()?;
    if data.num_train() == 0 || data.num_validation() == 0 {
        return Err(FitError::Setting("the data set has no training or validation points".into()));
    }
    let (mut model, epochs_done) = match start {
        Start::Fresh => {
            device.seed(config.seed);
            (Mlp::init(config.hidden, config.activation, device), 0)
        }
        Start::From { model, epochs_done } => (*model, epochs_done),
    };
    let tensors = DeviceData {
        train_x: column(&data.train_x, device),
        train_y: column(&data.train_y, device),
        validation_x: column(&data.validation_x, device),
        validation_y: column(&data.validation_y, device),
        curve_x: (!curve_x.is_empty()).then(|| column(curve_x, device)),
    };
    let n = data.num_train();
    let batch_size = config.batch_size.unwrap_or(n).min(n);
    let mut optimizer = config.optimizer.init();
    let mut rng = SplitMix64::new(config.seed ^ 0x0ba7_c4e5_0000);
    let mut order: Vec<usize> = (0..n).collect();

    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<BestModel> = None;
    let mut stop = Stop::Finished;
    for epoch in epochs_done + 1..=epochs_done + config.epochs {
        let previous = model.clone();
        let mut step_losses = Vec::new();
        if batch_size == n {
            let (next, loss) =
                step(model, &mut optimizer, config, &tensors.train_x, &tensors.train_y);
            model = next;
            step_losses.push(loss);
        } else {
            rng.shuffle(&mut order);
            for chunk in order.chunks(batch_size) {
                let indices = Tensor::<1, Int>::from_data(
                    TensorData::new(chunk.iter().map(|&i| i as i64).collect(), [chunk.len()]),
                    device,
                );
                let x = tensors.train_x.clone().select(0, indices.clone());
                let y = tensors.train_y.clone().select(0, indices);
                let (next, loss) = step(model, &mut optimizer, config, &x, &y);
                model = next;
                step_losses.push(loss);
            }
        }

        let train_loss = Tensor::cat(step_losses, 0).mean();
        let validation = model.forward(tensors.validation_x.clone());
        let validation_loss = mse(validation, tensors.validation_y.clone()).detach();
        let penalty = match config.penalty {
            Some(penalty) => model.penalty(penalty).detach(),
            None => Tensor::zeros([1], device),
        };
        let mut parts = vec![train_loss, validation_loss, penalty];
        if let Some(grid) = &tensors.curve_x {
            parts.push(model.forward(grid.clone()).detach().reshape([curve_x.len()]));
        }
        let values = crate::read_f32(Tensor::cat(parts, 0)).await?;

        let losses =
            EpochLosses { epoch, train: values[0], validation: values[1], penalty: values[2] };
        if !(losses.train.is_finite()
            && losses.validation.is_finite()
            && losses.penalty.is_finite())
        {
            model = previous;
            stop = Stop::Diverged { epoch };
            break;
        }
        if best.as_ref().is_none_or(|b| losses.validation < b.validation_loss) {
            best =
                Some(BestModel { epoch, validation_loss: losses.validation, model: model.clone() });
        }
        history.push(losses);
        let report = EpochReport { losses, curve: values[3..].to_vec() };
        if !on_epoch(report).await {
            stop = Stop::Cancelled;
            break;
        }
    }
    Ok(TrainOutcome { model, best, history, stop })
}

/// One optimiser step on a batch. Returns the updated model and the batch's data loss (before
/// the update, detached, still on the device).
fn step(
    model: Mlp,
    optimizer: &mut ModuleOptimizer,
    config: &TrainConfig,
    x: &Tensor<2>,
    y: &Tensor<2>,
) -> (Mlp, Tensor<1>) {
    let data_loss = mse(model.forward(x.clone()), y.clone());
    let loss = match config.penalty {
        Some(penalty) => data_loss.clone() + model.penalty(penalty),
        None => data_loss.clone(),
    };

    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(config.learning_rate, model, grads);
    (model, data_loss.detach())
}

/// A hook for [`train`] that never cancels.
pub fn no_report(_report: EpochReport) -> std::future::Ready<bool> {
    std::future::ready(true)
}
