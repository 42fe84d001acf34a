//! The prover's Prometheus metrics, served at `GET /metrics` by [`router`].
//!
//! Counters and the proving-time histogram are this process's own; the queue depth and the
//! live workers are the whole queue's, read from Postgres by [`refresh`] (every worker
//! process reports the same figures: aggregate them with `max`, not `sum`).

use std::{collections::BTreeSet, time::Duration};

use axum::{http::header, response::IntoResponse, routing::get, Router};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tokio_util::sync::CancellationToken;

use super::{JobQueue, JobStatus};

/// Every metric of a prover process, in its own registry.
#[derive(Clone)]
pub struct QueueMetrics {
    registry: Registry,
    /// Jobs not done, by kind and status (the whole queue).
    pub queue_depth: IntGaugeVec,
    /// Seconds the executor spent on each successful job, by kind.
    pub proving_seconds: HistogramVec,
    /// Jobs this process completed, by kind.
    pub jobs_done: IntCounterVec,
    /// Attempts this process saw fail (the job may be retried), by kind.
    pub attempts_failed: IntCounterVec,
    /// Jobs this process marked failed (out of attempts), by kind.
    pub jobs_failed: IntCounterVec,
    /// Results refused because the lease had been taken over.
    pub leases_lost: IntCounter,
    /// Workers with a recent heartbeat (the whole queue).
    pub live_workers: IntGauge,
}

impl QueueMetrics {
    /// Creates and registers the metrics.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("prover".into()), None).expect("valid prefix");
        let by_kind = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["kind"]).expect("valid counter")
        };
        let metrics = Self {
            queue_depth: IntGaugeVec::new(
                Opts::new("queue_depth", "Proving jobs not done, by kind and status"),
                &["kind", "status"],
            )
            .expect("valid gauge"),
            proving_seconds: HistogramVec::new(
                HistogramOpts::new("proving_seconds", "Seconds to prove one job, by kind")
                    .buckets(prometheus::exponential_buckets(0.01, 2.0, 16).expect("buckets")),
                &["kind"],
            )
            .expect("valid histogram"),
            jobs_done: by_kind("jobs_done_total", "Jobs completed, by kind"),
            attempts_failed: by_kind("attempts_failed_total", "Failed attempts, by kind"),
            jobs_failed: by_kind("jobs_failed_total", "Jobs out of attempts, by kind"),
            leases_lost: IntCounter::new(
                "leases_lost_total",
                "Results refused because another worker took the job over",
            )
            .expect("valid counter"),
            live_workers: IntGauge::new("live_workers", "Workers with a recent heartbeat")
                .expect("valid gauge"),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 7] = [
            Box::new(metrics.queue_depth.clone()),
            Box::new(metrics.proving_seconds.clone()),
            Box::new(metrics.jobs_done.clone()),
            Box::new(metrics.attempts_failed.clone()),
            Box::new(metrics.jobs_failed.clone()),
            Box::new(metrics.leases_lost.clone()),
            Box::new(metrics.live_workers.clone()),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("unique metric names");
        }
        metrics
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding");
        String::from_utf8(buffer).expect("prometheus text is UTF-8")
    }
}

impl Default for QueueMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `GET /metrics` for a prover process, and `GET /health` (200 once the process serves,
/// which is after its circuits are ready).
pub fn router(metrics: QueueMetrics) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        metrics.render(),
                    )
                        .into_response()
                }
            }),
        )
}

/// Reads the queue depth and the live workers into the gauges once. A kind seen before and
/// now absent in some status reads 0, not its stale value.
pub async fn refresh_once(
    queue: &JobQueue,
    metrics: &QueueMetrics,
    live_window: Duration,
    kinds_seen: &mut BTreeSet<String>,
) -> crate::Result<()> {
    let depth = queue.depth().await?;
    kinds_seen.extend(depth.iter().map(|d| d.kind.clone()));
    for kind in kinds_seen.iter() {
        for status in JobStatus::ALL {
            if status != JobStatus::Done {
                metrics
                    .queue_depth
                    .with_label_values(&[kind.as_str(), status.as_str()])
                    .set(0);
            }
        }
    }
    for d in depth {
        metrics
            .queue_depth
            .with_label_values(&[d.kind.as_str(), d.status.as_str()])
            .set(d.jobs as i64);
    }
    let live = queue.live_workers(live_window).await?;
    metrics.live_workers.set(live.len() as i64);
    Ok(())
}

/// Refreshes the queue-wide gauges every `interval` until cancelled; a failed read is
/// logged and retried at the next tick.
pub async fn refresh(
    queue: JobQueue,
    metrics: QueueMetrics,
    interval: Duration,
    live_window: Duration,
    cancel: CancellationToken,
) {
    let mut kinds_seen = BTreeSet::new();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(error) = refresh_once(&queue, &metrics, live_window, &mut kinds_seen).await {
            tracing::warn!(target: "prover::metrics", %error, "could not read the queue's depth");
        }
    }
}
