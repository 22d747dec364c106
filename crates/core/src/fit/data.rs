//! The Fit lab's data: samples of a nonlinear function with Gaussian noise, split at random
//! into a training and a validation set.
//!
//! `x` is evenly spaced over the chosen range; `y = f(x) + σ·ε` with `ε ~ N(0, 1)` drawn by
//! Box–Muller from [`SplitMix64`]; a seeded shuffle decides which points are held out. The
//! seed fixes the noise and the split on every platform.

use crate::rng::SplitMix64;

use super::formula::Formula;

/// The function the network has to learn.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `sin x`.
    Sin,
    /// `x · sin x`.
    XSinX,
    /// `sin x / x`, 1 at 0.
    Sinc,
    /// `|x|`.
    Abs,
    /// 0 for `x < 0`, 1 from 0 on.
    Step,
    /// `x³ − x`.
    Cubic,
    /// Runge's function `1 / (1 + 25x²)`.
    Runge,
    /// A formula typed by the student.
    Formula(Formula),
}

impl Target {
    /// The built-in functions, in the order the page lists them.
    pub const BUILT_IN: [Target; 7] = [
        Target::Sin,
        Target::XSinX,
        Target::Sinc,
        Target::Abs,
        Target::Step,
        Target::Cubic,
        Target::Runge,
    ];

    /// Short name used by the command line and the page (`sin`, `xsinx`, …, `formula`).
    pub fn name(&self) -> &'static str {
        match self {
            Target::Sin => "sin",
            Target::XSinX => "xsinx",
            Target::Sinc => "sinc",
            Target::Abs => "abs",
            Target::Step => "step",
            Target::Cubic => "cubic",
            Target::Runge => "runge",
            Target::Formula(_) => "formula",
        }
    }

    /// The function in mathematical notation.
    pub fn describe(&self) -> String {
        match self {
            Target::Sin => "sin x".into(),
            Target::XSinX => "x · sin x".into(),
            Target::Sinc => "sinc x = sin x / x".into(),
            Target::Abs => "|x|".into(),
            Target::Step => "step: 0 for x < 0, 1 for x ≥ 0".into(),
            Target::Cubic => "x³ − x".into(),
            Target::Runge => "Runge: 1 / (1 + 25x²)".into(),
            Target::Formula(formula) => formula.text().to_string(),
        }
    }

    /// The built-in function called `name` (see [`Target::name`]).
    pub fn built_in(name: &str) -> Option<Target> {
        Self::BUILT_IN.into_iter().find(|t| t.name() == name)
    }

    /// `f(x)`; NaN where a formula is undefined.
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Target::Sin => x.sin(),
            Target::XSinX => x * x.sin(),
            Target::Sinc if x == 0.0 => 1.0,
            Target::Sinc => x.sin() / x,
            Target::Abs => x.abs(),
            Target::Step if x < 0.0 => 0.0,
            Target::Step => 1.0,
            Target::Cubic => x * x * x - x,
            Target::Runge => 1.0 / (1.0 + 25.0 * x * x),
            Target::Formula(formula) => formula.eval(x),
        }
    }
}

/// Settings that define a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DataConfig {
    /// The function sampled.
    pub target: Target,
    /// Left end of the x range.
    pub x_min: f64,
    /// Right end of the x range.
    pub x_max: f64,
    /// Number of points, training and validation together.
    pub points: usize,
    /// Standard deviation σ of the Gaussian noise added to `f(x)`.
    pub noise: f64,
    /// Share of the points held out for validation, in (0, 1).
    pub validation_fraction: f64,
    /// Fixes the noise and the split.
    pub seed: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            target: Target::Sin,
            x_min: -3.0,
            x_max: 3.0,
            points: 200,
            noise: 0.1,
            validation_fraction: 0.25,
            seed: 1,
        }
    }
}

/// Largest number of points the lab accepts.
pub const MAX_POINTS: usize = 100_000;

