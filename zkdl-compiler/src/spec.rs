//! `NetworkSpec`: the network a user declares, as plain data.
//!
//! A spec is the public part of the statement of `PROTOCOL.md` §0: layer widths d_0 … d_L with a ReLU
//! after every hidden layer, MSE loss, SGD with learning rate η' = 2^(−k') on the mean gradient, the batch
//! size B and the fixed-point parameters R (scale bits) and Q (range bits). It is built by `network!`, by
//! [`NetworkSpec::builder`], or read from TOML or JSON ([`NetworkSpec::from_toml`],
//! [`NetworkSpec::from_json`]); all three go through the same [`NetworkSpec::validate`], which returns every
//! error at once, each naming the key it is about.
//!
//! Derived quantities (§1–§2):
//! - the SGD shift on the batch-summed gradient k = k' + log2 B;
//! - the weight scale S_W = 2R + k;
//! - the magnitude bound of every tensor role, as a power of two, computed by [`MagnitudeBounds`]:
//!   products add exponents, a sum of n terms adds ⌈log2 n⌉. A spec is rejected when some relation's
//!   terms, summed in magnitude, can reach 2^253 < p/2: then a field identity would no longer imply the
//!   integer identity.
//!
//! Choices this module makes where the protocol is silent (written here, tested in `tests`):
//! - the committed inputs that enter products are range-checked too: X and Y as (R+2)-bit two's
//!   complement (real values in [−2, 2)), private initial weights W_0 as (S_W+2)-bit two's complement.
//!   Without these a committed input could be any field element, and the integer semantics of §1 fail.
//! - a spec is validated for every step count up to 2^[`STEP_HORIZON_LOG2`]; the compiler repeats the
//!   check, with its margin, for the actual T.
//! - sizes are not bounded here (widths and batch up to 2^24 each make 2^48-entry matrices): the
//!   compiler bounds them for the actual T, every stacked tensor and the bit tensor at
//!   2^[`MAX_STACKED_TENSOR_LOG2`](crate::plan::MAX_STACKED_TENSOR_LOG2) entries and L·T at
//!   [`MAX_UNROLLED_LAYER_STEPS`](crate::plan::MAX_UNROLLED_LAYER_STEPS), before it unrolls the steps.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Default R: inputs, activations and signals are at scale 2^16.
pub const DEFAULT_SCALE_BITS: u32 = 16;
/// Default Q: hidden pre-activations Z' lie in [1 − 2^32, 2^32].
pub const DEFAULT_RANGE_BITS: u32 = 32;
/// A spec is validated for every T ≤ 2^32; [`MagnitudeBounds::new`] takes the actual T.
pub const STEP_HORIZON_LOG2: u32 = 32;
/// Magnitudes must stay at most 2^253, below p/2 ≈ 2^253.86 for the BLS12-381 scalar field.
pub const FIELD_MAGNITUDE_LIMIT_LOG2: u32 = 253;
/// The most a learning-rate schedule may span, in halvings: 2^16 between its largest and smallest rate.
pub const MAX_SCHEDULE_SPREAD: u32 = 16;

/// Largest width or batch accepted (2^24); larger values are surely a typo.
pub const MAX_DIMENSION: u32 = 1 << 24;

/// One entry of the layer list, as written: `{ dense = N }` (with a bias, as PyTorch's `nn.Linear`),
/// `{ dense = N, bias = false }`, or `"relu"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// A fully connected layer with `units` outputs: Z = A · W + 1·bᵀ, or Z = A · W without a bias.
    Dense { units: u32, bias: bool },
    /// ReLU on the preceding dense layer's rescaled output: A = [Z' > 0] ⊙ Z'.
    Relu,
}

impl Layer {
    /// `dense(units)` with a bias (the default, as `nn.Linear`).
    pub fn dense(units: u32) -> Layer {
        Layer::Dense { units, bias: true }
    }

    /// The number of outputs of a dense layer.
    pub fn units(&self) -> Option<u32> {
        match self {
            Layer::Dense { units, .. } => Some(*units),
            Layer::Relu => None,
        }
    }

    /// As written in `network!`: `dense(16)`, `dense(16, bias = false)`, `relu`.
    pub fn describe(&self) -> String {
        match self {
            Layer::Dense { units, bias: true } => format!("dense({units})"),
            Layer::Dense { units, bias: false } => format!("dense({units}, bias = false)"),
            Layer::Relu => "relu".into(),
        }
    }
}

/// The serialized forms of a layer (a bias is left out when present, so `{ dense = N }` reads as
/// PyTorch's default).
#[derive(Serialize, Deserialize)]
#[serde(untagged, expecting = "a layer: \"relu\", { dense = N } or { dense = N, bias = false }")]
enum LayerForm {
    Name(LayerName),
    Dense(DenseForm),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LayerName {
    Relu,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DenseForm {
    dense: u32,
    #[serde(default = "with_bias", skip_serializing_if = "Clone::clone")]
    bias: bool,
}

fn with_bias() -> bool {
    true
}

impl Serialize for Layer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Layer::Dense { units, bias } => LayerForm::Dense(DenseForm { dense: units, bias }),
            Layer::Relu => LayerForm::Name(LayerName::Relu),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match LayerForm::deserialize(deserializer)? {
            LayerForm::Dense(DenseForm { dense, bias }) => Layer::Dense { units: dense, bias },
            LayerForm::Name(LayerName::Relu) => Layer::Relu,
        })
    }
}

