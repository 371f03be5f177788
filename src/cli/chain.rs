//! Runs of any length as chains of proofs (`docs/chains.md`): `zkdl prove --segment-steps K` and
//! `zkdl verify DIR`.
//!
//! A chain of N steps in segments of K is a directory `NAME.chain/` holding `segment-0000.proof` …
//! (⌈N/K⌉ proofs; segment i proves steps iK … min(N, (i+1)K) − 1) and `chain.json`, a manifest of N,
//! K and the file names. The manifest only says where to look: the verifier recomputes every
//! segment's plan from N and K, requires the proofs' own statements to be those plans, and checks
//! every link from the proofs:
//!
//! - segment 0 is checked like a standalone proof (its pins: dataset, seed or initial weights) and
//!   range-checks W_0 (`InitialWeights::Checked`);
//! - segment i > 0 carries W_0 (`InitialWeights::CarriedFromPreviousSegment { steps_before: iK }`, no
//!   range check, bounds of the chain so far), has T = min(K, N − iK), the same network, data
//!   visibility and dataset statement as segment 0, and its C_W0 is segment i − 1's C_WT byte for byte;
//! - the last segment's C_WT is the chain's final weights, which `--final-weights/--opening` pin.
//!
//! A changed manifest (another K or N) makes the plans differ from the proofs'; a segment removed,
//! swapped or from another run breaks a plan or a link. Each failure names the segment (exit 2; a
//! segment whose proof does not verify exits 1, as a standalone proof does).

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zkdl_compiler::{InitialWeights, Plan, Visibility};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::file::{ProofFile, MAX_STEPS};
use zkdl_runtime::proof::key_log_cols;
use zkdl_runtime::statement::dataset::DatasetCommitment;
use zkdl_runtime::statement::{check_chain_link, write_secret_file, FinalWeightsBlinds, SECRETS_MAGIC};

use super::options::RunInputs;
use super::pipeline::{prove_training, verify_file, ChainProgress, Pinned, PreviousSegment};
use super::prove::{mode_line, ProveArgs};
use super::verify::VerifyArgs;
use super::CliError;

/// The manifest's file name inside a chain directory.
pub const MANIFEST: &str = "chain.json";
/// The manifest's `format` field.
const MANIFEST_FORMAT: &str = "zkdl proof chain";
/// The manifest's version.
const MANIFEST_VERSION: u32 = 1;

/// `chain.json`: where the segments are. Nothing in it is trusted: see the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The network's name (informative).
    pub network: String,
    /// N, the chain's steps.
    pub steps: u64,
    /// K, the steps of every segment but possibly the last.
    pub segment_steps: u32,
    /// `segment-0000.proof` …, in order.
    pub segments: Vec<String>,
}

/// The file name of segment i.
pub fn segment_name(i: u64) -> String {
    format!("segment-{i:04}.proof")
}

/// The number of segments of N steps in segments of K, and the T and `InitialWeights` of segment i.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainShape {
    pub steps: u64,
    pub segment_steps: u32,
}

impl ChainShape {
    pub fn new(steps: u64, segment_steps: u32) -> Result<ChainShape, String> {
        if steps == 0 {
            return Err("a chain of 0 steps".into());
        }
        if segment_steps == 0 || segment_steps > MAX_STEPS {
            return Err(format!("segments of {segment_steps} steps; a segment proves between 1 and {MAX_STEPS} steps"));
        }
        Ok(ChainShape { steps, segment_steps })
    }
    pub fn segments(&self) -> u64 {
        self.steps.div_ceil(self.segment_steps as u64)
    }
    /// Steps before segment i.
    pub fn steps_before(&self, i: u64) -> u64 {
        i * self.segment_steps as u64
    }
    /// T of segment i.
    pub fn segment_len(&self, i: u64) -> u32 {
        (self.steps - self.steps_before(i)).min(self.segment_steps as u64) as u32
    }
    pub fn initial_weights(&self, i: u64) -> InitialWeights {
        match i {
            0 => InitialWeights::Checked,
            _ => InitialWeights::CarriedFromPreviousSegment { steps_before: self.steps_before(i) },
        }
    }
}

