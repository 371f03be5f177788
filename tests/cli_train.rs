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
    let dir = temp_dir("plot");
    let plot = dir.join("curves.svg");
    let out = zkdl(&["train", "--epochs", "2", "--plot", plot.to_str().unwrap()]);
    assert!(out.status.success());
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "a whole SVG document");
    for label in ["loss (mean per epoch)", "accuracy", "fixed point, test", "float reference, train"] {
        assert!(svg.contains(label), "the curves name {label}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
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

/// `--lr-schedule K:EPOCHS,…,K` becomes the spec's schedule in steps of the training split (45 steps
/// per digits epoch), and a malformed one is refused before any work.
#[test]
fn a_learning_rate_schedule_in_epochs_becomes_steps() {
    let out = zkdl(&["train", "--epochs", "3", "--lr-schedule", "2:1,3:1,4", "--json", "--no-reference"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let optimizer = &doc["network"]["optimizer"];
    assert_eq!(optimizer["lr_shift"], 2, "{optimizer}");
    assert_eq!(
        optimizer["schedule"],
        serde_json::json!([{ "from_step": 45, "lr_shift": 3 }, { "from_step": 90, "lr_shift": 4 }]),
        "{optimizer}"
    );
    for (schedule, says) in [
        ("2:0,3", "not a number of epochs ≥ 1"),
        ("2,3", "has no number of epochs"),
        ("2:1,3:4", "runs to the end and takes no epochs"),
        ("x:1,3", "not a shift K ≥ 0"),
        ("2:1,30", "more than 2^16"),
    ] {
        let out = zkdl(&["train", "--epochs", "1", "--lr-schedule", schedule]);
        assert_eq!(out.status.code(), Some(2), "{schedule}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says) && stderr.contains("--lr-schedule"), "{schedule}: {stderr}");
        assert!(out.stdout.is_empty(), "{schedule}: nothing ran");
    }
    let both = zkdl(&["train", "--lr-shift", "3", "--lr-schedule", "2:1,3"]);
    assert_eq!(both.status.code(), Some(2), "--lr-shift and --lr-schedule together");
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

/// A tabular CSV of `n` rows: three informative features on different scales, a constant column of
/// ones, and a label of three classes.
fn tabular_csv(n: usize) -> String {
    let mut text = String::from("a,b,c,ones,label\n");
    for i in 0..n {
        let y = i % 3;
        // Deterministic "noise" from the row index.
        let u = ((i * 7919) % 1000) as f64 / 1000.0;
        let v = ((i * 104729) % 997) as f64 / 997.0;
        text += &format!("{:.3},{:.3},{:.3},1,{y}\n", 2.0 * y as f64 + u, -10.0 * y as f64 + 8.0 * v, 100.0 * u * v);
    }
    text
}

#[test]
fn normalization_is_fitted_on_the_training_split_saved_with_the_model_and_applied_by_predict() {
    let dir = temp_dir("normalize");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(dir.join("tab.csv"), tabular_csv(300)).unwrap();
    std::fs::write(
        dir.join("net.toml"),
        "name = \"Tab\"\ninput = 4\nlayers = [{ dense = 16 }, \"relu\", { dense = 3 }]\nloss = \"mse\"\noptimizer = { kind = \"sgd\", lr_shift = 2 }\nbatch = 16\n",
    )
    .unwrap();
    let (data, net, model, split) = (path("tab.csv"), path("net.toml"), path("m.safetensors"), path("split"));
    let args = ["train", "--network", &net, "--data", &data, "--epochs", "20", "--json", "--no-reference"];
    let out = zkdl(&[&args[..], &["--weights-out", &model, "--export-split", &split]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let norm = &doc["normalization"];
    assert_eq!(norm["kind"], "minmax", "{doc}");

    // The statistics are those of the exported training rows, not of every row.
    let rows = |name: &str| -> Vec<Vec<f64>> {
        let text = std::fs::read_to_string(dir.join("split").join(name)).unwrap();
        text.lines().skip(1).map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect()
    };
    let (train, test) = (rows("train.csv"), rows("test.csv"));
    assert_eq!((train.len(), test.len()), (240, 60));
    for j in 0..4 {
        let lo = train.iter().map(|r| r[j]).fold(f64::MAX, f64::min);
        let hi = train.iter().map(|r| r[j]).fold(f64::MIN, f64::max);
        assert!((norm["min"][j].as_f64().unwrap() - lo).abs() < 1e-3, "feature {j}: {norm}");
        assert!((norm["max"][j].as_f64().unwrap() - hi).abs() < 1e-3, "feature {j}: {norm}");
    }
    let split_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("split").join("split.json")).unwrap()).unwrap();
    assert_eq!(split_doc["train_indices"].as_array().unwrap().len(), 240);
    assert_eq!(split_doc["normalization"], *norm);

    // The model file carries the normalization: evaluate on the exported test rows reproduces the
    // run's own test accuracy exactly, and predict without labels gives the same classes.
    let test_csv = dir.join("split").join("test.csv");
    let evaluated = zkdl(&["evaluate", "--weights", &model, "--data", test_csv.to_str().unwrap(), "--json"]);
    assert!(evaluated.status.success(), "{}", String::from_utf8_lossy(&evaluated.stderr));
    let evaluated: serde_json::Value = serde_json::from_slice(&evaluated.stdout).unwrap();
    let reported = doc["epochs"].as_array().unwrap().last().unwrap()["fixed"]["test_accuracy"].clone();
    assert_eq!(evaluated["accuracy"], reported, "{evaluated}");
    assert!(reported.as_f64().unwrap() > 0.5, "the model learned something: {reported}");
    let unlabelled: String = std::fs::read_to_string(&test_csv)
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(dir.join("unlabelled.csv"), unlabelled).unwrap();
    let classes = |file: &str, labelled: bool| -> Vec<String> {
        let out = zkdl(&["predict", "--weights", &model, "--data", &path(file)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let header = text.lines().next().unwrap().to_string();
        assert_eq!(header.contains(",label,"), labelled, "{header}");
        text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect()
    };
    std::fs::copy(&test_csv, dir.join("test.csv")).unwrap();
    assert_eq!(classes("test.csv", true), classes("unlabelled.csv", false));
    // New data is never normalized by its own statistics.
    let own = zkdl(&["predict", "--weights", &model, "--data", &path("unlabelled.csv"), "--normalize", "minmax"]);
    assert_eq!(own.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&own.stderr).contains("training split"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Points of the unit square labelled by whether they lie beyond the diagonal x + y = 1: a network
/// without biases is positively homogeneous (f(c·x) = c·f(x) for c > 0), so its class is constant along
/// each ray from the origin and it cannot draw this boundary; with biases it can.
fn beyond_the_diagonal_csv(n: usize) -> String {
    let mut text = String::from("x,y,label\n");
    for i in 0..n {
        // A low-discrepancy (Kronecker) sequence: deterministic and spread over the square.
        let x = (i as f64 * 0.618_033_988_75).fract();
        let y = (i as f64 * 0.754_877_666_25).fract();
        text += &format!("{x:.4},{y:.4},{}\n", u8::from(x + y > 1.0));
    }
    text
}

/// Issue 16's CI check: a small tabular network with biases trains, proves and verifies on a CSV the
/// test writes (not digits), and its accuracy beats the same network without biases.
#[test]
fn a_tabular_network_with_biases_proves_verifies_and_beats_the_same_network_without() {
    let dir = temp_dir("tabular-bias");
    let data = dir.join("diagonal.csv");
    std::fs::write(&data, beyond_the_diagonal_csv(512)).unwrap();
    let network = |bias: bool| {
        let path = dir.join(format!("net-{bias}.toml"));
        let b = if bias { "" } else { ", bias = false" };
        std::fs::write(
            &path,
            format!(
                "name = \"Diagonal\"\ninput = 2\nlayers = [{{ dense = 8{b} }}, \"relu\", {{ dense = 2{b} }}]\n\
                 loss = \"mse\"\noptimizer = {{ kind = \"sgd\", lr_shift = 2 }}\nbatch = 16\n"
            ),
        )
        .unwrap();
        path
    };
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let mut accuracy = Vec::new();
    for bias in [true, false] {
        let (net, proof) = (network(bias), dir.join(format!("run-{bias}.proof")));
        let args = ["prove", "--network", &s(&net), "--data", &s(&data), "--epochs", "30", "--seed", "3"];
        let out = zkdl(&[&args[..], &["--out", &s(&proof), "--json"]].concat());
        assert!(out.status.success(), "bias {bias}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        accuracy.push(doc["test_accuracy"].as_f64().unwrap());
        let verified = zkdl(&["verify", &s(&proof), "--network", &s(&net)]);
        assert!(verified.status.success(), "bias {bias}: {}", String::from_utf8_lossy(&verified.stdout));
    }
    let (with, without) = (accuracy[0], accuracy[1]);
    // Measured: 90.2% with biases, 71.6% without (release build, seed 3).
    assert!(with >= 0.85 && with > without + 0.1, "with biases {with}, without {without}");
    std::fs::remove_dir_all(&dir).unwrap();
}
