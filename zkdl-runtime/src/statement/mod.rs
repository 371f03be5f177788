//! What a proof's statement pins down from outside the proof ([`dataset`]: a committed training set): initial weights regenerated from a seed,
//! and the final weights opened to the model a verifier actually receives (`docs/statement.md`).
//!
//! **Initial weights from a seed.** W_0 public, and not sent at all: the statement carries the scheme
//! and the seed `S` ([`SeededInit`]) and the verifier regenerates `W_0 = PyTorch(S)` or `He(S)`
//! ([`FixedWeights::init`]), lays it out as the plan's stacked W_0 tensors ([`weight_stack_values`])
//! and checks every claim on W_0 against those values. The values it uses are its own, so a prover
//! cannot start anywhere but the seeded weights the statement names.
//!
//! **Final weights opened.** C_WT is a Hyrax row commitment `C_i = Σ_j W_T[i][j]·g_j + β_i·h` per
//! stacked W_T tensor. The run's secrets file keeps the blinds `β_i`; an *opening* hands them to an
//! auditor, who recomputes every `C_i` from the weights file and the blinds and compares
//! ([`check_final_weights`]). Pedersen binding (discrete log in G1) makes that a proof that the
//! weights file is what C_WT commits to: two different W_T opening to one `C_i` would give a
//! discrete-log relation among the hash-to-curve generators. The opening reveals W_T — which the
//! auditor holds anyway — and nothing of the other commitments (their blinds are independent). An
//! opening names the C_WT it opens by SHA-256, so it cannot be replayed against another proof.
//!
//! **Final weights public.** With `public_final_weights` W_T is in the statement in the clear (the
//! plan's W_T stacks are `Public`): there is no C_WT, so nothing to open ([`final_weights_digest`]
//! and [`FinalWeightsBlinds::from_secrets`] give `None`), and a weights file is checked against the
//! public values entry by entry ([`check_public_final_weights`]). The verifier range-checks them and
//! checks U1's claims on W_T by evaluating them, as for public W_0.
//!
//! **Files.** A secrets file is created with mode 0600 and never replaces an existing file unless
//! asked to ([`write_secret_file`]); every file is written to a temporary name and renamed.

pub mod dataset;
mod public;

pub(crate) use public::small_value_digests;
pub use public::{public_value_digests, PublicInputs, PublicValues, StatementSecrets, PUBLIC_DIGEST_CHUNK};

use std::io::Write;
use std::path::Path;

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use sha2::{Digest, Sha256};
use zkdl_compiler::plan::{StackRole, StackedTensor, Storage};
use zkdl_compiler::Plan;

use crate::crypto::commitment::{CommitmentBlinds, CommitmentKey, TensorCommitment};
use crate::crypto::serialization::{decode, encode};
use crate::crypto::tensor::PARALLEL_MIN;
use crate::files::hex;
use crate::training::integers::IntVec;
use crate::training::weights::{FixedWeights, SeededInit, WeightsError};
use crate::Fr;
use rayon::prelude::*;

/// The stacked W_0 or W_T tensor `tensor` of `plan` filled from `weights`: entry
/// (layer slot, row, col) is W^l[row][col] of the slot's layer, zero in padding. For a stacked β_0
/// or β_T (one row per slot) it is β^l[col].
///
/// Built in parallel, each entry written once (no zeroed table filled afterwards).
pub fn weight_stack_values(tensor: &StackedTensor, weights: &FixedWeights) -> Vec<Fr> {
    let stack = StackEntries::new(tensor, weights);
    let mut values = Vec::with_capacity(stack.len());
    values.par_extend((0..stack.len()).into_par_iter().with_min_len(PARALLEL_MIN).map(|i| Fr::from(stack.entry(i))));
    values
}

/// [`weight_stack_values`] as 64-bit integers, if every entry is one.
pub fn weight_stack_integers(tensor: &StackedTensor, weights: &FixedWeights) -> Option<Vec<i64>> {
    let stack = StackEntries::new(tensor, weights);
    (0..stack.len()).into_par_iter().with_min_len(PARALLEL_MIN).map(|i| i64::try_from(stack.entry(i)).ok()).collect()
}

