//! The sequencer's Prometheus metrics, served at `GET /metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Every metric of the sequencer, registered in its own registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Transfers acknowledged (HTTP 202).
    pub transfers_accepted: IntCounter,
    /// Transfers refused, by reason.
    pub transfers_rejected: IntCounterVec,
    /// Transfers executed in sealed, stored batches.
    pub transfers_executed: IntCounter,
    /// Batches sealed and stored.
    pub batches_sealed: IntCounter,
    /// The newest stored batch.
    pub latest_batch: IntGauge,
    /// Ready transfers in the mempool.
    pub mempool_ready: IntGauge,
    /// Future-nonce transfers waiting in the mempool.
    pub mempool_future: IntGauge,
    /// Seconds to verify a submission's signatures.
    pub signature_seconds: Histogram,
    /// Seconds to execute a batch (partitions and tree).
    pub execution_seconds: Histogram,
    /// Seconds to store a batch in Postgres.
    pub store_seconds: Histogram,
    /// Seconds for a journal write (acknowledgement latency floor).
    pub journal_seconds: Histogram,
    /// Transfers per sealed batch.
    pub batch_size: Histogram,
}

impl Metrics {
    /// Creates and registers the metrics.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("sequencer".into()), None).expect("valid prefix");
        let seconds = |name: &str, help: &str| {
            let buckets = prometheus::exponential_buckets(0.0005, 2.0, 16).expect("valid buckets");
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid histogram")
        };
        let metrics = Self {
            transfers_accepted: IntCounter::new(
                "transfers_accepted_total",
                "Transfers acknowledged",
            )
            .unwrap(),
            transfers_rejected: IntCounterVec::new(
                Opts::new("transfers_rejected_total", "Transfers refused, by reason"),
                &["reason"],
            )
            .unwrap(),
            transfers_executed: IntCounter::new(
                "transfers_executed_total",
                "Transfers in stored batches",
            )
            .unwrap(),
            batches_sealed: IntCounter::new("batches_sealed_total", "Batches sealed and stored")
                .unwrap(),
            latest_batch: IntGauge::new("latest_batch", "The newest stored batch").unwrap(),
            mempool_ready: IntGauge::new("mempool_ready", "Ready transfers in the mempool")
                .unwrap(),
            mempool_future: IntGauge::new(
                "mempool_future",
                "Future-nonce transfers in the mempool",
            )
            .unwrap(),
            signature_seconds: seconds(
                "signature_seconds",
                "Signature verification per submission",
            ),
            execution_seconds: seconds(
                "execution_seconds",
                "Batch execution (partitions and tree)",
            ),
            store_seconds: seconds("store_seconds", "Storing a batch in Postgres"),
            journal_seconds: seconds(
                "journal_seconds",
                "Journal writes of acknowledged transfers",
            ),
            batch_size: Histogram::with_opts(
                HistogramOpts::new("batch_size", "Transfers per batch")
                    .buckets(prometheus::exponential_buckets(1.0, 2.0, 15).unwrap()),
            )
            .unwrap(),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 12] = [
            Box::new(metrics.transfers_accepted.clone()),
            Box::new(metrics.transfers_rejected.clone()),
            Box::new(metrics.transfers_executed.clone()),
            Box::new(metrics.batches_sealed.clone()),
            Box::new(metrics.latest_batch.clone()),
            Box::new(metrics.mempool_ready.clone()),
            Box::new(metrics.mempool_future.clone()),
            Box::new(metrics.signature_seconds.clone()),
            Box::new(metrics.execution_seconds.clone()),
            Box::new(metrics.store_seconds.clone()),
            Box::new(metrics.journal_seconds.clone()),
            Box::new(metrics.batch_size.clone()),
        ];
        register_all(&metrics.registry, collectors);
        metrics
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        render_registry(&self.registry)
    }
}

/// Registers every collector of a service's metrics (names are fixed in code, so a clash
/// is a programming error).
pub(crate) fn register_all(
    registry: &Registry,
    collectors: impl IntoIterator<Item = Box<dyn prometheus::core::Collector>>,
) {
    for collector in collectors {
        registry.register(collector).expect("unique metric names");
    }
}

/// The Prometheus text exposition of a registry.
pub(crate) fn render_registry(registry: &Registry) -> String {
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut buffer)
        .expect("text encoding");
    String::from_utf8(buffer).expect("prometheus text is UTF-8")
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
