//! The backend suite: every device backend present (OpenCL, CUDA) against the cpu, kernel by kernel
//! on random and edge inputs, then whole proofs, which must be the cpu's byte for byte (field
//! arithmetic is exact, so a backend changes speed, never bytes).
//!
//! A backend whose driver is absent is skipped with a line on stderr, unless
//! `ZKDL_REQUIRE_OPENCL=1` / `ZKDL_REQUIRE_CUDA=1` says it must be there (CI requires OpenCL, the GPU
//! check CUDA). The device backends run here with every table on the device (`min_vars = 0`).

use std::sync::{Arc, OnceLock};

use ark_ff::{One, Zero};
use ark_serialize::CanonicalSerialize;
use ark_std::UniformRand;
use zkdl_runtime::backend::{self, BackendChoice, BackendError};
use zkdl_runtime::crypto::bits::{BitVector, PagedBits};
use zkdl_runtime::crypto::device::{self, Backend, BackendKind, RoundShape};
use zkdl_runtime::crypto::sumcheck;
use zkdl_runtime::crypto::transcript::Transcript;
use zkdl_runtime::Fr;

mod common;

use common::{rng, small_spec, sumcheck_cases, witness};

/// How a backend is opened with every table on the device.
type Open = fn() -> Result<Arc<dyn Backend>, BackendError>;

/// A summand: the number of factors, the degree without an eq weight, and the terms.
type Summand = (usize, usize, Vec<(Fr, Vec<usize>)>);

fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

/// The device backends present, each with every table on the device.
fn devices() -> &'static [Arc<dyn Backend>] {
    static DEVICES: OnceLock<Vec<Arc<dyn Backend>>> = OnceLock::new();
    DEVICES.get_or_init(|| {
        let mut found = Vec::new();
        let candidates: [(&str, &str, Open); 2] = [
            ("opencl", "ZKDL_REQUIRE_OPENCL", || backend::opencl::backend_with_min_vars(0)),
            ("cuda", "ZKDL_REQUIRE_CUDA", || backend::cuda::backend_with_min_vars(0)),
        ];
        for (name, variable, open) in candidates {
            match open() {
                Ok(b) => {
                    eprintln!("backend suite: {}", b.description());
                    found.push(b);
                }
                Err(e) if required(variable) => panic!("{variable}=1 but the {name} backend is unavailable: {e}"),
                Err(e) => eprintln!("backend suite: skipping {name}: {e}"),
            }
        }
        found
    })
}

fn edge_values() -> Vec<Fr> {
    vec![Fr::zero(), Fr::one(), -Fr::one(), Fr::from(2u64), -Fr::from(2u64), Fr::from(u64::MAX)]
}

/// Tables of `2^n` entries mixing edge values and random ones.
fn tables(count: usize, n: usize, seed: u64) -> Vec<Vec<Fr>> {
    let mut r = rng(seed);
    let edges = edge_values();
    (0..count)
        .map(|f| {
            (0..1usize << n)
                .map(|i| if (i + f) % 3 == 0 { edges[(i / 3 + f) % edges.len()] } else { Fr::rand(&mut r) })
                .collect()
        })
        .collect()
}

#[test]
fn eq_tables_match_the_cpu() {
    let cpu = backend::cpu::Cpu;
    let mut r = rng(3);
    for device in devices() {
        for n in [0usize, 1, 2, 3, 8, 11] {
            let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
            let edges: Vec<Fr> = (0..n).map(|k| edge_values()[k % 6]).collect();
            for point in [random, edges] {
                assert_eq!(
                    device.eq_table(&point),
                    cpu.eq_table(&point),
                    "{}: eq table over {n} variables",
                    device.description()
                );
            }
        }
    }
}

