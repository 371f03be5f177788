//! Options shared by the subcommands: which network, which data, which initial weights.

use super::CliError;
use clap::Args;
use std::path::{Path, PathBuf};
use zkdl::presets::{Digits, Paper};
use zkdl::runtime::training::data::{DataError, Dataset, LoadOptions};
use zkdl::runtime::training::weights::{FixedWeights, Init, SeededInit};
use zkdl::{Network, NetworkSpec};

/// The network and data of a run.
#[derive(Args, Debug, Clone)]
pub struct RunOptions {
    /// `digits` (64 → 32 → 32 → 10), `paper` (3072 → 8 × 1024 → 10), or a network file (.toml or .json).
    /// Default: `digits`, or the network built into a generated prover binary.
    #[arg(long, value_name = "digits|paper|FILE")]
    pub network: Option<String>,
    /// `digits` (embedded UCI digits, 8×8), `digits-rgb32` (the same upscaled to 32×32×3 = 3072 features), or
    /// a data file: CSV, IDX (MNIST, Fashion-MNIST), NumPy .npy, CIFAR-10 .bin, optionally gzipped.
    /// Default: the digits set in the layout the network's input width asks for.
    #[arg(long, value_name = "digits|digits-rgb32|PATH")]
    pub data: Option<String>,
    #[command(flatten)]
    pub file: DataFileOptions,
    /// Fraction of the examples held out for testing.
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,
    /// Seeds everything random: the initial weights (seed), the train/test split (seed + 1) and the batch
    /// order (seed + 2).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start from these weights (safetensors, as written by --weights-out or exported from PyTorch)
    /// instead of seeded initial weights (--init).
    #[arg(long, value_name = "W.safetensors")]
    pub weights_in: Option<PathBuf>,
    /// How the initial weights are drawn from --seed: `pytorch`, PyTorch's default for nn.Linear
    /// (U(−1/√fan_in, 1/√fan_in); never outside the range the proof checks), or `he`
    /// (N(0, 2/fan_in); a seed can fail on narrow inputs). The proof's statement names the scheme.
    #[arg(long, default_value = "pytorch", value_name = "pytorch|he")]
    pub init: Init,
    /// Override the network's learning rate: 2^-K on the mean gradient (part of the proven plan).
    #[arg(long, value_name = "K")]
    pub lr_shift: Option<u32>,
    /// A step schedule of learning rates, in epochs of the training split: `3:20,4:10,5` is 2^-3 for
    /// 20 epochs, then 2^-4 for 10, then 2^-5 to the end (part of the proven plan, stored in steps).
    #[arg(long, value_name = "K:EPOCHS,…,K", conflicts_with = "lr_shift")]
    pub lr_schedule: Option<String>,
    /// Write the rows of the split to this directory before training: `train.csv` and `test.csv`
    /// (the file's values, label last) and `split.json` (the example indices of each half, the seed
    /// and the normalization fitted on the training rows).
    #[arg(long, value_name = "DIR")]
    pub export_split: Option<PathBuf>,
}

/// How a data file is read: what `train --data FILE` and `data commit FILE` take besides the path.
#[derive(Args, Debug, Clone, Default)]
pub struct DataFileOptions {
    /// Format of the data file, when it cannot be told from its name or content.
    #[arg(long, value_name = "csv|idx|npy|cifar10")]
    pub format: Option<String>,
    /// Column of the label in a CSV or npy file: `first`, `last` or a 0-based index.
    #[arg(long, value_name = "first|last|N")]
    pub label_column: Option<String>,
    /// The labels of an IDX or npy feature file, if not found beside it.
    #[arg(long, value_name = "PATH")]
    pub labels: Option<PathBuf>,
    /// Feature normalization: `minmax` (per feature to [0, 1]), `none`, or a number to divide by
    /// (`255` or `divide:255`).
    #[arg(long, value_name = "minmax|none|X")]
    pub normalize: Option<String>,
}

impl RunOptions {
    /// A run of a preset network on its default data, with the default split and `seed`.
    pub fn preset(network: &str, seed: u64) -> RunOptions {
        RunOptions {
            network: Some(network.to_string()),
            data: None,
            file: DataFileOptions::default(),
            test_fraction: 0.2,
            seed,
            weights_in: None,
            init: Init::default(),
            lr_shift: None,
            lr_schedule: None,
            export_split: None,
        }
    }
}

