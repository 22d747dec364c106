//! Forecasts of the test span in the original units: one step ahead from the true past, and
//! recursively from the end of the training span.

use super::metrics::{MetricRow, compare};
use super::rnn::{Forecaster, windows_tensor};
use super::{ForecastError, Prepared};

/// One-step-ahead forecasts of every test point: each window holds the true past values, and
/// the differencing is undone with the true value `lag` steps back.
///
/// # Errors
/// [`ForecastError::Read`] when the device cannot be read.
pub async fn one_step(model: &Forecaster, prepared: &Prepared) -> Result<Vec<f64>, ForecastError> {
    let inputs = windows_tensor(&prepared.test.inputs, prepared.lookback, &model.device());
    let z = crate::read_f32(model.forward(inputs)).await?;
    Ok(prepared
        .test
        .times
        .iter()
        .zip(z)
        .map(|(&t, z)| prepared.transform.invert_at(f64::from(z), &prepared.values, t))
        .collect())
}

/// A recursive forecast of the whole test span from the end of the training span: each step's
/// window is built from the training values and the forecasts made so far, never from test
/// values.
///
/// # Errors
/// [`ForecastError::Read`] when the device cannot be read.
pub async fn recursive(model: &Forecaster, prepared: &Prepared) -> Result<Vec<f64>, ForecastError> {
    let transform = &prepared.transform;
    let lookback = prepared.lookback;
    let device = model.device();
    let mut history = prepared.values[..prepared.train_len].to_vec();

    for t in prepared.train_len..prepared.values.len() {
        let window: Vec<f32> =
            (t - lookback..t).map(|s| transform.value_at(&history, s) as f32).collect();
        let z = crate::read_f32(model.forward(windows_tensor(&window, lookback, &device))).await?;
        let value = transform.invert_at(f64::from(z[0]), &history, t);
        history.push(value);
    }
    Ok(history.split_off(prepared.train_len))
}

/// Both forecasts of the test span and their comparison with the baselines.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// One-step-ahead forecasts, original units, one per test point.
    pub one_step: Vec<f64>,
    /// Recursive forecasts, original units, one per test point.
    pub recursive: Vec<f64>,
    /// RMSE, MAE and MAPE of both and of the baselines.
    pub rows: Vec<MetricRow>,
}

/// Forecasts the test span both ways and scores them; `season` adds seasonal-naive baselines.
///
/// # Errors
/// [`ForecastError::Read`] when the device cannot be read.
pub async fn evaluate(
    model: &Forecaster,
    prepared: &Prepared,
    season: Option<usize>,
) -> Result<Evaluation, ForecastError> {
    let one_step = one_step(model, prepared).await?;
    let recursive = recursive(model, prepared).await?;
    let rows = compare(&prepared.values, prepared.train_len, season, &one_step, &recursive);
    Ok(Evaluation { one_step, recursive, rows })
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;
    use crate::forecast::PrepareConfig;
    use crate::forecast::metrics::Horizon;
    use crate::forecast::rnn::{CellKind, ElmanRnn, Recurrent};
    use crate::forecast::simulate::{Process, Simulation};
    use crate::forecast::train::{TrainConfig, no_progress, train};
    use crate::forecast::transform::{Scaling, TransformConfig};

    #[test]
    fn on_a_noiseless_sine_the_one_step_forecast_beats_the_naive_one() {
        let series = Simulation {
            process: Process::Sine { period: 20.0, amplitude: 1.0 },
            noise: 0.0,
            length: 200,
            seed: 1,
        }
        .generate()
        .unwrap();
        let config = PrepareConfig {
            transform: TransformConfig { log: false, diff: None, scaling: Scaling::MinMax },
            lookback: 10,
            test_len: 40,
        };
        let prepared = Prepared::new(&series.values, &config).unwrap();
        let settings = TrainConfig { hidden: 16, epochs: 60, ..TrainConfig::default() };
        let device = Device::flex().autodiff();
        let trained =
            pollster::block_on(train(&prepared, &settings, &device, no_progress)).unwrap();
        let result = pollster::block_on(evaluate(&trained.model, &prepared, series.season));
        let rows = result.unwrap().rows;
        let rmse = |horizon, method: &str| {
            rows.iter().find(|r| r.horizon == horizon && r.method == method).unwrap().metrics.rmse
        };
        // The naive one-step error of a unit sine of period 20 is 2·sin(π/20)/√2 ≈ 0.22.
        let naive = rmse(Horizon::OneStep, "naive");
        assert!((naive - 2.0 * (std::f64::consts::PI / 20.0).sin() / 2f64.sqrt()).abs() < 0.01);
        let rnn = rmse(Horizon::OneStep, "RNN");
        assert!(rnn < naive / 2.0, "RNN {rnn} vs naive {naive}");
        // A noiseless season repeats exactly, so the seasonal-naive forecast is perfect.
        assert!(rmse(Horizon::OneStep, "seasonal naive (20)") < 1e-9);
    }

    #[test]
    fn a_perfect_model_of_the_transform_inverts_to_the_truth() {
        // A series with constant differences: after differencing every target is the same, and
        // an untrained model whose read-out always says that value forecasts exactly.
        let values: Vec<f64> = (0..40).map(|t| 10.0 + 2.0 * f64::from(t)).collect();
        let config = PrepareConfig {
            transform: TransformConfig { log: false, diff: Some(1), scaling: Scaling::None },
            lookback: 3,
            test_len: 10,
        };
        let prepared = Prepared::new(&values, &config).unwrap();
        let device = Device::flex();
        let mut model = crate::forecast::rnn::Forecaster::init(CellKind::Elman, 2, &device);
        model.cell = Recurrent::Elman(ElmanRnn::from_weights(
            1,
            vec![0.0; 2],
            vec![0.0; 4],
            vec![0.0; 2],
            &device,
        ));
        let weight = Tensor::<2>::zeros([2, 1], &device);
        model.readout.weight = burn::module::Param::from_tensor(weight);
        model.readout.bias =
            Some(burn::module::Param::from_tensor(Tensor::<1>::full([1], 2.0, &device)));
        let one = pollster::block_on(one_step(&model, &prepared)).unwrap();
        let rec = pollster::block_on(recursive(&model, &prepared)).unwrap();
        for (i, (a, b)) in one.iter().zip(&rec).enumerate() {
            assert!((a - values[30 + i]).abs() < 1e-5, "{a}");
            assert!((b - values[30 + i]).abs() < 1e-4, "{b}");
        }
    }
}