/// The entries of a stacked parameter tensor, read from the layers of `weights`.
struct StackEntries<'a> {
    layout: zkdl_compiler::plan::IndexLayout,
    /// Each slot's layer as (its values, its column count), or `None` for a padding slot.
    slots: Vec<Option<(&'a IntVec, usize)>>,
}

impl<'a> StackEntries<'a> {
    fn new(tensor: &StackedTensor, weights: &'a FixedWeights) -> Self {
        let bias = is_bias_stack(tensor);
        let slots = tensor
            .layers
            .iter()
            .map(|&layer| {
                let i = (layer as usize).checked_sub(1)?;
                let values = match bias {
                    true => weights.biases.get(i)?.as_ref()?,
                    false => weights.layers.get(i)?,
                };
                Some((values, weights.shapes.get(i)?.1))
            })
            .collect();
        Self { layout: tensor.layout, slots }
    }

    fn len(&self) -> usize {
        1usize << self.layout.num_vars()
    }

    /// Entry `i` (slot, row, col): the slot's layer's `[row][col]`, zero in padding.
    fn entry(&self, i: usize) -> i128 {
        let l = self.layout;
        let (slot, row, col) =
            (i >> (l.row_bits + l.col_bits), (i >> l.col_bits) & ((1 << l.row_bits) - 1), i & ((1 << l.col_bits) - 1));
        match self.slots.get(slot).copied().flatten() {
            Some((w, cols)) if col < cols && row * cols + col < w.len() => w.get(row * cols + col),
            _ => 0,
        }
    }
}

/// The stacked tensors of the plan whose role is one of `kind` (the initial parameters W_0 and β_0,
/// or the final W_T and β_T: [`StackRole::is_initial`], [`StackRole::is_final`]).
fn stacks(plan: &Plan, kind: fn(&StackRole) -> bool) -> impl Iterator<Item = &StackedTensor> {
    plan.tensors.iter().filter(move |t| kind(&t.role))
}

/// Whether a stacked parameter tensor holds biases (β_0, β_T, β) rather than weights.
pub fn is_bias_stack(t: &StackedTensor) -> bool {
    matches!(t.role, StackRole::InitialBias | StackRole::FinalBias | StackRole::Tensor(zkdl_compiler::Role::Bias))
}

/// Whether two stacked parameter tensors hold the same parameters (weights or biases of the same
/// layers) at two points of a run: a W_T and the next segment's W_0, say.
fn same_parameters(a: &StackedTensor, b: &StackedTensor) -> bool {
    a.layers == b.layers && is_bias_stack(a) == is_bias_stack(b)
}

/// The public values of the plan's stacked W_0 tensors for the seeded initialization `seeded`.
/// As integers where every weight fits 64 bits (W_0 is within S_W + 2 bits), which the verifier
/// range-checks, hashes and evaluates without converting them.
pub fn seeded_initial_weights(plan: &Plan, seeded: SeededInit) -> Result<Vec<(u32, PublicValues)>, WeightsError> {
    let weights = seeded.weights(&plan.spec)?;
    Ok(stacks(plan, StackRole::is_initial)
        .map(|t| {
            let values = match weight_stack_integers(t, &weights) {
                Some(small) => PublicValues::Small(small),
                None => PublicValues::Field(weight_stack_values(t, &weights)),
            };
            (t.id.0, values)
        })
        .collect())
}

/// SHA-256 of the statement's commitments to W_T (every stacked W_T tensor, in tensor order): the
/// name of C_WT in openings and secrets files. `None` when the statement has no C_WT (public final
/// weights, or a commitment missing).
pub fn final_weights_digest(plan: &Plan, public: &PublicInputs) -> Option<[u8; 32]> {
    if plan.visibility.public_final_weights {
        return None;
    }
    let mut hasher = Sha256::new();
    let mut any = false;
    for t in stacks(plan, StackRole::is_final) {
        hasher.update(encode(public.commitment(t.id.0)?));
        any = true;
    }
    any.then(|| hasher.finalize().into())
}

/// SHA-256 of a commitment's encoding.
pub fn commitment_digest(commitment: &TensorCommitment) -> [u8; 32] {
    Sha256::digest(encode(commitment)).into()
}

