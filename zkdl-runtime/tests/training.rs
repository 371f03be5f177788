//! The trainer and its witness: completeness (every relation of PROTOCOL.md §4 holds), soundness of the
//! self-check (a corrupted witness is caught, naming the relation), the stacked layout, range errors,
//! determinism, weights files and the float reference.

use zkdl_compiler::plan::{StackRole, Storage};
use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Role};
use zkdl_runtime::training::data::Dataset;
use zkdl_runtime::training::fixed_point::twos_complement_bit;
use zkdl_runtime::training::session::{train, train_with_witness, TrainConfig};
use zkdl_runtime::training::trainer::{Trainer, TrainingError};
use zkdl_runtime::training::weights::{FixedWeights, WeightsError};
use zkdl_runtime::training::witness::{Member, Witness};

mod common;

use common::small_spec;

fn small_witness(steps: u32, seed: u64) -> Witness {
    common::witness(&small_spec(), steps, seed)
}

#[test]
fn honest_witness_satisfies_every_relation() {
    let w = small_witness(3, 5);
    assert_eq!(w.steps(), 3);
    assert_eq!(w.weights.len(), 4);
    w.check_relations().unwrap();
    // Training moved the weights and the loss is finite and positive.
    assert_ne!(w.weights[0], w.weights[3]);
    assert!(w.losses().iter().all(|l| l.is_finite() && *l > 0.0));
    // Every hidden layer has both signs of ReLU (the relation is exercised, not vacuous).
    let relu = w.traces[0].layers[0].relu.as_ref().unwrap();
    assert!(relu.sign.count_ones() > 0 && relu.sign.count_ones() < relu.sign.len());
}

/// One corruption per tensor role, and the relation the self-check must name.
#[test]
fn corrupted_witness_is_caught_for_every_role() {
    let honest = small_witness(2, 9);
    type Corruption = (&'static str, &'static str, fn(&mut Witness));
    let s_w = honest.plan.params.weight_scale_bits;
    let table: Vec<Corruption> = vec![
        ("X", "M1 forward matmul", |w| bump_int(&mut w.batches[0].x, 3)),
        ("Y", "L1 loss gradient", |w| bump_int(&mut w.batches[1].y, 5)),
        ("W_t (t = 1)", "U1 update", |w| bump_int(&mut w.weights[1].layers[1], 7)),
        ("W_T", "U1 update", |w| bump_int(&mut w.weights[2].layers[2], 0)),
        ("W_0", "M1 forward matmul", |w| bump_int(&mut w.weights[0].layers[0], 28 * 16 + 5)),
        ("Z", "M1 forward matmul", |w| bump_int(&mut w.traces[0].layers[1].pre_activation, 2)),
        ("Z'", "S1 forward rescale", |w| bump_int(&mut w.traces[1].layers[0].rescaled, 4)),
        ("rz", "S1 forward rescale", |w| bump_int(&mut w.traces[0].layers[2].remainder, 1)),
        ("s", "zkReLU sign and magnitude bits", |w| {
            let s = &mut w.traces[0].layers[0].relu.as_mut().unwrap().sign;
            s.set(6, !s.get(6))
        }),
        ("m", "zkReLU sign and magnitude bits", |w| {
            let m = &mut w.traces[1].layers[1].relu.as_mut().unwrap().magnitude;
            m.set(3, !m.get(3))
        }),
        ("A", "H1 ReLU", |w| bump_int(&mut w.traces[0].layers[1].relu.as_mut().unwrap().activation, 9)),
        ("G^L", "L1 loss gradient", |w| bump_int(&mut w.traces[0].layers[2].signal, 1)),
        ("G hidden", "M3 weight gradient", |w| bump_int(&mut w.traces[1].layers[1].signal, 3)),
        ("H", "M2 backward matmul", |w| {
            bump_int(&mut w.traces[0].layers[0].relu.as_mut().unwrap().backward_pre_activation, 8)
        }),
        ("H'", "S2 backward rescale", |w| {
            bump_int(&mut w.traces[0].layers[1].relu.as_mut().unwrap().backward_rescaled, 2)
        }),
        ("rh", "S2 backward rescale", |w| {
            bump_int(&mut w.traces[1].layers[0].relu.as_mut().unwrap().backward_remainder, 6)
        }),
        ("G_W", "M3 weight gradient", |w| bump_int(&mut w.traces[0].layers[2].weight_gradient, 4)),
    ];
    for (role, relation, corrupt) in table {
        let mut w = honest.clone();
        corrupt(&mut w);
        let err = w.check_relations().expect_err(role);
        assert_eq!(err.relation, relation, "corrupting {role}: {err}");
    }
    // A remainder outside its range, with Z' changed to compensate so that S1 still holds.
    let mut w = honest.clone();
    let layer = &mut w.traces[0].layers[0];
    let (z, r) = (layer.rescaled.get(0), layer.remainder.get(0));
    layer.rescaled.set(0, z - 1);
    layer.remainder.set(0, r + (1i128 << s_w));
    let err = w.check_relations().unwrap_err();
    assert_eq!(err.relation, "range check of rz", "{err}");
    let _ = s_w;
}

