//! Forecasting a univariate time series with a small recurrent network.
//!
//! The path from a series to a forecast:
//!
//! 1. [`series`]: read a CSV (or a shipped series listed by [`catalogue`], or a [`simulate`]d
//!    one).
//! 2. A chronological split: the last `test_len` points are the test span.
//! 3. [`transform`]: optional log and differencing, then scaling fitted on the training span.
//! 4. Windows of `lookback` transformed values, each with the next value as its target
//!    ([`prepare`]); a window belongs to the span of its target.
//! 5. [`rnn`]: a recurrent cell along the window and a linear read-out, trained by [`train`].
//! 6. [`predict`]: one-step-ahead and recursive forecasts over the test span, back in the
//!    original units, scored by [`metrics`] against naive and seasonal-naive forecasts.

pub mod catalogue;
pub mod metrics;
pub mod predict;
pub mod rnn;
pub mod series;
pub mod simulate;
pub mod train;
pub mod transform;

use transform::{Transform, TransformConfig, TransformError};

/// Fewest training windows worth training on.
pub const MIN_TRAIN_WINDOWS: usize = 8;

/// How to turn a series into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareConfig {
    /// Log, differencing and scaling.
    pub transform: TransformConfig,
    /// Number of past (transformed) values each forecast sees.
    pub lookback: usize,
    /// Number of points at the end of the series held out as the test span.
    pub test_len: usize,
}

/// Windows of past values and the value that follows each, in transformed units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Windows {
    /// Row-major `[count, lookback]`, oldest value first.
    pub inputs: Vec<f32>,
    /// The transformed value right after each window, `[count]`.
    pub targets: Vec<f32>,
    /// Index in the original series of each target.
    pub times: Vec<usize>,
}

impl Windows {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when there are no windows.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The windows at positions `picks`, in that order.
    pub fn subset(&self, picks: &[usize], lookback: usize) -> Windows {
        let mut out = Windows::default();
        for &i in picks {
            out.inputs.extend_from_slice(&self.inputs[i * lookback..(i + 1) * lookback]);
            out.targets.push(self.targets[i]);
            out.times.push(self.times[i]);
        }
        out
    }
}

/// A series split, transformed and cut into windows, ready to train on.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The original values.
    pub values: Vec<f64>,
    /// Points in the training span (the rest is the test span).
    pub train_len: usize,
    /// Values per window.
    pub lookback: usize,
    /// The transform, fitted on the training span.
    pub transform: Transform,
    /// The transformed series: entry `j` belongs to original time `j + lag`.
    pub transformed: Vec<f64>,
    /// Windows whose target lies in the training span.
    pub train: Windows,
    /// Windows whose target lies in the test span (their inputs may reach back into training).
    pub test: Windows,
}

/// Why a series cannot be prepared or forecast with the chosen settings.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ForecastError {
    /// The transform cannot be fitted.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// The test span is empty or leaves no training span.
    #[error("the test span must be from 1 to {max} points (the series has {points})")]
    TestSpan { max: usize, points: usize },
    /// A look-back of zero.
    #[error("the look-back must be 1 or more")]
    ZeroLookback,
    /// Too little training data for this look-back and lag.
    #[error(
        "only {windows} training windows with this look-back, lag and test span; at least {min} \
         are needed (shorten the look-back or the test span)"
    )]
    TooFewWindows { windows: usize, min: usize },
    /// A network size or training setting out of range.
    #[error("{0}")]
    Setting(String),
    /// A tensor could not be read from the device.
    #[error(transparent)]
    Read(#[from] crate::ReadError),
}

