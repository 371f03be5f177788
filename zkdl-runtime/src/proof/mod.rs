//! The proof of training (`PROTOCOL.md` §0–§7): every relation of §4 for every layer and step,
//! aggregated per §5, over the commitments of §6, made non-interactive by §7.
//!
//! **Statement.** Public: the plan (spec, T, fixed-point parameters, aggregation layout; bound by its
//! digest), the commitments C_X, C_Y, C_W0, C_WT ([`PublicInputs`]) or, for the public options, the
//! values of X, Y or W_0 themselves. The proof ([`ProofBody`]) carries the commitment to the bit
//! tensor b and one [`RelationProof`] per aggregated relation, in the plan's order, then one
//! [`TensorOpening`] per committed tensor.
//!
//! **Claims.** The prover walks the plan's relations in order. A relation starts from the claims on
//! the tensor it defines (merged into one point claim, [`crate::crypto::claims`]) or from a fresh random
//! point (a root: Z for M1, H for M2, W_T for U1, committed data and W_0 for their range checks, b for
//! the binary check), proves its identity there — a sumcheck for products, a check on sent values for
//! linear relations — and ends in claims on its operands, routed to their stacked tensors
//! ([`routing`]). A claim on a bit-plane tensor becomes claims on the chunks of b. Each derived tensor
//! is reduced once, after every claim on it has been produced; at the end every committed tensor's
//! claims are merged into one and opened once against its commitment, and claims on public tensors
//! are checked by evaluating them.
//!
//! **Padding.** The binary relation proves `b(x)·(b(x) − used(x)) = 0` on the whole cube: bits are 0 or
//! 1 where used, and 0 elsewhere. Every other tensor is a fixed linear combination of bits or a
//! product or sum of such, so zero padding of b forces zero padding everywhere (the sign–magnitude
//! recomposition multiplies its constant by the used region), and no padded entry can reach a real
//! one through a matrix product.
//!
//! **Zero-knowledge** (protocol version 1, `docs/zero-knowledge.md`). In the default
//! [`Mode::ZeroKnowledge`] every value a relation sends is a commitment `y · U + β · h`
//! ([`crate::crypto::zk`]); claims carry [`Secret`] values on the prover's side and [`Sent`] values on the
//! verifier's; sumchecks are hidden ([`crate::crypto::sumcheck`]), each relation's linear checks on committed
//! values are proven together by one [`ZeroProof`] (`RelationProof::equalities`), and openings run on
//! committed values. [`Mode::Clear`] sends the same values in the clear; the body says which.
//!
//! **Transcript.** One merlin transcript under [`TRANSCRIPT_DOMAIN`] absorbs the protocol version,
//! the mode, the plan digest, every public commitment or public value, and the commitment to b before
//! any challenge; then each relation's name and messages before the challenges that depend on them.

pub mod bias;
pub mod binary;
pub mod bit_opening;
pub mod dataset_link;
pub mod file;
pub mod hadamard;
pub mod loss;
pub mod matmul;
pub mod recompose;
pub mod rescale;
pub mod routing;
pub mod update;
pub mod weight_walk;

use std::borrow::Cow;
use std::time::Instant;

use ark_ff::{One, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use zkdl_compiler::plan::{
    AggregatedRelation, ClaimFlow, Recomposition, RelationKind, StackedTensor, StackedTensorId, Storage,
};
use zkdl_compiler::Plan;

use crate::crypto::bits::BitVector;
use crate::crypto::claims::{
    prove_merge_weighted_blocks, verify_merge_weighted, Claim, ClaimMergeProof, TensorId, WeightedClaim,
};
use crate::crypto::commitment::{CommitmentKey, OpeningProof, TensorCommitment};
use crate::crypto::ranks::{self, Communicator};
use crate::crypto::sumcheck::{self, SumcheckProverState, SumcheckStatement};
use crate::crypto::sumcheck::{PublicTensor, SumcheckProof};
use crate::crypto::tensor::{bind_trailing, eq_table, evaluate, inner_product, inner_product_small, log2_exact};
use crate::crypto::zk::{Blinder, Mode, ProverEqualities, Secret, Sent, Value, VerifierEqualities, ZeroProof};
use crate::error::VerificationError;
use crate::statement::dataset::DatasetCommitment;
use crate::statement::small_value_digests;
pub use crate::statement::{public_value_digests, PublicInputs, PublicValues, StatementSecrets};
use crate::training::witness::Witness;
use crate::{Fr, G1Affine, Transcript};
use ark_ec::CurveGroup;
use routing::{is_bit_planes, relation_name, split_bit_claim, BitPlaneClaim, ChunkWeight, Route};
use weight_walk::Bound;

/// The protocol version absorbed first by every transcript and written into proof files.
pub const PROTOCOL_VERSION: u32 = 5;

/// The transcript's domain-separation label.
pub const TRANSCRIPT_DOMAIN: &[u8] = b"zkdl-proof-of-training";

/// The prover's form of the stacked bit tensor b: packed bits for an honest witness (the fast paths
/// work on bits with additions and lookup tables and never build `2^n` field elements), or field
/// elements, which tests use to prove deliberately non-binary "bits" (a value 2, a bit in padding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BitTable {
    Packed(BitVector),
    Field(Vec<Fr>),
}

impl BitTable {
    /// The number of entries.
    pub fn len(&self) -> usize {
        match self {
            Self::Packed(bits) => bits.len(),
            Self::Field(values) => values.len(),
        }
    }

    /// Whether b has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` as a field element.
    pub fn entry(&self, i: usize) -> Fr {
        match self {
            Self::Packed(bits) => Fr::from(u64::from(bits.get(i))),
            Self::Field(values) => values[i],
        }
    }

    /// Sets entry `i`; packed bits become field elements only when `value` is not a bit (tests corrupt
    /// b through this, so that binary corruptions still run the packed prover).
    pub fn set(&mut self, i: usize, value: Fr) {
        match self {
            Self::Packed(bits) if value.is_zero() || value.is_one() => bits.set(i, value.is_one()),
            _ => self.field_mut()[i] = value,
        }
    }

    /// Swaps entries `i` and `j`.
    pub fn swap(&mut self, i: usize, j: usize) {
        let (a, b) = (self.entry(i), self.entry(j));
        self.set(i, b);
        self.set(j, a);
    }

    /// The entries as field elements, converting packed bits in place.
    pub fn field_mut(&mut self) -> &mut Vec<Fr> {
        if let Self::Packed(bits) = self {
            let values = (0..bits.len()).into_par_iter().map(|i| Fr::from(u64::from(bits.get(i)))).collect();
            *self = Self::Field(values);
        }
        match self {
            Self::Field(values) => values,
            Self::Packed(_) => unreachable!("converted above"),
        }
    }
}

/// The tables the prover works on: every stacked tensor of the plan as field elements (bit-plane
/// tensors are read from b) and b itself. A streaming table set ([`Tables::streaming`]) holds none of
/// them: it builds each from the witness while a relation reads it, and never builds the largest — the
/// stacked W_t and G_W, `T · |W|` entries each.
#[derive(Clone, Debug)]
pub struct Tables<'w> {
    /// Entries of each stacked tensor in the stacked layout; empty for bit-plane tensors, b, and the
    /// tensors read from `source`.
    pub tensors: Vec<Vec<Fr>>,
    /// The bit tensor b.
    pub bits: BitTable,
    /// The witness that streamed tensors are read from.
    source: Option<&'w Witness>,
    /// The example indices of each step's batch (the dataset rows a run on a committed dataset read).
    pub batch_indices: Option<Vec<Vec<usize>>>,
    /// Relations read tensors of more than `2^block_vars` entries a block at a time
    /// ([`sumcheck::prove_blocks_from`]): [`STREAM_BLOCK_VARS`] unless a test sets it.
    pub block_vars: usize,
}

/// The block size, `2^24` entries (512 MiB of field elements), in which relations read the stacked
/// tensors: a relation holds one block-sized table per operand whatever T (and chunks of `2^20`
/// while it streams), instead of the operands' tables. Each streamed round costs a pass over the
/// operands, so the blocks are as large as memory allows: up to paper T = 32 nothing is streamed, at
/// T = 64 one round (the activations' tables of 1 GiB each become 512 MiB), at T = 1024 five.
pub const STREAM_BLOCK_VARS: usize = 24;

/// Every entry of stacked tensor `t` of the witness as a field element.
fn field_entries(witness: &Witness, t: &StackedTensor) -> Vec<Fr> {
    let mut values = vec![Fr::zero(); t.padded_entries() as usize];
    witness.fill_field(t.id, 0, &mut values);
    values
}

/// Whether a stacked tensor's values are field tables of the prover (not bits).
pub fn is_field_tensor(t: &StackedTensor) -> bool {
    !matches!(
        t.storage,
        Storage::BitPlanes(_) | Storage::Committed { values: zkdl_compiler::plan::ValueKind::Bits, .. }
    )
}

/// Whether a streaming table set leaves a stacked tensor in the witness: the stacked W_t and G_W.
pub fn is_streamed(t: &StackedTensor) -> bool {
    use zkdl_compiler::plan::StackRole;
    use zkdl_compiler::Role;
    matches!(t.role, StackRole::Tensor(Role::Weight | Role::WeightGradient))
}

