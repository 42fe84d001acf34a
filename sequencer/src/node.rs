//! The node: its shared state, crash recovery, and [`launch`], which starts every stage
//! and stops them all when any one stops.
//!
//! ```text
//! HTTP api --submit--> admission --(mempool lock)--> journal --durable--> 202
//!                                         |
//!                          batcher <------+  seal -> execute (rayon) -> store (one tx)
//! ```

use std::{
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use rollup_core::{genesis::Genesis, state::State};
use sqlx::postgres::PgPoolOptions;
use tokio::{
    net::TcpListener,
    sync::{mpsc, Notify},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use crate::{
    api, batcher,
    config::Config,
    journal::{self, JournalRequest},
    mempool::{Mempool, MempoolConfig},
    metrics::Metrics,
    store::Store,
    Error, Result,
};

/// The limits a running node applies.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Most transfers per batch.
    pub max_batch_size: usize,
    /// Most L1 deposits per batch.
    pub max_deposits_per_batch: usize,
    /// Longest a ready transfer waits for its batch to be sealed.
    pub batch_interval: Duration,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Most transfers in one HTTP submission.
    pub max_transfers_per_request: usize,
}

/// Everything the stages share.
pub struct Node {
    /// This rollup's chain id (transfers signed for another are refused).
    pub chain_id: u64,
    /// Limits.
    pub config: NodeConfig,
    /// The executed state: every stored batch applied.
    pub state: RwLock<State>,
    /// Acknowledged transfers not yet executed.
    pub mempool: Mutex<Mempool>,
    /// Where admission sends accepted transfers to make them durable.
    pub journal: mpsc::UnboundedSender<JournalRequest>,
    /// Postgres.
    pub store: Store,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Wakes the batcher when a full batch is ready.
    pub batch_ready: Notify,
}

/// A recovered node with the receiving ends its tasks need.
pub struct Recovered {
    /// The node.
    pub node: Arc<Node>,
    /// The journal's requests.
    pub journal: mpsc::UnboundedReceiver<JournalRequest>,
    /// The number the next sealed batch gets.
    pub next_batch: u64,
}

impl Node {
    /// Rebuilds the node from Postgres: records or checks the genesis, rebuilds the state
    /// and checks its root against the newest batch, and re-admits the acknowledged
    /// transfers that were not executed yet.
    pub async fn recover(store: Store, genesis: &Genesis, config: NodeConfig) -> Result<Recovered> {
        if genesis.tree.depth() > 32 {
            return Err(Error::Config(format!(
                "tree depth {} exceeds 32, the widest account index the L1 calldata format holds",
                genesis.tree.depth()
            )));
        }
        store.init_chain(genesis).await?;
        let (state, latest_batch) = store.load_state(genesis).await?;
        let next_seq = store.next_seq().await?;
        let pending = store.pending_transfers().await?;
        let pending_count = pending.len();
        let (mempool, rejected) = Mempool::recover(config.mempool, next_seq, &state, pending);
        if !rejected.is_empty() {
            let rows: Vec<_> = rejected
                .iter()
                .map(|(h, r)| (*h, r.reason(), r.to_string()))
                .collect();
            store.reject(&rows).await?;
        }
        tracing::info!(
            target: "sequencer::node",
            latest_batch,
            root = %state.root(),
            accounts = state.account_count(),
            pending = pending_count,
            rejected_on_recovery = rejected.len(),
            "state recovered from Postgres"
        );
        let metrics = Metrics::new();
        metrics.latest_batch.set(latest_batch as i64);
        let (journal, journal_rx) = mpsc::unbounded_channel();
        let node = Arc::new(Node {
            chain_id: genesis.chain_id,
            config,
            state: RwLock::new(state),
            mempool: Mutex::new(mempool),
            journal,
            store,
            metrics,
            batch_ready: Notify::new(),
        });
        Ok(Recovered {
            node,
            journal: journal_rx,
            next_batch: latest_batch + 1,
        })
    }
}

/// Connects to Postgres, migrates, recovers, and runs the API, the journal and the batcher
/// until Ctrl-C or SIGTERM, or until any of them stops (then all stop).
pub async fn launch(config: Config) -> Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(config.db_connections)
        .connect(&config.database_url)
        .await?;
    rollup_core::schema::migrate(&db).await?;
    let genesis = Genesis::from_json_file(&config.genesis)?;
    let Recovered {
        node,
        journal,
        next_batch,
    } = Node::recover(Store::new(db), &genesis, config.node_config()).await?;

    let cancel = CancellationToken::new();
    let mut tasks: JoinSet<(&'static str, Result<()>)> = JoinSet::new();
    tasks.spawn(named(
        "journal",
        journal::run(Arc::clone(&node), journal, cancel.clone()),
    ));
    tasks.spawn(named(
        "batcher",
        batcher::run(Arc::clone(&node), next_batch, cancel.clone()),
    ));

    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(target: "sequencer::api", address = %listener.local_addr()?, chain_id = node.chain_id, "serving the HTTP API");
    let app = api::router(Arc::clone(&node), config.max_body_bytes);
    let serve_cancel = cancel.clone();
    tasks.spawn(named("api", async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(serve_cancel.cancelled_owned())
            .await?;
        Ok(())
    }));

    let outcome = tokio::select! {
        () = shutdown_signal() => {
            tracing::info!(target: "sequencer::node", "shutting down");
            Ok(())
        }
        Some(joined) = tasks.join_next() => match joined {
            Ok((name, Ok(()))) => Err(Error::TaskStopped(name)),
            Ok((name, Err(error))) => {
                tracing::error!(target: "sequencer::node", task = name, %error, "critical task failed");
                Err(error)
            }
            Err(_) => Err(Error::TaskStopped("a task panicked")),
        },
    };
    cancel.cancel();
    drop(node);
    while tasks.join_next().await.is_some() {}
    outcome
}

async fn named(
    name: &'static str,
    task: impl std::future::Future<Output = Result<()>>,
) -> (&'static str, Result<()>) {
    (name, task.await)
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
