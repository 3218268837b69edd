//! The snarkjs-style command line: setup, example-batch, prove, verify, and their exit codes;
//! and `zkr compare` (the L1 alone, a ZK rollup and an optimistic rollup on one workload).

use std::path::Path;
use std::process::Command;

/// The seeded setup both tests use: depth 4, 2 slots, keys in `keys`.
const SETUP: [&str; 9] = [
    "setup",
    "--depth",
    "4",
    "--batch-size",
    "2",
    "--keys",
    "keys",
    "--seed",
    "3",
];
/// An example batch for that circuit, in `batch.json`.
const EXAMPLE_BATCH: [&str; 7] = [
    "example-batch",
    "--depth",
    "4",
    "--batch-size",
    "2",
    "--out",
    "batch.json",
];

fn zkr(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkr"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn setup_prove_verify_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (c, out, err) = zkr(&SETUP, d);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("constraints"), "{out}");
    assert!(
        err.contains("INSECURE"),
        "a seeded setup says it is insecure: {err}"
    );
    // A second setup reuses the cached keys.
    let (c, out, _) = zkr(&SETUP, d);
    assert_eq!(c, 0);
    assert!(out.contains("cached"), "{out}");

    assert_eq!(zkr(&EXAMPLE_BATCH, d).0, 0);
    let (c, out, err) = zkr(
        &[
            "prove",
            "--keys",
            "keys",
            "--batch",
            "batch.json",
            "--out",
            "proof",
        ],
        d,
    );
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("prove"), "{out}");
    for f in ["proof.json", "public.json", "transition.json"] {
        assert!(d.join("proof").join(f).exists(), "{f}");
    }
    let (c, out, _) = zkr(&["verify", "--keys", "keys", "--proof", "proof"], d);
    assert_eq!(c, 0, "{out}");
    assert!(out.starts_with("OK"));

    // Invalid: another new root (transition.json removed so only the pairing decides).
    std::fs::remove_file(d.join("proof/transition.json")).unwrap();
    let honest: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(d.join("proof/public.json")).unwrap())
            .unwrap();
    let with = |i: usize, v: &str| {
        let mut x = honest.clone();
        x[i] = v.to_string();
        serde_json::to_string(&x).unwrap()
    };
    std::fs::write(d.join("proof/public.json"), with(1, "12345")).unwrap();
    let (c, out, _) = zkr(&["verify", "--keys", "keys", "--proof", "proof"], d);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("INVALID"));

    // Malformed: one input too few, then an input equal to the field modulus, then garbage.
    std::fs::write(
        d.join("proof/public.json"),
        serde_json::to_string(&honest[1..]).unwrap(),
    )
    .unwrap();
    let (c, _, err) = zkr(&["verify", "--keys", "keys", "--proof", "proof"], d);
    assert_eq!(c, 2);
    assert!(err.contains("inputs, the key expects"), "{err}");
    std::fs::write(
        d.join("proof/public.json"),
        with(
            0,
            "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        ),
    )
    .unwrap();
    let (c, _, err) = zkr(&["verify", "--keys", "keys", "--proof", "proof"], d);
    assert_eq!(c, 2);
    assert!(err.contains("canonical"), "{err}");
    std::fs::write(d.join("proof/proof.json"), "{").unwrap();
    let (c, _, err) = zkr(&["verify", "--keys", "keys", "--proof", "proof"], d);
    assert_eq!(c, 2);
    assert!(err.contains("proof.json"), "{err}");

    // A truncated proving key is a clear error, not a panic.
    let pk = d.join("keys/proving_key.bin");
    let bytes = std::fs::read(&pk).unwrap();
    std::fs::write(&pk, &bytes[..bytes.len() / 3]).unwrap();
    let (c, _, err) = zkr(
        &[
            "prove",
            "--keys",
            "keys",
            "--batch",
            "batch.json",
            "--out",
            "p2",
        ],
        d,
    );
    assert_eq!(c, 2);
    assert!(err.contains("corrupt or truncated"), "{err}");
    assert!(!err.contains("panicked"));

    // Odd depth: a clear error.
    let (c, _, err) = zkr(&["circuit", "--depth", "5", "--batch-size", "1"], d);
    assert_eq!(c, 2);
    assert!(err.contains("even"), "{err}");
}

