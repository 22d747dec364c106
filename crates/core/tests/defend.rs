//! Adversarial training on real MNIST digits raises accuracy under attack.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use gradlab_core::attack::{AttackForm, accuracy_under_attack};
use gradlab_core::data::mnist::{Mnist, Split};
use gradlab_core::defend::{AdversarialConfig, adversarial_training};
use gradlab_core::eval::no_progress;
use gradlab_core::models::{Cnn, CnnWeights};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn first(set: &Mnist, n: usize) -> Mnist {
    set.subset(&(0..n).collect::<Vec<_>>())
}

#[test]
fn a_short_adversarial_fine_tune_raises_accuracy_under_fgsm() {
    let mnist = std::env::var_os("GRADLAB_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data/mnist"));
    let train = first(&Mnist::load(&mnist, Split::Train).expect("training split"), 2_000);
    let test = first(&Mnist::load(&mnist, Split::Test).expect("test split"), 500);
    let bytes = std::fs::read(workspace().join("assets/cnn.gradlab")).expect("weights");
    let weights = CnnWeights::from_bytes(&bytes).expect("weights decode");
    let original = Cnn::from_weights(&weights, &Device::flex()).unwrap();
    let trainable = Cnn::from_weights(&weights, &Device::flex().autodiff()).unwrap();

    let config = AdversarialConfig { epsilon: 0.3, ..AdversarialConfig::default() };
    let defended =
        pollster::block_on(adversarial_training(trainable, &train, &config, |_, _, _| {
            std::future::ready(true)
        }))
        .unwrap()
        .unwrap()
        .valid();

    let under_attack = |model: &Cnn| {
        pollster::block_on(accuracy_under_attack(
            model,
            &test,
            AttackForm::Untargeted,
            &[0.0, 0.3],
            250,
            no_progress,
        ))
        .unwrap()
        .unwrap()
    };
    let (before, after) = (under_attack(&original), under_attack(&defended));
    assert!(after[1] > before[1] + 0.05, "accuracy at ε = 0.3: {} → {}", before[1], after[1]);
    assert!(after[0] > 0.95, "clean accuracy stays high: {}", after[0]);
}
