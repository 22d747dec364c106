//! The recurrent forecaster: a recurrent cell run along a window of past values, then a linear
//! read-out of its last hidden state.
//!
//! The Elman cell is gradlab's own, `h' = tanh(Wxh·x + Whh·h + b)` with a single bias. Burn's
//! `burn::nn::Rnn` computes `tanh(W_ih·x + b_ih + W_hh·h + b_hh)`: the same function, but its
//! two biases only ever appear as their sum, so one of them is a redundant parameter (both get
//! the same gradient, which doubles the bias's step under SGD), and the parameter count no
//! longer matches the formula shown to the student. The LSTM and GRU alternatives are Burn's.
//!
//! The hidden state starts at zero for every window and is carried only along that window:
//! windows are independent samples and may be shuffled.

use burn::module::Param;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::lstm::{Lstm, LstmConfig};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// Which recurrent cell the forecaster uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// gradlab's Elman cell, `h' = tanh(Wxh·x + Whh·h + b)`.
    Elman,
    /// Burn's LSTM (input, forget, output and cell gates).
    Lstm,
    /// Burn's GRU (update and reset gates, reset after the product).
    Gru,
}

impl CellKind {
    /// Lower-case name, as the command line writes it.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Elman => "elman",
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }

    /// The cell called `name` (`elman`, `lstm`, `gru`).
    pub fn from_name(name: &str) -> Option<Self> {
        [CellKind::Elman, CellKind::Lstm, CellKind::Gru].into_iter().find(|c| c.name() == name)
    }
}

/// An Elman recurrent layer, `h' = tanh(Wxh·x + Whh·h + b)`.
///
/// Batches are rows, so the products are written `x·w_xh` with `w_xh = Wxhᵀ`.
#[derive(Module, Debug)]
pub struct ElmanRnn {
    /// Input weights `[d_input, d_hidden]` (the transpose of `Wxh`).
    pub w_xh: Param<Tensor<2>>,
    /// Recurrent weights `[d_hidden, d_hidden]` (the transpose of `Whh`).
    pub w_hh: Param<Tensor<2>>,
    /// Bias `[d_hidden]`.
    pub b: Param<Tensor<1>>,
}

impl ElmanRnn {
    /// Weights uniform in `±1/√d_hidden` (the usual choice for this cell), bias zero.
    pub fn init(d_input: usize, d_hidden: usize, device: &Device) -> Self {
        let k = 1.0 / (d_hidden as f64).sqrt();
        let uniform = Initializer::Uniform { min: -k, max: k };
        Self {
            w_xh: uniform.init([d_input, d_hidden], device),
            w_hh: uniform.init([d_hidden, d_hidden], device),
            b: Initializer::Zeros.init([d_hidden], device),
        }
    }

    /// A layer with the given weights, row-major: `w_xh` `[d_input, d_hidden]`, `w_hh`
    /// `[d_hidden, d_hidden]`, `b` `[d_hidden]`.
    pub fn from_weights(
        d_input: usize,
        w_xh: Vec<f32>,
        w_hh: Vec<f32>,
        b: Vec<f32>,
        device: &Device,
    ) -> Self {
        let d_hidden = b.len();
        let tensor2 = |v, dims: [usize; 2]| Tensor::from_data(TensorData::new(v, dims), device);
        Self {
            w_xh: Param::from_tensor(tensor2(w_xh, [d_input, d_hidden])),
            w_hh: Param::from_tensor(tensor2(w_hh, [d_hidden, d_hidden])),
            b: Param::from_tensor(Tensor::from_data(TensorData::new(b, [d_hidden]), device)),
        }
    }

    /// Size of the hidden state.
    pub fn d_hidden(&self) -> usize {
        self.b.dims()[0]
    }

    /// One step of the cell.
    ///
    /// # Shapes
    /// - `x`: `[batch, d_input]`
    /// - `h`: `[batch, d_hidden]`
    /// - returns `[batch, d_hidden]`
    pub fn step(&self, x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let input = x.matmul(self.w_xh.val());
        let recurrent = h.matmul(self.w_hh.val());
        let bias = self.b.val().unsqueeze_dim(0);

        (input + recurrent + bias).tanh()
    }