#[test]
fn export_verifier_renders_the_committed_test_verifier_for_its_key() {
    // contracts/test/Verifier.sol is the verifier of the seeded setup at depth 4, 2 slots,
    // seed 11 (the contract tests' key): the command must write exactly that file.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let setup = [
        "setup",
        "--depth",
        "4",
        "--batch-size",
        "2",
        "--keys",
        "keys",
        "--seed",
        "11",
    ];
    assert_eq!(zkr(&setup, d).0, 0);
    let (c, out, err) = zkr(
        &["export-verifier", "--keys", "keys", "--out", "Verifier.sol"],
        d,
    );
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("depth 4, batch size 2"), "{out}");
    let written = std::fs::read_to_string(d.join("Verifier.sol")).unwrap();
    let committed = include_str!("../../contracts/test/Verifier.sol");
    assert!(
        written == committed,
        "export-verifier differs from contracts/test/Verifier.sol"
    );
    // A directory without keys: exit 2 with the reason, nothing written.
    let (c, _, err) = zkr(
        &["export-verifier", "--keys", "nowhere", "--out", "V2.sol"],
        d,
    );
    assert_eq!(c, 2);
    assert!(err.contains("nowhere"), "{err}");
    assert!(!d.join("V2.sol").exists());
}

/// `RUST_LOG=info` (what docs/node.md suggests for the services) must not turn on arkworks'
/// per-gadget spans: with them, this 2-slot proof took over two minutes instead of a second.
#[test]
fn an_info_log_level_does_not_slow_proving_down() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (c, _, err) = zkr(&SETUP, d);
    assert_eq!(c, 0, "{err}");
    let (c, _, err) = zkr(&EXAMPLE_BATCH, d);
    assert_eq!(c, 0, "{err}");
    for level in ["info", "trace"] {
        let t = std::time::Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_zkr"))
            .args(["prove", "--keys", "keys", "--batch", "batch.json", "--out"])
            .arg(format!("proof-{level}"))
            .current_dir(d)
            .env("RUST_LOG", level)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("RUST_LOG={level}: zkr prove still running after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(status.success(), "RUST_LOG={level}: {status}");
    }
}