/// Every shape the round kernel covers: one to four factors, coefficients ±1 and other, a common
/// factor or none, with and without an eq table, from 0 to 9 variables.
#[test]
fn sumcheck_rounds_match_the_cpu_on_random_and_edge_tables() {
    let cpu = backend::cpu::Cpu;
    let mut r = rng(4);
    let c = Fr::rand(&mut r);
    let shapes: Vec<Summand> = vec![
        (1, 1, vec![(Fr::one(), vec![0])]),
        (2, 2, vec![(Fr::one(), vec![0, 1])]),
        (3, 3, vec![(-Fr::one(), vec![0, 1, 2]), (c, vec![1])]),
        // A common factor (b·b − b·used): b pulled out.
        (2, 2, vec![(Fr::one(), vec![0, 0]), (-Fr::one(), vec![0, 1])]),
        (4, 3, vec![(c, vec![0, 1, 2]), (Fr::one(), vec![3]), (-c, vec![1, 3])]),
        (2, 2, vec![(Fr::zero(), vec![0, 1])]),
    ];
    for device in devices() {
        for (s, (factors, degree, terms)) in shapes.iter().enumerate() {
            for with_eq in [false, true] {
                let degree = degree + usize::from(with_eq);
                let shape = RoundShape::new(*factors, degree, terms.iter().map(|(c, f)| (*c, &f[..])));
                for n in [0usize, 1, 2, 5, 9] {
                    let t = tables(*factors, n, 10 * s as u64 + n as u64);
                    let eq = with_eq.then(|| tables(1, n.saturating_sub(1), 99).remove(0));
                    let mut on_cpu = cpu.round_tables(&shape, t.clone(), eq.clone());
                    let mut on_device = device.round_tables(&shape, t, eq);
                    let what = format!("{}: shape {s}, eq {with_eq}, {n} variables", device.description());
                    for round in 0..n {
                        for need_one in [true, false] {
                            assert_eq!(
                                on_device.round_values(need_one),
                                on_cpu.round_values(need_one),
                                "{what}: round {round} (need_one {need_one})"
                            );
                        }
                        let challenge = if round == 1 {
                            Fr::zero()
                        } else if round == 2 {
                            Fr::one()
                        } else {
                            Fr::rand(&mut r)
                        };
                        on_cpu.bind(challenge);
                        on_device.bind(challenge);
                        assert_eq!(on_device.table_len(), on_cpu.table_len(), "{what}");
                    }
                    assert_eq!(on_device.first_entries(), on_cpu.first_entries(), "{what}: final values");
                }
            }
        }
    }
}

/// Rows of bits committed on each backend: all-zero, one-bit, full, alternating and random rows of
/// one and four words, the sums against ark's, and whole commitments (with blinds, normalized) against
/// the cpu's.
#[test]
fn bit_commitments_match_the_cpu() {
    use ark_ec::{AffineRepr, CurveGroup};
    use rand::Rng;
    use zkdl_runtime::crypto::commitment::CommitmentKey;
    use zkdl_runtime::{G1Affine, G1Projective};
    let key = CommitmentKey::new(8);
    let mut r = rng(5);
    for device in devices() {
        for words_per_row in [1usize, 4] {
            let cols = 64 * words_per_row;
            let mut words = Vec::new();
            let rows: Vec<Vec<u64>> = vec![
                vec![0; words_per_row],
                vec![u64::MAX; words_per_row],
                (0..words_per_row).map(|w| u64::from(w == words_per_row - 1) << 63).collect(),
                vec![1; words_per_row],
                vec![0x5555_5555_5555_5555; words_per_row],
            ];
            // 16 rows add generators one by one; 256 go through byte tables.
            let random_rows = if words_per_row == 1 { 251 } else { 11 };
            for row in rows.into_iter().chain((0..random_rows).map(|_| (0..words_per_row).map(|_| r.gen()).collect())) {
                words.extend(row);
            }
            let generators = &key.generators()[..cols];
            let sums = device.bit_row_sums(generators, &words, words_per_row).expect("on the device");
            let expected: Vec<G1Affine> = words
                .chunks(words_per_row)
                .map(|row| {
                    let sum: G1Projective = (0..cols)
                        .filter(|&j| row[j / 64] >> (j % 64) & 1 == 1)
                        .map(|j| generators[j].into_group())
                        .sum();
                    sum.into_affine()
                })
                .collect();
            assert_eq!(sums, expected, "{}: row sums of {words_per_row} words", device.description());
            assert!(sums[0].is_zero(), "an all-zero row sums to the identity");

            let bits = BitVector::from_words(words.clone(), words.len() * 64);
            let log_cols = cols.trailing_zeros();
            let commit = |seed| key.commit(&bits, log_cols, &mut rng(seed)).0;
            let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), || commit(8));
            let on_device = device::with_backend(device.clone(), || commit(8));
            assert!(on_device == on_cpu, "{}: commitments of {words_per_row}-word rows", device.description());
        }
    }
}