/// Why a data set cannot be made from the settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// `x_min ≥ x_max` or a bound is not a finite number.
    #[error("the x range must go from a smaller to a larger finite number (got {0} to {1})")]
    Range(f64, f64),
    /// Fewer than 4 points or more than [`MAX_POINTS`].
    #[error("the number of points must be between 4 and {MAX_POINTS} (got {0})")]
    Points(usize),
    /// σ negative or not finite.
    #[error("the noise σ must be a finite number ≥ 0 (got {0})")]
    Noise(f64),
    /// The validation share leaves one of the sets empty.
    #[error(
        "the validation share {0} leaves no training or no validation point: choose a share \
         in (0, 1) that keeps at least one point on each side"
    )]
    Split(f64),
    /// The function is undefined or infinite somewhere in the range.
    #[error("f(x) is not a finite number at x = {0:.4}: choose another range or formula")]
    NotFinite(f64),
}

/// Training and validation points, each sorted by x.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Training inputs.
    pub train_x: Vec<f32>,
    /// Noisy training targets.
    pub train_y: Vec<f32>,
    /// Validation inputs.
    pub validation_x: Vec<f32>,
    /// Noisy validation targets.
    pub validation_y: Vec<f32>,
    /// Indices (into the evenly spaced grid of all points) of the training points.
    pub train_indices: Vec<usize>,
    /// Indices of the validation points.
    pub validation_indices: Vec<usize>,
}

impl Dataset {
    /// Number of training points.
    pub fn num_train(&self) -> usize {
        self.train_x.len()
    }

    /// Number of validation points.
    pub fn num_validation(&self) -> usize {
        self.validation_x.len()
    }
}

/// Number of validation points for `points` and a validation share.
pub fn validation_count(points: usize, fraction: f64) -> usize {
    (points as f64 * fraction).round() as usize
}

/// `x` of the `i`-th of `n` evenly spaced points from `x_min` to `x_max`.
fn grid_x(x_min: f64, x_max: f64, i: usize, n: usize) -> f64 {
    x_min + (x_max - x_min) * i as f64 / (n - 1).max(1) as f64
}

/// Makes the data set.
///
/// # Errors
/// [`DataError`] for settings out of range or a function that is not finite on the range.
pub fn generate(config: &DataConfig) -> Result<Dataset, DataError> {
    let (x_min, x_max) = (config.x_min, config.x_max);
    if !(x_min.is_finite() && x_max.is_finite() && x_min < x_max) {
        return Err(DataError::Range(x_min, x_max));
    }
    if !(4..=MAX_POINTS).contains(&config.points) {
        return Err(DataError::Points(config.points));
    }
    if !(config.noise.is_finite() && config.noise >= 0.0) {
        return Err(DataError::Noise(config.noise));
    }
    let n = config.points;
    let held_out = validation_count(n, config.validation_fraction);
    let fraction_ok = config.validation_fraction > 0.0 && config.validation_fraction < 1.0;
    if !fraction_ok || held_out == 0 || held_out >= n {
        return Err(DataError::Split(config.validation_fraction));
    }

    let mut rng = SplitMix64::new(config.seed);
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let xi = grid_x(x_min, x_max, i, n);
        let fi = config.target.eval(xi);
        if !fi.is_finite() {
            return Err(DataError::NotFinite(xi));
        }
        x.push(xi as f32);
        y.push((fi + config.noise * gaussian(&mut rng)) as f32);
    }

    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(config.seed ^ 0x5971_7a11_d5e7_0000).shuffle(&mut order);
    let mut validation_indices = order.split_off(n - held_out);
    let mut train_indices = order;
    train_indices.sort_unstable();
    validation_indices.sort_unstable();

    let pick = |values: &[f32], indices: &[usize]| indices.iter().map(|&i| values[i]).collect();
    Ok(Dataset {
        train_x: pick(&x, &train_indices),
        train_y: pick(&y, &train_indices),
        validation_x: pick(&x, &validation_indices),
        validation_y: pick(&y, &validation_indices),
        train_indices,
        validation_indices,
    })
}

