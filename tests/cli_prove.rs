//! `zkdl prove | verify | inspect | bench` as a user runs them, and a generated prover binary: exit codes
//! 0 valid, 1 invalid, 2 bad input; zero-knowledge by default, `--no-zero-knowledge` said out loud.

mod common;

use common::{temp_dir, zkdl};

#[test]
fn prove_then_verify_and_reject_a_tampered_file() {
    let dir = temp_dir("prove");
    let proof = dir.join("digits.proof");
    let out = zkdl(&["prove", "--steps", "2", "--out", proof.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["steps"], 2);
    assert!(doc["proof_bytes"].as_u64().unwrap() > 1000);
    assert_eq!(doc["mode"], "zero-knowledge");
    assert_eq!(doc["zero_knowledge"], true);

    let verified = zkdl(&["verify", proof.to_str().unwrap(), "--initial-seed", "1"]);
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(text.contains("2 steps of SGD of network Digits") && text.contains("valid"), "{text}");
    assert!(text.contains("commitment W_T"), "{text}");
    // The default proof is zero-knowledge, and verify says so.
    assert!(text.lines().any(|l| l == "proof mode: zero-knowledge"), "{text}");
    assert!(!text.contains("NOT zero-knowledge"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("pinned initial weights: matched")), "{text}");

    // A changed field element in the body: decoded, checked, invalid (1) — or undecodable (2).
    let mut bytes = std::fs::read(&proof).unwrap();
    let last = bytes.len() - 40;
    bytes[last] ^= 0x01;
    let tampered = dir.join("tampered.proof");
    std::fs::write(&tampered, &bytes).unwrap();
    let rejected = zkdl(&["verify", tampered.to_str().unwrap()]);
    assert!(matches!(rejected.status.code(), Some(1) | Some(2)), "{:?}", rejected.status);
    assert!(!rejected.status.success());

    let missing = zkdl(&["verify", dir.join("missing.proof").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing.proof"));
    std::fs::write(dir.join("junk.proof"), b"hello").unwrap();
    let junk = zkdl(&["verify", dir.join("junk.proof").to_str().unwrap()]);
    assert_eq!(junk.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&junk.stderr).contains("magic"), "{}", String::from_utf8_lossy(&junk.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_proof_without_zero_knowledge_is_marked_and_warned_about() {
    let dir = temp_dir("clear");
    let proof = dir.join("clear.proof");
    let out = zkdl(&["prove", "--steps", "1", "--out", proof.to_str().unwrap(), "--no-zero-knowledge"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("mode: NOT zero-knowledge (--no-zero-knowledge")), "{text}");
    assert!(text.contains("valid"), "{text}");

    // Still a valid proof, but verify shows its mode and a warning on a line of its own.
    let verified = zkdl(&["verify", proof.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(text.lines().any(|l| l == "proof mode: NOT zero-knowledge"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("warning: this proof is NOT zero-knowledge")), "{text}");
    assert!(text.contains("valid"), "{text}");

    let json = zkdl(&["verify", proof.to_str().unwrap(), "--json"]);
    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["zero_knowledge"], false);
    assert_eq!(doc["mode"], "NOT zero-knowledge");
    assert!(doc["warnings"][0].as_str().unwrap().contains("NOT zero-knowledge"), "{doc}");
    assert!(String::from_utf8_lossy(&json.stderr).contains("warning: this proof is NOT zero-knowledge"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_reports_zero_knowledge_on_and_off_side_by_side() {
    let dir = temp_dir("bench");
    let (json, plot) = (dir.join("bench.json"), dir.join("phases.svg"));
    let out = zkdl(&[
        "bench",
        "--runs",
        "digits:1",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "a whole SVG document");
    for group in ["Digits T = 1", "commit b", "matmuls (M1 M2 M3)", "bit relation (B)", "openings"] {
        assert!(svg.contains(group), "the phase plot names {group}");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("prover s") && text.contains("proof bytes") && text.contains("zk/clear"), "{text}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let run = &doc[0];
    assert_eq!(run["modes"], serde_json::json!(["zk", "clear"]));
    for field in ["prover_seconds", "verifier_seconds", "prover_seconds_clear", "verifier_seconds_clear"] {
        assert!(run[field].as_f64().unwrap() > 0.0, "{field}: {run}");
    }
    let (zk, clear) = (run["proof_bytes"].as_u64().unwrap(), run["proof_bytes_clear"].as_u64().unwrap());
    assert!(zk > clear && clear > 1000, "zero-knowledge {zk} bytes, clear {clear}");
    let ratio = run["zk_size_ratio"].as_f64().unwrap();
    assert!((ratio - zk as f64 / clear as f64).abs() < 1e-9, "{run}");
    assert!(run["zk_prover_ratio"].as_f64().unwrap() > 0.0, "{run}");

    // One mode alone: the other's fields and the ratios are null.
    let out = zkdl(&["bench", "--runs", "digits:1", "--modes", "clear", "--quiet", "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let run = &doc[0];
    assert_eq!(run["modes"], serde_json::json!(["clear"]));
    assert!(run["proof_bytes"].is_null() && run["zk_size_ratio"].is_null(), "{run}");
    assert!(run["proof_bytes_clear"].as_u64().unwrap() > 1000, "{run}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_proof_is_checked_against_the_network_asked_for() {
    let dir = temp_dir("network");
    let proof = dir.join("d.proof");
    assert!(zkdl(&["prove", "--steps", "1", "--out", proof.to_str().unwrap(), "--no-verify"]).status.success());
    let other = dir.join("other.toml");
    std::fs::write(
        &other,
        "name = \"Other\"\ninput = 64\nlayers = [{ dense = 16 }, \"relu\", { dense = 10 }]\nloss = \"mse\"\noptimizer = { kind = \"sgd\", lr_shift = 4 }\nbatch = 32\n",
    )
    .unwrap();
    let out = zkdl(&["verify", proof.to_str().unwrap(), "--network", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the proof is about another network");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The message says what differs, field by field.
    assert!(stderr.contains("name \"Other\" in --network, \"Digits\" in the proof"), "{stderr}");
    assert!(stderr.contains("layers [dense(16), relu, dense(10)] in --network"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_paths_are_checked_before_any_work() {
    let dir = temp_dir("paths");
    let missing = dir.join("no-such-dir");
    let file = |name: &str| missing.join(name).to_str().unwrap().to_string();
    let existing_file = dir.join("a-file");
    std::fs::write(&existing_file, b"x").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["prove".into(), "--out".into(), file("p.proof")], "--out"),
        (vec!["prove".into(), "--weights-out".into(), file("w.safetensors")], "--weights-out"),
        (vec!["prove".into(), "--secrets-out".into(), file("p.secrets")], "--secrets-out"),
        (vec!["prove".into(), "--out".into(), dir.to_str().unwrap().into()], "is a directory"),
        (
            vec![
                "prove".into(),
                "--segment-steps".into(),
                "2".into(),
                "--out".into(),
                existing_file.to_str().unwrap().into(),
            ],
            "not a directory",
        ),
        (vec!["train".into(), "--weights-out".into(), file("w.safetensors")], "--weights-out"),
        (vec!["bench".into(), "--json".into(), file("b.json")], "--json"),
        (vec!["data".into(), "commit".into(), "digits".into(), "--out".into(), file("d.zkdd")], "--out"),
    ];
    for (args, needle) in cases {
        let out = zkdl(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle) && stderr.contains("nothing was run"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} did work before failing: {}", String::from_utf8_lossy(&out.stdout));
    }
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a-file")], "nothing was written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_bench_run_is_parsed_before_the_first_starts() {
    let out = zkdl(&["bench", "--runs", "digits:1 digits:x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`x` is not a step count"));
    assert!(out.stdout.is_empty(), "the first run started: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn inspect_prints_the_plan_and_cost_before_any_work() {
    let out = zkdl(&["inspect", "--network", "paper", "--steps", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("T = 4 steps") && text.contains("aggregated relations"), "{text}");
    // The statement `zkdl prove` makes by default: W_0 regenerated from the seed, not committed.
    assert!(text.contains("initial weights public") && !text.contains("bits(W_0)"), "{text}");
    let committed = zkdl(&["inspect", "--network", "paper", "--steps", "4", "--committed-initial-weights"]);
    let committed = String::from_utf8_lossy(&committed.stdout);
    assert!(committed.contains("initial weights committed (C_W0)") && committed.contains("bits(W_0)"), "{committed}");
    let bad = zkdl(&["inspect", "--steps", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The statement's pins, as a prover and an auditor use them: the initial weights from the seed, the
/// final weights opened to the model file; each pin that does not match is invalid (1), each file that
/// belongs elsewhere is bad input (2), and the run's secrets are private and never silently replaced.
#[test]
fn pins_hold_a_proof_to_its_seed_and_its_shipped_model() {
    let dir = temp_dir("pins");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // The default initialization (PyTorch's) and He's.
    for (proof, weights, seed, init, named) in [
        ("a.proof", "a.safetensors", "1", "pytorch", "PyTorch(seed 1)"),
        ("b.proof", "b.safetensors", "2", "he", "He(seed 2)"),
    ] {
        let mut args = vec!["prove", "--steps", "2", "--seed", seed, "--init", init];
        let (out, weights) = (path(proof), path(weights));
        args.extend(["--out", &out, "--weights-out", &weights]);
        let out = zkdl(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("initial weights {named}")), "{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("a.proof.secrets")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secrets file is private");
    }
    let open = |proof: &str, secrets: &str, weights: &str, out: &str| {
        zkdl(&[
            "weights",
            "open",
            &path(proof),
            "--secrets",
            &path(secrets),
            "--weights",
            &path(weights),
            "--out",
            &path(out),
        ])
    };
    assert_eq!(open("a.proof", "a.proof.secrets", "a.safetensors", "a.opening").status.code(), Some(0));
    assert_eq!(open("b.proof", "b.proof.secrets", "b.safetensors", "b.opening").status.code(), Some(0));
    // Another run's model or secrets do not open C_WT: bad input, and no opening is written.
    assert_eq!(open("a.proof", "a.proof.secrets", "b.safetensors", "x.opening").status.code(), Some(2));
    assert_eq!(open("a.proof", "b.proof.secrets", "a.safetensors", "x.opening").status.code(), Some(2));
    assert!(!dir.join("x.opening").exists());

    let verify = |extra: &[&str]| {
        let mut args = vec!["verify".to_string(), path("a.proof"), "--json".to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        zkdl(&args)
    };
    let pinned =
        verify(&["--initial-seed", "1", "--final-weights", &path("a.safetensors"), "--opening", &path("a.opening")]);
    assert_eq!(pinned.status.code(), Some(0), "{}", String::from_utf8_lossy(&pinned.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&pinned.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["pins"].as_array().unwrap().len(), 2, "{doc}");
    assert!(doc["pins"].as_array().unwrap().iter().all(|p| p["matched"] == true), "{doc}");
    assert_eq!(doc["commitments"][0]["sha256"].as_str().unwrap().len(), 64, "full digests: {doc}");
    let warnings = doc["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "only the data is unpinned: {doc}");
    assert!(warnings[0].as_str().unwrap().contains("data is not pinned"), "{doc}");

    // Another seed, another model: valid proof, pin does not match → invalid (1).
    let other_seed = verify(&["--initial-seed", "2"]);
    assert_eq!(other_seed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other_seed.stderr).contains("starts from PyTorch(seed 1), not seed 2"));
    // The same seed drawn by another scheme is other weights.
    let other_init = verify(&["--initial-seed", "1", "--init", "he"]);
    assert_eq!(other_init.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other_init.stderr).contains("not He(seed 1)"));
    assert_eq!(verify(&["--initial-seed", "1", "--init", "pytorch"]).status.code(), Some(0));
    let other_model = verify(&["--final-weights", &path("b.safetensors"), "--opening", &path("a.opening")]);
    assert_eq!(other_model.status.code(), Some(1), "{}", String::from_utf8_lossy(&other_model.stderr));
    // An opening made for another proof is bad input (2), whatever the weights.
    let other_opening = verify(&["--final-weights", &path("a.safetensors"), "--opening", &path("b.opening")]);
    assert_eq!(other_opening.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other_opening.stderr).contains("another proof"));
    // With nothing pinned it still verifies, and warns about each thing it does not establish.
    let bare = zkdl(&["verify", &path("a.proof")]);
    assert_eq!(bare.status.code(), Some(0));
    let text = String::from_utf8_lossy(&bare.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("warning:")).count(), 3, "{text}");

    // An explicit secrets file is never replaced without --replace-secrets.
    let out = zkdl(&["prove", "--steps", "1", "--out", &path("c.proof"), "--secrets-out", &path("a.proof.secrets")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace-secrets"));
    assert!(!dir.join("c.proof").exists(), "nothing is proven before the output paths are known to work");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The data owner commits the digits training set; a prover trains on it and proves; the verifier
/// pins the dataset. Another dataset is an invalid pin (1); a dataset or secrets file that does not fit
/// is bad input (2), and a published commitment is never silently replaced.
#[test]
fn a_proof_on_a_committed_dataset_is_pinned_to_it() {
    let dir = temp_dir("dataset");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let committed = zkdl(&["data", "commit", "digits", "--out", &path("digits.zkdd"), "--json"]);
    assert!(committed.status.success(), "{}", String::from_utf8_lossy(&committed.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&committed.stdout).unwrap();
    assert_eq!(doc["header"]["examples"], 1438);
    let digest = doc["digest"].as_str().unwrap().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("digits.zkdd.secrets")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the dataset's secrets are private");
    }
    let shown = zkdl(&["data", "show", &path("digits.zkdd")]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&digest));
    let again = zkdl(&["data", "commit", "digits", "--out", &path("digits.zkdd")]);
    assert_eq!(again.status.code(), Some(2), "a published commitment was replaced");
    assert!(zkdl(&["data", "commit", "digits", "--seed", "7", "--out", &path("other.zkdd")]).status.success());

    let proved = zkdl(&["prove", "--steps", "2", "--dataset", &path("digits.zkdd"), "--out", &path("d.proof")]);
    assert!(proved.status.success(), "{}", String::from_utf8_lossy(&proved.stderr));
    assert!(String::from_utf8_lossy(&proved.stdout).contains("drawn with sampling seed 3"));

    let pinned = zkdl(&["verify", &path("d.proof"), "--dataset", &path("digits.zkdd"), "--json"]);
    assert_eq!(pinned.status.code(), Some(0), "{}", String::from_utf8_lossy(&pinned.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&pinned.stdout).unwrap();
    assert_eq!(doc["dataset"]["sha256"], digest.as_str());
    assert_eq!(doc["pins"][0]["pin"], "data");
    assert_eq!(doc["pins"][0]["matched"], true);
    // Unpinned, the proof still verifies and says the link was not checked.
    let bare = zkdl(&["verify", &path("d.proof")]);
    assert_eq!(bare.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bare.stdout).contains("that link was not checked"));
    // Another dataset: invalid.
    let other = zkdl(&["verify", &path("d.proof"), "--dataset", &path("other.zkdd")]);
    assert_eq!(other.status.code(), Some(1));
    // The other dataset's secrets, a network of other widths, a file that is no dataset: bad input.
    let wrong_secrets = zkdl(&[
        "prove",
        "--steps",
        "1",
        "--dataset",
        &path("digits.zkdd"),
        "--dataset-secrets",
        &path("other.zkdd.secrets"),
        "--out",
        &path("x.proof"),
    ]);
    assert_eq!(wrong_secrets.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_secrets.stderr).contains("another dataset commitment"));
    let wrong_network = zkdl(&[
        "prove",
        "--network",
        "paper",
        "--steps",
        "1",
        "--dataset",
        &path("digits.zkdd"),
        "--out",
        &path("x.proof"),
    ]);
    assert_eq!(wrong_network.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_network.stderr).contains("network Paper takes 3072 inputs"));
    let junk = zkdl(&["verify", &path("d.proof"), "--dataset", &path("d.proof")]);
    assert_eq!(junk.status.code(), Some(2));
    assert!(!dir.join("x.proof").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--public-final-weights`: W_T in the clear, no secrets file, and a model file checked against it
/// without an opening (another run's model is an invalid pin).
#[test]
fn public_final_weights_are_checked_against_a_model_file() {
    let dir = temp_dir("public-final");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for (proof, weights, seed) in [("p.proof", "p.safetensors", "1"), ("q.proof", "q.safetensors", "2")] {
        let args = [
            "prove",
            "--steps",
            "1",
            "--seed",
            seed,
            "--public-final-weights",
            "--out",
            &path(proof),
            "--weights-out",
            &path(weights),
        ];
        let out = zkdl(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(!dir.join("p.proof.secrets").exists(), "public final weights need no secrets");
    let matched = zkdl(&["verify", &path("p.proof"), "--final-weights", &path("p.safetensors")]);
    assert_eq!(matched.status.code(), Some(0), "{}", String::from_utf8_lossy(&matched.stderr));
    let text = String::from_utf8_lossy(&matched.stdout);
    assert!(text.contains("final weights public (W_T in the clear)") && text.contains("sha256"), "{text}");
    // Without the file, verify names the weights by the SHA-256 of their file with no normalization
    // record (`--weights-out` adds how the data was normalized, which the proof does not cover).
    let spec = <zkdl::presets::Digits as zkdl::Network>::spec();
    let weights = zkdl::runtime::training::weights::FixedWeights::load(&dir.join("p.safetensors"), &spec).unwrap();
    let canonical = weights.safetensors_bytes(&dir.join("p.safetensors"), &spec, 1).unwrap();
    let file_digest: String =
        <sha2::Sha256 as sha2::Digest>::digest(canonical).iter().map(|b| format!("{b:02x}")).collect();
    let bare = zkdl(&["verify", &path("p.proof")]);
    let text = String::from_utf8_lossy(&bare.stdout);
    assert!(text.contains(&format!("no normalization record, sha256 {file_digest}")), "{text}");
    let other = zkdl(&["verify", &path("p.proof"), "--final-weights", &path("q.safetensors")]);
    assert_eq!(other.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Fine-tuning from initial weights committed before training: the proof's C_W0 is the published
/// commitment and `--initial-weights` pins it; another commitment is invalid (1); weights that do not
/// open the commitment, a commitment about to be replaced and weights of another network are bad
/// input (2).
#[test]
fn initial_weights_committed_before_training_are_pinned() {
    let dir = temp_dir("initial-weights");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for (weights, seed) in [("a.safetensors", "1"), ("b.safetensors", "4")] {
        let out = zkdl(&["train", "--steps", "20", "--seed", seed, "--no-reference", "--weights-out", &path(weights)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for (weights, zkdw) in [("a.safetensors", "a.zkdw"), ("b.safetensors", "b.zkdw")] {
        assert!(zkdl(&["weights", "commit", &path(weights), "--out", &path(zkdw)]).status.success());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("a.zkdw.secrets")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(zkdl(&["weights", "commit", &path("a.safetensors"), "--out", &path("a.zkdw")]).status.code(), Some(2));
    let other_network =
        zkdl(&["weights", "commit", &path("a.safetensors"), "--network", "paper", "--out", &path("p.zkdw")]);
    assert_eq!(other_network.status.code(), Some(2));

    let args = ["prove", "--steps", "1", "--weights-in", &path("a.safetensors"), "--initial-weights", &path("a.zkdw")];
    let out = zkdl(&[&args[..], &["--out", &path("a.proof")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pinned = zkdl(&["verify", &path("a.proof"), "--initial-weights", &path("a.zkdw")]);
    assert_eq!(pinned.status.code(), Some(0), "{}", String::from_utf8_lossy(&pinned.stderr));
    assert!(String::from_utf8_lossy(&pinned.stdout).contains("pinned initial weights: matched"));
    let other = zkdl(&["verify", &path("a.proof"), "--initial-weights", &path("b.zkdw")]);
    assert_eq!(other.status.code(), Some(1));
    // Weights that are not the committed ones: bad input, nothing written.
    let args = ["prove", "--steps", "1", "--weights-in", &path("b.safetensors"), "--initial-weights", &path("a.zkdw")];
    let wrong = zkdl(&[&args[..], &["--out", &path("x.proof")]].concat());
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not what the commitment commits to"));
    assert!(!dir.join("x.proof").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn prove_and_verify_use_the_generator_cache_and_ignore_a_corrupted_one() {
    let dir = temp_dir("key-cache");
    let cache = dir.join("cache");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_zkdl"))
            .args(args)
            .env("ZKDL_CACHE_DIR", &cache)
            .output()
            .expect("run zkdl")
    };
    let proof = dir.join("digits.proof");
    let proved = run(&["prove", "--steps", "1", "--out", proof.to_str().unwrap(), "--no-verify"]);
    assert!(proved.status.success(), "{}", String::from_utf8_lossy(&proved.stderr));
    // The prover left the digits key (2^10 generators) in the cache.
    let file = cache.join("zkdl").join("generators-10.bin");
    let good = std::fs::read(&file).expect("the prover writes the key to $ZKDL_CACHE_DIR/zkdl");
    assert_eq!(good.len(), 96 << 10);

    let verified = run(&["verify", proof.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
    // A flipped byte or a truncated file: ignored (the key is derived), the proof still verifies, and
    // the file is rewritten.
    let mut flipped = good.clone();
    flipped[1000] ^= 0x04;
    for bad in [flipped, good[..good.len() / 2].to_vec()] {
        std::fs::write(&file, &bad).unwrap();
        let verified = run(&["verify", proof.to_str().unwrap()]);
        assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
        assert_eq!(std::fs::read(&file).unwrap(), good);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--backend`: a proof made on OpenCL (where a driver is present: PoCL in CI) verifies and has the
/// cpu proof's size, the JSON names the backend, and a backend that cannot be had is a clear error
/// (exit 2) before any work, never a crash.
#[test]
fn backends_make_the_same_proof_and_a_missing_one_is_an_input_error() {
    let dir = temp_dir("backends");
    let prove = |backend: &str| {
        let proof = dir.join(format!("{backend}.proof"));
        let out = zkdl(&[
            "prove",
            "--steps",
            "2",
            "--backend",
            backend,
            "--out",
            proof.to_str().unwrap(),
            "--public-final-weights",
            "--json",
        ]);
        (out, proof)
    };
    let (cpu, cpu_proof) = prove("cpu");
    assert!(cpu.status.success(), "{}", String::from_utf8_lossy(&cpu.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&cpu.stdout).unwrap();
    assert!(doc["backend"].as_str().unwrap().starts_with("cpu"), "{doc}");
    assert!(String::from_utf8_lossy(&cpu.stderr).lines().any(|l| l.starts_with("backend: cpu")));

    let (opencl, opencl_proof) = prove("opencl");
    if opencl.status.success() {
        // The CLI draws its blinds from the operating system, so the two files differ in their random
        // bytes (the backend suite compares proofs from one seed byte for byte); both verify, same size.
        let doc_opencl: serde_json::Value = serde_json::from_slice(&opencl.stdout).unwrap();
        assert!(doc_opencl["backend"].as_str().unwrap().starts_with("opencl"), "{doc_opencl}");
        assert_eq!(doc_opencl["valid"], true);
        assert_eq!(doc_opencl["proof_bytes"], doc["proof_bytes"]);
        let verified = zkdl(&["verify", opencl_proof.to_str().unwrap()]);
        assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
        assert!(cpu_proof.exists());
    } else {
        assert_eq!(opencl.status.code(), Some(2), "{}", String::from_utf8_lossy(&opencl.stderr));
        assert!(
            std::env::var("ZKDL_REQUIRE_OPENCL").map_or(true, |v| v != "1"),
            "{}",
            String::from_utf8_lossy(&opencl.stderr)
        );
    }

    let (cuda, _) = prove("cuda");
    if !cuda.status.success() {
        let stderr = String::from_utf8_lossy(&cuda.stderr);
        assert_eq!(cuda.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--backend cuda")
                && (stderr.contains("libcuda") || stderr.contains("NVRTC") || stderr.contains("device")),
            "{stderr}"
        );
    }
    let unknown = zkdl(&["prove", "--steps", "1", "--backend", "gpu"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown backend `gpu`"));
}
