//! Reading MNIST CNNs trained with Julia's Flux and saved with BSON.jl into [`CnnWeights`].
//!
//! # The file
//! A BSON.jl file is one BSON document. Julia values that BSON has no type for are documents
//! with a `tag`:
//! - `{tag: "array", type, size, data}`: an array of `size` (Julia's shape), elements of the
//!   datatype `type`, stored column-major (first index fastest) as little-endian bytes in the
//!   binary `data`;
//! - `{tag: "struct", type, data}`: a struct with its fields, in declaration order, in `data`;
//! - `{tag: "datatype", name, params}`: a type, `name` being its module path and name;
//! - `{tag: "jl_anonymous", typename, params}`: the type of an anonymous function, whose
//!   `typename` holds the lowered code of its method;
//! - `{tag: "tuple" | "svec", data}`, `{tag: "symbol", name}`, `{tag: "ref", path}`;
//! - `{tag: "backref", ref: n}`: the `n`-th (1-based) entry of the top-level `_backrefs` list,
//!   where values that occur more than once are stored once.
//!
//! Two forms hold gradlab's architecture (Conv3x3 1=>16 pad 1 relu, MaxPool 2, Conv3x3 16=>32
//! pad 1 relu, MaxPool 2, Conv3x3 32=>32 pad 1 relu, MaxPool 2, flatten, Dense 288=>10, softmax):
//! - `params`: the eight arrays in order (conv weights and biases, dense weight and bias);
//! - `model`: the whole `Flux.Chain`. Layers are `Conv`, `MaxPool` or an anonymous
//!   `x -> maxpool(x, (2, 2))`, `flatten` or an anonymous `x -> reshape(x, :, size(x, 4))`,
//!   `Dense` and an optional `softmax` (it does not change which digit wins). Tracker-era Flux
//!   stores each parameter as a `TrackedArray` struct holding the array and its gradient.
//!
//! Other top-level numbers, such as `acc` and `epoch_idx`, are what the file says about itself;
//! they are reported in [`ImportSummary`].
//!
//! # From Flux's conventions to gradlab's
//! - A Flux conv weight has Julia shape `(k1, k2, in, out)`, column-major; Burn's is
//!   `[out, in, kh, kw]`, row-major.
//! - Flux's `Conv` is a true convolution: the kernel is flipped in both spatial dimensions
//!   relative to the cross-correlation that Burn computes. For an odd kernel with symmetric
//!   padding the two agree once the kernel is reversed along both axes.
//! - A Flux dense weight is `(out, in)`; Burn's is `[in, out]`.
//! - Flux's flatten is column-major over `(d1, d2, channel)`: index `d1 + 3·d2 + 9·c` for the
//!   3x3x32 map, where gradlab's is `c·9 + row·3 + col`.
//! - Julia's first image dimension `d1` is the image row when the images were read row by row
//!   into a 28x28 matrix, and the column when they were read as Julia's column-major reshape of
//!   the 784 bytes. Transposing every image is the same as swapping the two spatial axes of
//!   every conv kernel and swapping row and column in the flatten index (max-pooling and the
//!   square padding commute with the transposition), so [`ImportOptions::transpose`] is applied
//!   to the weights here and the network itself never changes.
//! - The input range ([0, 1] or [-1, 1]) becomes the [`InputDomain`] of the weights, applied
//!   before conv1 (see there why it is not folded into conv1).
//!
//! Nothing here panics on any input: every length, index, backref and array size is checked,
//! nesting is limited to [`MAX_DEPTH`], and the whole reading to [`MAX_VISITS`] values looked
//! at, so that a crafted file whose backrefs share one large value many times cannot make it
//! take quadratic or exponential time.

use std::collections::HashSet;
use std::fmt;

use bson::raw::{RawArray, RawBsonRef, RawDocument};
use burn::prelude::Device;

use super::cnn::{Cnn, InputDomain};
use super::weights::{CnnWeights, HostTensor, MAGIC_PREFIX, WeightsError};
use crate::ReadError;
use crate::data::mnist::Mnist;
use crate::eval::{Confusion, evaluate};

/// The deepest nesting of Julia values (documents, lists, chains of backrefs) that is followed.
/// Real files nest about ten deep.
pub const MAX_DEPTH: usize = 64;
/// The most BSON values (document entries and list elements) looked at while reading one file.
/// Reading a real file looks at about ten thousand.
pub const MAX_VISITS: usize = 1_000_000;

/// What the import expects, in words, for error messages.
pub const EXPECTED_CHAIN: &str = "Conv 3x3 1=>16 relu pad 1, MaxPool 2, \
    Conv 3x3 16=>32 relu pad 1, MaxPool 2, Conv 3x3 32=>32 relu pad 1, MaxPool 2, flatten, \
    Dense 288=>10, softmax (optional)";

/// Julia shapes of the eight parameters, in `params` order: conv weights `(k1, k2, in, out)`
/// and biases, then the dense weight `(out, in)` and bias.
pub const FLUX_LAYOUT: [(&str, &[usize]); 8] = [
    ("conv1 weight", &[3, 3, 1, 16]),
    ("conv1 bias", &[16]),
    ("conv2 weight", &[3, 3, 16, 32]),
    ("conv2 bias", &[32]),
    ("conv3 weight", &[3, 3, 32, 32]),
    ("conv3 bias", &[32]),
    ("dense weight", &[10, 288]),
    ("dense bias", &[10]),
];

/// Side of the feature map entering flatten (28 → 14 → 7 → 3 through the three pools).
const FLAT_SIDE: usize = 3;

/// What is wrong with a Flux/BSON.jl file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FluxError {
    #[error("not a valid BSON file: {0}")]
    Bson(String),
    #[error("{context}: the key `{key}` is missing")]
    MissingKey { context: String, key: &'static str },
    #[error("{context}: expected {expected}, found {found}")]
    Unexpected { context: String, expected: String, found: String },
    #[error("backref {found} is out of range: the file has {count} backrefs")]
    BackrefOutOfRange { found: i64, count: usize },
    #[error("the values nest deeper than {limit} levels (or backrefs form a cycle)")]
    TooDeep { limit: usize },
    #[error("reading the file would look at more than {limit} values")]
    TooLarge { limit: usize },
    #[error("{context}: elements of type {found}, only Float32 is supported")]
    ElementType { context: String, found: String },
    #[error("{context}: size {size:?} needs {expected} bytes of data, found {found}")]
    DataLength { context: String, size: Vec<i64>, expected: String, found: usize },
    #[error("{context}: expected shape {expected:?}, found {found:?}")]
    Shape { context: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("{context}: holds a value that is not finite")]
    NotFinite { context: String },
    #[error("expected {expected} parameter arrays in `params`, found {found}")]
    ParamCount { expected: usize, found: usize },
    #[error(
        "no model in the file: expected a `model` (a Flux Chain) or `params` (8 arrays), \
             found the keys {keys:?}"
    )]
    NoModel { keys: Vec<String> },
    #[error("expected the layers {EXPECTED_CHAIN}; found {found}")]
    Architecture { found: String },
    #[error("layer {index} ({kind}): expected {expected}, found {found}")]
    Layer { index: usize, kind: &'static str, expected: String, found: String },
}

/// The range of pixel values the network was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Pixels `p/255` in [0, 1], as most Flux MNIST examples use.
    ZeroOne,
    /// `2p/255 − 1` in [-1, 1], as gradlab uses.
    PlusMinusOne,
}

impl Domain {
    /// The map from gradlab's input in [-1, 1] to this range.
    pub fn input_domain(self) -> InputDomain {
        match self {
            Domain::ZeroOne => InputDomain::ZERO_ONE,
            Domain::PlusMinusOne => InputDomain::PLUS_MINUS_ONE,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Domain::ZeroOne => "[0, 1]",
            Domain::PlusMinusOne => "[-1, 1]",
        })
    }
}

