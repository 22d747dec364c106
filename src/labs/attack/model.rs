//! The Attack lab's model panel: upload a Flux/BSON.jl or gradlab model file, see what it holds
//! and how well it does on the first test images, choose how the Julia model saw its images
//! (orientation and input range, neither of which a Flux file records), make it the active model
//! for every view, return to the built-in model, and download the active model in gradlab's own
//! format.

use std::cell::Cell;
use std::rc::Rc;

use burn::prelude::Device;
use gradlab_core::ReadError;
use gradlab_core::data::mnist::Mnist;
use gradlab_core::eval::{Confusion, evaluate};
use gradlab_core::models::flux::ModelFileError;
use gradlab_core::models::flux::{FluxForm, SuggestError, Suggestion, suggest_options};
use gradlab_core::models::weights::LAYOUT;
use gradlab_core::models::{
    Cnn, CnnWeights, Domain, FluxModel, ImportOptions, InputDomain, ModelFile, WeightsError,
};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use super::judge::thousands;
use crate::browser::yield_now;
use crate::runtime::{ModelChoice, Runtime, RuntimeHandle};

/// Uploads are measured on the first `SAMPLE_SIZE` test images (in file order, not a random
/// draw, so that every upload is measured on the same images).
const SAMPLE_SIZE: usize = 500;
/// Images per batch while measuring: small enough that the page answers input in between.
const MEASURE_BATCH: usize = 100;
/// Largest file read, in bytes. The network has 16,938 parameters: about 68 kB in gradlab's
/// format and 175 kB as a Tracker-era BSON.jl file that stores gradients too.
const MAX_FILE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// How long the object URL of a download is kept, in milliseconds (the browser reads it when
/// the download starts).
const DOWNLOAD_URL_LIFETIME_MS: i32 = 60_000;

#[derive(Properties, PartialEq)]
pub struct ModelProps {
    pub runtime: RuntimeHandle,
    /// Makes a model the active one for every view.
    pub on_model: Callback<ModelChoice>,
}

/// A model file the student uploaded, read, checked and measured.
#[derive(Clone)]
struct Upload {
    /// The file's name as the browser reports it; the model's name once active.
    name: Rc<str>,
    source: Source,
    /// The weights as gradlab runs them (for a Flux file, under the chosen options).
    weights: Rc<CnnWeights>,
    /// Predictions on the first [`SAMPLE_SIZE`] test images under `weights`.
    measured: Confusion,
}

/// What kind of file an [`Upload`] came from.
#[derive(Clone)]
enum Source {
    /// gradlab's own format: the input range is recorded and the orientation is gradlab's.
    Gradlab,
    /// A Flux model, the options chosen for it and the accuracy under each of the four.
    Flux { model: Rc<FluxModel>, options: ImportOptions, suggestion: Rc<Suggestion> },
}

/// Why an uploaded file cannot be used; shown to the student after the file's name.
#[derive(Debug)]
enum UploadError {
    /// Larger than [`MAX_FILE_BYTES`]; the size in bytes.
    TooLarge(f64),
    /// The browser did not hand over the file's bytes.
    Unreadable(String),
    /// Neither a gradlab file nor a Flux file of this network.
    File(ModelFileError),
    /// The weights cannot be put on the device.
    Weights(WeightsError),
    /// The device failed while predicting the sample.
    Measure(ReadError),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::TooLarge(bytes) => write!(
                f,
                "the file has {:.1} MB; a model of this network takes well under 1 MB",
                bytes / 1e6
            ),
            UploadError::Unreadable(why) => write!(f, "the browser could not read it ({why})"),
            UploadError::File(e) => write!(f, "{e}"),
            UploadError::Weights(e) => write!(f, "{e}"),
            UploadError::Measure(e) => write!(f, "measuring it failed: {e}"),
        }
    }
}

impl std::error::Error for UploadError {}