/// Rows of signed integers and of field elements committed on each backend: the same commitments
/// as the cpu's signed-digit tables, for 0, ±1, the ends of i64, 128-bit values, full-width field
/// elements, `p − 1` (−1) and the two sides of `(p − 1)/2` (where the signed representative flips).
#[test]
fn signed_commitments_match_the_cpu() {
    use ark_ff::{BigInteger, PrimeField};
    use rand::Rng;
    use zkdl_runtime::crypto::commitment::CommitmentKey;
    let key = CommitmentKey::new(6);
    let mut r = rng(9);
    let half = Fr::from_bigint(Fr::MODULUS_MINUS_ONE_DIV_TWO).unwrap();
    for device in devices() {
        let commit_both = |what: &str, commit: &dyn Fn(&mut rand_chacha::ChaCha20Rng) -> _| {
            let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), || commit(&mut rng(11)));
            let on_device = device::with_backend(device.clone(), || commit(&mut rng(11)));
            assert!(on_device == on_cpu, "{}: {what}", device.description());
        };
        let mut small: Vec<i64> = vec![0, 1, -1, i64::MAX, i64::MIN, 255, -256, 1 << 40];
        small.resize(64, 0);
        small.extend((0..64 * 3).map(|_| r.gen::<i64>() >> r.gen_range(0..63)));
        commit_both("i64 rows", &|rng| key.commit(&small[..], 6, rng).0);
        let wide: Vec<i128> = (0..128).map(|i| if i % 5 == 0 { 0 } else { r.gen::<i128>() >> (i % 50) }).collect();
        commit_both("i128 rows", &|rng| key.commit(&wide[..], 6, rng).0);
        let mut fields: Vec<Fr> = vec![Fr::zero(), Fr::one(), -Fr::one(), half, half + Fr::one(), -half];
        fields.extend((0..122).map(|_| Fr::rand(&mut r)));
        commit_both("field rows", &|rng| key.commit(&fields[..], 6, rng).0);
        let zeros = vec![0i32; 128];
        commit_both("all-zero rows", &|rng| key.commit(&zeros[..], 6, rng).0);
        assert!(half.into_bigint().num_bits() == 254);
    }
}

/// The trainer's exact products (`Z = A·W`, `H = G·Wᵀ`, `G_W = Aᵀ·G` shapes, two limbs each) on
/// each backend: where it has a BLAS (cuBLAS) the limb products run there, and the integers must
/// be the cpu's exactly. Elsewhere the products stay on the host and this checks nothing new.
#[test]
fn exact_products_match_the_cpu() {
    use rand::Rng;
    use zkdl_runtime::training::exact_matmul::{exact_matmul, MatrixRef};
    use zkdl_runtime::training::integers::IntVec;
    let mut r = rng(12);
    let (batch, inner, outer) = (64usize, 1024usize, 512usize);
    let activations = IntVec::from_i64((0..batch * inner).map(|_| r.gen_range(-(1i64 << 18)..1 << 18)).collect());
    let weights = IntVec::from_i64((0..inner * outer).map(|_| r.gen_range(-(1i64 << 42)..1 << 42)).collect());
    let gradients = IntVec::from_i64((0..batch * outer).map(|_| r.gen_range(-(1i64 << 20)..1 << 20)).collect());
    let a = MatrixRef::new(&activations, batch, inner);
    let w = MatrixRef::new(&weights, inner, outer);
    let g = MatrixRef::new(&gradients, batch, outer);
    for device in devices() {
        for (what, x, y) in [("A·W", a, w), ("G·Wᵀ", g, w.t()), ("Aᵀ·G", a.t(), g)] {
            let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), || exact_matmul(x, y).unwrap());
            let on_device = device::with_backend(device.clone(), || exact_matmul(x, y).unwrap());
            assert!(
                on_device == on_cpu,
                "{}: {what} ({})",
                device.description(),
                if device.takes_dgemm(x.dims().0, x.dims().1, y.dims().1) { "on the device" } else { "on the host" }
            );
        }
    }
}