impl std::str::FromStr for Domain {
    type Err = String;

    /// `01` for [0, 1], `pm1` for [-1, 1].
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "01" => Ok(Domain::ZeroOne),
            "pm1" => Ok(Domain::PlusMinusOne),
            _ => Err(format!("'{s}' is not a domain: use 01 for [0, 1] or pm1 for [-1, 1]")),
        }
    }
}

/// How the Julia model saw its images; neither is recorded in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImportOptions {
    /// True when Julia's first image dimension was the column (images transposed relative to
    /// gradlab's row-major pixels); false when it was the row.
    pub transpose: bool,
    /// The range of the inputs the model was trained on.
    pub domain: Domain,
}

impl Default for ImportOptions {
    /// Rows first and [0, 1]: the conventions of Flux's MNIST examples.
    fn default() -> Self {
        Self { transpose: false, domain: Domain::ZeroOne }
    }
}

impl ImportOptions {
    /// The four combinations, the default first.
    pub const ALL: [ImportOptions; 4] = [
        ImportOptions { transpose: false, domain: Domain::ZeroOne },
        ImportOptions { transpose: false, domain: Domain::PlusMinusOne },
        ImportOptions { transpose: true, domain: Domain::ZeroOne },
        ImportOptions { transpose: true, domain: Domain::PlusMinusOne },
    ];
}

impl fmt::Display for ImportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = if self.transpose { "columns first" } else { "rows first" };
        write!(f, "{order}, inputs in {}", self.domain)
    }
}

/// Which form the file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluxForm {
    /// `params`: the eight arrays only; the layers are inferred from their shapes.
    ParamsOnly,
    /// `model`: a whole `Chain`; `tracked` when its parameters are Tracker's `TrackedArray`s
    /// (each stored with its gradient).
    Chain { tracked: bool },
}

/// The kind of a layer of the imported network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Conv,
    MaxPool,
    Flatten,
    Dense,
    Softmax,
}

impl LayerKind {
    fn name(self) -> &'static str {
        match self {
            LayerKind::Conv => "Conv",
            LayerKind::MaxPool => "MaxPool",
            LayerKind::Flatten => "flatten",
            LayerKind::Dense => "Dense",
            LayerKind::Softmax => "softmax",
        }
    }
}

/// One layer as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    pub kind: LayerKind,
    /// Julia shapes of the weight and the bias (conv `(k1, k2, in, out)`, dense `(out, in)`),
    /// or the pooling window; empty for flatten and softmax.
    pub shapes: Vec<Vec<usize>>,
    /// `relu` for the convolutions, `identity` for the dense layer; `None` when not recorded.
    pub activation: Option<String>,
}

impl fmt::Display for LayerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        for shape in &self.shapes {
            write!(f, " {}", julia_shape(shape))?;
        }
        if let Some(activation) = &self.activation {
            write!(f, " {activation}")?;
        }
        Ok(())
    }
}

/// What the file holds and says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub form: FluxForm,
    /// The layers in order.
    pub layers: Vec<LayerInfo>,
    /// Number of values in the eight parameter arrays (16,938).
    pub num_params: usize,
    /// The accuracy recorded by the file's author (key `acc` or `accuracy`), if any.
    pub accuracy: Option<f64>,
    /// The epoch recorded in the file (key `epoch_idx` or `epoch`), if any.
    pub epoch: Option<i64>,
    /// Every top-level number of the file, by key, in file order.
    pub recorded: Vec<(String, f64)>,
}

/// A Julia array: its shape and its values in Julia's column-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct JuliaArray {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A Flux model read from a file, its parameters still in Julia's layouts; turn it into
/// gradlab's weights with [`FluxModel::to_weights`] once the orientation and the input range
/// are known (see [`suggest_options`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FluxModel {
    pub summary: ImportSummary,
    /// The eight arrays in [`FLUX_LAYOUT`] order and shapes.
    params: Vec<JuliaArray>,
}

impl FluxModel {
    /// gradlab's weights for these parameters under `options` (see the module docs for the
    /// conversions).
    pub fn to_weights(&self, options: ImportOptions) -> CnnWeights {
        let p = &self.params;
        let t = options.transpose;
        let tensors = vec![
            conv_weight(&p[0], t),
            bias(&p[1]),
            conv_weight(&p[2], t),
            bias(&p[3]),
            conv_weight(&p[4], t),
            bias(&p[5]),
            dense_weight(&p[6], [FLAT_SIDE, FLAT_SIDE], t),
            bias(&p[7]),
        ];
        CnnWeights { tensors, input: options.domain.input_domain() }
    }
}

/// Reads a BSON.jl file holding a Flux CNN of gradlab's architecture.
///
/// # Errors
/// [`FluxError`] naming what was expected and what was found, for any damaged file, other
/// layer kinds, another architecture or other shapes.
pub fn read_flux(bytes: &[u8]) -> Result<FluxModel, FluxError> {
    let root = RawDocument::from_bytes(bytes).map_err(bson_error)?;
    let mut entries = Vec::new();
    for entry in root {
        let (key, value) = entry.map_err(bson_error)?;
        entries.push((key.as_str(), value));
    }
    let backrefs = match entries.iter().find(|(key, _)| *key == "_backrefs") {
        Some((_, RawBsonRef::Array(list))) => elements(list)?,
        Some((_, other)) => {
            return Err(unexpected("_backrefs", "a list", describe(*other)));
        }
        None => Vec::new(),
    };
    let jl = Jl { backrefs, visits: std::cell::Cell::new(0) };

    let mut recorded = Vec::new();
    for (key, value) in &entries {
        if *key != "_backrefs"
            && let Some(number) = jl.number(*value)
        {
            recorded.push((key.to_string(), number));
        }
    }
    let find = |keys: &[&str]| {
        keys.iter().find_map(|k| recorded.iter().find(|(key, _)| key == k).map(|(_, v)| *v))
    };
    let accuracy = find(&["acc", "accuracy"]);
    let epoch = find(&["epoch_idx", "epoch"]).filter(|e| e.fract() == 0.0).map(|e| e as i64);

    let model = entries.iter().find(|(key, _)| *key == "model");
    let params = entries.iter().find(|(key, _)| *key == "params");
    let (form, layers, params) = match (model, params) {
        (Some((_, model)), _) => jl.chain(*model)?,
        (None, Some((_, params))) => jl.params_only(*params)?,
        (None, None) => {
            let keys = entries.iter().map(|(key, _)| key.to_string()).collect();
            return Err(FluxError::NoModel { keys });
        }
    };
    let num_params = params.iter().map(|p| p.values.len()).sum();
    let summary = ImportSummary { form, layers, num_params, accuracy, epoch, recorded };
    Ok(FluxModel { summary, params })
}

/// Reads a BSON.jl file and converts it with `options`: [`read_flux`] then
/// [`FluxModel::to_weights`].
pub fn import_flux(
    bytes: &[u8],
    options: ImportOptions,
) -> Result<(CnnWeights, ImportSummary), FluxError> {
    let model = read_flux(bytes)?;
    Ok((model.to_weights(options), model.summary))
}

