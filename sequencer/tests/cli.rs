//! The `rollup` binary, run for real in a temporary directory: key files, signed transfers
//! and genesis files as a user (or a script) sees them.

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Output},
};

use rollup_core::{
    genesis::Genesis,
    schnorr::{PublicKey, SecretKey},
    transfer::SignedTransfer,
};
use serde_json::Value;

/// Runs `rollup` with `args`, with no chain id in the environment (and no backtraces, so
/// that errors read as users see them).
fn rollup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollup"))
        .args(args)
        .env_remove("ROLLUP_CHAIN_ID")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the rollup binary runs")
}

/// Runs `rollup`, asserts success and returns its stdout.
fn rollup_ok(args: &[&str]) -> String {
    let output = rollup(args);
    assert!(
        output.status.success(),
        "rollup {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `rollup`, asserts a non-zero exit and returns its stderr.
fn rollup_err(args: &[&str]) -> String {
    let output = rollup(args);
    assert!(
        !output.status.success(),
        "rollup {args:?} succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(output.stdout.is_empty(), "stdout on failure");
    String::from_utf8(output.stderr).unwrap()
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Creates a key file with `rollup keygen` and returns its address.
fn keygen(file: &Path) -> PublicKey {
    let out = rollup_ok(&["keygen", "--out", path(file)]);
    out.trim().parse().expect("keygen prints an address")
}

#[test]
fn keygen_writes_a_private_key_file_never_overwritten_and_address_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.key");
    let out = rollup_ok(&["keygen", "--out", path(&file)]);
    assert_eq!(out.lines().count(), 1, "only the address: {out}");
    let address: PublicKey = out.trim().parse().unwrap();

    let contents = std::fs::read_to_string(&file).unwrap();
    let secret = serde_json::from_str::<Value>(&contents).unwrap()["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!out.contains(&secret[2..]), "keygen printed the secret");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let printed = rollup_ok(&["address", "--key", path(&file)]);
    assert_eq!(printed.trim(), address.to_string());

    let err = rollup_err(&["keygen", "--out", path(&file)]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), contents);
}

#[test]
fn address_refuses_a_key_file_that_does_not_match_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edited.key");
    keygen(&file);
    let mut contents: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    contents["public_key"] = SecretKey::random().public_key().to_string().into();
    std::fs::write(&file, contents.to_string()).unwrap();
    let err = rollup_err(&["address", "--key", path(&file)]);
    assert!(
        err.contains("edited.key") && err.contains("states public key"),
        "{err}"
    );

    std::fs::write(&file, "not json").unwrap();
    let err = rollup_err(&["address", "--key", path(&file)]);
    assert!(err.contains("edited.key"), "{err}");
    let err = rollup_err(&["address", "--key", path(&dir.path().join("missing.key"))]);
    assert!(err.contains("missing.key"), "{err}");
}

/// Signs a transfer with `rollup sign-transfer` and returns its JSON line.
fn sign(key: &Path, to: &PublicKey, amount: &str, fee: &str, nonce: &str) -> String {
    let out = rollup_ok(&[
        "sign-transfer",
        "--key",
        path(key),
        "--to",
        &to.to_string(),
        "--amount",
        amount,
        "--fee",
        fee,
        "--nonce",
        nonce,
    ]);
    assert_eq!(out.lines().count(), 1, "one line of JSON: {out}");
    out
}

#[test]
fn signed_transfers_verify_and_fail_after_any_field_changes() {
    let dir = tempfile::tempdir().unwrap();
    let alice = dir.path().join("alice.key");
    let bob = dir.path().join("bob.key");
    let from = keygen(&alice);
    let to = keygen(&bob);

    let line = sign(&alice, &to, "1000000", "25", "7");
    let signed: SignedTransfer = serde_json::from_str(&line).unwrap();
    signed.verify().expect("the signature verifies");
    assert_eq!(signed.transfer.chain_id, 31337);
    assert_eq!(signed.transfer.from, from);
    assert_eq!(signed.transfer.to, to);
    assert_eq!(signed.transfer.amount, 1_000_000);
    assert_eq!(signed.transfer.fee, 25);
    assert_eq!(signed.transfer.nonce, 7);
    assert_eq!(line.trim(), serde_json::to_string(&signed).unwrap());

    // A valid signature by the same key, of another transfer.
    let other: SignedTransfer =
        serde_json::from_str(&sign(&alice, &to, "1000000", "25", "8")).unwrap();
    other.verify().unwrap();
    let json: Value = serde_json::from_str(&line).unwrap();
    let changes: [(&str, Value); 7] = [
        ("chain_id", 1.into()),
        ("from", to.to_string().into()),
        ("to", from.to_string().into()),
        ("amount", "1000001".into()),
        ("fee", "26".into()),
        ("nonce", 8.into()),
        ("signature", other.signature.to_string().into()),
    ];
    for (field, value) in changes {
        let mut tampered = json.clone();
        assert_ne!(tampered[field], value);
        tampered[field] = value;
        let tampered: SignedTransfer = serde_json::from_value(tampered).unwrap();
        assert!(
            tampered.verify().is_err(),
            "still verifies after changing {field}"
        );
    }

    let with_env = Command::new(env!("CARGO_BIN_EXE_rollup"))
        .args([
            "sign-transfer",
            "--key",
            path(&alice),
            "--to",
            &to.to_string(),
        ])
        .args(["--amount", "5", "--fee", "0", "--nonce", "0"])
        .env("ROLLUP_CHAIN_ID", "42")
        .output()
        .unwrap();
    assert!(with_env.status.success());
    let on_42: SignedTransfer = serde_json::from_slice(&with_env.stdout).unwrap();
    assert_eq!(on_42.transfer.chain_id, 42);
    on_42.verify().unwrap();
}

#[test]
fn sign_transfer_refuses_unpackable_values_and_malformed_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let alice = dir.path().join("alice.key");
    keygen(&alice);
    let to = SecretKey::random().public_key().to_string();
    let args = |to: &str, amount: &str, fee: &str| {
        rollup_err(&[
            "sign-transfer",
            "--key",
            path(&alice),
            "--to",
            to,
            "--amount",
            amount,
            "--fee",
            fee,
            "--nonce",
            "0",
        ])
    };

    // 2^35 + 1 needs a 36-bit mantissa and is odd, so no power of ten helps; 2^35 - 1 is
    // the nearest lower amount (a full mantissa).
    let err = args(&to, "34359738369", "0");
    assert!(err.contains("amount 34359738369"), "{err}");
    assert!(
        err.contains("34359738367"),
        "suggests the nearest lower: {err}"
    );
    let err = args(&to, "100000000001", "0");
    assert!(err.contains("100000000000"), "{err}");
    let err = args(&to, "1", "2049");
    assert!(err.contains("fee 2049") && err.contains("2047"), "{err}");

    let err = args("0x1234", "1", "0");
    assert!(err.contains("--to") && err.contains("public key"), "{err}");
    let err = args(&format!("0x{}", "ff".repeat(40)), "1", "0");
    assert!(err.contains("--to"), "{err}");
    let err = args("alice", "1", "0");
    assert!(err.contains("--to"), "{err}");
}

#[test]
fn genesis_writes_funded_key_files_and_refuses_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("devnet");
    let summary = rollup_ok(&[
        "genesis",
        "--accounts",
        "5",
        "--balance",
        "1000000",
        "--out-dir",
        path(&out_dir),
    ]);
    assert_eq!(summary.lines().count(), 1, "{summary}");

    let genesis_path = out_dir.join("genesis.json");
    let genesis = Genesis::from_json_file(&genesis_path).unwrap();
    let state = genesis.state().expect("the root matches");
    assert!(
        summary.contains(&genesis.state_root.to_string()),
        "{summary}"
    );
    assert!(summary.contains(path(&genesis_path)), "{summary}");
    assert_eq!(genesis.chain_id, 31337);
    assert_eq!(genesis.tree, Default::default());
    assert_eq!(state.account_count(), 5);
    assert_eq!(genesis.accounts.len(), 5);

    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let expected: Vec<String> = (0..5)
        .map(|i| format!("account-{i:04}.key"))
        .chain(["genesis.json".to_owned()])
        .collect();
    assert_eq!(names, expected);

    for (i, account) in genesis.accounts.iter().enumerate() {
        let key = out_dir.join(format!("account-{i:04}.key"));
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let address: PublicKey = rollup_ok(&["address", "--key", path(&key)])
            .trim()
            .parse()
            .unwrap();
        assert_eq!(address, account.public_key);
        let (_, stored) = state.account(&address).expect("funded");
        assert_eq!(stored.balances, [1_000_000, 0]);
    }

    let before = std::fs::read_to_string(&genesis_path).unwrap();
    let err = rollup_err(&[
        "genesis",
        "--accounts",
        "5",
        "--balance",
        "1",
        "--out-dir",
        path(&out_dir),
    ]);
    assert!(
        err.contains("genesis.json") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&genesis_path).unwrap(), before);
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 6);
}

#[test]
fn genesis_takes_a_tree_shape_and_chain_id_and_refuses_invalid_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("small");
    rollup_ok(&[
        "genesis",
        "--accounts",
        "3",
        "--balance",
        "7",
        "--out-dir",
        path(&out_dir),
        "--chain-id",
        "9",
        "--depth",
        "8",
        "--partition-bits",
        "2",
    ]);
    let genesis = Genesis::from_json_file(&out_dir.join("genesis.json")).unwrap();
    assert_eq!(genesis.chain_id, 9);
    assert_eq!(
        (genesis.tree.depth(), genesis.tree.partition_bits()),
        (8, 2)
    );
    genesis.state().unwrap();

    let err = rollup_err(&[
        "genesis",
        "--accounts",
        "1",
        "--balance",
        "1",
        "--out-dir",
        path(&dir.path().join("bad")),
        "--depth",
        "4",
        "--partition-bits",
        "5",
    ]);
    assert!(err.contains("partition bits"), "{err}");
    assert!(!dir.path().join("bad").exists());
}
