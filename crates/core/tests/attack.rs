//! FGSM on the committed CNN and real MNIST test digits.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use gradlab_core::attack::{AttackForm, accuracy_under_attack, fgsm, input_gradient, iterative};
use gradlab_core::data::mnist::{Mnist, Split, to_input};
use gradlab_core::eval::{evaluate, no_progress};
use gradlab_core::models::cnn::inputs_to_tensor;
use gradlab_core::models::{Cnn, CnnWeights};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model() -> Cnn {
    let bytes = std::fs::read(workspace().join("assets/cnn.gradlab")).expect("committed weights");
    let weights = CnnWeights::from_bytes(&bytes).expect("weights decode");
    Cnn::from_weights(&weights, &Device::flex()).expect("weights fit")
}

/// The first `n` test images (the shipped copy of the MNIST test split).
fn test_images(n: usize) -> Mnist {
    let test = Mnist::load(&workspace().join("assets/mnist"), Split::Test).expect("test split");
    test.subset(&(0..n).collect::<Vec<_>>())
}

fn values(tensor: Tensor<4>) -> Vec<f32> {
    tensor.into_data().try_into_vec::<f32>().unwrap()
}

fn log_probs(model: &Cnn, inputs: Tensor<4>) -> Vec<f32> {
    log_softmax(model.forward(inputs), 1).into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn one_step_raises_the_loss_and_stays_in_the_epsilon_box() {
    let (model, set) = (model(), test_images(1));
    let x = inputs_to_tensor(to_input(&set.pixels), 1, &Device::flex());
    let label = set.labels[0] as usize;

    let gradient = values(input_gradient(&model, x.clone(), AttackForm::Untargeted, &set.labels));
    assert!(gradient.iter().any(|&g| g != 0.0), "the input gradient is non-zero");

    let epsilon = 0.05;
    let attacked = fgsm(&model, x.clone(), AttackForm::Untargeted, &set.labels, epsilon);
    let before = -log_probs(&model, x.clone())[label];
    let after = -log_probs(&model, attacked.clone())[label];
    assert!(after > before, "cross-entropy {before} → {after}");

    for (a, o) in values(attacked).iter().zip(values(x)) {
        assert!((-1.0..=1.0).contains(a));
        assert!((a - o).abs() <= epsilon + 1e-6);
    }
}

#[test]
fn a_targeted_step_raises_the_target_probability() {
    let (model, set) = (model(), test_images(1));
    let x = inputs_to_tensor(to_input(&set.pixels), 1, &Device::flex());
    let target = (set.labels[0] + 1) % 10;
    let form = AttackForm::Targeted { target };

    let attacked = fgsm(&model, x.clone(), form, &set.labels, 0.1);
    let before = log_probs(&model, x)[target as usize];
    let after = log_probs(&model, attacked)[target as usize];
    assert!(after > before, "log p_{target}: {before} → {after}");
}

#[test]
fn the_iterative_attack_stays_within_epsilon_and_beats_one_step() {
    let (model, set) = (model(), test_images(4));
    let x = inputs_to_tensor(to_input(&set.pixels), 4, &Device::flex());
    let epsilon = 0.15;

    let attacked =
        iterative(&model, x.clone(), AttackForm::Untargeted, &set.labels, epsilon, 0.05, 10);
    for (a, o) in values(attacked.clone()).iter().zip(values(x.clone())) {
        assert!((-1.0..=1.0).contains(a));
        assert!((a - o).abs() <= epsilon + 1e-6);
    }
    let loss = |inputs: Tensor<4>| -> f32 {
        let lp = log_probs(&model, inputs);
        set.labels.iter().enumerate().map(|(i, &l)| -lp[i * 10 + l as usize]).sum()
    };
    let one_step = fgsm(&model, x, AttackForm::Untargeted, &set.labels, epsilon);
    assert!(loss(attacked) >= loss(one_step));
}

#[test]
fn accuracy_falls_with_epsilon_and_epsilon_zero_is_the_clean_accuracy() {
    let (model, set) = (model(), test_images(1000));
    let clean =
        pollster::block_on(evaluate(&model, &set, 250, no_progress)).unwrap().unwrap().accuracy();

    let epsilons = [0.0, 0.1, 0.3, 0.6];
    let curve = pollster::block_on(accuracy_under_attack(
        &model,
        &set,
        AttackForm::Untargeted,
        &epsilons,
        250,
        no_progress,
    ))
    .unwrap()
    .unwrap();

    assert_eq!(curve[0], clean);
    assert!(curve.windows(2).all(|w| w[1] <= w[0]), "{curve:?}");
    assert!(curve[3] < clean - 0.5, "clean {clean}, at ε = 0.6: {}", curve[3]);
}