/// A model file of either kind, recognised by its content: gradlab's files start with
/// `GRADLAB`, anything else is read as BSON.jl.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFile {
    Gradlab(CnnWeights),
    Flux(FluxModel),
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("gradlab weight file: {0}")]
    Gradlab(#[from] WeightsError),
    #[error("Flux/BSON.jl file: {0}")]
    Flux(#[from] FluxError),
}

impl ModelFile {
    /// Reads gradlab's format or a Flux/BSON.jl file, whichever `bytes` hold.
    pub fn read(bytes: &[u8]) -> Result<Self, ModelFileError> {
        if bytes.starts_with(MAGIC_PREFIX) {
            Ok(ModelFile::Gradlab(CnnWeights::from_bytes(bytes)?))
        } else {
            Ok(ModelFile::Flux(read_flux(bytes)?))
        }
    }

    /// The weights; `options` apply to Flux files only (gradlab's record their own domain).
    pub fn to_weights(&self, options: ImportOptions) -> CnnWeights {
        match self {
            ModelFile::Gradlab(weights) => weights.clone(),
            ModelFile::Flux(model) => model.to_weights(options),
        }
    }
}

/// The accuracy of a model on a sample under each of the four [`ImportOptions`].
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The options with the highest accuracy (the first in [`ImportOptions::ALL`] order on a
    /// tie).
    pub best: ImportOptions,
    /// Every combination with its confusion matrix, in [`ImportOptions::ALL`] order.
    pub scores: Vec<(ImportOptions, Confusion)>,
}

/// Suggests orientation and input range by evaluating `sample` (a few hundred test images are
/// plenty: a wrong orientation drops the accuracy to about 0.14, a missing flip to 0.31) under
/// each of the four combinations, on `device`, in batches of `batch_size`. After each batch
/// `progress(done, total)` is awaited over all four passes; answering `false` cancels (`None`).
pub async fn suggest_options<F, Fut>(
    model: &FluxModel,
    sample: &Mnist,
    device: &Device,
    batch_size: usize,
    mut progress: F,
) -> Result<Option<Suggestion>, SuggestError>
where
    F: FnMut(usize, usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let total = sample.len() * ImportOptions::ALL.len();
    let mut scores = Vec::with_capacity(ImportOptions::ALL.len());
    for (index, options) in ImportOptions::ALL.into_iter().enumerate() {
        let cnn = Cnn::from_weights(&model.to_weights(options), device)?;
        let offset = index * sample.len();
        let hook = |done: usize, _: usize| progress(offset + done, total);
        let Some(confusion) = evaluate(&cnn, sample, batch_size, hook).await? else {
            return Ok(None);
        };
        scores.push((options, confusion));
    }
    let mut best = (ImportOptions::default(), -1.0);
    for (options, confusion) in &scores {
        if confusion.accuracy() > best.1 {
            best = (*options, confusion.accuracy());
        }
    }
    Ok(Some(Suggestion { best: best.0, scores }))
}

/// Why [`suggest_options`] could not evaluate.
#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Flux conv weight, Julia `(k1, k2, in, out)` column-major, to Burn's `[out, in, kh, kw]`
/// row-major cross-correlation kernel.
///
/// Burn's `out[r][c] = Σ K[i][j]·x[r+i−p][c+j−p]`; Flux's true convolution is the same with the
/// kernel reversed along both spatial axes, so `K[o][ci][i][j] = W[k1−1−i', k2−1−j', ci, o]`
/// where `(i', j')` is `(i, j)` (rows first: `d1` is the row, so `kh = k1`) or `(j, i)`
/// (transposed: `d1` is the column, so `kh = k2`, `kw = k1`).
fn conv_weight(w: &JuliaArray, transpose: bool) -> HostTensor {
    let [k1, k2, c_in, c_out] = match w.shape.as_slice() {
        &[a, b, c, d] => [a, b, c, d],
        _ => {
            return HostTensor { shape: w.shape.clone(), values: w.values.clone() };
        }
    };
    let (kh, kw) = if transpose { (k2, k1) } else { (k1, k2) };
    let mut values = Vec::with_capacity(w.values.len());
    for o in 0..c_out {
        for c in 0..c_in {
            for row in 0..kh {
                for col in 0..kw {
                    // Index along d1 and d2 of the flipped kernel.
                    let (d1, d2) = if transpose {
                        (kw - 1 - col, kh - 1 - row)
                    } else {
                        (kh - 1 - row, kw - 1 - col)
                    };
                    let at = d1 + k1 * (d2 + k2 * (c + c_in * o));
                    values.push(w.values.get(at).copied().unwrap_or(f32::NAN));
                }
            }
        }
    }
    HostTensor { shape: vec![c_out, c_in, kh, kw], values }
}

/// Flux dense weight, Julia `(out, in)` column-major, to Burn's `[in, out]` row-major, with the
/// input reordered from Flux's flatten to gradlab's.
///
/// `side` is `[height, width]` of gradlab's feature map before flatten. gradlab's input index is
/// `c·h·w + row·w + col`; Flux's is `d1 + n1·d2 + n1·n2·c` with `(d1, d2) = (row, col)` and
/// `(n1, n2) = (h, w)`, or `(col, row)` and `(w, h)` when transposed.
fn dense_weight(w: &JuliaArray, side: [usize; 2], transpose: bool) -> HostTensor {
    let [n_out, n_in] = match w.shape.as_slice() {
        &[a, b] => [a, b],
        _ => {
            return HostTensor { shape: w.shape.clone(), values: w.values.clone() };
        }
    };
    let [h, wd] = side;
    let channels = n_in / (h * wd).max(1);
    let mut values = Vec::with_capacity(w.values.len());
    for c in 0..channels {
        for row in 0..h {
            for col in 0..wd {
                let flux_in = if transpose {
                    col + wd * row + wd * h * c
                } else {
                    row + h * col + h * wd * c
                };
                for o in 0..n_out {
                    values.push(w.values.get(o + n_out * flux_in).copied().unwrap_or(f32::NAN));
                }
            }
        }
    }
    HostTensor { shape: vec![channels * h * wd, n_out], values }
}

/// A bias: the same values in both layouts.
fn bias(b: &JuliaArray) -> HostTensor {
    HostTensor { shape: b.shape.clone(), values: b.values.clone() }
}

fn julia_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) }
}

fn bson_error(error: impl fmt::Display) -> FluxError {
    FluxError::Bson(error.to_string())
}

fn unexpected(context: impl Into<String>, expected: &str, found: String) -> FluxError {
    FluxError::Unexpected { context: context.into(), expected: expected.to_string(), found }
}

/// The elements of a BSON array, checked one by one.
fn elements(list: &RawArray) -> Result<Vec<RawBsonRef<'_>>, FluxError> {
    list.into_iter().map(|item| item.map_err(bson_error)).collect()
}

/// A short description of a raw value for error messages.
fn describe(value: RawBsonRef<'_>) -> String {
    match value {
        RawBsonRef::Double(v) => format!("the number {v}"),
        RawBsonRef::Int32(v) => format!("the integer {v}"),
        RawBsonRef::Int64(v) => format!("the integer {v}"),
        RawBsonRef::String(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
        RawBsonRef::Boolean(b) => format!("the boolean {b}"),
        RawBsonRef::Null => "nothing".to_string(),
        RawBsonRef::Array(_) => "a list".to_string(),
        RawBsonRef::Binary(b) => format!("{} bytes of binary data", b.bytes.len()),
        RawBsonRef::Document(doc) => match doc.get("tag") {
            Ok(Some(RawBsonRef::String(tag))) => format!("a document tagged {tag:?}"),
            _ => "an untagged document".to_string(),
        },
        other => format!("a BSON {:?}", other.element_type()),
    }
}

/// A Julia type as the file names it.
#[derive(Debug, Clone, PartialEq)]
enum JlType<'a> {
    /// `{tag: "datatype"}`: module path and name, e.g. `["Flux", "Conv"]`.
    Named(Vec<&'a str>),
    /// `{tag: "jl_anonymous"}`: the type of an anonymous function, with its `typename`.
    Anonymous(RawBsonRef<'a>),
}

impl JlType<'_> {
    /// The last component of a named type (`Conv`, `#relu`, `Float32`); empty when anonymous.
    fn name(&self) -> &str {
        match self {
            JlType::Named(path) => path.last().copied().unwrap_or(""),
            JlType::Anonymous(_) => "",
        }
    }
}

impl fmt::Display for JlType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JlType::Named(path) => f.write_str(&path.join(".")),
            JlType::Anonymous(_) => f.write_str("an anonymous function"),
        }
    }
}

