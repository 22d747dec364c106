//! Simulated series whose structure is known: a noisy sine, an AR(2) process and a linear trend
//! with a seasonal cycle. Each is fixed by its parameters and a seed.

use super::series::{Frequency, Series};
use crate::rng::SplitMix64;

/// Which process to simulate, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Process {
    /// `y_t = amplitude · sin(2π t / period) + ε_t`.
    Sine { period: f64, amplitude: f64 },
    /// `y_t = phi1 · y_{t-1} + phi2 · y_{t-2} + ε_t`, started from `y_{-1} = y_{-2} = 0`.
    Ar2 { phi1: f64, phi2: f64 },
    /// `y_t = level + slope · t + amplitude · sin(2π t / period) + ε_t`.
    TrendSeasonal { level: f64, slope: f64, period: f64, amplitude: f64 },
}

/// A simulation: the process, the noise and the length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// The deterministic part.
    pub process: Process,
    /// Standard deviation of the Gaussian noise `ε_t` (0 for none).
    pub noise: f64,
    /// Number of points.
    pub length: usize,
    /// Fixes the noise.
    pub seed: u64,
}

/// Parameters that do not describe a usable series.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    /// A parameter is NaN, infinite or out of its range.
    #[error("{name} must be {rule}")]
    Parameter { name: &'static str, rule: &'static str },
    /// The AR(2) coefficients lie outside the stationarity triangle, so the series explodes.
    #[error(
        "AR(2) with phi1 = {phi1} and phi2 = {phi2} is not stationary: it needs |phi2| < 1, \
         phi1 + phi2 < 1 and phi2 − phi1 < 1"
    )]
    NotStationary { phi1: f64, phi2: f64 },
}

impl Simulation {
    /// Draws the series. Time stamps are 1, 2, …; the seasonal lag is the period when it is a
    /// whole number.
    ///
    /// # Errors
    /// [`SimulationError`] for a bad parameter or an explosive AR(2).
    pub fn generate(&self) -> Result<Series, SimulationError> {
        self.check()?;
        let mut rng = SplitMix64::new(self.seed);
        let mut noise = || self.noise * standard_normal(&mut rng);
        let wave = |t: f64, period: f64| (std::f64::consts::TAU * t / period).sin();

        let mut values = Vec::with_capacity(self.length);
        for t in 0..self.length {
            let time = t as f64;
            let value = match self.process {
                Process::Sine { period, amplitude } => amplitude * wave(time, period) + noise(),
                Process::Ar2 { phi1, phi2 } => {
                    let back = |k: usize| if t >= k { values[t - k] } else { 0.0 };
                    phi1 * back(1) + phi2 * back(2) + noise()
                }
                Process::TrendSeasonal { level, slope, period, amplitude } => {
                    level + slope * time + amplitude * wave(time, period) + noise()
                }
            };
            values.push(value);
        }

        let period = match self.process {
            Process::Sine { period, .. } | Process::TrendSeasonal { period, .. } => Some(period),
            Process::Ar2 { .. } => None,
        };
        let season = period.filter(|p| p.fract() == 0.0 && *p >= 2.0).map(|p| p as usize);
        Ok(Series {
            name: self.describe(),
            times: (1..=self.length).map(|t| t.to_string()).collect(),
            values,
            frequency: Frequency::Index,
            season,
            units: "simulated units".to_string(),
            source: format!("simulated, seed {}", self.seed),
        })
    }

    /// A one-line description with every parameter, e.g. `sine (period 20, amplitude 1) + noise
    /// 0.1`.
    pub fn describe(&self) -> String {
        let process = match self.process {
            Process::Sine { period, amplitude } => {
                format!("sine (period {period}, amplitude {amplitude})")
            }
            Process::Ar2 { phi1, phi2 } => format!("AR(2) (phi1 {phi1}, phi2 {phi2})"),
            Process::TrendSeasonal { level, slope, period, amplitude } => format!(
                "trend + season (level {level}, slope {slope}, period {period}, amplitude \
                 {amplitude})"
            ),
        };
        format!("{process} + noise {}", self.noise)
    }