/// The magic bytes of a run's secrets file.
pub const SECRETS_MAGIC: &[u8; 8] = b"ZKDLSEC\0";
/// The magic bytes of an opening of C_WT.
pub const OPENING_MAGIC: &[u8; 8] = b"ZKDLOPN\0";
/// The version of both layouts.
pub const STATEMENT_FILE_VERSION: u32 = 2;

/// The blinds of C_WT, for the commitment named by `final_weights`. A run's secrets file holds
/// them; an opening is the same content handed to an auditor.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct FinalWeightsBlinds {
    /// [`final_weights_digest`] of the proof these blinds belong to.
    pub final_weights: [u8; 32],
    /// The row blinds of each stacked W_T tensor, by tensor id.
    pub blinds: Vec<(u32, CommitmentBlinds)>,
}

impl FinalWeightsBlinds {
    /// The blinds of C_WT from the prover's statement secrets; `None` without a C_WT (public final
    /// weights: there is nothing to open).
    pub fn from_secrets(plan: &Plan, public: &PublicInputs, secrets: &StatementSecrets) -> Option<FinalWeightsBlinds> {
        let final_weights = final_weights_digest(plan, public)?;
        let blinds = stacks(plan, StackRole::is_final)
            .map(|t| Some((t.id.0, secrets.blinds(t.id.0)?.clone())))
            .collect::<Option<Vec<_>>>()?;
        Some(FinalWeightsBlinds { final_weights, blinds })
    }

    /// The file bytes: magic, version, then the content (ark-serialize).
    pub fn to_bytes(&self, magic: &[u8; 8]) -> Vec<u8> {
        file_bytes(magic, self)
    }

    /// Decodes a file of the kind `magic` names (`what` says which, for errors).
    pub fn from_bytes(bytes: &[u8], magic: &[u8; 8], what: &str) -> Result<FinalWeightsBlinds, StatementError> {
        from_file_bytes(bytes, magic, what)
    }
}

/// Why a statement file or pin could not be used (bad input) or does not match (an invalid pin).
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

/// Checks that `weights` are what the proof's C_WT commits to, given the opening's blinds: every row
/// commitment of every stacked W_T tensor is recomputed and compared. `Mismatch` names the first
/// tensor and row that differ; `Format` is an opening for another proof or of the wrong shape.
pub fn check_final_weights(
    plan: &Plan,
    public: &PublicInputs,
    key: &CommitmentKey,
    weights: &FixedWeights,
    opening: &FinalWeightsBlinds,
) -> Result<(), StatementError> {
    let digest = final_weights_digest(plan, public)
        .ok_or_else(|| StatementError::Format("the proof has no commitment to W_T to open".into()))?;
    if digest != opening.final_weights {
        return Err(StatementError::Format(format!(
            "the opening is for another proof: it opens C_WT {}…, this proof's C_WT is {}…",
            hex(&opening.final_weights[..8]),
            hex(&digest[..8])
        )));
    }
    for t in stacks(plan, StackRole::is_final) {
        let Storage::Committed { col_vars, .. } = t.storage else { continue };
        let commitment = public
            .commitment(t.id.0)
            .ok_or_else(|| StatementError::Format(format!("the proof has no commitment to {}", t.name())))?;
        let blinds = opening
            .blinds
            .iter()
            .find(|(id, _)| *id == t.id.0)
            .map(|(_, b)| b)
            .filter(|b| b.values().len() == commitment.rows.len())
            .ok_or_else(|| StatementError::Format(format!("the opening has no blinds for the rows of {}", t.name())))?;
        let values = weight_stack_values(t, weights);
        let recomputed = key.commit_with_blinds(&values[..], col_vars, blinds);
        if let Some(row) = recomputed.rows.iter().zip(&commitment.rows).position(|(a, b)| a != b) {
            return Err(StatementError::Mismatch(format!(
                "the weights are not what C_WT commits to: row {row} of {} differs (layers {:?})",
                t.name(),
                t.layers
            )));
        }
    }
    Ok(())
}

