//! Forecast errors (RMSE, MAE, MAPE) and the baselines every forecast must beat: the naive
//! forecast (the last known value) and the seasonal-naive one (the value one season back).

/// Errors of a forecast against the actual values, in the series' units (MAPE in percent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Mean absolute percentage error over the points whose actual value is not 0; `None` when
    /// every actual value is 0.
    pub mape: Option<f64>,
}

/// RMSE, MAE and MAPE of `forecast` against `actual` (same length, at least one point).
pub fn metrics(actual: &[f64], forecast: &[f64]) -> Metrics {
    let n = actual.len().min(forecast.len()).max(1) as f64;
    let errors = actual.iter().zip(forecast).map(|(a, f)| f - a);
    let rmse = (errors.clone().map(|e| e * e).sum::<f64>() / n).sqrt();
    let mae = errors.map(f64::abs).sum::<f64>() / n;
    let percent: Vec<f64> = actual
        .iter()
        .zip(forecast)
        .filter(|(a, _)| **a != 0.0)
        .map(|(a, f)| 100.0 * ((f - a) / a).abs())
        .collect();
    let mape = (!percent.is_empty()).then(|| percent.iter().sum::<f64>() / percent.len() as f64);
    Metrics { rmse, mae, mape }
}

/// One-step naive forecast of each test point: the true value just before it.
pub fn naive_one_step(values: &[f64], train_len: usize) -> Vec<f64> {
    (train_len..values.len()).map(|t| values[t - 1]).collect()
}

/// One-step seasonal-naive forecast: the true value `season` points before (`season ≤
/// train_len`).
pub fn seasonal_naive_one_step(values: &[f64], train_len: usize, season: usize) -> Vec<f64> {
    (train_len..values.len()).map(|t| values[t - season]).collect()
}

/// Naive forecast from the origin: the last training value, for every test point.
pub fn naive_from_origin(values: &[f64], train_len: usize) -> Vec<f64> {
    vec![values[train_len - 1]; values.len() - train_len]
}

/// Seasonal-naive forecast from the origin: the last training season, repeated.
pub fn seasonal_naive_from_origin(values: &[f64], train_len: usize, season: usize) -> Vec<f64> {
    let last_season = &values[train_len - season..train_len];
    (0..values.len() - train_len).map(|h| last_season[h % season]).collect()
}

/// How a forecast of the test span was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Horizon {
    /// Each step sees the true past.
    OneStep,
    /// Each step feeds on the forecasts before it, from the end of the training span.
    Recursive,
}

/// One line of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// One-step or recursive.
    pub horizon: Horizon,
    /// `"RNN"`, `"naive"` or `"seasonal naive (12)"`.
    pub method: String,
    /// Its errors on the test span.
    pub metrics: Metrics,
}

/// The comparison of the network's two forecasts with the baselines of the same kind.
///
/// `one_step` and `recursive` are the network's forecasts of the test span; `season` adds the
/// seasonal-naive rows when the series has a season that fits in the training span.
pub fn compare(
    values: &[f64],
    train_len: usize,
    season: Option<usize>,
    one_step: &[f64],
    recursive: &[f64],
) -> Vec<MetricRow> {
    let actual = &values[train_len..];
    let season = season.filter(|&s| s >= 1 && s <= train_len);
    let row = |horizon, method: String, forecast: &[f64]| MetricRow {
        horizon,
        method,
        metrics: metrics(actual, forecast),
    };
    let mut rows = vec![
        row(Horizon::OneStep, "RNN".into(), one_step),
        row(Horizon::OneStep, "naive".into(), &naive_one_step(values, train_len)),
    ];
    if let Some(s) = season {
        let forecast = seasonal_naive_one_step(values, train_len, s);
        rows.push(row(Horizon::OneStep, format!("seasonal naive ({s})"), &forecast));
    }
    rows.push(row(Horizon::Recursive, "RNN".into(), recursive));
    rows.push(row(Horizon::Recursive, "naive".into(), &naive_from_origin(values, train_len)));
    if let Some(s) = season {
        let forecast = seasonal_naive_from_origin(values, train_len, s);
        rows.push(row(Horizon::Recursive, format!("seasonal naive ({s})"), &forecast));
    }
    rows
}

impl Horizon {
    /// Column text: `one-step` or `recursive`.
    pub fn name(self) -> &'static str {
        match self {
            Horizon::OneStep => "one-step",
            Horizon::Recursive => "recursive",
        }
    }
}

/// A metric as the page and the command line print it: 4 significant digits, `—` when not
/// finite or not defined.
pub fn format_value(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => {
            let digits = if v == 0.0 { 0 } else { v.abs().log10().floor() as i32 };
            let decimals = (3 - digits).clamp(0, 6) as usize;
            format!("{v:.decimals$}")
        }
        _ => "—".to_string(),
    }
}

/// The table as text: a header and one aligned line per row.
pub fn format_table(rows: &[MetricRow]) -> String {
    let mut text = format!(
        "{:<10} {:<20} {:>12} {:>12} {:>10}\n",
        "forecast", "method", "RMSE", "MAE", "MAPE %"
    );
    for r in rows {
        text += &format!(
            "{:<10} {:<20} {:>12} {:>12} {:>10}\n",
            r.horizon.name(),
            r.method,
            format_value(Some(r.metrics.rmse)),
            format_value(Some(r.metrics.mae)),
            format_value(r.metrics.mape),
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_their_definitions() {
        // Errors 1, −3: RMSE √((1 + 9)/2) = √5, MAE 2, MAPE (1/2 + 3/4)/2 = 62.5 %.
        let m = metrics(&[2.0, 4.0], &[3.0, 1.0]);
        assert!((m.rmse - 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(m.mae, 2.0);
        assert!((m.mape.unwrap() - 62.5).abs() < 1e-12);
        // Zero actual values are left out of the MAPE.
        assert_eq!(metrics(&[0.0, 4.0], &[1.0, 5.0]).mape, Some(25.0));
        assert_eq!(metrics(&[0.0], &[1.0]).mape, None);
    }

    #[test]
    fn baselines_use_the_right_past_values() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(naive_one_step(&values, 4), vec![4.0, 5.0, 6.0]);
        assert_eq!(seasonal_naive_one_step(&values, 4, 2), vec![3.0, 4.0, 5.0]);
        assert_eq!(naive_from_origin(&values, 4), vec![4.0; 3]);
        assert_eq!(seasonal_naive_from_origin(&values, 4, 2), vec![3.0, 4.0, 3.0]);
    }

    #[test]
    fn numbers_print_with_four_significant_digits() {
        assert_eq!(format_value(Some(12.3456)), "12.35");
        assert_eq!(format_value(Some(0.012346)), "0.01235");
        assert_eq!(format_value(Some(4321.7)), "4322");
        assert_eq!(format_value(Some(f64::NAN)), "—");
        assert_eq!(format_value(None), "—");
    }
}
