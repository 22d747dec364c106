//! Batched prediction, accuracy by argmax and the confusion matrix.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::ReadError;
use crate::data::mnist::{IMAGE_PIXELS, Mnist, NUM_CLASSES};
use crate::models::cnn::{Cnn, images_to_tensor};

/// The network's verdict on one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The digit with the largest probability (the first one on a tie).
    pub digit: u8,
    /// Softmax probabilities of the ten digits.
    pub probabilities: [f32; NUM_CLASSES],
}

impl Prediction {
    /// Probability of the predicted digit.
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.digit as usize]
    }
}

/// Index of the largest value of each row of a row-major `[rows, width]` matrix.
pub fn argmax_rows(values: &[f32], width: usize) -> Vec<u8> {
    values
        .chunks_exact(width)
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            best as u8
        })
        .collect()
}

/// Predictions for images given as pixels 0..=255 (784 per image), on the model's device.
pub async fn predict(model: &Cnn, pixels: &[u8]) -> Result<Vec<Prediction>, ReadError> {
    let images = images_to_tensor(pixels, &model.device());
    predict_inputs(model, images).await
}

/// Predictions for an input tensor `[N, 1, 28, 28]` already in [-1, 1].
pub async fn predict_inputs(model: &Cnn, images: Tensor<4>) -> Result<Vec<Prediction>, ReadError> {
    let probabilities = crate::read_f32(softmax(model.forward(images), 1)).await?;
    let digits = argmax_rows(&probabilities, NUM_CLASSES);
    let rows = probabilities.chunks_exact(NUM_CLASSES);
    Ok(digits
        .into_iter()
        .zip(rows)
        .map(|(digit, row)| Prediction {
            digit,
            probabilities: row.try_into().expect("10 classes"),
        })
        .collect())
}

/// Counts of (true digit, predicted digit) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[true][predicted]`.
    pub counts: [[u32; NUM_CLASSES]; NUM_CLASSES],
}

impl Confusion {
    /// Adds one verdict per label.
    pub fn add(&mut self, labels: &[u8], predicted: &[u8]) {
        for (&truth, &guess) in labels.iter().zip(predicted) {
            self.counts[truth as usize][guess as usize] += 1;
        }
    }

    /// Number of images counted.
    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    /// Images on the diagonal: predicted as their true digit.
    pub fn correct(&self) -> u32 {
        (0..NUM_CLASSES).map(|d| self.counts[d][d]).sum()
    }

    /// Accuracy by argmax, 0 when empty.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }
}

/// Evaluates `set` in batches of `batch_size`. After each batch `progress(done, total)` is
/// awaited: the page uses it to show progress and let the browser breathe. Evaluation stops
/// early, returning `None`, when it answers `false` (cancelled).
pub async fn evaluate<F, Fut>(
    model: &Cnn,
    set: &Mnist,
    batch_size: usize,
    mut progress: F,
) -> Result<Option<Confusion>, ReadError>
where
    F: FnMut(usize, usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut confusion = Confusion::default();
    for start in (0..set.len()).step_by(batch_size.max(1)) {
        let end = (start + batch_size).min(set.len());
        let pixels = &set.pixels[start * IMAGE_PIXELS..end * IMAGE_PIXELS];
        let predictions = predict(model, pixels).await?;

        let digits: Vec<u8> = predictions.iter().map(|p| p.digit).collect();
        confusion.add(&set.labels[start..end], &digits);
        if !progress(end, set.len()).await {
            return Ok(None);
        }
    }
    Ok(Some(confusion))
}

/// A progress hook for [`evaluate`] that never cancels.
pub fn no_progress(_done: usize, _total: usize) -> std::future::Ready<bool> {
    std::future::ready(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax_rows(&[0.1, 0.7, 0.2, 0.5, 0.5, 0.0], 3), vec![1, 0]);
    }

    #[test]
    fn confusion_counts_and_accuracy() {
        let mut confusion = Confusion::default();
        confusion.add(&[1, 2, 3, 3], &[1, 2, 5, 3]);
        assert_eq!(confusion.total(), 4);
        assert_eq!(confusion.correct(), 3);
        assert_eq!(confusion.counts[3][5], 1);
        assert!((confusion.accuracy() - 0.75).abs() < 1e-12);
    }
}