impl Tables<'static> {
    /// The tables of a witness: every entry of every stacked tensor as a field element, b packed.
    ///
    /// # Panics
    /// For a compact witness, which does not hold the stacked W_t and G_W ([`Tables::streaming`]
    /// reads it).
    pub fn from_witness(witness: &Witness) -> Tables<'static> {
        assert!(!witness.is_compact(), "a compact witness has no table of W_t and G_W; use Tables::streaming");
        Tables {
            tensors: held_tables(witness, |_| true),
            bits: BitTable::Packed(witness.bit_tensor()),
            source: None,
            batch_indices: Some(witness.batches.iter().map(|b| b.indices.clone()).collect()),
            block_vars: STREAM_BLOCK_VARS,
        }
    }
}

/// The field tables of the witness's stacked tensors that `hold` selects (empty for the others).
fn held_tables(witness: &Witness, hold: impl Fn(&StackedTensor) -> bool) -> Vec<Vec<Fr>> {
    let plan = &witness.plan;
    plan.tensors
        .iter()
        .map(|t| if is_field_tensor(t) && hold(t) { field_entries(witness, t) } else { Vec::new() })
        .collect()
}

impl<'w> Tables<'w> {
    /// The tables of a witness, none of them held: each relation builds the field tables of the
    /// activation-sized tensors it reads from the witness's integers when it reads them and drops them
    /// after, and the stacked W_t and G_W ([`is_streamed`]) are never built ([`weight_walk`]). The
    /// prover then holds at most a few stacked tensors as field elements at a time, besides b (packed
    /// bits) and the witness.
    pub fn streaming(witness: &'w Witness) -> Tables<'w> {
        let tensors = held_tables(witness, |_| false);
        Tables {
            tensors,
            bits: BitTable::Packed(witness.bit_tensor()),
            source: Some(witness),
            batch_indices: Some(witness.batches.iter().map(|b| b.indices.clone()).collect()),
            block_vars: STREAM_BLOCK_VARS,
        }
    }

    /// These tables, read by relations in blocks of `2^block_vars` entries (the proof is the same for
    /// every block size; tests take small ones).
    pub fn with_block_vars(self, block_vars: usize) -> Self {
        Self { block_vars, ..self }
    }

    /// The example indices of each step's batch, if known.
    pub fn batch_indices(&self) -> Option<&[Vec<usize>]> {
        self.batch_indices.as_deref()
    }

    /// The entries of stacked tensor `id` (gathered from b for a bit-plane tensor).
    ///
    /// # Panics
    /// For b itself when it is packed (the prover never needs b as field elements).
    pub fn tensor(&self, plan: &Plan, id: StackedTensorId) -> Cow<'_, [Fr]> {
        let tensor = &plan.tensors[id.0 as usize];
        let stored = &self.tensors[id.0 as usize];
        match (&self.bits, tensor.role, &tensor.storage) {
            (BitTable::Field(values), zkdl_compiler::plan::StackRole::AllBits, _) => return Cow::Borrowed(values),
            (BitTable::Packed(_), zkdl_compiler::plan::StackRole::AllBits, _) => {
                panic!("b is packed; use the bit-aware paths")
            }
            (_, _, Storage::BitPlanes(_)) => {}
            _ if !stored.is_empty() || self.source.is_none() => return Cow::Borrowed(stored),
            _ => {}
        }
        let mut values = vec![Fr::zero(); 1usize << tensor.layout.num_vars()];
        self.fill(plan, id, 0, &mut values);
        Cow::Owned(values)
    }

    /// Entries `start … start + out.len()` of stacked tensor `id`: copied from its table, converted
    /// from the witness's integers, or gathered from b (a bit-plane tensor's plane `p` of instance
    /// `i` lies in the chunk holding plane `p`, at local plane `p − first_plane`).
    ///
    /// # Panics
    /// For b itself when it is packed, and for a tensor neither held nor in a witness.
    pub fn fill(&self, plan: &Plan, id: StackedTensorId, start: usize, out: &mut [Fr]) {
        let tensor = &plan.tensors[id.0 as usize];
        let range = start..start + out.len();
        if tensor.role == zkdl_compiler::plan::StackRole::AllBits {
            match &self.bits {
                BitTable::Field(values) => return out.copy_from_slice(&values[range]),
                BitTable::Packed(_) => panic!("b is packed; use the bit-aware paths"),
            }
        }
        let Storage::BitPlanes(chunks) = &tensor.storage else {
            let stored = &self.tensors[id.0 as usize];
            match self.source {
                Some(witness) if stored.is_empty() => witness.fill_field(id, start as u64, out),
                _ => out.copy_from_slice(&stored[range]),
            }
            return;
        };
        let l = tensor.layout;
        let rest = (l.row_bits + l.col_bits) as usize;
        // Segments of one row (consecutive in b too) when the range is made of rows, else entries.
        let row_len = 1usize << l.col_bits;
        let segment = if start % row_len == 0 && out.len() % row_len == 0 { row_len } else { 1 };
        out.par_chunks_mut(segment).enumerate().with_min_len((1 << 12) / segment.min(1 << 12)).for_each(|(k, part)| {
            let index = start + k * segment;
            let low = index & ((1 << rest) - 1);
            let plane = ((index >> rest) & ((1 << l.plane_bits) - 1)) as u32;
            let instance = index >> (rest + l.plane_bits as usize);
            match chunks.iter().find(|c| c.first_plane <= plane && plane < c.first_plane + c.planes) {
                Some(chunk) => {
                    let plane_bits = chunk.padded_planes.ilog2() as usize;
                    let local = (((instance << plane_bits) + (plane - chunk.first_plane) as usize) << rest) | low;
                    let first = chunk.offset as usize + local;
                    part.iter_mut().enumerate().for_each(|(i, o)| *o = self.bits.entry(first + i));
                }
                None => part.iter_mut().for_each(|o| *o = Fr::zero()),
            }
        });
    }
}

/// A stacked tensor, or a relation's view of one (`Route::view_blocks`), as blocks read from the tables.
pub(crate) struct ViewBlocks<'a> {
    tables: &'a Tables<'a>,
    plan: &'a Plan,
    id: StackedTensorId,
    /// Per view instance, the tensor instance it shows (`None`: padding); `None` for the tensor itself.
    sources: Option<Vec<Option<usize>>>,
    /// Variables per instance.
    rest: usize,
}

impl<'a> ViewBlocks<'a> {
    fn new(tables: &'a Tables<'a>, plan: &'a Plan, route: &Route) -> Self {
        let sources = (!route.is_identity()).then(|| route.instance_sources());
        Self { tables, plan, id: route.tensor.id, sources, rest: routing::rest_bits(route.tensor) }
    }

    /// The tensor itself.
    fn whole(tables: &'a Tables<'a>, plan: &'a Plan, id: StackedTensorId) -> Self {
        let rest = routing::rest_bits(&plan.tensors[id.0 as usize]);
        Self { tables, plan, id, sources: None, rest }
    }
}

impl sumcheck::Blocks for ViewBlocks<'_> {
    fn fill(&self, start: usize, out: &mut [Fr]) {
        let Some(sources) = &self.sources else {
            return self.tables.fill(self.plan, self.id, start, out);
        };
        let block = 1usize << self.rest;
        let mut done = 0;
        while done < out.len() {
            let index = start + done;
            let (instance, offset) = (index >> self.rest, index & (block - 1));
            let take = (block - offset).min(out.len() - done);
            let part = &mut out[done..done + take];
            match sources.get(instance).copied().flatten() {
                Some(p) => self.tables.fill(self.plan, self.id, (p << self.rest) + offset, part),
                None => part.iter_mut().for_each(|o| *o = Fr::zero()),
            }
            done += take;
        }
    }
}

