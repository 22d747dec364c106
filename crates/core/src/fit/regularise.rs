//! Regularising the best model: more epochs on `data loss + λ·Σw²` (L2) or `+ λ·Σ|w|` (L1),
//! the weights of both layers only (biases are left free: they shift the curve without making
//! it any wigglier), a warning when the step size and λ alone would make the weights oscillate
//! or blow up, and a before/after assessment.

use burn::prelude::*;

use super::FitError;
use super::data::Dataset;
use super::mlp::{Mlp, PenaltyKind, column, mse};
use super::train::OptimizerKind;

/// How serious a [`PenaltyWarning`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The penalty alone makes the weights flip sign or jitter around zero.
    Oscillates,
    /// The penalty alone makes the weights grow without bound.
    Diverges,
}

/// A warning to show before a regularised run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PenaltyWarning {
    /// How serious.
    pub severity: Severity,
    /// The explanation, with the numbers.
    pub message: String,
}

/// Checks whether the penalty alone would make the weights oscillate or diverge.
///
/// With the penalty alone, one SGD step on `λ·Σw²` is `w ← w − 2ηλ·w`. Without momentum the
/// factor `1 − 2ηλ` turns negative (the weights flip sign each step) once `ηλ > 1/2`, and its
/// size passes 1 (divergence) once `ηλ > 1`. Heavy-ball momentum β (no dampening) gives the
/// recurrence `w' = (1 + β − 2ηλ)·w − β·w_prev`, stable exactly while `ηλ < 1 + β`, with a
/// negative real root (sign flips) once `ηλ > (1 + √β)²/2`.
///
/// L1's gradient `λ·sign(w)` has a fixed size, so it cannot make the weights diverge; each SGD
/// step moves a weight by `ηλ` towards zero (up to `ηλ/(1 − β)` with momentum) and a weight
/// closer to zero than that jumps across it and back. We warn when that step is at least
/// `mean_abs_weight`, the mean `|w|` of the model about to be trained.
///
/// Adam divides each step by a running root mean square of the gradient, so a step has size
/// about η whatever λ is: no value of `ηλ` makes the penalty alone diverge, and no warning is
/// given (a large λ then shrinks the weights by about η per step, which the loss plot shows).
pub fn penalty_warning(
    optimizer: OptimizerKind,
    learning_rate: f64,
    kind: PenaltyKind,
    lambda: f64,
    mean_abs_weight: f64,
) -> Option<PenaltyWarning> {
    let OptimizerKind::Sgd { momentum } = optimizer else {
        return None;
    };
    let eta_lambda = learning_rate * lambda;
    match kind {
        PenaltyKind::L2 if eta_lambda >= 1.0 + momentum => Some(PenaltyWarning {
            severity: Severity::Diverges,
            message: format!(
                "η·λ = {eta_lambda:.3} ≥ 1 + β = {:.3}: the L2 penalty alone makes the weights \
                 grow without bound. Lower the learning rate or λ.",
                1.0 + momentum
            ),
        }),
        PenaltyKind::L2 if eta_lambda > (1.0 + momentum.sqrt()).powi(2) / 2.0 => {
            Some(PenaltyWarning {
                severity: Severity::Oscillates,
                message: format!(
                    "η·λ = {eta_lambda:.3} > {:.3}: the L2 penalty alone overshoots zero and the \
                     weights flip sign from step to step. Lower the learning rate or λ.",
                    (1.0 + momentum.sqrt()).powi(2) / 2.0
                ),
            })
        }
        PenaltyKind::L1 if eta_lambda / (1.0 - momentum) >= mean_abs_weight => {
            Some(PenaltyWarning {
                severity: Severity::Oscillates,
                message: format!(
                    "each step of the L1 penalty moves a weight by up to η·λ/(1 − β) = {:.4}, \
                     at least the mean |w| = {mean_abs_weight:.4}: the weights will jitter \
                     around zero rather than settle. Lower the learning rate or λ.",
                    eta_lambda / (1.0 - momentum)
                ),
            })
        }
        _ => None,
    }
}

/// A model's scores, for the before/after table.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Mean squared error on the training points.
    pub train_loss: f32,
    /// Mean squared error on the validation points.
    pub validation_loss: f32,
    /// `√Σw²` over both weight matrices (biases excluded).
    pub weight_norm: f32,
    /// `Σ|w|` over both weight matrices.
    pub weight_l1: f32,
    /// Weights with `|w| < 1e-3`.
    pub near_zero_weights: usize,
    /// Number of weights.
    pub num_weights: usize,
    /// The network's output on the grid passed in.
    pub curve: Vec<f32>,
}

