//! Network weights in fixed point: seeded initialization and safetensors files.
//!
//! W^l is the d_(l−1) × d_l matrix of layer l, row-major, at scale 2^S_W with S_W = 2R + k (`PROTOCOL.md`
//! §2), and β^l (d_l entries, for a layer with a bias) is at the same scale, so that
//! Z^l = A^(l−1)·W^l + 2^R·1·(β^l)ᵀ (`docs/bias.md`).
//!
//! **Initialization** ([`Init`]), drawn from ChaCha20 seeded with the seed, stream l for layer l, then
//! quantized to round(w·2^S_W):
//! - `pytorch` (the default): PyTorch's default for `nn.Linear`, Kaiming-uniform with a = √5, i.e.
//!   w ~ U(−1/√d_(l−1), 1/√d_(l−1)); one `f64` (two ChaCha words) per draw. |w| ≤ 1, so every seed
//!   gives weights inside the range below, whatever the input width.
//! - `he`: w ~ N(0, 2/d_(l−1)) by Box–Muller (four words per draw). For small inputs (d_0 = 4: std
//!   0.71) a draw can leave the range, and the seed is refused.
//!
//! Biases: `pytorch` draws β ~ U(−1/√d_(l−1), 1/√d_(l−1)) as PyTorch does, from stream 2^32 + l; `he`
//! starts them at zero.
//!
//! The initial weights are range-checked as (S_W+2)-bit two's complement (|w| < 2); a draw outside is
//! an error.
//!
//! **Files.** One safetensors file holds both forms:
//! - `"{2(l−1)}.weight"`: float32, shape [d_l, d_(l−1)], the layout of PyTorch's
//!   `nn.Sequential(nn.Linear(d0, d1, bias=False), nn.ReLU(), …)`, whose ReLU modules take the odd indices;
//!   `load_model(model, path, strict=False)` loads it (the exact tensors below are the extra keys);
//! - `"zkdl.fixed.{l}"`: int64, shape [d_(l−1), d_l], the exact fixed-point integers, so a run can be
//!   resumed or proven again bit for bit;
//! - for a layer with a bias, `"{2(l−1)}.bias"` (float32 [d_l], PyTorch's) and `"zkdl.fixed_bias.{l}"`
//!   (int64 [d_l], exact);
//! - metadata: `format = zkdl-weights`, the spec as JSON, S_W, the steps trained, and — when the run
//!   says how its data was prepared — `normalization`, the fitted [`Scaler`] as JSON, which
//!   `zkdl predict` applies to new data ([`ModelFile`]).
//!
//! Reading prefers the exact integers; a file with only float32 tensors (e.g. exported from PyTorch) is
//! quantized to the weight scale. Files are written to a temporary name and renamed.

use crate::training::data::Scaler;
use crate::training::integers::IntVec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zkdl_compiler::NetworkSpec;

/// The weights W^1 … W^L of a network at scale 2^S_W.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedWeights {
    /// S_W.
    pub scale_bits: u32,
    /// (d_(l−1), d_l) of each layer.
    pub shapes: Vec<(usize, usize)>,
    /// W^l, row-major d_(l−1) × d_l.
    pub layers: Vec<IntVec>,
    /// β^l (d_l entries) of each layer with a bias, `None` for a layer without.
    pub biases: Vec<Option<IntVec>>,
}

/// What went wrong with weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a safetensors file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: tensor `{name}` is missing (the network has {layers} dense layers)")]
    Missing { path: PathBuf, name: String, layers: usize },
    /// `detail`: the shape and dtype found and expected.
    #[error("{path}: tensor `{name}` {detail}")]
    Shape { path: PathBuf, name: String, detail: String },
    #[error("{path}: tensor `{name}` is a bias, and layer {layer} of the network has none (`bias = false`): the model would lose it (declare the layer `{{ dense = N }}` with its bias, or export it with nn.Linear(…, bias=False))")]
    Bias { path: PathBuf, name: String, layer: usize },
    #[error("{path}: the weights are at scale 2^{found}, the network's weight scale is 2^{expected} (S_W = 2R + k); they belong to another network or learning rate")]
    Scale { path: PathBuf, found: u32, expected: u32 },
    #[error("layer {layer}, entry ({row}, {col}): weight {value} is outside the initial-weight range |w| < 2 ({bits}-bit two's complement at scale 2^{scale_bits}); initialize with smaller values")]
    OutOfRange { layer: usize, row: usize, col: usize, value: f64, bits: u32, scale_bits: u32 },
    #[error("layer {layer}, entry ({row}, {col}): weight is not a finite number ({value})")]
    NotFinite { layer: usize, row: usize, col: usize, value: f32 },
    #[error("layer {layer}: an exact weight does not fit int64 ({value}); it cannot be written to a safetensors file")]
    TooWide { layer: usize, value: i128 },
}

