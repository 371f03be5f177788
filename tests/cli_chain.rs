//! `zkdl prove --segment-steps K` and `zkdl verify DIR`: a run proven as a chain of segments, each
//! linked to the previous by its C_W0 = the previous C_WT (`docs/chains.md`). A valid chain verifies
//! with its pins; a segment removed, two swapped, a segment of another run, and segments proven
//! against other plans are each rejected (exit 2), with the failing segment named.
//!
//! Kept cheap for CI: a 64 → 16 → 10 network at batch 4, chains of 3 segments of 2 steps.

mod common;

use common::{temp_dir, zkdl};
use std::path::{Path, PathBuf};

const TINY: &str = "name = \"tiny\"\ninput = 64\nlayers = [{ dense = 16 }, \"relu\", { dense = 10 }]\nbatch = 4\n\
                    optimizer = { kind = \"sgd\", lr_shift = 4 }\n";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Proves a chain of `steps` in segments of `k` from He(seed); returns its directory.
fn prove_chain(dir: &Path, network: &Path, name: &str, steps: u32, k: u32, seed: u32, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let (steps, k, seed) = (steps.to_string(), k.to_string(), seed.to_string());
    let mut args = vec![
        "prove",
        "--network",
        s(network),
        "--steps",
        &steps,
        "--segment-steps",
        &k,
        "--seed",
        &seed,
        "--out",
        s(&out),
    ];
    args.extend_from_slice(extra);
    let run = zkdl(&args);
    assert!(run.status.success(), "{}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    out
}

/// A copy of a chain directory to tamper with.
fn copy_chain(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to.to_path_buf()
}

/// Verifies a tampered chain: exit 2, the segment and the failure named on stderr.
fn rejected(chain: &Path, segment: u32, what: &str) {
    let out = zkdl(&["verify", s(chain)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}: {stderr}", chain.display());
    assert!(stderr.contains(&format!("segment {segment}: ")), "{}: {stderr}", chain.display());
    assert!(stderr.contains(what), "{}: expected {what:?} in {stderr}", chain.display());
}

#[test]
fn a_chain_verifies_link_by_link_and_every_broken_link_is_named() {
    let dir = temp_dir("chain");
    let network = dir.join("tiny.toml");
    std::fs::write(&network, TINY).unwrap();
    let weights = dir.join("final.safetensors");
    let chain = prove_chain(&dir, &network, "run.chain", 6, 2, 1, &["--weights-out", s(&weights)]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(chain.join("chain.json")).unwrap()).unwrap();
    assert_eq!(manifest["steps"], 6);
    assert_eq!(manifest["segment_steps"], 2);
    assert_eq!(manifest["segments"].as_array().unwrap().len(), 3);
    for i in 0..3 {
        assert!(chain.join(format!("segment-{i:04}.proof")).is_file());
    }
    // The chain proves the run `zkdl train` makes: the same final weights, byte for byte.
    let trained = dir.join("trained.safetensors");
    let train =
        zkdl(&["train", "--network", s(&network), "--steps", "6", "--no-reference", "--weights-out", s(&trained)]);
    assert!(train.status.success(), "{}", String::from_utf8_lossy(&train.stderr));
    assert_eq!(std::fs::read(&trained).unwrap(), std::fs::read(&weights).unwrap());
    // The last C_WT's blinds, private.
    let secrets = dir.join("run.chain.secrets");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Valid, with the seed and the final model pinned (the opening is of the last segment's C_WT).
    let opening = dir.join("final.opening");
    let open =
        zkdl(&["weights", "open", s(&chain), "--secrets", s(&secrets), "--weights", s(&weights), "--out", s(&opening)]);
    assert!(open.status.success(), "{}", String::from_utf8_lossy(&open.stderr));
    let verified = zkdl(&[
        "verify",
        s(&chain),
        "--initial-seed",
        "1",
        "--final-weights",
        s(&weights),
        "--opening",
        s(&opening),
        "--network",
        s(&network),
    ]);
    let text = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&verified.stderr));
    assert!(text.contains("6 steps of SGD of network tiny") && text.contains("in 3 segments of 2 steps"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("pinned initial weights: matched")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("pinned final weights: matched")), "{text}");
    assert!(text.lines().last().unwrap().starts_with("valid"), "{text}");
    let wrong_seed = zkdl(&["verify", s(&chain), "--initial-seed", "2"]);
    assert_eq!(wrong_seed.status.code(), Some(1));

    // Another run (seed 2), and runs of other plans: K = 3, and a single segment of 2 steps.
    let other = prove_chain(&dir, &network, "other.chain", 4, 2, 2, &["--no-verify"]);
    let k3 = prove_chain(&dir, &network, "k3.chain", 3, 3, 1, &["--no-verify", "--no-zero-knowledge"]);
    // A chain of one segment is a chain too; one without zero-knowledge says so.
    let clear = zkdl(&["verify", s(&k3)]);
    let text = String::from_utf8_lossy(&clear.stdout);
    assert_eq!(clear.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&clear.stderr));
    assert!(text.lines().any(|l| l == "proof mode: NOT zero-knowledge"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("warning: this proof is NOT zero-knowledge")), "{text}");

    // Two segments swapped.
    let swapped = copy_chain(&chain, &dir.join("swapped.chain"));
    std::fs::copy(chain.join("segment-0002.proof"), swapped.join("segment-0001.proof")).unwrap();
    std::fs::copy(chain.join("segment-0001.proof"), swapped.join("segment-0002.proof")).unwrap();
    rejected(
        &swapped,
        1,
        "starting at chain step 4; segment 1 must have W_0 carried from a segment, starting at chain step 2",
    );

    // A segment removed: its file gone, or the rest renumbered with the manifest shortened.
    let missing = copy_chain(&chain, &dir.join("missing.chain"));
    std::fs::remove_file(missing.join("segment-0001.proof")).unwrap();
    rejected(&missing, 1, "segment-0001.proof");
    let renumbered = copy_chain(&chain, &dir.join("renumbered.chain"));
    std::fs::rename(renumbered.join("segment-0002.proof"), renumbered.join("segment-0001.proof")).unwrap();
    let mut shortened = manifest.clone();
    shortened["steps"] = 4.into();
    shortened["segments"] = serde_json::json!(["segment-0000.proof", "segment-0001.proof"]);
    std::fs::write(renumbered.join("chain.json"), shortened.to_string()).unwrap();
    rejected(&renumbered, 1, "must have W_0 carried from a segment, starting at chain step 2");

    // A segment of another run: the link C_W0 = previous C_WT breaks, on either side.
    let foreign = copy_chain(&chain, &dir.join("foreign.chain"));
    std::fs::copy(other.join("segment-0001.proof"), foreign.join("segment-0001.proof")).unwrap();
    rejected(&foreign, 1, "broken link to segment 0: its C_W0");
    let foreign_start = copy_chain(&chain, &dir.join("foreign-start.chain"));
    std::fs::copy(other.join("segment-0000.proof"), foreign_start.join("segment-0000.proof")).unwrap();
    rejected(&foreign_start, 1, "broken link to segment 0");

    // Segments of other plans: another K (T = 3), a manifest claiming another K, and a segment 0 that
    // does not range-check W_0 (a carried segment put first).
    let other_k = copy_chain(&chain, &dir.join("other-k.chain"));
    std::fs::copy(k3.join("segment-0000.proof"), other_k.join("segment-0000.proof")).unwrap();
    rejected(&other_k, 0, "the proof is of 3 steps; segment 0 of this chain has 2");
    let claimed_k = copy_chain(&chain, &dir.join("claimed-k.chain"));
    let mut claimed = manifest.clone();
    claimed["segment_steps"] = 3.into();
    claimed["segments"] = serde_json::json!(["segment-0000.proof", "segment-0001.proof"]);
    std::fs::write(claimed_k.join("chain.json"), claimed.to_string()).unwrap();
    rejected(&claimed_k, 0, "the proof is of 2 steps; segment 0 of this chain has 3");
    let unchecked = copy_chain(&chain, &dir.join("unchecked.chain"));
    std::fs::copy(chain.join("segment-0001.proof"), unchecked.join("segment-0000.proof")).unwrap();
    rejected(&unchecked, 0, "segment 0 must have a range-checked W_0");

    // A manifest that names files outside the chain is bad input before anything is read.
    let escaping = copy_chain(&chain, &dir.join("escaping.chain"));
    let mut outside = manifest.clone();
    outside["segments"][1] = "../run.chain/segment-0001.proof".into();
    std::fs::write(escaping.join("chain.json"), outside.to_string()).unwrap();
    let out = zkdl(&["verify", s(&escaping)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("segment 1 is"), "{}", String::from_utf8_lossy(&out.stderr));

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chain_options_that_cannot_be_are_bad_input() {
    let dir = temp_dir("chain-options");
    let out = zkdl(&["prove", "--steps", "4", "--segment-steps", "0", "--out", s(&dir.join("a.chain"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--segment-steps"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = zkdl(&[
        "prove",
        "--steps",
        "4",
        "--segment-steps",
        "2",
        "--public-final-weights",
        "--out",
        s(&dir.join("b.chain")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--public-final-weights"));
    // A file that is not a chain is never replaced by one.
    let file = dir.join("c.chain");
    std::fs::write(&file, b"keep").unwrap();
    let out = zkdl(&["prove", "--steps", "2", "--segment-steps", "1", "--out", s(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
    // A directory without a manifest is not a chain.
    let empty = dir.join("empty.chain");
    std::fs::create_dir_all(&empty).unwrap();
    let out = zkdl(&["verify", s(&empty)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a proof chain"));
    std::fs::remove_dir_all(&dir).unwrap();
}
