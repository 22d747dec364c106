//! gradlab's own weight file for the CNN, and the host-side copy of its weights.
//!
//! Layout (all integers little-endian):
//! - magic `GRADLAB1` or `GRADLAB2` (8 bytes), then `u32` tensor count;
//! - per tensor: `u16` name length and the UTF-8 name, `u8` rank, `rank × u32` dimensions, then
//!   the `f32` values row-major;
//! - `GRADLAB2` only: the input domain as two `f32`, `scale` then `shift` (see
//!   [`InputDomain`]);
//! - the FNV-1a 64-bit hash of every byte before it, as `u64`.
//!
//! Weights whose input domain is the identity (gradlab's own) are written as `GRADLAB1`, so those
//! files are unchanged; any other domain is written as `GRADLAB2`, which a reader that knows
//! only `GRADLAB1` rejects instead of silently feeding the network the wrong input range.
//!
//! Tensors are stored in Burn's layouts: conv weights `[out, in, kh, kw]` (cross-correlation),
//! dense weight `[in, out]`, dense input index `c·9 + row·3 + col`.

use burn::module::Param;
use burn::prelude::*;

use super::cnn::{Cnn, InputDomain};
use crate::ReadError;

/// Magic of files whose input domain is the identity.
const MAGIC: &[u8; 8] = b"GRADLAB1";
/// Magic of files that carry an input domain after the tensors.
const MAGIC_DOMAIN: &[u8; 8] = b"GRADLAB2";
/// What every gradlab weight file starts with; other files are recognised by their content.
pub const MAGIC_PREFIX: &[u8; 7] = b"GRADLAB";

/// The eight tensors of the CNN, in file order, with the shapes they must have.
pub const LAYOUT: [(&str, &[usize]); 8] = [
    ("conv1.weight", &[16, 1, 3, 3]),
    ("conv1.bias", &[16]),
    ("conv2.weight", &[32, 16, 3, 3]),
    ("conv2.bias", &[32]),
    ("conv3.weight", &[32, 32, 3, 3]),
    ("conv3.bias", &[32]),
    ("dense.weight", &[288, 10]),
    ("dense.bias", &[10]),
];

/// What is wrong with a weight file.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("not a gradlab weight file (it does not start with GRADLAB1 or GRADLAB2)")]
    NotGradlab,
    #[error("the file is truncated at byte {0}")]
    Truncated(usize),
    #[error("the file is damaged: its checksum does not match")]
    Checksum,
    #[error("expected {expected} tensors, found {found}")]
    TensorCount { expected: usize, found: usize },
    #[error(
        "tensor {index} should be {expected} with shape {shape:?}, found {found} {found_shape:?}"
    )]
    Tensor {
        index: usize,
        expected: &'static str,
        shape: &'static [usize],
        found: String,
        found_shape: Vec<usize>,
    },
    #[error("{0} bytes follow the checksum")]
    Trailing(usize),
    #[error("the weights hold a value that is not finite")]
    NotFinite,
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// A tensor's shape and its values, row-major, on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The CNN's weights on the host, in the order of [`LAYOUT`].
#[derive(Debug, Clone, PartialEq)]
pub struct CnnWeights {
    pub tensors: Vec<HostTensor>,
    /// The input range the weights were trained for; identity for gradlab's own.
    pub input: InputDomain,
}

impl CnnWeights {
    /// Checks count, shapes and finiteness (of the input domain too) against [`LAYOUT`].
    pub fn validate(&self) -> Result<(), WeightsError> {
        if self.tensors.len() != LAYOUT.len() {
            return Err(WeightsError::TensorCount {
                expected: LAYOUT.len(),
                found: self.tensors.len(),
            });
        }
        for (index, (tensor, (name, shape))) in self.tensors.iter().zip(LAYOUT).enumerate() {
            let len: usize = tensor.shape.iter().product();
            if tensor.shape != shape || tensor.values.len() != len {
                return Err(WeightsError::Tensor {
                    index,
                    expected: name,
                    shape,
                    found: name.to_string(),
                    found_shape: tensor.shape.clone(),
                });
            }
        }
        let finite = self.tensors.iter().all(|t| t.values.iter().all(|v| v.is_finite()))
            && self.input.scale.is_finite()
            && self.input.shift.is_finite();
        if finite { Ok(()) } else { Err(WeightsError::NotFinite) }
    }

