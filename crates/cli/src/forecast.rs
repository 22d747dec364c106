//! `gradlab forecast` (train a recurrent forecaster on a CSV series and print the page's
//! metrics) and `gradlab pack-series` (check the real series and copy them into the assets).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use gradlab_core::forecast::catalogue::{CATALOGUE, INDEX_FILE, write_index};
use gradlab_core::forecast::metrics::format_table;
use gradlab_core::forecast::predict::evaluate;
use gradlab_core::forecast::rnn::CellKind;
use gradlab_core::forecast::series::read_csv_bytes;
use gradlab_core::forecast::train::{Progress, TrainConfig, train};
use gradlab_core::forecast::transform::{Scaling, TransformConfig};
use gradlab_core::forecast::{PrepareConfig, Prepared};

const USAGE: &str = "\
usage:
  gradlab forecast --series FILE.csv [--log] [--diff LAG] [--scale minmax|std|none]
          [--lookback 12] [--test 24] [--cell elman|lstm|gru] [--hidden 32] [--epochs 200]
          [--lr 0.01] [--batch 32] [--seed 7] [--season N]
      Train on all but the last --test points and print the losses and the RMSE, MAE and
      MAPE of the one-step and recursive forecasts of the test span beside the naive and
      seasonal-naive ones (the Forecast lab's table). The season comes from the time column
      (12 for months, 4 for quarters) unless --season is given.
  gradlab pack-series --from DIR [--out DIR]
      Check the ten real series against their catalogue entries and copy them, with an
      index of name, source, units and frequency, into assets/series.";

/// Runs `forecast` or `pack-series` with the arguments after the command name.
pub fn run(command: &str, args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args)?;
    match command {
        "forecast" => forecast(&flags),
        _ => pack_series(&flags),
    }
}

/// `--name value` pairs; `--log` stands alone.
struct Flags(Vec<(String, Option<String>)>);

impl Flags {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let name =
                arg.strip_prefix("--").ok_or(format!("unexpected argument {arg}\n{USAGE}"))?;
            if name == "help" {
                return Err(USAGE.to_string());
            }
            let value = if name == "log" {
                None
            } else {
                Some(iter.next().ok_or(format!("--{name} needs a value"))?.clone())
            };
            pairs.push((name.to_string(), value));
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("--{name}: '{v}' is not a valid number"))
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.get(name).map(PathBuf::from).ok_or(format!("--{name} is required\n{USAGE}"))
    }
}

fn forecast(flags: &Flags) -> Result<(), String> {
    let path = flags.path("series")?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let series = read_csv_bytes(&name, &bytes).map_err(|e| format!("{name}: {e}"))?;

    let scaling = flags.get("scale").unwrap_or("minmax");
    let transform = TransformConfig {
        log: flags.has("log"),
        diff: flags.get("diff").map(|_| flags.number("diff", 1)).transpose()?,
        scaling: Scaling::from_name(scaling)
            .ok_or(format!("--scale: '{scaling}' is not minmax, std or none"))?,
    };
    let prepare = PrepareConfig {
        transform,
        lookback: flags.number("lookback", 12)?,
        test_len: flags.number("test", 24)?,
    };
    let defaults = TrainConfig::default();
    let cell = flags.get("cell").unwrap_or("elman");
    let config = TrainConfig {
        cell: CellKind::from_name(cell)
            .ok_or(format!("--cell: '{cell}' is not elman, lstm or gru"))?,
        hidden: flags.number("hidden", defaults.hidden)?,
        epochs: flags.number("epochs", defaults.epochs)?,
        learning_rate: flags.number("lr", defaults.learning_rate)?,
        batch_size: flags.number("batch", defaults.batch_size)?,
        seed: flags.number("seed", defaults.seed)?,
    };
    let season = match flags.get("season") {
        Some(_) => Some(flags.number("season", 1)?),
        None => series.season,
    };

    let prepared = Prepared::new(&series.values, &prepare).map_err(|e| e.to_string())?;
    println!(
        "series {name}: {} {} points ({}..{}), train {}, test {}",
        series.len(),
        series.frequency.name(),
        series.times[0],
        series.times[series.len() - 1],
        prepared.train_len,
        prepared.test_len()
    );
    println!(
        "transform log {} diff {} scale {}; look-back {}; {} training and {} test windows",
        if transform.log { "yes" } else { "no" },
        transform.diff.map_or("none".to_string(), |d| d.to_string()),
        transform.scaling.name(),
        prepare.lookback,
        prepared.train.len(),
        prepared.test.len()
    );
    println!(
        "model {} hidden {}; Adam lr {} batch {} seed {}",
        config.cell.name(),
        config.hidden,
        config.learning_rate,
        config.batch_size,
        config.seed
    );

    let device = Device::flex().autodiff();
    let every = (config.epochs / 10).max(1);
    let report = |p: Progress| {
        if let Progress::Epoch(loss) = p
            && (loss.epoch % every == 0 || loss.epoch == 1)
        {
            println!(
                "epoch {:>4} train_loss {:.6} test_loss {:.6}",
                loss.epoch, loss.train, loss.test
            );
        }
        std::future::ready(true)
    };
    let trained = pollster::block_on(train(&prepared, &config, &device, report))
        .map_err(|e| e.to_string())?;
    println!("{}", trained.stop.describe(config.epochs));

    let result = pollster::block_on(evaluate(&trained.model, &prepared, season))
        .map_err(|e| e.to_string())?;
    print!("{}", format_table(&result.rows));
    Ok(())
}

fn pack_series(flags: &Flags) -> Result<(), String> {
    let from = flags.path("from")?;
    let out = flags.get("out").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/series"),
        PathBuf::from,
    );
    let mut entries = Vec::new();
    for entry in CATALOGUE {
        let source = from.join(entry.file);
        let bytes = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        entries.push((entry.check(&bytes).map_err(|e| e.to_string())?, bytes));
    }

    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (entry, bytes) in &entries {
        let target = out.join(&entry.file);
        std::fs::write(&target, bytes).map_err(|e| format!("{}: {e}", target.display()))?;
        println!(
            "{:<36} {:>5} {:<9} {}..{}",
            entry.file,
            entry.points,
            entry.frequency.name(),
            entry.first,
            entry.last
        );
    }
    let index: Vec<_> = entries.into_iter().map(|(e, _)| e).collect();
    let target = out.join(INDEX_FILE);
    std::fs::write(&target, write_index(&index))
        .map_err(|e| format!("{}: {e}", target.display()))?;
    println!("wrote {} series and {}", index.len(), target.display());
    Ok(())
}
