//! `zkdl train` as a user runs it: JSON output, weights files, and exit code 2 with a clear message on
//! bad input.

mod common;

use common::{temp_dir, zkdl};

#[test]
fn train_reports_json_and_writes_weights() {
    let dir = temp_dir("json");
    let weights = dir.join("w.safetensors");
    let out = zkdl(&["train", "--steps", "50", "--seed", "4", "--json", "--weights-out", weights.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["steps"], 50);
    assert_eq!(doc["epochs"].as_array().unwrap().len(), 2, "45 steps per epoch: one full epoch and a partial one");
    let accuracy = doc["epochs"][1]["fixed"]["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    assert_eq!(doc["drift"]["fixed_losses"].as_array().unwrap().len(), 50);
    // The weights resume a run: training 0 more steps is refused, training on from them works.
    let resumed = zkdl(&["train", "--steps", "5", "--weights-in", weights.to_str().unwrap(), "--no-reference"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_output_has_a_line_per_epoch_with_the_float_reference() {
    let out = zkdl(&["train", "--epochs", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("epoch")).count(), 2, "{text}");
    assert!(text.contains("| float: mean batch loss"), "{text}");
    assert!(text.contains("last batch loss"), "the closing line says which loss it reports: {text}");
}

#[test]
fn no_test_set_is_said_not_reported_as_zero_accuracy() {
    let out = zkdl(&["train", "--epochs", "1", "--test-fraction", "0", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["data"]["test"], 0);
    assert!(doc["epochs"][0]["fixed"]["test_accuracy"].is_null(), "{}", doc["epochs"][0]);
    let text = zkdl(&["train", "--epochs", "1", "--test-fraction", "0"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("no test set") && text.contains("test n/a") && !text.contains("test 0.0%"), "{text}");
}

#[test]
fn an_epoch_count_that_overflows_is_refused() {
    let out = zkdl(&["train", "--epochs", "18446744073709551615"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--epochs 18446744073709551615"));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let dir = temp_dir("bad");
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "1,2,3\n4,x,6\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--network".into(), "missing.toml".into()], "missing.toml"),
        (vec!["--network".into(), "paper".into(), "--data".into(), "digits".into()], "3072"),
        (vec!["--data".into(), csv.to_str().unwrap().into()], "line 2"),
        (vec!["--normalize=-3".into(), "--data".into(), csv.to_str().unwrap().into()], "--normalize"),
        (vec!["--weights-in".into(), csv.to_str().unwrap().into()], "safetensors"),
    ];
    for (args, needle) in cases {
        let mut full = vec!["train".to_string(), "--steps".into(), "1".into()];
        full.extend(args.clone());
        let out = zkdl(&full.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