/// Checks public final weights (`--public-final-weights`) against a weights file: every entry of
/// every stacked W_T tensor (padding included) equals the statement's public value. `Format` is a
/// proof without public W_T or weights of another network's shapes; `Mismatch` names the first
/// entry that differs.
pub fn check_public_final_weights(
    plan: &Plan,
    public: &PublicInputs,
    weights: &FixedWeights,
) -> Result<(), StatementError> {
    if !plan.visibility.public_final_weights {
        return Err(StatementError::Format(
            "the proof commits to W_T (C_WT): its final weights are not public; check them with an opening".into(),
        ));
    }
    let shapes = crate::training::weights::layer_shapes(&plan.spec);
    let sized = weights.layers.iter().zip(&shapes).all(|(w, (rows, cols))| w.len() == rows * cols);
    if weights.shapes != shapes || weights.layers.len() != shapes.len() || !sized {
        return Err(StatementError::Format(format!(
            "the weights have layer shapes {:?}; the proof's network has {shapes:?}",
            weights.shapes
        )));
    }
    for t in stacks(plan, StackRole::is_final) {
        let values = public
            .values(t.id.0)
            .ok_or_else(|| StatementError::Format(format!("the proof has no public values for {}", t.name())))?;
        let expected = weight_stack_values(t, weights);
        if expected.len() != values.len() {
            return Err(StatementError::Format(format!(
                "the proof has {} public values for {}, its plan {}",
                values.len(),
                t.name(),
                expected.len()
            )));
        }
        if let Some(i) = expected.iter().zip(values.field().iter()).position(|(a, b)| a != b) {
            let l = t.layout;
            let (slot, row, col) = (
                i >> (l.row_bits + l.col_bits),
                (i >> l.col_bits) & ((1 << l.row_bits) - 1),
                i & ((1 << l.col_bits) - 1),
            );
            let place = match t.layers.get(slot) {
                Some(layer) => format!("layer {layer}, entry ({row}, {col})"),
                None => format!("padding slot {slot}, entry ({row}, {col})"),
            };
            return Err(StatementError::Mismatch(format!(
                "the weights differ from the public W_T of the proof: {place} ({} entry {i})",
                t.name()
            )));
        }
    }
    Ok(())
}

/// SHA-256 of a file's bytes (a weights file named in a statement or a report).
pub fn safetensors_sha256(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// Writes a file that holds secrets: created with mode 0600 (owner only) under a temporary name,
/// flushed, then moved into place — without replacing an existing file unless `replace`.
pub fn write_secret_file(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    let dir = crate::files::parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "secrets".into());
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if replace {
            std::fs::rename(&temporary, path)
        } else {
            // A hard link fails if the target exists: no check-then-write race.
            std::fs::hard_link(&temporary, path)?;
            std::fs::remove_file(&temporary)
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The magic bytes of an initial-weights commitment (`.zkdw`) and of its secrets file.
pub const WEIGHTS_MAGIC: &[u8; 8] = b"ZKDLWGT\0";
pub const WEIGHTS_SECRETS_MAGIC: &[u8; 8] = b"ZKDLWSC\0";

/// Initial weights committed before training (`zkdl weights commit`): the plan's stacked W_0
/// tensors committed exactly as a proof's C_W0 commits them. W_0's layout depends on the spec alone,
/// so the commitment fits a run of any length; a proof that uses it carries it as its C_W0, and a
/// verifier pinning it compares the two (Pedersen binding makes the weights the published ones).
/// Stacks are named by their layers, not by tensor ids.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct InitialWeightsCommitment {
    /// The network's spec as JSON.
    pub spec: Vec<u8>,
    /// ((whether the stack holds biases β_0, the layers of the W_0 or β_0 stack), its commitment).
    pub stacks: Vec<((bool, Vec<u32>), TensorCommitment)>,
}

/// The blinds of an [`InitialWeightsCommitment`], stack by stack in the same order.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct InitialWeightsSecrets {
    /// The digest of the commitment these blinds belong to.
    pub commitment: Vec<u8>,
    pub blinds: Vec<CommitmentBlinds>,
}

/// A statement file's bytes: 8 magic bytes, the version (u32 LE), the content (ark-serialize).
pub(crate) fn file_bytes<T: CanonicalSerialize>(magic: &[u8; 8], value: &T) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(&STATEMENT_FILE_VERSION.to_le_bytes());
    bytes.extend_from_slice(&encode(value));
    bytes
}