/// From this many hidden layers on, a run from PyTorch's initialization gets a note suggesting He's.
const DEEP_HIDDEN_LAYERS: usize = 4;

/// What a run starts from.
pub struct RunInputs {
    pub spec: NetworkSpec,
    pub data: Dataset,
    pub train: Dataset,
    pub test: Dataset,
    pub initial: FixedWeights,
    /// The scheme and seed W_0 was drawn from, or `None` for weights from a file.
    pub initial_seed: Option<SeededInit>,
}

impl RunOptions {
    /// The network, with `--lr-shift` applied and checked.
    pub fn network_spec(&self) -> Result<NetworkSpec, CliError> {
        let mut spec = match (self.network.as_deref(), super::builtin_network()) {
            (None, Some(builtin)) => builtin.clone(),
            (None, None) => Digits::spec(),
            (Some(name), _) => load_network(name)?,
        };
        if let Some(lr_shift) = self.lr_shift {
            spec.optimizer = zkdl_compiler::Optimizer::sgd(lr_shift);
            spec.validate().map_err(|e| CliError::input(format!("--lr-shift {lr_shift}: {e}")))?;
        }
        if let Some(schedule) = &self.lr_schedule {
            // Checked here for its form; its epochs become steps once the training split is known.
            parse_lr_schedule(schedule)?;
        }
        Ok(spec)
    }

    pub fn dataset(&self, spec: &NetworkSpec) -> Result<Dataset, CliError> {
        let default = if spec.input == 3072 { "digits-rgb32" } else { "digits" };
        match self.data.as_deref().unwrap_or(default) {
            "digits" => Ok(Dataset::digits()),
            "digits-rgb32" => Ok(Dataset::digits_rgb32()),
            path => {
                let options = LoadOptions {
                    format: self.file.format.as_deref().map(|v| parse("format", v)).transpose()?,
                    label_column: self.file.label_column.as_deref().map(|v| parse("label-column", v)).transpose()?,
                    labels_path: self.file.labels.clone(),
                    normalization: self.file.normalize.as_deref().map(|v| parse("normalize", v)).transpose()?,
                    ..LoadOptions::default()
                };
                Dataset::load(Path::new(path), &options).map_err(|e| CliError::input(e.to_string()))
            }
        }
    }

    /// Network, data (checked against the network's widths), split, and W_0.
    pub fn inputs(&self) -> Result<RunInputs, CliError> {
        self.inputs_with_split(None)
    }

    /// As [`inputs`](Self::inputs), with the train/test split given as (test fraction, split seed)
    /// instead of `--test-fraction` and `--seed` + 1 (a committed dataset records its split).
    pub fn inputs_with_split(&self, split: Option<(f64, u64)>) -> Result<RunInputs, CliError> {
        let (test_fraction, split_seed) = split.unwrap_or((self.test_fraction, self.seed.wrapping_add(1)));
        if let Some(dir) = &self.export_split {
            check_output_dir("--export-split", dir)?;
        }
        let mut spec = self.network_spec()?;
        let data = self.dataset(&spec)?;
        let widths = spec.widths();
        // Split first: min–max normalization is fitted on the training rows.
        let (train, test) = data.split(test_fraction, split_seed).map_err(|e| CliError::input(e.to_string()))?;
        if let Some(schedule) = &self.lr_schedule {
            let per_epoch = (train.len() as u64).div_ceil(spec.batch.max(1) as u64);
            spec.optimizer = schedule_in_steps(&parse_lr_schedule(schedule)?, per_epoch)?;
            spec.validate().map_err(|e| CliError::input(format!("--lr-schedule {schedule}: {e}")))?;
        }
        train
            .check_fits(widths[0] as usize, *widths.last().unwrap_or(&0) as usize)
            .map_err(|e| CliError::input(format!("{e} (network {})", spec.name)))?;
        if let Some(dir) = &self.export_split {
            export_split(dir, &data, &train, test_fraction, split_seed)?;
        }
        let initial_seed = self.weights_in.is_none().then_some(SeededInit { init: self.init, seed: self.seed });
        let hidden = spec.widths().len().saturating_sub(2);
        if initial_seed.is_some_and(|s| s.init == Init::PyTorch) && hidden >= DEEP_HIDDEN_LAYERS {
            eprintln!(
                "note: {} has {hidden} hidden ReLU layers; PyTorch's initialization (the default) shrinks the signal \
                 by about √6 per layer, so a deep network learns slowly from it: --init he keeps \
                 its scale (the paper network reaches 86.1% at T = 64 from He's, 7.2% from PyTorch's)",
                spec.name
            );
        }
        let initial = match (&self.weights_in, initial_seed) {
            (Some(path), _) => FixedWeights::load(path, &spec).map_err(|e| CliError::input(e.to_string())),
            (None, Some(seeded)) => seeded.weights(&spec).map_err(|e| {
                CliError::input(format!("initial weights {seeded}: {e} (--init pytorch never leaves the range)"))
            }),
            (None, None) => unreachable!("seeded when no --weights-in"),
        }?;
        Ok(RunInputs { spec, data, train, test, initial, initial_seed })
    }
}

