//! Start-up: load the assets, then run the CNN on WebGPU or on the CPU.
//!
//! WebGPU is chosen only when the browser offers an adapter *and* a fixed batch of test
//! images gives the same logits on WebGPU and on the CPU to within [`PARITY_TOLERANCE`].
//! Otherwise the page computes on the CPU (Burn's `flex` backend) and says why.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use gradlab_core::data::mnist::{IMAGE_PIXELS, Mnist};
use gradlab_core::models::cnn::images_to_tensor;
use gradlab_core::models::{Cnn, CnnWeights};

use crate::browser::{fetch_bytes, has_webgpu};

/// Largest allowed |logit difference| between WebGPU and CPU on the parity batch.
pub const PARITY_TOLERANCE: f32 = 1e-4;
/// Images in the parity batch (the first test images).
const PARITY_IMAGES: usize = 16;

/// Where the computations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::Cpu => "CPU",
        }
    }
}

/// A model the student can make active: its weights and a name to show.
#[derive(Clone)]
pub struct ModelChoice {
    pub name: Rc<str>,
    pub weights: Rc<CnnWeights>,
}

/// Everything the labs share: the backend, the active model and the test set.
pub struct Runtime {
    pub backend: Backend,
    /// Why this backend runs (shown beside its name).
    pub reason: String,
    /// The active model on the backend's device.
    pub model: Cnn,
    /// The active model's name ("built-in" or the uploaded file's name) and weights.
    pub choice: ModelChoice,
    /// The model shipped with the page, to return to.
    pub builtin: ModelChoice,
    pub test: Rc<Mnist>,
}

impl Runtime {
    /// The active model's weights.
    pub fn weights(&self) -> &CnnWeights {
        &self.choice.weights
    }
}

/// A cheap, comparable handle on the shared [`Runtime`].
#[derive(Clone)]
pub struct RuntimeHandle(pub Rc<Runtime>);

impl PartialEq for RuntimeHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for RuntimeHandle {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        &self.0
    }
}

/// The built-in weights and the 10,000 test images, as shipped in `assets/`.
pub async fn load_assets() -> Result<(CnnWeights, Mnist), String> {
    let weights = fetch_bytes("cnn.gradlab").await?;
    let weights = CnnWeights::from_bytes(&weights).map_err(|e| format!("cnn.gradlab: {e}"))?;

    let images = fetch_bytes("mnist/t10k-images-idx3-ubyte.gz").await?;
    let labels = fetch_bytes("mnist/t10k-labels-idx1-ubyte.gz").await?;
    let test = Mnist::from_idx(&images, &labels).map_err(|e| format!("MNIST test set: {e}"))?;
    Ok((weights, test))
}

/// Builds the runtime on the preferred backend, falling back to the CPU with a reason.
pub async fn start(
    choice: ModelChoice,
    builtin: ModelChoice,
    test: Rc<Mnist>,
    prefer: Backend,
) -> Runtime {
    let weights = choice.weights.clone();
    let cpu = Device::flex();
    let cpu_model = Cnn::from_weights(&weights, &cpu).expect("the weights were validated");
    let cpu_runtime = |reason: String| Runtime {
        backend: Backend::Cpu,
        reason,
        model: cpu_model.clone(),
        choice: choice.clone(),
        builtin: builtin.clone(),
        test: test.clone(),
    };
    if prefer == Backend::Cpu {
        return cpu_runtime("chosen".into());
    }

    match webgpu_runtime(&weights, &test, &cpu_model).await {
        Ok((model, difference)) => Runtime {
            backend: Backend::WebGpu,
            reason: format!("parity check passed: max |Δ logit| {difference:.1e}"),
            model,
            choice: choice.clone(),
            builtin: builtin.clone(),
            test: test.clone(),
        },
        Err(reason) => cpu_runtime(reason),
    }
}

thread_local! {
    /// The WebGPU device, initialised once per page (or the reason it cannot be).
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

async fn webgpu_device() -> Result<Device, String> {
    if let Some(known) = WEBGPU.with(|cell| cell.borrow().clone()) {
        return known;
    }
    let result = if has_webgpu() {
        Device::wgpu_options().init_async().await.map_err(|e| {
            web_sys::console::info_1(&format!("WebGPU is not usable: {e}").into());
            "no usable WebGPU adapter".to_string()
        })
    } else {
        Err("this browser has no WebGPU".to_string())
    };
    WEBGPU.with(|cell| *cell.borrow_mut() = Some(result.clone()));
    result
}

async fn webgpu_runtime(
    weights: &CnnWeights,
    test: &Mnist,
    cpu_model: &Cnn,
) -> Result<(Cnn, f32), String> {
    let device = webgpu_device().await?;
    let model = Cnn::from_weights(weights, &device).map_err(|e| e.to_string())?;

    let pixels = &test.pixels[..PARITY_IMAGES * IMAGE_PIXELS];
    let on_gpu = model.forward(images_to_tensor(pixels, &device));
    let on_cpu = cpu_model.forward(images_to_tensor(pixels, &cpu_model.device()));
    let on_gpu = gradlab_core::read_f32(on_gpu).await.map_err(|e| e.to_string())?;
    let on_cpu = gradlab_core::read_f32(on_cpu).await.map_err(|e| e.to_string())?;

    let difference = on_gpu.iter().zip(&on_cpu).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    if difference.is_finite() && difference <= PARITY_TOLERANCE {
        Ok((model, difference))
    } else {
        Err(format!("WebGPU disagrees with the CPU (max |Δ logit| {difference:.1e})"))
    }
}
