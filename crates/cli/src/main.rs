//! `gradlab`: the labs' operations from the command line, for reproducible runs and tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod attack;
mod defend;
mod fit;
mod forecast;

use burn::prelude::*;
use gradlab_core::data::mnist::{Mnist, Split};
use gradlab_core::eval::{evaluate, no_progress};
use gradlab_core::models::flux::{FluxForm, suggest_options};
use gradlab_core::models::{Cnn, Domain, ImportOptions, ModelFile};
use gradlab_core::train::{CnnTrainingConfig, train_cnn};

const USAGE: &str = "\
usage:
  gradlab train-cnn --mnist DIR [--out FILE] [--epochs N] [--seed N] [--limit N]
      Train the CNN on the MNIST training split (a seeded part is held out for validation)
      and write its weights (default: assets/cnn.gradlab).
  gradlab eval --mnist DIR [--model FILE] [--limit N] [--domain 01|pm1] [--transpose]
      Print the accuracy on the MNIST test split: `accuracy 0.9921 (9921/10000)`.
      FILE is a gradlab weight file or a Flux CNN saved with BSON.jl (told apart by content).
      For Flux files, --domain is the input range the model was trained on (default 01:
      [0, 1]; pm1: [-1, 1]) and --transpose says that Julia's first image dimension was the
      column rather than the row.
  gradlab inspect --model FILE [--mnist DIR] [--limit N]
      Describe a model file (layers, parameters, what a Flux file records about itself); with
      --mnist, the accuracy of a Flux model on the first N test images (default 500) under
      each orientation and input range, and the best of them.
  gradlab attack --mnist DIR [--model FILE] --form untargeted|targeted [--target K]
          --eps 0,0.05,0.1,... [--limit N]
      Accuracy on the test split under the Fast Gradient Sign attack, one `eps accuracy` line
      per epsilon (inputs in [-1, 1]: epsilon 0.2 here is 0.1 for pixels in [0, 1]).
  gradlab adv-train --mnist DIR [--model FILE] [--eps 0.2] [--alpha 0.5] [--epochs 1]
          [--limit N] [--out FILE]
      Fine-tune the model on alpha·CE(x) + (1 − alpha)·CE(x_FGSM) over the training split and
      print accuracy under FGSM before and after on the test split.
  gradlab fit --function NAME --hidden 1,2,4,... [--repeats N] [--epochs N] ...
      The Fit lab's sweep of the hidden size (`gradlab fit --help` for every option);
      `gradlab bench-fit` measures its epochs per second.
  gradlab forecast --series FILE.csv [--log] [--diff 1|12] [--scale minmax|std] ...
      The Forecast lab's training and metrics (`gradlab forecast --help`);
      `gradlab pack-series --from DIR` copies and indexes the real series into assets/series.
  gradlab pack-test-set --mnist DIR [--out DIR] [--train N]
      Check the test split and copy its original compressed IDX files into assets/mnist, and
      write the first N training images (default 10,000) there as compressed IDX files.";

/// Where the committed assets live, relative to this crate.
fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("train-cnn") => train(&Options::parse(&args[1..])),
        Some("eval") => eval(&Options::parse(&args[1..])),
        Some("inspect") => inspect(&Options::parse(&args[1..])),
        Some("pack-test-set") => pack_test_set(&Options::parse(&args[1..])),
        Some("attack") => attack::run(&Options::parse(&args[1..])),
        Some("adv-train") => defend::run(&Options::parse(&args[1..])),
        Some(name @ ("fit" | "bench-fit")) => fit::run(name, &Options::parse(&args[1..])),
        Some(command @ ("forecast" | "pack-series")) => forecast::run(command, &args[1..]),
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

/// Flags that take no value.
const SWITCHES: [&str; 1] = ["transpose"];

/// `--name value` pairs, and switches (`--transpose`) with an empty value.
struct Options(Vec<(String, String)>);

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            let name = flag.strip_prefix("--").ok_or(format!("unexpected argument {flag}"))?;
            if SWITCHES.contains(&name) {
                pairs.push((name.to_string(), String::new()));
                continue;
            }
            let value = iter.next().ok_or(format!("--{name} needs a value"))?;
            pairs.push((name.to_string(), value.clone()));
        }
        Ok(Self(pairs))
    }

    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
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