/// How seeded initial weights are drawn (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Init {
    /// PyTorch's default for `nn.Linear`: U(−1/√fan_in, 1/√fan_in).
    #[default]
    PyTorch,
    /// He (Kaiming-normal): N(0, 2/fan_in).
    He,
}

impl Init {
    /// The name `--init` takes: `pytorch` or `he`.
    pub fn name(self) -> &'static str {
        match self {
            Init::PyTorch => "pytorch",
            Init::He => "he",
        }
    }

    /// The initial weights of this scheme and seed in words: `PyTorch(seed 1)`, `He(seed 1)`.
    pub fn describe(self, seed: u64) -> String {
        match self {
            Init::PyTorch => format!("PyTorch(seed {seed})"),
            Init::He => format!("He(seed {seed})"),
        }
    }
}

/// Seeded initial weights: the scheme and the seed, all a verifier needs to regenerate W_0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeededInit {
    pub init: Init,
    pub seed: u64,
}

impl SeededInit {
    /// The weights of this scheme and seed for `spec`.
    pub fn weights(self, spec: &NetworkSpec) -> Result<FixedWeights, WeightsError> {
        FixedWeights::init(spec, self.init, self.seed)
    }
}

impl std::fmt::Display for SeededInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.init.describe(self.seed))
    }
}

impl std::str::FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> Result<Init, String> {
        match s.to_ascii_lowercase().as_str() {
            "pytorch" | "torch" | "kaiming-uniform" => Ok(Init::PyTorch),
            "he" | "kaiming-normal" => Ok(Init::He),
            _ => Err(format!("unknown initialization `{s}`: expected pytorch or he")),
        }
    }
}

impl FixedWeights {
    /// Seeded initial weights of `init`'s scheme, quantized (module docs); deterministic for the seed.
    ///
    /// Layer l draws from ChaCha20 seeded with `seed`, stream l + 1; entry i (row-major) is the i-th
    /// draw, which takes the words `w·i … w·i + w − 1` of the stream (w = 2 for a uniform draw, 4 for
    /// Box–Muller's two). The draws are made in parallel, each chunk of entries from its own generator
    /// positioned at the chunk's first word: the same values as one generator drawing them in order.
    pub fn init(spec: &NetworkSpec, init: Init, seed: u64) -> Result<FixedWeights, WeightsError> {
        match init {
            Init::PyTorch => Self::draw(
                spec,
                seed,
                WORDS_PER_UNIFORM,
                |rng, fan_in| {
                    let bound = 1.0 / (fan_in as f64).sqrt();
                    bound * (2.0 * rng.gen::<f64>() - 1.0)
                },
                true,
            ),
            Init::He => Self::he_init(spec, seed),
        }
    }

    /// He initialization, quantized (see the module docs); deterministic for the seed.
    pub fn he_init(spec: &NetworkSpec, seed: u64) -> Result<FixedWeights, WeightsError> {
        Self::draw(spec, seed, WORDS_PER_DRAW, |rng, fan_in| (2.0 / fan_in as f64).sqrt() * standard_normal(rng), false)
    }