/// `K:E,K:E,…,K` as (shift, epochs) pairs, the last with no epochs (it runs to the end).
pub fn parse_lr_schedule(text: &str) -> Result<Vec<(u32, Option<u64>)>, CliError> {
    let bad = |what: String| {
        CliError::input(format!(
            "--lr-schedule {text}: {what}; write K:EPOCHS entries and a last K, e.g. `3:20,4:10,5` (2^-3 for 20 epochs, 2^-4 for 10, then 2^-5)"
        ))
    };
    let entries: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let last = i + 1 == entries.len();
        let (shift, epochs) = match entry.split_once(':') {
            Some((k, e)) => (k.trim(), Some(e.trim())),
            None => (*entry, None),
        };
        let shift: u32 =
            shift.parse().map_err(|_| bad(format!("`{shift}` in entry {} is not a shift K ≥ 0", i + 1)))?;
        let epochs = match (epochs, last) {
            (Some(e), false) => match e.parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(bad(format!("`{e}` in entry {} is not a number of epochs ≥ 1", i + 1))),
            },
            (None, false) => return Err(bad(format!("entry {} (`{entry}`) has no number of epochs", i + 1))),
            (Some(_), true) => {
                return Err(bad(format!("the last entry (`{entry}`) runs to the end and takes no epochs")))
            }
            (None, true) => None,
        };
        out.push((shift, epochs));
    }
    Ok(out)
}

/// A parsed `--lr-schedule` as the spec's optimizer, its epochs counted in steps of `per_epoch`.
fn schedule_in_steps(entries: &[(u32, Option<u64>)], per_epoch: u64) -> Result<zkdl_compiler::Optimizer, CliError> {
    let mut step = 0u64;
    let mut schedule = Vec::new();
    for pair in entries.windows(2) {
        let epochs = pair[0].1.expect("every entry but the last has epochs");
        step = epochs
            .checked_mul(per_epoch)
            .and_then(|s| s.checked_add(step))
            .ok_or_else(|| CliError::input("--lr-schedule: more steps than can be counted".to_string()))?;
        schedule.push(zkdl_compiler::LrChange { from_step: step, lr_shift: pair[1].0 });
    }
    Ok(zkdl_compiler::Optimizer::Sgd { lr_shift: entries[0].0, schedule })
}

/// The line that says how the run's features were normalized, and what of the test split was clipped.
pub fn normalization_line(inputs: &RunInputs) -> Option<String> {
    let scaler = inputs.train.scaler.as_ref()?;
    let clipped = match inputs.test.clipped {
        0 => String::new(),
        n => format!(
            "; {n} test value{} outside the training range clipped to ±{}",
            if n == 1 { "" } else { "s" },
            zkdl::runtime::training::data::INPUT_CLIP
        ),
    };
    Some(format!("normalization: {}{clipped}", scaler.describe()))
}

/// Checks, before any work starts, that a file can be written at `path`, given by `flag`: a missing or
/// read-only directory is an error now, not after the training and proving.
pub fn check_output(flag: &str, path: &Path) -> Result<(), CliError> {
    zkdl::runtime::files::check_writable(path).map_err(|e| {
        CliError::input(format!("{flag} {}: {e} (checked before any work: nothing was run)", path.display()))
    })
}

/// As [`check_output`] for a directory the command creates (or fills, if it exists).
pub fn check_output_dir(flag: &str, path: &Path) -> Result<(), CliError> {
    zkdl::runtime::files::check_dir_creatable(path).map_err(|e| {
        CliError::input(format!("{flag} {}: {e} (checked before any work: nothing was run)", path.display()))
    })
}