/// Decodes [`file_bytes`] of the kind `magic` names (`what` says which, for errors).
pub(crate) fn from_file_bytes<T: CanonicalDeserialize>(
    bytes: &[u8],
    magic: &[u8; 8],
    what: &str,
) -> Result<T, StatementError> {
    if bytes.len() < 12 || &bytes[..8] != magic {
        return Err(StatementError::Format(format!("byte 0: not a zkdl {what} (bad magic bytes)")));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != STATEMENT_FILE_VERSION {
        return Err(StatementError::Format(format!(
            "byte 8: {what} version {version}; this zkdl reads version {STATEMENT_FILE_VERSION}"
        )));
    }
    decode(&bytes[12..]).map_err(|e| StatementError::Format(format!("the {what} (from byte 12): {e}")))
}

impl InitialWeightsCommitment {
    /// Commits `weights` as the W_0 stacks of `plan` (any T) with fresh blinds.
    pub fn commit<R: rand::RngCore + rand::CryptoRng>(
        plan: &Plan,
        key: &CommitmentKey,
        weights: &FixedWeights,
        rng: &mut R,
    ) -> Result<(InitialWeightsCommitment, InitialWeightsSecrets), StatementError> {
        let mut stacks_out = Vec::new();
        let mut blinds_out = Vec::new();
        for t in stacks(plan, StackRole::is_initial) {
            let Storage::Committed { col_vars, .. } = t.storage else {
                return Err(StatementError::Format("the plan's initial weights are not committed".into()));
            };
            let (commitment, blinds) = key.commit(&weight_stack_values(t, weights)[..], col_vars, rng);
            stacks_out.push(((is_bias_stack(t), t.layers.clone()), commitment));
            blinds_out.push(blinds);
        }
        let spec = serde_json::to_vec(&plan.spec).map_err(|e| StatementError::Format(e.to_string()))?;
        let commitment = InitialWeightsCommitment { spec, stacks: stacks_out };
        let secrets = InitialWeightsSecrets { commitment: commitment.digest().to_vec(), blinds: blinds_out };
        Ok((commitment, secrets))
    }

    /// SHA-256 of the file bytes.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        file_bytes(WEIGHTS_MAGIC, self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<InitialWeightsCommitment, StatementError> {
        from_file_bytes(bytes, WEIGHTS_MAGIC, "initial-weights commitment")
    }

    /// The commitment of the W_0 (or β_0) stack of `t`'s layers.
    fn stack(&self, t: &StackedTensor) -> Option<(usize, &TensorCommitment)> {
        let key = (is_bias_stack(t), t.layers.clone());
        self.stacks.iter().enumerate().find(|(_, (k, _))| *k == key).map(|(i, (_, c))| (i, c))
    }

    /// Makes the statement's C_W0 this commitment: checks that `weights` open it with `secrets`, then
    /// puts the published commitments and their blinds in place of the run's own.
    pub fn apply(
        &self,
        plan: &Plan,
        key: &CommitmentKey,
        weights: &FixedWeights,
        secrets: &InitialWeightsSecrets,
        public: &mut PublicInputs,
        statement_secrets: &mut StatementSecrets,
    ) -> Result<(), StatementError> {
        if secrets.commitment != self.digest() {
            return Err(StatementError::Format(
                "the secrets file belongs to another initial-weights commitment".into(),
            ));
        }
        for t in stacks(plan, StackRole::is_initial) {
            let Storage::Committed { col_vars, .. } = t.storage else {
                return Err(StatementError::Format("the run's initial weights are public, not committed".into()));
            };
            let (i, published) = self.stack(t).ok_or_else(|| {
                StatementError::Format(format!("the commitment has no W_0 of layers {:?}: another network", t.layers))
            })?;
            let blinds = secrets
                .blinds
                .get(i)
                .filter(|b| b.values().len() == published.rows.len())
                .ok_or_else(|| StatementError::Format("the secrets file has no blinds for every row".into()))?;
            let values = weight_stack_values(t, weights);
            if published.log_cols != col_vars || key.commit_with_blinds(&values[..], col_vars, blinds) != *published {
                return Err(StatementError::Format(format!(
                    "the initial weights are not what the commitment commits to (W_0 of layers {:?})",
                    t.layers
                )));
            }
            for (id, commitment) in public.commitments.iter_mut() {
                if *id == t.id.0 {
                    *commitment = published.clone();
                }
            }
            statement_secrets.set_blinds(t.id.0, blinds.clone());
        }
        Ok(())
    }

    /// Whether the proof's C_W0 is this commitment (the pin `--initial-weights NAME.zkdw`).
    pub fn check_pin(&self, plan: &Plan, public: &PublicInputs) -> Result<(), String> {
        let mut any = false;
        for t in stacks(plan, StackRole::is_initial) {
            let Some(proof_commitment) = public.commitment(t.id.0) else {
                return Err("the proof's initial weights are not committed".into());
            };
            match self.stack(t) {
                Some((_, c)) if c == proof_commitment => any = true,
                Some(_) => return Err(format!("the proof's C_W0 of layers {:?} is not the published one", t.layers)),
                None => return Err(format!("the published commitment has no W_0 of layers {:?}", t.layers)),
            }
        }
        if any {
            Ok(())
        } else {
            Err("the proof has no committed initial weights".into())
        }
    }
}