/// `log2` of the largest number of columns any committed tensor of the plan uses (the key size), and
/// at least the padded width of committed X and Y, the columns of a dataset they may be drawn from.
pub fn key_log_cols(plan: &Plan) -> u32 {
    use zkdl_compiler::plan::StackRole;
    use zkdl_compiler::Role;
    plan.tensors
        .iter()
        .filter_map(|t| match (t.role, &t.storage) {
            (StackRole::Tensor(Role::Input | Role::Target), Storage::Committed { col_vars, .. }) => {
                Some((*col_vars).max(t.layout.col_bits))
            }
            (_, Storage::Committed { col_vars, .. }) => Some(*col_vars),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Commits to the statement's private tensors (those committed `in the statement`) and collects the
/// public ones (public data, public W_0, public W_T: the plan's `Public` storage).
pub fn commit_statement<R: RngCore + CryptoRng>(
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    rng: &mut R,
) -> (PublicInputs, StatementSecrets) {
    commit_statement_on(None, plan, key, tables, rng)
}

/// [`commit_statement`] over the ranks of `ranks` (each commits its share of the rows,
/// [`ranks::commit`]), or by this process alone (`None`): the same commitments and blinds.
pub fn commit_statement_on<R: RngCore + CryptoRng>(
    mut ranks: Option<&mut (dyn Communicator + '_)>,
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    rng: &mut R,
) -> (PublicInputs, StatementSecrets) {
    let mut commitments = Vec::new();
    let mut blinds = Vec::new();
    let mut public_values = Vec::new();
    for t in &plan.tensors {
        match t.storage {
            Storage::Committed { public_commitment: true, col_vars, .. } => {
                let values = tables.tensor(plan, t.id);
                let (commitment, b) = ranks::commit::commit(ranks.as_deref_mut(), key, &values[..], col_vars, rng);
                commitments.push((t.id.0, commitment));
                blinds.push((t.id.0, b));
            }
            // The compiler leaves only the statement's public X, Y, W_0 and W_T public; all else is derived.
            Storage::Public => {
                public_values.push((t.id.0, PublicValues::Field(tables.tensor(plan, t.id).into_owned())))
            }
            _ => {}
        }
    }
    (PublicInputs { commitments, public_values, dataset: None }, StatementSecrets { blinds })
}

/// The messages of one aggregated relation.
#[derive(Clone, Debug, Default, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct RelationProof {
    /// The merge of the claims on the tensor the relation defines (none for a root).
    pub merge: Option<ClaimMergeProof>,
    /// Values sent in the clear (a proof that is not zero-knowledge): evaluations at the relation's
    /// point, chunk values of bit claims.
    pub messages: Vec<Fr>,
    /// The same values as commitments `y · U + β · h` (a zero-knowledge proof).
    pub committed_messages: Vec<G1Affine>,
    /// The relation's sumcheck, if it is not linear.
    pub sumcheck: Option<SumcheckProof>,
    /// The proof that the relation's linear checks on committed values hold ([`crate::crypto::zk`]).
    pub equalities: Option<ZeroProof>,
}

/// The opening of one committed tensor: the merge of its claims and the opening proof.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct TensorOpening {
    pub merge: ClaimMergeProof,
    pub opening: OpeningProof,
}

/// The proof of training, without the statement.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct ProofBody {
    /// Whether the proof is zero-knowledge ([`Mode`]); a proof that is not says so here, and the
    /// transcript absorbs it first.
    pub zero_knowledge: bool,
    /// The commitment to b.
    pub bit_commitment: TensorCommitment,
    /// One per aggregated relation, in the plan's order.
    pub relations: Vec<RelationProof>,
    /// One per committed tensor other than b that received claims, in tensor order.
    pub openings: Vec<TensorOpening>,
    /// The opening of b for all its claims ([`bit_opening`]).
    pub bit_opening: bit_opening::BitTensorOpening,
    /// The proof that committed claims on public tensors equal the verifier's evaluations.
    pub opening_equalities: Option<ZeroProof>,
    /// The link of X and Y to the committed dataset, when the statement names one ([`dataset_link`]).
    pub dataset_link: Option<dataset_link::DatasetLinkProof>,
}

impl ProofBody {
    /// The proof's mode.
    pub fn mode(&self) -> Mode {
        if self.zero_knowledge {
            Mode::ZeroKnowledge
        } else {
            Mode::Clear
        }
    }
}

/// Time spent in one phase of proving.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseTiming {
    /// The phase: `commit b`, a relation's name, `openings`.
    pub phase: String,
    pub seconds: f64,
}

/// Why the prover could not prove (the plan and tables do not fit).
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("the plan cannot be proven: {0}")]
    Plan(#[from] VerificationError),
    #[error("the statement has no commitment for {0}")]
    MissingCommitment(String),
}

/// The transcript's start: the protocol version, the mode, the plan digest, the statement (public
/// commitments; each public tensor's length and [`public_value_digests`], given in
/// `public.public_values`' order; the dataset named) and b's commitment.
fn start_transcript(
    plan: &Plan,
    public: &PublicInputs,
    value_digests: &[Vec<u8>],
    bit_commitment: &TensorCommitment,
    mode: Mode,
) -> Transcript {
    let mut transcript = Transcript::new(TRANSCRIPT_DOMAIN);
    transcript.append_u64(b"protocol-version", u64::from(PROTOCOL_VERSION));
    transcript.append_u64(b"zero-knowledge", u64::from(mode.is_zero_knowledge()));
    transcript.append_message(b"plan-digest", &plan.digest());
    for (id, commitment) in &public.commitments {
        transcript.append_u64(b"public-commitment", u64::from(*id));
        commitment.absorb_into(&mut transcript);
    }
    assert_eq!(value_digests.len(), public.public_values.len(), "a digest for every public tensor");
    for ((id, values), digests) in public.public_values.iter().zip(value_digests) {
        transcript.append_u64(b"public-values", u64::from(*id));
        transcript.append_u64(b"public-values-count", values.len() as u64);
        transcript.append_message(b"public-values-sha256", digests);
    }
    if let Some(dataset) = &public.dataset {
        transcript.append_message(b"dataset-digest", &dataset.digest);
        transcript.append_u64(b"dataset-examples", dataset.examples);
        transcript.append_u64(b"sampling-seed", dataset.sampling_seed);
    }
    bit_commitment.absorb_into(&mut transcript);
    transcript
}

/// The claims produced so far, per stacked tensor, in the order they were produced.
type ClaimBook<V> = Vec<Vec<WeightedClaim<V>>>;

fn tensor_label(id: StackedTensorId) -> TensorId {
    TensorId(id.0)
}

/// The prover's side of one proof.
pub struct Prover<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) tables: &'a Tables<'a>,
    pub(crate) transcript: Transcript,
    claims: ClaimBook<Secret>,
    pub(crate) current: RelationProof,
    /// The blinds of a zero-knowledge proof (`None`: values in the clear).
    blinder: Option<Blinder>,
    equalities: ProverEqualities,
    /// The ranks proving together (`None`: this process alone). Every rank runs this prover, with
    /// replicas of the transcript and the random stream; the large sumchecks, commitments and row
    /// combinations are split among them ([`crate::crypto::ranks`]).
    ranks: Option<&'a mut (dyn Communicator + 'a)>,
}

impl<'a> Prover<'a> {
    /// Sends a value: in the clear, or committed in a zero-knowledge proof.
    pub(crate) fn send(&mut self, value: Fr) -> Secret {
        match self.blinder.as_mut() {
            None => {
                self.transcript.append_field(b"message", &value);
                self.current.messages.push(value);
                Secret::public(value)
            }
            Some(blinder) => {
                let secret = blinder.hide(value);
                let point = secret.sent().commitment().into_affine();
                self.transcript.append_point(b"message", &point);
                self.current.committed_messages.push(point);
                secret
            }
        }
    }

    /// Requires `a = b`, as the verifier does ([`Verifier::require_equal`]).
    pub(crate) fn require_equal(&mut self, a: Secret, b: Secret) {
        self.equalities.require(a, b);
    }

    /// Proves the relation's sumcheck for the sum `claimed` and keeps its proof; returns the final
    /// point and the committed factors' values there.
    pub(crate) fn prove_sumcheck(
        &mut self,
        statement: &SumcheckStatement,
        claimed: Secret,
        tables: Vec<Vec<Fr>>,
    ) -> (Vec<Fr>, Vec<Secret>) {
        let state = SumcheckProverState::for_mode(statement, claimed, self.blinder.as_mut());
        let ranks = self.ranks.as_deref_mut();
        let output = ranks::sumcheck::prove_tables_on(ranks, statement, state, tables, &mut self.transcript);
        self.current.sumcheck = Some(output.proof);
        (output.point, output.evaluations)
    }

    /// As [`prove_sumcheck`](Self::prove_sumcheck), reading the committed factors as blocks
    /// ([`sumcheck::prove_blocks_from`]): the same proof, a few blocks held instead of the tables.
    pub(crate) fn prove_sumcheck_blocks(
        &mut self,
        statement: &SumcheckStatement,
        claimed: Secret,
        committed: Vec<&dyn sumcheck::Blocks>,
    ) -> (Vec<Fr>, Vec<Secret>) {
        let state = SumcheckProverState::for_mode(statement, claimed, self.blinder.as_mut());
        let ranks = self.ranks.as_deref_mut();
        let block_vars = self.tables.block_vars;
        let output =
            ranks::sumcheck::prove_blocks_on(ranks, statement, state, committed, block_vars, &mut self.transcript);
        self.current.sumcheck = Some(output.proof);
        (output.point, output.evaluations)
    }

