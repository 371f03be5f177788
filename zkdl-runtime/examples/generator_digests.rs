//! Prints the table of generator digests (`zkdl_runtime::crypto::commitment::cache::GENERATOR_DIGESTS`) up to
//! a largest `c`, and times deriving the key against loading it from a cache file.
//!
//! ```text
//! cargo run --release -p zkdl-runtime --example generator_digests -- 20             # batched derivation
//! cargo run --release -p zkdl-runtime --example generator_digests -- 15 --reference # ark-ec's hasher, one point at a time
//! ```

use std::time::Instant;

use ark_bls12_381::g1;
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurveBasedHasher;
use ark_ec::hashing::HashToCurve;
use ark_ff::field_hashers::DefaultFieldHasher;
use rayon::prelude::*;
use sha2::Sha256;
use zkdl_runtime::crypto::commitment::cache::{self, generators_digest, GENERATOR_DIGESTS};
use zkdl_runtime::crypto::commitment::{CommitmentKey, GENERATOR_DOMAIN};
use zkdl_runtime::{G1Affine, G1Projective};

fn main() {
    let mut args = std::env::args().skip(1);
    let max: u32 = args.next().map_or(12, |a| a.parse().expect("the largest c is a number"));
    let reference = args.next().as_deref() == Some("--reference");

    let started = Instant::now();
    let generators: Vec<G1Affine> = if reference {
        let hasher = MapToCurveBasedHasher::<G1Projective, DefaultFieldHasher<Sha256, 128>, WBMap<g1::Config>>::new(
            GENERATOR_DOMAIN,
        )
        .unwrap();
        (0..1u64 << max)
            .into_par_iter()
            .map(|j| hasher.hash(&[b"g".as_slice(), &j.to_le_bytes()].concat()).unwrap())
            .collect()
    } else {
        CommitmentKey::new(max).generators().to_vec()
    };
    let derive = started.elapsed().as_secs_f64();
    eprintln!(
        "derived 2^{max} generators ({}) in {derive:.2} s",
        if reference { "reference hasher" } else { "batched" }
    );

    println!("pub const GENERATOR_DIGESTS: [&str; {}] = [", GENERATOR_DIGESTS.len());
    let mut mismatches = 0;
    for c in 0..=max {
        let digest = generators_digest(&generators[..1 << c]);
        let table = GENERATOR_DIGESTS.get(c as usize).copied().unwrap_or("");
        let note = match table {
            "" => " // not in the table",
            t if t == digest => "",
            _ => {
                mismatches += 1;
                " // DIFFERS from the table"
            }
        };
        println!("    \"{digest}\",{note}");
    }
    println!("];");

    // Loading from a cache file, against deriving.
    let dir = std::env::temp_dir().join(format!("zkdl-generator-digests-{}", std::process::id()));
    if cache::store(&dir, max, &generators).is_ok() {
        let started = Instant::now();
        let loaded = cache::load(&dir, max);
        let load = started.elapsed().as_secs_f64();
        match loaded {
            Some(loaded) => {
                assert_eq!(loaded, generators);
                eprintln!("loaded 2^{max} generators from a cache file in {load:.3} s (derive: {derive:.2} s)");
            }
            None => eprintln!("c = {max} has no digest in the table: a cache file would not be used"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    if mismatches > 0 {
        eprintln!("{mismatches} digests differ from the table");
        std::process::exit(1);
    }
}