/// A compact witness keeps W_0, W_T and the activations; its self-check walks W_t and G_W and still
/// names the relation a corruption breaks.
#[test]
fn compact_witness_keeps_the_ends_and_checks_the_walk() {
    let full = small_witness(3, 5);
    let w0 = full.weights[0].clone();
    let compact = Witness::generate_compact(&full.plan, w0, full.batches.clone(), |_, _| {}).unwrap();
    assert!(compact.is_compact());
    assert_eq!(compact.weights.len(), 2, "W_0 and W_T only");
    assert_eq!(compact.weights_at(3), full.weights.last());
    assert_eq!(compact.weights_at(1), None);
    assert!(compact.traces.iter().all(|t| t.layers.iter().all(|l| l.weight_gradient.is_empty())));
    assert!(compact.heap_bytes() < full.heap_bytes());
    compact.check_relations().unwrap();
    let mut w = compact.clone();
    bump_int(&mut w.weights[1].layers[2], 3);
    assert_eq!(w.check_relations().unwrap_err().relation, "U1 update", "W_T changed");
    let mut w = compact.clone();
    bump_int(&mut w.traces[1].layers[2].signal, 2);
    assert!(w.check_relations().is_err(), "G^L changed");
    // A hidden G is s ⊙ H': an H' changed changes it, and the recomposed H, which M2 rejects.
    let mut w = compact.clone();
    bump_int(&mut w.traces[1].layers[1].relu.as_mut().unwrap().backward_rescaled, 2);
    assert!(w.check_relations().is_err(), "H' changed");
    // A sign bit flipped where Z' > 0 leaves m = Z' − 1 + 2^Q out of [0, 2^Q): its bits no longer
    // recompose Z'.
    let mut w = compact.clone();
    let positive =
        (0..w.traces[0].layers[0].rescaled.len()).find(|&i| w.traces[0].layers[0].rescaled.get(i) > 0).unwrap();
    let sign = &mut w.traces[0].layers[0].relu.as_mut().unwrap().sign;
    sign.set(positive, false);
    assert_eq!(w.check_relations().unwrap_err().relation, "zkReLU sign and magnitude bits", "s flipped");
    // A, G and m of hidden layers are dropped and read as s ⊙ Z', s ⊙ H' and the bits of
    // Z' − 1 + (1 − s)·2^Q; Z and H are dropped and read recomposed from Z', rz and H', rh: the same
    // entries, and the same bit tensor b.
    for l in compact.traces.iter().flat_map(|t| &t.layers) {
        if let Some(r) = &l.relu {
            assert!(r.activation.is_empty() && r.magnitude.is_empty() && l.signal.is_empty());
        }
    }
    for t in &full.plan.tensors {
        if let StackRole::Tensor(Role::Activation | Role::Signal | Role::MagnitudeBits) = t.role {
            for i in 0..t.padded_entries() {
                assert_eq!(compact.entry(t.id, i), full.entry(t.id, i), "{} entry {i}", t.name());
            }
        }
    }
    assert_eq!(compact.bit_tensor(), full.bit_tensor());
    assert!(compact.traces.iter().flat_map(|t| &t.layers).all(|l| l.pre_activation.is_empty()));
    assert!(compact
        .traces
        .iter()
        .flat_map(|t| &t.layers)
        .filter_map(|l| l.relu.as_ref())
        .all(|r| r.backward_pre_activation.is_empty()));
    for t in &full.plan.tensors {
        if let StackRole::Tensor(Role::PreActivation | Role::BackwardPreActivation) = t.role {
            for i in 0..t.padded_entries() {
                assert_eq!(compact.entry(t.id, i), full.entry(t.id, i), "{} entry {i}", t.name());
            }
        }
    }
    // A remainder changed in a compact witness changes the recomposed Z, which M1 then rejects.
    let mut w = compact.clone();
    bump_int(&mut w.traces[0].layers[0].remainder, 1);
    assert_eq!(w.check_relations().unwrap_err().relation, "M1 forward matmul", "rz changed");
    let mut w = compact.clone();
    bump_int(&mut w.traces[2].layers[0].relu.as_mut().unwrap().backward_remainder, 1);
    assert_eq!(w.check_relations().unwrap_err().relation, "M2 backward matmul", "rh changed");
}

