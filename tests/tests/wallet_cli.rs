//! The `rollup` wallet CLI against a real sequencer: a genesis made by `rollup genesis`
//! funds a key that `rollup transfer` spends; `rollup tx` and `rollup account` show the
//! result; a refused transfer fails with the sequencer's reason.

use std::{net::SocketAddr, path::Path, process::Command, time::Duration};

use integration_tests::{free_port, workspace_binary, Service, TestDatabase};
use serde_json::Value;

fn rollup(args: &[&str], sequencer: &str) -> (bool, String, String) {
    let output = Command::new(workspace_binary("rollup"))
        .args(args)
        .env("ROLLUP_SEQUENCER", sequencer)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run rollup");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn address(key: &Path) -> String {
    rollup(&["address", "--key", key.to_str().unwrap()], "").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_account_and_tx_commands_drive_a_real_sequencer() {
    let db = TestDatabase::create("wallet").await;
    let dir = std::env::temp_dir().join(format!("wallet-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, _, err) = rollup(
        &[
            "genesis",
            "--accounts",
            "2",
            "--balance",
            "5000",
            "--out-dir",
            dir.to_str().unwrap(),
            "--chain-id",
            "99",
        ],
        "",
    );
    assert!(ok, "{err}");
    let address_of = |i: usize| address(&dir.join(format!("account-000{i}.key")));
    let (alice, bob) = (address_of(0), address_of(1));
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let genesis = dir.join("genesis.json");
    let args: Vec<String> = [
        "--database-url",
        &db.url,
        "--listen",
        &listen.to_string(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--batch-interval-ms",
        "20",
    ]
    .map(String::from)
    .to_vec();
    let service = Service::start(
        &workspace_binary("sequencer"),
        &args,
        listen,
        Duration::from_secs(30),
    )
    .await;
    let url = service.url("");
    let alice_key = dir.join("account-0000.key");
    let key = alice_key.to_str().unwrap();

    // Two transfers in a row: the second uses the pending nonce the first left.
    let mut hashes = Vec::new();
    for amount in ["1000", "700"] {
        let (ok, hash, err) = rollup(
            &[
                "transfer", "--key", key, "--to", &bob, "--amount", amount, "--fee", "10",
            ],
            &url,
        );
        assert!(ok, "{err}");
        assert!(hash.starts_with("0x") && hash.len() == 66, "{hash}");
        hashes.push(hash);
    }
    for hash in &hashes {
        let mut status = Value::Null;
        for _ in 0..100 {
            status = serde_json::from_str(&rollup(&["tx", hash], &url).1).unwrap();
            if status["status"] == "executed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status["status"], "executed", "{status}");
    }
    let account: Value = serde_json::from_str(&rollup(&["account", &bob], &url).1).unwrap();
    assert_eq!(account["balance"], "6700");
    let account: Value = serde_json::from_str(&rollup(&["account", &alice], &url).1).unwrap();
    assert_eq!(
        (account["balance"].as_str(), account["nonce"].as_u64()),
        (Some("3280"), Some(2))
    );

    let (ok, _, err) = rollup(
        &["transfer", "--key", key, "--to", &bob, "--amount", "9000"],
        &url,
    );
    assert!(!ok);
    assert!(err.contains("insufficient_balance"), "{err}");
    let (ok, _, err) = rollup(&["tx", &format!("0x{}", "00".repeat(32))], &url);
    assert!(!ok && err.contains("not_found"), "{err}");
    drop(service);
    std::fs::remove_dir_all(&dir).unwrap();
}