/// Scores `model` on `data` and evaluates it on `curve_x`, with one read from the device.
///
/// # Errors
/// [`FitError::Read`] when the device fails.
pub async fn assess(model: &Mlp, data: &Dataset, curve_x: &[f32]) -> Result<Assessment, FitError> {
    let device = model.hidden.weight.val().device();
    let train = mse(model.forward(column(&data.train_x, &device)), column(&data.train_y, &device));
    let validation = mse(
        model.forward(column(&data.validation_x, &device)),
        column(&data.validation_y, &device),
    );
    let [w1, w2] = model.weights();
    let num_weights = w1.dims()[1] + w2.dims()[0];
    let mut parts = vec![
        train.detach(),
        validation.detach(),
        w1.detach().reshape([num_weights / 2]),
        w2.detach().reshape([num_weights / 2]),
    ];
    if !curve_x.is_empty() {
        let curve = model.forward(column(curve_x, &device)).detach();
        parts.push(curve.reshape([curve_x.len()]));
    }
    let values = crate::read_f32(Tensor::cat(parts, 0)).await?;

    let weights = &values[2..2 + num_weights];
    Ok(Assessment {
        train_loss: values[0],
        validation_loss: values[1],
        weight_norm: weights.iter().map(|w| w * w).sum::<f32>().sqrt(),
        weight_l1: weights.iter().map(|w| w.abs()).sum(),
        near_zero_weights: weights.iter().filter(|w| w.abs() < 1e-3).count(),
        num_weights,
        curve: values[2 + num_weights..].to_vec(),
    })
}

/// Mean `|w|` over a model's weights (biases excluded), for [`penalty_warning`].
///
/// # Errors
/// [`FitError::Read`] when the device fails.
pub async fn mean_abs_weight(model: &Mlp) -> Result<f64, FitError> {
    let [w1, w2] = model.weights();
    let count = (w1.dims()[1] + w2.dims()[0]) as f64;
    let l1 = crate::read_f32(model.sum_abs_weights().detach()).await?[0];
    Ok(f64::from(l1) / count)
}

/// Checks the regularisation settings.
///
/// # Errors
/// [`FitError::Setting`] when λ is negative or not a number.
pub fn check_lambda(lambda: f64) -> Result<(), FitError> {
    if lambda.is_finite() && lambda >= 0.0 {
        Ok(())
    } else {
        Err(FitError::Setting("λ must be a number ≥ 0".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SGD: OptimizerKind = OptimizerKind::Sgd { momentum: 0.0 };

    #[test]
    fn plain_sgd_l2_warns_from_one_half_and_diverges_from_one() {
        // Factor 1 − 2ηλ: 0.2 at ηλ = 0.4, −0.2 at 0.6, −1.2 at 1.1.
        assert_eq!(penalty_warning(SGD, 0.1, PenaltyKind::L2, 4.0, 1.0), None);
        let w = penalty_warning(SGD, 0.1, PenaltyKind::L2, 6.0, 1.0).unwrap();
        assert_eq!(w.severity, Severity::Oscillates);
        let w = penalty_warning(SGD, 0.1, PenaltyKind::L2, 11.0, 1.0).unwrap();
        assert_eq!(w.severity, Severity::Diverges);
        let w = penalty_warning(SGD, 0.5, PenaltyKind::L2, 2.0, 1.0).unwrap();
        assert_eq!(w.severity, Severity::Diverges, "ηλ = 1 exactly");
    }

    #[test]
    fn momentum_moves_the_divergence_threshold_to_one_plus_beta() {
        let sgd = OptimizerKind::Sgd { momentum: 0.9 };
        // Stable while ηλ < 1.9; sign flips once ηλ > (1 + √0.9)²/2 ≈ 1.8987.
        assert_eq!(penalty_warning(sgd, 1.0, PenaltyKind::L2, 1.5, 1.0), None);
        let w = penalty_warning(sgd, 1.0, PenaltyKind::L2, 1.899, 1.0).unwrap();
        assert_eq!(w.severity, Severity::Oscillates);
        let w = penalty_warning(sgd, 1.0, PenaltyKind::L2, 1.9, 1.0).unwrap();
        assert_eq!(w.severity, Severity::Diverges);
    }

    #[test]
    fn l1_warns_when_one_step_reaches_the_typical_weight_and_adam_never() {
        assert_eq!(penalty_warning(SGD, 0.01, PenaltyKind::L1, 1.0, 0.5), None);
        let w = penalty_warning(SGD, 0.5, PenaltyKind::L1, 1.0, 0.5).unwrap();
        assert_eq!(w.severity, Severity::Oscillates);
        let adam = OptimizerKind::Adam;
        assert_eq!(penalty_warning(adam, 1.0, PenaltyKind::L2, 100.0, 0.5), None);
    }
}