fn bump_int(v: &mut zkdl_runtime::training::integers::IntVec, i: usize) {
    let x = v.get(i);
    v.set(i, x + 1);
}

#[test]
fn stacked_layout_reads_members_and_zero_padding() {
    let w = small_witness(2, 3);
    let plan = &w.plan;
    for t in &plan.tensors {
        if t.role == StackRole::AllBits {
            continue;
        }
        // Σ over the stacked index space equals Σ over the members' entries: padding reads zero and
        // every member entry is read exactly once.
        let stacked: i128 = (0..t.padded_entries()).map(|i| w.entry(t.id, i)).sum();
        let mut members = 0i128;
        for step in 0..t.steps.count {
            for (pos, (&layer, shape)) in t.layers.iter().zip(&t.shapes).enumerate() {
                let n = (shape.rows * shape.cols) as usize;
                members += match w.member(t.role, layer, t.steps.first + step).unwrap() {
                    Member::Values(v) => v.iter().sum::<i128>(),
                    Member::Recomposed { scaled, remainder, shift } => {
                        scaled.iter().zip(remainder.iter()).map(|(s, r)| (s << shift) + r).sum::<i128>()
                    }
                    Member::Bits(b) => b.count_ones() as i128,
                    Member::RangeBits(v) => (0..n)
                        .map(|i| (0..shape.planes).map(|p| twos_complement_bit(v.get(i), p) as i128).sum::<i128>())
                        .sum(),
                    Member::Masked { .. } | Member::Magnitude { .. } => {
                        unreachable!("a full witness stores A, G and m")
                    }
                };
                let _ = pos;
            }
        }
        assert_eq!(stacked, members, "stacked tensor {}", t.name());
    }
    // A spot check of the index order (step, layer, plane, row, col): Z of layer 2 at step 1, entry (2, 3).
    let z = plan
        .tensors
        .iter()
        .find(|t| t.role == StackRole::Tensor(Role::PreActivation) && t.layers.contains(&2))
        .unwrap();
    let l = z.layout;
    let pos = z.layers.iter().position(|&x| x == 2).unwrap() as u64;
    let index = (((1u64 << l.layer_bits | pos) << l.plane_bits << l.row_bits | 2) << l.col_bits) | 3;
    let cols = z.shapes[pos as usize].cols as usize;
    assert_eq!(w.entry(z.id, index), w.traces[1].layers[1].pre_activation.get(2 * cols + 3));
}

