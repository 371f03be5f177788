//! The batches are rows of the committed dataset, selected by the public sampling rule
//! (`crate::statement::dataset`, `docs/statement.md`).
//!
//! Last in the proof, after every opening, for X and then Y: at a fresh point `ρ = (ρ_t, ρ_b, ρ_c)`
//! of the stacked tensor the prover sends `v = X(ρ)` (committed in a zero-knowledge proof), then
//!
//! 1. opens the run's commitment C_X at `ρ` to `v` (an ordinary opening), and
//! 2. opens the dataset commitment's row combination `Σ_e S(e) · C_e` at the column point `ρ_c` to the
//!    same `v`, with `S` the selection weights the verifier computes from the sampling rule.
//!
//! Both openings bind the one sent value, so `X(ρ) = Σ_e S(e) D_X(e, ρ_c)`: the multilinear
//! extensions of X and of the selected rows agree at a random point, and by Schwartz–Zippel
//! (`n/|F|` for `n` variables) X *is* the selection — every row of every batch is the dataset row the
//! rule picked, and padding (steps ≥ T, columns ≥ d_0) is zero in both (X's is forced by its range
//! check; the dataset's rows past N are never selected). Nothing later in the proof depends on these
//! messages, so a verifier without the dataset can check everything else and report the data
//! unpinned.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use zkdl_compiler::plan::{StackRole, StackedTensor, Storage};
use zkdl_compiler::{Plan, Role};

use crate::crypto::commitment::{CommitmentBlinds, CommitmentKey, OpeningProof, TensorCommitment};
use crate::crypto::tensor::{eq_table, evaluate, inner_product};
use crate::crypto::zk::{Blinder, Secret, Sent};
use crate::error::VerificationError;
use crate::statement::dataset::{
    combined_batch_row, selection_weights, DatasetCommitment, DatasetSecrets, DatasetStatement,
};
use crate::{Fr, G1Affine, Transcript};

use super::{PublicInputs, StatementSecrets, Tables};

/// The link of one batch tensor (X or Y) to the dataset.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct TensorLink {
    /// `v = X(ρ)` in the clear (a proof that is not zero-knowledge) …
    pub value: Option<Fr>,
    /// … or committed.
    pub committed_value: Option<G1Affine>,
    /// The opening of the run's commitment at `ρ`.
    pub tensor_opening: OpeningProof,
    /// The opening of the dataset's selected rows at `ρ_c`.
    pub dataset_opening: OpeningProof,
}

/// The links of X and Y.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct DatasetLinkProof {
    pub features: TensorLink,
    pub targets: TensorLink,
}

/// What the prover needs: the dataset's public commitment and the data owner's blinds.
pub struct DatasetProverInput<'a> {
    pub commitment: &'a DatasetCommitment,
    pub secrets: &'a DatasetSecrets,
}

/// The stacked X (or Y with `targets`) of the plan, committed in the statement.
fn batch_tensor(plan: &Plan, targets: bool) -> Result<&StackedTensor, VerificationError> {
    let role = StackRole::Tensor(if targets { Role::Target } else { Role::Input });
    plan.tensors
        .iter()
        .find(|t| t.role == role && matches!(t.storage, Storage::Committed { .. }))
        .filter(|t| t.layout.layer_bits == 0 && t.layout.plane_bits == 0)
        .ok_or_else(|| VerificationError::Malformed {
            relation: "dataset link".into(),
            what: "a dataset needs committed data: the plan has no committed X or Y of one layer".into(),
        })
}

/// `(ρ_t, ρ_b, ρ_c)` of a point of the stacked tensor.
fn split_point(t: &StackedTensor, rho: &[Fr]) -> (Vec<Fr>, Vec<Fr>, Vec<Fr>) {
    let (s, r) = (t.layout.step_bits as usize, t.layout.row_bits as usize);
    (rho[..s].to_vec(), rho[s..s + r].to_vec(), rho[s + r..].to_vec())
}

fn absorb_link(transcript: &mut Transcript, dataset: &TensorCommitment, rho: &[Fr]) {
    transcript.append_message(b"dataset-link", b"selected-rows");
    dataset.absorb_into(transcript);
    transcript.append_fields(b"dataset-link-point", rho);
}