/// The loss whose gradient starts back-propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// ½‖Ŷ − Y‖² summed over the batch: G^L = Z'^L − Y.
    #[default]
    Mse,
}

/// The optimizer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Optimizer {
    /// Plain SGD with learning rate η'_t = 2^(−k'_t) on the mean gradient of the batch: k'_t is
    /// `lr_shift` until the first entry of `schedule`, then each entry's `lr_shift` from its
    /// `from_step` on (a step schedule of powers of two).
    Sgd {
        /// k' in η' = 2^(−k'), from step 0.
        lr_shift: u32,
        /// Later rates, by first step (strictly increasing, above 0). Left out of the serialized form
        /// when empty, so the digests of plans with one rate do not change.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        schedule: Vec<LrChange>,
    },
}

/// One change of a learning-rate schedule: from step `from_step` on (counted from the run's first
/// step, across the segments of a chain), the rate is 2^(−lr_shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrChange {
    pub from_step: u64,
    pub lr_shift: u32,
}

impl Optimizer {
    /// SGD at one rate 2^(−lr_shift) for the whole run.
    pub fn sgd(lr_shift: u32) -> Optimizer {
        Optimizer::Sgd { lr_shift, schedule: Vec::new() }
    }

    /// k' of the mean-gradient learning rate 2^(−k') at the first step.
    pub fn lr_shift(&self) -> u32 {
        match self {
            Optimizer::Sgd { lr_shift, .. } => *lr_shift,
        }
    }

    /// The schedule's changes (empty for one rate).
    pub fn schedule(&self) -> &[LrChange] {
        match self {
            Optimizer::Sgd { schedule, .. } => schedule,
        }
    }

    /// k'_t, the mean-gradient rate's shift at step `step` of the run.
    pub fn lr_shift_at(&self, step: u64) -> u32 {
        self.schedule().iter().take_while(|c| c.from_step <= step).last().map_or(self.lr_shift(), |c| c.lr_shift)
    }

    /// The largest k'_t of the run (its smallest rate): it sets the weight scale S_W.
    pub fn max_lr_shift(&self) -> u32 {
        self.schedule().iter().map(|c| c.lr_shift).fold(self.lr_shift(), u32::max)
    }

    /// The smallest k'_t of the run (its largest rate).
    pub fn min_lr_shift(&self) -> u32 {
        self.schedule().iter().map(|c| c.lr_shift).fold(self.lr_shift(), u32::min)
    }

    /// log2 of the update multiplier m_t = 2^(k'_max − k'_t) of step `step`: the weights are at the
    /// scale of the smallest rate, and step t subtracts m_t·G_W (`docs/schedules.md`).
    pub fn multiplier_log2_at(&self, step: u64) -> u32 {
        self.max_lr_shift() - self.lr_shift_at(step)
    }

    /// Whether the rate is the same at every step.
    pub fn is_constant(&self) -> bool {
        self.min_lr_shift() == self.max_lr_shift()
    }

    /// The schedule as people write it: `2^-3` or `2^-3, 2^-4 from step 900, …`.
    pub fn describe(&self) -> String {
        let mut out = format!("2^-{}", self.lr_shift());
        for c in self.schedule() {
            out.push_str(&format!(", 2^-{} from step {}", c.lr_shift, c.from_step));
        }
        out
    }
}

/// Fixed-point parameters of `PROTOCOL.md` §1 and §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedPoint {
    /// R: inputs, targets, activations and back-propagated signals are at scale 2^R.
    #[serde(default = "default_scale_bits")]
    pub scale_bits: u32,
    /// Q: hidden Z' and every H' are bounded by 2^Q in magnitude.
    #[serde(default = "default_range_bits")]
    pub range_bits: u32,
}

fn default_scale_bits() -> u32 {
    DEFAULT_SCALE_BITS
}
fn default_range_bits() -> u32 {
    DEFAULT_RANGE_BITS
}

impl Default for FixedPoint {
    fn default() -> Self {
        FixedPoint { scale_bits: DEFAULT_SCALE_BITS, range_bits: DEFAULT_RANGE_BITS }
    }
}

/// A network and its training hyper-parameters, as declared.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// A label for humans and for the plan digest.
    pub name: String,
    /// d_0, the number of input features.
    pub input: u32,
    /// `dense(N)` and `relu` entries: dense, relu, dense, relu, …, dense.
    pub layers: Vec<Layer>,
    /// The loss; MSE is the only one in version 0.
    #[serde(default)]
    pub loss: Loss,
    /// The optimizer and its learning rate.
    pub optimizer: Optimizer,
    /// B, examples per step; a power of two.
    pub batch: u32,
    /// R and Q.
    #[serde(default)]
    pub fixed_point: FixedPoint,
}