/// What the panel is busy with.
#[derive(Clone, PartialEq)]
enum Work {
    Idle,
    Reading(String),
    /// `done` of `total` image evaluations (four per image for a Flux file).
    Measuring {
        name: String,
        done: usize,
        total: usize,
    },
}

/// One upload being read and measured; a later upload supersedes it.
#[derive(Clone)]
struct Task {
    generation: Rc<Cell<u64>>,
    id: u64,
    name: String,
    work: UseStateHandle<Work>,
}

impl Task {
    /// False once a later upload has started.
    fn current(&self) -> bool {
        self.generation.get() == self.id
    }

    fn report(&self, done: usize, total: usize) {
        if self.current() {
            self.work.set(Work::Measuring { name: self.name.clone(), done, total });
        }
    }
}

#[function_component(ModelPanel)]
pub fn model_panel(props: &ModelProps) -> Html {
    let runtime = props.runtime.clone();
    let upload = use_state(|| None::<Upload>);
    let work = use_state(|| Work::Idle);
    let error = use_state(|| None::<String>);
    let saved = use_state(|| None::<String>);
    let generation = use_memo((), |_| Cell::new(0_u64));

    // Effect: leaving the lab stops a measurement under way.
    {
        let generation = generation.clone();
        use_effect_with((), move |_| move || generation.set(generation.get() + 1));
    }

    // Callbacks
    let on_file = {
        let (runtime, upload, work, error, generation) =
            (runtime.clone(), upload.clone(), work.clone(), error.clone(), generation.clone());
        Callback::from(move |event: Event| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            // Cleared so that choosing the same file again reads it again.
            input.set_value("");
            generation.set(generation.get() + 1);
            let task = Task {
                generation: generation.clone(),
                id: generation.get(),
                name: file.name(),
                work: work.clone(),
            };
            let (runtime, upload, work, error) =
                (runtime.clone(), upload.clone(), work.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                work.set(Work::Reading(task.name.clone()));
                let result = load(&file, &runtime, &task).await;
                if !task.current() {
                    return;
                }
                match result {
                    Ok(Some(loaded)) => {
                        error.set(None);
                        upload.set(Some(loaded));
                    }
                    Ok(None) => {}
                    Err(message) => error.set(Some(format!(
                        "{} could not be used: {}. The active model ({}) is unchanged.",
                        task.name,
                        message.to_string().trim_end_matches('.'),
                        runtime.choice.name
                    ))),
                }
                work.set(Work::Idle);
            });
        })
    };
    let on_options = {
        let upload = upload.clone();
        Callback::from(move |options: ImportOptions| {
            if let Some(changed) = upload.as_ref().and_then(|u| with_options(u, options)) {
                upload.set(Some(changed));
            }
        })
    };
    let on_use = {
        let (upload, on_model) = (upload.clone(), props.on_model.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(upload) = upload.as_ref() {
                on_model.emit(ModelChoice {
                    name: upload.name.clone(),
                    weights: upload.weights.clone(),
                });
            }
        })
    };
    let on_builtin = {
        let (builtin, on_model) = (runtime.builtin.clone(), props.on_model.clone());
        Callback::from(move |_: MouseEvent| on_model.emit(builtin.clone()))
    };
    let on_download = {
        let (choice, error, saved) = (runtime.choice.clone(), error.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let bytes = choice.weights.to_bytes();
            let file_name = download_name(&choice.name);
            match download(&bytes, &file_name) {
                Ok(()) => saved.set(Some(format!(
                    "Saved the active model as {file_name} ({} bytes).",
                    thousands(bytes.len())
                ))),
                Err(message) => error.set(Some(format!("The download failed: {message}"))),
            }
        })
    };

    // Derived values
    let busy = *work != Work::Idle;
    let builtin_active = Rc::ptr_eq(&runtime.choice.weights, &runtime.builtin.weights);

    html! {
        <section class="panel model-panel" aria-labelledby="model-title">
            <h2 id="model-title">{ "Model" }</h2>
            <p class="muted">
                { "Attack a model of your own: a Flux CNN of the same architecture saved with \
                   BSON.jl, or a file downloaded from this page. Uploading only reads and \
                   measures it; “Use this model” makes it the active model." }
            </p>
            <div class="controls">
                <label>{ "Upload a model (Flux .bson or gradlab file)" }
                    <input type="file" onchange={on_file} disabled={busy} />
                </label>
                <button type="button" class="secondary" onclick={on_download}>
                    { "Download the active model" }
                </button>
                if !builtin_active {
                    <button type="button" class="secondary" onclick={on_builtin}>
                        { "Return to the built-in model" }
                    </button>
                }
            </div>
            { work_view(&work) }
            if let Some(message) = &*error {
                <p class="message error" role="alert">{ message.clone() }</p>
            }
            if let Some(message) = &*saved {
                <p class="muted" role="status">{ message.clone() }</p>
            }
            if let Some(upload) = &*upload {
                { upload_view(upload, &runtime, busy, &on_options, &on_use) }
            }
        </section>
    }
}