    /// The sumcheck prover's starting state for the sum `claimed`, for relations that run the rounds
    /// themselves (the binary relation), with the transcript, the tables and the ranks.
    pub(crate) fn sumcheck_state(
        &mut self,
        statement: &SumcheckStatement,
        claimed: Secret,
    ) -> (SumcheckProverState<'_>, &mut Transcript, &'a Tables<'a>, Option<&mut (dyn Communicator + 'a)>) {
        let state = SumcheckProverState::for_mode(statement, claimed, self.blinder.as_mut());
        (state, &mut self.transcript, self.tables, self.ranks.as_deref_mut())
    }

    /// The view of an operand at `point`: `Σ_b eq(point_top, b) · P_b(point_rest)` over its blocks.
    pub(crate) fn view_value(&self, route: &Route, point: &[Fr]) -> Fr {
        let blocks = self.view_blocks(route);
        let m = self.tables.block_vars.min(point.len());
        let (top, rest) = point.split_at(point.len() - m);
        let mut block = vec![Fr::zero(); 1 << m];
        let mut value = Fr::zero();
        for (b, weight) in eq_table(top).iter().enumerate() {
            if !weight.is_zero() {
                sumcheck::Blocks::fill(&blocks, b << m, &mut block);
                value += *weight * evaluate(&block, rest);
            }
        }
        value
    }

    /// `Σ w(inst) · eq(rest, y) · P(inst, y)` for a relation instance weight `w` routed to the tensor,
    /// a block of the tensor and of the weight at a time.
    pub(crate) fn weighted_value(&self, route: &Route, instance: PublicTensor, rest: &[Fr]) -> Fr {
        let weight = PublicTensor::Kron(vec![route.instance_weight(instance), PublicTensor::Eq(rest.to_vec())]);
        let n = route.tensor.layout.num_vars() as usize;
        let m = self.tables.block_vars.min(n);
        let blocks = ViewBlocks::whole(self.tables, self.plan, route.tensor.id);
        let (mut block, mut weights) = (vec![Fr::zero(); 1 << m], vec![Fr::zero(); 1 << m]);
        let mut value = Fr::zero();
        for b in 0..1usize << (n - m) {
            weight.fill_block(n, b << m, &mut weights);
            if weights.iter().any(|w| !w.is_zero()) {
                sumcheck::Blocks::fill(&blocks, b << m, &mut block);
                value += inner_product(&block, &weights);
            }
        }
        value
    }

    /// The view of an operand as blocks.
    pub(crate) fn view_blocks(&self, route: &Route) -> ViewBlocks<'a> {
        ViewBlocks::new(self.tables, self.plan, route)
    }

    /// The witness that stacked tensor `id` is walked from: the stacked W or G_W of streaming tables
    /// ([`weight_walk`]).
    fn walked(&self, id: StackedTensorId) -> Option<&'a Witness> {
        let witness = self.tables.source?;
        let held = !self.tables.tensors[id.0 as usize].is_empty();
        (!held && is_streamed(&self.plan.tensors[id.0 as usize])).then_some(witness)
    }

    /// The view of a matrix operand with its free index bound to `free`: the column (`bound` is
    /// [`Bound::Column`]: `P(n, i, free)`, over the instances and rows) or the row (`P(n, free, j)`).
    /// The stacked W of streaming tables is walked from W_0 and the steps' factors, never tabulated.
    pub(crate) fn bound_view(&self, route: &Route, free: &[Fr], bound: Bound) -> Vec<Fr> {
        let weights = route.tensor.role == zkdl_compiler::plan::StackRole::Tensor(zkdl_compiler::Role::Weight);
        if let (true, Some(witness)) = (weights, self.walked(route.tensor.id)) {
            let table = weight_walk::bound_weights(witness, route.tensor, bound, free);
            let l = route.tensor.layout;
            let block_bits = match bound {
                Bound::Column => l.row_bits,
                Bound::Row => l.col_bits,
            };
            return route.view_blocks(&table, block_bits as usize);
        }
        // Each block of whole instances binds by itself: a row's trailing columns (Column), an
        // instance's leading rows (Row).
        let rest = routing::rest_bits(route.tensor);
        let n = route.view_instance_bits() + rest;
        let m = self.tables.block_vars.max(rest).min(n);
        let blocks = self.view_blocks(route);
        let mut block = vec![Fr::zero(); 1 << m];
        let mut bound_view = Vec::with_capacity(1 << (n - free.len()));
        for b in 0..1usize << (n - m) {
            sumcheck::Blocks::fill(&blocks, b << m, &mut block);
            bound_view.extend(match bound {
                Bound::Column => bind_trailing(&block, free),
                Bound::Row => routing::bind_middle(&block, m - rest, free),
            });
        }
        bound_view
    }

    /// `Σ w(inst) · G_W(inst, rest)` for a relation instance weight `w` routed to the stacked G_W
    /// (walked from the steps' factors for streaming tables).
    pub(crate) fn gradient_value(&self, route: &Route, instance: PublicTensor, rest: &[Fr]) -> Fr {
        match self.walked(route.tensor.id) {
            Some(witness) => {
                let weight = route.instance_weight(instance).table(route.tensor.layout.instance_bits() as usize);
                weight_walk::gradient_evaluation(witness, route.tensor, &weight, rest)
            }
            None => self.weighted_value(route, instance, rest),
        }
    }

    /// Takes every claim on the tensor a relation defines, unmerged (U1 and M3 reduce each claim on
    /// the stacked W and G_W by itself: merging would need their tables).
    pub(crate) fn take_claims(&mut self, route: &Route) -> Result<Vec<WeightedClaim<Secret>>, VerificationError> {
        check_defining_route(route)?;
        Ok(std::mem::take(&mut self.claims[route.tensor.id.0 as usize]))
    }

    /// Merges the claims on the tensor a relation defines into one point claim.
    pub(crate) fn merged(&mut self, route: &Route) -> Result<Option<Claim<Secret>>, VerificationError> {
        check_defining_route(route)?;
        let claims = std::mem::take(&mut self.claims[route.tensor.id.0 as usize]);
        if claims.is_empty() {
            return Ok(None);
        }
        let blocks = ViewBlocks::whole(self.tables, self.plan, route.tensor.id);
        let (merge, claim) = prove_merge_weighted_blocks(
            self.ranks.as_deref_mut(),
            tensor_label(route.tensor.id),
            &claims,
            &blocks,
            route.tensor.layout.num_vars() as usize,
            self.tables.block_vars,
            &mut self.transcript,
            self.blinder.as_mut(),
        );
        self.current.merge = Some(merge);
        Ok(Some(claim))
    }

    /// Adds the claim "view of `route` with instance weight `instance` at `rest` equals `value`".
    pub(crate) fn claim(&mut self, route: &Route, instance: PublicTensor, rest: Vec<Fr>, value: Secret) {
        self.plane_claim(route, instance, vec![Fr::from(1u64)], rest, value);
    }

    /// As [`claim`](Self::claim), with one coefficient per plane for a bit-plane tensor.
    pub(crate) fn plane_claim(
        &mut self,
        route: &Route,
        instance: PublicTensor,
        planes: Vec<Fr>,
        rest: Vec<Fr>,
        value: Secret,
    ) {
        // The claim book is set aside while the chunk values are sent (the closure borrows `self`).
        let mut claims = std::mem::take(&mut self.claims);
        let routed = route_claim(self.plan, &mut claims, route, instance, planes, rest, value, |chunk| {
            let share = bit_opening::weighted_bit_sum(&self.tables.bits, chunk.chunk.offset as usize, &chunk.local);
            Ok::<Secret, std::convert::Infallible>(self.send(share))
        });
        self.claims = claims;
        if let Ok(Some(total)) = routed {
            self.require_equal(total, value);
        }
    }

    /// Adds a point claim on b.
    pub(crate) fn bit_tensor_claim(&mut self, claim: Claim<Secret>) {
        let all_bits = self.plan.tensors.len() - 1;
        self.claims[all_bits].push(claim.into());
    }
}

/// The verifier's side of one proof.
pub struct Verifier<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) transcript: Transcript,
    claims: ClaimBook<Sent>,
    pub(crate) current: &'a RelationProof,
    cursor: usize,
    pub(crate) relation: String,
    merge_used: bool,
    sumcheck_used: bool,
    mode: Mode,
    equalities: VerifierEqualities,
}

impl<'a> Verifier<'a> {
    /// Receives the next value sent: in the clear, or as a commitment in a zero-knowledge proof.
    pub(crate) fn receive(&mut self) -> Result<Sent, VerificationError> {
        let sent = match self.mode {
            Mode::Clear => self.current.messages.get(self.cursor).map(|v| Sent::Clear(*v)),
            Mode::ZeroKnowledge => {
                self.current.committed_messages.get(self.cursor).map(|p| Sent::Committed((*p).into()))
            }
        };
        let value = sent.ok_or_else(|| VerificationError::Malformed {
            relation: self.relation.clone(),
            what: format!("the relation sends fewer than {} values", self.cursor + 1),
        })?;
        self.cursor += 1;
        value.absorb(&mut self.transcript, b"message");
        Ok(value)
    }

    /// Requires `a = b`: at once in the clear, by the relation's proof of equalities when committed.
    pub(crate) fn require_equal(&mut self, a: Sent, b: Sent, what: &str) -> Result<(), VerificationError> {
        self.equalities.require(a, b, &self.relation, what)
    }

    /// Verifies the relation's sumcheck for the sum `claimed`; returns the final point and the
    /// committed factors' values there.
    pub(crate) fn verify_sumcheck(
        &mut self,
        statement: &SumcheckStatement,
        claimed: Sent,
    ) -> Result<(Vec<Fr>, Vec<Sent>), VerificationError> {
        let proof = self.sumcheck_proof()?;
        sumcheck::verify_sent(statement, claimed, proof, self.mode, &mut self.transcript)
    }

    /// The relation's sumcheck proof.
    pub(crate) fn sumcheck_proof(&mut self) -> Result<&'a SumcheckProof, VerificationError> {
        self.sumcheck_used = true;
        self.current.sumcheck.as_ref().ok_or_else(|| VerificationError::Malformed {
            relation: self.relation.clone(),
            what: "the relation's sumcheck is missing".into(),
        })
    }

    /// As [`Prover::take_claims`].
    pub(crate) fn take_claims(&mut self, route: &Route) -> Result<Vec<WeightedClaim<Sent>>, VerificationError> {
        check_defining_route(route)?;
        Ok(std::mem::take(&mut self.claims[route.tensor.id.0 as usize]))
    }

    /// Verifies the merge of the claims on the tensor a relation defines.
    pub(crate) fn merged(&mut self, route: &Route) -> Result<Option<Claim<Sent>>, VerificationError> {
        check_defining_route(route)?;
        let claims = std::mem::take(&mut self.claims[route.tensor.id.0 as usize]);
        if claims.is_empty() {
            return Ok(None);
        }
        self.merge_used = true;
        let merge = self.current.merge.as_ref().ok_or_else(|| VerificationError::Malformed {
            relation: self.relation.clone(),
            what: "the merge of the claims is missing".into(),
        })?;
        let n = route.tensor.layout.num_vars() as usize;
        verify_merge_weighted(tensor_label(route.tensor.id), n, &claims, merge, self.mode, &mut self.transcript)
            .map(Some)
    }

    /// As [`Prover::claim`].
    pub(crate) fn claim(
        &mut self,
        route: &Route,
        instance: PublicTensor,
        rest: Vec<Fr>,
        value: Sent,
    ) -> Result<(), VerificationError> {
        self.plane_claim(route, instance, vec![Fr::from(1u64)], rest, value)
    }

    /// As [`Prover::plane_claim`]: receives the chunk values and checks that they add up.
    pub(crate) fn plane_claim(
        &mut self,
        route: &Route,
        instance: PublicTensor,
        planes: Vec<Fr>,
        rest: Vec<Fr>,
        value: Sent,
    ) -> Result<(), VerificationError> {
        let mut claims = std::mem::take(&mut self.claims);
        let routed = route_claim(self.plan, &mut claims, route, instance, planes, rest, value, |_| self.receive());
        self.claims = claims;
        match routed? {
            Some(total) => self.require_equal(
                total,
                value,
                &format!("the chunks of {} in b add up to its claim", route.tensor.name()),
            ),
            None => Ok(()),
        }
    }

    /// Adds a point claim on b.
    pub(crate) fn bit_tensor_claim(&mut self, claim: Claim<Sent>) {
        let all_bits = self.plan.tensors.len() - 1;
        self.claims[all_bits].push(claim.into());
    }
}