/// Where in a spec an error is: the key of the TOML or JSON form, or the tokens of `network!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpecKey {
    Name,
    Input,
    /// The layer list as a whole (empty, or no dense layer).
    Layers,
    /// The entry of the layer list at this index.
    Layer(usize),
    Loss,
    LearningRate,
    /// The entry of the learning-rate schedule at this index.
    Schedule(usize),
    Batch,
    ScaleBits,
    RangeBits,
}

impl SpecKey {
    /// The key as written in a TOML or JSON spec.
    pub fn path(&self) -> String {
        match self {
            SpecKey::Name => "name".into(),
            SpecKey::Input => "input".into(),
            SpecKey::Layers => "layers".into(),
            SpecKey::Layer(i) => format!("layers[{i}]"),
            SpecKey::Loss => "loss".into(),
            SpecKey::LearningRate => "optimizer.lr_shift".into(),
            SpecKey::Schedule(i) => format!("optimizer.schedule[{i}]"),
            SpecKey::Batch => "batch".into(),
            SpecKey::ScaleBits => "fixed_point.scale_bits".into(),
            SpecKey::RangeBits => "fixed_point.range_bits".into(),
        }
    }
}

/// One validation error: what is wrong, where, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub key: SpecKey,
    pub message: String,
    pub help: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}; {}", self.key.path(), self.message, self.help)
    }
}

/// Every error of a spec, in the order of its keys.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} error{} in the network spec", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

/// A spec file that could not be read: a syntax or type error from the parser, or validation errors,
/// each with the line of the key it names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecFileError {
    #[error("{format} syntax or type error{}: {message}", line_suffix(*line))]
    Parse { format: &'static str, line: Option<usize>, message: String },
    #[error("{}", render_located(.0))]
    Invalid(Vec<(Option<usize>, SpecError)>),
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

fn render_located(errors: &[(Option<usize>, SpecError)]) -> String {
    let n = errors.len();
    let mut out = format!("{n} error{} in the network spec", if n == 1 { "" } else { "s" });
    for (line, e) in errors {
        out.push_str(&format!("\n  - {}{e}", line.map(|l| format!("line {l}: ")).unwrap_or_default()));
    }
    out
}

/// Fixed-point quantities derived from a spec (`PROTOCOL.md` §1–§2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedPointParams {
    /// R.
    pub scale_bits: u32,
    /// Q.
    pub range_bits: u32,
    /// k = k' + log2 B, the shift on the batch-summed gradient (k'_max, the smallest rate's, under a
    /// schedule; steps at a larger rate multiply their gradient by 2^(k'_max − k'_t)).
    pub update_shift: u32,
    /// S_W = 2R + k, the weight scale and the rescaling shift.
    pub weight_scale_bits: u32,
    /// Bits of the two's-complement range check of X and Y: R + 2.
    pub data_bits: u32,
    /// Bits of the two's-complement range check of private W_0: S_W + 2.
    pub weight_bits: u32,
}

impl NetworkSpec {
    /// What differs between `self` (called `ours` in the phrases) and `other` (`theirs`), one phrase
    /// per field in declaration order (`batch 32 in --network, 64 in the proof`); empty when they are
    /// equal. For messages that say why a file is not about the network a user named.
    pub fn differences(&self, other: &NetworkSpec, ours: &str, theirs: &str) -> Vec<String> {
        let layers = |spec: &NetworkSpec| {
            spec.layers
                .iter()
                .map(|l| match l {
                    l @ Layer::Dense { .. } => l.describe(),
                    Layer::Relu => "relu".to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        let mut field = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name} {a} {ours}, {b} {theirs}"));
            }
        };
        field("name", format!("{:?}", self.name), format!("{:?}", other.name));
        field("input", self.input.to_string(), other.input.to_string());
        field("layers", format!("[{}]", layers(self)), format!("[{}]", layers(other)));
        field("loss", format!("{:?}", self.loss).to_lowercase(), format!("{:?}", other.loss).to_lowercase());
        field("learning rate", self.optimizer.describe(), other.optimizer.describe());
        field("batch", self.batch.to_string(), other.batch.to_string());
        field(
            "fixed point (R, Q)",
            format!("({}, {})", self.fixed_point.scale_bits, self.fixed_point.range_bits),
            format!("({}, {})", other.fixed_point.scale_bits, other.fixed_point.range_bits),
        );
        out
    }

    /// A builder, for specs made in code without the macro.
    pub fn builder(name: impl Into<String>) -> NetworkSpecBuilder {
        NetworkSpecBuilder {
            spec: NetworkSpec {
                name: name.into(),
                input: 0,
                layers: Vec::new(),
                loss: Loss::Mse,
                optimizer: Optimizer::sgd(0),
                batch: 0,
                fixed_point: FixedPoint::default(),
            },
        }
    }