/// Proves the links of X and Y (module docs).
#[allow(clippy::too_many_arguments)]
pub(super) fn prove<R: RngCore + CryptoRng>(
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    public: &PublicInputs,
    secrets: &StatementSecrets,
    input: &DatasetProverInput,
    transcript: &mut Transcript,
    blinder: Option<&mut Blinder>,
    rng: &mut R,
) -> Result<DatasetLinkProof, VerificationError> {
    let mut blinder = blinder;
    let mut link = |targets: bool, transcript: &mut Transcript| -> Result<TensorLink, VerificationError> {
        let t = batch_tensor(plan, targets)?;
        let (dataset, dataset_blinds): (&TensorCommitment, &CommitmentBlinds) = if targets {
            (&input.commitment.targets, &input.secrets.targets)
        } else {
            (&input.commitment.features, &input.secrets.features)
        };
        let missing = || VerificationError::Malformed { relation: "dataset link".into(), what: t.name() };
        let commitment = public.commitment(t.id.0).ok_or_else(missing)?;
        let blinds = secrets.blinds(t.id.0).ok_or_else(missing)?;
        let rho = transcript.challenge_fields(b"dataset-link-rho", t.layout.num_vars() as usize);
        let table = tables.tensor(plan, t.id);
        let y = evaluate(&table, &rho);
        let (value, link_value, committed_value) = match blinder.as_deref_mut() {
            None => {
                transcript.append_field(b"dataset-link-value", &y);
                (Secret::public(y), Some(y), None)
            }
            Some(blinder) => {
                let secret = blinder.hide(y);
                let point = ark_ec::CurveGroup::into_affine(secret.sent().commitment());
                transcript.append_point(b"dataset-link-value", &point);
                (secret, None, Some(point))
            }
        };
        let tensor_opening = key.open_sent(transcript, commitment, &table, blinds, &rho, value, rng);
        let (rho_t, rho_b, rho_c) = split_point(t, &rho);
        let weights = selection_weights(&input_batches(plan, tables, targets)?, &rho_t, &rho_b, dataset.rows.len());
        let row = combined_batch_row(&table, &rho_t, &rho_b, t.layout.col_bits);
        debug_assert_eq!(inner_product(&row, &eq_table(&rho_c)), y);
        absorb_link(transcript, dataset, &rho);
        let dataset_opening =
            key.prove_row_combination(transcript, dataset, row, &weights, dataset_blinds, &rho_c, value.blind, rng);
        Ok(TensorLink { value: link_value, committed_value, tensor_opening, dataset_opening })
    };
    let features = link(false, transcript)?;
    let targets = link(true, transcript)?;
    Ok(DatasetLinkProof { features, targets })
}

/// The example indices of every step, from the prover's witness (its source of X, Y).
fn input_batches(plan: &Plan, tables: &Tables, _targets: bool) -> Result<Vec<Vec<usize>>, VerificationError> {
    tables.batch_indices().map(<[Vec<usize>]>::to_vec).ok_or_else(|| VerificationError::Malformed {
        relation: "dataset link".into(),
        what: format!("the prover's tables of {} hold no batch indices", plan.spec.name),
    })
}

/// Verifies the links against the dataset commitment (whose digest the caller has matched).
#[allow(clippy::too_many_arguments)]
pub(super) fn verify(
    plan: &Plan,
    key: &CommitmentKey,
    public: &PublicInputs,
    statement: &DatasetStatement,
    dataset: &DatasetCommitment,
    proof: &DatasetLinkProof,
    zero_knowledge: bool,
    transcript: &mut Transcript,
) -> Result<(), VerificationError> {
    let malformed = |what: String| VerificationError::Malformed { relation: "dataset link".into(), what };
    dataset.check_network(&plan.spec).map_err(|e| malformed(e.to_string()))?;
    // A chain segment's batches are those of its steps in the chain (`docs/chains.md`).
    let first = plan.initial_weights.steps_before();
    let batches = statement.batches_from(first, plan.spec.batch as usize, plan.steps).map_err(malformed)?;
    for (targets, link) in [(false, &proof.features), (true, &proof.targets)] {
        let t = batch_tensor(plan, targets)?;
        let dataset_commitment = if targets { &dataset.targets } else { &dataset.features };
        let commitment =
            public.commitment(t.id.0).ok_or_else(|| malformed(format!("no commitment to {}", t.name())))?;
        let rho = transcript.challenge_fields(b"dataset-link-rho", t.layout.num_vars() as usize);
        let value = match (zero_knowledge, link.value, link.committed_value) {
            (false, Some(y), None) => {
                transcript.append_field(b"dataset-link-value", &y);
                Sent::Clear(y)
            }
            (true, None, Some(point)) => {
                transcript.append_point(b"dataset-link-value", &point);
                Sent::Committed(point.into())
            }
            _ => return Err(malformed("the linked value has the wrong form for the proof's mode".into())),
        };
        let claim =
            crate::crypto::claims::Claim { tensor: crate::crypto::claims::TensorId(t.id.0), point: rho.clone(), value };
        key.verify_opening_sent(transcript, commitment, &claim, &link.tensor_opening)
            .map_err(|_| VerificationError::Opening { relation: format!("dataset link: opening of {}", t.name()) })?;
        let (rho_t, rho_b, rho_c) = split_point(t, &rho);
        let weights = selection_weights(&batches, &rho_t, &rho_b, dataset_commitment.rows.len());
        absorb_link(transcript, dataset_commitment, &rho);
        key.verify_row_combination(transcript, dataset_commitment, &weights, &rho_c, value, &link.dataset_opening)
            .map_err(|_| VerificationError::Check {
                relation: "dataset link".into(),
                what: format!(
                    "{} is not the dataset's rows selected by the sampling rule (seed {})",
                    t.name(),
                    statement.sampling_seed
                ),
            })?;
    }
    Ok(())
}