#[test]
fn bit_tensor_recomposes_every_range_checked_value() {
    let w = small_witness(2, 4);
    let plan = &w.plan;
    let mut ones_in_members = 0u64;
    for t in &plan.tensors {
        let Storage::BitPlanes(chunks) = &t.storage else { continue };
        let l = t.layout;
        for step in 0..t.steps.count as u64 {
            for (pos, (&layer, shape)) in t.layers.iter().zip(&t.shapes).enumerate() {
                let member = w.member(t.role, layer, t.steps.first + step as u32).unwrap();
                for row in 0..shape.rows as u64 {
                    for col in 0..shape.cols as u64 {
                        // Read all planes of this entry from b through the chunk layout.
                        let mut bits = Vec::new();
                        for c in chunks {
                            for p in 0..c.planes as u64 {
                                let local = ((((step << l.layer_bits | pos as u64) << c.padded_planes.ilog2() | p)
                                    << l.row_bits
                                    | row)
                                    << l.col_bits)
                                    | col;
                                bits.push(w.bit(c.offset + local));
                            }
                        }
                        ones_in_members += bits.iter().filter(|&&b| b).count() as u64;
                        let i = (row * shape.cols as u64 + col) as usize;
                        match member {
                            Member::RangeBits(v) => {
                                let n = bits.len();
                                let value: i128 =
                                    bits.iter().take(n - 1).enumerate().map(|(j, &b)| (b as i128) << j).sum::<i128>()
                                        - ((bits[n - 1] as i128) << (n - 1));
                                assert_eq!(value, v.get(i), "{} layer {layer} step {step} ({row}, {col})", t.name());
                            }
                            Member::Bits(b) => {
                                let plane_size = (shape.rows * shape.cols) as usize;
                                for (p, &bit) in bits.iter().enumerate() {
                                    assert_eq!(bit, b.get(p * plane_size + i), "{} plane {p}", t.name());
                                }
                            }
                            Member::Values(_) | Member::Recomposed { .. } | Member::Masked { .. } => {
                                panic!("a bit tensor stores values")
                            }
                            Member::Magnitude { .. } => unreachable!("a full witness stores m"),
                        }
                    }
                }
            }
        }
    }
    // b holds nothing else: every one in b belongs to some member.
    let b_size = 1u64 << plan.bit_tensor_vars;
    let ones_in_b = (0..b_size).filter(|&i| w.bit(i)).count() as u64;
    assert_eq!(ones_in_b, ones_in_members);
}

#[test]
fn leaving_the_checked_range_stops_training_with_its_location() {
    // Q = 17: hidden Z' must stay within [1 − 2^17, 2^17], i.e. |z| ≤ 2 in real units.
    let spec = NetworkSpec::builder("narrow")
        .input(64)
        .dense(16)
        .relu()
        .dense(10)
        .sgd(0)
        .batch(8)
        .range_bits(17)
        .build()
        .unwrap();
    let data = Dataset::digits();
    let (train_data, test_data) = data.split(0.2, 1).unwrap();
    let big: Vec<Vec<f64>> = vec![vec![1.5; 64 * 16], vec![0.1; 16 * 10]];
    let w0 = FixedWeights::from_f64(&spec, &big).unwrap();
    let err =
        train(&spec, &train_data, &test_data, w0, &TrainConfig { steps: 3, seed: 1, reference: false }, &mut |_| {})
            .unwrap_err();
    match &err {
        TrainingError::OutOfRange(v) => {
            assert_eq!((v.step, v.layer, v.tensor), (0, 1, "Z'"));
            assert!(v.value > v.max);
        }
        other => panic!("expected a range error, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("step 0, layer 1") && text.contains("learning rate") && text.contains("range_bits"),
        "{text}"
    );
}

#[test]
fn training_is_deterministic_whatever_the_thread_count() {
    let a = small_witness(2, 21);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| small_witness(2, 21));
    assert_eq!(a.traces, b.traces);
    assert_eq!(a.weights, b.weights);
    let c = small_witness(2, 22);
    assert_ne!(a.weights[2], c.weights[2]);
}