    /// Reads and validates a TOML spec. Errors carry the line of the key they name.
    pub fn from_toml(source: &str) -> Result<NetworkSpec, SpecFileError> {
        let spec: NetworkSpec = toml::from_str(source).map_err(|e| SpecFileError::Parse {
            format: "TOML",
            line: e.span().map(|s| line_of_offset(source, s.start)),
            message: e.message().to_string(),
        })?;
        spec.validate_located(source, SourceFormat::Toml)
    }

    /// Reads and validates a JSON spec. Errors carry the line of the key they name.
    pub fn from_json(source: &str) -> Result<NetworkSpec, SpecFileError> {
        let spec: NetworkSpec = serde_json::from_str(source).map_err(|e| SpecFileError::Parse {
            format: "JSON",
            line: (e.line() > 0).then_some(e.line()),
            message: strip_serde_json_position(&e.to_string()),
        })?;
        spec.validate_located(source, SourceFormat::Json)
    }

    /// The spec as TOML, in the form [`NetworkSpec::from_toml`] reads.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a NetworkSpec is always representable in TOML")
    }

    fn validate_located(self, source: &str, format: SourceFormat) -> Result<NetworkSpec, SpecFileError> {
        match self.validate() {
            Ok(()) => Ok(self),
            Err(SpecErrors(errors)) => Err(SpecFileError::Invalid(
                errors.into_iter().map(|e| (locate_key(source, format, e.key), e)).collect(),
            )),
        }
    }

    /// The layer widths d_0 … d_L (input first). Meaningful for a valid spec.
    pub fn widths(&self) -> Vec<u32> {
        std::iter::once(self.input).chain(self.layers.iter().filter_map(Layer::units)).collect()
    }

    /// Whether each dense layer l = 1 … L has a bias.
    pub fn biases(&self) -> Vec<bool> {
        self.layers
            .iter()
            .filter_map(|l| match l {
                Layer::Dense { bias, .. } => Some(*bias),
                Layer::Relu => None,
            })
            .collect()
    }

    /// L, the number of dense layers.
    pub fn depth(&self) -> usize {
        self.layers.iter().filter(|l| matches!(l, Layer::Dense { .. })).count()
    }

    /// Trainable parameters Σ (d_(l−1) + [layer l has a bias])·d_l.
    pub fn parameter_count(&self) -> u64 {
        let biases = self.biases();
        self.widths().windows(2).zip(biases).map(|(w, bias)| (w[0] as u64 + bias as u64) * w[1] as u64).sum()
    }

    /// The derived fixed-point quantities. Meaningful for a valid spec (batch a power of two).
    pub fn fixed_point_params(&self) -> FixedPointParams {
        let r = self.fixed_point.scale_bits;
        // Saturating: an invalid spec must still yield (nonsense) parameters rather than overflow.
        let k = self.optimizer.max_lr_shift().saturating_add(self.batch.max(1).ilog2());
        let s_w = r.saturating_mul(2).saturating_add(k);
        FixedPointParams {
            scale_bits: r,
            range_bits: self.fixed_point.range_bits,
            update_shift: k,
            weight_scale_bits: s_w,
            data_bits: r.saturating_add(2),
            weight_bits: s_w.saturating_add(2),
        }
    }

    /// Checks everything `PROTOCOL.md` requires of a spec and returns every violation.
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut errors = Vec::new();
        let mut err = |key, message: String, help: &str| errors.push(SpecError { key, message, help: help.into() });

        if self.name.trim().is_empty() {
            err(SpecKey::Name, "the name is empty".into(), "give the network a name, e.g. `name = \"digits\"`");
        }
        check_dimension(self.input, "input width", SpecKey::Input, &mut err);

        if !self.layers.iter().any(|l| matches!(l, Layer::Dense { .. })) {
            err(
                SpecKey::Layers,
                "there is no dense layer".into(),
                "declare at least the output layer, e.g. `dense(10)`",
            );
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let previous = i.checked_sub(1).map(|j| self.layers[j]);
            match (layer, previous) {
                (Layer::Dense { units: n, .. }, prev) => {
                    check_dimension(*n, "dense layer width", SpecKey::Layer(i), &mut err);
                    if let Some(Layer::Dense { units: m, .. }) = prev {
                        err(
                            SpecKey::Layer(i),
                            format!("dense({n}) follows dense({m}) with no relu between them"),
                            "zkdl puts a ReLU after every hidden layer: write `relu` after the hidden dense layer",
                        );
                    }
                }
                (Layer::Relu, None) => err(
                    SpecKey::Layer(i),
                    "relu comes first, before any dense layer".into(),
                    "start the layer list with a dense layer, e.g. `dense(32), relu`",
                ),
                (Layer::Relu, Some(Layer::Relu)) => {
                    err(SpecKey::Layer(i), "relu follows relu".into(), "a second ReLU changes nothing; remove it")
                }
                (Layer::Relu, Some(Layer::Dense { .. })) => {}
            }
        }
        if self.layers.len() > 1 && self.layers.last() == Some(&Layer::Relu) {
            err(
                SpecKey::Layer(self.layers.len() - 1),
                "the last layer is relu".into(),
                "the output layer is dense and takes no ReLU (the MSE loss is on its pre-activation); remove the final `relu`",
            );
        }

        if self.batch == 0 || !self.batch.is_power_of_two() || self.batch > MAX_DIMENSION {
            let below = if self.batch <= 1 { 1 } else { 1u32 << self.batch.ilog2() };
            err(
                SpecKey::Batch,
                format!("batch {} is not a power of two between 1 and 2^24", self.batch),
                &format!(
                    "the batch sets log2(B) in the update shift and must be a power of two: write {below} or {}",
                    below.saturating_mul(2).min(MAX_DIMENSION)
                ),
            );
        }

        let FixedPoint { scale_bits: r, range_bits: q } = self.fixed_point;
        for (value, key, what) in [(r, SpecKey::ScaleBits, "scale_bits"), (q, SpecKey::RangeBits, "range_bits")] {
            if value > FIELD_MAGNITUDE_LIMIT_LOG2 {
                err(
                    key,
                    format!("{what} {value} exceeds the field's {FIELD_MAGNITUDE_LIMIT_LOG2} bits"),
                    "no fixed-point value that wide fits the field; the defaults are scale_bits 16, range_bits 32",
                );
            }
        }
        if r == 0 {
            err(SpecKey::ScaleBits, "scale_bits is 0".into(), "fixed point needs fraction bits; the default is 16");
        }
        if q <= r {
            err(
                SpecKey::RangeBits,
                format!("range_bits {q} is not above scale_bits {r}"),
                "Z' must hold values of magnitude 1.0 = 2^R and more: choose range_bits > scale_bits (default 32)",
            );
        }
        let lr_shift = self.optimizer.lr_shift();
        if lr_shift > 64 {
            err(
                SpecKey::LearningRate,
                format!("learning rate 2^-{lr_shift} is below 2^-64"),
                "no training moves a weight at that rate; use a learning rate between 2^-1 and 2^-20",
            );
        }
        let mut previous = 0u64;
        for (i, change) in self.optimizer.schedule().iter().enumerate() {
            let key = SpecKey::Schedule(i);
            if change.from_step <= previous {
                let after = if i == 0 { "step 0".to_string() } else { format!("step {previous} of the entry before") };
                err(
                    key,
                    format!("from_step {} does not come after {after}", change.from_step),
                    "list the changes in order of their first step, each after the one before (step 0 is `lr_shift`)",
                );
            }
            previous = previous.max(change.from_step);
            if change.lr_shift > 64 {
                err(
                    key,
                    format!("learning rate 2^-{} is below 2^-64", change.lr_shift),
                    "no training moves a weight at that rate; use a learning rate between 2^-1 and 2^-20",
                );
            }
        }
        let spread = self.optimizer.max_lr_shift().saturating_sub(self.optimizer.min_lr_shift());
        if spread > MAX_SCHEDULE_SPREAD {
            err(
                SpecKey::LearningRate,
                format!("the schedule's rates span 2^{spread}, more than 2^{MAX_SCHEDULE_SPREAD}"),
                "the weights are kept at the smallest rate's scale, which costs a bit of range per halving: keep the largest rate within 2^16 of the smallest",
            );
        }

        let structure_ok = errors.is_empty();
        if structure_ok {
            let bounds = MagnitudeBounds::new(self, 1u64 << STEP_HORIZON_LOG2);
            if bounds.max_relation_log2 > FIELD_MAGNITUDE_LIMIT_LOG2 {
                errors.push(SpecError {
                    key: SpecKey::RangeBits,
                    message: format!(
                        "the magnitude bound of relation {} reaches 2^{} ≥ p/2 ≈ 2^253 (scale_bits {r}, range_bits {q}, S_W {})",
                        bounds.worst_relation,
                        bounds.max_relation_log2,
                        self.fixed_point_params().weight_scale_bits
                    ),
                    help: "a field identity would no longer imply the integer one: lower range_bits or scale_bits, or raise the learning rate".into(),
                });
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(errors))
        }
    }
}

