//! The Fit lab's training loops end to end on the CPU backend.

use burn::prelude::*;
use gradlab_core::fit::data::{DataConfig, Dataset, generate};
use gradlab_core::fit::mlp::{Penalty, PenaltyKind};
use gradlab_core::fit::regularise::assess;
use gradlab_core::fit::sweep::{SweepConfig, SweepEvent, sweep};
use gradlab_core::fit::train::{OptimizerKind, Start, Stop, TrainConfig, no_report, train};

fn device() -> Device {
    Device::flex().autodiff()
}

/// sin x on [−3, 3], 200 points, σ = 0.1, a quarter held out.
fn sin_data() -> Dataset {
    generate(&DataConfig::default()).unwrap()
}

#[test]
fn sixteen_tanh_units_fit_sin_down_to_the_noise() {
    // With σ = 0.1 no model can beat a validation MSE of about σ² = 0.01 on average. A reference
    // run (`gradlab fit --function sin --hidden 16 --repeats 3 --epochs 500`) reached 0.0102;
    // the bound leaves room for other platforms' rounding: twice the noise variance.
    let data = sin_data();
    let config = TrainConfig { hidden: 16, epochs: 500, ..TrainConfig::default() };
    let outcome =
        pollster::block_on(train(&data, &config, Start::Fresh, &[], &device(), no_report)).unwrap();
    assert_eq!(outcome.stop, Stop::Finished);
    assert_eq!(outcome.history.len(), 500);
    assert_eq!(outcome.history[0].epoch, 1);
    let first = outcome.history[0].validation;
    let best = outcome.best.expect("a best epoch");
    assert!(first > 0.1, "an untrained network is far off: {first}");
    assert!(best.validation_loss < 0.02, "{}", best.validation_loss);
    let best_in_history =
        outcome.history.iter().map(|e| e.validation).fold(f32::INFINITY, f32::min);
    assert_eq!(best.validation_loss, best_in_history);
}

#[test]
fn mini_batches_train_too() {
    let data = sin_data();
    let config =
        TrainConfig { hidden: 8, epochs: 40, batch_size: Some(32), ..TrainConfig::default() };
    let outcome =
        pollster::block_on(train(&data, &config, Start::Fresh, &[], &device(), no_report)).unwrap();
    let history = &outcome.history;
    assert!(history[39].train < history[0].train * 0.5, "{:?}", (history[0], history[39]));
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_model() {
    let data = sin_data();
    let config = TrainConfig {
        hidden: 16,
        epochs: 200,
        optimizer: OptimizerKind::Sgd { momentum: 0.9 },
        learning_rate: 50.0,
        ..TrainConfig::default()
    };
    let outcome =
        pollster::block_on(train(&data, &config, Start::Fresh, &[], &device(), no_report)).unwrap();
    let Stop::Diverged { epoch } = outcome.stop else {
        panic!("expected divergence, got {:?}", outcome.stop);
    };
    assert_eq!(outcome.history.len(), epoch - 1);
    let kept = pollster::block_on(assess(&outcome.model, &data, &[0.0])).unwrap();
    assert!(kept.train_loss.is_finite() && kept.curve[0].is_finite());
}

#[test]
fn the_hook_cancels_and_receives_the_curve() {
    let data = sin_data();
    let config = TrainConfig { hidden: 4, epochs: 100, ..TrainConfig::default() };
    let grid = [-1.0, 0.0, 1.0];
    let mut seen = Vec::new();
    let outcome = pollster::block_on(train(&data, &config, Start::Fresh, &grid, &device(), |r| {
        seen.push(r.curve.len());
        std::future::ready(r.losses.epoch < 3)
    }))
    .unwrap();
    assert_eq!(outcome.stop, Stop::Cancelled);
    assert_eq!(outcome.history.len(), 3);
    assert_eq!(seen, [3, 3, 3]);
}

#[test]
fn l2_continuation_numbers_epochs_on_and_shrinks_the_weights() {
    let data = sin_data();
    let device = device();
    let config = TrainConfig { hidden: 16, epochs: 100, ..TrainConfig::default() };
    let first =
        pollster::block_on(train(&data, &config, Start::Fresh, &[], &device, no_report)).unwrap();
    let before = pollster::block_on(assess(&first.model, &data, &[])).unwrap();

    let penalty = Penalty { kind: PenaltyKind::L2, lambda: 0.05 };
    let more = TrainConfig { epochs: 100, penalty: Some(penalty), ..config };
    let start = Start::From { model: Box::new(first.model), epochs_done: 100 };
    let second = pollster::block_on(train(&data, &more, start, &[], &device, no_report)).unwrap();
    assert_eq!(second.history[0].epoch, 101);
    assert_eq!(second.history.last().unwrap().epoch, 200);

    let after = pollster::block_on(assess(&second.model, &data, &[])).unwrap();
    assert!(after.weight_norm < before.weight_norm, "{} {}", before.weight_norm, after.weight_norm);
    // The reported penalty is λ·Σw² of the final weights.
    let reported = second.history.last().unwrap().penalty;
    let expected = 0.05 * after.weight_norm * after.weight_norm;
    assert!((reported - expected).abs() < 1e-4 * expected.max(1.0), "{reported} {expected}");
}

#[test]
fn a_sweep_scores_every_run_and_keeps_the_overall_best_model() {
    let data = sin_data();
    let config = SweepConfig {
        hidden_sizes: vec![1, 8],
        repeats: 2,
        train: TrainConfig { epochs: 60, ..TrainConfig::default() },
    };
    let mut done = Vec::new();
    let outcome = pollster::block_on(sweep(&data, &config, &device(), |event| {
        if let SweepEvent::RunDone(run) = event {
            done.push((run.hidden, run.repeat));
        }
        std::future::ready(true)
    }))
    .unwrap();
    assert_eq!(done, [(1, 0), (1, 1), (8, 0), (8, 1)]);
    assert_eq!(outcome.runs[1].seed, config.train.seed + 1);
    let lowest = outcome.runs.iter().map(|r| r.best_validation_loss).fold(f32::INFINITY, f32::min);
    let best = outcome.best.unwrap();
    assert_eq!(best.run.best_validation_loss, lowest);
    let check = pollster::block_on(assess(&best.model, &data, &[])).unwrap();
    assert!((check.validation_loss - lowest).abs() < 1e-6 * lowest.max(1.0));
}