/// A Julia struct: its type and its fields in declaration order.
struct JlStruct<'a> {
    ty: JlType<'a>,
    fields: Vec<RawBsonRef<'a>>,
}

/// A layer as found, before it is checked against gradlab's architecture.
enum Found<'a> {
    Conv(JlStruct<'a>),
    MaxPool(JlStruct<'a>),
    /// An anonymous pooling function with its window.
    Pool(Vec<i64>),
    Flatten,
    Dense(JlStruct<'a>),
    Softmax,
    Other(String),
}

impl Found<'_> {
    fn kind(&self) -> Option<LayerKind> {
        match self {
            Found::Conv(_) => Some(LayerKind::Conv),
            Found::MaxPool(_) | Found::Pool(_) => Some(LayerKind::MaxPool),
            Found::Flatten => Some(LayerKind::Flatten),
            Found::Dense(_) => Some(LayerKind::Dense),
            Found::Softmax => Some(LayerKind::Softmax),
            Found::Other(_) => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Found::Conv(s) | Found::MaxPool(s) | Found::Dense(s) => s.ty.to_string(),
            Found::Pool(window) => format!("maxpool {window:?}"),
            Found::Flatten => "flatten".to_string(),
            Found::Softmax => "softmax".to_string(),
            Found::Other(what) => what.clone(),
        }
    }
}

/// Values of a symbolic run of an anonymous function's lowered code.
#[derive(Debug, Clone, PartialEq)]
enum Sym {
    /// The function's argument `x`.
    Input,
    Int(i64),
    Ints(Vec<i64>),
    /// A global function or constant (`maxpool`, `reshape`, `:`).
    Global(String),
    /// `size(x, 4)`: the batch size.
    BatchSize,
    Pooled(Vec<i64>),
    Flattened,
    Unknown,
}

/// The BSON.jl layer over the raw BSON values of one file.
struct Jl<'a> {
    /// The top-level `_backrefs`, which `{tag: "backref", ref: n}` points into (1-based).
    backrefs: Vec<RawBsonRef<'a>>,
    /// Values looked at so far, see [`MAX_VISITS`].
    visits: std::cell::Cell<usize>,
}

impl<'a> Jl<'a> {
    /// Counts `n` values looked at against [`MAX_VISITS`].
    fn charge(&self, n: usize) -> Result<(), FluxError> {
        let visits = self.visits.get().saturating_add(n);
        self.visits.set(visits);
        if visits > MAX_VISITS {
            return Err(FluxError::TooLarge { limit: MAX_VISITS });
        }
        Ok(())
    }

