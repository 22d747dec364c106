//! `gradlab adv-train`: adversarial fine-tuning, with before/after figures on the test split.

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::*;
use gradlab_core::attack::{AttackForm, accuracy_under_attack};
use gradlab_core::data::mnist::Split;
use gradlab_core::defend::{AdversarialConfig, adversarial_training};
use gradlab_core::eval::no_progress;
use gradlab_core::models::Cnn;

use crate::{Options, load, load_model};

/// Epsilons of the before/after table.
const REPORTED: [f32; 4] = [0.0, 0.1, 0.2, 0.3];

pub fn run(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let defaults = AdversarialConfig::default();
    let config = AdversarialConfig {
        epsilon: options.number("eps", defaults.epsilon)?,
        alpha: options.number("alpha", defaults.alpha)?,
        epochs: options.number("epochs", defaults.epochs)?,
        seed: options.number("seed", defaults.seed)?,
        ..defaults
    };
    if !(0.0..=1.0).contains(&config.alpha) || !(0.0..=1.0).contains(&config.epsilon) {
        return Err("--alpha and --eps must lie in [0, 1]".into());
    }
    let dir = options.path("mnist")?;
    let limit = options.get("limit").map(|_| options.number("limit", 0)).transpose()?;
    let train = load(&dir, Split::Train, limit)?;
    let test = load(&dir, Split::Test, None)?;
    let out = options.get("out").map_or_else(|| PathBuf::from("defended.gradlab"), PathBuf::from);

    let original = load_model(options)?;
    let weights = pollster::block_on(original.to_weights()).map_err(|e| e.to_string())?;
    let trainable =
        Cnn::from_weights(&weights, &Device::flex().autodiff()).map_err(|e| e.to_string())?;

    let started = Instant::now();
    let defended = pollster::block_on(adversarial_training(
        trainable,
        &train,
        &config,
        |done, total, loss| {
            if done % 200 == 0 || done == total {
                println!(
                    "step {done}/{total} loss {loss:.4} elapsed {:.0}s",
                    started.elapsed().as_secs_f64()
                );
            }
            std::future::ready(true)
        },
    ))
    .map_err(|e| e.to_string())?
    .expect("never cancelled here")
    .valid();

    let defended_weights = pollster::block_on(defended.to_weights()).map_err(|e| e.to_string())?;
    std::fs::write(&out, defended_weights.to_bytes())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {} after {:.0}s", out.display(), started.elapsed().as_secs_f64());

    println!("eps original defended (untargeted FGSM, {} test images)", test.len());
    let curve = |model: &Cnn| {
        pollster::block_on(accuracy_under_attack(
            model,
            &test,
            AttackForm::Untargeted,
            &REPORTED,
            500,
            no_progress,
        ))
        .map_err(|e| e.to_string())
        .map(|c| c.expect("never cancelled here"))
    };
    let (before, after) = (curve(&original)?, curve(&defended)?);
    for (i, epsilon) in REPORTED.iter().enumerate() {
        println!("{epsilon} {:.4} {:.4}", before[i], after[i]);
    }
    Ok(())
}
