//! MNIST in the original IDX files (optionally gzip-compressed), checked on reading.
//!
//! An IDX file is a big-endian header — two zero bytes, a type code (0x08: unsigned byte), the
//! number of dimensions, then each dimension as a `u32` — followed by the values in row-major
//! order. Images are magic 2051 (`[count, 28, 28]`), labels magic 2049 (`[count]`).

use std::io::Read;
use std::path::{Path, PathBuf};

/// Side of an MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one MNIST image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of digit classes.
pub const NUM_CLASSES: usize = 10;

const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

/// What is wrong with an IDX file.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("the gzip stream is damaged: {0}")]
    Gzip(String),
    #[error("the file is truncated: {needed} bytes needed, {found} present")]
    Truncated { needed: usize, found: usize },
    #[error("wrong magic number {found} (expected {expected}: {what})")]
    BadMagic { expected: u32, found: u32, what: &'static str },
    #[error("images must be {IMAGE_SIDE}x{IMAGE_SIDE}, found {rows}x{cols}")]
    BadImageSize { rows: u32, cols: u32 },
    #[error("{found} bytes follow the data, which should end the file")]
    TrailingBytes { found: usize },
    #[error("label {value} at index {index} is not a digit 0..9")]
    BadLabel { index: usize, value: u8 },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
}

/// A set of MNIST digits: pixels 0..=255, row-major, one label per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    /// `len() * IMAGE_PIXELS` bytes: image `i` is `pixels[i*784..(i+1)*784]`, row by row.
    pub pixels: Vec<u8>,
    /// One digit 0..9 per image.
    pub labels: Vec<u8>,
}

/// The two splits of MNIST as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training digits.
    Train,
    /// 10,000 test digits.
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

impl Mnist {
    /// Pairs images and labels, checking that the counts agree.
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Result<Self, IdxError> {
        let images = pixels.len() / IMAGE_PIXELS;
        if images != labels.len() || !pixels.len().is_multiple_of(IMAGE_PIXELS) {
            return Err(IdxError::CountMismatch { images, labels: labels.len() });
        }
        Ok(Self { pixels, labels })
    }

    /// Reads a split from the image and label files, gzip-compressed or not.
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, IdxError> {
        Self::new(parse_images(images)?, parse_labels(labels)?)
    }

    /// Loads `train` or `t10k` from a folder holding the original file names
    /// (`*-images-idx3-ubyte[.gz]`, `*-labels-idx1-ubyte[.gz]`).
    pub fn load(dir: &Path, split: Split) -> Result<Self, IdxError> {
        let images = read_either(dir, &format!("{}-images-idx3-ubyte", split.prefix()))?;
        let labels = read_either(dir, &format!("{}-labels-idx1-ubyte", split.prefix()))?;
        Self::from_idx(&images, &labels)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 pixels of image `index`, row by row.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// `count` distinct images drawn with `seed`, kept in their order in the set.
    pub fn random_subset(&self, count: usize, seed: u64) -> Mnist {
        let mut indices = crate::rng::SplitMix64::new(seed).sample(self.len(), count);
        indices.sort_unstable();
        self.subset(&indices)
    }

    /// The images and labels at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Mnist {
        let mut pixels = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Mnist { pixels, labels }
    }
}

