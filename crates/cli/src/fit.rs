//! `gradlab fit`: the Fit lab's hidden-size sweep (and optional regularisation) from the command
//! line; `gradlab bench-fit`: epochs per second of the lab's training loop.

use std::time::Instant;

use burn::prelude::*;
use gradlab_core::fit::data::{DataConfig, Dataset, Target, benchmark_data, generate};
use gradlab_core::fit::formula::Formula;
use gradlab_core::fit::mlp::{Activation, Penalty, PenaltyKind};
use gradlab_core::fit::regularise::{assess, mean_abs_weight, penalty_warning};
use gradlab_core::fit::sweep::{SweepConfig, SweepEvent, best_size, parse_sizes, summarise, sweep};
use gradlab_core::fit::train::{OptimizerKind, Start, TrainConfig, no_report, train};

use crate::Options;

const USAGE: &str = "\
usage:
  gradlab fit [--function sin|xsinx|sinc|abs|step|cubic|runge | --formula TEXT]
          [--x-min A] [--x-max B] [--points N] [--noise SIGMA] [--validation SHARE]
          [--data-seed N] [--hidden 1,2,4,8-10] [--repeats R] [--epochs N]
          [--activation tanh|relu|sigmoid] [--optimizer adam|sgd] [--momentum B] [--lr ETA]
          [--batch N] [--seed N] [--l2 LAMBDA | --l1 LAMBDA] [--more-epochs N]
      Sweep the hidden size: one line per size with its best validation loss (mean over the
      repeats, which use seeds N, N+1, ...), then the chosen size. With --l2 or --l1, the best
      model trains --more-epochs more epochs on the penalised loss and its scores before and
      after are printed.
  gradlab bench-fit [--epochs N] [--repeats R]
      Milliseconds per epoch and epochs per second of full-batch Adam on 1,000 points of sin x
      (MLP 1-H-1, tanh), for H = 4, 16 and 64, on the CPU backend: the median over R runs of
      epochs 2..N, the losses read back once per epoch.";

/// Runs `gradlab fit` or `gradlab bench-fit`.
pub fn run(command: &str, options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(|e| format!("{e}\n{USAGE}"))?;
    match command {
        "bench-fit" => bench(options),
        _ => fit(options),
    }
}

fn data_config(options: &Options) -> Result<DataConfig, String> {
    let defaults = DataConfig::default();
    let target = match (options.get("formula"), options.get("function")) {
        (Some(text), _) => {
            let formula = Formula::parse(text).map_err(|e| match e.pointer(text) {
                Some(pointer) => format!("--formula: {}\n{pointer}", e.message),
                None => format!("--formula: {e}"),
            })?;
            Target::Formula(formula)
        }
        (None, Some(name)) => Target::built_in(name)
            .ok_or(format!("--function: unknown function '{name}'\n{USAGE}"))?,
        (None, None) => defaults.target.clone(),
    };
    Ok(DataConfig {
        target,
        x_min: options.number("x-min", defaults.x_min)?,
        x_max: options.number("x-max", defaults.x_max)?,
        points: options.number("points", defaults.points)?,
        noise: options.number("noise", defaults.noise)?,
        validation_fraction: options.number("validation", defaults.validation_fraction)?,
        seed: options.number("data-seed", defaults.seed)?,
    })
}

fn train_config(options: &Options) -> Result<TrainConfig, String> {
    let defaults = TrainConfig::default();
    let activation = match options.get("activation") {
        None => defaults.activation,
        Some(name) => Activation::from_name(name)
            .ok_or(format!("--activation: unknown activation '{name}'"))?,
    };
    let optimizer = match options.get("optimizer").unwrap_or("adam") {
        "adam" => OptimizerKind::Adam,
        "sgd" => OptimizerKind::Sgd { momentum: options.number("momentum", 0.9)? },
        other => return Err(format!("--optimizer: '{other}' is neither adam nor sgd")),
    };
    let batch_size = match options.get("batch") {
        None => None,
        Some(_) => Some(options.number("batch", 0)?),
    };
    Ok(TrainConfig {
        activation,
        optimizer,
        learning_rate: options.number("lr", defaults.learning_rate)?,
        batch_size,
        epochs: options.number("epochs", defaults.epochs)?,
        seed: options.number("seed", defaults.seed)?,
        ..defaults
    })
}

fn penalty(options: &Options) -> Result<Option<Penalty>, String> {
    match (options.get("l2"), options.get("l1")) {
        (Some(_), Some(_)) => Err("choose --l2 or --l1, not both".into()),
        (Some(_), None) => {
            Ok(Some(Penalty { kind: PenaltyKind::L2, lambda: options.number("l2", 0.0)? }))
        }
        (None, Some(_)) => {
            Ok(Some(Penalty { kind: PenaltyKind::L1, lambda: options.number("l1", 0.0)? }))
        }
        (None, None) => Ok(None),
    }
}

