//! The benchmark harness: measurements summarised as medians and percentiles, and the
//! machine-readable `bench/results.json` every benchmark of the project writes into.
//!
//! - [`stats`]: medians and percentiles of repeated runs.
//! - [`results`]: the results file, one entry per metric, tagged with the machine and time.

pub mod results;
pub mod stats;
