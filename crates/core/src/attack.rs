//! The Fast Gradient Sign attack, its iterative form, and accuracy under attack.
//!
//! Inputs live in [-1, 1] (gradlab's domain), so an ε here is twice the figure usually quoted for
//! pixels in [0, 1]: ε = 0.2 in [-1, 1] is ε = 0.1 in [0, 1].
//!
//! - Untargeted FGSM: `x' = clamp(x + ε·sign(∇ₓ CE(logits(x), y)), −1, 1)` moves the image away
//!   from its label `y`.
//! - Targeted: `x' = clamp(x + ε·sign(∂p_k/∂x), −1, 1)` pushes the image toward digit `k`. The
//!   gradient is taken of `log p_k` (through log-softmax): it has the same sign as `∂p_k/∂x`
//!   because `p_k > 0`, and does not underflow to zero when `p_k` is tiny.
//!
//! The model's weights are constants here: only the input carries autodiff, so any model (on
//! any device, with or without autodiff) can be attacked.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::ReadError;
use crate::data::mnist::{IMAGE_PIXELS, Mnist, NUM_CLASSES};
use crate::eval::{argmax_rows, predict_inputs};
use crate::models::cnn::{Cnn, inputs_to_tensor};
use crate::train::one_hot;

/// Which way the attack pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackForm {
    /// Away from the true (or predicted) label: ascend the cross-entropy.
    Untargeted,
    /// Toward digit `target`: ascend `log p_target`.
    Targeted { target: u8 },
}

impl AttackForm {
    /// `untargeted`, or `targeted k`.
    pub fn describe(&self) -> String {
        match self {
            AttackForm::Untargeted => "untargeted".into(),
            AttackForm::Targeted { target } => format!("targeted {target}"),
        }
    }
}

/// The objective the attack climbs, summed over the batch so that each image's gradient is its
/// own: cross-entropy against `labels` (untargeted) or `log p_target` (targeted).
fn objective(logits: Tensor<2>, form: AttackForm, labels: &[u8]) -> Tensor<1> {
    let device = logits.device();
    let log_probs = log_softmax(logits, 1);
    match form {
        AttackForm::Untargeted => (log_probs * one_hot(labels, &device)).sum().neg(),
        AttackForm::Targeted { target } => {
            let targets = vec![target; labels.len()];
            (log_probs * one_hot(&targets, &device)).sum()
        }
    }
}

/// The gradient of the attack's objective with respect to the inputs.
///
/// # Shapes
/// - `inputs`: `[N, 1, 28, 28]` in [-1, 1]; `labels`: N digits (ignored when targeted)
/// - returns: `[N, 1, 28, 28]`, without autodiff
pub fn input_gradient(
    model: &Cnn,
    inputs: Tensor<4>,
    form: AttackForm,
    labels: &[u8],
) -> Tensor<4> {
    let inputs = inputs.detach().autodiff().require_grad();
    let logits = model.forward(inputs.clone());
    let grads = objective(logits, form, labels).backward();
    inputs.grad(&grads).expect("the input requires its gradient").without_autodiff()
}

/// `clamp(x + ε·s, −1, 1)` for a precomputed sign (or step direction) `s`.
pub fn perturb(inputs: Tensor<4>, sign: Tensor<4>, epsilon: f32) -> Tensor<4> {
    (inputs + sign * epsilon).clamp(-1.0, 1.0)
}

/// One Fast Gradient Sign step of size `epsilon`.
pub fn fgsm(
    model: &Cnn,
    inputs: Tensor<4>,
    form: AttackForm,
    labels: &[u8],
    epsilon: f32,
) -> Tensor<4> {
    let sign = input_gradient(model, inputs.clone(), form, labels).sign();
    perturb(inputs.without_autodiff(), sign, epsilon)
}

/// The basic iterative method (PGD with the sign step): `steps` FGSM steps of size `step`,
/// each followed by projection onto the ε-ball around the original image and onto [-1, 1].
pub fn iterative(
    model: &Cnn,
    inputs: Tensor<4>,
    form: AttackForm,
    labels: &[u8],
    epsilon: f32,
    step: f32,
    steps: usize,
) -> Tensor<4> {
    let original = inputs.without_autodiff();
    let mut current = original.clone();
    for _ in 0..steps {
        let sign = input_gradient(model, current.clone(), form, labels).sign();
        let moved = current + sign * step;
        let low = original.clone() - epsilon;
        let high = original.clone() + epsilon;
        current = moved.max_pair(low).min_pair(high).clamp(-1.0, 1.0);
    }
    current
}

