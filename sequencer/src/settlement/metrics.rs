//! The settlement module's Prometheus metrics (prefix `settlement_`), served by the
//! `settlement` binary at `GET /metrics`.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Every metric of the module, in a registry of its own.
#[derive(Clone)]
pub struct SettlementMetrics {
    registry: Registry,
    /// The newest batch this module saw confirmed on L1.
    pub last_confirmed_batch: IntGauge,
    /// The newest batch it broadcast.
    pub last_posted_batch: IntGauge,
    /// The contract's `lastVerifiedBatch()` at the latest block.
    pub l1_last_verified_batch: IntGauge,
    /// Gas used by the newest confirmed batch transaction.
    pub last_batch_gas: IntGauge,
    /// Gas per confirmed batch transaction.
    pub batch_gas: Histogram,
    /// Transactions broadcast, by kind (`new`, `rebroadcast`, `replacement`).
    pub transactions_sent: IntCounterVec,
    /// Transactions that reverted on L1.
    pub transactions_reverted: IntCounter,
    /// Transactions whose nonce another transaction took.
    pub transactions_dropped: IntCounter,
    /// Seconds from first broadcast to confirmation.
    pub confirmation_seconds: Histogram,
    /// L1 deposits stored by the watcher.
    pub deposits_seen: IntCounter,
    /// The newest L1 block the deposit watcher has read.
    pub deposit_scan_block: IntGauge,
}

impl SettlementMetrics {
    /// Creates and registers the metrics.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("settlement".into()), None).expect("valid prefix");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid gauge");
        let metrics = Self {
            last_confirmed_batch: gauge(
                "last_confirmed_batch",
                "Newest batch confirmed on L1 by this module",
            ),
            last_posted_batch: gauge("last_posted_batch", "Newest batch broadcast"),
            l1_last_verified_batch: gauge(
                "l1_last_verified_batch",
                "The Rollup contract's lastVerifiedBatch at the latest block",
            ),
            last_batch_gas: gauge("last_batch_gas", "Gas used by the newest confirmed batch"),
            batch_gas: Histogram::with_opts(
                HistogramOpts::new("batch_gas", "Gas per confirmed batch transaction")
                    .buckets(prometheus::exponential_buckets(50_000.0, 2.0, 10).expect("buckets")),
            )
            .expect("valid histogram"),
            transactions_sent: IntCounterVec::new(
                Opts::new(
                    "transactions_sent_total",
                    "L1 transactions broadcast, by kind",
                ),
                &["kind"],
            )
            .expect("valid counter"),
            transactions_reverted: IntCounter::new(
                "transactions_reverted_total",
                "L1 transactions that reverted",
            )
            .expect("valid counter"),
            transactions_dropped: IntCounter::new(
                "transactions_dropped_total",
                "L1 transactions whose nonce another transaction took",
            )
            .expect("valid counter"),
            confirmation_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "confirmation_seconds",
                    "Seconds from first broadcast to confirmation",
                )
                .buckets(prometheus::exponential_buckets(0.25, 2.0, 14).expect("buckets")),
            )
            .expect("valid histogram"),
            deposits_seen: IntCounter::new(
                "deposits_seen_total",
                "L1 deposits confirmed and handed to the sequencer",
            )
            .expect("valid counter"),
            deposit_scan_block: gauge(
                "deposit_scan_block",
                "Newest L1 block the deposit watcher has read",
            ),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 11] = [
            Box::new(metrics.last_confirmed_batch.clone()),
            Box::new(metrics.last_posted_batch.clone()),
            Box::new(metrics.l1_last_verified_batch.clone()),
            Box::new(metrics.last_batch_gas.clone()),
            Box::new(metrics.batch_gas.clone()),
            Box::new(metrics.transactions_sent.clone()),
            Box::new(metrics.transactions_reverted.clone()),
            Box::new(metrics.transactions_dropped.clone()),
            Box::new(metrics.confirmation_seconds.clone()),
            Box::new(metrics.deposits_seen.clone()),
            Box::new(metrics.deposit_scan_block.clone()),
        ];
        crate::metrics::register_all(&metrics.registry, collectors);
        metrics
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        crate::metrics::render_registry(&self.registry)
    }
}

impl Default for SettlementMetrics {
    fn default() -> Self {
        Self::new()
    }
}
