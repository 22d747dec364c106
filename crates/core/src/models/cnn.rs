//! The MNIST CNN of the Attack lab.
//!
//! Conv 3x3 1→16 (stride 1, pad 1), relu, max-pool 2; Conv 3x3 16→32, relu, max-pool 2;
//! Conv 3x3 32→32, relu, max-pool 2; flatten (32·3·3 = 288); Dense 288→10. The network returns
//! logits: softmax is applied only for display, and losses work on the logits directly.
//! Inputs are pixels mapped to [-1, 1] by `2x − 1`. 16,938 parameters.
//!
//! A network imported from elsewhere may have been trained on another input range; its
//! [`InputDomain`] maps gradlab's inputs into that range as the very first operation, so that
//! every caller keeps feeding [-1, 1] and gradients with respect to the input stay exact.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::data::mnist::{IMAGE_SIDE, NUM_CLASSES};

/// Channels after each convolution.
pub const CHANNELS: [usize; 3] = [16, 32, 32];
/// Features entering the dense layer: 32 channels of 3x3.
pub const FLAT_FEATURES: usize = 32 * 3 * 3;
/// Number of trainable parameters.
pub const NUM_PARAMS: usize = 16_938;

/// The CNN; build it with [`Cnn::init`] or from weights with [`Cnn::from_weights`].
#[derive(Module, Debug)]
pub struct Cnn {
    /// Weight `[16, 1, 3, 3]` (out, in, kh, kw), bias `[16]`.
    pub conv1: Conv2d,
    /// Weight `[32, 16, 3, 3]`, bias `[32]`.
    pub conv2: Conv2d,
    /// Weight `[32, 32, 3, 3]`, bias `[32]`.
    pub conv3: Conv2d,
    /// 2x2 max-pooling, stride 2, rounding down (7 → 3).
    pub pool: MaxPool2d,
    /// Weight `[288, 10]` (in, out), bias `[10]`. Its input index is `c·9 + row·3 + col`.
    pub dense: Linear,
    /// The affine map applied to the input before conv1: identity for gradlab's own weights.
    /// It is not a trainable parameter.
    #[module(skip)]
    pub input: InputDomain,
}

/// The input range a network expects, as the affine map `u = scale·x + shift` from gradlab's
/// input `x` in [-1, 1] (`x = 2p − 1` for a pixel `p` in [0, 1]).
///
/// The map is applied to the image before conv1 pads it, so conv1's zero padding is zero in the
/// network's own input space, exactly as where it was trained. Folding the map into conv1's
/// weights and bias instead would be wrong at the border: there the padding is 0 in `u`, which
/// is not the image of `x = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputDomain {
    /// Multiplies the input.
    pub scale: f32,
    /// Added after scaling.
    pub shift: f32,
}

impl InputDomain {
    /// Inputs in [-1, 1], as gradlab trains: `u = x`.
    pub const PLUS_MINUS_ONE: Self = Self { scale: 1.0, shift: 0.0 };
    /// Inputs in [0, 1]: `u = (x + 1) / 2`, which is the pixel `p` itself.
    pub const ZERO_ONE: Self = Self { scale: 0.5, shift: 0.5 };

    /// True for `u = x`: the map is then skipped entirely.
    pub fn is_identity(&self) -> bool {
        *self == Self::PLUS_MINUS_ONE
    }

    /// Applies the map to `[N, 1, 28, 28]` inputs (any shape works).
    pub fn apply<const D: usize>(&self, inputs: Tensor<D>) -> Tensor<D> {
        if self.is_identity() {
            inputs
        } else {
            inputs.mul_scalar(self.scale).add_scalar(self.shift)
        }
    }
}

impl Default for InputDomain {
    fn default() -> Self {
        Self::PLUS_MINUS_ONE
    }
}

/// Every intermediate tensor of one forward pass, for tests and for display.
#[derive(Debug, Clone)]
pub struct CnnTrace {
    /// `[N, 16, 28, 28]` after conv1 and relu.
    pub conv1: Tensor<4>,
    /// `[N, 16, 14, 14]`.
    pub pool1: Tensor<4>,
    /// `[N, 32, 14, 14]` after conv2 and relu.
    pub conv2: Tensor<4>,
    /// `[N, 32, 7, 7]`.
    pub pool2: Tensor<4>,
    /// `[N, 32, 7, 7]` after conv3 and relu.
    pub conv3: Tensor<4>,
    /// `[N, 32, 3, 3]`.
    pub pool3: Tensor<4>,
    /// `[N, 288]`.
    pub flat: Tensor<2>,
    /// `[N, 10]`.
    pub logits: Tensor<2>,
}

impl Cnn {
    /// A freshly initialised network (Burn's Kaiming-uniform defaults) on `device`.
    pub fn init(device: &Device) -> Self {
        let conv = |c_in: usize, c_out: usize| {
            Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        let conv1 = conv(1, CHANNELS[0]);
        let conv2 = conv(CHANNELS[0], CHANNELS[1]);
        let conv3 = conv(CHANNELS[1], CHANNELS[2]);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        let dense = LinearConfig::new(FLAT_FEATURES, NUM_CLASSES).init(device);

        Self { conv1, conv2, conv3, pool, dense, input: InputDomain::default() }
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.conv1.weight.val().device()
    }

    /// Logits for a batch of images.
    ///
    /// # Shapes
    /// - `images`: `[N, 1, 28, 28]`, values in [-1, 1] (mapped by [`Cnn::input`] first)
    /// - returns: `[N, 10]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.trace(images).logits
    }

