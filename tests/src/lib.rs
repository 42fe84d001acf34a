//! Shared fixtures of the integration tests: the real services, started on loopback.
//!
//! Postgres is the one `make test` started (its URL in `DATABASE_URL`); tests get a
//! database of their own (`#[sqlx::test]`, or [`TestDatabase`] for a service process).
//! Anvil is the npm-pinned binary from `contracts/node_modules`; the rollup's services are
//! the workspace's own binaries (`make test` builds them before the tests run).

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::node_bindings::{Anvil, AnvilInstance, NodeError};
use sqlx::{Connection, Executor, PgConnection};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pinned anvil binary: `ANVIL_BIN` if set, else the one `make test` installed.
pub fn anvil_binary() -> PathBuf {
    std::env::var_os("ANVIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("contracts/node_modules/.bin/anvil"))
}

/// Starts Anvil on a free loopback port with the EIP-7825 transaction gas cap enforced, as
/// every test of L1 behaviour must run. It is killed when the instance is dropped.
pub fn spawn_anvil(chain_id: u64) -> Result<AnvilInstance, NodeError> {
    Anvil::at(anvil_binary())
        .chain_id(chain_id)
        .args(["--host", "127.0.0.1", "--enable-tx-gas-limit"])
        .try_spawn()
}

/// Runs `forge build --offline` in `contracts/` (the pinned forge `make test` installed), so
/// [`creation_code`] reads fresh artifacts.
pub fn forge_build() {
    let contracts = repo_root().join("contracts");
    let status = Command::new(contracts.join("node_modules/.bin/forge"))
        .args(["build", "--offline"])
        .current_dir(&contracts)
        .status()
        .expect("forge runs (run `make test` to install it)");
    assert!(status.success(), "forge build failed");
}

/// The creation bytecode of contract `name` of the Solidity file named `file` (anywhere under
/// `contracts/src` or `contracts/test`), from forge's build output ([`forge_build`] first).
pub fn creation_code(file: &str, name: &str) -> Vec<u8> {
    let artifact = repo_root()
        .join("contracts/out")
        .join(file)
        .join(format!("{name}.json"));
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&artifact).unwrap_or_else(|e| panic!("{}: {e}", artifact.display())),
    )
    .expect("a forge artifact");
    let hex = json["bytecode"]["object"]
        .as_str()
        .expect("bytecode.object");
    alloy::hex::decode(hex).expect("hex bytecode")
}

/// A workspace binary built next to the test executables (`target/<profile>/<name>`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests through `make test`",
        path.display()
    );
    path
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A database of its own on the test Postgres, dropped (with its connections) on drop.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// Its connection URL.
    pub url: String,
}

impl TestDatabase {
    /// Creates a fresh, empty database.
    pub async fn create(prefix: &str) -> Self {
        let admin_url =
            std::env::var("DATABASE_URL").expect("DATABASE_URL (run through `make test`)");
        let name = format!("{prefix}_{}_{}", std::process::id(), free_port());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test Postgres");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any runtime guarantee: use a small one of its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ = admin
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await;
                    }
                })
        })
        .join();
    }
}

/// A service process of the workspace, killed (SIGKILL) when dropped.
pub struct Service {
    child: Child,
    /// Where it serves HTTP.
    pub address: SocketAddr,
}

impl Service {
    /// Starts `binary` with `args`, serving on `address`, and waits until `GET /health`
    /// answers 200 (or panics after `timeout`, with the service's exit status if it died).
    pub async fn start(
        binary: &Path,
        args: &[String],
        address: SocketAddr,
        timeout: Duration,
    ) -> Self {
        let child = Command::new(binary)
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn the service");
        let mut service = Self { child, address };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(response) = client.get(service.url("/health")).send().await {
                if response.status().is_success() {
                    return service;
                }
            }
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!("{} exited during start: {status}", binary.display());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become healthy in {timeout:?}",
                binary.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URL of a path on the service.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The exit status if the process has exited (a service that dies after it answered
    /// `/health`, e.g. on a fatal error, would otherwise leave a test waiting).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills the process with SIGKILL, as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}