/// One standard normal draw (Box–Muller, the cosine branch).
fn gaussian(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.unit(); // in (0, 1], so that ln(u1) is finite
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The speed benchmark's data: 1,250 evenly spaced points of sin x on [−π, π] with σ = 0.1, of
/// which 1,000 form the training batch and 250 the validation set (seed 1).
pub fn benchmark_data() -> Dataset {
    let config = DataConfig {
        target: Target::Sin,
        x_min: -std::f64::consts::PI,
        x_max: std::f64::consts::PI,
        points: 1250,
        noise: 0.1,
        validation_fraction: 0.2,
        seed: 1,
    };
    generate(&config).expect("the benchmark's settings are valid")
}

/// `samples` evenly spaced x values over the range, for drawing curves.
pub fn plot_grid(x_min: f64, x_max: f64, samples: usize) -> Vec<f32> {
    (0..samples).map(|i| grid_x(x_min, x_max, i, samples) as f32).collect()
}

/// The noise-free function on `xs`, for drawing (NaN where undefined).
pub fn truth_curve(target: &Target, xs: &[f32]) -> Vec<f32> {
    xs.iter().map(|&x| target.eval(f64::from(x)) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_disjoint_complete_and_fixed_by_the_seed() {
        let config = DataConfig { points: 101, validation_fraction: 0.3, ..DataConfig::default() };
        let a = generate(&config).unwrap();
        let b = generate(&config).unwrap();
        assert_eq!(a, b);

        // 101 · 0.3 = 30.3, rounded to 30 held out.
        assert_eq!(a.num_validation(), 30);
        assert_eq!(a.num_train(), 71);
        let mut all: Vec<usize> = a.train_indices.clone();
        all.extend(&a.validation_indices);
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>(), "disjoint and complete");

        let other = generate(&DataConfig { seed: 2, ..config }).unwrap();
        assert_ne!(other.validation_indices, a.validation_indices);
    }

    #[test]
    fn without_noise_the_points_lie_on_the_function() {
        let config = DataConfig {
            target: Target::Runge,
            x_min: -1.0,
            x_max: 1.0,
            points: 5,
            noise: 0.0,
            validation_fraction: 0.4,
            seed: 3,
        };
        let data = generate(&config).unwrap();
        // The grid is -1, -0.5, 0, 0.5, 1; Runge gives 1/26, 1/7.25, 1, 1/7.25, 1/26.
        let expected = |x: f32| match x {
            0.0 => 1.0,
            x if x.abs() == 0.5 => 1.0 / 7.25,
            _ => 1.0 / 26.0,
        };
        for (x, y) in data.train_x.iter().zip(&data.train_y) {
            assert!((y - expected(*x)).abs() < 1e-7, "{x} {y}");
        }
        assert_eq!(data.num_validation(), 2);
    }

    #[test]
    fn noise_has_the_chosen_spread() {
        let config = DataConfig {
            target: Target::Step,
            x_min: 0.0,
            x_max: 1.0,
            points: 20_000,
            noise: 0.5,
            validation_fraction: 0.5,
            seed: 9,
        };
        let data = generate(&config).unwrap();
        let residuals: Vec<f64> = data.train_y.iter().map(|&y| f64::from(y) - 1.0).collect();
        let mean = residuals.iter().sum::<f64>() / residuals.len() as f64;
        let var =
            residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / residuals.len() as f64;
        // 10,000 draws: the standard error of the mean is 0.005, of σ about 0.0035.
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.015, "{}", var.sqrt());
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = DataConfig::default();
        let bad = [
            DataConfig { x_min: 1.0, x_max: 1.0, ..base.clone() },
            DataConfig { points: 2, ..base.clone() },
            DataConfig { noise: -1.0, ..base.clone() },
            DataConfig { validation_fraction: 0.0, ..base.clone() },
            DataConfig { validation_fraction: 1.0, ..base.clone() },
            DataConfig {
                target: Target::Formula(Formula::parse("1/x").unwrap()),
                x_min: -1.0,
                x_max: 1.0,
                points: 5,
                ..base.clone()
            },
        ];
        for config in bad {
            assert!(generate(&config).is_err(), "{config:?}");
        }
    }

    #[test]
    fn built_in_functions_match_their_definitions() {
        let x = 0.7f64;
        assert_eq!(Target::XSinX.eval(x), x * x.sin());
        assert_eq!(Target::Sinc.eval(0.0), 1.0);
        assert_eq!(Target::Step.eval(-0.1), 0.0);
        assert_eq!(Target::Step.eval(0.0), 1.0);
        assert_eq!(Target::Cubic.eval(2.0), 6.0);
        assert_eq!(Target::built_in("runge"), Some(Target::Runge));
    }
}
