//! Shared fixtures: seeded randomness and one sumcheck case per relation shape of `PROTOCOL.md` §4.
#![allow(dead_code)]

use ark_std::UniformRand;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::plan::{StackRole, StackedTensorId, Storage};
use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Plan};
use zkdl_runtime::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
use zkdl_runtime::crypto::tensor::{eq_table, evaluate, power_of_two};
use zkdl_runtime::training::data::{Dataset, EpochBatches};
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::FixedWeights;
use zkdl_runtime::training::witness::Witness;
use zkdl_runtime::{Fr, TensorId};

/// 64 → 16 → relu → 8 → relu → 10, batch 8, lr 2^-3: small enough to check every relation naively
/// and to prove in a second.
pub fn small_spec() -> NetworkSpec {
    NetworkSpec::builder("small").input(64).dense(16).relu().dense(8).relu().dense(10).sgd(3).batch(8).build().unwrap()
}

/// T steps of `spec` (batch 8) on the embedded digits, from a seeded He initialization and batch order.
pub fn witness(spec: &NetworkSpec, steps: u32, seed: u64) -> Witness {
    witness_with(spec, CompileOptions::steps(steps), seed)
}

/// As [`witness`], for a plan compiled with `options` (public data or initial weights).
pub fn witness_with(spec: &NetworkSpec, options: CompileOptions, seed: u64) -> Witness {
    let steps = options.steps;
    let plan = compile(spec, options).unwrap();
    let data = Dataset::digits();
    let trainer = Trainer::new(spec, steps as u64).unwrap();
    let order = EpochBatches::new(data.len(), 8, seed).unwrap();
    let batches = (0..steps as u64).map(|t| trainer.batch(&data, &order.batch(t), t).unwrap()).collect();
    let w0 = FixedWeights::he_init(spec, seed).unwrap();
    Witness::generate(&plan, w0, batches, |_, _| {}).unwrap()
}

/// The compact witness of a full one (W_0, W_T and the steps' traces), as the CLI proves from.
pub fn compact(full: &Witness) -> Witness {
    Witness::from_compact_parts(
        &full.plan,
        full.batches.clone(),
        full.weights[0].clone(),
        full.weights.last().unwrap().clone(),
        full.traces.clone(),
    )
}

/// Commits the statement of `tables` under `plan` and proves it, with randomness from `seed`.
pub fn prove_tables(
    plan: &Plan,
    tables: &zkdl_runtime::proof::Tables,
    seed: u64,
) -> (zkdl_runtime::crypto::commitment::CommitmentKey, zkdl_runtime::proof::PublicInputs, zkdl_runtime::proof::ProofBody)
{
    use zkdl_runtime::proof;
    let key = zkdl_runtime::crypto::commitment::CommitmentKey::new(proof::key_log_cols(plan));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (public, secrets) = proof::commit_statement(plan, &key, tables, &mut rng);
    let (body, _) = proof::prove(plan, &key, tables, &public, &secrets, &mut rng, |_| {}).unwrap();
    (key, public, body)
}

/// Proves a full witness and its compact copy (after checking the copy's relations), verifies the
/// first proof and requires the two to be byte-identical; returns the key, statement and proof.
pub fn prove_full_and_compact(
    run: &Witness,
    seed: u64,
) -> (zkdl_runtime::crypto::commitment::CommitmentKey, zkdl_runtime::proof::PublicInputs, zkdl_runtime::proof::ProofBody)
{
    use zkdl_runtime::proof::{self, Tables};
    let (key, public, body) = prove_tables(&run.plan, &Tables::from_witness(run), seed);
    proof::verify(&run.plan, &key, &public, &body).unwrap();
    let compacted = compact(run);
    compacted.check_relations().unwrap();
    let (_, _, compact_body) = prove_tables(&run.plan, &Tables::streaming(&compacted), seed);
    assert!(compact_body == body, "the compact witness gives a different proof");
    (key, public, body)
}

/// The stacked tensor of `role` holding layer `layer`.
pub fn tensor(plan: &Plan, role: StackRole, layer: u32) -> StackedTensorId {
    plan.tensors
        .iter()
        .find(|t| t.role == role && (t.layers.contains(&layer) || t.layers.is_empty()))
        .unwrap_or_else(|| panic!("no {} of layer {layer}", role.symbol()))
        .id
}