/// `zkdl prove --segment-steps K`: trains and proves the chain segment by segment, writes it to a
/// temporary directory renamed into place, keeps the last C_WT's blinds in `<DIR>.secrets`, and
/// verifies it from the files unless `--no-verify`.
pub fn prove(
    args: &ProveArgs,
    inputs: &RunInputs,
    mut pinned: Pinned,
    total_steps: u64,
    segment_steps: u32,
    visibility: Visibility,
    mode: Mode,
) -> Result<(), CliError> {
    let shape =
        ChainShape::new(total_steps, segment_steps).map_err(|e| CliError::input(format!("--segment-steps: {e}")))?;
    if visibility.public_final_weights {
        return Err(CliError::input(
            "--public-final-weights with --segment-steps: a segment's W_T is the next one's committed W_0, so \
             a chain's final weights are committed (open them with `zkdl weights open`)"
                .into(),
        ));
    }
    // The magnitude bounds of the whole chain must hold in the field before any work: the last
    // segment's plan is bounded at the chain's horizon N.
    let last = shape.segments() - 1;
    if last > 0 {
        zkdl_compiler::compile_segment(
            &inputs.spec,
            zkdl_compiler::CompileOptions { steps: shape.segment_len(last), visibility: later(visibility) },
            shape.initial_weights(last),
        )
        .map_err(|e| CliError::input(format!("a chain of {total_steps} steps of {}: {e}", inputs.spec.name)))?;
    }

    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.chain", inputs.spec.name.to_lowercase())));
    super::options::check_output_dir("--out", &out)?;
    if out.exists() && !out.join(MANIFEST).is_file() {
        return Err(CliError::input(format!(
            "{} exists and is not a proof chain: choose another --out",
            out.display()
        )));
    }
    let (secrets_path, replace_secrets) = match &args.secrets_out {
        Some(path) => (path.clone(), args.replace_secrets),
        None => (super::data::secrets_path(&out), args.replace_secrets || out.exists()),
    };
    if secrets_path.exists() && !replace_secrets {
        return Err(CliError::input(format!(
            "{} exists and holds the secrets of another run: choose another --secrets-out, or pass \
             --replace-secrets to discard them",
            secrets_path.display()
        )));
    }
    let show = !args.json;
    if show {
        say!(
            "proving {total_steps} steps of {} ({} parameters, batch {}) on {} as a chain of {} segments of {} steps",
            inputs.spec.name,
            inputs.spec.parameter_count(),
            inputs.spec.batch,
            inputs.data.name,
            shape.segments(),
            segment_steps
        );
        say!("{}", mode_line(mode));
    }

    let staging = staging_dir(&out)?;
    let result = prove_into(args, inputs, &mut pinned, shape, visibility, mode, &staging, show);
    let (blinds, final_weights, seconds, bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    replace_dir(&staging, &out)?;
    write_secret_file(&secrets_path, &blinds.to_bytes(SECRETS_MAGIC), replace_secrets)
        .map_err(|e| CliError::input(format!("cannot write the secrets file {}: {e}", secrets_path.display())))?;
    if let Some(path) = &args.weights_out {
        final_weights
            .save_with_normalization(path, &inputs.spec, total_steps, inputs.train.scaler.as_ref())
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    let verification = (!args.no_verify).then(|| {
        let started = Instant::now();
        let outcome = verify_chain(&out, None, None, !args.json);
        (outcome, started.elapsed().as_secs_f64())
    });
    if args.json {
        let doc = json!({
            "network": inputs.spec.name,
            "steps": total_steps,
            "segment_steps": segment_steps,
            "segments": shape.segments(),
            "mode": mode.label(),
            "chain": out,
            "secrets": secrets_path,
            "proof_bytes": bytes,
            "prover_seconds": seconds,
            "verifier_seconds": verification.as_ref().map(|v| v.1),
            "valid": verification.as_ref().map(|v| v.0.is_ok()),
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!(
            "proved {total_steps} steps in {} segments in {seconds:.2} s; chain {} ({bytes} bytes)",
            shape.segments(),
            out.display()
        );
        say!("secrets (the blinds of the last C_WT, for `zkdl weights open`): {}", secrets_path.display());
        if let Some((result, seconds)) = &verification {
            match result {
                Ok(_) => say!("verified in {seconds:.3} s: valid"),
                Err(e) => say!("verification FAILED in {seconds:.3} s: {}", e.message),
            }
        }
    }
    match verification {
        Some((Err(e), _)) => {
            Err(CliError { message: format!("the chain just written does not verify: {}", e.message), code: 1 })
        }
        _ => Ok(()),
    }
}

/// Data visibility of segment 0; W_0 carried (committed) and W_T committed in every later segment.
fn later(first: Visibility) -> Visibility {
    Visibility { public_data: first.public_data, public_initial_weights: false, public_final_weights: false }
}

/// Proves every segment into `dir`: returns the last C_WT's blinds, the final weights, the prover's
/// seconds (training included) and the bytes written.
#[allow(clippy::too_many_arguments)]
fn prove_into(
    args: &ProveArgs,
    inputs: &RunInputs,
    pinned: &mut Pinned,
    shape: ChainShape,
    visibility: Visibility,
    mode: Mode,
    dir: &Path,
    show: bool,
) -> Result<(FinalWeightsBlinds, zkdl_runtime::training::weights::FixedWeights, f64, u64), CliError> {
    let started = Instant::now();
    let multi = MultiProgress::new();
    let style = |t: &str| ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar());
    let (segments_bar, steps_bar) = if show {
        let s = multi.add(ProgressBar::new(shape.segments()));
        s.set_style(style("segments {bar:40} {pos}/{len}  {msg}"));
        let t = multi.add(ProgressBar::new(shape.steps));
        t.set_style(style("steps    {bar:40} {pos}/{len}  {per_sec}  eta {eta}"));
        (s, t)
    } else {
        (ProgressBar::hidden(), ProgressBar::hidden())
    };
    pinned.chain_progress = Some(ChainProgress { multi: multi.clone(), steps: steps_bar.clone() });
    let mut names = Vec::new();
    let mut bytes = 0u64;
    let mut last = None;
    for i in 0..shape.segments() {
        let steps = shape.segment_len(i);
        let segment_visibility = if i == 0 { visibility } else { later(visibility) };
        segments_bar.set_message(format!(
            "segment {i}: steps {}–{}",
            shape.steps_before(i),
            shape.steps_before(i) + steps as u64 - 1
        ));
        let proving = prove_training(
            inputs,
            steps,
            segment_visibility,
            args.run.seed.wrapping_add(2),
            show,
            mode,
            pinned,
            &mut Default::default(),
        )?;
        let name = segment_name(i);
        let path = dir.join(&name);
        proving.file.write(&path).map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
        bytes += proving.proof_bytes as u64;
        names.push(name);
        segments_bar.inc(1);
        if show {
            multi.suspend(|| {
                say!(
                    "segment {i}: steps {}–{}, proved in {:.2} s, {} bytes, final batch loss {:.4}",
                    shape.steps_before(i),
                    shape.steps_before(i) + steps as u64 - 1,
                    proving.prover_seconds(),
                    proving.proof_bytes,
                    proving.training.losses.last().copied().unwrap_or(f64::NAN)
                )
            });
        }
        // The published commitment of W_0 belongs to segment 0 only.
        pinned.initial_weights = None;
        let blinds = FinalWeightsBlinds::from_secrets(&proving.plan, &proving.file.public, &proving.secrets);
        let steps_through = shape.steps_before(i) + steps as u64;
        last = Some((blinds, proving.training.weights.clone()));
        pinned.previous = Some(PreviousSegment {
            plan: proving.plan,
            public: proving.file.public,
            secrets: proving.secrets,
            weights: proving.training.weights,
            steps_through,
        });
    }
    segments_bar.finish_and_clear();
    steps_bar.finish_and_clear();
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        network: inputs.spec.name.clone(),
        steps: shape.steps,
        segment_steps: shape.segment_steps,
        segments: names,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| CliError::input(e.to_string()))?;
    zkdl_runtime::files::write_atomically(&dir.join(MANIFEST), text.as_bytes())
        .map_err(|e| CliError::input(format!("cannot write the manifest in {}: {e}", dir.display())))?;
    let (blinds, weights) = last.ok_or_else(|| CliError::input("the chain has no segment".into()))?;
    let blinds = blinds.ok_or_else(|| CliError::input("the last segment has no C_WT".into()))?;
    Ok((blinds, weights, started.elapsed().as_secs_f64(), bytes))
}

/// A fresh directory beside `out` to write the chain into.
fn staging_dir(out: &Path) -> Result<PathBuf, CliError> {
    let parent = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "chain".into());
    let staging = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| CliError::input(format!("cannot create {}: {e}", staging.display())))?;
    Ok(staging)
}