/// Adds the claim "view of `route` with instance weight `instance`, plane coefficients `planes` and
/// (row, column) point `rest` equals `value`" to the claim book: a weighted claim on the tensor, or for a
/// bit-plane tensor one weighted claim per chunk of b, whose values `chunk_value` sends or receives when
/// there are several. Returns the sum of the chunk values when there are several (which must equal `value`).
#[allow(clippy::too_many_arguments)]
fn route_claim<V: Value, E>(
    plan: &Plan,
    claims: &mut ClaimBook<V>,
    route: &Route,
    instance: PublicTensor,
    planes: Vec<Fr>,
    rest: Vec<Fr>,
    value: V,
    mut chunk_value: impl FnMut(&ChunkWeight) -> Result<V, E>,
) -> Result<Option<V>, E> {
    let instance = route.instance_weight(instance);
    if !is_bit_planes(route.tensor) {
        let weight = PublicTensor::Kron(vec![instance, PublicTensor::Eq(rest)]);
        claims[route.tensor.id.0 as usize].push(WeightedClaim { tensor: tensor_label(route.tensor.id), weight, value });
        return Ok(None);
    }
    let chunks = split_bit_claim(plan, route.tensor, &BitPlaneClaim { instance, planes, rest });
    let all_bits = plan.tensors.len() - 1;
    let several = chunks.len() > 1;
    let mut total = V::constant(Fr::zero());
    for chunk in chunks {
        let share = if several { chunk_value(&chunk)? } else { value };
        total = total + share;
        claims[all_bits].push(WeightedClaim { tensor: TensorId(all_bits as u32), weight: chunk.weight, value: share });
    }
    Ok(several.then_some(total))
}

/// The tensor a relation defines is the relation's own index space.
fn check_defining_route(route: &Route) -> Result<(), VerificationError> {
    if route.is_identity() {
        Ok(())
    } else {
        Err(VerificationError::Malformed {
            relation: relation_name(route.relation),
            what: format!("{} is not indexed like the relation that defines it", route.tensor.name()),
        })
    }
}

/// Whether operand `index` of a relation starts from a fresh point.
pub(crate) fn is_root(relation: &AggregatedRelation, index: usize) -> bool {
    relation.operands.get(index).is_some_and(|o| o.flow == ClaimFlow::Claims { fresh: true })
}

/// Proves that the tables satisfy every relation of the plan. `progress` is called after each phase.
pub fn prove<R: RngCore + CryptoRng>(
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    public: &PublicInputs,
    secrets: &StatementSecrets,
    rng: &mut R,
    progress: impl FnMut(&PhaseTiming),
) -> Result<(ProofBody, Vec<PhaseTiming>), ProveError> {
    prove_in_mode(Mode::ZeroKnowledge, plan, key, tables, public, secrets, rng, progress)
}

/// As [`prove`], in the given mode: [`Mode::Clear`] sends every value in the clear and is not
/// zero-knowledge (the proof says so).
#[allow(clippy::too_many_arguments)]
pub fn prove_in_mode<R: RngCore + CryptoRng>(
    mode: Mode,
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    public: &PublicInputs,
    secrets: &StatementSecrets,
    rng: &mut R,
    progress: impl FnMut(&PhaseTiming),
) -> Result<(ProofBody, Vec<PhaseTiming>), ProveError> {
    prove_with_dataset(mode, plan, key, tables, public, secrets, None, rng, progress)
}

/// As [`prove_in_mode`], for a statement whose batches are drawn from a committed dataset
/// (`public.dataset`): the proof ends with the link of X and Y to it ([`dataset_link`]).
#[allow(clippy::too_many_arguments)]
pub fn prove_with_dataset<R: RngCore + CryptoRng>(
    mode: Mode,
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    public: &PublicInputs,
    secrets: &StatementSecrets,
    dataset: Option<&dataset_link::DatasetProverInput>,
    rng: &mut R,
    progress: impl FnMut(&PhaseTiming),
) -> Result<(ProofBody, Vec<PhaseTiming>), ProveError> {
    prove_on(None, mode, plan, key, tables, public, secrets, dataset, rng, progress)
}