fn check_dimension(n: u32, what: &str, key: SpecKey, err: &mut impl FnMut(SpecKey, String, &str)) {
    if n == 0 {
        err(key, format!("{what} is zero"), "a layer needs at least one unit, e.g. `dense(10)`");
    } else if n > MAX_DIMENSION {
        err(key, format!("{what} {n} exceeds 2^24"), "widths above 16M are not supported; check for a typo");
    }
}

/// Magnitude bounds, as exponents e with |v| ≤ 2^e, of every tensor role of a spec run for T steps.
///
/// With a = max(R+1, Q) the activation bound and g = max(Q, R+1) + 1 the signal bound:
/// G_W ≤ B·a·g, W_t ≤ W_0 + T·G_W, Z ≤ d·a·W, H ≤ d·g·W. Each relation's bound is its largest term plus
/// ⌈log2(#terms)⌉.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MagnitudeBounds {
    pub data: u32,
    pub activation: u32,
    pub signal: u32,
    pub initial_weight: u32,
    pub weight_gradient: u32,
    pub weight: u32,
    pub pre_activation: u32,
    pub backward_pre_activation: u32,
    pub remainder: u32,
    /// The largest relation bound, and the relation reaching it.
    pub max_relation_log2: u32,
    pub worst_relation: String,
}

