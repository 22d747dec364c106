//! The Fit lab: a one-hidden-layer MLP fitted to a noisy nonlinear function of one variable.
//!
//! - [`data`]: the functions, noise and the seeded train/validation split;
//! - [`formula`]: formulas in `x` typed by the student;
//! - [`mlp`]: Dense(1 → H), tanh/relu/sigmoid, Dense(H → 1), and the L2/L1 penalties;
//! - [`train`]: training with an async hook per epoch (progress, cancellation, divergence);
//! - [`sweep`]: best validation loss per hidden size over seeded repeats;
//! - [`regularise`]: continuing the best model on a penalised loss, and its before/after scores.
//!
//! Everything runs on any autodiff device; the page uses the CPU backend, where these tiny
//! networks are faster than through GPU dispatch.

pub mod data;
pub mod formula;
pub mod mlp;
pub mod regularise;
pub mod sweep;
pub mod train;

use crate::ReadError;

/// Why a Fit lab operation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// The data settings are out of range.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// The formula does not parse.
    #[error(transparent)]
    Formula(#[from] formula::FormulaError),
    /// A training setting is out of range.
    #[error("{0}")]
    Setting(String),
    /// The device failed.
    #[error("{0}")]
    Read(String),
}

impl From<ReadError> for FitError {
    fn from(error: ReadError) -> Self {
        FitError::Read(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::mlp::{Activation, Mlp, Penalty, PenaltyKind, column, mse};

    fn device() -> Device {
        Device::flex().autodiff()
    }

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        pollster::block_on(crate::read_f32(tensor)).unwrap()
    }

    fn close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-5, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn mse_gradient_of_one_hidden_unit_matches_the_hand_computation() {
        // One tanh unit, one point x = 1, y = 0.75.
        //   z = w1·x + b1 with w1 = 0.5, b1 = ln(3)/2 − 0.5, so z = ln(3)/2 and
        //   h = tanh z = (e^{2z} − 1)/(e^{2z} + 1) = (3 − 1)/(3 + 1) = 0.5, 1 − h² = 0.75.
        //   ŷ = w2·h + b2 = 2·0.5 + 0.25 = 1.25; r = ŷ − y = 0.5; L = r² = 0.25.
        //   dL/dŷ = 2r = 1
        //   dL/dw2 = 1·h = 0.5              dL/db2 = 1
        //   dL/dz  = 1·w2·(1 − h²) = 1.5
        //   dL/dw1 = 1.5·x = 1.5            dL/db1 = 1.5
        let device = device();
        let b1 = 3f32.ln() / 2.0 - 0.5;
        let model = Mlp::from_parameters(&[0.5], &[b1], &[2.0], 0.25, Activation::Tanh, &device);
        let loss = mse(model.forward(column(&[1.0], &device)), column(&[0.75], &device));
        close(&values(loss.clone()), &[0.25]);

        let grads = loss.backward();
        let grad = |t: Tensor<2>| values(t.grad(&grads).expect("a gradient"));
        let grad1 = |t: Tensor<1>| values(t.grad(&grads).expect("a gradient"));
        close(&grad(model.hidden.weight.val()), &[1.5]);
        close(&grad1(model.hidden.bias.as_ref().unwrap().val()), &[1.5]);
        close(&grad(model.output.weight.val()), &[0.5]);
        close(&grad1(model.output.bias.as_ref().unwrap().val()), &[1.0]);
    }

    /// Weights w1 = [0.5, −2], w2 = [3, −0.25] and biases that the penalties must ignore.
    fn two_units(device: &Device) -> Mlp {
        Mlp::from_parameters(
            &[0.5, -2.0],
            &[7.0, -9.0],
            &[3.0, -0.25],
            5.0,
            Activation::Relu,
            device,
        )
    }

    #[test]
    fn l2_penalty_and_its_gradient() {
        // λ = 0.1: Σw² = 0.25 + 4 + 9 + 0.0625 = 13.3125, so the penalty is 1.33125.
        // d/dw (λw²) = 2λw: [0.1, −0.4] and [0.6, −0.05]; the biases get nothing.
        let device = device();
        let model = two_units(&device);
        let penalty = model.penalty(Penalty { kind: PenaltyKind::L2, lambda: 0.1 });
        close(&values(penalty.clone()), &[1.33125]);

        let grads = penalty.backward();
        close(&values(model.hidden.weight.val().grad(&grads).unwrap()), &[0.1, -0.4]);
        close(&values(model.output.weight.val().grad(&grads).unwrap()), &[0.6, -0.05]);
        let bias_grad = |bias: &Option<burn::module::Param<Tensor<1>>>| {
            let bias = bias.as_ref().unwrap().val();
            bias.grad(&grads).map_or(vec![0.0], values)
        };
        assert!(bias_grad(&model.hidden.bias).iter().all(|&g| g == 0.0));
        assert!(bias_grad(&model.output.bias).iter().all(|&g| g == 0.0));
    }

    #[test]
    fn l1_penalty_and_its_gradient() {
        // λ = 0.1: Σ|w| = 0.5 + 2 + 3 + 0.25 = 5.75, so the penalty is 0.575.
        // d/dw (λ|w|) = λ·sign(w): [0.1, −0.1] and [0.1, −0.1].
        let device = device();
        let model = two_units(&device);
        let penalty = model.penalty(Penalty { kind: PenaltyKind::L1, lambda: 0.1 });
        close(&values(penalty.clone()), &[0.575]);

        let grads = penalty.backward();
        close(&values(model.hidden.weight.val().grad(&grads).unwrap()), &[0.1, -0.1]);
        close(&values(model.output.weight.val().grad(&grads).unwrap()), &[0.1, -0.1]);
    }
}