/// [`prove_with_dataset`] by the ranks of `ranks` together (`None`: by this process alone). Every rank
/// calls it with the same plan, tables, statement and a replica of the same random stream (the same
/// seed), and every rank gets the proof: the single-process proof, byte for byte. The commitment to
/// b, the openings' row combinations, the claim merges and the relations' sumchecks of at least
/// [`ranks::sumcheck::LOCAL_MIN_VARS`] local variables are split among the ranks; the rest (the
/// binary relation's rounds, the openings' inner-product arguments, the opening of b, the dataset
/// link) is computed by every rank alike (`docs/distributed.md`).
#[allow(clippy::too_many_arguments)]
pub fn prove_on<R: RngCore + CryptoRng>(
    mut ranks: Option<&mut (dyn Communicator + '_)>,
    mode: Mode,
    plan: &Plan,
    key: &CommitmentKey,
    tables: &Tables,
    public: &PublicInputs,
    secrets: &StatementSecrets,
    dataset: Option<&dataset_link::DatasetProverInput>,
    rng: &mut R,
    mut progress: impl FnMut(&PhaseTiming),
) -> Result<(ProofBody, Vec<PhaseTiming>), ProveError> {
    if public.dataset.is_some() != dataset.is_some() {
        return Err(ProveError::MissingCommitment(
            "the dataset: the statement and the prover's inputs disagree on whether there is one".into(),
        ));
    }
    let mut timings = Vec::new();
    let mut record = |phase: String, started: Instant, timings: &mut Vec<PhaseTiming>| {
        let timing = PhaseTiming { phase, seconds: started.elapsed().as_secs_f64() };
        progress(&timing);
        timings.push(timing);
    };

    let started = Instant::now();
    let all_bits = plan.tensors.last().ok_or_else(|| ProveError::MissingCommitment("b".into()))?;
    let Storage::Committed { col_vars: bit_cols, .. } = all_bits.storage else {
        return Err(ProveError::MissingCommitment("b".into()));
    };
    let (bit_commitment, bit_blinds) = match &tables.bits {
        BitTable::Packed(bits) => ranks::commit::commit(ranks.as_deref_mut(), key, bits, bit_cols, rng),
        BitTable::Field(values) => ranks::commit::commit(ranks.as_deref_mut(), key, &values[..], bit_cols, rng),
    };
    record("commit b".into(), started, &mut timings);

    let mut prover = Prover {
        plan,
        tables,
        transcript: start_transcript(
            plan,
            public,
            &public.public_values.par_iter().map(|(_, v)| v.digests()).collect::<Vec<_>>(),
            &bit_commitment,
            mode,
        ),
        claims: vec![Vec::new(); plan.tensors.len()],
        current: RelationProof::default(),
        blinder: mode.is_zero_knowledge().then(|| Blinder::new(rng)),
        equalities: ProverEqualities::default(),
        // The communicator's own lifetime shortened to the prover's.
        ranks: ranks.map(|r| r as &mut dyn Communicator),
    };
    let mut relations = Vec::with_capacity(plan.relations.len());
    for relation in &plan.relations {
        let started = Instant::now();
        prover.transcript.append_message(b"relation", relation_name(relation).as_bytes());
        match relation.kind {
            RelationKind::MatMulForward | RelationKind::MatMulBackward | RelationKind::WeightGradient => {
                matmul::prove(&mut prover, relation)?
            }
            RelationKind::ZkRelu | RelationKind::ReluBackward => hadamard::prove(&mut prover, relation)?,
            RelationKind::Rescale(_) => rescale::prove(&mut prover, relation)?,
            RelationKind::MseGrad => loss::prove(&mut prover, relation)?,
            RelationKind::BiasGradient => bias::prove(&mut prover, relation)?,
            RelationKind::SgdUpdate => update::prove(&mut prover, relation)?,
            RelationKind::Recompose(Recomposition::TwosComplement(n)) => {
                recompose::prove_twos_complement(&mut prover, relation, n)?
            }
            RelationKind::Recompose(Recomposition::SignMagnitude(q)) => {
                recompose::prove_sign_magnitude(&mut prover, relation, q)?
            }
            RelationKind::Binary => binary::prove(&mut prover, relation)?,
        }
        prover.current.equalities = prover.equalities.prove(&mut prover.transcript, prover.blinder.as_mut());
        relations.push(std::mem::take(&mut prover.current));
        record(relation_name(relation), started, &mut timings);
    }

    let started = Instant::now();
    let mut openings = Vec::new();
    for tensor in &plan.tensors {
        if tensor.id == all_bits.id {
            continue;
        }
        let claims = std::mem::take(&mut prover.claims[tensor.id.0 as usize]);
        if tensor.storage == Storage::Public {
            // The verifier evaluates these claims itself and requires each committed value to equal
            // its evaluation, a public value: only the claim's blind enters the proof of equality, so
            // the prover need not evaluate (the 0 stands for the public value).
            for claim in &claims {
                prover.equalities.require(claim.value, Secret::public(Fr::zero()));
            }
            continue;
        }
        let Storage::Committed { .. } = tensor.storage else { continue };
        if claims.is_empty() {
            continue;
        }
        let missing = || ProveError::MissingCommitment(tensor.name());
        let commitment = public.commitment(tensor.id.0).ok_or_else(missing)?;
        let blinds = secrets.blinds.iter().find(|(i, _)| *i == tensor.id.0).map(|(_, b)| b).ok_or_else(missing)?;
        let blocks = ViewBlocks::whole(tables, plan, tensor.id);
        let (merge, claim) = prove_merge_weighted_blocks(
            prover.ranks.as_deref_mut(),
            tensor_label(tensor.id),
            &claims,
            &blocks,
            tensor.layout.num_vars() as usize,
            tables.block_vars,
            &mut prover.transcript,
            prover.blinder.as_mut(),
        );
        let (block_vars, log_cols) = (tables.block_vars, commitment.log_cols as usize);
        let combination =
            ranks::commit::row_combination(prover.ranks.as_deref_mut(), &blocks, block_vars, log_cols, &claim.point);
        let opening = key.open_bound_on(
            prover.ranks.as_deref_mut(),
            &mut prover.transcript,
            commitment,
            combination,
            blinds,
            &claim.point,
            claim.value,
            rng,
        );
        openings.push(TensorOpening { merge, opening });
    }
    let opening_equalities = prover.equalities.prove(&mut prover.transcript, prover.blinder.as_mut());
    let bit_claims = std::mem::take(&mut prover.claims[all_bits.id.0 as usize]);
    let bit_opening = bit_opening::prove(
        prover.ranks.as_deref_mut(),
        key,
        &mut prover.transcript,
        &tables.bits,
        &bit_commitment,
        &bit_blinds,
        &bit_claims,
        prover.blinder.as_mut(),
        rng,
    );
    record("openings".into(), started, &mut timings);
    let dataset_link = match dataset {
        Some(input) => {
            let started = Instant::now();
            let link = dataset_link::prove(
                plan,
                key,
                tables,
                public,
                secrets,
                input,
                &mut prover.transcript,
                prover.blinder.as_mut(),
                rng,
            )?;
            record("dataset link".into(), started, &mut timings);
            Some(link)
        }
        None => None,
    };
    let body = ProofBody {
        zero_knowledge: mode.is_zero_knowledge(),
        bit_commitment,
        relations,
        openings,
        bit_opening,
        opening_equalities,
        dataset_link,
    };
    Ok((body, timings))
}

/// Verifies a proof of training for `plan` and the public inputs. A statement that names a dataset
/// is verified without its link to the data ([`verify_with_dataset`] checks that too).
pub fn verify(
    plan: &Plan,
    key: &CommitmentKey,
    public: &PublicInputs,
    proof: &ProofBody,
) -> Result<(), VerificationError> {
    verify_with_dataset(plan, key, public, proof, None)
}

/// Verifies a proof of training and, given the dataset commitment that `public.dataset` names, that
/// every batch is the dataset's rows selected by the sampling rule ([`dataset_link`]). Without the
/// dataset, everything but that link is verified.
pub fn verify_with_dataset(
    plan: &Plan,
    key: &CommitmentKey,
    public: &PublicInputs,
    proof: &ProofBody,
    dataset: Option<&DatasetCommitment>,
) -> Result<(), VerificationError> {
    let malformed_link = |what: String| VerificationError::Malformed { relation: "dataset link".into(), what };
    match (&public.dataset, &proof.dataset_link) {
        (Some(_), Some(_)) | (None, None) => {}
        (Some(_), None) => return Err(malformed_link("the statement names a dataset, the proof has no link".into())),
        (None, Some(_)) => {
            return Err(malformed_link("the proof links to a dataset its statement does not name".into()))
        }
    }
    if let (Some(statement), Some(dataset)) = (&public.dataset, dataset) {
        if statement.digest != dataset.digest() || statement.examples != dataset.header.examples {
            return Err(VerificationError::Check {
                relation: "statement".into(),
                what: "the proof names another dataset commitment (its digest differs)".into(),
            });
        }
    }
    let malformed = |relation: &str, what: String| VerificationError::Malformed { relation: relation.into(), what };
    if proof.relations.len() != plan.relations.len() {
        return Err(malformed(
            "proof",
            format!("{} relation proofs for a plan of {} relations", proof.relations.len(), plan.relations.len()),
        ));
    }
    let mode = proof.mode();
    // The public values are checked while they are converted once for the claims' evaluation and
    // hashed from the converted integers; a failed check still wins.
    let (layouts, public_entries) = rayon::join(
        || check_layouts(plan, public, proof),
        || {
            public
                .public_values
                .par_iter()
                .map(|(id, v)| {
                    let entries = PublicEntries::new(v);
                    let digests = entries.digests();
                    ((*id, entries), digests)
                })
                .collect::<Vec<_>>()
        },
    );
    layouts?;
    let (public_entries, value_digests): (Vec<_>, Vec<_>) = public_entries.into_iter().unzip();
    let transcript = start_transcript(plan, public, &value_digests, &proof.bit_commitment, mode);
    let all_bits = plan.tensors.last().ok_or_else(|| malformed("plan", "the plan has no tensors".into()))?;

    let empty = RelationProof::default();
    let mut verifier = Verifier {
        plan,
        transcript,
        claims: vec![Vec::new(); plan.tensors.len()],
        current: &empty,
        cursor: 0,
        relation: String::new(),
        merge_used: false,
        sumcheck_used: false,
        mode,
        equalities: VerifierEqualities::default(),
    };
    for (relation, relation_proof) in plan.relations.iter().zip(&proof.relations) {
        verifier.relation = relation_name(relation);
        verifier.current = relation_proof;
        verifier.cursor = 0;
        verifier.merge_used = false;
        verifier.sumcheck_used = false;
        verifier.transcript.append_message(b"relation", verifier.relation.as_bytes());
        match relation.kind {
            RelationKind::MatMulForward | RelationKind::MatMulBackward | RelationKind::WeightGradient => {
                matmul::verify(&mut verifier, relation)?
            }
            RelationKind::ZkRelu | RelationKind::ReluBackward => hadamard::verify(&mut verifier, relation)?,
            RelationKind::Rescale(_) => rescale::verify(&mut verifier, relation)?,
            RelationKind::MseGrad => loss::verify(&mut verifier, relation)?,
            RelationKind::BiasGradient => bias::verify(&mut verifier, relation)?,
            RelationKind::SgdUpdate => update::verify(&mut verifier, relation)?,
            RelationKind::Recompose(Recomposition::TwosComplement(n)) => {
                recompose::verify_twos_complement(&mut verifier, relation, n)?
            }
            RelationKind::Recompose(Recomposition::SignMagnitude(q)) => {
                recompose::verify_sign_magnitude(&mut verifier, relation, q)?
            }
            RelationKind::Binary => binary::verify(&mut verifier, relation)?,
        }
        let sent = relation_proof.messages.len() + relation_proof.committed_messages.len();
        if verifier.cursor != sent {
            return Err(malformed(&verifier.relation, format!("{sent} values sent, {} expected", verifier.cursor)));
        }
        let relation_name = verifier.relation.clone();
        verifier.equalities.verify(&mut verifier.transcript, relation_proof.equalities.as_ref(), &relation_name)?;
        if relation_proof.merge.is_some() && !verifier.merge_used {
            return Err(malformed(&verifier.relation, "the relation sends a merge it has no claims for".into()));
        }
        if relation_proof.sumcheck.is_some() && !verifier.sumcheck_used {
            return Err(malformed(&verifier.relation, "the relation sends a sumcheck it does not run".into()));
        }
    }

    let mut openings = proof.openings.iter();
    for tensor in &plan.tensors {
        if tensor.id == all_bits.id {
            continue;
        }
        let claims = std::mem::take(&mut verifier.claims[tensor.id.0 as usize]);
        if claims.is_empty() {
            continue;
        }
        match tensor.storage {
            Storage::Committed { .. } => {
                let opening = openings
                    .next()
                    .ok_or_else(|| malformed("openings", format!("no opening for {}", tensor.name())))?;
                let commitment = public
                    .commitment(tensor.id.0)
                    .ok_or_else(|| malformed("statement", format!("no commitment to {}", tensor.name())))?;
                let n = tensor.layout.num_vars() as usize;
                let claim = verify_merge_weighted(
                    tensor_label(tensor.id),
                    n,
                    &claims,
                    &opening.merge,
                    mode,
                    &mut verifier.transcript,
                )?;
                key.verify_opening_sent(&mut verifier.transcript, commitment, &claim, &opening.opening).map_err(
                    |e| match e {
                        VerificationError::Opening { .. } => {
                            VerificationError::Opening { relation: format!("opening of {}", tensor.name()) }
                        }
                        other => other,
                    },
                )?;
            }
            Storage::Public => {
                let entries = public_entries
                    .iter()
                    .find(|(id, _)| *id == tensor.id.0)
                    .map(|(_, entries)| entries)
                    .ok_or_else(|| malformed("statement", format!("no public values for {}", tensor.name())))?;
                let n = tensor.layout.num_vars() as usize;
                let relation = format!("public {}", tensor.name());
                // Every claim's value in one parallel pass over the claims, then checked in order.
                let expected: Vec<Fr> =
                    claims.par_iter().map(|claim| public_claim_value(&claim.weight, entries, n)).collect();
                for (claim, expected) in claims.iter().zip(expected) {
                    let expected = Sent::Clear(expected);
                    verifier.equalities.require(claim.value, expected, &relation, "a claim on the public values")?;
                }
            }
            _ => {
                return Err(malformed("plan", format!("claims on {} were never reduced", tensor.name())));
            }
        }
    }
    if openings.next().is_some() {
        return Err(malformed("openings", "more openings than committed tensors with claims".into()));
    }
    verifier.equalities.verify(&mut verifier.transcript, proof.opening_equalities.as_ref(), "public tensors")?;
    let bit_claims = std::mem::take(&mut verifier.claims[all_bits.id.0 as usize]);
    bit_opening::verify(key, &mut verifier.transcript, &proof.bit_commitment, &bit_claims, &proof.bit_opening, mode)?;
    if let (Some(statement), Some(dataset), Some(link)) = (&public.dataset, dataset, &proof.dataset_link) {
        dataset_link::verify(
            plan,
            key,
            public,
            statement,
            dataset,
            link,
            mode.is_zero_knowledge(),
            &mut verifier.transcript,
        )?;
    }
    Ok(())
}

/// A public tensor's entries for evaluating claims on them: as signed integers when every entry is
/// one of at most 64 bits (public X, Y, W_0 and W_T are, by their range check), which makes a
/// weighted sum about one multiplication of a field element by a word per entry
/// ([`inner_product_small`]); else as field elements.
#[derive(Clone, Copy)]
enum Entries<'a> {
    Small(&'a [i64]),
    Field(&'a [Fr]),
}

/// The entries of a public tensor, converted once for all its claims (integers stay integers).
enum PublicEntries<'a> {
    Small(Cow<'a, [i64]>),
    Field(&'a [Fr]),
}

impl<'a> PublicEntries<'a> {
    fn new(values: &'a PublicValues) -> PublicEntries<'a> {
        let values = match values {
            PublicValues::Small(v) => return PublicEntries::Small(Cow::Borrowed(v)),
            PublicValues::Field(v) => v,
        };
        let small: Option<Vec<i64>> =
            values.par_iter().with_min_len(crate::crypto::tensor::PARALLEL_MIN).map(small_signed).collect();
        small.map_or(PublicEntries::Field(values), |v| PublicEntries::Small(Cow::Owned(v)))
    }

    fn entries(&self) -> Entries<'_> {
        match self {
            PublicEntries::Small(v) => Entries::Small(v),
            PublicEntries::Field(v) => Entries::Field(v),
        }
    }

    /// [`public_value_digests`] of the values.
    fn digests(&self) -> Vec<u8> {
        match self {
            PublicEntries::Small(v) => small_value_digests(v),
            PublicEntries::Field(v) => public_value_digests(v),
        }
    }
}

impl Entries<'_> {
    fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Field(v) => v.len(),
        }
    }

    /// The `k`-th block of `block` consecutive entries.
    fn block(&self, k: usize, block: usize) -> Self {
        match self {
            Entries::Small(v) => Entries::Small(&v[k * block..(k + 1) * block]),
            Entries::Field(v) => Entries::Field(&v[k * block..(k + 1) * block]),
        }
    }

    /// `Σ_i table[i]·v_i`.
    fn inner_product(&self, table: &[Fr]) -> Fr {
        match self {
            Entries::Small(v) => inner_product_small(table, v),
            Entries::Field(v) => inner_product(table, v),
        }
    }

    /// `Σ_{i < count} v_i`.
    fn prefix_sum(&self, count: usize) -> Fr {
        match self {
            Entries::Small(v) => Fr::from(v[..count].par_iter().map(|&x| i128::from(x)).sum::<i128>()),
            Entries::Field(v) => v[..count].par_iter().with_min_len(crate::crypto::tensor::PARALLEL_MIN).copied().sum(),
        }
    }

    /// The multilinear extension at `point`.
    fn evaluate(&self, point: &[Fr]) -> Fr {
        match self {
            Entries::Small(_) => self.inner_product(&crate::crypto::tensor::eq_table(point)),
            Entries::Field(v) => evaluate(v, point),
        }
    }
}

