//! Sweeping the hidden size: several seeded runs per size, each scored by its best validation
//! loss over its epochs, and the size whose mean score is lowest.

use std::future::Future;

use burn::prelude::*;

use super::FitError;
use super::data::Dataset;
use super::mlp::Mlp;
use super::train::{BestModel, EpochLosses, Start, Stop, TrainConfig, train};

/// Settings of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// The hidden sizes tried, in order.
    pub hidden_sizes: Vec<usize>,
    /// Runs per size; repeat `r` uses seed `train.seed + r`.
    pub repeats: usize,
    /// Everything else about each run (its `hidden` is replaced by the size tried).
    pub train: TrainConfig,
}

/// One finished run of a sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepRun {
    /// Hidden units.
    pub hidden: usize,
    /// 0-based repeat.
    pub repeat: usize,
    /// The seed used.
    pub seed: u64,
    /// Lowest validation loss over its epochs (infinite when no epoch completed).
    pub best_validation_loss: f32,
    /// The epoch where it was reached.
    pub best_epoch: Option<usize>,
    /// True when the run stopped on a NaN or infinite loss.
    pub diverged: bool,
}

/// What the sweep's hook receives.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepEvent {
    /// An epoch of run `run` (0-based, of `runs`) finished.
    Epoch {
        /// Index of the run.
        run: usize,
        /// Number of runs in the sweep.
        runs: usize,
        /// Epochs done in this run.
        epoch: usize,
    },
    /// A run finished.
    RunDone(SweepRun),
}

/// The model with the lowest validation loss of the whole sweep.
#[derive(Debug, Clone)]
pub struct SweepBest {
    /// Its run.
    pub run: SweepRun,
    /// The network at its best epoch.
    pub model: Mlp,
    /// Losses of its run up to and including the best epoch, so that a continued run can
    /// extend the curve.
    pub history: Vec<EpochLosses>,
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// Every finished run, in order.
    pub runs: Vec<SweepRun>,
    /// The best model over all runs (`None` if no run completed an epoch).
    pub best: Option<SweepBest>,
    /// True when the hook asked to stop.
    pub cancelled: bool,
}

/// Scores of one hidden size over its repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeSummary {
    /// Hidden units.
    pub hidden: usize,
    /// Mean of the finite best validation losses (NaN if none).
    pub mean: f32,
    /// Smallest of them.
    pub min: f32,
    /// Largest of them.
    pub max: f32,
    /// Runs with a finite score.
    pub count: usize,
}

/// Per-size summaries, in order of hidden size.
pub fn summarise(runs: &[SweepRun]) -> Vec<SizeSummary> {
    let mut sizes: Vec<usize> = runs.iter().map(|r| r.hidden).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .into_iter()
        .map(|hidden| {
            let scores: Vec<f32> = runs
                .iter()
                .filter(|r| r.hidden == hidden && r.best_validation_loss.is_finite())
                .map(|r| r.best_validation_loss)
                .collect();
            let count = scores.len();
            SizeSummary {
                hidden,
                mean: scores.iter().sum::<f32>() / count as f32,
                min: scores.iter().copied().fold(f32::INFINITY, f32::min),
                max: scores.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                count,
            }
        })
        .collect()
}

/// Index of the size with the lowest mean best validation loss (the smaller size on a tie);
/// `None` when no size has a finite score.
pub fn best_size(summaries: &[SizeSummary]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, s) in summaries.iter().enumerate() {
        if s.count > 0 && best.is_none_or(|b| s.mean < summaries[b].mean) {
            best = Some(i);
        }
    }
    best
}

/// Parses hidden sizes written as `1,2,4` or with ranges `8-10` (every integer in between), in
/// the order given.
///
/// # Errors
/// [`FitError::Setting`] naming the item that is neither a size nor a range.
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, FitError> {
    let mut sizes = Vec::new();
    for item in text.split(',').map(str::trim) {
        let bad =
            || FitError::Setting(format!("'{item}' is not a hidden size or a range like 8-16"));
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(FitError::Setting(format!("the range {item} is empty")));
                }
                sizes.extend(a..=b);
            }
            None => sizes.push(number(item)?),
        }
    }
    if let Some(&bad) = sizes.iter().find(|&&h| h == 0 || h > super::train::MAX_HIDDEN) {
        return Err(FitError::Setting(format!(
            "hidden size {bad} is out of range (1 to {})",
            super::train::MAX_HIDDEN
        )));
    }
    if sizes.len() > 256 {
        return Err(FitError::Setting("at most 256 hidden sizes per sweep".into()));
    }
    Ok(sizes)
}

