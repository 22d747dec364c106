//! Importing Flux/BSON.jl CNNs: the two real files in `../shared/data/flux`, hand-made files
//! checked against a reference forward pass written with Flux's conventions, and damaged files.

use std::path::{Path, PathBuf};

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};
use burn::prelude::*;
use gradlab_core::data::mnist::{Mnist, Split};
use gradlab_core::eval::{evaluate, no_progress};
use gradlab_core::models::cnn::images_to_tensor;
use gradlab_core::models::flux::{
    FLUX_LAYOUT, FluxForm, LayerKind, MAX_DEPTH, MAX_VISITS, read_flux, suggest_options,
};
use gradlab_core::models::{Cnn, Domain, FluxError, ImportOptions, ModelFile};
use gradlab_core::rng::SplitMix64;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared_data() -> PathBuf {
    workspace().join("../shared/data")
}

fn mnist_dir() -> PathBuf {
    std::env::var_os("GRADLAB_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_data().join("mnist"))
}

fn real_file(name: &str) -> Vec<u8> {
    std::fs::read(shared_data().join("flux").join(name)).expect("the Flux file")
}

// ---- BSON.jl builders -------------------------------------------------------------------

fn datatype(path: &[&str]) -> Bson {
    Bson::Document(doc! { "tag": "datatype", "name": path.to_vec(), "params": [] })
}

fn jl_struct(ty: Bson, fields: Vec<Bson>) -> Bson {
    Bson::Document(doc! { "tag": "struct", "type": ty, "data": fields })
}

fn func(module: &str, name: &str) -> Bson {
    jl_struct(datatype(&[module, name]), Vec::new())
}

fn tuple(items: Vec<Bson>) -> Bson {
    Bson::Document(doc! { "tag": "tuple", "data": items })
}

fn ints(values: &[i64]) -> Bson {
    tuple(values.iter().map(|&v| Bson::Int64(v)).collect())
}

fn backref(n: i64) -> Bson {
    Bson::Document(doc! { "tag": "backref", "ref": n })
}

fn symbol(name: &str) -> Bson {
    Bson::Document(doc! { "tag": "symbol", "name": name })
}

/// A Float32 array of Julia shape `size`, values column-major.
fn array(size: &[usize], values: &[f32]) -> Bson {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let size: Vec<i64> = size.iter().map(|&d| d as i64).collect();
    Bson::Document(doc! {
        "tag": "array",
        "type": datatype(&["Core", "Float32"]),
        "size": size,
        "data": Binary { subtype: BinarySubtype::Generic, bytes },
    })
}

fn global(module: &str, name: &str) -> Bson {
    let module = Bson::Document(doc! { "tag": "ref", "path": [module] });
    jl_struct(datatype(&["Core", "GlobalRef"]), vec![module, symbol(name)])
}

fn numbered(kind: &str, n: i64) -> Bson {
    jl_struct(datatype(&["Core", kind]), vec![Bson::Int64(n)])
}

fn expr(head: &str, args: Vec<Bson>) -> Bson {
    jl_struct(datatype(&["Core", "Expr"]), vec![symbol(head), Bson::Array(args)])
}

/// The lowered code of `x -> maxpool(x, (2, 2))`.
fn pool_code(window: i64) -> Vec<Bson> {
    vec![
        expr("call", vec![global("Core", "tuple"), Bson::Int64(window), Bson::Int64(window)]),
        expr(
            "call",
            vec![global("Main", "maxpool"), numbered("SlotNumber", 2), numbered("SSAValue", 1)],
        ),
        expr("return", vec![numbered("SSAValue", 2)]),
    ]
}

/// The lowered code of `x -> reshape(x, :, size(x, 4))`.
fn flatten_code() -> Vec<Bson> {
    vec![
        expr("call", vec![global("Main", "size"), numbered("SlotNumber", 2), Bson::Int64(4)]),
        expr(
            "call",
            vec![
                global("Main", "reshape"),
                numbered("SlotNumber", 2),
                global("Main", ":"),
                numbered("SSAValue", 1),
            ],
        ),
        expr("return", vec![numbered("SSAValue", 2)]),
    ]
}

/// A `TypeName` holding one method with `code`; stored as backref `own` it refers back to
/// itself through the method's signature, as real files do.
fn typename(code: Vec<Bson>, own: i64) -> Bson {
    let anonymous =
        Bson::Document(doc! { "tag": "jl_anonymous", "typename": backref(own), "params": [] });
    let signature = Bson::Document(doc! {
        "tag": "datatype", "name": ["Core", "Tuple"], "params": [anonymous],
    });
    let code_info = jl_struct(datatype(&["Core", "CodeInfo"]), vec![Bson::Array(code)]);
    let method = jl_struct(datatype(&["Core", "Method"]), vec![signature, code_info]);
    jl_struct(
        datatype(&["Core", "TypeName"]),
        vec![symbol("##5#9"), Bson::Array(vec![symbol("#5"), Bson::Array(vec![method])])],
    )
}

/// An instance of the anonymous function whose `TypeName` is backref `n`.
fn anonymous(n: i64) -> Bson {
    let ty = Bson::Document(doc! { "tag": "jl_anonymous", "typename": backref(n), "params": [] });
    jl_struct(ty, Vec::new())
}

/// The eight parameters in Flux's layouts, seeded; weights scaled by `1/√fan_in`.
fn random_params(seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64::new(seed);
    FLUX_LAYOUT
        .iter()
        .enumerate()
        .map(|(k, (_, shape))| {
            let len: usize = shape.iter().product();
            let fan_in = if k % 2 == 0 { len / shape[shape.len() - 1].max(1) } else { 10 };
            let fan_in = if k == 6 { 288 } else { fan_in };
            let scale = 2.0 / (fan_in as f64).sqrt();
            (0..len).map(|_| ((rng.unit() - 0.5) * scale) as f32).collect()
        })
        .collect()
}

/// How a hand-made Chain stores its parts.
#[derive(Clone, Copy)]
struct Style {
    /// Parameters as Tracker `TrackedArray`s with a gradient behind a backref, and the layer
    /// types behind backrefs.
    tracked: bool,
    /// Pooling and flatten as anonymous functions rather than `MaxPool` and `flatten`.
    anonymous: bool,
}

/// Builds `(layers, backrefs)` of a Chain holding `params`.
fn chain_layers(params: &[Vec<f32>], style: Style) -> (Vec<Bson>, Vec<Bson>) {
    // Backrefs 1 to 4: the Conv type, a gradient, the pooling and the flatten functions.
    let backrefs = vec![
        datatype(&["Flux", "Conv"]),
        array(&[1], &[0.0]),
        typename(pool_code(2), 3),
        typename(flatten_code(), 4),
    ];
    let conv_type = if style.tracked { backref(1) } else { datatype(&["Flux", "Conv"]) };
    let grad = 2;

    let param = |k: usize| {
        let plain = array(FLUX_LAYOUT[k].1, &params[k]);
        if style.tracked {
            let tracker = jl_struct(datatype(&["Tracker", "Tracked"]), Vec::new());
            jl_struct(datatype(&["Tracker", "TrackedArray"]), vec![tracker, plain, backref(grad)])
        } else {
            plain
        }
    };
    let conv = |k: usize| {
        jl_struct(
            conv_type.clone(),
            vec![
                func("NNlib", "#relu"),
                param(2 * k),
                param(2 * k + 1),
                ints(&[1, 1]),
                ints(&[1, 1]),
                ints(&[1, 1]),
            ],
        )
    };
    let pool = || {
        if style.anonymous {
            anonymous(3)
        } else {
            jl_struct(
                datatype(&["Flux", "MaxPool"]),
                vec![ints(&[2, 2]), ints(&[0, 0, 0, 0]), ints(&[2, 2])],
            )
        }
    };
    let flatten = if style.anonymous { anonymous(4) } else { func("Flux", "#flatten") };
    let dense = jl_struct(
        datatype(&["Flux", "Dense"]),
        vec![param(6), param(7), func("Base", "#identity")],
    );
    let layers = vec![
        conv(0),
        pool(),
        conv(1),
        pool(),
        conv(2),
        pool(),
        flatten,
        dense,
        func("NNlib", "#softmax"),
    ];
    (layers, backrefs)
}

fn chain_doc(layers: Vec<Bson>, backrefs: Vec<Bson>) -> Document {
    let chain = jl_struct(datatype(&["Flux", "Chain"]), vec![tuple(layers)]);
    doc! { "acc": 0.5, "epoch_idx": 7i64, "model": chain, "_backrefs": backrefs }
}

fn params_doc(arrays: Vec<Bson>) -> Document {
    doc! { "acc": 0.25, "epoch_idx": 3i64, "params": arrays }
}

fn bytes(doc: &Document) -> Vec<u8> {
    doc.to_vec().expect("the document encodes")
}

// ---- A reference forward pass with Flux's conventions -----------------------------------

/// True convolution, 3x3, pad 1, then relu, on a column-major `(n, n, c_in)` map.
fn flux_conv(x: &[f32], n: usize, c_in: usize, w: &[f32], b: &[f32]) -> Vec<f32> {
    let c_out = b.len();
    let mut y = vec![0.0f32; n * n * c_out];
    for o in 0..c_out {
        for j in 0..n {
            for i in 0..n {
                let mut sum = b[o];
                for c in 0..c_in {
                    for kb in 0..3 {
                        for ka in 0..3 {
                            // y[i, j] = Σ w[a, b]·x[i + 1 − a, j + 1 − b] (kernel flipped).
                            let (si, sj) =
                                (i as isize + 1 - ka as isize, j as isize + 1 - kb as isize);
                            if si < 0 || sj < 0 || si >= n as isize || sj >= n as isize {
                                continue;
                            }
                            let xv = x[si as usize + n * (sj as usize + n * c)];
                            sum += w[ka + 3 * (kb + 3 * (c + c_in * o))] * xv;
                        }
                    }
                }
                y[i + n * (j + n * o)] = sum.max(0.0);
            }
        }
    }
    y
}

/// 2x2 max-pooling (rounding down) of a column-major `(n, n, c)` map.
fn flux_pool(x: &[f32], n: usize, c: usize) -> Vec<f32> {
    let m = n / 2;
    let mut y = vec![0.0f32; m * m * c];
    for ch in 0..c {
        for j in 0..m {
            for i in 0..m {
                let at = |a: usize, b: usize| x[a + n * (b + n * ch)];
                let v = at(2 * i, 2 * j)
                    .max(at(2 * i + 1, 2 * j))
                    .max(at(2 * i, 2 * j + 1))
                    .max(at(2 * i + 1, 2 * j + 1));
                y[i + m * (j + m * ch)] = v;
            }
        }
    }
    y
}

/// The logits Flux computes for one 28x28 image (pixels row-major) under `options`.
fn flux_logits(params: &[Vec<f32>], pixels: &[u8], options: ImportOptions) -> Vec<f32> {
    let mut x = vec![0.0f32; 28 * 28];
    for d2 in 0..28 {
        for d1 in 0..28 {
            let (row, col) = if options.transpose { (d2, d1) } else { (d1, d2) };
            let p = pixels[row * 28 + col] as f32 / 255.0;
            x[d1 + 28 * d2] = match options.domain {
                Domain::ZeroOne => p,
                Domain::PlusMinusOne => 2.0 * p - 1.0,
            };
        }
    }
    let x = flux_pool(&flux_conv(&x, 28, 1, &params[0], &params[1]), 28, 16);
    let x = flux_pool(&flux_conv(&x, 14, 16, &params[2], &params[3]), 14, 32);
    let flat = flux_pool(&flux_conv(&x, 7, 32, &params[4], &params[5]), 7, 32);
    // Flatten is the column-major order itself: d1 + 3·d2 + 9·c.
    (0..10)
        .map(|o| params[7][o] + (0..288).map(|i| params[6][o + 10 * i] * flat[i]).sum::<f32>())
        .collect()
}

fn gradlab_logits(file: &[u8], pixels: &[u8], options: ImportOptions) -> Vec<f32> {
    let model = read_flux(file).expect("the hand-made file reads");
    let device = Device::flex();
    let cnn = Cnn::from_weights(&model.to_weights(options), &device).expect("valid weights");
    let logits = cnn.forward(images_to_tensor(pixels, &device));
    logits.into_data().try_into_vec::<f32>().expect("f32 logits")
}

#[test]
fn hand_made_files_match_a_reference_flux_forward_pass() {
    let params = random_params(7);
    let mut rng = SplitMix64::new(11);
    // Two images: one of noise, one with a bright asymmetric stroke.
    let mut pixels: Vec<u8> = (0..784).map(|_| rng.below(256) as u8).collect();
    pixels.extend((0..784).map(|i| if i % 28 > i / 28 + 3 && i / 28 < 12 { 250 } else { 0 }));

    let arrays = FLUX_LAYOUT.iter().zip(&params).map(|((_, s), v)| array(s, v)).collect();
    let mut files = vec![("params", bytes(&params_doc(arrays)))];
    for (name, tracked, anonymous) in
        [("chain", false, false), ("tracked chain", true, true), ("mixed", false, true)]
    {
        let (layers, backrefs) = chain_layers(&params, Style { tracked, anonymous });
        files.push((name, bytes(&chain_doc(layers, backrefs))));
    }

    for (name, file) in &files {
        for options in ImportOptions::ALL {
            let ours = gradlab_logits(file, &pixels, options);
            for (image, got) in ours.chunks(10).enumerate() {
                let expected =
                    flux_logits(&params, &pixels[image * 784..(image + 1) * 784], options);
                for (g, e) in got.iter().zip(&expected) {
                    assert!(
                        (g - e).abs() <= 1e-4 * (1.0 + e.abs()),
                        "{name}, {options}, image {image}: {got:?} vs {expected:?}"
                    );
                }
            }
        }
    }

    let summary = read_flux(&files[2].1).unwrap().summary;
    assert_eq!(summary.form, FluxForm::Chain { tracked: true });
    let kinds: Vec<LayerKind> = summary.layers.iter().map(|l| l.kind).collect();
    use LayerKind::*;
    assert_eq!(kinds, [Conv, MaxPool, Conv, MaxPool, Conv, MaxPool, Flatten, Dense, Softmax]);
    assert_eq!((summary.accuracy, summary.epoch, summary.num_params), (Some(0.5), Some(7), 16_938));
}

// ---- The real files ----------------------------------------------------------------------

#[test]
fn real_files_reach_their_recorded_accuracy() {
    let test = Mnist::load(&mnist_dir(), Split::Test).expect("the MNIST test split");
    for (name, correct, epoch, form) in [
        ("params_only_conv.bson", 9_874, 11, FluxForm::ParamsOnly),
        ("tracker_era_conv.bson", 9_916, 32, FluxForm::Chain { tracked: true }),
    ] {
        let model = read_flux(&real_file(name)).expect("the real file reads");
        let summary = &model.summary;
        assert_eq!(summary.form, form, "{name}");
        assert_eq!(summary.num_params, 16_938, "{name}");
        assert_eq!(summary.epoch, Some(epoch), "{name}");
        assert_eq!(summary.accuracy, Some(correct as f64 / 10_000.0), "{name}");

        let weights = model.to_weights(ImportOptions { transpose: false, domain: Domain::ZeroOne });
        let cnn = Cnn::from_weights(&weights, &Device::flex()).expect("valid weights");
        let confusion = pollster::block_on(evaluate(&cnn, &test, 500, no_progress))
            .expect("evaluation reads back")
            .expect("not cancelled");
        assert_eq!((confusion.correct(), confusion.total()), (correct, 10_000), "{name}");

        // The imported weights survive gradlab's own file format, input domain included.
        let again = ModelFile::read(&weights.to_bytes()).expect("gradlab format");
        assert_eq!(again, ModelFile::Gradlab(weights));
    }
}

#[test]
fn suggestion_picks_rows_first_and_zero_one_for_the_real_files() {
    let test = Mnist::load(&mnist_dir(), Split::Test).expect("the MNIST test split");
    let sample = test.subset(&(0..300).collect::<Vec<_>>());
    for name in ["params_only_conv.bson", "tracker_era_conv.bson"] {
        let model = read_flux(&real_file(name)).unwrap();
        let suggestion =
            pollster::block_on(suggest_options(&model, &sample, &Device::flex(), 100, no_progress))
                .unwrap()
                .unwrap();
        assert_eq!(suggestion.best, ImportOptions::default(), "{name}");
        for (options, confusion) in &suggestion.scores {
            let accuracy = confusion.accuracy();
            if options.transpose {
                assert!(accuracy < 0.3, "{name} {options}: {accuracy}");
            } else {
                assert!(accuracy > 0.9, "{name} {options}: {accuracy}");
            }
        }
    }
}

// ---- Damaged and foreign files ----------------------------------------------------------

#[test]
fn truncated_and_mutated_real_files_give_errors_without_panicking() {
    for name in ["params_only_conv.bson", "tracker_era_conv.bson"] {
        let file = real_file(name);
        let mut cuts: Vec<usize> = (0..300).collect();
        cuts.extend((300..file.len()).step_by(97));
        cuts.extend(file.len() - 300..file.len());
        for cut in cuts {
            assert!(read_flux(&file[..cut]).is_err(), "{name} cut at {cut}");
            assert!(ModelFile::read(&file[..cut]).is_err(), "{name} cut at {cut}");
            // The same cut with the outer length and terminator repaired, so that the
            // damage is found inside the document.
            if cut >= 5 {
                let mut repaired = file[..cut].to_vec();
                repaired[..4].copy_from_slice(&(cut as i32).to_le_bytes());
                repaired[cut - 1] = 0;
                assert!(read_flux(&repaired).is_err(), "{name} repaired cut at {cut}");
            }
        }
        // Single-byte changes anywhere: any outcome but a panic. A file that still reads must
        // still have the architecture's 16,938 parameters.
        let mut rng = SplitMix64::new(name.len() as u64);
        for _ in 0..3_000 {
            let mut damaged = file.clone();
            let at = rng.below(damaged.len());
            damaged[at] = rng.below(256) as u8;
            if let Ok(model) = read_flux(&damaged) {
                assert_eq!(model.summary.num_params, 16_938);
            }
        }
    }
}

/// The error for a hand-made params-only file whose arrays are changed by `change`.
fn params_error(change: impl FnOnce(&mut Vec<Bson>)) -> FluxError {
    let params = random_params(3);
    let mut arrays: Vec<Bson> =
        FLUX_LAYOUT.iter().zip(&params).map(|((_, s), v)| array(s, v)).collect();
    change(&mut arrays);
    read_flux(&bytes(&params_doc(arrays))).expect_err("the damaged file is rejected")
}

/// The error for a hand-made Chain whose layers and backrefs are changed by `change`.
fn chain_error(style: Style, change: impl FnOnce(&mut Vec<Bson>, &mut Vec<Bson>)) -> FluxError {
    let (mut layers, mut backrefs) = chain_layers(&random_params(5), style);
    change(&mut layers, &mut backrefs);
    read_flux(&bytes(&chain_doc(layers, backrefs))).expect_err("the damaged file is rejected")
}

fn set_tag(value: &mut Bson, tag: &str) {
    if let Bson::Document(doc) = value {
        doc.insert("tag", tag);
    }
}

#[test]
fn hand_made_damage_gives_typed_errors() {
    let tracked = Style { tracked: true, anonymous: true };

    // Not BSON at all, and BSON without a model.
    assert!(matches!(read_flux(b"GRADLAB?"), Err(FluxError::Bson(_))));
    assert!(matches!(read_flux(&[]), Err(FluxError::Bson(_))));
    let err = read_flux(&bytes(&doc! { "acc": 0.9, "net": 1i32 })).unwrap_err();
    assert_eq!(err, FluxError::NoModel { keys: vec!["acc".into(), "net".into()] });

    // Wrong tags.
    let err = params_error(|a| set_tag(&mut a[2], "arrray"));
    assert!(
        matches!(err, FluxError::Unexpected { ref context, .. } if context.contains("conv2 weight"))
    );
    let err = chain_error(tracked, |layers, _| set_tag(&mut layers[0], "tuple"));
    assert!(matches!(err, FluxError::Architecture { .. }), "{err}");

    // Array size disagreeing with its data, another element type, another shape, a count.
    let err = params_error(|a| {
        if let Bson::Document(doc) = &mut a[0] {
            doc.insert("size", vec![3i64, 3, 1, 17]);
        }
    });
    assert!(matches!(err, FluxError::DataLength { found: 576, .. }), "{err}");
    let err = params_error(|a| {
        if let Bson::Document(doc) = &mut a[1] {
            doc.insert("type", datatype(&["Core", "Float16"]));
        }
    });
    assert!(matches!(err, FluxError::ElementType { .. }), "{err}");
    let err = params_error(|a| a[0] = array(&[3, 3, 16, 1], &[0.1; 144]));
    assert_eq!(
        err.to_string(),
        "params: conv1 weight: expected shape [3, 3, 1, 16], found [3, 3, 16, 1]"
    );
    assert_eq!(
        params_error(|a| {
            a.pop();
        }),
        FluxError::ParamCount { expected: 8, found: 7 }
    );

    // Backrefs out of range, at 0 (they are 1-based) and in a cycle.
    let err = chain_error(tracked, |layers, _| layers[1] = anonymous(99));
    assert!(matches!(err, FluxError::BackrefOutOfRange { found: 99, count: 4 }), "{err}");
    let err = chain_error(tracked, |layers, _| layers[1] = anonymous(0));
    assert!(matches!(err, FluxError::BackrefOutOfRange { found: 0, .. }), "{err}");
    let err = chain_error(tracked, |layers, backrefs| {
        backrefs.push(backref(6));
        backrefs.push(backref(5));
        layers[0] = backref(5);
    });
    assert_eq!(err, FluxError::TooDeep { limit: MAX_DEPTH });

    // Nesting too deep inside an anonymous function.
    let err = chain_error(tracked, |_, backrefs| {
        let mut deep = Bson::Array(Vec::new());
        for _ in 0..200 {
            deep = Bson::Array(vec![deep]);
        }
        backrefs[2] = jl_struct(datatype(&["Core", "TypeName"]), vec![deep]);
    });
    assert_eq!(err, FluxError::TooDeep { limit: MAX_DEPTH });

    // Other layer kinds, activations, pooling and architecture.
    let err = chain_error(tracked, |layers, _| {
        layers.insert(1, jl_struct(datatype(&["Flux", "BatchNorm"]), Vec::new()));
    });
    let message = err.to_string();
    assert!(message.contains("found Flux.Conv, Flux.BatchNorm, maxpool [2, 2]"), "{message}");
    let err = chain_error(tracked, |layers, _| {
        if let Bson::Document(conv) = &mut layers[2] {
            conv.insert("data", {
                let mut fields = conv.get_array("data").unwrap().clone();
                fields[0] = func("NNlib", "#tanh");
                fields
            });
        }
    });
    assert_eq!(err.to_string(), "layer 2 (Conv): expected the activation relu, found tanh");
    let err = chain_error(tracked, |_, backrefs| backrefs[2] = typename(pool_code(3), 3));
    assert!(matches!(err, FluxError::Layer { index: 1, kind: "MaxPool", .. }), "{err}");
    let err = chain_error(tracked, |layers, _| {
        layers.swap(6, 7);
    });
    assert!(err.to_string().contains("found Flux.Conv, maxpool [2, 2]"), "{err}");
    let err = chain_error(Style { tracked: false, anonymous: false }, |layers, _| {
        layers.push(func("NNlib", "#softmax"));
    });
    assert!(matches!(err, FluxError::Architecture { .. }), "{err}");
    // An anonymous function that is neither pooling nor flatten.
    let err = chain_error(tracked, |_, backrefs| {
        let code = vec![
            expr("call", vec![global("Main", "tanh"), numbered("SlotNumber", 2)]),
            expr("return", vec![numbered("SSAValue", 1)]),
        ];
        backrefs[2] = typename(code, 3);
    });
    assert!(err.to_string().contains("an anonymous function calling tanh"), "{err}");
}

#[test]
fn shared_values_cannot_make_reading_explode() {
    // Thousands of layers all pointing at one function with a long body: the reading stops at
    // its budget instead of walking the body once per layer.
    let long_body: Vec<Bson> = (0..2_000)
        .map(|_| expr("call", vec![global("Core", "tuple"), Bson::Int64(2), Bson::Int64(2)]))
        .collect();
    let backrefs = vec![typename(long_body, 1)];
    let layers = (0..2_000).map(|_| anonymous(1)).collect();
    let err = read_flux(&bytes(&chain_doc(layers, backrefs))).unwrap_err();
    assert_eq!(err, FluxError::TooLarge { limit: MAX_VISITS });
}

#[test]
fn the_fuzz_corpus_reads_without_panicking() {
    let dir = workspace().join("fuzz/corpus/flux_import");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the fuzz corpus") {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        // Any result is fine; a panic fails the test.
        if let Ok(model) = read_flux(&data) {
            let weights = model.to_weights(ImportOptions::default());
            assert!(weights.validate().is_ok(), "{}", path.display());
        }
        let _ = ModelFile::read(&data);
        count += 1;
    }
    assert!(count >= 10, "only {count} corpus files in {}", dir.display());
}
