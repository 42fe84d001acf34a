//! The benchmark harness: measurements summarised as medians and percentiles, and the
//! machine-readable `bench/results.json` every benchmark of the project writes into.
//!
//! - [`stats`]: medians and percentiles of repeated runs.
//! - [`results`]: the results file, one entry per metric, tagged with the machine and time.
//! - [`markdown`]: `bench/RESULTS.md`, regenerated from the whole results file.
//! - [`workload`]: seeded, reproducible keys, tree updates and transfer batches.
//! - [`recorder`]: a run's medians with their run counts.
//! - [`scratch_db`]: databases of a benchmark's own, created and dropped per run.
//! - [`e2e`]: the end-to-end load's workloads and its readings of the sequencer process.
//! - [`plots`]: PNG line charts of figures, shown in `RESULTS.md`.
//! - [`l1`]: gas accounting of L1 transactions and the contracts' deployment on Anvil.
//! - [`proving`]: the prover benchmark's signed batch, row census of built circuits,
//!   readings of this process around each proof, and projections onto a proof plan.

pub mod e2e;
pub mod l1;
pub mod markdown;
pub mod plots;
pub mod proving;
pub mod recorder;
pub mod results;
pub mod scratch_db;
pub mod stats;
pub mod workload;