    /// Every layer's entries drawn by `draw(rng, fan_in)`, which takes `words` ChaCha words per call.
    fn draw(
        spec: &NetworkSpec,
        seed: u64,
        words: usize,
        draw: impl Fn(&mut ChaCha20Rng, usize) -> f64 + Sync,
        draw_biases: bool,
    ) -> Result<FixedWeights, WeightsError> {
        let scale_bits = spec.fixed_point_params().weight_scale_bits;
        let shapes = layer_shapes(spec);
        let mut layers = Vec::with_capacity(shapes.len());
        for (l, &(rows, cols)) in shapes.iter().enumerate() {
            let mut values = vec![0f64; rows * cols];
            values.par_chunks_mut(HE_CHUNK).enumerate().for_each(|(chunk, out)| {
                let mut rng = ChaCha20Rng::seed_from_u64(seed);
                rng.set_stream(l as u64 + 1);
                rng.set_word_pos((chunk * HE_CHUNK * words) as u128);
                for v in out {
                    *v = draw(&mut rng, rows);
                }
            });
            layers.push(quantize_layer(l + 1, cols, &values, scale_bits)?);
        }
        let biases = spec
            .biases()
            .into_iter()
            .zip(&shapes)
            .enumerate()
            .map(|(l, (bias, &(rows, cols)))| {
                bias.then(|| {
                    let values: Vec<f64> = match draw_biases {
                        true => {
                            let mut rng = ChaCha20Rng::seed_from_u64(seed);
                            rng.set_stream(BIAS_STREAMS + l as u64 + 1);
                            (0..cols).map(|_| draw(&mut rng, rows)).collect()
                        }
                        false => vec![0.0; cols],
                    };
                    quantize_layer(l + 1, cols, &values, scale_bits)
                })
                .transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(FixedWeights { scale_bits, shapes, layers, biases })
    }

    /// Zero biases for every layer of `spec` that has one.
    fn zero_biases(spec: &NetworkSpec) -> Vec<Option<IntVec>> {
        let shapes = layer_shapes(spec);
        spec.biases().into_iter().zip(shapes).map(|(b, (_, cols))| b.then(|| IntVec::from_i64(vec![0; cols]))).collect()
    }

    /// β^l as real numbers (f64), for a layer with a bias.
    pub fn bias_to_f64(&self, layer: usize) -> Option<Vec<f64>> {
        let scale = (self.scale_bits as f64).exp2();
        self.biases[layer].as_ref().map(|b| b.iter().map(|v| v as f64 / scale).collect())
    }

    /// Weights from real values per layer (row-major d_(l−1) × d_l), quantized and range-checked;
    /// biases zero.
    pub fn from_f64(spec: &NetworkSpec, layers: &[Vec<f64>]) -> Result<FixedWeights, WeightsError> {
        let scale_bits = spec.fixed_point_params().weight_scale_bits;
        let shapes = layer_shapes(spec);
        let layers = shapes
            .iter()
            .zip(layers)
            .enumerate()
            .map(|(l, (&(_, cols), values))| quantize_layer(l + 1, cols, values, scale_bits))
            .collect::<Result<_, _>>()?;
        Ok(FixedWeights { scale_bits, shapes, layers, biases: Self::zero_biases(spec) })
    }

    /// W^l as real numbers (f64), row-major.
    pub fn to_f64(&self, layer: usize) -> Vec<f64> {
        let scale = (self.scale_bits as f64).exp2();
        self.layers[layer].iter().map(|v| v as f64 / scale).collect()
    }

    /// Parameters in all layers.
    pub fn parameter_count(&self) -> usize {
        self.shapes.iter().map(|(r, c)| r * c).sum::<usize>()
            + self.biases.iter().flatten().map(IntVec::len).sum::<usize>()
    }

    /// Heap bytes of the integers.
    pub fn heap_bytes(&self) -> usize {
        self.layers.iter().chain(self.biases.iter().flatten()).map(IntVec::heap_bytes).sum()
    }

    /// The largest |w| of layer l's weights and bias (0-based l).
    pub fn max_abs(&self, l: usize) -> u128 {
        let bias = self.biases[l].as_ref().map_or(0, IntVec::max_abs);
        self.layers[l].max_abs().max(bias)
    }

    /// Writes the float32 and exact tensors (module docs) atomically.
    pub fn save(&self, path: &Path, spec: &NetworkSpec, steps_trained: u64) -> Result<(), WeightsError> {
        self.save_with_normalization(path, spec, steps_trained, None)
    }

    /// As [`save`](Self::save), recording how the training data was normalized (`normalization`
    /// metadata), so that the model can be applied to new data.
    pub fn save_with_normalization(
        &self,
        path: &Path,
        spec: &NetworkSpec,
        steps_trained: u64,
        normalization: Option<&Scaler>,
    ) -> Result<(), WeightsError> {
        let bytes = self.safetensors_bytes_with(path, spec, steps_trained, normalization)?;
        crate::files::write_atomically(path, &bytes)
            .map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })
    }