/// Reads, checks and measures an uploaded file; `Ok(None)` when a later upload superseded it.
async fn load(
    file: &web_sys::File,
    runtime: &Runtime,
    task: &Task,
) -> Result<Option<Upload>, UploadError> {
    if file.size() > MAX_FILE_BYTES {
        return Err(UploadError::TooLarge(file.size()));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| UploadError::Unreadable(describe(&e)))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    let model = ModelFile::read(&bytes).map_err(UploadError::File)?;

    let sample = first_images(&runtime.test);
    let device = runtime.model.device();
    let name: Rc<str> = file.name().into();
    match model {
        ModelFile::Gradlab(weights) => {
            let total = sample.len();
            let Some(measured) = measure(&weights, &sample, &device, task, 0, total).await? else {
                return Ok(None);
            };
            Ok(Some(Upload { name, source: Source::Gradlab, weights: Rc::new(weights), measured }))
        }
        ModelFile::Flux(model) => {
            let progress = |done: usize, total: usize| {
                let task = task.clone();
                async move {
                    task.report(done, total);
                    yield_now().await;
                    task.current()
                }
            };
            let suggestion = suggest_options(&model, &sample, &device, MEASURE_BATCH, progress)
                .await
                .map_err(|e| match e {
                    SuggestError::Weights(e) => UploadError::Weights(e),
                    SuggestError::Read(e) => UploadError::Measure(e),
                })?;
            let Some(suggestion) = suggestion else { return Ok(None) };
            let best = suggestion.best;
            let measured =
                suggestion.scores.iter().find(|(o, _)| *o == best).map(|(_, c)| c.clone());
            Ok(Some(Upload {
                name,
                weights: Rc::new(model.to_weights(best)),
                measured: measured.unwrap_or_default(),
                source: Source::Flux {
                    model: Rc::new(model),
                    options: best,
                    suggestion: Rc::new(suggestion),
                },
            }))
        }
    }
}

/// The first [`SAMPLE_SIZE`] test images (all of them if there are fewer).
fn first_images(test: &Mnist) -> Mnist {
    let indices: Vec<usize> = (0..SAMPLE_SIZE.min(test.len())).collect();
    test.subset(&indices)
}

/// Predicts `sample` with `weights` on `device` in batches, letting the page answer input in
/// between; `Ok(None)` when a later upload superseded `task`. Progress is reported as
/// `offset + done` of `total`.
async fn measure(
    weights: &CnnWeights,
    sample: &Mnist,
    device: &Device,
    task: &Task,
    offset: usize,
    total: usize,
) -> Result<Option<Confusion>, UploadError> {
    let cnn = Cnn::from_weights(weights, device).map_err(UploadError::Weights)?;
    let progress = |done: usize, _: usize| {
        let task = task.clone();
        async move {
            task.report(offset + done, total);
            yield_now().await;
            task.current()
        }
    };
    evaluate(&cnn, sample, MEASURE_BATCH, progress).await.map_err(UploadError::Measure)
}