    /// Number of values in all tensors.
    pub fn num_params(&self) -> usize {
        self.tensors.iter().map(|t| t.values.len()).sum()
    }

    /// Encodes the weights in gradlab's format (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let with_domain = !self.input.is_identity();
        let mut out = if with_domain { MAGIC_DOMAIN.to_vec() } else { MAGIC.to_vec() };
        out.extend_from_slice(&(self.tensors.len() as u32).to_le_bytes());
        for (tensor, (name, _)) in self.tensors.iter().zip(LAYOUT) {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(tensor.shape.len() as u8);
            for &d in &tensor.shape {
                out.extend_from_slice(&(d as u32).to_le_bytes());
            }
            for v in &tensor.values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        if with_domain {
            out.extend_from_slice(&self.input.scale.to_le_bytes());
            out.extend_from_slice(&self.input.shift.to_le_bytes());
        }
        let hash = fnv1a(&out);
        out.extend_from_slice(&hash.to_le_bytes());
        out
    }

    /// Decodes and validates a file written by [`CnnWeights::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WeightsError> {
        let with_domain = match bytes.get(..MAGIC.len()) {
            Some(magic) if magic == MAGIC => false,
            Some(magic) if magic == MAGIC_DOMAIN => true,
            _ => return Err(WeightsError::NotGradlab),
        };
        let mut reader = Reader { bytes, pos: MAGIC.len() };

        let count = reader.u32()? as usize;
        if count != LAYOUT.len() {
            return Err(WeightsError::TensorCount { expected: LAYOUT.len(), found: count });
        }
        let mut tensors = Vec::with_capacity(count);
        for (index, (name, shape)) in LAYOUT.into_iter().enumerate() {
            tensors.push(reader.tensor(index, name, shape)?);
        }
        let input = if with_domain {
            InputDomain { scale: reader.f32()?, shift: reader.f32()? }
        } else {
            InputDomain::default()
        };