    /// The elements of a BSON list, checked one by one.
    fn elements(&self, list: &'a RawArray) -> Result<Vec<RawBsonRef<'a>>, FluxError> {
        let mut items = Vec::new();
        for item in list {
            self.charge(1)?;
            items.push(item.map_err(bson_error)?);
        }
        Ok(items)
    }

    /// The value of `key` in `doc`, if present.
    fn lookup(&self, doc: &'a RawDocument, key: &str) -> Result<Option<RawBsonRef<'a>>, FluxError> {
        for entry in doc {
            self.charge(1)?;
            let (name, value) = entry.map_err(bson_error)?;
            if name.as_str() == key {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// A required key of a document.
    fn get(
        &self,
        doc: &'a RawDocument,
        key: &'static str,
        context: &str,
    ) -> Result<RawBsonRef<'a>, FluxError> {
        self.lookup(doc, key)?
            .ok_or_else(|| FluxError::MissingKey { context: context.to_string(), key })
    }

    /// The `tag` of a document, if it has a string one.
    fn tag(&self, doc: &'a RawDocument) -> Result<Option<&'a str>, FluxError> {
        match self.lookup(doc, "tag")? {
            Some(RawBsonRef::String(tag)) => Ok(Some(tag)),
            _ => Ok(None),
        }
    }

    /// The 0-based index into `_backrefs` when `value` is a backref, checked to be in range.
    fn backref(&self, value: RawBsonRef<'a>) -> Result<Option<usize>, FluxError> {
        let RawBsonRef::Document(doc) = value else {
            return Ok(None);
        };
        if self.tag(doc)? != Some("backref") {
            return Ok(None);
        }
        let found = match self.lookup(doc, "ref")? {
            Some(RawBsonRef::Int64(n)) => n,
            Some(RawBsonRef::Int32(n)) => n as i64,
            Some(other) => return Err(unexpected("backref", "an integer `ref`", describe(other))),
            None => {
                return Err(FluxError::MissingKey { context: "backref".into(), key: "ref" });
            }
        };
        let count = self.backrefs.len();
        let index = usize::try_from(found).ok().and_then(|n| n.checked_sub(1));
        match index {
            Some(index) if index < count => Ok(Some(index)),
            _ => Err(FluxError::BackrefOutOfRange { found, count }),
        }
    }

    /// Follows backrefs (a chain of them too) to the value they stand for.
    fn resolve(&self, mut value: RawBsonRef<'a>) -> Result<RawBsonRef<'a>, FluxError> {
        for _ in 0..MAX_DEPTH {
            match self.backref(value)?.and_then(|index| self.backrefs.get(index)) {
                Some(target) => value = *target,
                None => return Ok(value),
            }
        }
        Err(FluxError::TooDeep { limit: MAX_DEPTH })
    }

    /// The resolved value as a tagged document: `(tag, document)`.
    fn tagged(
        &self,
        value: RawBsonRef<'a>,
        context: &str,
    ) -> Result<(&'a str, &'a RawDocument), FluxError> {
        let value = self.resolve(value)?;
        let RawBsonRef::Document(doc) = value else {
            return Err(unexpected(context, "a tagged document", describe(value)));
        };
        let tag = self
            .tag(doc)?
            .ok_or_else(|| unexpected(context, "a tagged document", describe(value)))?;
        Ok((tag, doc))
    }

    /// The elements of a sequence: a BSON list, a `tuple` or `svec`, or a one-dimensional
    /// `array` whose `data` is a list (Julia's `Vector{Any}`).
    fn sequence(
        &self,
        value: RawBsonRef<'a>,
        context: &str,
    ) -> Result<Vec<RawBsonRef<'a>>, FluxError> {
        match self.resolve(value)? {
            RawBsonRef::Array(list) => self.elements(list),
            RawBsonRef::Document(doc) => match self.tag(doc)? {
                Some("tuple" | "svec") => match self.get(doc, "data", context)? {
                    RawBsonRef::Array(list) => self.elements(list),
                    other => Err(unexpected(context, "a list in `data`", describe(other))),
                },
                Some("array") => match self.get(doc, "data", context)? {
                    RawBsonRef::Array(list) => {
                        let items = self.elements(list)?;
                        let size = self.size(doc, context)?;
                        if size != [items.len() as i64] {
                            return Err(FluxError::DataLength {
                                context: context.to_string(),
                                size,
                                expected: "as many values".to_string(),
                                found: items.len(),
                            });
                        }
                        Ok(items)
                    }
                    other => Err(unexpected(context, "a list of values", describe(other))),
                },
                _ => Err(unexpected(context, "a list or a tuple", describe(value))),
            },
            other => Err(unexpected(context, "a list or a tuple", describe(other))),
        }
    }

    /// A type: `{tag: "datatype", name: [...]}` or `{tag: "jl_anonymous", typename}`.
    fn ty(&self, value: RawBsonRef<'a>, context: &str) -> Result<JlType<'a>, FluxError> {
        let (tag, doc) = self.tagged(value, context)?;
        match tag {
            "datatype" => {
                let mut path = Vec::new();
                for part in self.sequence(self.get(doc, "name", context)?, context)? {
                    match part {
                        RawBsonRef::String(s) => path.push(s),
                        other => {
                            return Err(unexpected(context, "a type name", describe(other)));
                        }
                    }
                }
                Ok(JlType::Named(path))
            }
            "jl_anonymous" => Ok(JlType::Anonymous(self.get(doc, "typename", context)?)),
            _ => Err(unexpected(context, "a type", format!("a document tagged {tag:?}"))),
        }
    }

    /// A struct, or `None` when the value is not one.
    fn structure(
        &self,
        value: RawBsonRef<'a>,
        context: &str,
    ) -> Result<Option<JlStruct<'a>>, FluxError> {
        let value = self.resolve(value)?;
        let RawBsonRef::Document(doc) = value else {
            return Ok(None);
        };
        if self.tag(doc)? != Some("struct") {
            return Ok(None);
        }
        let ty = self.ty(self.get(doc, "type", context)?, context)?;
        let fields = match self.get(doc, "data", context)? {
            RawBsonRef::Array(list) => self.elements(list)?,
            // Bits types (UInt32, Float32, ...) store their bytes in `data`.
            RawBsonRef::Binary(_) => Vec::new(),
            other => return Err(unexpected(context, "a list of fields", describe(other))),
        };
        Ok(Some(JlStruct { ty, fields }))
    }

    /// A plain number: a BSON number, or a struct of a Julia number type holding its bytes.
    /// `None` for anything else, damaged values included (they are not numbers).
    fn number(&self, value: RawBsonRef<'a>) -> Option<f64> {
        match self.resolve(value).ok()? {
            RawBsonRef::Double(v) => Some(v),
            RawBsonRef::Int32(v) => Some(v as f64),
            RawBsonRef::Int64(v) => Some(v as f64),
            RawBsonRef::Document(doc) if self.tag(doc).ok()? == Some("struct") => {
                let ty = self.ty(self.lookup(doc, "type").ok()??, "number").ok()?;
                let Some(RawBsonRef::Binary(bin)) = self.lookup(doc, "data").ok()? else {
                    return None;
                };
                match (ty.name(), bin.bytes) {
                    ("Float32", &[a, b, c, d]) => Some(f32::from_le_bytes([a, b, c, d]) as f64),
                    ("Float64", bytes) => bytes.try_into().ok().map(f64::from_le_bytes),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The `size` of an `array` document: non-negative integers.
    fn size(&self, doc: &'a RawDocument, context: &str) -> Result<Vec<i64>, FluxError> {
        self.sequence(self.get(doc, "size", context)?, context)?
            .into_iter()
            .map(|d| match self.resolve(d)? {
                RawBsonRef::Int64(n) if n >= 0 => Ok(n),
                RawBsonRef::Int32(n) if n >= 0 => Ok(n as i64),
                other => Err(unexpected(context, "a non-negative dimension", describe(other))),
            })
            .collect()
    }

    /// A Float32 array: `{tag: "array"}`, or Tracker's `TrackedArray` struct holding one (its
    /// fields are the tracker, the array and its gradient). Returns the array and whether it
    /// was tracked.
    fn array(&self, value: RawBsonRef<'a>, context: &str) -> Result<(JuliaArray, bool), FluxError> {
        if let Some(s) = self.structure(value, context)? {
            if s.ty.name() == "TrackedArray" {
                let data = *s.fields.get(1).ok_or_else(|| {
                    unexpected(context, "a TrackedArray with its data", "no data".to_string())
                })?;
                return Ok((self.plain_array(data, context)?, true));
            }
            let found = format!("a struct of type {}", s.ty);
            return Err(unexpected(context, "a Float32 array", found));
        }
        Ok((self.plain_array(value, context)?, false))
    }

    fn plain_array(&self, value: RawBsonRef<'a>, context: &str) -> Result<JuliaArray, FluxError> {
        let (tag, doc) = self.tagged(value, context)?;
        if tag != "array" {
            return Err(unexpected(
                context,
                "a Float32 array",
                format!("a document tagged {tag:?}"),
            ));
        }
        let ty = self.ty(self.get(doc, "type", context)?, context)?;
        if ty.name() != "Float32" {
            return Err(FluxError::ElementType {
                context: context.to_string(),
                found: ty.to_string(),
            });
        }
        let size = self.size(doc, context)?;
        let RawBsonRef::Binary(data) = self.resolve(self.get(doc, "data", context)?)? else {
            let found = describe(self.get(doc, "data", context)?);
            return Err(unexpected(context, "binary array data", found));
        };
        let count =
            size.iter().try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?));
        let bytes = count.and_then(|n| n.checked_mul(4));
        if bytes != Some(data.bytes.len()) {
            let expected =
                bytes.map_or("more than can be addressed".to_string(), |b| b.to_string());
            return Err(FluxError::DataLength {
                context: context.to_string(),
                size,
                expected,
                found: data.bytes.len(),
            });
        }
        let values: Vec<f32> = data
            .bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(FluxError::NotFinite { context: context.to_string() });
        }
        let shape = size.iter().map(|&d| d as usize).collect();
        Ok(JuliaArray { shape, values })
    }

    /// A tuple of integers (stride, pad, pooling window).
    fn ints(&self, value: RawBsonRef<'a>, context: &str) -> Result<Vec<i64>, FluxError> {
        self.sequence(value, context)?
            .into_iter()
            .map(|v| match self.resolve(v)? {
                RawBsonRef::Int64(n) => Ok(n),
                RawBsonRef::Int32(n) => Ok(n as i64),
                other => Err(unexpected(context, "an integer", describe(other))),
            })
            .collect()
    }

    /// The name of a function value (a singleton struct such as `NNlib.#relu`), without `#`.
    fn function_name(&self, value: RawBsonRef<'a>, context: &str) -> Result<String, FluxError> {
        match self.structure(value, context)? {
            Some(s) if s.fields.is_empty() && s.ty.name().starts_with('#') => {
                Ok(s.ty.name().trim_start_matches('#').to_string())
            }
            Some(s) => Err(unexpected(context, "a function", format!("a struct of type {}", s.ty))),
            None => Err(unexpected(context, "a function", describe(self.resolve(value)?))),
        }
    }

    /// The eight arrays of the `params` form.
    fn params_only(&self, value: RawBsonRef<'a>) -> Result<Parsed, FluxError> {
        let items = self.sequence(value, "params")?;
        if items.len() != FLUX_LAYOUT.len() {
            return Err(FluxError::ParamCount { expected: FLUX_LAYOUT.len(), found: items.len() });
        }
        let mut params = Vec::with_capacity(items.len());
        for (item, (name, shape)) in items.into_iter().zip(FLUX_LAYOUT) {
            let (array, _) = self.array(item, &format!("params: {name}"))?;
            check_shape(&array, shape, &format!("params: {name}"))?;
            params.push(array);
        }
        let layer = |kind, w: &JuliaArray, b: &JuliaArray| LayerInfo {
            kind,
            shapes: vec![w.shape.clone(), b.shape.clone()],
            activation: None,
        };
        let layers = vec![
            layer(LayerKind::Conv, &params[0], &params[1]),
            layer(LayerKind::Conv, &params[2], &params[3]),
            layer(LayerKind::Conv, &params[4], &params[5]),
            layer(LayerKind::Dense, &params[6], &params[7]),
        ];
        Ok((FluxForm::ParamsOnly, layers, params))
    }

    /// The layers and parameters of a `Chain`.
    fn chain(&self, value: RawBsonRef<'a>) -> Result<Parsed, FluxError> {
        let chain = self.structure(value, "model")?.ok_or_else(|| {
            unexpected("model", "a Flux Chain", describe(self.resolve(value).unwrap_or(value)))
        })?;
        if chain.ty.name() != "Chain" {
            return Err(unexpected(
                "model",
                "a Flux Chain",
                format!("a struct of type {}", chain.ty),
            ));
        }
        let layers_value = *chain
            .fields
            .first()
            .ok_or_else(|| unexpected("model", "the Chain's layers", "no field".to_string()))?;
        let found = self
            .sequence(layers_value, "model: layers")?
            .into_iter()
            .enumerate()
            .map(|(index, layer)| self.layer(layer, index))
            .collect::<Result<Vec<_>, _>>()?;

        let pattern = [
            LayerKind::Conv,
            LayerKind::MaxPool,
            LayerKind::Conv,
            LayerKind::MaxPool,
            LayerKind::Conv,
            LayerKind::MaxPool,
            LayerKind::Flatten,
            LayerKind::Dense,
        ];
        let kinds: Vec<Option<LayerKind>> = found.iter().map(Found::kind).collect();
        let matches = kinds.len() >= pattern.len()
            && kinds.iter().zip(pattern).all(|(k, p)| *k == Some(p))
            && kinds[pattern.len()..].iter().all(|k| *k == Some(LayerKind::Softmax))
            && kinds.len() <= pattern.len() + 1;
        if !matches {
            let list: Vec<String> = found.iter().map(Found::describe).collect();
            return Err(FluxError::Architecture { found: list.join(", ") });
        }

        let mut layers = Vec::new();
        let mut params = Vec::new();
        let mut tracked = false;
        let mut conv = 0;
        for (index, layer) in found.iter().enumerate() {
            match layer {
                Found::Conv(s) => {
                    let (w, b) = (&FLUX_LAYOUT[2 * conv], &FLUX_LAYOUT[2 * conv + 1]);
                    let (info, weight, bias, t) = self.conv(s, index, w.1, b.1)?;
                    tracked |= t;
                    layers.push(info);
                    params.extend([weight, bias]);
                    conv += 1;
                }
                Found::MaxPool(s) => {
                    let window = self.maxpool(s, index)?;
                    layers.push(pool_info(&window));
                }
                Found::Pool(window) => {
                    check_window(window, index)?;
                    layers.push(pool_info(window));
                }
                Found::Dense(s) => {
                    let (info, weight, bias, t) = self.dense(s, index)?;
                    tracked |= t;
                    layers.push(info);
                    params.extend([weight, bias]);
                }
                Found::Flatten | Found::Softmax => {
                    let kind = layer.kind().unwrap_or(LayerKind::Flatten);
                    layers.push(LayerInfo { kind, shapes: Vec::new(), activation: None });
                }
                Found::Other(_) => {}
            }
        }
        Ok((FluxForm::Chain { tracked }, layers, params))
    }

    /// Classifies one layer of a Chain.
    fn layer(&self, value: RawBsonRef<'a>, index: usize) -> Result<Found<'a>, FluxError> {
        let context = format!("model: layer {index}");
        let Some(s) = self.structure(value, &context)? else {
            return Ok(Found::Other(describe(self.resolve(value)?)));
        };
        if let JlType::Anonymous(typename) = s.ty {
            if !s.fields.is_empty() {
                let what = format!("an anonymous function capturing {} values", s.fields.len());
                return Ok(Found::Other(what));
            }
            return self.anonymous(typename, &context);
        }
        let name = s.ty.name();
        Ok(match name {
            "Conv" => Found::Conv(s),
            "MaxPool" => Found::MaxPool(s),
            "Dense" => Found::Dense(s),
            "#softmax" if s.fields.is_empty() => Found::Softmax,
            "#flatten" if s.fields.is_empty() => Found::Flatten,
            _ => Found::Other(s.ty.to_string()),
        })
    }

    /// Checks a `Conv` (fields σ, weight, bias, stride, pad, dilation[, groups]).
    fn conv(
        &self,
        s: &JlStruct<'a>,
        index: usize,
        weight_shape: &[usize],
        bias_shape: &[usize],
    ) -> Result<(LayerInfo, JuliaArray, JuliaArray, bool), FluxError> {
        let context = format!("model: layer {index} (Conv)");
        let layer_error = |expected: &str, found: String| FluxError::Layer {
            index,
            kind: "Conv",
            expected: expected.to_string(),
            found,
        };
        if s.fields.len() < 6 {
            let found = format!("{} fields", s.fields.len());
            return Err(layer_error("the fields σ, weight, bias, stride, pad, dilation", found));
        }
        let activation = self.function_name(s.fields[0], &context)?;
        if activation != "relu" {
            return Err(layer_error("the activation relu", activation));
        }
        let (weight, tracked_w) = self.array(s.fields[1], &format!("{context} weight"))?;
        let (bias, tracked_b) = self.array(s.fields[2], &format!("{context} bias"))?;
        check_shape(&weight, weight_shape, &format!("{context} weight"))?;
        check_shape(&bias, bias_shape, &format!("{context} bias"))?;
        let expect_all = |field: usize, name: &str, value: i64| -> Result<(), FluxError> {
            let found = self.ints(s.fields[field], &format!("{context} {name}"))?;
            if found.is_empty() || found.iter().any(|&v| v != value) {
                return Err(layer_error(&format!("{name} {value}"), format!("{name} {found:?}")));
            }
            Ok(())
        };
        expect_all(3, "stride", 1)?;
        expect_all(4, "pad", 1)?;
        expect_all(5, "dilation", 1)?;
        if let Some(&groups) = s.fields.get(6) {
            match self.resolve(groups)? {
                RawBsonRef::Int64(1) | RawBsonRef::Int32(1) => {}
                other => return Err(layer_error("groups 1", describe(other))),
            }
        }
        let info = LayerInfo {
            kind: LayerKind::Conv,
            shapes: vec![weight.shape.clone(), bias.shape.clone()],
            activation: Some(activation),
        };
        Ok((info, weight, bias, tracked_w || tracked_b))
    }

    /// Checks a `MaxPool` struct (fields k, pad, stride) and returns its window.
    fn maxpool(&self, s: &JlStruct<'a>, index: usize) -> Result<Vec<i64>, FluxError> {
        let context = format!("model: layer {index} (MaxPool)");
        let [k, pad, stride] = match s.fields.as_slice() {
            &[k, pad, stride] => [k, pad, stride],
            other => {
                return Err(FluxError::Layer {
                    index,
                    kind: "MaxPool",
                    expected: "the fields k, pad, stride".to_string(),
                    found: format!("{} fields", other.len()),
                });
            }
        };
        let window = self.ints(k, &format!("{context} k"))?;
        check_window(&window, index)?;
        let pad = self.ints(pad, &format!("{context} pad"))?;
        let stride = self.ints(stride, &format!("{context} stride"))?;
        if pad.iter().any(|&p| p != 0) || stride != window {
            return Err(FluxError::Layer {
                index,
                kind: "MaxPool",
                expected: "pad 0 and a stride equal to the window".to_string(),
                found: format!("pad {pad:?}, stride {stride:?}"),
            });
        }
        Ok(window)
    }

    /// Checks a `Dense` (fields weight, bias, σ).
    fn dense(
        &self,
        s: &JlStruct<'a>,
        index: usize,
    ) -> Result<(LayerInfo, JuliaArray, JuliaArray, bool), FluxError> {
        let context = format!("model: layer {index} (Dense)");
        let [w, b, sigma] = match s.fields.as_slice() {
            &[w, b, sigma, ..] => [w, b, sigma],
            other => {
                return Err(FluxError::Layer {
                    index,
                    kind: "Dense",
                    expected: "the fields weight, bias, σ".to_string(),
                    found: format!("{} fields", other.len()),
                });
            }
        };
        let (weight, tracked_w) = self.array(w, &format!("{context} weight"))?;
        let (bias, tracked_b) = self.array(b, &format!("{context} bias"))?;
        check_shape(&weight, FLUX_LAYOUT[6].1, &format!("{context} weight"))?;
        check_shape(&bias, FLUX_LAYOUT[7].1, &format!("{context} bias"))?;
        let activation = self.function_name(sigma, &context)?;
        if activation != "identity" {
            return Err(FluxError::Layer {
                index,
                kind: "Dense",
                expected: "no activation (identity)".to_string(),
                found: activation,
            });
        }
        let info = LayerInfo {
            kind: LayerKind::Dense,
            shapes: vec![weight.shape.clone(), bias.shape.clone()],
            activation: Some(activation),
        };
        Ok((info, weight, bias, tracked_w || tracked_b))
    }

    /// Interprets an anonymous function `x -> ...` from its lowered code: pooling
    /// (`maxpool(x, (a, b))`) or flatten (`reshape(x, :, size(x, 4))`, `flatten(x)`).
    fn anonymous(&self, typename: RawBsonRef<'a>, context: &str) -> Result<Found<'a>, FluxError> {
        let mut seen = HashSet::new();
        let Some(code) = self.find_code(typename, 0, &mut seen, context)? else {
            return Ok(Found::Other("an anonymous function without readable code".to_string()));
        };
        let mut values: Vec<Sym> = Vec::new();
        let mut called: Vec<String> = Vec::new();
        let mut result = None;
        for statement in self.sequence(code, context)? {
            self.charge(1)?;
            let Some(expr) = self.structure(statement, context)? else {
                values.push(Sym::Unknown);
                continue;
            };
            let (head, args) = match (expr.ty.name(), expr.fields.as_slice()) {
                ("Expr", &[head, args]) => (self.symbol(head)?, self.sequence(args, context)?),
                _ => {
                    values.push(Sym::Unknown);
                    continue;
                }
            };
            let args: Vec<Sym> =
                args.into_iter().map(|a| self.sym(a, &values)).collect::<Result<_, _>>()?;
            let value = match (head.as_deref(), args.as_slice()) {
                (Some("call"), [Sym::Global(f), rest @ ..]) => {
                    called.push(f.clone());
                    call(f, rest)
                }
                (Some("return"), [value]) => {
                    result = Some(value.clone());
                    break;
                }
                _ => Sym::Unknown,
            };
            values.push(value);
        }
        Ok(match result {
            Some(Sym::Pooled(window)) => Found::Pool(window),
            Some(Sym::Flattened) => Found::Flatten,
            _ => Found::Other(format!("an anonymous function calling {}", called.join(", "))),
        })
    }

    /// Depth-first search for the first `CodeInfo` struct under `value`; returns its `code`
    /// field (the list of statements). A function's values refer back to themselves (its
    /// type names its typename), so each backref is followed once: `seen` holds those taken.
    fn find_code(
        &self,
        value: RawBsonRef<'a>,
        depth: usize,
        seen: &mut HashSet<usize>,
        context: &str,
    ) -> Result<Option<RawBsonRef<'a>>, FluxError> {
        if depth > MAX_DEPTH {
            return Err(FluxError::TooDeep { limit: MAX_DEPTH });
        }
        self.charge(1)?;
        let mut value = value;
        while let Some(index) = self.backref(value)? {
            match self.backrefs.get(index) {
                Some(target) if seen.insert(index) => value = *target,
                _ => return Ok(None),
            }
        }
        let children = match value {
            RawBsonRef::Array(list) => self.elements(list)?,
            RawBsonRef::Document(doc) => {
                if self.tag(doc)? == Some("struct") {
                    let ty = self.ty(self.get(doc, "type", context)?, context)?;
                    if ty.name() == "CodeInfo" {
                        let fields = match self.get(doc, "data", context)? {
                            RawBsonRef::Array(list) => self.elements(list)?,
                            _ => Vec::new(),
                        };
                        return Ok(fields.first().copied());
                    }
                }
                let mut children = Vec::new();
                for entry in doc {
                    self.charge(1)?;
                    let (key, child) = entry.map_err(bson_error)?;
                    // Types do not hold code; skipping them keeps the walk short.
                    if key.as_str() != "type" && key.as_str() != "tag" {
                        children.push(child);
                    }
                }
                children
            }
            _ => return Ok(None),
        };
        for child in children {
            if let Some(code) = self.find_code(child, depth + 1, seen, context)? {
                return Ok(Some(code));
            }
        }
        Ok(None)
    }

    /// A `{tag: "symbol", name}` as its name.
    fn symbol(&self, value: RawBsonRef<'a>) -> Result<Option<String>, FluxError> {
        match self.resolve(value)? {
            RawBsonRef::Document(doc) if self.tag(doc)? == Some("symbol") => {
                match self.lookup(doc, "name")? {
                    Some(RawBsonRef::String(name)) => Ok(Some(name.to_string())),
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    /// The symbolic value of an argument of a lowered statement.
    fn sym(&self, value: RawBsonRef<'a>, earlier: &[Sym]) -> Result<Sym, FluxError> {
        let context = "anonymous function";
        Ok(match self.resolve(value)? {
            RawBsonRef::Int64(n) => Sym::Int(n),
            RawBsonRef::Int32(n) => Sym::Int(n as i64),
            RawBsonRef::Document(doc) => match self.tag(doc)? {
                Some("tuple") => match self.ints(value, context) {
                    Ok(ints) if ints.len() <= 8 => Sym::Ints(ints),
                    _ => Sym::Unknown,
                },
                Some("struct") => {
                    let Some(s) = self.structure(value, context)? else {
                        return Ok(Sym::Unknown);
                    };
                    let int = |i: usize| match s.fields.get(i).map(|f| self.resolve(*f)) {
                        Some(Ok(RawBsonRef::Int64(n))) => Some(n),
                        Some(Ok(RawBsonRef::Int32(n))) => Some(n as i64),
                        _ => None,
                    };
                    match s.ty.name() {
                        // Slot 1 is the function itself, slot 2 its argument `x`.
                        "SlotNumber" | "Argument" if int(0) == Some(2) => Sym::Input,
                        "SSAValue" => int(0)
                            .and_then(|n| usize::try_from(n).ok()?.checked_sub(1))
                            .and_then(|i| earlier.get(i).cloned())
                            .unwrap_or(Sym::Unknown),
                        "GlobalRef" => match s.fields.get(1) {
                            Some(name) => self.symbol(*name)?.map_or(Sym::Unknown, Sym::Global),
                            None => Sym::Unknown,
                        },
                        _ => Sym::Unknown,
                    }
                }
                _ => Sym::Unknown,
            },
            _ => Sym::Unknown,
        })
    }
}

/// `(form, layers, params)` as read from either form.
type Parsed = (FluxForm, Vec<LayerInfo>, Vec<JuliaArray>);

/// The result of calling the global `f` on symbolic arguments.
fn call(f: &str, args: &[Sym]) -> Sym {
    let ints = |args: &[Sym]| -> Option<Vec<i64>> {
        args.iter().map(|a| if let Sym::Int(n) = a { Some(*n) } else { None }).collect()
    };
    match (f, args) {
        // Windows and shapes are short; longer tuples are not followed (nor copied).
        ("tuple", _) if args.len() <= 8 => ints(args).map_or(Sym::Unknown, Sym::Ints),
        ("maxpool", [Sym::Input, Sym::Ints(window)]) => Sym::Pooled(window.clone()),
        ("size", [Sym::Input, Sym::Int(4)]) => Sym::BatchSize,
        ("reshape", [Sym::Input, Sym::Global(colon), Sym::BatchSize]) if colon == ":" => {
            Sym::Flattened
        }
        ("flatten", [Sym::Input]) => Sym::Flattened,
        _ => Sym::Unknown,
    }
}

fn pool_info(window: &[i64]) -> LayerInfo {
    let window = window.iter().map(|&k| k as usize).collect();
    LayerInfo { kind: LayerKind::MaxPool, shapes: vec![window], activation: None }
}

fn check_window(window: &[i64], index: usize) -> Result<(), FluxError> {
    if window != [2, 2] {
        return Err(FluxError::Layer {
            index,
            kind: "MaxPool",
            expected: "a 2x2 window".to_string(),
            found: format!("the window {window:?}"),
        });
    }
    Ok(())
}

fn check_shape(array: &JuliaArray, expected: &[usize], context: &str) -> Result<(), FluxError> {
    if array.shape != expected {
        return Err(FluxError::Shape {
            context: context.to_string(),
            expected: expected.to_vec(),
            found: array.shape.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::spec::BinarySubtype;
    use bson::{Binary, Bson, doc};
    use burn::nn::conv::Conv2dConfig;
    use burn::prelude::*;

    /// A BSON.jl Float32 array document of Julia shape `size`, values column-major.
    fn jl_array(size: &[i64], values: &[f32]) -> Bson {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Bson::Document(doc! {
            "tag": "array",
            "type": { "tag": "datatype", "name": ["Core", "Float32"], "params": [] },
            "size": size.to_vec(),
            "data": Binary { subtype: BinarySubtype::Generic, bytes },
        })
    }

    /// Reads the array stored under `w` in a one-key document, through the BSON.jl layer.
    fn read_w(value: Bson) -> JuliaArray {
        let bytes = doc! { "w": value }.to_vec().unwrap();
        let root = RawDocument::from_bytes(&bytes).unwrap();
        let jl = Jl { backrefs: Vec::new(), visits: std::cell::Cell::new(0) };
        jl.array(root.get("w").unwrap().unwrap(), "w").unwrap().0
    }

    #[test]
    fn conv_kernels_are_flipped_and_read_column_major() {
        // W[d1, d2, c, o] = d1 + 2·d2 + 4·c + 8·o: the column-major offset itself.
        let values: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let w = read_w(jl_array(&[2, 2, 2, 3], &values));
        assert_eq!(w.shape, vec![2, 2, 2, 3]);

        // Rows first: K[o][c][r][s] = W[1−r, 1−s, c, o].
        let k = conv_weight(&w, false);
        assert_eq!(k.shape, vec![3, 2, 2, 2]);
        assert_eq!(k.values[..4], [3.0, 1.0, 2.0, 0.0]);
        assert_eq!(k.values[12..16], [15.0, 13.0, 14.0, 12.0]); // o = 1, c = 1
        assert_eq!(k.values[20..24], [23.0, 21.0, 22.0, 20.0]); // o = 2, c = 1

        // Columns first: K[o][c][r][s] = W[1−s, 1−r, c, o].
        let k = conv_weight(&w, true);
        assert_eq!(k.values[..4], [3.0, 2.0, 1.0, 0.0]);
        assert_eq!(k.values[12..16], [15.0, 14.0, 13.0, 12.0]);
    }

    #[test]
    fn a_converted_kernel_computes_flux_true_convolution() {
        // Julia kernel W = [1 3; 2 4] (column-major data 1, 2, 3, 4). A true convolution of a
        // 3x3 impulse at the centre, without padding, reproduces the kernel in place:
        // y[i, j] = Σ W[a, b]·x[i+1−a, j+1−b] = W[i, j], so y = [1 3; 2 4], row-major
        // 1, 3, 2, 4. (A cross-correlation would give the reversed 4, 2, 3, 1.)
        let w = read_w(jl_array(&[2, 2, 1, 1], &[1.0, 2.0, 3.0, 4.0]));
        let device = Device::flex();
        let mut impulse = vec![0.0f32; 9];
        impulse[4] = 1.0;
        let run = |transpose: bool| {
            let mut conv = Conv2dConfig::new([1, 1], [2, 2]).init(&device);
            let k = conv_weight(&w, transpose);
            conv.weight = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(k.values, k.shape),
                &device,
            ));
            conv.bias = Some(burn::module::Param::from_tensor(Tensor::zeros([1], &device)));
            let x = Tensor::<4>::from_data(TensorData::new(impulse.clone(), [1, 1, 3, 3]), &device);
            conv.forward(x).into_data().try_into_vec::<f32>().unwrap()
        };
        assert_eq!(run(false), vec![1.0, 3.0, 2.0, 4.0]);
        // Julia's d1 is the column: its output y[d1, d2] = W[d1, d2] is gradlab's
        // out[row = d2][col = d1], i.e. row-major 1, 2, 3, 4.
        assert_eq!(run(true), vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn dense_inputs_follow_flux_column_major_flatten() {
        // Julia W (2, 8) with W[o, i] = 10·o + i, over a 2x2 map of 2 channels.
        let mut values = vec![0.0f32; 16];
        for o in 0..2 {
            for i in 0..8 {
                values[o + 2 * i] = (10 * o + i) as f32;
            }
        }
        let w = read_w(jl_array(&[2, 8], &values));
        // gradlab's j = c·4 + row·2 + col is Flux's i = row + 2·col + 4·c.
        let d = dense_weight(&w, [2, 2], false);
        assert_eq!(d.shape, vec![8, 2]);
        let expected = [0., 10., 2., 12., 1., 11., 3., 13., 4., 14., 6., 16., 5., 15., 7., 17.];
        assert_eq!(d.values, expected);
        // Transposed, Flux's i = col + 2·row + 4·c: the identity order here.
        let d = dense_weight(&w, [2, 2], true);
        let expected = [0., 10., 1., 11., 2., 12., 3., 13., 4., 14., 5., 15., 6., 16., 7., 17.];
        assert_eq!(d.values, expected);
    }

    #[test]
    fn arrays_are_checked_against_their_size_and_type() {
        let bytes = |value: Bson| doc! { "w": value }.to_vec().unwrap();
        let read = |bytes: &[u8]| {
            let root = RawDocument::from_bytes(bytes).unwrap();
            let jl = Jl { backrefs: Vec::new(), visits: std::cell::Cell::new(0) };
            jl.array(root.get("w").unwrap().unwrap(), "w").map(|(a, _)| a)
        };
        let short = bytes(jl_array(&[2, 3], &[1.0; 5]));
        assert!(matches!(read(&short), Err(FluxError::DataLength { found: 20, .. })));
        let huge = bytes(jl_array(&[1 << 40, 1 << 40], &[1.0; 4]));
        assert!(matches!(read(&huge), Err(FluxError::DataLength { .. })));
        let negative = bytes(jl_array(&[-1], &[]));
        assert!(matches!(read(&negative), Err(FluxError::Unexpected { .. })));
        let nan = bytes(jl_array(&[1], &[f32::NAN]));
        assert!(matches!(read(&nan), Err(FluxError::NotFinite { .. })));

        let mut doubles = doc! {
            "tag": "array",
            "type": { "tag": "datatype", "name": ["Core", "Float64"], "params": [] },
            "size": [1i64],
            "data": Binary { subtype: BinarySubtype::Generic, bytes: vec![0; 8] },
        };
        let err = read(&bytes(Bson::Document(doubles.clone()))).unwrap_err();
        assert_eq!(err.to_string(), "w: elements of type Core.Float64, only Float32 is supported");
        doubles.insert("tag", "struct");
        assert!(matches!(read(&bytes(Bson::Document(doubles))), Err(FluxError::Unexpected { .. })));
    }
}