#[test]
fn session_keeps_the_witness_for_a_plan() {
    let spec = small_spec();
    let plan = compile(&spec, CompileOptions::steps(4)).unwrap();
    let (train_data, test_data) = Dataset::digits().split(0.25, 2).unwrap();
    let w0 = FixedWeights::he_init(&spec, 2).unwrap();
    let config = TrainConfig { steps: 99, seed: 2, reference: true };
    let run = train_with_witness(&plan, &train_data, &test_data, w0, &config, &mut |_| {}).unwrap();
    let witness = run.witness.unwrap();
    assert_eq!(witness.steps(), 4, "the plan's T wins over config.steps");
    witness.check_relations().unwrap();
    assert!(witness.is_compact(), "the session keeps W_0, W_T and the activations only");
    assert_eq!(witness.weights_at(4), Some(&run.weights));
    assert_eq!(witness.weights_at(2), None);
    assert_eq!(run.losses, witness.losses());
    let drift = run.drift.unwrap();
    assert_eq!(drift.float_losses.len(), 4);
    // Fixed point stays close to the float reference over a few steps.
    assert!(drift.max_weight_difference < 1e-3, "{}", drift.max_weight_difference);
    for (f, r) in drift.fixed_losses.iter().zip(&drift.float_losses) {
        assert!((f - r).abs() < 1e-2 * r.max(1e-3), "{f} vs {r}");
    }
    // A witness for T steps needs exactly T batches.
    let trainer = Trainer::new(&spec, 4).unwrap();
    let batch = trainer.batch(&train_data, &(0..8).collect::<Vec<_>>(), 0).unwrap();
    let err = Witness::generate(&plan, run.initial, vec![batch], |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("1 batches for a plan of T = 4 steps"), "{err}");
}