        let body_end = reader.pos;
        if reader.u64()? != fnv1a(&bytes[..body_end]) {
            return Err(WeightsError::Checksum);
        }
        if reader.pos != bytes.len() {
            return Err(WeightsError::Trailing(bytes.len() - reader.pos));
        }
        let weights = Self { tensors, input };
        weights.validate()?;
        Ok(weights)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WeightsError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(WeightsError::Truncated(self.bytes.len()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, WeightsError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn f32(&mut self) -> Result<f32, WeightsError> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, WeightsError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn tensor(
        &mut self,
        index: usize,
        expected: &'static str,
        shape: &'static [usize],
    ) -> Result<HostTensor, WeightsError> {
        let name_len = u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")) as usize;
        let found = String::from_utf8_lossy(self.take(name_len)?).into_owned();
        let rank = self.take(1)?[0] as usize;
        let found_shape =
            (0..rank).map(|_| self.u32().map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
        if found != expected || found_shape != shape {
            return Err(WeightsError::Tensor { index, expected, shape, found, found_shape });
        }

        let len: usize = shape.iter().product();
        let values = self
            .take(len * 4)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Ok(HostTensor { shape: shape.to_vec(), values })
    }
}

/// FNV-1a, 64-bit: a fast checksum that catches damaged downloads.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Cnn {
    /// Builds the network on `device` from validated host weights.
    pub fn from_weights(weights: &CnnWeights, device: &Device) -> Result<Self, WeightsError> {
        weights.validate()?;
        let t = &weights.tensors;
        let mut model = Cnn::init(device);

        model.conv1.weight = param(&t[0], device);
        model.conv1.bias = Some(param(&t[1], device));
        model.conv2.weight = param(&t[2], device);
        model.conv2.bias = Some(param(&t[3], device));
        model.conv3.weight = param(&t[4], device);
        model.conv3.bias = Some(param(&t[5], device));
        model.dense.weight = param(&t[6], device);
        model.dense.bias = Some(param(&t[7], device));
        model.input = weights.input;
        Ok(model)
    }

    /// Copies the weights back to the host (an asynchronous read, safe on WebGPU).
    pub async fn to_weights(&self) -> Result<CnnWeights, WeightsError> {
        let bias = |b: &Option<Param<Tensor<1>>>| b.as_ref().expect("the CNN has biases").val();
        let tensors = vec![
            host(self.conv1.weight.val()).await?,
            host(bias(&self.conv1.bias)).await?,
            host(self.conv2.weight.val()).await?,
            host(bias(&self.conv2.bias)).await?,
            host(self.conv3.weight.val()).await?,
            host(bias(&self.conv3.bias)).await?,
            host(self.dense.weight.val()).await?,
            host(bias(&self.dense.bias)).await?,
        ];
        Ok(CnnWeights { tensors, input: self.input })
    }
}

fn param<const D: usize>(tensor: &HostTensor, device: &Device) -> Param<Tensor<D>> {
    let data = TensorData::new(tensor.values.clone(), tensor.shape.clone());
    Param::from_tensor(Tensor::from_data(data, device))
}

async fn host<const D: usize>(tensor: Tensor<D>) -> Result<HostTensor, ReadError> {
    let shape = tensor.dims().to_vec();
    Ok(HostTensor { shape, values: crate::read_f32(tensor).await? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_weights() -> CnnWeights {
        let tensors = LAYOUT
            .iter()
            .enumerate()
            .map(|(k, (_, shape))| {
                let len: usize = shape.iter().product();
                let values = (0..len).map(|i| (i as f32 * 0.001) - k as f32).collect();
                HostTensor { shape: shape.to_vec(), values }
            })
            .collect();
        CnnWeights { tensors, input: InputDomain::default() }
    }

    #[test]
    fn round_trips_through_bytes_and_through_a_model() {
        let weights = sample_weights();
        assert_eq!(weights.num_params(), crate::models::cnn::NUM_PARAMS);
        let bytes = weights.to_bytes();
        assert_eq!(CnnWeights::from_bytes(&bytes).unwrap(), weights);

        let model = Cnn::from_weights(&weights, &Device::flex()).unwrap();
        assert_eq!(pollster::block_on(model.to_weights()).unwrap(), weights);
    }

    #[test]
    fn rejects_every_damaged_form() {
        let bytes = sample_weights().to_bytes();
        assert!(matches!(CnnWeights::from_bytes(b"PK\x03\x04"), Err(WeightsError::NotGradlab)));
        for cut in [8, 12, 40, 1000, bytes.len() - 1] {
            assert!(CnnWeights::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[200] ^= 0x40;
        assert!(matches!(CnnWeights::from_bytes(&flipped), Err(WeightsError::Checksum)));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(CnnWeights::from_bytes(&longer), Err(WeightsError::Trailing(1))));
    }

    #[test]
    fn an_input_domain_travels_as_gradlab2_and_the_identity_stays_gradlab1() {
        let plain = sample_weights();
        assert!(plain.to_bytes().starts_with(MAGIC));

        let weights = CnnWeights { input: InputDomain::ZERO_ONE, ..sample_weights() };
        let bytes = weights.to_bytes();
        assert!(bytes.starts_with(MAGIC_DOMAIN));
        assert_eq!(bytes.len(), plain.to_bytes().len() + 8);
        assert_eq!(CnnWeights::from_bytes(&bytes).unwrap(), weights);
        for cut in [8, bytes.len() - 12, bytes.len() - 9, bytes.len() - 1] {
            assert!(CnnWeights::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }

        let model = Cnn::from_weights(&weights, &Device::flex()).unwrap();
        assert_eq!(model.input, InputDomain::ZERO_ONE);
        assert_eq!(pollster::block_on(model.to_weights()).unwrap(), weights);

        let bad = CnnWeights { input: InputDomain { scale: f32::NAN, shift: 0.0 }, ..plain };
        assert!(matches!(bad.validate(), Err(WeightsError::NotFinite)));
    }
}