/// `v` as a signed integer of 64 bits, if it is one (read in `(−p/2, p/2)`).
fn small_signed(v: &Fr) -> Option<i64> {
    use ark_ff::PrimeField;
    let b = v.into_bigint();
    if b.0[1..].iter().all(|l| *l == 0) {
        return i64::try_from(b.0[0]).ok();
    }
    let m = (-*v).into_bigint();
    (m.0[1..].iter().all(|l| *l == 0) && m.0[0] <= 1 << 63).then(|| (m.0[0] as i64).wrapping_neg())
}

/// `Σ_x W(x)·v(x)` over the `n`-variable hypercube: the value a claim with public weight `W` must
/// have on the public tensor `v` (the verifier's evaluation of a claim on public values).
///
/// `eq(u, ·)` is the multilinear extension `v(u)` (a fold of `v`, or its eq table's inner product with
/// small entries); a Kronecker product builds the table of its trailing factors once and takes its
/// inner product with each block of `v` where the leading factor is nonzero, the blocks in parallel;
/// sums and prefixes are taken term by term. The full table of `W` is built only for a weight with
/// another number of variables (malformed: the fallback keeps the plain definition).
fn public_claim_value(weight: &PublicTensor, values: &PublicEntries<'_>, n: usize) -> Fr {
    let entries = values.entries();
    if weight.num_vars() != Some(n) || entries.len() != 1usize << n {
        return entries.inner_product(&weight.table(n));
    }
    weighted_sum(weight, entries)
}

/// [`public_claim_value`] for a well-formed weight over exactly `log2(values.len())` variables.
fn weighted_sum(weight: &PublicTensor, values: Entries<'_>) -> Fr {
    match weight {
        PublicTensor::Eq(point) => values.evaluate(point),
        PublicTensor::EqCombination(parts) => parts.iter().map(|(c, point)| *c * values.evaluate(point)).sum(),
        PublicTensor::Dense(table) => values.inner_product(table),
        PublicTensor::Prefix { count, .. } => {
            values.prefix_sum(usize::try_from(*count).unwrap_or(usize::MAX).min(values.len()))
        }
        PublicTensor::Kron(factors) => match factors.as_slice() {
            [] => values.prefix_sum(1),
            [only] => weighted_sum(only, values),
            [first, rest @ ..] => {
                // Σ_a T_0[a] · ⟨T_1 ⊗ …, v[a, ·]⟩ over the blocks a where T_0[a] ≠ 0.
                let lead = first.table(first.num_vars().unwrap_or(0));
                let block = values.len() / lead.len();
                let trailing = match rest {
                    [last] => last.table(log2_exact(block)),
                    _ => PublicTensor::Kron(rest.to_vec()).table(log2_exact(block)),
                };
                lead.par_iter()
                    .enumerate()
                    .filter(|(_, a)| !a.is_zero())
                    .map(|(k, a)| *a * values.block(k, block).inner_product(&trailing))
                    .sum()
            }
        },
        PublicTensor::Sum(parts) => parts.iter().map(|(c, part)| *c * weighted_sum(part, values)).sum(),
    }
}

/// The cheap checks a verifier makes before any work that grows with the plan (deriving the commitment
/// key, above all): the commitment to b and the statement's commitments and public values have the
/// plan's layouts, so a file cannot make the verifier derive a key larger than what it carries.
pub fn check_layouts(plan: &Plan, public: &PublicInputs, proof: &ProofBody) -> Result<(), VerificationError> {
    let malformed =
        |relation: &str, what: &str| VerificationError::Malformed { relation: relation.into(), what: what.into() };
    let all_bits = plan.tensors.last().ok_or_else(|| malformed("plan", "the plan has no tensors"))?;
    let Storage::Committed { col_vars: bit_cols, row_vars: bit_rows, .. } = all_bits.storage else {
        return Err(malformed("plan", "the bit tensor is not committed"));
    };
    if proof.bit_commitment.log_cols != bit_cols || proof.bit_commitment.rows.len() != 1usize << bit_rows {
        return Err(malformed("commitment to b", "the commitment does not have the plan's layout"));
    }
    check_public_inputs(plan, public)
}

/// The width of the signed range a public tensor's entries must lie in: what its range check would
/// prove were it committed (`PROTOCOL.md` §3) — X and Y to R+2 bits, W_0 to S_W+2 bits. Without it a
/// public entry could be any field element, and a relation that multiplies it (M1, M3) could wrap
/// around p: with a zeroed row of W_0, a column of X of about 2^253 makes the weight gradient
/// `G_Wᵀ = Gᵀx` anything the prover solves for, and with it W_T. Public W_T (never range-checked when
/// committed either: U1 defines it as `W_0 − Σ G_W` from range-bounded values) must lie within its
/// magnitude bound plus the sign, `bounds.weight + 1` bits, the width of its committed values.
pub fn public_range_bits(plan: &Plan, t: &StackedTensor) -> Result<u32, VerificationError> {
    use zkdl_compiler::plan::StackRole;
    use zkdl_compiler::Role;
    match t.role {
        StackRole::Tensor(Role::Input | Role::Target) => Ok(plan.params.data_bits),
        StackRole::InitialWeight | StackRole::InitialBias => Ok(plan.params.weight_bits),
        StackRole::FinalWeight | StackRole::FinalBias => Ok(plan.bounds.weight + 1),
        _ => Err(VerificationError::Malformed {
            relation: "statement".into(),
            what: format!("{} is public, but only X, Y, W_0, β_0, W_T and β_T may be", t.name()),
        }),
    }
}