/// Checks every output path given: `(flag, path)` pairs, `None` paths skipped.
pub fn check_outputs(outputs: &[(&str, Option<&Path>)]) -> Result<(), CliError> {
    outputs.iter().filter_map(|(flag, path)| path.map(|p| (flag, p))).try_for_each(|(flag, p)| check_output(flag, p))
}

/// Writes `train.csv`, `test.csv` and `split.json` of a split of `data` to `dir` (created if
/// missing). The rows are in the file's own units: raw values, or values divided by a fixed divisor
/// multiplied back.
fn export_split(dir: &Path, data: &Dataset, train: &Dataset, test_fraction: f64, seed: u64) -> Result<(), CliError> {
    use zkdl::runtime::training::data::Scaler;
    let (train_rows, test_rows) =
        data.split_indices(test_fraction, seed).map_err(|e| CliError::input(e.to_string()))?;
    let fail = |e: std::io::Error| CliError::input(format!("--export-split {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let unit = match &data.scaler {
        Some(Scaler::Divide { divisor }) => f64::from(*divisor),
        _ => 1.0,
    };
    let csv = |rows: &[usize]| {
        let mut text: String = (0..data.feature_count).map(|j| format!("f{j},")).collect::<String>()
            + "label
";
        for &i in rows {
            for &v in data.example(i) {
                // Shortest text that reads back as the same f32.
                text += &format!("{},", (f64::from(v) * unit) as f32);
            }
            text += &format!(
                "{}
",
                data.labels[i]
            );
        }
        text
    };
    let doc = serde_json::json!({
        "source": data.name,
        "test_fraction": test_fraction,
        "split_seed": seed,
        "features": data.feature_count,
        "classes": data.class_count,
        "normalization": train.scaler,
        "train_indices": train_rows,
        "test_indices": test_rows,
    });
    let json = serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?;
    for (name, bytes) in [("train.csv", csv(&train_rows)), ("test.csv", csv(&test_rows)), ("split.json", json + "\n")] {
        zkdl::runtime::files::write_atomically(&dir.join(name), bytes.as_bytes()).map_err(fail)?;
    }
    Ok(())
}

/// Parses an option value with the data module's own parser, naming the flag in the error.
pub(super) fn parse<T: std::str::FromStr<Err = DataError>>(flag: &str, value: &str) -> Result<T, CliError> {
    value.parse().map_err(|e: DataError| CliError::input(format!("--{flag} {value}: {e}")))
}

/// A preset by name (`digits`, `paper`) or a network file (.toml or .json).
pub fn load_network(name: &str) -> Result<NetworkSpec, CliError> {
    match name {
        "digits" => Ok(Digits::spec()),
        "paper" => Ok(Paper::spec()),
        path => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::input(format!("network file {path}: {e} (or use --network digits|paper)")))?;
            let parsed = if Path::new(path).extension().is_some_and(|e| e == "json") {
                NetworkSpec::from_json(&text)
            } else {
                NetworkSpec::from_toml(&text)
            };
            parsed.map_err(|e| CliError::input(format!("network file {path}: {e}")))
        }
    }
}

/// `--backend`: which hardware runs the prover's heavy kernels (`zkdl_runtime::backend`).
#[derive(Args, Debug, Clone, Copy)]
pub struct BackendOption {
    /// Where the prover's kernels run: `auto` (CUDA when an NVIDIA driver and NVRTC are present, else
    /// the cpu), `cpu`, `cuda`, or `opencl` (any OpenCL driver; PoCL runs it on a CPU). The proof is the
    /// same byte for byte on every backend; only the speed differs.
    #[arg(long, default_value = "auto", value_name = "auto|cpu|cuda|opencl")]
    pub backend: zkdl::runtime::backend::BackendChoice,
}

impl BackendOption {
    /// Selects the backend and installs it for the process; logs which one runs (one line on stderr)
    /// and returns its description.
    pub fn install(self) -> Result<String, CliError> {
        let selected = zkdl::runtime::backend::select(self.backend)
            .map_err(|e| CliError::input(format!("--backend {}: {e}", self.backend)))?;
        eprintln!("{}", selected.log_line());
        let description = selected.backend.description();
        zkdl::runtime::crypto::device::install(selected.backend);
        Ok(description)
    }
}