/// Multi-scalar multiplications (the openings' `⟨v, g⟩`) on each backend against ark's, with scalars
/// 0, ±1, the two sides of `(p − 1)/2` and random, over more entries than one segment of buckets.
#[test]
fn multi_scalar_multiplications_match_the_cpu() {
    use ark_ec::VariableBaseMSM;
    use ark_ff::PrimeField;
    use zkdl_runtime::crypto::commitment::CommitmentKey;
    use zkdl_runtime::G1Projective;
    let key = CommitmentKey::new(8);
    let mut r = rng(13);
    let half = Fr::from_bigint(Fr::MODULUS_MINUS_ONE_DIV_TWO).unwrap();
    for device in devices() {
        // 4101 entries: more than one segment of the bucket kernels, with every generator repeated
        // (equal points meet in a bucket).
        for count in [1usize, 63, 200, 4101] {
            let mut scalars: Vec<Fr> = vec![Fr::zero(), Fr::one(), -Fr::one(), half, half + Fr::one()];
            scalars.extend((0..count).map(|_| Fr::rand(&mut r)));
            scalars.truncate(count);
            let bases: Vec<_> = key.generators().iter().copied().cycle().take(count).collect();
            let bases = &bases[..];
            let expected = G1Projective::msm_unchecked(bases, &scalars);
            // The kernels' signed form: |v| by the signed representative, then the sign.
            let words: Vec<u64> = scalars
                .iter()
                .flat_map(|v| {
                    let (negative, m) = if v.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO {
                        (1, (-*v).into_bigint().0)
                    } else {
                        (0, v.into_bigint().0)
                    };
                    [m[0], m[1], m[2], m[3], negative]
                })
                .collect();
            let sum = device.msm(bases, &words, 255).expect("on the device");
            assert_eq!(sum, expected, "{}: MSM of {count}", device.description());
        }
    }
}

/// The opening's generator fold `x·low + high` on each backend against ark, for x = 0, ±1, 2, ±λ (the
/// endomorphism's eigenvalue) and random, with equal points (a doubling), inverse points (the
/// identity) and the identity itself on either side.
#[test]
fn generator_folds_match_the_cpu() {
    use ark_ec::{AffineRepr, CurveGroup};
    use zkdl_runtime::crypto::commitment::CommitmentKey;
    use zkdl_runtime::G1Affine;
    let key = CommitmentKey::new(6);
    let g = key.generators();
    let mut r = rng(6);
    for device in devices() {
        // λ and −λ split into k_1 = 0 (the GLV decomposition of the kernel); random x of every sign
        // pattern.
        let lambda = <ark_bls12_381::g1::Config as ark_ec::scalar_mul::glv::GLVConfig>::LAMBDA;
        let special = [Fr::zero(), Fr::one(), -Fr::one(), Fr::from(2u64), lambda, -lambda];
        for x in special.into_iter().chain((0..6).map(|_| Fr::rand(&mut r))) {
            let mut low: Vec<G1Affine> = g[..32].to_vec();
            low[3] = G1Affine::identity();
            let mut high: Vec<G1Affine> = g[32..64].to_vec();
            // x·low_0 + high_0 = 2·low_0 when x = 1; x·low_1 + high_1 = identity when x = 1.
            high[0] = (low[0] * x).into_affine();
            high[1] = (-(low[1] * x)).into_affine();
            high[2] = G1Affine::identity();
            let expected: Vec<G1Affine> =
                low.iter().zip(&high).map(|(l, h)| (l.into_group() * x + h).into_affine()).collect();
            let folded = device.fold_generators(&low, &high, x).expect("on the device");
            assert_eq!(folded, expected, "{}: fold by {x}", device.description());
            assert!(folded[1].is_zero(), "inverse points fold to the identity");
        }
    }
}