/// Moves the finished chain into place, replacing an earlier chain at `out`.
fn replace_dir(staging: &Path, out: &Path) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::input(format!("cannot move the chain to {}: {e}", out.display()));
    if out.exists() {
        let old = staging.with_extension("old");
        std::fs::rename(out, &old).map_err(fail)?;
        std::fs::rename(staging, out).map_err(fail)?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    } else {
        std::fs::rename(staging, out).map_err(fail)
    }
}

/// Whether `path` is a chain directory (what `zkdl verify` and `zkdl weights open` check for).
pub fn is_chain(path: &Path) -> bool {
    path.is_dir()
}

/// Reads and checks the manifest of a chain directory: format, version, N, K and the segment names.
pub fn read_manifest(dir: &Path) -> Result<(Manifest, ChainShape), CliError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::input(format!("{}: not a proof chain: {e}", path.display())))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    if manifest.format != MANIFEST_FORMAT || manifest.version != MANIFEST_VERSION {
        return Err(CliError::input(format!(
            "{}: format {:?} version {}; this zkdl reads {MANIFEST_FORMAT:?} version {MANIFEST_VERSION}",
            path.display(),
            manifest.format,
            manifest.version
        )));
    }
    let shape = ChainShape::new(manifest.steps, manifest.segment_steps)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    if manifest.segments.len() as u64 != shape.segments() {
        return Err(CliError::input(format!(
            "{}: {} segments listed; {} steps in segments of {} are {} segments",
            path.display(),
            manifest.segments.len(),
            shape.steps,
            shape.segment_steps,
            shape.segments()
        )));
    }
    if let Some((i, name)) = manifest.segments.iter().enumerate().find(|(i, n)| **n != segment_name(*i as u64)) {
        return Err(CliError::input(format!(
            "{}: segment {i} is {name:?}; it must be {:?}",
            path.display(),
            segment_name(i as u64)
        )));
    }
    Ok((manifest, shape))
}

