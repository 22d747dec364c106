//! Pre- and post-processing of a series: an optional log, optional differencing, and scaling.
//!
//! In order, for a point `y_t`:
//!
//! 1. `s_t = ln y_t` with the log transform, else `s_t = y_t`;
//! 2. `d_t = s_t − s_{t−lag}` with differencing (lag 1, or a seasonal lag such as 12), else
//!    `d_t = s_t`; the first `lag` points have no `d_t`;
//! 3. `z_t = (d_t − offset) / scale`, with `offset`, `scale` the minimum and range (min-max) or
//!    the mean and standard deviation (standardisation) of `d_t` over the **training span only**,
//!    so that nothing about the test span leaks into training.
//!
//! The inverse runs the steps backwards. It needs the original value `lag` steps back: the true
//! one for a one-step forecast, the forecast's own for a recursive one.

/// How the differenced values are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Left as they are.
    None,
    /// Mapped so that the training span runs from 0 to 1.
    MinMax,
    /// Mapped so that the training span has mean 0 and standard deviation 1.
    Standard,
}

impl Scaling {
    /// Short name, as the command line writes it.
    pub fn name(self) -> &'static str {
        match self {
            Scaling::None => "none",
            Scaling::MinMax => "minmax",
            Scaling::Standard => "std",
        }
    }

    /// The scaling called `name` (`none`, `minmax`, `std`).
    pub fn from_name(name: &str) -> Option<Self> {
        [Scaling::None, Scaling::MinMax, Scaling::Standard].into_iter().find(|s| s.name() == name)
    }
}

/// Which steps to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformConfig {
    /// Take the natural log first (positive series only).
    pub log: bool,
    /// Difference at this lag (1, or a seasonal lag).
    pub diff: Option<usize>,
    /// How to scale the result.
    pub scaling: Scaling,
}

/// A transform whose scaling was fitted on a training span.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    /// The steps.
    pub config: TransformConfig,
    /// Subtracted from `d_t` (training minimum or mean; 0 without scaling).
    pub offset: f64,
    /// Divides `d_t − offset` (training range or standard deviation; 1 without scaling).
    pub scale: f64,
}

/// Why a transform cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransformError {
    /// The log of a value that is not positive.
    #[error("the log transform needs positive values; point {index} is {value}")]
    LogNeedsPositive { index: usize, value: f64 },
    /// Differencing at lag 0.
    #[error("the differencing lag must be 1 or more")]
    ZeroLag,
    /// The lag leaves fewer than two training points to fit the scaling on.
    #[error("a lag of {lag} leaves too few of the {train} training points")]
    LagTooLong { lag: usize, train: usize },
    /// Every (differenced) training value is the same, so there is nothing to scale by.
    #[error("the training span is constant after the transform, so it cannot be scaled")]
    ConstantTraining,
}

impl Transform {
    /// Fits the scaling on `values[..train_len]` after the log and the differencing.
    ///
    /// # Errors
    /// [`TransformError`] for a log of a non-positive value, a lag too long for the training
    /// span, or a constant training span.
    pub fn fit(
        config: TransformConfig,
        values: &[f64],
        train_len: usize,
    ) -> Result<Self, TransformError> {
        if config.log
            && let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| **v <= 0.0)
        {
            return Err(TransformError::LogNeedsPositive { index, value });
        }
        if config.diff == Some(0) {
            return Err(TransformError::ZeroLag);
        }
        let train_len = train_len.min(values.len());
        let lag = config.diff.unwrap_or(0);
        if lag + 2 > train_len {
            return Err(TransformError::LagTooLong { lag, train: train_len });
        }