/// Index of (step, layer, row, col) in a value tensor.
pub fn entry(plan: &Plan, id: StackedTensorId, step: u32, layer: u32, row: u64, col: u64) -> usize {
    let t = &plan.tensors[id.0 as usize];
    let l = t.layout;
    let position = t.layers.iter().position(|&x| x == layer).unwrap() as u64;
    let instance = ((step - t.steps.first) as u64) << l.layer_bits | position;
    (((instance << l.row_bits) | row) << l.col_bits | col) as usize
}

/// Index in b of plane `plane` of entry (step, layer, row, col) of a bit-plane tensor.
pub fn bit(plan: &Plan, id: StackedTensorId, step: u32, layer: u32, plane: u32, row: u64, col: u64) -> usize {
    let t = &plan.tensors[id.0 as usize];
    let Storage::BitPlanes(chunks) = &t.storage else { panic!("{} is not bit planes", t.name()) };
    // A chunk's padded planes count as its own (an attacker may write there).
    let c = chunks.iter().find(|c| (c.first_plane..c.first_plane + c.padded_planes).contains(&plane)).unwrap();
    let l = t.layout;
    let position = t.layers.iter().position(|&x| x == layer).unwrap() as u64;
    let instance = ((step - t.steps.first) as u64) << l.layer_bits | position;
    let local = ((((instance << c.padded_planes.ilog2()) | (plane - c.first_plane) as u64) << l.row_bits) | row)
        << l.col_bits
        | col;
    (c.offset + local) as usize
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn random_fields(rng: &mut ChaCha20Rng, len: usize) -> Vec<Fr> {
    (0..len).map(|_| Fr::rand(rng)).collect()
}

pub fn one() -> Fr {
    Fr::from(1u64)
}

/// A sumcheck statement with its witness and the true sum.
pub struct SumcheckCase {
    pub name: &'static str,
    pub statement: SumcheckStatement,
    pub witness: Vec<Vec<Fr>>,
}

impl SumcheckCase {
    /// The sum, computed directly over the hypercube.
    pub fn true_sum(&self) -> Fr {
        let n = self.statement.num_vars;
        let mut witness = self.witness.iter();
        let tables: Vec<Vec<Fr>> = self
            .statement
            .factors
            .iter()
            .map(|f| match f {
                Factor::Committed(_) => witness.next().unwrap().clone(),
                Factor::Public(PublicTensor::Eq(u)) => eq_table(u),
                Factor::Public(PublicTensor::Dense(v)) => v.clone(),
                Factor::Public(PublicTensor::EqCombination(parts)) => {
                    let mut t = vec![Fr::from(0u64); 1 << n];
                    for (c, u) in parts {
                        for (x, e) in t.iter_mut().zip(eq_table(u)) {
                            *x += *c * e;
                        }
                    }
                    t
                }
                Factor::Public(structured) => structured.table(n),
            })
            .collect();
        let weight = self.statement.eq_weight.as_ref().map(|rho| eq_table(rho));
        (0..1usize << n)
            .map(|x| {
                let summand: Fr = self
                    .statement
                    .terms
                    .iter()
                    .map(|t| t.coefficient * t.factors.iter().map(|&f| tables[f][x]).product::<Fr>())
                    .sum();
                weight.as_ref().map_or(summand, |w| w[x] * summand)
            })
            .sum()
    }

    /// The true value of committed tensor `id` at `point`.
    pub fn evaluate_committed(&self, id: TensorId, point: &[Fr]) -> Fr {
        let index = self
            .statement
            .factors
            .iter()
            .filter(|f| matches!(f, Factor::Committed(_)))
            .position(|f| *f == Factor::Committed(id))
            .unwrap();
        evaluate(&self.witness[index], point)
    }
}

fn statement(
    name: &str,
    num_vars: usize,
    eq_weight: Option<Vec<Fr>>,
    factors: Vec<Factor>,
    terms: Vec<ProductTerm>,
) -> SumcheckStatement {
    SumcheckStatement { relation: name.to_string(), num_vars, eq_weight, factors, terms }
}

fn committed(ids: &[u32]) -> Vec<Factor> {
    ids.iter().map(|&i| Factor::Committed(TensorId(i))).collect()
}

/// One case per shape: matmul-like products, Hadamard under eq, degree 3, bits, linear relations
/// with public coefficients, public factors, and the edge cases (0, 1 and odd numbers of variables,
/// all-zero tensors, one nonzero entry).
pub fn sumcheck_cases(seed: u64) -> Vec<SumcheckCase> {
    let mut r = rng(seed);
    let mut cases = Vec::new();
    for n in [0usize, 1, 2, 5, 7] {
        let len = 1 << n;
        let a = random_fields(&mut r, len);
        let b = random_fields(&mut r, len);
        let c = random_fields(&mut r, len);
        let rho = random_fields(&mut r, n);
        // M1-like inner sum: Σ_k A(k) B(k).
        cases.push(SumcheckCase {
            name: "product of two",
            statement: statement("product of two", n, None, committed(&[0, 1]), vec![ProductTerm::new(one(), [0, 1])]),
            witness: vec![a.clone(), b.clone()],
        });
        // M1 aggregated: Σ eq(ρ, x) A(x) B(x) C(x) (degree 4 with the weight).
        cases.push(SumcheckCase {
            name: "eq-weighted product of three",
            statement: statement(
                "eq-weighted product of three",
                n,
                Some(rho.clone()),
                committed(&[0, 1, 2]),
                vec![ProductTerm::new(one(), [0, 1, 2])],
            ),
            witness: vec![a.clone(), b.clone(), c.clone()],
        });
        // H1: Σ eq(ρ, x) s(x) Z'(x) with s bits.
        let bits: Vec<Fr> = (0..len).map(|_| Fr::from(r.gen_bool(0.5))).collect();
        cases.push(SumcheckCase {
            name: "hadamard",
            statement: statement(
                "hadamard",
                n,
                Some(rho.clone()),
                committed(&[0, 1]),
                vec![ProductTerm::new(one(), [0, 1])],
            ),
            witness: vec![bits.clone(), a.clone()],
        });
        // B: Σ eq(ρ, x) (b² − b) = 0.
        cases.push(SumcheckCase {
            name: "bits are binary",
            statement: statement(
                "bits are binary",
                n,
                Some(rho.clone()),
                committed(&[0]),
                vec![ProductTerm::new(one(), [0, 0]), ProductTerm::new(-one(), [0])],
            ),
            witness: vec![bits.clone()],
        });
        // S1: Σ eq(ρ, x) (Z − 2^S Z' − rz), linear with public coefficients.
        cases.push(SumcheckCase {
            name: "rescale",
            statement: statement(
                "rescale",
                n,
                Some(rho.clone()),
                committed(&[0, 1, 2]),
                vec![
                    ProductTerm::new(one(), [0]),
                    ProductTerm::new(-power_of_two(45), [1]),
                    ProductTerm::new(-one(), [2]),
                ],
            ),
            witness: vec![a.clone(), b.clone(), c.clone()],
        });
        // A public factor, and a mix of degrees.
        let public = random_fields(&mut r, len);
        let mut factors = committed(&[0, 1]);
        factors.push(Factor::Public(PublicTensor::Dense(public)));
        cases.push(SumcheckCase {
            name: "public factor",
            statement: statement(
                "public factor",
                n,
                None,
                factors,
                vec![
                    ProductTerm::new(Fr::from(3u64), [0, 2]),
                    ProductTerm::new(one(), [0, 1, 2]),
                    ProductTerm::new(Fr::from(7u64), [1]),
                ],
            ),
            witness: vec![a.clone(), b.clone()],
        });
        // All zero, and one nonzero entry.
        cases.push(SumcheckCase {
            name: "all zero",
            statement: statement(
                "all zero",
                n,
                Some(rho.clone()),
                committed(&[0, 1]),
                vec![ProductTerm::new(one(), [0, 1])],
            ),
            witness: vec![vec![Fr::from(0u64); len], vec![Fr::from(0u64); len]],
        });
        let mut single = vec![Fr::from(0u64); len];
        single[len / 2] = Fr::from(9u64);
        cases.push(SumcheckCase {
            name: "one entry",
            statement: statement("one entry", n, None, committed(&[0, 1]), vec![ProductTerm::new(one(), [0, 1])]),
            witness: vec![single, b.clone()],
        });
    }
    cases
}