    /// The bytes [`save`](Self::save) writes: the same for the same weights, spec and step count in
    /// every process (the header's JSON keys are sorted), so a file's SHA-256 names the model
    /// (`zkdl verify` prints it for public final weights). `path` only names errors.
    pub fn safetensors_bytes(
        &self,
        path: &Path,
        spec: &NetworkSpec,
        steps_trained: u64,
    ) -> Result<Vec<u8>, WeightsError> {
        self.safetensors_bytes_with(path, spec, steps_trained, None)
    }

    /// The bytes [`save_with_normalization`](Self::save_with_normalization) writes.
    pub fn safetensors_bytes_with(
        &self,
        path: &Path,
        spec: &NetworkSpec,
        steps_trained: u64,
        normalization: Option<&Scaler>,
    ) -> Result<Vec<u8>, WeightsError> {
        let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (l, (&(rows, cols), values)) in self.shapes.iter().zip(&self.layers).enumerate() {
            let real = self.to_f64(l);
            let mut torch = Vec::with_capacity(rows * cols * 4);
            for c in 0..cols {
                for r in 0..rows {
                    torch.extend_from_slice(&(real[r * cols + c] as f32).to_le_bytes());
                }
            }
            buffers.push((format!("{}.weight", 2 * l), Dtype::F32, vec![cols, rows], torch));
            let mut exact = Vec::with_capacity(rows * cols * 8);
            for v in values.iter() {
                let v = i64::try_from(v).map_err(|_| WeightsError::TooWide { layer: l + 1, value: v })?;
                exact.extend_from_slice(&v.to_le_bytes());
            }
            buffers.push((format!("zkdl.fixed.{}", l + 1), Dtype::I64, vec![rows, cols], exact));
            if let (Some(bias), Some(real)) = (&self.biases[l], self.bias_to_f64(l)) {
                let torch: Vec<u8> = real.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
                buffers.push((format!("{}.bias", 2 * l), Dtype::F32, vec![cols], torch));
                let mut exact = Vec::with_capacity(cols * 8);
                for v in bias.iter() {
                    let v = i64::try_from(v).map_err(|_| WeightsError::TooWide { layer: l + 1, value: v })?;
                    exact.extend_from_slice(&v.to_le_bytes());
                }
                buffers.push((format!("zkdl.fixed_bias.{}", l + 1), Dtype::I64, vec![cols], exact));
            }
        }
        let views = buffers
            .iter()
            .map(|(name, dtype, shape, data)| {
                TensorView::new(*dtype, shape.clone(), data)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| WeightsError::Format { path: path.to_path_buf(), message: e.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut metadata = HashMap::from([
            ("format".to_string(), "zkdl-weights".to_string()),
            ("network".to_string(), spec.name.clone()),
            ("spec".to_string(), serde_json::to_string(spec).unwrap_or_default()),
            ("weight_scale_bits".to_string(), self.scale_bits.to_string()),
            ("steps_trained".to_string(), steps_trained.to_string()),
        ]);
        if let Some(scaler) = normalization {
            metadata.insert("normalization".to_string(), serde_json::to_string(scaler).unwrap_or_default());
        }
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|e| WeightsError::Format { path: path.to_path_buf(), message: e.to_string() })?;
        canonical_header(&bytes).ok_or_else(|| WeightsError::Format {
            path: path.to_path_buf(),
            message: "the safetensors header is not valid JSON".into(),
        })
    }

    /// Reads weights for `spec`: the exact integers if present, else the float32 tensors quantized.
    pub fn load(path: &Path, spec: &NetworkSpec) -> Result<FixedWeights, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| WeightsError::Format { path: path.to_path_buf(), message: e.to_string() })?;
        let scale_bits = spec.fixed_point_params().weight_scale_bits;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| WeightsError::Format { path: path.to_path_buf(), message: e.to_string() })?;
        let file_scale =
            header.metadata().as_ref().and_then(|m| m.get("weight_scale_bits")).and_then(|s| s.parse().ok());
        let shapes = layer_shapes(spec);
        // A bias of a layer that has none would be dropped without a word: refuse the file instead.
        let has_bias = spec.biases();
        for (l, _) in has_bias.iter().enumerate().filter(|(_, b)| !**b) {
            for name in [format!("{}.bias", 2 * l), format!("zkdl.fixed_bias.{}", l + 1)] {
                if file.tensor(&name).is_ok() {
                    return Err(WeightsError::Bias { path: path.to_path_buf(), name, layer: l + 1 });
                }
            }
        }
        let has_exact = file.names().iter().any(|n| n.starts_with("zkdl.fixed."));
        if let (true, Some(found)) = (has_exact, file_scale) {
            if found != scale_bits {
                return Err(WeightsError::Scale { path: path.to_path_buf(), found, expected: scale_bits });
            }
        }
        let mut layers = Vec::with_capacity(shapes.len());
        let mut biases = Vec::with_capacity(shapes.len());
        for (l, &(rows, cols)) in shapes.iter().enumerate() {
            let tensor = |name: &str| {
                file.tensor(name).map_err(|_| WeightsError::Missing {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    layers: shapes.len(),
                })
            };
            let wrong_shape =
                |name: &str, view: &TensorView<'_>, expected: Vec<usize>, what: &str| WeightsError::Shape {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    detail: format!(
                        "has shape {:?} and dtype {:?}, expected {expected:?} ({what})",
                        view.shape(),
                        view.dtype()
                    ),
                };
            if has_exact {
                let name = format!("zkdl.fixed.{}", l + 1);
                let view = tensor(&name)?;
                if view.dtype() != Dtype::I64 || view.shape() != [rows, cols] {
                    return Err(wrong_shape(&name, &view, vec![rows, cols], "int64 [d_(l−1), d_l]"));
                }
                let values: Vec<i64> =
                    view.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
                layers.push(IntVec::from_i64(values));
            } else {
                let name = format!("{}.weight", 2 * l);
                let view = tensor(&name)?;
                if view.dtype() != Dtype::F32 || view.shape() != [cols, rows] {
                    return Err(wrong_shape(
                        &name,
                        &view,
                        vec![cols, rows],
                        "float32 [d_l, d_(l−1)], PyTorch's Linear layout",
                    ));
                }
                let torch: Vec<f32> =
                    view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
                let mut real = vec![0f64; rows * cols];
                for c in 0..cols {
                    for r in 0..rows {
                        let value = torch[c * rows + r];
                        if !value.is_finite() {
                            return Err(WeightsError::NotFinite { layer: l + 1, row: r, col: c, value });
                        }
                        real[r * cols + c] = value as f64;
                    }
                }
                layers.push(quantize_layer(l + 1, cols, &real, scale_bits)?);
            }
            biases.push(match (has_bias[l], has_exact) {
                (false, _) => None,
                (true, true) => {
                    let name = format!("zkdl.fixed_bias.{}", l + 1);
                    let view = tensor(&name)?;
                    if view.dtype() != Dtype::I64 || view.shape() != [cols] {
                        return Err(wrong_shape(&name, &view, vec![cols], "int64 [d_l]"));
                    }
                    let values: Vec<i64> = view
                        .data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                        .collect();
                    Some(IntVec::from_i64(values))
                }
                (true, false) => {
                    let name = format!("{}.bias", 2 * l);
                    let view = tensor(&name)?;
                    if view.dtype() != Dtype::F32 || view.shape() != [cols] {
                        return Err(wrong_shape(&name, &view, vec![cols], "float32 [d_l], PyTorch's Linear bias"));
                    }
                    let mut real = Vec::with_capacity(cols);
                    for (c, b) in view.data().chunks_exact(4).enumerate() {
                        let value = f32::from_le_bytes(b.try_into().expect("4 bytes"));
                        if !value.is_finite() {
                            return Err(WeightsError::NotFinite { layer: l + 1, row: 0, col: c, value });
                        }
                        real.push(value as f64);
                    }
                    Some(quantize_layer(l + 1, cols, &real, scale_bits)?)
                }
            });
        }
        Ok(FixedWeights { scale_bits, shapes, layers, biases })
    }
}

