//! The distributed sumcheck over MPI, checked against the single-process prover:
//!
//! ```text
//! cargo build -p zkdl-runtime --features mpi --example distributed_sumcheck
//! mpirun -np 2 target/debug/examples/distributed_sumcheck
//! ```
//!
//! Every rank draws the same tables (seeded) and keeps its restriction to the last `log2 N` index
//! bits; every rank also proves each statement alone and compares proof, claims and transcript. Each
//! rank prints what it sent. Exit status 1 if a distributed proof differs (`N` must be a power of two).

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_runtime::crypto::sumcheck::SumcheckProverState;
use zkdl_runtime::crypto::sumcheck::{self, Factor, ProductTerm, SumcheckStatement};
use zkdl_runtime::distributed::mpi::MpiRanks;
use zkdl_runtime::distributed::sumcheck::prove_distributed;
use zkdl_runtime::distributed::{restriction, Communicator};
use zkdl_runtime::{Fr, TensorId, Transcript};

/// Variables of every statement.
const VARS: usize = 12;

fn main() {
    let mut comm = match MpiRanks::init() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("distributed_sumcheck: {e}");
            std::process::exit(2);
        }
    };
    let (rank, size) = (comm.rank(), comm.size());
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let mut random = |len: usize| -> Vec<Fr> { (0..len).map(|_| ark_std::UniformRand::rand(&mut rng)).collect() };
    let one = Fr::from(1u64);
    let rho = random(VARS);
    // An M1-like inner product, and a Hadamard-like product of three under an eq weight.
    let statements = [
        SumcheckStatement {
            relation: "mpi: product of two".into(),
            num_vars: VARS,
            eq_weight: None,
            factors: vec![Factor::Committed(TensorId(0)), Factor::Committed(TensorId(1))],
            terms: vec![ProductTerm::new(one, [0, 1])],
        },
        SumcheckStatement {
            relation: "mpi: eq-weighted product of three".into(),
            num_vars: VARS,
            eq_weight: Some(rho),
            factors: (0..3).map(|i| Factor::Committed(TensorId(i))).collect(),
            terms: vec![ProductTerm::new(one, [0, 1, 2]), ProductTerm::new(-one, [0])],
        },
    ];
    let mut failed = false;
    for statement in &statements {
        let tables: Vec<Vec<Fr>> = statement.factors.iter().map(|_| random(1 << VARS)).collect();
        let restricted: Vec<Vec<Fr>> = tables.iter().map(|t| restriction(t, rank, size)).collect();
        let mut transcript = Transcript::new(b"mpi example");
        let state = SumcheckProverState::new(statement);
        let out = prove_distributed(&mut comm, statement, state, &mut transcript, restricted);
        let after = transcript.challenge_field(b"after");

        let mut alone = Transcript::new(b"mpi example");
        let public = vec![None; statement.factors.len()];
        let expected = sumcheck::prove_from(statement, SumcheckProverState::new(statement), tables, public, &mut alone);
        let same = out.proof == expected.proof
            && out.claims == expected.claims
            && out.point == expected.point
            && after == alone.challenge_field(b"after");
        println!(
            "{} (rank {rank}): {size} ranks {} the single-process proof",
            statement.relation,
            if same { "made" } else { "did NOT make" }
        );
        failed |= !same;
    }
    let traffic = comm.traffic();
    println!("rank {rank}: {} bytes sent in {} collective operations", traffic.bytes_sent, traffic.collectives);
    if failed {
        std::process::exit(1);
    }
}