/// Binding leading variables (an opening's row combination) on each backend: every prefix length of
/// tensors of 1 to 9 variables, coordinates 0, 1 and random.
#[test]
fn bound_tensors_match_the_cpu() {
    use zkdl_runtime::crypto::tensor::bind_leading;
    let mut r = rng(14);
    for device in devices() {
        for n in 1usize..=9 {
            let values = tables(1, n, n as u64).remove(0);
            for k in 1..=n {
                let prefix: Vec<Fr> = (0..k).map(|i| [Fr::zero(), Fr::one(), Fr::rand(&mut r)][i % 3]).collect();
                let bound = device.bind_leading(&values, &prefix).expect("on the device");
                assert_eq!(bound, bind_leading(&values, &prefix), "{}: {k} of {n} variables", device.description());
            }
        }
    }
}

/// The bit relation's b and `used` of one test: `(name, b, used)`, honest and not.
fn bit_cases(n: usize, seed: u64) -> Vec<(&'static str, BitVector, BitVector)> {
    use rand::Rng;
    let len = 1usize << n;
    let mut r = rng(seed);
    let mut random = |density: f64| {
        let draws: Vec<bool> = (0..len).map(|_| r.gen_bool(density)).collect();
        BitVector::from_fn(len, |i| draws[i])
    };
    let (dense, used) = (random(0.5), random(0.7));
    let honest = BitVector::from_fn(len, |i| dense.get(i) && used.get(i));
    // Used: a prefix (pages of ones, one mixed page, pages of zeros where b has many).
    let prefix = BitVector::from_fn(len, |i| i < len / 2 + len / 7);
    let ones = BitVector::from_fn(len, |_| true);
    vec![
        ("random b, random used", dense.clone(), used.clone()),
        ("honest b in random used", honest, used),
        ("random b over a used prefix", dense, prefix),
        ("all zeros", BitVector::zeros(len), BitVector::zeros(len)),
        ("all ones", ones.clone(), ones.clone()),
        ("cheating b: ones where nothing is used", ones, BitVector::zeros(len)),
    ]
}

/// The bit relation's rounds on bits (`proof::binary`) on each backend, with b and `used` of 1 to 13
/// variables (random, honest, a used prefix of whole and mixed pages, all zeros, all ones, and a
/// cheating b set where nothing is used, whose nonzero sums the verifier rejects): every round's
/// `[A_0, A_1, A_2]` and the tables `b(r, ·)`, `used(r, ·)` after every number of rounds against
/// their definitions on the cpu's field tables, at challenges 0, 1 and random.
#[test]
fn bit_rounds_match_the_cpu() {
    use zkdl_runtime::crypto::tensor::{bind_leading, eq_table};
    for device in devices() {
        for n in [1usize, 2, 3, 6, 9, 13] {
            let mut r = rng(100 + n as u64);
            let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
            let challenges: Vec<Fr> = (0..n).map(|i| [Fr::zero(), Fr::one(), Fr::rand(&mut r)][(i + n) % 3]).collect();
            for (name, bits, used) in bit_cases(n, n as u64) {
                let what = format!("{}: {name}, {n} variables", device.description());
                let paged = PagedBits::from_bit_vector(&used);
                let (b, u) = (bit_field(&bits), bit_field(&used));
                let mut tables = device.bit_round_tables(&bits, &paged).expect("on the device");
                for j in 1..=n {
                    let (point, tail) = (&challenges[..j - 1], &rho[j..]);
                    // b_j(t, y) and used_j(t, y) at entry t·2^(n−j) + y.
                    let (b_j, u_j) = (bind_leading(&b, point), bind_leading(&u, point));
                    let (half, e) = (1usize << (n - j), eq_table(tail));
                    let mut expected = [Fr::zero(); 3];
                    for y in 0..half {
                        let [b0, b1, u0, u1] = [b_j[y], b_j[half + y], u_j[y], u_j[half + y]];
                        let c = [b0 * (b0 - u0), b1 * (b1 - u1), (b1 - b0) * (b1 - b0 - u1 + u0)];
                        for (a, c) in expected.iter_mut().zip(c) {
                            *a += e[y] * c;
                        }
                    }
                    assert_eq!(tables.sums(point, tail), expected, "{what}: round {j}");
                }
                for k in 0..=n {
                    let tables = device.bit_round_tables(&bits, &paged).expect("on the device");
                    let r = &challenges[..k];
                    let bound = tables.bind(r);
                    assert_eq!(bound, [bind_leading(&b, r), bind_leading(&u, r)], "{what}: {k} bound");
                }
            }
        }
    }
}