/// What a weights file says about itself besides its tensors: the network it was written for and how
/// its training data was normalized (absent in files from PyTorch, or written before it was recorded).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    pub spec: Option<NetworkSpec>,
    pub normalization: Option<Scaler>,
    pub steps_trained: Option<u64>,
}

impl ModelFile {
    /// Reads the metadata of a safetensors file.
    pub fn read(path: &Path) -> Result<ModelFile, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| WeightsError::Format { path: path.to_path_buf(), message: e.to_string() })?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let field = |key: &str| metadata.get(key);
        let json = |key: &str, value: &String| WeightsError::Format {
            path: path.to_path_buf(),
            message: format!("metadata `{key}` is not valid: {value}"),
        };
        let spec = match field("spec") {
            Some(text) => Some(NetworkSpec::from_json(text).map_err(|_| json("spec", text))?),
            None => None,
        };
        let normalization = match field("normalization") {
            Some(text) => Some(serde_json::from_str(text).map_err(|_| json("normalization", text))?),
            None => None,
        };
        let steps_trained = field("steps_trained").and_then(|s| s.parse().ok());
        Ok(ModelFile { spec, normalization, steps_trained })
    }
}

/// (d_(l−1), d_l) of every dense layer.
pub fn layer_shapes(spec: &NetworkSpec) -> Vec<(usize, usize)> {
    spec.widths().windows(2).map(|w| (w[0] as usize, w[1] as usize)).collect()
}