impl Prepared {
    /// Splits `values` chronologically, fits the transform on the training span and cuts the
    /// transformed series into windows.
    ///
    /// # Errors
    /// [`ForecastError`] when the split, the transform or the windows are impossible.
    pub fn new(values: &[f64], config: &PrepareConfig) -> Result<Self, ForecastError> {
        let n = values.len();
        let max_test = n.saturating_sub(2);
        if config.test_len == 0 || config.test_len > max_test {
            return Err(ForecastError::TestSpan { max: max_test, points: n });
        }
        if config.lookback == 0 {
            return Err(ForecastError::ZeroLookback);
        }
        let train_len = n - config.test_len;
        let transform = Transform::fit(config.transform, values, train_len)?;
        let lag = transform.lag();
        let transformed = transform.apply(values);

        let first_target = lag + config.lookback;
        let train_windows = train_len.saturating_sub(first_target);
        if train_windows < MIN_TRAIN_WINDOWS {
            return Err(ForecastError::TooFewWindows {
                windows: train_windows,
                min: MIN_TRAIN_WINDOWS,
            });
        }
        let mut train = Windows::default();
        let mut test = Windows::default();
        for t in first_target..n {
            let span = if t < train_len { &mut train } else { &mut test };
            let start = t - lag - config.lookback;
            span.inputs.extend(transformed[start..t - lag].iter().map(|&z| z as f32));
            span.targets.push(transformed[t - lag] as f32);
            span.times.push(t);
        }
        Ok(Self {
            values: values.to_vec(),
            train_len,
            lookback: config.lookback,
            transform,
            transformed,
            train,
            test,
        })
    }

    /// Points in the test span.
    pub fn test_len(&self) -> usize {
        self.values.len() - self.train_len
    }

    /// The original values of the test span.
    pub fn test_values(&self) -> &[f64] {
        &self.values[self.train_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::transform::Scaling;
    use super::*;

    #[test]
    fn windows_hold_the_past_and_the_next_value() {
        // 0..20, no transform, look-back 3, test 5: training targets are times 3..15.
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let config = PrepareConfig {
            transform: TransformConfig { log: false, diff: None, scaling: Scaling::None },
            lookback: 3,
            test_len: 5,
        };
        let p = Prepared::new(&values, &config).unwrap();
        assert_eq!(p.train_len, 15);
        assert_eq!(p.train.len(), 12);
        assert_eq!(&p.train.inputs[..3], &[0.0, 1.0, 2.0]);
        assert_eq!((p.train.targets[0], p.train.times[0]), (3.0, 3));
        assert_eq!(p.test.times, vec![15, 16, 17, 18, 19]);
        // The first test window reaches back into the training span.
        assert_eq!(&p.test.inputs[..3], &[12.0, 13.0, 14.0]);
        assert_eq!(p.test_values(), &values[15..]);
    }

    #[test]
    fn differencing_shifts_targets_by_the_lag() {
        let values: Vec<f64> = (0..30).map(|t| f64::from(t * t)).collect();
        let config = PrepareConfig {
            transform: TransformConfig { log: false, diff: Some(1), scaling: Scaling::None },
            lookback: 2,
            test_len: 4,
        };
        let p = Prepared::new(&values, &config).unwrap();
        // d_t = t² − (t−1)² = 2t − 1; the first window is d_1, d_2 and its target d_3.
        assert_eq!(&p.train.inputs[..2], &[1.0, 3.0]);
        assert_eq!((p.train.targets[0], p.train.times[0]), (5.0, 3));
        assert_eq!(p.test.len(), 4);
    }

    #[test]
    fn impossible_settings_are_refused() {
        let values = vec![1.0; 20];
        let transform = TransformConfig { log: false, diff: None, scaling: Scaling::None };
        let config = |lookback, test_len| PrepareConfig { transform, lookback, test_len };
        assert!(matches!(
            Prepared::new(&values, &config(3, 0)),
            Err(ForecastError::TestSpan { .. })
        ));
        assert!(matches!(
            Prepared::new(&values, &config(10, 5)),
            Err(ForecastError::TooFewWindows { windows: 5, .. })
        ));
        assert!(matches!(Prepared::new(&values, &config(0, 5)), Err(ForecastError::ZeroLookback)));
    }
}
