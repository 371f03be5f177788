//! Zero-knowledge of the proof of training (`docs/zero-knowledge.md`): the default mode, its label,
//! fresh randomness in every element, and no witness value anywhere in the proof.
//!
//! The simulators (a sumcheck and an opening produced from the statement and the verifier's coins
//! alone) are unit tests of `sumcheck` and `commitment`, where the verifier's coins can be fixed.

use std::collections::HashSet;

use ark_serialize::CanonicalSerialize;
use zkdl_compiler::Plan;
use zkdl_runtime::crypto::claims::ClaimMergeProof;
use zkdl_runtime::crypto::commitment::{CommitmentKey, OpeningProof};
use zkdl_runtime::crypto::sumcheck::SumcheckProof;
use zkdl_runtime::crypto::zk::{Mode, ProductProof, ZeroProof};
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, ProofBody, PublicInputs, StatementSecrets, Tables};
use zkdl_runtime::{Fr, G1Affine};

mod common;

use common::{rng, small_spec, witness};

struct Run {
    plan: Plan,
    tables: Tables<'static>,
    key: CommitmentKey,
    public: PublicInputs,
    secrets: StatementSecrets,
}

fn run() -> Run {
    let w = witness(&small_spec(), 2, 5);
    let key = CommitmentKey::new(key_log_cols(&w.plan));
    let tables = Tables::from_witness(&w);
    let (public, secrets) = proof::commit_statement(&w.plan, &key, &tables, &mut rng(1));
    Run { plan: w.plan, tables, key, public, secrets }
}

impl Run {
    /// The proof file of `body` for this run's statement.
    fn file(&self, body: ProofBody) -> ProofFile {
        ProofFile {
            spec: small_spec(),
            initial_seed: None,
            initial_weights: Default::default(),
            steps: 2,
            visibility: self.plan.visibility,
            plan_digest: self.plan.digest(),
            public: self.public.clone(),
            body,
        }
    }
}

fn prove(r: &Run, mode: Mode, seed: u64) -> ProofBody {
    let (body, _) =
        proof::prove_in_mode(mode, &r.plan, &r.key, &r.tables, &r.public, &r.secrets, &mut rng(seed), |_| {}).unwrap();
    body
}

#[test]
fn zero_knowledge_is_the_default_and_a_clear_proof_says_so() {
    let r = run();
    let (default, _) = proof::prove(&r.plan, &r.key, &r.tables, &r.public, &r.secrets, &mut rng(2), |_| {}).unwrap();
    assert!(default.zero_knowledge);
    assert_eq!(default.mode(), Mode::ZeroKnowledge);
    proof::verify(&r.plan, &r.key, &r.public, &default).unwrap();
    let clear = prove(&r, Mode::Clear, 2);
    assert_eq!(clear.mode(), Mode::Clear);
    assert_eq!(Mode::Clear.label(), "NOT zero-knowledge");
    proof::verify(&r.plan, &r.key, &r.public, &clear).unwrap();
    // The label cannot be changed: either way the transcript and the message forms disagree.
    let mut relabelled = default.clone();
    relabelled.zero_knowledge = false;
    assert!(proof::verify(&r.plan, &r.key, &r.public, &relabelled).is_err());
    let mut relabelled = clear;
    relabelled.zero_knowledge = true;
    assert!(proof::verify(&r.plan, &r.key, &r.public, &relabelled).is_err());
}

/// Every field element and group element of a proof body, in order.
#[derive(Default)]
struct Elements {
    fields: Vec<Fr>,
    points: Vec<G1Affine>,
}

impl Elements {
    fn of(body: &ProofBody) -> Self {
        let mut e = Elements::default();
        e.points.extend(&body.bit_commitment.rows);
        for relation in &body.relations {
            if let Some(merge) = &relation.merge {
                e.merge(merge);
            }
            e.fields.extend(&relation.messages);
            e.points.extend(&relation.committed_messages);
            if let Some(sumcheck) = &relation.sumcheck {
                e.sumcheck(sumcheck);
            }
            e.zero(relation.equalities.as_ref());
        }
        for opening in &body.openings {
            e.merge(&opening.merge);
            e.opening(&opening.opening);
        }
        e.sumcheck(&body.bit_opening.column_sumcheck);
        e.opening(&body.bit_opening.opening);
        e.zero(body.opening_equalities.as_ref());
        e
    }

    fn merge(&mut self, merge: &ClaimMergeProof) {
        if let Some(sumcheck) = &merge.sumcheck {
            self.sumcheck(sumcheck);
        }
    }

