//! `gradlab`: the labs' operations from the command line, for reproducible runs and tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::prelude::*;
use gradlab_core::data::mnist::{Mnist, Split};
use gradlab_core::eval::{evaluate, no_progress};
use gradlab_core::models::{Cnn, CnnWeights};
use gradlab_core::train::{CnnTrainingConfig, train_cnn};

const USAGE: &str = "\
usage:
  gradlab train-cnn --mnist DIR [--out FILE] [--epochs N] [--seed N] [--limit N]
      Train the CNN on the MNIST training split (a seeded part is held out for validation)
      and write its weights (default: assets/cnn.gradlab).
  gradlab eval --mnist DIR [--model FILE] [--limit N]
      Print the accuracy on the MNIST test split: `accuracy 0.9921 (9921/10000)`.
  gradlab pack-test-set --mnist DIR [--out DIR]
      Check the test split and copy its original compressed IDX files into assets/mnist.";

/// Where the committed assets live, relative to this crate.
fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("train-cnn") => train(&Options::parse(&args[1..])),
        Some("eval") => eval(&Options::parse(&args[1..])),
        Some("pack-test-set") => pack_test_set(&Options::parse(&args[1..])),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gradlab: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs.
struct Options(Vec<(String, String)>);

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            let name = flag.strip_prefix("--").ok_or(format!("unexpected argument {flag}"))?;
            let value = iter.next().ok_or(format!("--{name} needs a value"))?;
            pairs.push((name.to_string(), value.clone()));
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.get(name).map(PathBuf::from).ok_or(format!("--{name} is required\n{USAGE}"))
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: '{v}' is not a number")),
        }
    }
}

fn load(dir: &Path, split: Split, limit: Option<usize>) -> Result<Mnist, String> {
    let set = Mnist::load(dir, split).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(match limit {
        Some(n) if n < set.len() => set.subset(&(0..n).collect::<Vec<_>>()),
        _ => set,
    })
}

fn train(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let defaults = CnnTrainingConfig::default();
    let config = CnnTrainingConfig {
        epochs: options.number("epochs", defaults.epochs)?,
        seed: options.number("seed", defaults.seed)?,
        ..defaults
    };
    let limit = options.get("limit").map(|_| options.number("limit", 0)).transpose()?;
    let data = load(&options.path("mnist")?, Split::Train, limit)?;
    let out = options.get("out").map_or_else(|| assets_dir().join("cnn.gradlab"), PathBuf::from);

    let started = Instant::now();
    let device = Device::flex().autodiff();
    let model = pollster::block_on(train_cnn(&data, &config, &device, |report| {
        println!(
            "epoch {} train_loss {:.4} validation_accuracy {:.4} elapsed {:.0}s",
            report.epoch,
            report.train_loss,
            report.validation_accuracy,
            started.elapsed().as_secs_f64()
        );
    }))
    .map_err(|e| e.to_string())?;

    let weights = pollster::block_on(model.valid().to_weights()).map_err(|e| e.to_string())?;
    std::fs::write(&out, weights.to_bytes()).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {} in {:.0}s", out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

fn eval(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let limit = options.get("limit").map(|_| options.number("limit", 0)).transpose()?;
    let test = load(&options.path("mnist")?, Split::Test, limit)?;
    let path = options.get("model").map_or_else(|| assets_dir().join("cnn.gradlab"), PathBuf::from);

    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let weights = CnnWeights::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let model = Cnn::from_weights(&weights, &Device::flex()).map_err(|e| e.to_string())?;

    let confusion = pollster::block_on(evaluate(&model, &test, 500, no_progress))
        .map_err(|e| e.to_string())?
        .expect("evaluation is never cancelled here");
    println!(
        "accuracy {:.4} ({}/{})",
        confusion.accuracy(),
        confusion.correct(),
        confusion.total()
    );
    Ok(())
}

fn pack_test_set(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let dir = options.path("mnist")?;
    let out = options.get("out").map_or_else(|| assets_dir().join("mnist"), PathBuf::from);
    let test = load(&dir, Split::Test, None)?;

    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(dir.join(name), out.join(name)).map_err(|e| format!("{name}: {e}"))?;
    }
    println!("copied {} test images and labels to {}", test.len(), out.display());
    Ok(())
}