impl MagnitudeBounds {
    /// Bounds for `steps` steps of the spec.
    pub fn new(spec: &NetworkSpec, steps: u64) -> MagnitudeBounds {
        let p = spec.fixed_point_params();
        let (r, q, s_w) = (p.scale_bits, p.range_bits, p.weight_scale_bits);
        let d_max = spec.widths().into_iter().max().unwrap_or(1).max(1);
        let log_d = ceil_log2(d_max as u64);
        // A bias adds one term to Z = A·W + 2^R·b (|2^R·b| ≤ |A|·|W| bound: 2^R ≤ 2^a, |b| ≤ |W|);
        // |g_b| = B·2^R·|G| ≤ the G_W bound, so biases share the weights' bounds.
        let log_terms_forward = ceil_log2(d_max as u64 + spec.biases().contains(&true) as u64);
        let log_b = spec.batch.max(1).ilog2();

        let data = r + 1;
        let activation = data.max(q);
        let signal = q.max(data) + 1;
        let initial_weight = s_w + 1;
        let weight_gradient = log_b + activation + signal;
        // A step at a larger rate than the smallest subtracts m_t·G_W, m_t ≤ 2^spread.
        let spread = spec.optimizer.max_lr_shift() - spec.optimizer.min_lr_shift();
        let step_update = weight_gradient + spread;
        let weight = initial_weight.max(step_update + ceil_log2(steps.max(1))) + 1;
        let pre_activation = log_terms_forward + activation + weight;
        let backward_pre_activation = log_d + signal + weight;
        let remainder = s_w.saturating_sub(1);
        let rescaled = q.max(signal);

        let relations = [
            ("M1 forward matmul", pre_activation + 1),
            ("M2 backward matmul", backward_pre_activation + 1),
            ("M3 weight gradient", weight_gradient + 1),
            ("M4 bias gradient", weight_gradient + 1),
            ("S1 forward rescale", pre_activation.max(s_w + rescaled).max(remainder) + 2),
            ("S2 backward rescale", backward_pre_activation.max(s_w + rescaled).max(remainder) + 2),
            ("H1 ReLU", q + 1),
            ("H2 ReLU backward", q + 1),
            ("L1 loss", signal + 2),
            ("U1 update", weight.max(step_update) + 2),
        ];
        let (worst, max) = relations.iter().max_by_key(|(_, b)| *b).copied().expect("nonempty");
        MagnitudeBounds {
            data,
            activation,
            signal,
            initial_weight,
            weight_gradient,
            weight,
            pre_activation,
            backward_pre_activation,
            remainder,
            max_relation_log2: max,
            worst_relation: worst.to_string(),
        }
    }

    /// log2 of the slack below p/2: how many more bits any tensor could grow before a relation wraps.
    pub fn margin_bits(&self) -> i64 {
        FIELD_MAGNITUDE_LIMIT_LOG2 as i64 - self.max_relation_log2 as i64
    }
}

/// ⌈log2 n⌉ for n ≥ 1.
pub fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

/// Builds a spec in code: `NetworkSpec::builder("digits").input(64).dense(32).relu().dense(10)…build()`.
#[derive(Clone, Debug)]
pub struct NetworkSpecBuilder {
    spec: NetworkSpec,
}

impl NetworkSpecBuilder {
    pub fn input(mut self, width: u32) -> Self {
        self.spec.input = width;
        self
    }
    /// A dense layer with a bias.
    pub fn dense(mut self, width: u32) -> Self {
        self.spec.layers.push(Layer::dense(width));
        self
    }
    /// A dense layer without a bias.
    pub fn dense_no_bias(mut self, width: u32) -> Self {
        self.spec.layers.push(Layer::Dense { units: width, bias: false });
        self
    }
    pub fn relu(mut self) -> Self {
        self.spec.layers.push(Layer::Relu);
        self
    }
    /// `n` copies of the given layers, as `repeat(n) { … }` in `network!`.
    pub fn repeat(mut self, n: usize, layers: &[Layer]) -> Self {
        for _ in 0..n {
            self.spec.layers.extend_from_slice(layers);
        }
        self
    }
    pub fn loss(mut self, loss: Loss) -> Self {
        self.spec.loss = loss;
        self
    }
    /// SGD with learning rate 2^(−lr_shift) on the mean gradient.
    pub fn sgd(mut self, lr_shift: u32) -> Self {
        self.spec.optimizer = Optimizer::sgd(lr_shift);
        self
    }
    pub fn batch(mut self, batch: u32) -> Self {
        self.spec.batch = batch;
        self
    }
    pub fn scale_bits(mut self, r: u32) -> Self {
        self.spec.fixed_point.scale_bits = r;
        self
    }
    pub fn range_bits(mut self, q: u32) -> Self {
        self.spec.fixed_point.range_bits = q;
        self
    }
    /// The validated spec, or every error.
    pub fn build(self) -> Result<NetworkSpec, SpecErrors> {
        self.spec.validate().map(|()| self.spec)
    }
}