/// Whether `v`, read as the signed integer in `(−p/2, p/2)`, lies in `[−2^(bits−1), 2^(bits−1))`.
pub fn fits_signed(v: Fr, bits: u32) -> bool {
    fits_shifted(v, &SignedRange::new(bits))
}

/// [`fits_signed`] with the range's bounds computed once by the caller: one conversion out of
/// Montgomery form and two comparisons of canonical integers.
fn fits_shifted(v: Fr, range: &SignedRange) -> bool {
    use ark_ff::PrimeField;
    match range {
        SignedRange::Empty => false,
        SignedRange::Everything => true,
        SignedRange::Bounds { half, lowest_negative } => {
            let b = v.into_bigint();
            b < *half || b >= *lowest_negative
        }
    }
}

/// The field elements of `[−2^(bits−1), 2^(bits−1))` as canonical integers in `[0, p)`: those below
/// `half = 2^(bits−1)` and those from `p − 2^(bits−1)` on (the negative ones). Empty for 0 bits; every
/// element from 255 bits on (`2^(bits−1) + 2^(bits−1) > p`).
enum SignedRange {
    Empty,
    Everything,
    Bounds { half: <Fr as ark_ff::PrimeField>::BigInt, lowest_negative: <Fr as ark_ff::PrimeField>::BigInt },
}

impl SignedRange {
    fn new(bits: u32) -> SignedRange {
        use ark_ff::{BigInteger, PrimeField};
        match bits {
            0 => SignedRange::Empty,
            255.. => SignedRange::Everything,
            _ => {
                let half = <Fr as PrimeField>::BigInt::from(1u64) << (bits - 1);
                let mut lowest_negative = Fr::MODULUS;
                lowest_negative.sub_with_borrow(&half);
                SignedRange::Bounds { half, lowest_negative }
            }
        }
    }
}

/// A field element as its signed representative, in decimal when it is small, else as ±2^k-ish.
fn signed_display(v: Fr) -> String {
    use ark_ff::{BigInteger, PrimeField};
    let (negative, magnitude) = if v.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO { (true, -v) } else { (false, v) };
    let m = magnitude.into_bigint();
    let sign = if negative { "−" } else { "" };
    if m.num_bits() <= 64 {
        format!("{sign}{}", m.as_ref()[0])
    } else {
        format!("{sign}≈2^{}", m.num_bits() - 1)
    }
}

/// Why a public entry is rejected: nonzero in padding, or outside its signed range.
enum BadEntry {
    Padding(usize),
    Range(usize),
}

/// The first entry of the public tensor `t` (by index) that is nonzero in padding or, in the used
/// region, outside the `bits`-bit signed range ([`fits_signed`]); one parallel pass over the rows.
///
/// An entry (step, layer slot, plane, row, col) is used when `step < steps`, the slot holds one of the
/// tensor's shapes and `plane`, `row` and `col` are within that shape: the indicator
/// [`routing::used_region`] is, read entry by entry without building its table.
fn first_bad_public_entry(t: &StackedTensor, values: &PublicValues, bits: u32) -> Option<BadEntry> {
    match values {
        PublicValues::Field(v) => {
            let range = SignedRange::new(bits);
            first_bad_entry(t, v, |v: &Fr| fits_shifted(*v, &range), Fr::is_zero)
        }
        PublicValues::Small(v) => {
            let in_range = |x: &i64| match bits {
                0 => false,
                b if b > 64 => true,
                b => (-(1i128 << (b - 1))..1i128 << (b - 1)).contains(&i128::from(*x)),
            };
            first_bad_entry(t, v, in_range, |x: &i64| *x == 0)
        }
    }
}

/// [`first_bad_public_entry`] over entries of either form.
fn first_bad_entry<V: Sync>(
    t: &StackedTensor,
    values: &[V],
    in_range: impl Fn(&V) -> bool + Sync,
    is_zero: impl Fn(&V) -> bool + Sync,
) -> Option<BadEntry> {
    let l = t.layout;
    let row_len = 1usize << l.col_bits;
    let (plane_row_bits, row_bits) = (l.plane_bits + l.row_bits, l.row_bits);
    // The number of used entries at the start of row `r` (slot, plane, row).
    let used_in_row = |r: usize| -> usize {
        let instance = r >> plane_row_bits;
        let (step, slot) = (instance >> l.layer_bits, instance & ((1usize << l.layer_bits) - 1));
        let Some(shape) = t.shapes.get(slot).filter(|_| step < t.steps.count as usize) else { return 0 };
        let (plane, row) = ((r >> row_bits) & ((1usize << l.plane_bits) - 1), r & ((1usize << row_bits) - 1));
        if plane < shape.planes as usize && row < shape.rows as usize {
            (shape.cols as usize).min(row_len)
        } else {
            0
        }
    };
    values.par_chunks(row_len).enumerate().find_map_first(|(r, row)| {
        let used = used_in_row(r);
        let bad = row[..used]
            .iter()
            .position(|v| !in_range(v))
            .map(|c| BadEntry::Range(r * row_len + c))
            .into_iter()
            .chain(row[used..].iter().position(|v| !is_zero(v)).map(|c| BadEntry::Padding(r * row_len + used + c)));
        bad.min_by_key(|b| match b {
            BadEntry::Padding(i) | BadEntry::Range(i) => *i,
        })
    })
}

/// The public inputs have a commitment of the plan's layout for every tensor committed in the
/// statement, and values of the right length for every public tensor, each in the signed range
/// of [`public_range_bits`] and zero in padding.
fn check_public_inputs(plan: &Plan, public: &PublicInputs) -> Result<(), VerificationError> {
    let malformed = |what: String| VerificationError::Malformed { relation: "statement".into(), what };
    let mut expected_commitments = 0;
    let mut expected_values = 0;
    for t in &plan.tensors {
        match t.storage {
            Storage::Committed { public_commitment: true, row_vars, col_vars, .. } => {
                expected_commitments += 1;
                let c = public.commitment(t.id.0).ok_or_else(|| malformed(format!("no commitment to {}", t.name())))?;
                if c.log_cols != col_vars || c.rows.len() != 1usize << row_vars {
                    return Err(malformed(format!("the commitment to {} does not have the plan's layout", t.name())));
                }
            }
            Storage::Public => {
                expected_values += 1;
                let v = public.values(t.id.0).ok_or_else(|| malformed(format!("no public values for {}", t.name())))?;
                if v.len() as u64 != t.padded_entries() {
                    return Err(malformed(format!("{} public values for {}", v.len(), t.name())));
                }
                let bits = public_range_bits(plan, t)?;
                match first_bad_public_entry(t, v, bits) {
                    None => {}
                    Some(BadEntry::Padding(i)) => {
                        return Err(VerificationError::Check {
                            relation: "statement".into(),
                            what: format!("public {} has a nonzero value in padding at entry {i}", t.name()),
                        })
                    }
                    Some(BadEntry::Range(i)) => {
                        return Err(VerificationError::Check {
                            relation: "statement".into(),
                            what: format!(
                                "public {} entry {i} is {}, outside the {bits}-bit signed range [−2^{}, 2^{}) that \
                                 the proof relies on",
                                t.name(),
                                signed_display(v.get(i).unwrap_or_default()),
                                bits.saturating_sub(1),
                                bits.saturating_sub(1)
                            ),
                        })
                    }
                }
            }
            _ => {}
        }
    }
    if public.commitments.len() != expected_commitments || public.public_values.len() != expected_values {
        return Err(malformed("the statement has entries the plan does not".into()));
    }
    Ok(())
}

#[cfg(test)]
mod public_digest_tests {
    use super::*;
    use crate::statement::PUBLIC_DIGEST_CHUNK;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The verifier's digests from small integers equal the prover's from field elements, chunk by
    /// chunk, for every sign and the extremes; one changed value changes its chunk's digest only.
    #[test]
    fn small_value_digests_equal_the_field_digests() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut values: Vec<i64> = vec![0, 1, -1, i64::MAX, i64::MIN, i64::MIN + 1, 1 << 46, -(1 << 46)];
        values.extend((0..PUBLIC_DIGEST_CHUNK + 1000).map(|i| rng.gen::<i64>() >> (i % 64)));
        let field: Vec<Fr> = values.iter().map(|&v| Fr::from(v)).collect();
        assert_eq!(field.iter().map(small_signed).collect::<Option<Vec<i64>>>(), Some(values.clone()));
        let digests = public_value_digests(&field);
        assert_eq!(digests.len(), 2 * 32);
        assert_eq!(small_value_digests(&values), digests);
        let mut changed = values.clone();
        changed[PUBLIC_DIGEST_CHUNK + 5] += 1;
        let other = small_value_digests(&changed);
        assert_eq!(other[..32], digests[..32]);
        assert_ne!(other[32..], digests[32..]);
        assert!(public_value_digests(&[]).is_empty());
    }
}