    /// Every hidden state along each window, starting from `h = 0`.
    ///
    /// # Shapes
    /// - `x`: `[batch, steps, d_input]`
    /// - returns `[batch, steps, d_hidden]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, steps, d_input] = x.dims();
        let mut h = Tensor::zeros([batch, self.d_hidden()], &x.device());
        let mut states = Vec::with_capacity(steps);
        for t in 0..steps {
            let x_t = x.clone().slice([0..batch, t..t + 1, 0..d_input]).reshape([batch, d_input]);
            h = self.step(x_t, h);
            states.push(h.clone().unsqueeze_dim(1));
        }
        Tensor::cat(states, 1)
    }
}

/// The recurrent part of a [`Forecaster`].
///
/// The variants differ in size (an LSTM holds four gates), but a run holds one forecaster at a
/// time, so boxing them would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Recurrent {
    /// gradlab's Elman layer.
    Elman(ElmanRnn),
    /// Burn's LSTM.
    Lstm(Lstm),
    /// Burn's GRU.
    Gru(Gru),
}

/// A recurrent cell followed by a linear read-out of its last hidden state: one value out.
#[derive(Module, Debug)]
pub struct Forecaster {
    /// The cell, run along the window.
    pub cell: Recurrent,
    /// Weight `[d_hidden, 1]`, bias `[1]`.
    pub readout: Linear,
}

impl Forecaster {
    /// A fresh forecaster for one input feature and `d_hidden` hidden units.
    pub fn init(kind: CellKind, d_hidden: usize, device: &Device) -> Self {
        let cell = match kind {
            CellKind::Elman => Recurrent::Elman(ElmanRnn::init(1, d_hidden, device)),
            CellKind::Lstm => Recurrent::Lstm(LstmConfig::new(1, d_hidden, true).init(device)),
            CellKind::Gru => Recurrent::Gru(GruConfig::new(1, d_hidden, true).init(device)),
        };
        let readout = LinearConfig::new(d_hidden, 1).init(device);
        Self { cell, readout }
    }

    /// Which cell this is.
    pub fn kind(&self) -> CellKind {
        match self.cell {
            Recurrent::Elman(_) => CellKind::Elman,
            Recurrent::Lstm(_) => CellKind::Lstm,
            Recurrent::Gru(_) => CellKind::Gru,
        }
    }

    /// The device of the parameters.
    pub fn device(&self) -> Device {
        self.readout.weight.val().device()
    }

    /// The hidden states of the cell along each window (each window starts from zero).
    ///
    /// # Shapes
    /// - `windows`: `[batch, steps, 1]`
    /// - returns `[batch, steps, d_hidden]`
    pub fn hidden_states(&self, windows: Tensor<3>) -> Tensor<3> {
        match &self.cell {
            Recurrent::Elman(rnn) => rnn.forward(windows),
            Recurrent::Lstm(lstm) => lstm.forward(windows, None).0,
            Recurrent::Gru(gru) => gru.forward(windows, None),
        }
    }

    /// The next value after each window, in the transformed units.
    ///
    /// # Shapes
    /// - `windows`: `[batch, steps, 1]`
    /// - returns `[batch, 1]`
    pub fn forward(&self, windows: Tensor<3>) -> Tensor<2> {
        let states = self.hidden_states(windows);
        let [batch, steps, d_hidden] = states.dims();

        let last = states.slice([0..batch, steps - 1..steps, 0..d_hidden]);
        let last = last.reshape([batch, d_hidden]);

        self.readout.forward(last)
    }
}