/// A network declared in Rust: `network!` expands to a type implementing this.
pub trait Network {
    /// The declared spec. Validated when the declaration was compiled.
    fn spec() -> NetworkSpec;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SourceFormat {
    Toml,
    Json,
}

fn line_of_offset(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The line on which `key` is written: the last path segment as a TOML key (`batch =`, a `[table]`
/// header) or a JSON member name (`"batch":`). For `layers[i]`, the line of `layers`.
fn locate_key(source: &str, format: SourceFormat, key: SpecKey) -> Option<usize> {
    let path = key.path();
    let name = path.split('.').next_back()?.split('[').next()?.to_string();
    let parent = path.contains('.').then(|| path.split('.').next().unwrap_or_default().to_string());
    let matches = |line: &str, name: &str| {
        let t = line.trim_start();
        match format {
            SourceFormat::Toml => {
                t.strip_prefix(name).is_some_and(|rest| rest.trim_start().starts_with('='))
                    || t.contains(&format!("{name} ="))
                    || t.contains(&format!("{name}="))
            }
            SourceFormat::Json => t.contains(&format!("\"{name}\"")),
        }
    };
    source
        .lines()
        .position(|l| matches(l, &name))
        .or_else(|| parent.and_then(|p| source.lines().position(|l| matches(l, &p) || l.trim() == format!("[{p}]"))))
        .map(|i| i + 1)
}

fn strip_serde_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits() -> NetworkSpecBuilder {
        NetworkSpec::builder("digits").input(64).dense(32).relu().dense(32).relu().dense(10).sgd(4).batch(32)
    }

    #[test]
    fn builder_yields_widths_and_fixed_point() {
        let spec = digits().build().unwrap();
        assert_eq!(spec.widths(), vec![64, 32, 32, 10]);
        assert_eq!(spec.depth(), 3);
        assert_eq!(spec.parameter_count(), 65 * 32 + 33 * 32 + 33 * 10, "weights and biases");
        assert_eq!(spec.biases(), [true, true, true]);
        let p = spec.fixed_point_params();
        assert_eq!((p.update_shift, p.weight_scale_bits), (4 + 5, 2 * 16 + 9));
    }

    #[test]
    fn differences_name_each_field_that_differs() {
        let a = digits().build().unwrap();
        assert!(a.differences(&a, "here", "there").is_empty());
        let b = NetworkSpec::builder("digits").input(64).dense(16).relu().dense(10).sgd(3).batch(64).build().unwrap();
        assert_eq!(
            a.differences(&b, "in A", "in B"),
            vec![
                "layers [dense(32), relu, dense(32), relu, dense(10)] in A, [dense(16), relu, dense(10)] in B",
                "learning rate 2^-4 in A, 2^-3 in B",
                "batch 32 in A, 64 in B",
            ]
        );
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let errors = NetworkSpec::builder("")
            .input(0)
            .relu()
            .dense(0)
            .dense(8)
            .relu()
            .relu()
            .batch(48)
            .scale_bits(0)
            .build()
            .unwrap_err()
            .0;
        let keys: Vec<SpecKey> = errors.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            vec![
                SpecKey::Name,
                SpecKey::Input,
                SpecKey::Layer(0),
                SpecKey::Layer(1),
                SpecKey::Layer(2),
                SpecKey::Layer(4),
                SpecKey::Layer(4),
                SpecKey::Batch,
                SpecKey::ScaleBits,
            ],
            "{errors:#?}"
        );
        assert!(errors[7].help.contains("write 32 or 64"), "{}", errors[7].help);
    }

    #[test]
    fn magnitude_bound_reaching_the_field_is_rejected() {
        let ok = digits().build().unwrap();
        let margin = MagnitudeBounds::new(&ok, 1 << STEP_HORIZON_LOG2).margin_bits();
        assert!(margin > 0);
        let errors = digits().range_bits(100).build().unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, SpecKey::RangeBits);
        assert!(errors[0].message.contains("≥ p/2"), "{}", errors[0].message);
    }

    #[test]
    fn huge_fixed_point_parameters_are_errors_not_overflows() {
        let errors = digits().scale_bits(3_000_000_000).range_bits(4_000_000_000).sgd(u32::MAX).build().unwrap_err().0;
        let keys: Vec<SpecKey> = errors.iter().map(|e| e.key).collect();
        assert_eq!(keys, vec![SpecKey::ScaleBits, SpecKey::RangeBits, SpecKey::LearningRate], "{errors:#?}");
    }