/// Reads a gradlab or Flux model file, recognised by its content.
fn read_model(path: &Path) -> Result<ModelFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ModelFile::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn model_path(options: &Options) -> PathBuf {
    options.get("model").map_or_else(|| assets_dir().join("cnn.gradlab"), PathBuf::from)
}

/// The model named by `--model` (default: the committed weights), with `--domain` and
/// `--transpose` applied to Flux files, on the CPU.
fn load_model(options: &Options) -> Result<Cnn, String> {
    let file = read_model(&model_path(options))?;
    let import = ImportOptions {
        transpose: options.flag("transpose"),
        domain: options.get("domain").map_or(Ok(Domain::ZeroOne), str::parse)?,
    };
    if matches!(file, ModelFile::Gradlab(_))
        && (options.flag("transpose") || options.get("domain").is_some())
    {
        return Err("--domain and --transpose apply to Flux files only".to_string());
    }
    let weights = file.to_weights(import);
    Cnn::from_weights(&weights, &Device::flex()).map_err(|e| e.to_string())
}

fn eval(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let limit = options.get("limit").map(|_| options.number("limit", 0)).transpose()?;
    let test = load(&options.path("mnist")?, Split::Test, limit)?;
    let model = load_model(options)?;

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

fn inspect(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let path = model_path(options);
    let model = match read_model(&path)? {
        ModelFile::Gradlab(weights) => {
            println!("gradlab weight file, {} parameters", weights.num_params());
            let input = weights.input;
            println!("input map u = {}·x + {} for x in [-1, 1]", input.scale, input.shift);
            return Ok(());
        }
        ModelFile::Flux(model) => model,
    };
    let summary = &model.summary;
    match summary.form {
        FluxForm::ParamsOnly => println!("Flux parameters only (layers inferred from shapes)"),
        FluxForm::Chain { tracked: false } => println!("Flux Chain"),
        FluxForm::Chain { tracked: true } => println!("Flux Chain (Tracker, with gradients)"),
    }
    for (index, layer) in summary.layers.iter().enumerate() {
        println!("  {index}: {layer}");
    }
    println!("{} parameters", summary.num_params);
    for (key, value) in &summary.recorded {
        println!("recorded {key} = {value}");
    }

    let Some(dir) = options.get("mnist") else {
        return Ok(());
    };
    let sample = load(Path::new(dir), Split::Test, Some(options.number("limit", 500)?))?;
    let suggestion =
        pollster::block_on(suggest_options(&model, &sample, &Device::flex(), 500, no_progress))
            .map_err(|e| e.to_string())?
            .expect("never cancelled here");
    for (import, confusion) in &suggestion.scores {
        println!(
            "{:<11} {:<3} accuracy {:.4} ({}/{})",
            if import.transpose { "--transpose" } else { "" },
            match import.domain {
                Domain::ZeroOne => "01",
                Domain::PlusMinusOne => "pm1",
            },
            confusion.accuracy(),
            confusion.correct(),
            confusion.total()
        );
    }
    println!("best: {}", suggestion.best);
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

    // The first training images, for adversarial training in the page (loaded on demand).
    let count = options.number("train", TRAIN_SUBSET)?;
    let train = load(&dir, Split::Train, Some(count))?;
    let (images, labels) = train.to_idx_gz();
    for (name, bytes) in [(TRAIN_IMAGES, images), (TRAIN_LABELS, labels)] {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    println!("wrote the first {} training images and labels to {}", train.len(), out.display());
    Ok(())
}

/// Training images shipped for the page's adversarial training.
const TRAIN_SUBSET: usize = 10_000;
const TRAIN_IMAGES: &str = "train-10k-images-idx3-ubyte.gz";
const TRAIN_LABELS: &str = "train-10k-labels-idx1-ubyte.gz";