impl Mnist {
    /// Encodes the images and the labels as two gzip-compressed IDX files (the original
    /// format, readable by [`Mnist::from_idx`]).
    pub fn to_idx_gz(&self) -> (Vec<u8>, Vec<u8>) {
        let mut images = Vec::with_capacity(16 + self.pixels.len());
        for word in [IMAGES_MAGIC, self.len() as u32, IMAGE_SIDE as u32, IMAGE_SIDE as u32] {
            images.extend_from_slice(&word.to_be_bytes());
        }
        images.extend_from_slice(&self.pixels);

        let mut labels = Vec::with_capacity(8 + self.len());
        for word in [LABELS_MAGIC, self.len() as u32] {
            labels.extend_from_slice(&word.to_be_bytes());
        }
        labels.extend_from_slice(&self.labels);
        (gzip(&images), gzip(&labels))
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Maps pixels 0..=255 to the network's input domain [-1, 1] by `2·(p/255) − 1`.
pub fn to_input(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| 2.0 * (p as f32 / 255.0) - 1.0).collect()
}

/// Maps inputs in [-1, 1] back to pixels 0..=255 (the inverse of [`to_input`], rounding to the
/// nearest pixel value; inputs outside [-1, 1] are clamped).
pub fn to_pixels(inputs: &[f32]) -> Vec<u8> {
    inputs.iter().map(|&x| ((x + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8).collect()
}

/// Decodes an image file: magic 2051, dimensions `[count, 28, 28]`, then the pixels.
pub fn parse_images(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let bytes = gunzip_if_needed(bytes)?;
    let dims = header(&bytes, IMAGES_MAGIC, 3, "unsigned-byte images")?;
    if dims[1] as usize != IMAGE_SIDE || dims[2] as usize != IMAGE_SIDE {
        return Err(IdxError::BadImageSize { rows: dims[1], cols: dims[2] });
    }

    let start = 16;
    let len = dims[0] as usize * IMAGE_PIXELS;
    body(&bytes, start, len).map(<[u8]>::to_vec)
}

/// Decodes a label file: magic 2049, dimension `[count]`, then one digit per byte.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let bytes = gunzip_if_needed(bytes)?;
    let dims = header(&bytes, LABELS_MAGIC, 1, "unsigned-byte labels")?;

    let labels = body(&bytes, 8, dims[0] as usize)?;
    if let Some(index) = labels.iter().position(|&l| l as usize >= NUM_CLASSES) {
        return Err(IdxError::BadLabel { index, value: labels[index] });
    }
    Ok(labels.to_vec())
}

/// Checks the magic number and returns the dimensions that follow it.
fn header(bytes: &[u8], magic: u32, rank: usize, what: &'static str) -> Result<Vec<u32>, IdxError> {
    let needed = 4 + 4 * rank;
    if bytes.len() < needed {
        return Err(IdxError::Truncated { needed, found: bytes.len() });
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let found = word(0);
    if found != magic {
        return Err(IdxError::BadMagic { expected: magic, found, what });
    }
    Ok((0..rank).map(|d| word(4 + 4 * d)).collect())
}

/// The `len` data bytes from `start`, which must end the file exactly.
fn body(bytes: &[u8], start: usize, len: usize) -> Result<&[u8], IdxError> {
    let needed = start + len;
    if bytes.len() < needed {
        return Err(IdxError::Truncated { needed, found: bytes.len() });
    }
    if bytes.len() > needed {
        return Err(IdxError::TrailingBytes { found: bytes.len() - needed });
    }
    Ok(&bytes[start..])
}

/// Inflates a gzip stream (recognised by its magic bytes 1f 8b); other bytes pass unchanged.
pub fn gunzip_if_needed(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, IdxError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip(e.to_string()))?;
    Ok(std::borrow::Cow::Owned(out))
}

/// Reads `dir/name.gz`, or `dir/name` when no compressed copy exists.
fn read_either(dir: &Path, name: &str) -> Result<Vec<u8>, IdxError> {
    let gz = dir.join(format!("{name}.gz"));
    let path = if gz.exists() { gz } else { dir.join(name) };
    std::fs::read(&path).map_err(|e| IdxError::Io { path, message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_file(count: u32, pixels: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, 28, 28] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend_from_slice(pixels);
        bytes
    }

    #[test]
    fn reads_a_well_formed_image_file() {
        let pixels: Vec<u8> = (0..2 * IMAGE_PIXELS).map(|i| (i % 251) as u8).collect();
        assert_eq!(parse_images(&image_file(2, &pixels)).unwrap(), pixels);
    }

    #[test]
    fn rejects_wrong_magic_size_truncation_and_trailing_bytes() {
        let pixels = vec![0u8; IMAGE_PIXELS];
        let mut wrong_magic = image_file(1, &pixels);
        wrong_magic[3] = 0x01;
        assert!(matches!(parse_images(&wrong_magic), Err(IdxError::BadMagic { .. })));

        let mut wrong_size = image_file(1, &pixels);
        wrong_size[11] = 27;
        assert!(matches!(parse_images(&wrong_size), Err(IdxError::BadImageSize { .. })));

        let short = &image_file(1, &pixels)[..500];
        assert!(matches!(
            parse_images(short),
            Err(IdxError::Truncated { needed: 800, found: 500 })
        ));

        let mut long = image_file(1, &pixels);
        long.push(0);
        assert!(matches!(parse_images(&long), Err(IdxError::TrailingBytes { found: 1 })));

        assert!(matches!(parse_images(&[0, 0]), Err(IdxError::Truncated { .. })));
    }

    #[test]
    fn rejects_labels_that_are_not_digits_and_broken_gzip() {
        let mut labels = LABELS_MAGIC.to_be_bytes().to_vec();
        labels.extend_from_slice(&2u32.to_be_bytes());
        labels.extend_from_slice(&[3, 10]);
        assert!(matches!(parse_labels(&labels), Err(IdxError::BadLabel { index: 1, value: 10 })));

        let broken_gzip = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff];
        assert!(matches!(parse_labels(&broken_gzip), Err(IdxError::Gzip(_))));
    }

    #[test]
    fn idx_files_round_trip_through_gzip() {
        let set = Mnist {
            pixels: (0..2 * IMAGE_PIXELS).map(|i| (i * 7 % 256) as u8).collect(),
            labels: vec![4, 9],
        };
        let (images, labels) = set.to_idx_gz();
        assert_eq!(&images[..2], &[0x1f, 0x8b]);
        assert_eq!(Mnist::from_idx(&images, &labels).unwrap(), set);
    }

    #[test]
    fn pixels_round_trip_through_the_input_domain() {
        let pixels: Vec<u8> = (0..=255).collect();
        assert_eq!(to_pixels(&to_input(&pixels)), pixels);
        assert_eq!(to_pixels(&[-1.5, 0.0, 1.5]), vec![0, 128, 255]);
    }

    #[test]
    fn a_random_subset_is_distinct_ordered_and_fixed_by_the_seed() {
        let set = Mnist {
            pixels: (0..10 * IMAGE_PIXELS).map(|i| (i / IMAGE_PIXELS) as u8).collect(),
            labels: (0..10).collect(),
        };
        let subset = set.random_subset(4, 9);
        assert_eq!(subset, set.random_subset(4, 9));
        assert_eq!(subset.len(), 4);
        assert!(subset.labels.windows(2).all(|w| w[0] < w[1]));
        for (i, &label) in subset.labels.iter().enumerate() {
            assert_eq!(subset.image(i)[0], label, "images stay with their labels");
        }
    }

    #[test]
    fn maps_pixels_to_minus_one_one() {
        assert_eq!(to_input(&[0, 255]), vec![-1.0, 1.0]);
        assert!((to_input(&[51])[0] - (-0.6)).abs() < 1e-6);
    }
}