#[test]
fn data_that_does_not_fit_the_network_is_an_error() {
    let spec = NetworkSpec::builder("wide").input(3072).dense(16).relu().dense(10).sgd(3).batch(8).build().unwrap();
    let trainer = Trainer::new(&spec, 1).unwrap();
    let err = trainer.batch(&Dataset::digits(), &[0, 1, 2, 3, 4, 5, 6, 7], 0).unwrap_err();
    assert!(err.to_string().contains("64 features") && err.to_string().contains("3072 inputs"), "{err}");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zkdl-training-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn weights_round_trip_exactly_through_safetensors() {
    let spec = small_spec();
    let w = small_witness(2, 8).weights[2].clone();
    let dir = temp_dir("roundtrip");
    let path = dir.join("w.safetensors");
    w.save(&path, &spec, 2).unwrap();
    assert_eq!(FixedWeights::load(&path, &spec).unwrap(), w);
    // The float32 tensors are PyTorch's Linear layout [out, in] and agree with the integers.
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = file.tensor("2.weight").unwrap();
    assert_eq!(t.shape(), [8, 16]);
    let first = f32::from_le_bytes(t.data()[4..8].try_into().unwrap()); // row 0 (output 0), input 1
    assert!((first as f64 - w.to_f64(1)[8]).abs() < 1e-6);
    let b = file.tensor("4.bias").unwrap();
    assert_eq!(b.shape(), [10]);
    let b0 = f32::from_le_bytes(b.data()[0..4].try_into().unwrap());
    assert!((b0 as f64 - w.bias_to_f64(2).unwrap()[0]).abs() < 1e-6, "PyTorch's bias layout, [out]");
    // A file with only the float tensors (as PyTorch writes nn.Linear's weight and bias) is quantized
    // to the weight scale.
    let names: Vec<String> = (0..3).flat_map(|l| [format!("{}.weight", 2 * l), format!("{}.bias", 2 * l)]).collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        names.iter().map(|n| (n.clone(), file.tensor(n).unwrap())).collect();
    let torch_only = dir.join("torch.safetensors");
    std::fs::write(&torch_only, safetensors::serialize(views, None).unwrap()).unwrap();
    let from_float = FixedWeights::load(&torch_only, &spec).unwrap();
    let scale = (w.scale_bits as f64).exp2();
    for l in 0..3 {
        let (ours, theirs) = (from_float.biases[l].as_ref().unwrap(), w.biases[l].as_ref().unwrap());
        for (a, b) in from_float.layers[l].iter().zip(w.layers[l].iter()).chain(ours.iter().zip(theirs.iter())) {
            assert!(((a - b) as f64).abs() / scale < 1e-7, "layer {l}");
        }
    }
    // Without its biases the file does not fit a network with them: the missing tensor is named.
    let weights_only: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        (0..3).map(|l| format!("{}.weight", 2 * l)).map(|n| (n.clone(), file.tensor(&n).unwrap())).collect();
    let no_bias_file = dir.join("weights-only.safetensors");
    std::fs::write(&no_bias_file, safetensors::serialize(weights_only, None).unwrap()).unwrap();
    let err = FixedWeights::load(&no_bias_file, &spec).unwrap_err();
    assert!(matches!(err, WeightsError::Missing { .. }) && err.to_string().contains("`0.bias`"), "{err}");
    // A bias for a layer declared without one is refused, not dropped.
    let mut no_bias = small_spec();
    no_bias.layers[0] = zkdl_compiler::Layer::Dense { units: 16, bias: false };
    no_bias.validate().unwrap();
    let err = FixedWeights::load(&torch_only, &no_bias).unwrap_err();
    assert!(matches!(err, WeightsError::Bias { layer: 1, .. }) && err.to_string().contains("`0.bias`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unusable_weight_files_are_errors_naming_the_problem() {
    let spec = small_spec();
    let dir = temp_dir("errors");
    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a safetensors file at all").unwrap();
    assert!(matches!(FixedWeights::load(&garbage, &spec), Err(WeightsError::Format { .. })));
    assert!(matches!(FixedWeights::load(&dir.join("missing"), &spec), Err(WeightsError::Io { .. })));
    // Weights of another network: the shapes differ.
    let other = NetworkSpec::builder("other")
        .input(64)
        .dense(32)
        .relu()
        .dense(8)
        .relu()
        .dense(10)
        .sgd(3)
        .batch(8)
        .build()
        .unwrap();
    let path = dir.join("other.safetensors");
    FixedWeights::he_init(&other, 1).unwrap().save(&path, &other, 0).unwrap();
    let err = FixedWeights::load(&path, &spec).unwrap_err();
    assert!(matches!(err, WeightsError::Shape { .. }) && err.to_string().contains("zkdl.fixed.1"), "{err}");
    // Weights at another scale (another learning rate): S_W differs.
    let slower = NetworkSpec::builder("small")
        .input(64)
        .dense(16)
        .relu()
        .dense(8)
        .relu()
        .dense(10)
        .sgd(5)
        .batch(8)
        .build()
        .unwrap();
    let path = dir.join("slower.safetensors");
    FixedWeights::he_init(&slower, 1).unwrap().save(&path, &slower, 0).unwrap();
    assert!(matches!(FixedWeights::load(&path, &spec), Err(WeightsError::Scale { found: 40, expected: 38, .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn he_initialization_is_seeded_and_scaled() {
    let spec = small_spec();
    let a = FixedWeights::he_init(&spec, 1).unwrap();
    assert_eq!(a, FixedWeights::he_init(&spec, 1).unwrap());
    assert_ne!(a, FixedWeights::he_init(&spec, 2).unwrap());
    let w = a.to_f64(0);
    let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
    assert!((var - 2.0 / 64.0).abs() < 0.3 * 2.0 / 64.0, "variance {var}");
    // Out-of-range initial weights (|w| ≥ 2) are refused.
    let err = FixedWeights::from_f64(&spec, &[vec![2.5; 64 * 16], vec![0.0; 16 * 8], vec![0.0; 80]]).unwrap_err();
    assert!(matches!(err, WeightsError::OutOfRange { layer: 1, row: 0, col: 0, .. }), "{err}");
}