/// Windows as a `[batch, steps, 1]` tensor from row-major values.
pub fn windows_tensor(values: &[f32], steps: usize, device: &Device) -> Tensor<3> {
    let batch = values.len() / steps.max(1);
    Tensor::from_data(TensorData::new(values.to_vec(), [batch, steps, 1]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn read(tensor: Tensor<3>) -> Vec<f32> {
        pollster::block_on(crate::read_f32(tensor)).unwrap()
    }

    #[test]
    fn scalar_cell_matches_hand_computed_values() {
        // h' = tanh(1·x + 0.5·h): from h = 0, x = 1 gives tanh(1) = 0.7616;
        // then tanh(1 + 0.5·0.7616) = tanh(1.3808) = 0.8811.
        let device = Device::flex();
        let rnn = ElmanRnn::from_weights(1, vec![1.0], vec![0.5], vec![0.0], &device);
        let states = read(rnn.forward(windows_tensor(&[1.0, 1.0], 2, &device)));
        assert!((states[0] - 0.7616).abs() < 1e-4, "{states:?}");
        assert!((states[1] - 0.8811).abs() < 1e-4, "{states:?}");

        // A new window starts from zero: tanh(1·0 + 0.5·0) = 0.
        let fresh = read(rnn.forward(windows_tensor(&[0.0], 1, &device)));
        assert_eq!(fresh, vec![0.0]);

        // In one batch, the two windows do not share a state.
        let both = read(rnn.forward(windows_tensor(&[1.0, 1.0, 0.0, 1.0], 2, &device)));
        assert!((both[2] - 0.0).abs() < 1e-7 && (both[3] - 0.7616).abs() < 1e-4, "{both:?}");
    }

    #[test]
    fn cell_equals_the_formula_for_random_weights() {
        let (d_in, d_h, batch, steps) = (3, 5, 4, 6);
        let mut rng = SplitMix64::new(11);
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| (rng.unit() * 2.0 - 1.0) as f32).collect() };
        let (w_xh, w_hh, b) = (draw(d_in * d_h), draw(d_h * d_h), draw(d_h));
        let x = draw(batch * steps * d_in);
        let device = Device::flex();
        let rnn = ElmanRnn::from_weights(d_in, w_xh.clone(), w_hh.clone(), b.clone(), &device);
        let input = Tensor::from_data(TensorData::new(x.clone(), [batch, steps, d_in]), &device);
        let got = read(rnn.forward(input));

        // Plain loops in f64: h_j' = tanh(Σ_i x_i·Wxh[j][i] + Σ_k h_k·Whh[j][k] + b_j), where
        // Wxh[j][i] is stored at w_xh[i·d_h + j].
        for n in 0..batch {
            let mut h = vec![0.0f64; d_h];
            for t in 0..steps {
                let x_t = &x[(n * steps + t) * d_in..][..d_in];
                let next: Vec<f64> = (0..d_h)
                    .map(|j| {
                        let mut sum = f64::from(b[j]);
                        for i in 0..d_in {
                            sum += f64::from(x_t[i]) * f64::from(w_xh[i * d_h + j]);
                        }
                        for k in 0..d_h {
                            sum += h[k] * f64::from(w_hh[k * d_h + j]);
                        }
                        sum.tanh()
                    })
                    .collect();
                h = next;
                for j in 0..d_h {
                    let value = got[(n * steps + t) * d_h + j];
                    assert!((f64::from(value) - h[j]).abs() < 1e-6, "n {n} t {t} j {j}");
                }
            }
        }
    }

    #[test]
    fn every_cell_maps_windows_to_one_value_each() {
        let device = Device::flex();
        for kind in [CellKind::Elman, CellKind::Lstm, CellKind::Gru] {
            let model = Forecaster::init(kind, 8, &device);
            assert_eq!(model.kind(), kind);
            let out = model.forward(windows_tensor(&[0.1; 5 * 12], 12, &device));
            assert_eq!(out.dims(), [5, 1]);
        }
        // Elman: 1·8 + 8·8 + 8 cell parameters and 8 + 1 read-out parameters.
        assert_eq!(Forecaster::init(CellKind::Elman, 8, &device).num_params(), 89);
    }
}