    #[test]
    fn bounds_grow_with_steps_by_log2() {
        let spec = digits().build().unwrap();
        let one = MagnitudeBounds::new(&spec, 1);
        let many = MagnitudeBounds::new(&spec, 1 << 20);
        assert_eq!(many.weight, one.weight.max(one.weight_gradient + 20 + 1).max(many.weight));
        assert!(many.max_relation_log2 > one.max_relation_log2);
    }

    #[test]
    fn a_learning_rate_schedule_reads_validates_and_sets_the_weight_scale() {
        let base = "name = \"x\"\ninput = 64\nlayers = [{ dense = 8 }, \"relu\", { dense = 4 }]\nbatch = 16\n";
        let good = format!(
            "{base}optimizer = {{ kind = \"sgd\", lr_shift = 2, schedule = [{{ from_step = 100, lr_shift = 4 }}, {{ from_step = 200, lr_shift = 3 }}] }}\n"
        );
        let spec = NetworkSpec::from_toml(&good).unwrap();
        let o = &spec.optimizer;
        assert_eq!((o.lr_shift_at(0), o.lr_shift_at(99), o.lr_shift_at(100), o.lr_shift_at(250)), (2, 2, 4, 3));
        assert_eq!((o.max_lr_shift(), o.min_lr_shift()), (4, 2));
        assert_eq!((o.multiplier_log2_at(0), o.multiplier_log2_at(150), o.multiplier_log2_at(9999)), (2, 0, 1));
        assert_eq!(o.describe(), "2^-2, 2^-4 from step 100, 2^-3 from step 200");
        // S_W is the smallest rate's: 2R + k'_max + log2 B.
        assert_eq!(spec.fixed_point_params().weight_scale_bits, 2 * 16 + 4 + 4);
        assert_eq!(NetworkSpec::from_toml(&spec.to_toml()).unwrap(), spec);
        // One rate serializes without `schedule`, so one-rate plans keep their digests.
        let one = NetworkSpec { optimizer: Optimizer::sgd(2), ..spec.clone() };
        assert!(!one.to_toml().contains("schedule") && !serde_json::to_string(&one).unwrap().contains("schedule"));
        assert!(o.multiplier_log2_at(0) > 0 && one.optimizer.is_constant() && !o.is_constant());

        for (schedule, says) in [
            ("[{ from_step = 0, lr_shift = 3 }]", "from_step 0 does not come after step 0"),
            ("[{ from_step = 9, lr_shift = 3 }, { from_step = 9, lr_shift = 4 }]", "does not come after step 9"),
            ("[{ from_step = 9, lr_shift = 65 }]", "below 2^-64"),
            ("[{ from_step = 9, lr_shift = 20 }]", "span 2^18, more than 2^16"),
        ] {
            let text = format!("{base}optimizer = {{ kind = \"sgd\", lr_shift = 2, schedule = {schedule} }}\n");
            let SpecFileError::Invalid(errors) = NetworkSpec::from_toml(&text).unwrap_err() else {
                panic!("{schedule}")
            };
            assert!(
                errors.iter().any(|(line, e)| e.message.contains(says) && *line == Some(5)),
                "{schedule}: {errors:?}"
            );
        }
    }

    #[test]
    fn toml_and_json_round_trip_and_name_lines() {
        let spec = digits().build().unwrap();
        let text = spec.to_toml();
        assert_eq!(NetworkSpec::from_toml(&text).unwrap(), spec);
        let json = serde_json::to_string_pretty(&spec).unwrap();
        assert_eq!(NetworkSpec::from_json(&json).unwrap(), spec);

        let bad = "name = \"x\"\ninput = 64\nlayers = [{ dense = 8 }, \"relu\", { dense = 4 }]\nbatch = 12\n\
                   optimizer = { kind = \"sgd\", lr_shift = 3 }\n";
        let SpecFileError::Invalid(errors) = NetworkSpec::from_toml(bad).unwrap_err() else { panic!() };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, Some(4));
        assert_eq!(errors[0].1.key, SpecKey::Batch);

        let unknown = "name = \"x\"\ninput = 64\nlayerz = []\n";
        let SpecFileError::Parse { line, message, .. } = NetworkSpec::from_toml(unknown).unwrap_err() else { panic!() };
        assert_eq!(line, Some(3));
        assert!(message.contains("layerz"), "{message}");

        let json_bad = "{\n  \"name\": \"x\",\n  \"input\": 0,\n  \"layers\": [{\"dense\": 3}],\n  \"batch\": 4,\n  \
                        \"optimizer\": {\"kind\": \"sgd\", \"lr_shift\": 2}\n}";
        let SpecFileError::Invalid(errors) = NetworkSpec::from_json(json_bad).unwrap_err() else { panic!() };
        assert_eq!(errors[0].0, Some(3));
        assert_eq!(errors[0].1.key, SpecKey::Input);
    }
}
