//! `gradlab attack`: accuracy on the MNIST test split under FGSM, one line per epsilon.

use gradlab_core::attack::{AttackForm, accuracy_under_attack};
use gradlab_core::data::mnist::Split;
use gradlab_core::eval::no_progress;

use crate::{Options, load, load_model};

/// Images per batch: the gradient sign is computed once per batch and reused for every ε.
const BATCH: usize = 500;

pub fn run(options: &Result<Options, String>) -> Result<(), String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let limit = options.get("limit").map(|_| options.number("limit", 0)).transpose()?;
    let test = load(&options.path("mnist")?, Split::Test, limit)?;
    let model = load_model(options)?;
    let form = parse_form(options.get("form"), options.get("target"))?;
    let epsilons = parse_epsilons(options.get("eps").unwrap_or("0,0.05,0.1,0.2,0.3"))?;

    let curve = pollster::block_on(accuracy_under_attack(
        &model,
        &test,
        form,
        &epsilons,
        BATCH,
        no_progress,
    ))
    .map_err(|e| e.to_string())?
    .expect("never cancelled here");
    for (epsilon, accuracy) in epsilons.iter().zip(curve) {
        println!("{epsilon} {accuracy:.4}");
    }
    Ok(())
}

/// `untargeted` (the default) or `targeted` with `--target K`, K a digit.
fn parse_form(form: Option<&str>, target: Option<&str>) -> Result<AttackForm, String> {
    match form.unwrap_or("untargeted") {
        "untargeted" => Ok(AttackForm::Untargeted),
        "targeted" => {
            let target = target.ok_or("--form targeted needs --target K (a digit 0-9)")?;
            let target: u8 = target
                .parse()
                .ok()
                .filter(|&k| k < 10)
                .ok_or(format!("--target: '{target}' is not a digit 0-9"))?;
            Ok(AttackForm::Targeted { target })
        }
        other => Err(format!("--form: '{other}' is neither untargeted nor targeted")),
    }
}

/// A comma-separated list of epsilons, each finite and in [0, 2].
fn parse_epsilons(list: &str) -> Result<Vec<f32>, String> {
    list.split(',')
        .map(|item| {
            item.trim()
                .parse::<f32>()
                .ok()
                .filter(|e| e.is_finite() && (0.0..=2.0).contains(e))
                .ok_or(format!("--eps: '{item}' is not an epsilon in [0, 2]"))
        })
        .collect()
}