/// Entries of one He-initialized layer drawn by one generator (a multiple of the generator's
/// 64-word buffer in words, so that each chunk starts on a fresh block).
const HE_CHUNK: usize = 1 << 14;
/// The ChaCha20 words one Box–Muller draw takes: two `f64`s of one `u64` each.
const WORDS_PER_DRAW: usize = 4;
/// The ChaCha20 words one uniform draw takes: one `f64` from one `u64`.
const WORDS_PER_UNIFORM: usize = 2;
/// Layer l's bias is drawn from stream `BIAS_STREAMS + l` (its weights from stream l).
const BIAS_STREAMS: u64 = 1 << 32;

/// Quantizes a layer's real weights to the weight scale and range-checks them as (S_W+2)-bit two's
/// complement, in parallel; the error names the first entry outside the range.
fn quantize_layer(layer: usize, cols: usize, values: &[f64], scale_bits: u32) -> Result<IntVec, WeightsError> {
    let bits = scale_bits + 2;
    let (lo, hi) = crate::training::fixed_point::twos_complement_range(bits);
    let quantized: Vec<i128> = values
        .par_iter()
        .with_min_len(1 << 12)
        .map(|&w| crate::training::fixed_point::quantize(w, scale_bits))
        .collect();
    if let Some(i) = quantized.par_iter().position_first(|v| !(lo..=hi).contains(v)) {
        let value = values[i];
        return Err(WeightsError::OutOfRange { layer, row: i / cols, col: i % cols, value, bits, scale_bits });
    }
    // `IntVec::from_i128` in parallel: the narrowest width holding every value.
    let (min, max) = quantized
        .par_iter()
        .fold(|| (0, 0), |(lo, hi), &v| (v.min(lo), v.max(hi)))
        .reduce(|| (0, 0), |(a, b), (c, d)| (a.min(c), b.max(d)));
    Ok(match crate::training::integers::IntWidth::for_range(min, max) {
        crate::training::integers::IntWidth::I32 => IntVec::I32(quantized.par_iter().map(|&v| v as i32).collect()),
        crate::training::integers::IntWidth::I64 => IntVec::I64(quantized.par_iter().map(|&v| v as i64).collect()),
        crate::training::integers::IntWidth::I128 => IntVec::I128(quantized),
    })
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A safetensors file with its header's JSON re-serialized with sorted keys (safetensors writes
/// `__metadata__` from a hash map, in an order that changes from process to process) and padded with
/// spaces to 8 bytes, as safetensors pads it; the data, and its offsets, are unchanged.
fn canonical_header(bytes: &[u8]) -> Option<Vec<u8>> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Value = serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
    // serde_json's map is ordered by key (no `preserve_order`), so this sorts every object.
    let mut json = serde_json::to_vec(&header).ok()?;
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + n..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// He initialization as one generator per layer drawing every entry in order, quantized one
    /// entry at a time.
    fn he_init_sequential(spec: &NetworkSpec, seed: u64) -> FixedWeights {
        let scale_bits = spec.fixed_point_params().weight_scale_bits;
        let shapes = layer_shapes(spec);
        let mut layers = Vec::new();
        for (l, &(rows, cols)) in shapes.iter().enumerate() {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            rng.set_stream(l as u64 + 1);
            let std = (2.0 / rows as f64).sqrt();
            let values: Vec<f64> = (0..rows * cols).map(|_| std * standard_normal(&mut rng)).collect();
            let quantized: Vec<i128> =
                values.iter().map(|&w| crate::training::fixed_point::quantize(w, scale_bits)).collect();
            layers.push(IntVec::from_i128(&quantized));
        }
        FixedWeights { scale_bits, shapes, layers, biases: FixedWeights::zero_biases(spec) }
    }

    #[test]
    fn pytorch_init_is_uniform_within_one_over_root_fan_in_and_never_fails() {
        // Four inputs: He's std 0.71 leaves |w| < 2 for some seeds; PyTorch's bound is 1/√4 = 0.5.
        let spec = NetworkSpec::builder("iris").input(4).dense(300).relu().dense(3).sgd(3).batch(8).build().unwrap();
        for seed in 0..40 {
            let w = FixedWeights::init(&spec, Init::PyTorch, seed).unwrap();
            let first = w.to_f64(0);
            assert!(first.iter().all(|v| v.abs() <= 0.5), "seed {seed}");
            // U(−b, b) has mean 0 and variance b²/3: 1200 draws land near both.
            let mean = first.iter().sum::<f64>() / first.len() as f64;
            let var = first.iter().map(|v| v * v).sum::<f64>() / first.len() as f64;
            assert!(mean.abs() < 0.03 && (var - 0.25 / 3.0).abs() < 0.01, "seed {seed}: mean {mean}, var {var}");
            let second = w.to_f64(1);
            assert!(second.iter().all(|v| v.abs() <= 1.0 / 300f64.sqrt()), "seed {seed}");
        }
        assert_eq!(
            FixedWeights::init(&spec, Init::PyTorch, 1).unwrap(),
            FixedWeights::init(&spec, Init::PyTorch, 1).unwrap()
        );
        assert_ne!(
            FixedWeights::init(&spec, Init::PyTorch, 1).unwrap(),
            FixedWeights::init(&spec, Init::PyTorch, 2).unwrap()
        );
        // He, on the same inputs, refuses seeds (a draw beyond |w| < 2).
        let he: Vec<_> = (0..40).map(|seed| FixedWeights::init(&spec, Init::He, seed).ok()).collect();
        assert_eq!(he, (0..40).map(|seed| FixedWeights::he_init(&spec, seed).ok()).collect::<Vec<_>>());
        let refused = he.iter().filter(|w| w.is_none()).count();
        assert!(refused > 0, "He refuses no seed here; the test no longer shows the difference");
    }

    #[test]
    fn parallel_pytorch_init_draws_what_one_generator_draws() {
        let spec = NetworkSpec::builder("u").input(300).dense(130).relu().dense(10).sgd(3).batch(4).build().unwrap();
        for seed in [0, 7, u64::MAX] {
            let parallel = FixedWeights::init(&spec, Init::PyTorch, seed).unwrap();
            for (l, &(rows, _)) in parallel.shapes.iter().enumerate() {
                let mut rng = ChaCha20Rng::seed_from_u64(seed);
                rng.set_stream(l as u64 + 1);
                let bound = 1.0 / (rows as f64).sqrt();
                let expected: Vec<i128> = (0..parallel.layers[l].len())
                    .map(|_| {
                        crate::training::fixed_point::quantize(
                            bound * (2.0 * rng.gen::<f64>() - 1.0),
                            parallel.scale_bits,
                        )
                    })
                    .collect();
                assert_eq!(parallel.layers[l].to_i128(), expected, "seed {seed}, layer {l}");
            }
        }
    }

    #[test]
    fn parallel_he_init_draws_what_one_generator_draws() {
        // Layers of several chunks, ending mid-chunk, and smaller than a chunk.
        let spec = NetworkSpec::builder("he").input(300).dense(130).relu().dense(10).sgd(3).batch(4).build().unwrap();
        const { assert!(300 * 130 > 2 * HE_CHUNK && (300 * 130) % HE_CHUNK != 0) };
        for seed in [0, 7, u64::MAX] {
            assert_eq!(FixedWeights::he_init(&spec, seed).unwrap(), he_init_sequential(&spec, seed));
        }
    }
}