/// The bit relation proven from packed bits (`binary::prove_packed`: its rounds on bits, then the
/// generic rounds) on each backend: the cpu's proof, claims and transcript, honest or not, from one
/// round on bits (7 variables) to eight (14).
#[test]
fn bit_relation_proofs_are_the_cpus_on_every_backend() {
    use zkdl_runtime::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
    use zkdl_runtime::proof::binary::prove_packed;
    use zkdl_runtime::TensorId;
    for device in devices() {
        for n in [7usize, 10, 14] {
            let mut r = rng(200 + n as u64);
            let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
            for (name, bits, used) in bit_cases(n, 300 + n as u64) {
                let statement = SumcheckStatement {
                    relation: "B backend suite".into(),
                    num_vars: n,
                    eq_weight: Some(rho.clone()),
                    factors: vec![
                        Factor::Committed(TensorId(0)),
                        Factor::Public(PublicTensor::Dense(bit_field(&used))),
                    ],
                    terms: vec![ProductTerm::new(Fr::one(), [0, 0]), ProductTerm::new(-Fr::one(), [0, 1])],
                };
                let paged = PagedBits::from_bit_vector(&used);
                let prove = || {
                    let mut transcript = Transcript::new(b"backend suite, bits");
                    let out = prove_packed(&statement, &bits, &paged, &mut transcript);
                    (out.proof, out.claimed_sum, out.claims, out.point, transcript.challenge_field(b"after"))
                };
                let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), prove);
                let on_device = device::with_backend(device.clone(), prove);
                assert!(on_device == on_cpu, "{}: {name}, {n} variables", device.description());
            }
        }
    }
}

fn bit_field(v: &BitVector) -> Vec<Fr> {
    (0..v.len()).map(|i| Fr::from(u64::from(v.get(i)))).collect()
}

/// Every sumcheck shape of the relations (the fixtures' cases), proven on each backend: the same
/// messages, claims and transcript as on the cpu.
#[test]
fn sumcheck_proofs_are_the_cpus_on_every_backend() {
    for device in devices() {
        for case in sumcheck_cases(21) {
            let prove = || {
                let mut transcript = Transcript::new(b"backend suite");
                let out = sumcheck::prove(&case.statement, case.witness.clone(), &mut transcript);
                (out.proof, out.claims, out.point, transcript.challenge_field(b"after"))
            };
            let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), prove);
            let on_device = device::with_backend(device.clone(), prove);
            assert!(on_device == on_cpu, "{}: sumcheck case {}", device.description(), case.name);
        }
    }
}