/// `zkr compare` on a small circuit: three columns that add up, the optimistic rollup final
/// after its window and the ZK one after its proof, and the staged fraud caught by the watcher
/// and refused by the prover and the contract.
#[test]
fn compare_measures_three_designs_and_catches_both_frauds() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = zkr(
        &[
            "compare",
            "--depth",
            "4",
            "--batch-size",
            "2",
            "--transfers",
            "3",
            "--users",
            "3",
            "--window-s",
            "5",
            "--fraud",
            "--json",
            "--plot",
            "compare.svg",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let col = |name: &str| {
        r["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let (l1, zk, opt) = (col("l1"), col("zk"), col("optimistic"));
    assert_eq!(
        r["workload"]["batches"], 2,
        "3 transfers and a withdrawal in 2-slot batches"
    );
    // An ERC-20 transfer costs more than a plain 21,000-gas transaction.
    assert!(l1["l1_gas_per_transfer"].as_u64().unwrap() > 21_000, "{l1}");
    assert!(l1["transfer_finality_s"].is_null());
    // The rollups: the ZK one pays a Groth16 check per batch, the optimistic one posts more
    // bytes per transfer (a signature and a root beside the 121 bytes of public data).
    assert!(
        zk["l1_gas_per_transfer"].as_u64().unwrap() > 100_000,
        "{zk}"
    );
    // The optimistic rollup's gas is measured on its contract: posting and finalizing, cheaper
    // than a Groth16 check per batch.
    let og = opt["l1_gas_per_transfer"].as_u64().unwrap();
    let (post, fin) = (
        r["optimistic_post_gas_per_transfer"].as_u64().unwrap(),
        r["optimistic_finalize_gas_per_transfer"].as_u64().unwrap(),
    );
    assert!(post > 0 && fin > 0 && (post + fin).abs_diff(og) <= 1, "{r}");
    assert!(og < zk["l1_gas_per_transfer"].as_u64().unwrap(), "{r}");
    let ob = opt["l1_bytes_per_transfer"].as_f64().unwrap();
    assert!(ob > 121.0 + 64.0, "{opt}");
    assert_eq!(opt["transfer_finality_s"], 5.0);
    assert_eq!(opt["withdrawal_finality_s"], 5.0);
    assert!(zk["transfer_finality_s"].as_f64().unwrap() > 0.0);
    assert!(zk["offchain_s_per_transfer"].as_f64().unwrap() > 0.0);
    let f = &r["fraud"];
    assert_eq!(f["optimistic_reverted"], serde_json::json!([5]), "{f}");
    // Half the bond (1,000,000 units) to the watcher; the challenge re-executed one step on
    // chain (two Merkle paths and an EdDSA check: far above a plain transaction).
    assert_eq!(f["optimistic_reward"], 500_000, "{f}");
    assert!(
        f["optimistic_challenge_gas"].as_u64().unwrap() > 300_000,
        "{f}"
    );
    assert!(
        f["optimistic_step"].as_str().unwrap().contains("signature"),
        "{f}"
    );
    assert!(
        f["zk_prover"]
            .as_str()
            .unwrap()
            .contains("does not satisfy"),
        "{f}"
    );
    assert!(
        f["zk_contract"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{f}"
    );
    let svg = std::fs::read_to_string(dir.path().join("compare.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "not an SVG");
}

/// Bad arguments to `zkr compare`, `zkr optimistic-l1` and `zkr watch` get a clear error and a
/// non-zero exit, never a panic.
#[test]
fn compare_watch_and_the_optimistic_l1_refuse_bad_arguments_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, says) in [
        (
            vec!["compare", "--users", "1"],
            "--users must be at least 2",
        ),
        (
            vec!["compare", "--transfers", "0"],
            "--transfers must be at least 1",
        ),
        (
            vec!["compare", "--depth", "2", "--users", "4"],
            "too few for 4 users",
        ),
        (
            vec!["compare", "--window-s", "0"],
            "--window-s must be 1 to",
        ),
        (
            vec!["compare", "--window-s", "4294967296"],
            "--window-s must be 1 to",
        ),
        (
            vec![
                "optimistic-l1",
                "--data-dir",
                "opt",
                "--depth",
                "4",
                "--batch-size",
                "2",
                "--listen",
                "127.0.0.1:0",
            ],
            "operator",
        ),
        (
            vec![
                "watch",
                "--once",
                "--l1",
                "http://127.0.0.1:1",
                "--address",
                "0x7777777777777777777777777777777777777777",
            ],
            "genesis",
        ),
        (vec!["watch", "--once", "--address", "0x77"], "address"),
    ] {
        let (code, _, err) = zkr(&args, d);
        assert_ne!(code, 0, "zkr {args:?} succeeded");
        assert!(!err.contains("panicked"), "zkr {args:?} panicked: {err}");
        assert!(err.contains(says), "zkr {args:?}: {err}");
    }
}

/// `zkr bench` and `zkr bench-pool` on a small circuit: every proof verifies (they assert it),
/// the floor, the standard prove and the same prover with `ark-ec`'s MSM all run, and every
/// phase of the prove time is reported.
#[test]
fn bench_and_bench_pool_run_and_report_every_phase() {
    let dir = tempfile::tempdir().unwrap();
    // Runs `zkr` with `args` (space-separated), which must succeed with a JSON report.
    let report = |args: &str| -> serde_json::Value {
        let args: Vec<&str> = args.split(' ').collect();
        let (c, out, err) = zkr(&args, dir.path());
        assert_eq!(c, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let positive = |v: &serde_json::Value, what: &str| {
        assert!(v.as_f64().is_some_and(|x| x > 0.0), "{what}: {v}");
    };

    let bench = report("bench --depth 4 --batch-sizes 1 --threads 1 --runs 1 --json");
    let row = &bench["rows"][0];
    for key in ["setup_s", "standard_prove_s", "arkworks_msm_prove_s"] {
        positive(&row[key], key);
    }
    positive(&row["prove_s"]["median"], "prove_s");
    positive(&row["floor_prove_s"]["median"], "floor_prove_s");
    for phase in [
        "witness_map",
        "msm_a",
        "msm_b_g1",
        "msm_b_g2",
        "msm_c",
        "msm_h",
    ] {
        positive(&row["phases_ms"][phase], phase);
        positive(&row["arkworks_msm_phases_ms"][phase], phase);
    }

    let pool = report("bench-pool --depth 4 --batch-size 1 --batches 2 --workers 1 --json");
    positive(&pool["rows"][0]["tx_per_s"], "tx_per_s");
}
