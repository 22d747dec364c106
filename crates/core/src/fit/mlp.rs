//! The Fit lab's network: Dense(1 → hidden), a non-linearity, Dense(hidden → 1).

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid, tanh};

/// The non-linearity between the two dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// `tanh z`.
    #[default]
    Tanh,
    /// `max(0, z)`.
    Relu,
    /// `1 / (1 + e^(−z))`.
    Sigmoid,
}

impl Activation {
    /// All of them, in the order the page lists them.
    pub const ALL: [Activation; 3] = [Activation::Tanh, Activation::Relu, Activation::Sigmoid];

    /// Lower-case name (`tanh`, `relu`, `sigmoid`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The activation called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Applies it element-wise.
    pub fn apply(self, z: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Tanh => tanh(z),
            Activation::Relu => relu(z),
            Activation::Sigmoid => sigmoid(z),
        }
    }
}

/// Which norm of the weights a regularised loss adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyKind {
    /// `Σ w²`.
    L2,
    /// `Σ |w|`.
    L1,
}

impl PenaltyKind {
    /// `L2` or `L1`.
    pub fn name(self) -> &'static str {
        match self {
            PenaltyKind::L2 => "L2",
            PenaltyKind::L1 => "L1",
        }
    }
}

/// A penalty `λ · Σ w²` or `λ · Σ |w|` on the weights of both layers (biases excluded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalty {
    /// L2 or L1.
    pub kind: PenaltyKind,
    /// The factor λ ≥ 0.
    pub lambda: f64,
}

/// A one-hidden-layer perceptron for 1-D regression.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Weight `[1, hidden]` (in, out), bias `[hidden]`.
    pub hidden: Linear,
    /// Weight `[hidden, 1]`, bias `[1]`.
    pub output: Linear,
    /// The non-linearity after `hidden`; not a parameter.
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// A fresh network with `hidden` units (Burn's default uniform initialisation:
    /// `U(−1/√fan_in, 1/√fan_in)` for weights and biases), drawn from the device's generator.
    pub fn init(hidden: usize, activation: Activation, device: &Device) -> Self {
        let hidden_layer = LinearConfig::new(1, hidden).init(device);
        let output = LinearConfig::new(hidden, 1).init(device);

        Self { hidden: hidden_layer, output, activation }
    }

    /// A network with the given parameters: `w1` and `b1` have one value per hidden unit,
    /// `w2` one per hidden unit, `b2` is the output bias.
    ///
    /// # Panics
    /// When `w1`, `b1` and `w2` differ in length (a programming error).
    pub fn from_parameters(
        w1: &[f32],
        b1: &[f32],
        w2: &[f32],
        b2: f32,
        activation: Activation,
        device: &Device,
    ) -> Self {
        let hidden = w1.len();
        assert!(
            b1.len() == hidden && w2.len() == hidden,
            "w1, b1 and w2 need one value per hidden unit: {} {} {}",
            hidden,
            b1.len(),
            w2.len()
        );
        let matrix = |values: &[f32], shape: [usize; 2]| {
            Param::from_tensor(Tensor::from_data(TensorData::new(values.to_vec(), shape), device))
        };
        let vector = |values: &[f32]| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(values.to_vec(), [values.len()]),
                device,
            ))
        };
        let mut model = Self::init(hidden, activation, device);
        model.hidden.weight = matrix(w1, [1, hidden]);
        model.hidden.bias = Some(vector(b1));
        model.output.weight = matrix(w2, [hidden, 1]);
        model.output.bias = Some(vector(&[b2]));
        model
    }

    /// Number of hidden units.
    pub fn hidden_size(&self) -> usize {
        self.hidden.weight.val().dims()[1]
    }

    /// Predictions for a column of inputs.
    ///
    /// # Shapes
    /// - `x`: `[N, 1]`
    /// - returns: `[N, 1]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.hidden.forward(x);
        let h = self.activation.apply(h);

        self.output.forward(h)
    }

    /// The weight matrices of both layers (biases excluded), as `[1, H]` and `[H, 1]`.
    pub fn weights(&self) -> [Tensor<2>; 2] {
        [self.hidden.weight.val(), self.output.weight.val()]
    }

    /// `Σ w²` over both weight matrices, as a one-element tensor.
    pub fn sum_squared_weights(&self) -> Tensor<1> {
        let [w1, w2] = self.weights();
        w1.square().sum() + w2.square().sum()
    }

    /// `Σ |w|` over both weight matrices, as a one-element tensor.
    pub fn sum_abs_weights(&self) -> Tensor<1> {
        let [w1, w2] = self.weights();
        w1.abs().sum() + w2.abs().sum()
    }

    /// `λ · Σ w²` or `λ · Σ |w|`, as a one-element tensor (differentiable on autodiff).
    pub fn penalty(&self, penalty: Penalty) -> Tensor<1> {
        let norm = match penalty.kind {
            PenaltyKind::L2 => self.sum_squared_weights(),
            PenaltyKind::L1 => self.sum_abs_weights(),
        };
        norm.mul_scalar(penalty.lambda)
    }
}

/// Mean squared error between predictions and targets (any equal shapes), one element.
pub fn mse(predictions: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    (predictions - targets).square().mean()
}

/// A column `[N, 1]` of values on `device`.
pub fn column(values: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len(), 1]), device)
}