/// Runs the sweep on an autodiff `device`; `on_event` is awaited after every epoch and every
/// run, and stops the sweep when it answers `false`.
///
/// # Errors
/// [`FitError`] for invalid settings or a device failure.
pub async fn sweep<F, Fut>(
    data: &Dataset,
    config: &SweepConfig,
    device: &Device,
    mut on_event: F,
) -> Result<SweepOutcome, FitError>
where
    F: FnMut(SweepEvent) -> Fut,
    Fut: Future<Output = bool>,
{
    if config.hidden_sizes.is_empty() || config.repeats == 0 {
        return Err(FitError::Setting("give at least one hidden size and one repeat".into()));
    }
    let runs_total = config.hidden_sizes.len() * config.repeats;
    let mut runs = Vec::with_capacity(runs_total);
    let mut best: Option<SweepBest> = None;
    for (index, (hidden, repeat)) in config
        .hidden_sizes
        .iter()
        .flat_map(|&h| (0..config.repeats).map(move |r| (h, r)))
        .enumerate()
    {
        let seed = config.train.seed.wrapping_add(repeat as u64);
        let run_config = TrainConfig { hidden, seed, penalty: None, ..config.train.clone() };
        let outcome = train(data, &run_config, Start::Fresh, &[], device, |report| {
            let event =
                SweepEvent::Epoch { run: index, runs: runs_total, epoch: report.losses.epoch };
            on_event(event)
        })
        .await?;
        if outcome.stop == Stop::Cancelled {
            // A cut-short run is not scored.
            return Ok(SweepOutcome { runs, best, cancelled: true });
        }

        let run = SweepRun {
            hidden,
            repeat,
            seed,
            best_validation_loss: outcome
                .best
                .as_ref()
                .map_or(f32::INFINITY, |b| b.validation_loss),
            best_epoch: outcome.best.as_ref().map(|b| b.epoch),
            diverged: matches!(outcome.stop, Stop::Diverged { .. }),
        };
        if let Some(BestModel { model, validation_loss, epoch }) = outcome.best
            && best.as_ref().is_none_or(|b| validation_loss < b.run.best_validation_loss)
        {
            let history = outcome.history[..epoch.min(outcome.history.len())].to_vec();
            best = Some(SweepBest { run, model, history });
        }
        runs.push(run);
        if !on_event(SweepEvent::RunDone(run)).await {
            return Ok(SweepOutcome { runs, best, cancelled: true });
        }
    }
    Ok(SweepOutcome { runs, best, cancelled: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hidden: usize, repeat: usize, loss: f32) -> SweepRun {
        SweepRun {
            hidden,
            repeat,
            seed: repeat as u64,
            best_validation_loss: loss,
            best_epoch: Some(1),
            diverged: false,
        }
    }

    #[test]
    fn the_sweep_picks_the_size_with_the_lowest_mean_best_loss() {
        // Means by hand: size 1: (0.30 + 0.50)/2 = 0.40; size 4: (0.10 + 0.30)/2 = 0.20;
        // size 16: (0.05 + 0.45)/2 = 0.25. Size 16 holds the single lowest run, but size 4
        // has the lowest mean.
        let runs = [
            run(16, 0, 0.05),
            run(1, 0, 0.30),
            run(1, 1, 0.50),
            run(4, 0, 0.10),
            run(4, 1, 0.30),
            run(16, 1, 0.45),
        ];
        let summaries = summarise(&runs);
        assert_eq!(summaries.iter().map(|s| s.hidden).collect::<Vec<_>>(), [1, 4, 16]);
        assert!((summaries[0].mean - 0.40).abs() < 1e-6);
        assert!((summaries[1].mean - 0.20).abs() < 1e-6);
        assert!((summaries[2].mean - 0.25).abs() < 1e-6);
        assert_eq!((summaries[2].min, summaries[2].max), (0.05, 0.45));
        assert_eq!(best_size(&summaries), Some(1));
    }

    #[test]
    fn sizes_parse_from_lists_and_ranges() {
        assert_eq!(parse_sizes("1, 2,4-6").unwrap(), [1, 2, 4, 5, 6]);
        assert!(parse_sizes("1,x").is_err());
        assert!(parse_sizes("8-4").is_err());
        assert!(parse_sizes("0").is_err());
    }

    #[test]
    fn diverged_runs_do_not_count_and_ties_go_to_the_smaller_size() {
        let runs = [run(2, 0, 0.2), run(8, 0, 0.2), run(8, 1, f32::INFINITY), run(32, 0, f32::NAN)];
        let summaries = summarise(&runs);
        assert_eq!(summaries[1].count, 1);
        assert_eq!(summaries[2].count, 0);
        assert_eq!(best_size(&summaries), Some(0));
        assert_eq!(best_size(&summaries[2..]), None);
    }
}