impl InitialWeightsSecrets {
    pub fn to_bytes(&self) -> Vec<u8> {
        file_bytes(WEIGHTS_SECRETS_MAGIC, self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<InitialWeightsSecrets, StatementError> {
        from_file_bytes(bytes, WEIGHTS_SECRETS_MAGIC, "initial-weights secrets file")
    }
}

/// The SHA-256 of the weights file of a proof's public final weights as [`FixedWeights::save`]
/// writes it with `steps_trained` = T and no normalization record: what `zkdl verify` prints, so
/// that anyone can name the model. (`zkdl prove --weights-out` also records how the training data
/// was normalized, which the proof does not cover; such a file is checked with
/// `zkdl verify --final-weights FILE`, which compares the weights themselves.)
pub fn public_final_weights_sha256(plan: &Plan, public: &PublicInputs) -> Result<[u8; 32], StatementError> {
    use ark_ff::{BigInteger, PrimeField};
    let shapes = crate::training::weights::layer_shapes(&plan.spec);
    // Layer `layer`'s `rows × cols` entries of the public W_T (or β_T) stack that holds them.
    let entries = |layer: u32, bias: bool, rows: usize, cols: usize| -> Result<IntVec, StatementError> {
        let what = if bias { "β_T" } else { "W_T" };
        let t = stacks(plan, StackRole::is_final)
            .find(|t| t.layers.contains(&layer) && is_bias_stack(t) == bias)
            .ok_or_else(|| StatementError::Format(format!("the plan has no {what} of layer {layer}")))?;
        let values = public
            .values(t.id.0)
            .ok_or_else(|| StatementError::Format(format!("the proof has no public values for {}", t.name())))?;
        let slot = t.layers.iter().position(|&x| x == layer).unwrap_or(0);
        let l_bits = t.layout;
        let mut exact = Vec::with_capacity(rows * cols);
        for row in 0..rows {
            for col in 0..cols {
                let index = (((slot << l_bits.row_bits) | row) << l_bits.col_bits) | col;
                let v = values.get(index).unwrap_or_default();
                let (negative, magnitude) =
                    if v.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO { (true, -v) } else { (false, v) };
                let m = magnitude.into_bigint();
                if m.num_bits() > 126 {
                    return Err(StatementError::Format(format!(
                        "a public {what} entry of layer {layer} exceeds 2^126"
                    )));
                }
                let m = i128::from(m.as_ref()[0]) | (i128::from(m.as_ref()[1]) << 64);
                exact.push(if negative { -m } else { m });
            }
        }
        Ok(IntVec::from_i128(&exact))
    };
    let mut layers = Vec::with_capacity(shapes.len());
    let mut biases = Vec::with_capacity(shapes.len());
    for ((l, &(rows, cols)), bias) in shapes.iter().enumerate().zip(plan.spec.biases()) {
        layers.push(entries(l as u32 + 1, false, rows, cols)?);
        biases.push(bias.then(|| entries(l as u32 + 1, true, 1, cols)).transpose()?);
    }
    let weights = FixedWeights { scale_bits: plan.params.weight_scale_bits, shapes, layers, biases };
    let bytes = weights.safetensors_bytes(Path::new("the public W_T"), &plan.spec, u64::from(plan.steps))?;
    Ok(Sha256::digest(bytes).into())
}

/// Makes a chain segment's C_W0 the previous segment's C_WT (`docs/chains.md`): for every stacked W_0
/// tensor of `plan`, the W_T tensor of `previous` holding the same layers, with the same layout; its
/// commitment and blinds replace the run's own, after checking that `weights` (this segment's W_0)
/// open it. Errors are the prover's own inconsistencies (another chain's secrets, other layouts).
#[allow(clippy::too_many_arguments)]
pub fn carry_final_weights(
    previous: &Plan,
    previous_public: &PublicInputs,
    previous_secrets: &StatementSecrets,
    plan: &Plan,
    key: &CommitmentKey,
    weights: &FixedWeights,
    public: &mut PublicInputs,
    secrets: &mut StatementSecrets,
) -> Result<(), StatementError> {
    let format = |m: String| StatementError::Format(m);
    for t in stacks(plan, StackRole::is_initial) {
        let Storage::Committed { col_vars, row_vars, .. } = t.storage else {
            return Err(format("a carried W_0 must be committed".into()));
        };
        let before = stacks(previous, StackRole::is_final)
            .find(|p| same_parameters(p, t))
            .ok_or_else(|| format(format!("the previous segment has no W_T of layers {:?}", t.layers)))?;
        match before.storage {
            Storage::Committed { col_vars: c, row_vars: r, .. } if (c, r) == (col_vars, row_vars) => {}
            _ => {
                return Err(format(format!(
                    "W_T of layers {:?} of the previous segment is not committed in the layout of this W_0",
                    t.layers
                )))
            }
        }
        let commitment = previous_public
            .commitment(before.id.0)
            .ok_or_else(|| format(format!("the previous segment has no commitment to {}", before.name())))?;
        let blinds = previous_secrets
            .blinds(before.id.0)
            .ok_or_else(|| format(format!("the previous segment's secrets hold no blinds of {}", before.name())))?;
        let values = weight_stack_values(t, weights);
        if key.commit_with_blinds(&values[..], col_vars, blinds) != *commitment {
            return Err(format(format!(
                "the weights carried into this segment are not the previous segment's W_T (layers {:?})",
                t.layers
            )));
        }
        for (id, c) in public.commitments.iter_mut() {
            if *id == t.id.0 {
                *c = commitment.clone();
            }
        }
        secrets.set_blinds(t.id.0, blinds.clone());
    }
    Ok(())
}

/// Whether a chain segment's C_W0 is the previous segment's C_WT: every stacked W_0 tensor of `plan`
/// has the encoding, byte for byte, of the W_T tensor of `previous` holding the same layers, and
/// every W_T tensor of `previous` is carried. `Err` says which stack differs.
pub fn check_chain_link(
    previous: &Plan,
    previous_public: &PublicInputs,
    plan: &Plan,
    public: &PublicInputs,
) -> Result<(), String> {
    if plan.initial_weights.is_checked() {
        return Err("its W_0 is range-checked as a chain's first segment's, not carried from a segment".into());
    }
    let finals: Vec<&StackedTensor> = stacks(previous, StackRole::is_final).collect();
    let initials: Vec<&StackedTensor> = stacks(plan, StackRole::is_initial).collect();
    if finals.len() != initials.len() || finals.is_empty() {
        return Err(format!("{} W_0 stacks, the previous segment {} W_T stacks", initials.len(), finals.len()));
    }
    for t in initials {
        let before = finals
            .iter()
            .find(|p| same_parameters(p, t))
            .ok_or_else(|| format!("the previous segment has no W_T of layers {:?}", t.layers))?;
        let (Some(now), Some(then)) = (public.commitment(t.id.0), previous_public.commitment(before.id.0)) else {
            return Err(format!("C_W0 or the previous C_WT of layers {:?} is missing", t.layers));
        };
        if encode(now) != encode(then) {
            return Err(format!(
                "its C_W0 of layers {:?} (sha256 {}…) is not the previous segment's C_WT (sha256 {}…)",
                t.layers,
                hex(&commitment_digest(now)[..8]),
                hex(&commitment_digest(then)[..8])
            ));
        }
    }
    Ok(())
}