    /// The forward pass keeping every stage (see [`CnnTrace`] for the shapes).
    pub fn trace(&self, images: Tensor<4>) -> CnnTrace {
        let conv1 = relu(self.conv1.forward(self.input.apply(images)));
        let pool1 = self.pool.forward(conv1.clone());

        let conv2 = relu(self.conv2.forward(pool1.clone()));
        let pool2 = self.pool.forward(conv2.clone());

        let conv3 = relu(self.conv3.forward(pool2.clone()));
        let pool3 = self.pool.forward(conv3.clone());

        let flat = pool3.clone().flatten(1, 3);
        let logits = self.dense.forward(flat.clone());

        CnnTrace { conv1, pool1, conv2, pool2, conv3, pool3, flat, logits }
    }
}

/// Turns pixels 0..=255 (row-major, 784 per image) into the input tensor `[N, 1, 28, 28]` in
/// [-1, 1].
pub fn images_to_tensor(pixels: &[u8], device: &Device) -> Tensor<4> {
    let count = pixels.len() / (IMAGE_SIDE * IMAGE_SIDE);
    inputs_to_tensor(crate::data::mnist::to_input(pixels), count, device)
}

/// Wraps inputs already in [-1, 1] (row-major, 784 per image) as `[N, 1, 28, 28]`.
pub fn inputs_to_tensor(inputs: Vec<f32>, count: usize, device: &Device) -> Tensor<4> {
    let data = TensorData::new(inputs, [count, 1, IMAGE_SIDE, IMAGE_SIDE]);
    Tensor::from_data(data, device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_stated_number_of_parameters() {
        // 16·9+16 + 32·16·9+32 + 32·32·9+32 + 288·10+10 = 160 + 4640 + 9248 + 2890.
        assert_eq!(Cnn::init(&Device::flex()).num_params(), NUM_PARAMS);
        assert_eq!(160 + 4640 + 9248 + 2890, NUM_PARAMS);
    }

    #[test]
    fn every_stage_has_its_shape() {
        let device = Device::flex();
        let trace = Cnn::init(&device).trace(Tensor::zeros([2, 1, 28, 28], &device));

        assert_eq!(trace.conv1.dims(), [2, 16, 28, 28]);
        assert_eq!(trace.pool1.dims(), [2, 16, 14, 14]);
        assert_eq!(trace.conv2.dims(), [2, 32, 14, 14]);
        assert_eq!(trace.pool2.dims(), [2, 32, 7, 7]);
        assert_eq!(trace.conv3.dims(), [2, 32, 7, 7]);
        assert_eq!(trace.pool3.dims(), [2, 32, 3, 3]);
        assert_eq!(trace.flat.dims(), [2, FLAT_FEATURES]);
        assert_eq!(trace.logits.dims(), [2, 10]);
    }

    #[test]
    fn the_input_domain_maps_inputs_before_conv1_pads_them() {
        // A [0, 1] network fed gradlab's x = 2p − 1 must see p itself, with conv1's zero padding
        // being 0 in p (a border value of x = −1), which folding the map into conv1 would miss.
        let device = Device::flex();
        let plain = Cnn::init(&device);
        let zero_one = Cnn { input: InputDomain::ZERO_ONE, ..plain.clone() };
        let pixels: Vec<u8> = (0..2 * 784).map(|i| (i * 37 % 256) as u8).collect();
        let p: Vec<f32> = pixels.iter().map(|&v| v as f32 / 255.0).collect();

        let expected = plain.forward(inputs_to_tensor(p, 2, &device));
        let got = zero_one.forward(images_to_tensor(&pixels, &device));
        let (expected, got) = (
            expected.into_data().try_into_vec::<f32>().unwrap(),
            got.into_data().try_into_vec::<f32>().unwrap(),
        );
        for (e, g) in expected.iter().zip(&got) {
            assert!((e - g).abs() < 1e-5, "{expected:?} vs {got:?}");
        }
        assert!(InputDomain::default().is_identity() && !InputDomain::ZERO_ONE.is_identity());
    }

    #[test]
    fn conv1_is_a_cross_correlation_with_zero_padding() {
        // An impulse at (row 1, col 1) of a 3x3 image through the asymmetric kernel
        // k = [[1,2,3],[4,5,6],[7,8,9]] with zero bias. Cross-correlation gives
        // out[r][c] = Σ k[i][j]·x[r+i−1][c+j−1], so out[r][c] = k[2−r][2−c] here:
        // out[0][0] = 9, out[0][2] = 7, out[2][0] = 3, out[1][1] = 5.
        let device = Device::flex();
        let mut conv = Conv2dConfig::new([1, 1], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let kernel: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        conv.weight = burn::module::Param::from_tensor(Tensor::from_data(
            TensorData::new(kernel, [1, 1, 3, 3]),
            &device,
        ));
        conv.bias = Some(burn::module::Param::from_tensor(Tensor::zeros([1], &device)));
        let mut impulse = vec![0.0f32; 9];
        impulse[4] = 1.0;
        let x = Tensor::<4>::from_data(TensorData::new(impulse, [1, 1, 3, 3]), &device);

        let out = conv.forward(x).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(out, vec![9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    }
}
