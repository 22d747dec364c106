//! The committed assets against the real MNIST files in `../shared/data/mnist`.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use gradlab_core::data::mnist::{Mnist, Split};
use gradlab_core::eval::{evaluate, no_progress};
use gradlab_core::models::{Cnn, CnnWeights};

/// Test accuracy of the committed weights, as stated in the README (`gradlab eval`).
const STATED_CORRECT: u32 = 9_913;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mnist_dir() -> PathBuf {
    std::env::var_os("GRADLAB_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data/mnist"))
}

fn committed_model() -> Cnn {
    let bytes = std::fs::read(workspace().join("assets/cnn.gradlab")).expect("assets/cnn.gradlab");
    let weights = CnnWeights::from_bytes(&bytes).expect("the committed weights decode");
    Cnn::from_weights(&weights, &Device::flex()).expect("they fit the current architecture")
}

#[test]
fn committed_weights_reach_the_stated_test_accuracy() {
    let test = Mnist::load(&mnist_dir(), Split::Test).expect("the MNIST test split");
    let confusion = pollster::block_on(evaluate(&committed_model(), &test, 500, no_progress))
        .expect("evaluation reads back")
        .expect("not cancelled");

    assert_eq!(confusion.total(), 10_000);
    assert_eq!(confusion.correct(), STATED_CORRECT);
    assert!(confusion.accuracy() >= 0.99);
}

#[test]
fn shipped_test_set_is_exactly_the_original_idx_data() {
    let shipped = workspace().join("assets/mnist");
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        let ours = std::fs::read(shipped.join(name)).expect("shipped file");
        let original = std::fs::read(mnist_dir().join(name)).expect("original file");
        assert!(ours == original, "{name} differs from the original");
    }

    let test = Mnist::load(&shipped, Split::Test).expect("the shipped test split decodes");
    assert_eq!(test.len(), 10_000);
    // Images per digit and the mean pixel, as published for the MNIST test set.
    let mut counts = [0u32; 10];
    test.labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    let mean = test.pixels.iter().map(|&p| p as f64).sum::<f64>() / test.pixels.len() as f64;
    assert!((mean - 33.791).abs() < 5e-4, "mean pixel {mean}");
}

#[test]
fn shipped_training_subset_is_the_first_ten_thousand_training_images() {
    let shipped = workspace().join("assets/mnist");
    let read = |name: &str| std::fs::read(shipped.join(name)).expect("shipped file");
    let subset = Mnist::from_idx(
        &read("train-10k-images-idx3-ubyte.gz"),
        &read("train-10k-labels-idx1-ubyte.gz"),
    )
    .expect("the shipped training subset decodes");

    let train = Mnist::load(&mnist_dir(), Split::Train).expect("the MNIST training split");
    assert_eq!(subset, train.subset(&(0..10_000).collect::<Vec<_>>()));
}