fn fit(options: &Options) -> Result<(), String> {
    let data = generate(&data_config(options)?).map_err(|e| e.to_string())?;
    let config = SweepConfig {
        hidden_sizes: parse_sizes(options.get("hidden").unwrap_or("1,2,4,8,16,32"))
            .map_err(|e| format!("--hidden: {e}"))?,
        repeats: options.number("repeats", 3)?,
        train: train_config(options)?,
    };
    let penalty = penalty(options)?;
    let device = Device::flex().autodiff();

    let outcome = pollster::block_on(sweep(&data, &config, &device, |event| {
        if let SweepEvent::RunDone(run) = event {
            eprintln!(
                "  hidden {:>3} repeat {} best validation loss {:.6} at epoch {}{}",
                run.hidden,
                run.repeat,
                run.best_validation_loss,
                run.best_epoch.map_or("-".into(), |e| e.to_string()),
                if run.diverged { " (diverged)" } else { "" }
            );
        }
        std::future::ready(true)
    }))
    .map_err(|e| e.to_string())?;

    let summaries = summarise(&outcome.runs);
    for s in &summaries {
        println!(
            "hidden {:>3} best validation loss {:.6} (mean of {}; min {:.6}, max {:.6})",
            s.hidden, s.mean, s.count, s.min, s.max
        );
    }
    let chosen = best_size(&summaries).ok_or("every run diverged: lower the learning rate")?;
    println!("chosen hidden size {}", summaries[chosen].hidden);

    let (Some(penalty), Some(best)) = (penalty, outcome.best) else {
        return Ok(());
    };
    println!(
        "best model: hidden {} seed {} validation loss {:.6} at epoch {}",
        best.run.hidden,
        best.run.seed,
        best.run.best_validation_loss,
        best.run.best_epoch.unwrap_or(0)
    );
    regularise(options, &data, &config.train, penalty, best.model, &device)
}

fn regularise(
    options: &Options,
    data: &Dataset,
    base: &TrainConfig,
    penalty: Penalty,
    model: gradlab_core::fit::mlp::Mlp,
    device: &Device,
) -> Result<(), String> {
    let mean_abs = pollster::block_on(mean_abs_weight(&model)).map_err(|e| e.to_string())?;
    let warning =
        penalty_warning(base.optimizer, base.learning_rate, penalty.kind, penalty.lambda, mean_abs);
    if let Some(warning) = warning {
        eprintln!("warning: {}", warning.message);
    }
    let before = pollster::block_on(assess(&model, data, &[])).map_err(|e| e.to_string())?;
    let config = TrainConfig {
        epochs: options.number("more-epochs", base.epochs)?,
        penalty: Some(penalty),
        ..base.clone()
    };
    let start = Start::From { model: Box::new(model), epochs_done: 0 };
    let outcome = pollster::block_on(train(data, &config, start, &[], device, no_report))
        .map_err(|e| e.to_string())?;
    let after = pollster::block_on(assess(&outcome.model, data, &[])).map_err(|e| e.to_string())?;

    println!(
        "{} λ = {}, {} more epochs ({:?})",
        penalty.kind.name(),
        penalty.lambda,
        config.epochs,
        outcome.stop
    );
    println!("{:<8} {:>12} {:>12} {:>12}", "", "train loss", "val loss", "‖w‖₂");
    for (name, a) in [("before", &before), ("after", &after)] {
        println!(
            "{name:<8} {:>12.6} {:>12.6} {:>12.4}",
            a.train_loss, a.validation_loss, a.weight_norm
        );
    }
    Ok(())
}

/// The benchmark's workload: 1,250 evenly spaced points of sin x on [−π, π] with σ = 0.1, of
/// which 1,000 form the full training batch and 250 the validation set. Each epoch is the lab's
/// own: one Adam step on the 1,000 points, a forward pass on the 250 validation points and one
/// read of both losses (the TF.js loop has no validation pass, so ours does a little more).
fn bench(options: &Options) -> Result<(), String> {
    let epochs: usize = options.number("epochs", 200)?;
    let repeats: usize = options.number("repeats", 3)?;
    if epochs < 2 || repeats == 0 {
        return Err("bench-fit needs --epochs ≥ 2 and --repeats ≥ 1".into());
    }
    let data = benchmark_data();
    let device = Device::flex().autodiff();
    println!("MLP 1-H-1 tanh, Adam, full batch of {} points, {epochs} epochs", data.num_train());
    println!("{:>4} {:>12} {:>12}", "H", "ms/epoch", "epochs/s");
    for hidden in [4, 16, 64] {
        let mut per_epoch = Vec::new();
        for repeat in 0..repeats {
            let config = TrainConfig {
                hidden,
                epochs,
                seed: repeat as u64 + 1,
                learning_rate: 0.01,
                ..TrainConfig::default()
            };
            // Epoch 1 (set-up, first allocations) is left out, as in the TF.js figures.
            let mut first: Option<Instant> = None;
            let mut last = Instant::now();
            pollster::block_on(train(&data, &config, Start::Fresh, &[], &device, |_| {
                last = Instant::now();
                first.get_or_insert(last);
                std::future::ready(true)
            }))
            .map_err(|e| e.to_string())?;
            let first = first.ok_or("no epoch ran")?;
            per_epoch.push((last - first).as_secs_f64() * 1e3 / (epochs - 1) as f64);
        }
        per_epoch.sort_by(f64::total_cmp);
        let median = per_epoch[per_epoch.len() / 2];
        println!("{hidden:>4} {median:>12.3} {:>12.0}", 1e3 / median);
    }
    Ok(())
}