/// The upload under other options, with the accuracy already measured for them; `None` for a
/// gradlab file (nothing to choose) or options that were not measured.
fn with_options(upload: &Upload, options: ImportOptions) -> Option<Upload> {
    let Source::Flux { model, suggestion, .. } = &upload.source else { return None };
    let (_, measured) = suggestion.scores.iter().find(|(o, _)| *o == options)?;
    Some(Upload {
        name: upload.name.clone(),
        source: Source::Flux { model: model.clone(), options, suggestion: suggestion.clone() },
        weights: Rc::new(model.to_weights(options)),
        measured: measured.clone(),
    })
}

/// `<stem>.gradlab` for a model called `<stem>.bson`, `<stem>.gradlab` or `<stem>`.
fn download_name(model_name: &str) -> String {
    let lower = model_name.to_ascii_lowercase();
    let stem = [".bson", ".gradlab"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(model_name, |ext| &model_name[..model_name.len() - ext.len()]);
    let stem = if stem.is_empty() { "model" } else { stem };
    format!("{stem}.gradlab")
}

/// Saves `bytes` as `file_name` through a temporary object URL and `<a download>`.
fn download(bytes: &[u8], file_name: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let document = window.document().ok_or("no document")?;
    let body = document.body().ok_or("no document body")?;

    let parts = Array::of1(&Uint8Array::new_from_slice(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| describe(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| describe(&e))?;

    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| "cannot create a link")?;
    link.set_href(&url);
    link.set_download(file_name);
    body.append_child(&link).map_err(|e| describe(&e))?;
    link.click();
    link.remove();

    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            revoke.unchecked_ref(),
            DOWNLOAD_URL_LIFETIME_MS,
        )
        .map_err(|e| describe(&e))?;
    Ok(())
}

fn describe(value: &JsValue) -> String {
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

fn work_view(work: &Work) -> Html {
    match work {
        Work::Idle => html! {},
        Work::Reading(name) => html! { <p role="status">{ format!("Reading {name}…") }</p> },
        Work::Measuring { name, done, total } => html! {
            <p class="model-progress" role="status">
                <progress aria-label="Measuring progress" max={total.to_string()}
                    value={done.to_string()} />
                { format!(" Measuring {name} on the first test images: {done} of {total}") }
            </p>
        },
    }
}

fn orientation_name(options: ImportOptions) -> &'static str {
    if options.transpose { "columns" } else { "rows" }
}

/// How `input` maps gradlab's inputs in [-1, 1], in words.
fn domain_name(input: InputDomain) -> String {
    if input == Domain::ZeroOne.input_domain() {
        Domain::ZeroOne.to_string()
    } else if input == Domain::PlusMinusOne.input_domain() {
        Domain::PlusMinusOne.to_string()
    } else {
        format!("u = {}·x + {} for x in [-1, 1]", input.scale, input.shift)
    }
}

fn upload_view(
    upload: &Upload,
    runtime: &Runtime,
    busy: bool,
    on_options: &Callback<ImportOptions>,
    on_use: &Callback<MouseEvent>,
) -> Html {
    let active = Rc::ptr_eq(&runtime.choice.weights, &upload.weights);
    let measured = &upload.measured;
    let accuracy =
        format!("{:.4} ({}/{})", measured.accuracy(), measured.correct(), measured.total());
    let (about, layers, settings, measured_line) = match &upload.source {
        Source::Gradlab => {
            let domain = domain_name(upload.weights.input);
            (
                format!(
                    "gradlab weight file · {} parameters · input domain {domain} (recorded in \
                     the file) · orientation rows (gradlab's own)",
                    thousands(upload.weights.num_params())
                ),
                gradlab_layers(&upload.weights),
                html! {
                    <p class="muted">
                        { "A gradlab file records its input domain and uses gradlab's \
                           orientation: there is nothing to choose." }
                    </p>
                },
                format!(
                    "Measured on the first {} test images: accuracy {accuracy} with orientation \
                     rows, input domain {domain}.",
                    measured.total()
                ),
            )
        }
        Source::Flux { model, options, suggestion } => {
            let summary = &model.summary;
            let form = match summary.form {
                FluxForm::ParamsOnly => "Flux parameters only (layers inferred from shapes)",
                FluxForm::Chain { tracked: false } => "Flux Chain",
                FluxForm::Chain { tracked: true } => "Flux Chain (Tracker, with gradients)",
            };
            (
                format!(
                    "{form} · {} parameters · orientation {} · input domain {}",
                    thousands(summary.num_params),
                    orientation_name(*options),
                    options.domain
                ),
                summary.layers.iter().map(ToString::to_string).collect(),
                html! {
                    <>
                        { recorded_table(model, measured) }
                        { options_view(*options, busy, on_options) }
                        { suggestion_table(suggestion, *options) }
                    </>
                },
                format!(
                    "Measured on the first {} test images: accuracy {accuracy} with orientation \
                     {}, input domain {}.",
                    measured.total(),
                    orientation_name(*options),
                    options.domain
                ),
            )
        }
    };

    html! {
        <div class="model-upload">
            <h3>{ format!("Uploaded: {}", upload.name) }</h3>
            <p class="model-about">{ about }</p>
            <ol class="model-layers" aria-label="Layers">
                { for layers.iter().map(|layer| html! { <li>{ layer.clone() }</li> }) }
            </ol>
            { settings }
            <p class="metric" role="status">{ measured_line }</p>
            <div class="controls">
                <button type="button" onclick={on_use.clone()} disabled={busy || active}>
                    { "Use this model" }
                </button>
                if active {
                    <span class="muted">{ "This model is the active model." }</span>
                }
            </div>
        </div>
    }
}

/// The layers of a gradlab weight file: each weight and bias with its shape (Burn's layouts:
/// conv `[out, in, kh, kw]`, dense `[in, out]`).
fn gradlab_layers(weights: &CnnWeights) -> Vec<String> {
    LAYOUT
        .chunks(2)
        .zip(weights.tensors.chunks(2))
        .map(|(names, tensors)| {
            let layer = names[0].0.split('.').next().unwrap_or_default();
            let kind = if layer.starts_with("conv") { "Conv" } else { "Dense" };
            let shapes: Vec<String> = names
                .iter()
                .zip(tensors)
                .map(|((name, _), tensor)| {
                    let part = name.rsplit('.').next().unwrap_or(name);
                    format!("{part} {:?}", tensor.shape)
                })
                .collect();
            format!("{kind} {layer}: {}", shapes.join(", "))
        })
        .collect()
}

/// What the Flux file says about itself beside what gradlab measures.
fn recorded_table(model: &FluxModel, measured: &Confusion) -> Html {
    let summary = &model.summary;
    let key_of = |keys: &[&str]| {
        summary.recorded.iter().find(|(key, _)| keys.contains(&key.as_str())).cloned()
    };
    let accuracy_keys = ["acc", "accuracy"];
    let epoch_keys = ["epoch_idx", "epoch"];
    let recorded = |found: Option<(String, f64)>| match found {
        Some((key, value)) => format!("{value} ({key})"),
        None => "not recorded".to_string(),
    };
    let others = summary
        .recorded
        .iter()
        .filter(|(key, _)| !accuracy_keys.contains(&key.as_str()))
        .filter(|(key, _)| !epoch_keys.contains(&key.as_str()))
        .map(|(key, value)| {
            html! {
                <tr><th scope="row">{ key.clone() }</th><td>{ *value }</td><td>{ "—" }</td></tr>
            }
        });
    html! {
        <table class="model-facts">
            <caption>{ "Recorded in the file and measured by gradlab" }</caption>
            <thead>
                <tr>
                    <th scope="col">{ "Quantity" }</th>
                    <th scope="col">{ "Recorded in the file" }</th>
                    <th scope="col">{ "Measured by gradlab" }</th>
                </tr>
            </thead>
            <tbody>
                <tr>
                    <th scope="row">{ "accuracy" }</th>
                    <td>{ recorded(key_of(&accuracy_keys)) }</td>
                    <td>
                        { format!(
                            "{:.4} on the first {} test images",
                            measured.accuracy(),
                            measured.total()
                        ) }
                    </td>
                </tr>
                <tr>
                    <th scope="row">{ "epoch" }</th>
                    <td>{ recorded(key_of(&epoch_keys)) }</td>
                    <td>{ "—" }</td>
                </tr>
                { for others }
            </tbody>
        </table>
    }
}

/// Radio buttons for the orientation and the input domain of a Flux model.
fn options_view(options: ImportOptions, busy: bool, on_options: &Callback<ImportOptions>) -> Html {
    let radio = |name: &'static str, label: &'static str, value: ImportOptions| {
        let on_options = on_options.clone();
        let onchange = Callback::from(move |_: Event| on_options.emit(value));
        html! {
            <label class="model-radio">
                <input type="radio" name={name} checked={options == value} disabled={busy}
                    onchange={onchange} />
                { label }
            </label>
        }
    };
    let with_transpose = |transpose| ImportOptions { transpose, ..options };
    let with_domain = |domain| ImportOptions { domain, ..options };
    html! {
        <div class="model-options">
            <fieldset>
                <legend>
                    { "Orientation: the first dimension of Julia's images indexes the" }
                </legend>
                { radio("model-orientation", "rows", with_transpose(false)) }
                { radio("model-orientation", "columns", with_transpose(true)) }
            </fieldset>
            <fieldset>
                <legend>{ "Input domain the model was trained on" }</legend>
                { radio("model-domain", "[0, 1]", with_domain(Domain::ZeroOne)) }
                { radio("model-domain", "[-1, 1]", with_domain(Domain::PlusMinusOne)) }
            </fieldset>
        </div>
    }
}

/// The sample accuracy under each of the four options, the suggested one marked.
fn suggestion_table(suggestion: &Suggestion, chosen: ImportOptions) -> Html {
    let sample = suggestion.scores.first().map_or(0, |(_, confusion)| confusion.total());
    let rows = suggestion.scores.iter().map(|(options, confusion)| {
        let mut classes = classes!();
        if *options == suggestion.best {
            classes.push("best");
        }
        if *options == chosen {
            classes.push("chosen");
        }
        let note = match (*options == suggestion.best, *options == chosen) {
            (true, true) => "suggested, chosen",
            (true, false) => "suggested",
            (false, true) => "chosen",
            (false, false) => "",
        };
        html! {
            <tr class={classes}>
                <td>{ orientation_name(*options) }</td>
                <td>{ options.domain.to_string() }</td>
                <td>
                    { format!(
                        "{:.4} ({}/{})",
                        confusion.accuracy(),
                        confusion.correct(),
                        confusion.total()
                    ) }
                </td>
                <td>{ note }</td>
            </tr>
        }
    });
    html! {
        <table class="model-suggestion">
            <caption>
                { format!(
                    "Accuracy on the first {sample} test images under each orientation and \
                     input domain"
                ) }
            </caption>
            <thead>
                <tr>
                    <th scope="col">{ "Orientation" }</th>
                    <th scope="col">{ "Input domain" }</th>
                    <th scope="col">{ "Accuracy" }</th>
                    <th scope="col">{ "" }</th>
                </tr>
            </thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}