/// The same cases proven from blocks of 4 entries (`prove_blocks_from`: the leading rounds computed a
/// chunk at a time through `round_values_once`, then the held tables): the cpu's proof on every
/// backend, and the same proof as from whole tables.
#[test]
fn sumcheck_proofs_from_blocks_are_the_cpus_on_every_backend() {
    use zkdl_runtime::crypto::sumcheck::{prove_blocks_from, Blocks, SumcheckProverState};
    for device in devices() {
        for case in sumcheck_cases(22) {
            let prove = || {
                let mut transcript = Transcript::new(b"backend suite, blocks");
                let blocks: Vec<&dyn Blocks> = case.witness.iter().map(|w| w as &dyn Blocks).collect();
                let state = SumcheckProverState::new(&case.statement);
                let out = prove_blocks_from(&case.statement, state, blocks, 2, &mut transcript);
                (out.proof, out.claims, transcript.challenge_field(b"after"))
            };
            let on_cpu = device::with_backend(Arc::new(backend::cpu::Cpu), prove);
            let on_device = device::with_backend(device.clone(), prove);
            assert!(on_device == on_cpu, "{}: sumcheck case {} from blocks", device.description(), case.name);
            let whole = device::with_backend(Arc::new(backend::cpu::Cpu), || {
                let mut transcript = Transcript::new(b"backend suite, blocks");
                let out = sumcheck::prove(&case.statement, case.witness.clone(), &mut transcript);
                (out.proof, out.claims, transcript.challenge_field(b"after"))
            });
            assert!(whole == on_cpu, "sumcheck case {}: blocks and whole tables differ", case.name);
        }
    }
}

/// A whole zero-knowledge proof of training (two steps of the small network), its statement's
/// commitments included, on each backend is the cpu's, byte for byte, and verifies.
#[test]
fn whole_proofs_are_byte_identical_to_the_cpus() {
    if devices().is_empty() {
        return;
    }
    use zkdl_runtime::crypto::commitment::CommitmentKey;
    use zkdl_runtime::proof::{self, Tables};
    let w = witness(&small_spec(), 2, 5);
    let key = CommitmentKey::new(proof::key_log_cols(&w.plan));
    let tables = Tables::from_witness(&w);
    // The statement's commitments (W_T, X, Y: signed rows) and the proof, on one backend.
    let prove = || {
        let (public, secrets) = proof::commit_statement(&w.plan, &key, &tables, &mut rng(1));
        let (body, _) = proof::prove(&w.plan, &key, &tables, &public, &secrets, &mut rng(7), |_| {}).unwrap();
        let mut bytes = Vec::new();
        public.serialize_compressed(&mut bytes).unwrap();
        body.serialize_compressed(&mut bytes).unwrap();
        ((public, body), bytes)
    };
    let ((public, body), on_cpu) = device::with_backend(Arc::new(backend::cpu::Cpu), prove);
    proof::verify(&w.plan, &key, &public, &body).unwrap();
    for device in devices() {
        let (_, on_device) = device::with_backend(device.clone(), prove);
        assert!(on_device == on_cpu, "{}: the proof differs from the cpu's", device.description());
    }
}

/// `auto` takes CUDA where it is present and otherwise the cpu, saying why; an explicit backend
/// whose driver is missing is an error naming it, never a panic.
#[test]
fn selection_falls_back_or_names_what_is_missing() {
    let auto = backend::select(BackendChoice::Auto).unwrap();
    match auto.kind() {
        BackendKind::Cuda => assert!(auto.fallback.is_none()),
        BackendKind::Cpu => {
            let line = auto.log_line();
            assert!(auto.fallback.is_some() && line.contains("(auto, without CUDA: cuda: "), "{line}");
        }
        BackendKind::OpenCl => panic!("auto never takes OpenCL"),
    }
    for choice in [BackendChoice::Cuda, BackendChoice::OpenCl] {
        match backend::select(choice) {
            Ok(selected) => assert_eq!(selected.kind().name(), choice.to_string()),
            Err(e) => assert!(matches!(e, BackendError::Unavailable { .. }), "{choice}: {e}"),
        }
    }
    assert_eq!(backend::select(BackendChoice::Cpu).unwrap().kind(), BackendKind::Cpu);
    assert!(matches!("gpu".parse::<BackendChoice>(), Err(BackendError::Unknown(_))));
}