    fn check(&self) -> Result<(), SimulationError> {
        let finite = |name, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(SimulationError::Parameter { name, rule: "a finite number" })
            }
        };
        finite("the noise", self.noise)?;
        if self.noise < 0.0 {
            return Err(SimulationError::Parameter { name: "the noise", rule: "0 or more" });
        }
        if !(super::series::MIN_POINTS..=100_000).contains(&self.length) {
            return Err(SimulationError::Parameter {
                name: "the length",
                rule: "from 16 to 100000 points",
            });
        }
        match self.process {
            Process::Sine { period, amplitude } => {
                finite("the amplitude", amplitude)?;
                check_period(period)
            }
            Process::TrendSeasonal { level, slope, period, amplitude } => {
                finite("the level", level)?;
                finite("the slope", slope)?;
                finite("the amplitude", amplitude)?;
                check_period(period)
            }
            Process::Ar2 { phi1, phi2 } => {
                finite("phi1", phi1)?;
                finite("phi2", phi2)?;
                if phi2.abs() < 1.0 && phi1 + phi2 < 1.0 && phi2 - phi1 < 1.0 {
                    Ok(())
                } else {
                    Err(SimulationError::NotStationary { phi1, phi2 })
                }
            }
        }
    }
}

fn check_period(period: f64) -> Result<(), SimulationError> {
    if period.is_finite() && period >= 2.0 {
        Ok(())
    } else {
        Err(SimulationError::Parameter { name: "the period", rule: "at least 2 points" })
    }
}

/// A standard normal draw by the Box–Muller transform (one of the pair is used).
fn standard_normal(rng: &mut SplitMix64) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.unit();
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noiseless_sine_is_the_formula() {
        let sim = Simulation {
            process: Process::Sine { period: 8.0, amplitude: 2.0 },
            noise: 0.0,
            length: 32,
            seed: 1,
        };
        let series = sim.generate().unwrap();
        // sin(2π·2/8) = sin(π/2) = 1; sin(2π·6/8) = −1.
        assert!((series.values[2] - 2.0).abs() < 1e-12);
        assert!((series.values[6] + 2.0).abs() < 1e-12);
        assert_eq!(series.season, Some(8));
    }

    #[test]
    fn noise_has_the_requested_spread_and_is_fixed_by_the_seed() {
        let sim = Simulation {
            process: Process::TrendSeasonal { level: 0.0, slope: 0.0, period: 4.0, amplitude: 0.0 },
            noise: 3.0,
            length: 20_000,
            seed: 9,
        };
        let values = sim.generate().unwrap().values;
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        // Standard error of the mean is 3/√20000 ≈ 0.02; of the sd, about 3/√40000 = 0.015.
        assert!(mean.abs() < 0.1, "{mean}");
        assert!((var.sqrt() - 3.0).abs() < 0.1, "{}", var.sqrt());
        assert_eq!(values, sim.generate().unwrap().values);
    }

    #[test]
    fn ar2_follows_its_recursion_and_rejects_explosive_coefficients() {
        let sim = Simulation {
            process: Process::Ar2 { phi1: 0.5, phi2: -0.3 },
            noise: 1.0,
            length: 100,
            seed: 4,
        };
        let y = sim.generate().unwrap().values;
        // The residual of the recursion is the noise itself: the seed's normal draws.
        let mut rng = SplitMix64::new(4);
        let noise: Vec<f64> = (0..100).map(|_| standard_normal(&mut rng)).collect();
        assert!((y[0] - noise[0]).abs() < 1e-12);
        assert!((y[1] - 0.5 * y[0] - noise[1]).abs() < 1e-12);
        for t in 2..100 {
            let residual = y[t] - 0.5 * y[t - 1] + 0.3 * y[t - 2];
            assert!((residual - noise[t]).abs() < 1e-12, "t = {t}");
        }

        let explosive = Simulation { process: Process::Ar2 { phi1: 0.9, phi2: 0.2 }, ..sim };
        assert!(matches!(explosive.generate(), Err(SimulationError::NotStationary { .. })));
    }
}