/// Whether an attacked image counts as a success: for the untargeted form the prediction left
/// the label; for the targeted form it became the target.
pub fn succeeded(form: AttackForm, label: u8, predicted: u8) -> bool {
    match form {
        AttackForm::Untargeted => predicted != label,
        AttackForm::Targeted { target } => predicted == target,
    }
}

/// Accuracy (prediction equals the true label) of `set` under FGSM at each ε of `epsilons`.
///
/// The gradient sign is computed once per batch and reused for every ε, so each extra ε costs
/// one forward pass. `progress(done, total)` is awaited after each batch and cancels the run by
/// answering `false` (then `None` is returned).
pub async fn accuracy_under_attack<F, Fut>(
    model: &Cnn,
    set: &Mnist,
    form: AttackForm,
    epsilons: &[f32],
    batch_size: usize,
    mut progress: F,
) -> Result<Option<Vec<f64>>, ReadError>
where
    F: FnMut(usize, usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let device = model.device();
    let mut correct = vec![0usize; epsilons.len()];
    for start in (0..set.len()).step_by(batch_size.max(1)) {
        let end = (start + batch_size).min(set.len());
        let labels = &set.labels[start..end];
        let pixels = &set.pixels[start * IMAGE_PIXELS..end * IMAGE_PIXELS];
        let inputs = inputs_to_tensor(crate::data::mnist::to_input(pixels), end - start, &device);

        let sign = input_gradient(model, inputs.clone(), form, labels).sign();
        for (k, &epsilon) in epsilons.iter().enumerate() {
            let attacked = perturb(inputs.clone(), sign.clone(), epsilon);
            let logits = crate::read_f32(model.forward(attacked)).await?;
            let predicted = argmax_rows(&logits, NUM_CLASSES);
            correct[k] += predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
        }
        if !progress(end, set.len()).await {
            return Ok(None);
        }
    }
    Ok(Some(correct.iter().map(|&c| c as f64 / set.len().max(1) as f64).collect()))
}

/// The smallest ε on a grid of `resolution` steps in (0, `max_epsilon`] whose FGSM image is a
/// success (see [`succeeded`]), found by bisection on the grid; `None` when even `max_epsilon`
/// fails. With `steps > 1` the iterative attack (step ε/steps·2) is used instead of FGSM.
pub async fn smallest_flipping_epsilon(
    model: &Cnn,
    input: Tensor<4>,
    form: AttackForm,
    label: u8,
    max_epsilon: f32,
    steps: usize,
) -> Result<Option<f32>, ReadError> {
    const RESOLUTION: usize = 200;
    let attack_at = |epsilon: f32| {
        if steps <= 1 {
            fgsm(model, input.clone(), form, &[label], epsilon)
        } else {
            let step = 2.0 * epsilon / steps as f32;
            iterative(model, input.clone(), form, &[label], epsilon, step, steps)
        }
    };
    let flips = |epsilon: f32| {
        let attacked = attack_at(epsilon);
        async move {
            let prediction = predict_inputs(model, attacked).await?;
            Ok::<bool, ReadError>(succeeded(form, label, prediction[0].digit))
        }
    };

    let grid = |i: usize| max_epsilon * i as f32 / RESOLUTION as f32;
    if !flips(grid(RESOLUTION)).await? {
        return Ok(None);
    }
    let (mut low, mut high) = (0usize, RESOLUTION);
    while high - low > 1 {
        let middle = (low + high) / 2;
        if flips(grid(middle)).await? {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(Some(grid(high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perturb_moves_by_epsilon_and_clamps() {
        // A background pixel at −1 with sign +1 and ε = 0.1 becomes −0.9; a pixel at 0.95 with
        // sign +1 is clamped to 1; sign −1 at −1 stays at −1.
        let device = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![-1.0f32, 0.95, -1.0, 0.0], [1, 1, 2, 2]),
            &device,
        );
        let s = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 1.0, -1.0, 0.0], [1, 1, 2, 2]),
            &device,
        );
        let out = perturb(x, s, 0.1).into_data().try_into_vec::<f32>().unwrap();
        let expected = [-0.9f32, 1.0, -1.0, 0.0];
        for (o, e) in out.iter().zip(expected) {
            assert!((o - e).abs() < 1e-6, "{out:?}");
        }
    }

    #[test]
    fn success_depends_on_the_form() {
        assert!(succeeded(AttackForm::Untargeted, 3, 5));
        assert!(!succeeded(AttackForm::Untargeted, 3, 3));
        assert!(succeeded(AttackForm::Targeted { target: 5 }, 3, 5));
        assert!(!succeeded(AttackForm::Targeted { target: 5 }, 3, 8));
    }
}