/// A failure of segment `i`: exit 2 for a broken chain, 1 for a proof that does not verify.
fn segment_error(i: u64, what: String, code: u8) -> CliError {
    CliError { message: format!("segment {i}: {what}"), code }
}

/// What a verified chain establishes, for the pins and the report.
pub struct VerifiedChain {
    pub shape: ChainShape,
    /// Segment 0's file and plan (its statement: data, initial weights).
    pub first: (ProofFile, Plan),
    /// The last segment's file and plan (its C_WT is the chain's).
    pub last: (ProofFile, Plan),
    /// The segments proven without zero-knowledge (`--no-zero-knowledge`).
    pub clear_segments: Vec<u64>,
    pub seconds: f64,
}

/// Checks every segment and link of the chain in `dir` (module docs). `dataset`, when given and the
/// chain draws from it, is linked in every segment. `network`, when given, must be the chain's.
pub fn verify_chain(
    dir: &Path,
    dataset: Option<&DatasetCommitment>,
    network: Option<&zkdl_compiler::NetworkSpec>,
    show: bool,
) -> Result<VerifiedChain, CliError> {
    let started = Instant::now();
    let (_, shape) = read_manifest(dir)?;
    let bar = if show { ProgressBar::new(shape.segments()) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("verifying segments {bar:40} {pos}/{len}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut first: Option<(ProofFile, Plan)> = None;
    let mut previous: Option<(ProofFile, Plan)> = None;
    let mut key: Option<CommitmentKey> = None;
    let mut clear_segments = Vec::new();
    // Segments whose plans and links are checked, waiting for their proofs to be verified.
    let mut pending = Vec::new();
    let window = std::thread::available_parallelism().map_or(1, |n| n.get());
    for i in 0..shape.segments() {
        let path = dir.join(segment_name(i));
        let (file, plan) = ProofFile::read(&path).map_err(|e| match e {
            e @ zkdl_runtime::proof::file::ProofFileError::Io { .. } => segment_error(i, e.to_string(), 2),
            e => segment_error(i, format!("{}: {e}", path.display()), 2),
        })?;
        // The plan the chain requires here, against the proof's own statement.
        let expected_steps = shape.segment_len(i);
        if file.steps != expected_steps {
            return Err(segment_error(
                i,
                format!("the proof is of {} steps; segment {i} of this chain has {expected_steps}", file.steps),
                2,
            ));
        }
        let expected_initial = shape.initial_weights(i);
        if file.initial_weights != expected_initial {
            let says = |w: InitialWeights| match w {
                InitialWeights::Checked => "a range-checked W_0 (a chain's first segment)".to_string(),
                InitialWeights::CarriedFromPreviousSegment { steps_before } => {
                    format!("W_0 carried from a segment, starting at chain step {steps_before}")
                }
            };
            return Err(segment_error(
                i,
                format!(
                    "the proof has {}; segment {i} must have {}",
                    says(file.initial_weights),
                    says(expected_initial)
                ),
                2,
            ));
        }
        if let Some(spec) = network.filter(|s| **s != file.spec) {
            return Err(segment_error(i, format!("the proof is of network {}, not {}", file.spec.name, spec.name), 1));
        }
        if let Some((f0, _)) = &first {
            if file.spec != f0.spec {
                return Err(segment_error(
                    i,
                    format!("the proof is of network {}, segment 0 of {}", file.spec.name, f0.spec.name),
                    2,
                ));
            }
            if file.visibility != later(f0.visibility) {
                return Err(segment_error(
                    i,
                    format!(
                        "the proof's visibility {:?} is not the chain's ({:?}: data as segment 0, W_0 and W_T committed)",
                        file.visibility,
                        later(f0.visibility)
                    ),
                    2,
                ));
            }
            if file.public.dataset != f0.public.dataset {
                return Err(segment_error(
                    i,
                    "the proof draws its batches from another dataset or sampling rule than segment 0".into(),
                    2,
                ));
            }
        } else if file.visibility.public_final_weights && shape.segments() > 1 {
            return Err(segment_error(i, "the proof's W_T is public, not the next segment's committed W_0".into(), 2));
        }
        if let Some((pf, pp)) = &previous {
            check_chain_link(pp, &pf.public, &plan, &file.public)
                .map_err(|e| segment_error(i, format!("broken link to segment {}: {e}", i - 1), 2))?;
        }
        // The proof itself: verified with the next few segments' proofs, in parallel.
        let wanted = key_log_cols(&plan);
        if key.as_ref().is_none_or(|k| k.max_log_cols() != wanted) {
            key = Some(CommitmentKey::cached(wanted));
        }
        if file.body.mode() == Mode::Clear {
            clear_segments.push(i);
        }
        if first.is_none() {
            first = Some((file.clone(), plan.clone()));
        }
        pending.push((i, file.clone(), plan.clone()));
        if pending.len() >= window || i + 1 == shape.segments() {
            let batch = std::mem::take(&mut pending);
            verify_segments(&batch, key.as_ref(), dataset)?;
            bar.inc(batch.len() as u64);
        }
        previous = Some((file, plan));
    }
    bar.finish_and_clear();
    let (Some(first), Some(last)) = (first, previous) else {
        return Err(CliError::input(format!("{}: the chain has no segment", dir.display())));
    };
    Ok(VerifiedChain { shape, first, last, clear_segments, seconds: started.elapsed().as_secs_f64() })
}

/// Verifies the proofs of `segments` (plans and links already checked) in parallel; the error of the
/// first segment that fails.
fn verify_segments(
    segments: &[(u64, ProofFile, Plan)],
    key: Option<&CommitmentKey>,
    dataset: Option<&DatasetCommitment>,
) -> Result<(), CliError> {
    let failures: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = segments
            .iter()
            .map(|(i, file, plan)| {
                scope.spawn(move || {
                    let linked =
                        dataset.filter(|d| file.public.dataset.as_ref().is_some_and(|s| s.digest == d.digest()));
                    verify_file(file, plan, key, linked).0.err().map(|e| (*i, e))
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(segments)
            .filter_map(|(h, (i, _, _))| h.join().unwrap_or_else(|_| Some((*i, "the verifier panicked".into()))))
            .collect()
    });
    match failures.into_iter().min_by_key(|(i, _)| *i) {
        Some((i, e)) => Err(segment_error(i, format!("the proof does not verify: {e}"), 1)),
        None => Ok(()),
    }
}

/// `zkdl verify DIR`: the chain's links and proofs, then the pins (initial weights and data on
/// segment 0, final weights on the last segment).
pub fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let network = args.network.as_deref().map(super::options::load_network).transpose()?;
    let dataset = match &args.dataset {
        Some(path) => Some(DatasetCommitment::read(path).map_err(|e| CliError::input(format!("--dataset: {e}")))?),
        None => None,
    };
    let chain = verify_chain(&args.proof, dataset.as_ref(), network.as_ref(), !args.json)?;
    let (first, first_plan) = &chain.first;
    let (last, last_plan) = &chain.last;
    let mut pins = super::verify::check_pins(args, first, first_plan, dataset.as_ref(), true, false)?;
    pins.extend(super::verify::check_pins(args, last, last_plan, dataset.as_ref(), false, true)?);
    let mode = if chain.clear_segments.is_empty() { Mode::ZeroKnowledge } else { Mode::Clear };
    let mut warnings: Vec<String> = Vec::new();
    if !chain.clear_segments.is_empty() {
        warnings.push(format!("{} (segments {:?})", super::verify::NOT_ZERO_KNOWLEDGE_WARNING, chain.clear_segments));
    }
    warnings.extend(super::verify::unpinned_warnings(args, first));
    let shape = chain.shape;
    let statement =
        super::verify::statement_summary(first.visibility, first.initial_seed, first.public.dataset.as_ref());
    let valid = pins.iter().all(|p| p.matched.is_ok());
    if args.json {
        let doc = json!({
            "chain": args.proof,
            "network": first.spec,
            "steps": shape.steps,
            "segment_steps": shape.segment_steps,
            "segments": shape.segments(),
            "mode": mode.label(),
            "statement": statement,
            "pins": super::verify::pins_json(&pins),
            "warnings": warnings,
            "valid": valid,
            "seconds": chain.seconds,
        });
        super::verify::say_json_report(&doc, &warnings)?;
    } else {
        say!(
            "chain {}: {} steps of SGD of network {} ({} parameters, batch {}) in {} segments of {} steps",
            args.proof.display(),
            shape.steps,
            first.spec.name,
            first.spec.parameter_count(),
            first.spec.batch,
            shape.segments(),
            shape.segment_steps
        );
        say!("statement: {statement}");
        say!("proof mode: {}", mode.label());
        say!(
            "every link checked: segment i + 1 starts from segment i's C_WT; W_0 checked in segment 0 only; \
             magnitudes bounded to step {} (plan of the last segment: {})",
            shape.steps,
            &last_plan.digest_hex()[..16]
        );
        super::verify::say_pins_and_warnings(&pins, &warnings);
        match pins.iter().find(|p| p.matched.is_err()) {
            None => say!("valid ({:.3} s)", chain.seconds),
            Some(pin) => say!("INVALID: the chain verifies, but its {} are not the ones pinned", pin.name),
        }
    }
    super::verify::pin_failure(&pins)
}

/// The last segment of a chain directory (whose C_WT `zkdl weights open` opens).
pub fn last_segment(dir: &Path) -> Result<PathBuf, CliError> {
    let (manifest, _) = read_manifest(dir)?;
    let name = manifest.segments.last().ok_or_else(|| CliError::input(format!("{}: no segment", dir.display())))?;
    Ok(dir.join(name))
}