        let unscaled = Self { config, offset: 0.0, scale: 1.0 };
        let d = unscaled.apply(&values[..train_len]);
        let n = d.len() as f64;
        let (offset, scale) = match config.scaling {
            Scaling::None => (0.0, 1.0),
            Scaling::MinMax => {
                let min = d.iter().copied().fold(f64::INFINITY, f64::min);
                let max = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (min, max - min)
            }
            Scaling::Standard => {
                let mean = d.iter().sum::<f64>() / n;
                let variance = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                (mean, variance.sqrt())
            }
        };
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(TransformError::ConstantTraining);
        }
        Ok(Self { config, offset, scale })
    }

    /// The differencing lag, 0 without differencing: the transformed series is this much shorter.
    pub fn lag(&self) -> usize {
        self.config.diff.unwrap_or(0)
    }

    fn stage(&self, y: f64) -> f64 {
        if self.config.log { y.ln() } else { y }
    }

    /// `z_t` for every `t` from `lag` to the end: `values.len() − lag` values, the first being
    /// the transform of time `lag`.
    pub fn apply(&self, values: &[f64]) -> Vec<f64> {
        (self.lag()..values.len()).map(|t| self.value_at(values, t)).collect()
    }

    /// `z_t` from the original values `history[..=t]` (`t ≥ lag`).
    pub fn value_at(&self, history: &[f64], t: usize) -> f64 {
        let lag = self.lag();
        let mut d = self.stage(history[t]);
        if lag > 0 {
            d -= self.stage(history[t - lag]);
        }
        (d - self.offset) / self.scale
    }

    /// The original value `y_t` whose transform is `z`, given the original values before it
    /// (`history[t − lag]` is used; `history` may be shorter than `t`).
    pub fn invert_at(&self, z: f64, history: &[f64], t: usize) -> f64 {
        let lag = self.lag();
        let mut s = z * self.scale + self.offset;
        if lag > 0 {
            s += self.stage(history[t - lag]);
        }
        if self.config.log { s.exp() } else { s }
    }

    /// Rebuilds a whole series from its transform `z` (as returned by [`Transform::apply`]) and
    /// its first `lag` original values.
    pub fn invert(&self, z: &[f64], initial: &[f64]) -> Vec<f64> {
        let lag = self.lag();
        let mut out = initial[..lag].to_vec();
        for (j, &z) in z.iter().enumerate() {
            let value = self.invert_at(z, &out, lag + j);
            out.push(value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(log: bool, diff: Option<usize>, scaling: Scaling) -> TransformConfig {
        TransformConfig { log, diff, scaling }
    }

    #[test]
    fn min_max_is_fitted_on_the_training_span_only() {
        // 0..9 with training 0..7: min 0, max 7, so 8 → 8/7 and 9 → 9/7.
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let t = Transform::fit(config(false, None, Scaling::MinMax), &values, 8).unwrap();
        let z = t.apply(&values);
        assert!((z[7] - 1.0).abs() < 1e-12);
        assert!((z[8] - 1.1429).abs() < 1e-4);
        assert!((z[9] - 1.2857).abs() < 1e-4);
        assert!((z[8] - 8.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn standardisation_uses_the_training_mean_and_population_sd() {
        // Training 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population sd 2.
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 11.0];
        let t = Transform::fit(config(false, None, Scaling::Standard), &values, 8).unwrap();
        assert_eq!((t.offset, t.scale), (5.0, 2.0));
        assert_eq!(t.apply(&values)[8], 3.0);
    }

    #[test]
    fn log_and_differencing_follow_their_definitions() {
        let values = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let t = Transform::fit(config(true, Some(1), Scaling::None), &values, 6).unwrap();
        // ln 2^k − ln 2^(k−1) = ln 2 for every step.
        for z in t.apply(&values) {
            assert!((z - std::f64::consts::LN_2).abs() < 1e-12);
        }
        let seasonal = [1.0, 5.0, 2.0, 7.0, 3.0, 9.0];
        let t = Transform::fit(config(false, Some(2), Scaling::None), &seasonal, 6).unwrap();
        assert_eq!(t.apply(&seasonal), vec![1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn every_transform_round_trips() {
        let values: Vec<f64> = (0..60)
            .map(|t| 100.0 + t as f64 + 20.0 * (t as f64 * 0.7).sin() + (t % 5) as f64)
            .collect();
        for log in [false, true] {
            for diff in [None, Some(1), Some(12)] {
                for scaling in [Scaling::None, Scaling::MinMax, Scaling::Standard] {
                    let t = Transform::fit(config(log, diff, scaling), &values, 48).unwrap();
                    let train = &values[..48];
                    let back = t.invert(&t.apply(train), train);
                    assert_eq!(back.len(), 48);
                    for (a, b) in back.iter().zip(train) {
                        assert!((a - b).abs() < 1e-9 * b.abs(), "{log} {diff:?} {scaling:?}");
                    }
                    // One value at a time, as a forecast is inverted.
                    let z = t.value_at(&values, 55);
                    assert!((t.invert_at(z, &values, 55) - values[55]).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn bad_fits_say_why() {
        let with_zero = [3.0, 0.0, 2.0, 5.0];
        assert_eq!(
            Transform::fit(config(true, None, Scaling::None), &with_zero, 4),
            Err(TransformError::LogNeedsPositive { index: 1, value: 0.0 })
        );
        assert_eq!(
            Transform::fit(config(false, None, Scaling::MinMax), &[2.0; 5], 5),
            Err(TransformError::ConstantTraining)
        );
        assert_eq!(
            Transform::fit(config(false, Some(12), Scaling::None), &[1.0; 20], 10),
            Err(TransformError::LagTooLong { lag: 12, train: 10 })
        );
    }
}