    fn sumcheck(&mut self, proof: &SumcheckProof) {
        self.fields.extend(proof.rounds.iter().flatten());
        self.fields.extend(&proof.final_evaluations);
        if let Some(hidden) = &proof.hidden {
            self.points.extend(hidden.rounds.iter().flatten());
            self.points.extend(&hidden.final_evaluations);
            self.points.extend(&hidden.products);
            for p in &hidden.product_proofs {
                self.product(p);
            }
            self.zero(Some(&hidden.final_check));
        }
    }

    fn product(&mut self, proof: &ProductProof) {
        self.points.extend([proof.alpha, proof.beta, proof.delta]);
        self.fields.extend(proof.responses);
    }

    fn zero(&mut self, proof: Option<&ZeroProof>) {
        if let Some(proof) = proof {
            self.points.push(proof.commitment);
            self.fields.push(proof.response);
        }
    }

    fn opening(&mut self, proof: &OpeningProof) {
        self.points.extend(proof.left.iter().chain(&proof.right));
        self.points.push(proof.schnorr_commitment);
        self.fields.extend([proof.response_value, proof.response_blind]);
    }

    /// Serialized size of the elements found; the rest of the body is lengths and tags.
    fn bytes(&self) -> usize {
        32 * self.fields.len() + 48 * self.points.len()
    }
}

#[test]
fn two_proofs_of_one_run_share_no_element_but_the_statement() {
    let r = run();
    // Both proofs go through their file bytes and are decoded from them.
    let decoded = |body: ProofBody| {
        let (read, plan) = ProofFile::from_bytes(&r.file(body).to_bytes()).unwrap();
        proof::verify(&plan, &r.key, &read.public, &read.body).unwrap();
        read.body
    };
    let (first, second) = (decoded(prove(&r, Mode::ZeroKnowledge, 3)), decoded(prove(&r, Mode::ZeroKnowledge, 4)));
    let (a, b) = (Elements::of(&first), Elements::of(&second));
    // The walk finds every element: all but the lengths and tags of the body (8 bytes per vector, 1 per option).
    let size = first.compressed_size();
    assert!(a.bytes() <= size && size - a.bytes() < size / 10, "{} of {size} bytes are elements", a.bytes());
    assert!(a.fields.len() > 50, "a zero-knowledge body sends Σ-protocol responses");
    let fields: HashSet<Fr> = a.fields.iter().copied().collect();
    let points: HashSet<G1Affine> = a.points.iter().copied().collect();
    let shared_fields = b.fields.iter().filter(|f| fields.contains(f)).count();
    let shared_points = b.points.iter().filter(|p| points.contains(p)).count();
    assert_eq!((shared_fields, shared_points), (0, 0), "elements shared between two proofs of one run");
    // The same randomness gives the same proof: the walk compares what it should.
    let again = Elements::of(&prove(&r, Mode::ZeroKnowledge, 3));
    assert_eq!((again.fields, again.points), (a.fields, a.points));
}

#[test]
fn no_witness_value_appears_in_the_proof_bytes() {
    let r = run();
    let bytes = r.file(prove(&r, Mode::ZeroKnowledge, 6)).to_bytes();
    // Every entry of every tensor of the witness (b's entries are the bits 0 and 1), as its 32 bytes.
    let mut values: HashSet<[u8; 32]> = HashSet::new();
    let mut encode = |v: &Fr| {
        let mut out = [0u8; 32];
        v.serialize_compressed(&mut out[..]).unwrap();
        values.insert(out);
    };
    for table in &r.tables.tensors {
        table.iter().for_each(&mut encode);
    }
    for i in 0..r.tables.bits.len() {
        encode(&r.tables.bits.entry(i));
    }
    assert!(values.len() > 1000, "{} distinct witness values", values.len());
    let found = |bytes: &[u8]| bytes.windows(32).position(|w| values.contains(<&[u8; 32]>::try_from(w).unwrap()));
    assert_eq!(found(&bytes), None, "a witness value in the proof file");
    // The scan finds a value where there is one.
    let planted_value = r.tables.tensors.iter().flatten().find(|v| **v != Fr::from(0u64)).unwrap();
    let mut planted = bytes.clone();
    let mut at = [0u8; 32];
    planted_value.serialize_compressed(&mut at[..]).unwrap();
    planted[1000..1032].copy_from_slice(&at);
    assert_eq!(found(&planted), Some(1000));
}
