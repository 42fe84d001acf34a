//! `bench/RESULTS.md`, regenerated from the whole of `bench/results.json`.
//!
//! The page is always rebuilt from the results file, never edited in place, so figures
//! written by other benchmarks (or by earlier partial runs) are kept and the page can't
//! drift from the data. Every metric is listed in one table; metrics that only make sense
//! side by side (the parallel speedups) also get a section of their own with what they
//! mean.

use std::{
    fmt::Write as _,
    fs,
    path::Path,
    time::{Instant, SystemTime},
};

use anyhow::Context as _;

use crate::{
    plots::plots_dir,
    results::{machine_description, merge_into_file, Metric, Results},
};

/// Suffix of the companion metric that holds how many runs a figure is the median of
/// (`signature.verify_us.runs` for `signature.verify_us`), so the run count lives in the
/// results file beside the figure.
pub const RUNS_SUFFIX: &str = ".runs";
/// Unit of the run-count companions.
pub const RUNS_UNIT: &str = "runs";

/// What the page header says about the run that regenerated it.
#[derive(Clone, Debug)]
pub struct Header {
    /// The machine of that run ([`crate::results::machine_description`]).
    pub machine: String,
    /// When it ran (RFC 3339, UTC).
    pub date: String,
    /// The command that ran it.
    pub command: String,
    /// The PNG files present in the plots directory beside the page (`plots/`): a
    /// section shows those of its [`Section::plots`] that exist.
    pub plots: Vec<String>,
}

/// A picture of a section's figures, drawn by its benchmark into `plots/`.
#[derive(Clone, Copy, Debug)]
pub struct Plot {
    /// The file name in `plots/`.
    pub file: &'static str,
    /// What it shows (the image's alt text and caption).
    pub caption: &'static str,
}

/// A group of metrics shown together with an explanation, when any of them is present.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    /// The section heading.
    pub heading: &'static str,
    /// What the figures measure and how to read them.
    pub explanation: &'static str,
    /// The metrics, in display order (absent ones are skipped).
    pub metrics: &'static [&'static str],
    /// Also shown, in name order after `metrics`: every metric whose name starts with one
    /// of these (for names only known at run time, such as rejection reasons).
    pub metric_prefixes: &'static [&'static str],
    /// What the figures mean on the machine they were measured on (given its
    /// [`crate::results::machine_description`]).
    pub machine_note: fn(&str) -> String,
    /// Its plots, shown under the table when their files exist.
    pub plots: &'static [Plot],
}

/// The side-by-side ratios of `core_bench`: each is a median over runs in which both
/// sides were measured back to back, alternating which side goes first.
pub const CORE_RATIOS: Section = Section {
    heading: "core_bench: side-by-side ratios",
    explanation: "Each speedup is the median over runs of (all-threads throughput / \
        1-thread throughput), both sides measured back to back in the same run, so slow \
        drifts of a shared machine cancel out. A speedup is bounded by the cores that \
        really run in parallel, not by the logical CPU count. \
        `sequencer.sigverify_cpu_share` is the share of single-threaded CPU time \
        (verify every signature of the batch + execute the batch) spent verifying \
        signatures: the stateless, trivially parallel part of the sequencer's work. \
        Workloads (fixed seeds): `apply_updates` of 4,096 leaf updates (half overwrites) \
        into a depth-32, 16-partition tree holding 50,000 leaves; `execute_batch` of \
        4,096 transfers among 10,000 funded accounts on a fresh clone of genesis, with \
        uniform senders and either 20% of recipients among 8 hot accounts (plain names) or \
        uniform recipients (`_uniform`); signatures over pre-signed transfers. The thread \
        sweep (`*_tps_threads_<n>`, and the plot) runs signature verification of 2,048 \
        pre-signed transfers and the hot-mix batch's execution in rayon pools of 1, 2, 4, … \
        threads (up to twice the logical CPUs), rotating the order of the pools from run \
        to run; the thin lines are ideal linear scaling from the 1-thread point.",
    metrics: &[
        "signature.verify_parallel_speedup",
        "tree.parallel_speedup",
        "sequencer.parallel_speedup",
        "sequencer.parallel_speedup_uniform",
        "sequencer.sigverify_cpu_share",
    ],
    metric_prefixes: &[
        "signature.verify_tps_threads_",
        "sequencer.exec_tps_threads_",
    ],
    machine_note: scaling_note,
    plots: &[Plot {
        file: "throughput_vs_threads.png",
        caption: "Signature verification and batch execution throughput against rayon threads",
    }],
};

/// The end-to-end load of `e2e_bench`: the real sequencer process, over HTTP, with
/// Postgres. Plain names are the uniform workload, `_hot` the contended one.
pub const E2E_LOAD: Section = Section {
    heading: "e2e_bench: the sequencer under HTTP load",
    explanation: "Each run starts the release `sequencer` binary on loopback against a fresh \
        Postgres database (`--max-batch-size 4096 --batch-interval-ms 100`, a mempool \
        larger than the load), from a genesis funding `sequencer.e2e_accounts` accounts, \
        then 8 concurrent HTTP clients POST `sequencer.e2e_submitted` pre-signed transfers \
        as JSON arrays of 256, as fast as the sequencer acknowledges them. Transfers are \
        ordered in nonce rounds (every account sends its n-th transfer in round n), so \
        nonces arrive in order. Workloads: uniform random recipients (plain names), and \
        `_hot`: 20% of transfers to 8 hot accounts plus 5% funding fresh accounts that \
        spend from a few rounds later (receive-then-spend). The contention is configurable \
        (`--hot-accounts`, `--hot-share`, `--fresh-share`, `--cross-partition-share`: the \
        share of transfers whose recipient is in another partition than the sender); a \
        run with any of them measures that one workload, recorded with the suffix \
        `_custom`. \
        `e2e_tps` = executed transfers / (first submit → `sequencer_transfers_executed_total` \
        reaching the accepted count, polled every 25 ms); `accept_tps` = accepted / \
        submission time (every 202 received). `e2e_unexecuted` counts accepted transfers \
        that never executed (the executed count stalled 5 s below the accepted one). Latencies are from submit (the POST of the \
        transfer's array) to first seen `executed` by polling `GET /v1/transfers/{hash}` \
        for 1 transfer in 64, oldest first, every 20 ms: they include up to ~20 ms of \
        polling granularity plus the 100 ms batch interval and, the load being unthrottled, \
        the queueing of a saturated sequencer (`--rate` measures below saturation); p99.9 \
        of a run's few hundred samples is about its slowest sample. \
        CPU figures are per accepted transfer and as shares of the sequencer process's \
        CPU time (utime + stime from `/proc`, the run's whole drive). \
        (`sequencer_signature_seconds_sum` is no measure of CPU: it times each submission's \
        verification on the wall clock, waits for a shared CPU included.) \
        `e2e_sigverify_cpu_share_est` charges each submitted transfer the \
        single-thread verification CPU time measured by the benchmark beforehand (an \
        underestimate where hyperthreads share a core under load), and \
        `e2e_overhead_cpu_share_est` = 1 − that: the sequencer's CPU beyond signature \
        verification (HTTP, JSON, mempool, execution, Postgres client). The stage shares \
        (`execution`, `store`, `journal`) are likewise those stages' wall seconds \
        (`*_seconds_sum`) over the process's CPU seconds; store and journal mostly wait \
        on Postgres, whose CPU is not the sequencer's. `e2e_rejected` counts refused \
        transfers per run, by reason in `e2e_rejected.<reason>`. \
        Figures are medians over runs, one fresh database and sequencer per run. \
        The issue's goals: 100,000 transfers/s end to end on a 16-core machine, with the \
        sequencer's overhead beyond signature verification at most 20% of its CPU.",
    metrics: &[
        "sequencer.e2e_tps",
        "sequencer.e2e_tps_hot",
        "sequencer.accept_tps",
        "sequencer.accept_tps_hot",
        "sequencer.e2e_latency_p50_ms",
        "sequencer.e2e_latency_p50_ms_hot",
        "sequencer.e2e_latency_p99_ms",
        "sequencer.e2e_latency_p99_ms_hot",
        "sequencer.e2e_latency_p999_ms",
        "sequencer.e2e_latency_p999_ms_hot",
        "sequencer.e2e_cpu_us_per_transfer",
        "sequencer.e2e_cpu_us_per_transfer_hot",
        "sequencer.e2e_sigverify_cpu_share_est",
        "sequencer.e2e_sigverify_cpu_share_est_hot",
        "sequencer.e2e_overhead_cpu_share_est",
        "sequencer.e2e_overhead_cpu_share_est_hot",
        "sequencer.e2e_execution_share",
        "sequencer.e2e_execution_share_hot",
        "sequencer.e2e_store_share",
        "sequencer.e2e_store_share_hot",
        "sequencer.e2e_journal_share",
        "sequencer.e2e_journal_share_hot",
        "sequencer.e2e_accounts",
        "sequencer.e2e_submitted",
        "sequencer.e2e_rejected",
        "sequencer.e2e_rejected_hot",
        "sequencer.e2e_unexecuted",
        "sequencer.e2e_unexecuted_hot",
    ],
    metric_prefixes: &[E2E_REJECTED_PREFIX],
    machine_note: e2e_note,
    plots: &[Plot {
        file: "e2e_latency.png",
        caption: "Distribution of submit-to-executed latency under the saturating load",
    }],
};

/// The bulk writes of `pg_bench`: the same transfer rows written into Postgres three
/// ways, each ratio a median over runs in which all three ways were measured back to back.
pub const PG_BULK: Section = Section {
    heading: "pg_bench: bulk writes of transfers into Postgres",
    explanation: "Each run writes `postgres.bulk_rows` transfer rows into the `transfers` \
        table of `migrations/0001_sequencer.sql`, in a fresh database, three ways, each \
        into an emptied table (`TRUNCATE` before each way; the order rotates from run to \
        run): `COPY ... FROM STDIN (FORMAT binary)` (`copy`), the sequencer journal's own \
        `INSERT ... SELECT * FROM UNNEST($1::bytea[], ...)` (`unnest`), and a multi-row \
        `INSERT ... VALUES ($1, ..., $9), ($10, ...), ...` with 9 binds per row (`insert`). \
        Rows are written in chunks of 4,096 (the sequencer's largest batch; 36,864 binds \
        for `insert`, under Postgres's 65,535), one transaction per chunk as the journal \
        commits them, over one connection on loopback. Rows are as the journal writes \
        them: random 32-byte hashes (so the primary key on `hash` is written in random \
        order), consecutive `seq`s (the second index, `UNIQUE (seq)`), 40-byte keys and \
        72-byte signatures. Throughputs are rows/s from the first chunk to the last \
        commit; `copy_vs_insert` and `unnest_vs_insert` are medians of the per-run ratios \
        of throughputs, both sides measured in the same run.",
    metrics: &[
        "postgres.copy_rows_per_s",
        "postgres.unnest_rows_per_s",
        "postgres.insert_rows_per_s",
        "postgres.copy_vs_insert",
        "postgres.unnest_vs_insert",
        "postgres.bulk_rows",
    ],
    metric_prefixes: &[],
    machine_note: pg_note,
    plots: &[],
};

/// The circuits and the prover of `circuit_bench`: circuit sizes, then one batch proven
/// node by node, then that batch's totals and their projection onto 1,024 transfers.
pub const CIRCUITS: Section = Section {
    heading: "circuit_bench: circuit sizes and proving times",
    explanation: "Circuits of the devnet's shape (state tree of depth 32, 16 partitions, chain \
        id 31337, 5 merge levels), plonky2 with `standard_recursion_config` (the wrapper: \
        Keccak, rate 2^6). A chunk has 32 signature units and 64 leaf-update slots, so a \
        full chunk proves 32 transfers whether they stay in a partition (debit and credit in \
        the same chunk) or cross partitions (the debit in the sender's chunk, the credit in \
        the recipient's: two slots, one signature unit). `rows_per_transfer` = chunk rows \
        (2^degree) / 32; `gates_per_transfer` = the chunk circuit's rows that are not \
        padding / 32 (read back from its selector polynomials: every row but `NoopGate`, \
        constants and the public-input hash included); `rows_per_transfer_batch` and \
        `_1024` charge every chunk of the proven batch and of a 1,024-transfer batch over all \
        16 partitions (partly filled last chunks included) to their transfers. `signature_gates`: a builder holding one \
        `verify_schnorr_circuit` alone (`num_gates()` before `build`); \
        `keccak_rows_per_permutation`: ten chained Keccak-f[1600] averaged. Proving: a \
        uniform batch of `prover.batch_transfers` signed transfers (senders and recipients \
        uniform among funded accounts, 2 per transfer, all in the first \
        `prover.batch_partitions` partitions: 2 in quick mode, so that 160 transfers fill 6 \
        chunks and about half cross partitions; all 16 with `--full`, 15/16 crossing) is \
        proven through its proof plan one proof at a time, each on all of rayon's \
        `prover.threads` threads, so each kind's time is its own: `*_prove_s` are medians \
        of wall seconds over the batch's proofs of that kind (`*_prove_cpu_s`: the \
        process's CPU seconds over the same intervals, every thread), `*_peak_rss_mb` the \
        largest peak resident memory during one proof of the kind (the circuits' own \
        `prover.circuits_rss_mb` included; peaks reset before each proof through \
        `/proc/self/clear_refs`), `prover.peak_rss_mb` the largest of them. Batch \
        figures: `batch_prove_s` is witness to verified wrapper proof (the sum of the \
        proofs' wall seconds; witness generation is `witness_s`); `recursion_share` = \
        wall seconds of merge, range, top and wrapper proofs / all proofs' wall seconds; \
        `transfers_per_core_second` = transfers / (wall seconds × cores used), the cores \
        used being measured as CPU seconds / wall seconds (`cores_used`), i.e. transfers \
        per CPU-second of the prover, which a busy shared machine does not inflate. The \
        `_1024_est` figures apply the per-kind medians to the node counts of the real \
        plan of a 1,024-transfer uniform batch (`chunks_1024` chunks); `--full` proves \
        that batch itself. `circuits_ready_s` is the time to build every circuit, or to load \
        them from `target/circuit-cache` where an earlier run of the same code stored them. \
        `load_average` is the machine's 1-minute load at the end of the run. The issue's targets: at most 2,500 rows per transfer, signature and data \
        commitment included; recursion at most 30% of the proving time of a \
        1,024-transfer batch.",
    metrics: &[
        "circuit.rows_per_transfer",
        "circuit.gates_per_transfer",
        "circuit.rows_per_transfer_batch",
        "circuit.rows_per_transfer_1024",
        "circuit.chunk_rows",
        "circuit.chunk_gates",
        "circuit.signature_gates",
        "circuit.keccak_rows_per_permutation",
        "circuit.chunk_degree_bits",
        "circuit.merge_degree_bits",
        "circuit.range1_degree_bits",
        "circuit.range2_degree_bits",
        "circuit.range3_degree_bits",
        "circuit.range4_degree_bits",
        "circuit.top_degree_bits",
        "circuit.wrapper_degree_bits",
        "prover.chunk_prove_s",
        "prover.merge_prove_s",
        "prover.range_prove_s",
        "prover.top_prove_s",
        "prover.wrap_prove_s",
        "prover.chunk_prove_cpu_s",
        "prover.merge_prove_cpu_s",
        "prover.range_prove_cpu_s",
        "prover.top_prove_cpu_s",
        "prover.wrap_prove_cpu_s",
        "prover.batch_transfers",
        "prover.batch_partitions",
        "prover.batch_chunks",
        "prover.witness_s",
        "prover.batch_prove_s",
        "prover.batch_prove_cpu_s",
        "prover.recursion_share",
        "prover.recursion_cpu_share",
        "prover.transfers_per_core_second",
        "prover.transfers_per_second",
        "prover.cores_used",
        "prover.chunks_1024",
        "prover.batch_prove_s_1024_est",
        "prover.recursion_share_1024_est",
        "prover.recursion_cpu_share_1024_est",
        "prover.transfers_per_core_second_1024_est",
        "prover.peak_rss_mb",
        "prover.chunk_peak_rss_mb",
        "prover.merge_peak_rss_mb",
        "prover.range_peak_rss_mb",
        "prover.top_peak_rss_mb",
        "prover.wrap_peak_rss_mb",
        "prover.circuits_rss_mb",
        "prover.circuits_ready_s",
        "prover.threads",
        "prover.load_average",
    ],
    metric_prefixes: &[],
    machine_note: prover_note,
    plots: &[],
};

/// The prover service of `prover_bench`: the real `prover` processes proving a batch the
/// real `sequencer` sealed, from sealed to proven, with 1 and 2 workers.
pub const PROVER_SERVICE: Section = Section {
    heading: "prover_bench: the prover service, sealed to proven",
    explanation: "Each case starts on a fresh Postgres database the release `prover` binary \
        (`--cache-dir target/circuit-cache`, so the circuits of the devnet's shape, depth 32, \
        16 partitions, chain id 31337, 5 merge levels, are loaded, not built) and waits until \
        every prover process answers `/health` on its metrics port, i.e. has loaded its \
        circuits, so loading is not counted. Then it starts the release `sequencer` binary \
        with `--max-batch-size T` and a one-hour batch interval and POSTs T pre-signed \
        transfers in one array, so they seal as one batch at once: uniform senders and \
        recipients among 2 funded accounts per transfer (at least 256), spread over the \
        first P partitions: the quick cases (`make bench`) are T = 32 over P = 2 (one chunk \
        proof per partition, two for two workers to share), `--full` adds T = 256 and \
        1,024 over all 16 partitions (15/16 of the transfers cross partitions), as \
        `circuit_bench --full` proves. The \
        provers plan the batch (witness, jobs in `prover_jobs`) and prove its jobs. \
        `service_sealed_to_proven_s_<W>_<T>` is `batches.sealed_at` → the final (wrapper) \
        job's `finished_at`, both on the database's clock; `service_tps_<W>_<T>` = T / \
        that; `service_planned_s` is sealed → the batch's first job created (witness \
        generation and job inserts, included in sealed → proven). `service_wall_s` is the \
        same interval on the benchmark's clock (from the batch seen sealed to its final proof \
        seen done, polled every 50 ms and 500 ms), `service_cpu_s` the prover processes' \
        CPU seconds (utime + stime from `/proc/<pid>/stat`) over it, `service_cores_used` = \
        CPU / wall, `service_transfers_per_core_second` = T / CPU seconds, \
        `service_job_seconds` the sum of the jobs' `proving_seconds` as their workers \
        timed them (above the wall time when two workers prove at once), `service_jobs` the \
        batch's jobs. `<W>` workers run as one prover process with `--workers W` (each \
        process holds its own copy of the circuits, 3.3 GB resident; `--process-per-worker` \
        runs one process per worker where memory allows). `sealed_to_proven_s_<T>` is the \
        figure with the most workers measured for T (`sealed_to_proven_workers_<T>`), \
        `workers_speedup_2v1_<T>` = sealed → proven of T transfers with 1 worker / with 2 \
        workers. Each figure is one run. The issue asks for proving throughput with 1 and \
        2 workers, scaling with more workers on a larger machine, and sealed → proven for \
        256 and 1,024 transfers.",
    metrics: &[
        "prover.service_tps_1worker_32",
        "prover.service_tps_2workers_32",
        "prover.workers_speedup_2v1_32",
        "prover.sealed_to_proven_s_32",
        "prover.sealed_to_proven_workers_32",
        "prover.service_tps_1worker_256",
        "prover.service_tps_2workers_256",
        "prover.workers_speedup_2v1_256",
        "prover.sealed_to_proven_s_256",
        "prover.sealed_to_proven_workers_256",
        "prover.sealed_to_proven_s_1024",
        "prover.sealed_to_proven_workers_1024",
        "prover.service_tps_2workers_1024",
    ],
    metric_prefixes: &["prover.service_"],
    machine_note: prover_service_note,
    plots: &[],
};

/// The on-chain verifier of `verifier_bench`: the gas of one verification of the committed
/// wrapper proof on Anvil, split by the profile variant's checkpoints.
pub const VERIFIER: Section = Section {
    heading: "verifier_bench: gas of one on-chain proof verification",
    explanation: "One `verify(publicInputs, proof)` transaction of the committed wrapper \
        proof of a real batch (`contracts/test/data/verifier/`) to the generated \
        `Plonky2Verifier` on Anvil (Prague rules, EIP-7825's transaction gas cap on). \
        `verifier.gas` is the receipt's `gasUsed` = `base_gas` (21,000) + `calldata_gas` + \
        `execution_gas`. `calldata_gas` is EIP-2028's 16 gas per non-zero and 4 per zero \
        byte of the transaction's input (`calldata_bytes`: selector, ABI head, the 8 public \
        inputs and the `proof_bytes`, which are hashes and field elements, nearly all \
        non-zero); EIP-7623's `calldata_floor_gas` (10 per token) is below what the \
        transaction spends, so it does not apply. The execution is split by \
        `Plonky2VerifierProfile` (`contracts/test/profile/`: the same generated code with a \
        `gas()` checkpoint before each section; `profile_overhead_gas` is all they add, and \
        the sections sum to its execution gas): `dispatch_gas` (selector, ABI decoding, \
        length checks) and `tables_gas` (the circuit's constant tables written to memory) \
        are small; `tables_gas` also holds the one pass that turns the openings, the final \
        polynomial and the PoW witness (little-endian u64s on chain) into words, checking \
        each is canonical. `challenger_gas` = `public_inputs_hash_gas` + `transcript_gas`: \
        the first is a call to the gate evaluator's Poseidon `hashNoPad` over the 8 inputs \
        (one permutation on packed extension words whose second coordinate is 0, shared \
        with the Poseidon gate, after copying its round constants into memory); the second \
        is plonky2's Keccak challenger: the circuit prefix, 3 caps of 16 hashes, every \
        opening, the 2 FRI caps and the final polynomial are absorbed (about 900 elements, \
        one `keccak256` of 96 bytes and two of 32 per 8; the elements are the proof's \
        little-endian bytes, copied from calldata into the sponge state as they are), then \
        the proof-of-work check and the 14 query indices. `gates_gas` = \
        `gate_constraints_gas` (a call to `WrapperGateEvaluator`, which evaluates every \
        constraint of every gate of the wrapper circuit at zeta in the degree-2 extension, \
        arithmetic written inline and the Poseidon MDS on packed words `c0 + c1 2^128`; the \
        Poseidon gate is about a third) + `vanishing_quotient_gas` (the permutation \
        argument's partial products over 80 routed wires and the quotient identity, per \
        challenge). `fri_merkle_gas` is FRI, 14 queries each with: 6 Merkle paths of \
        25-byte Keccak nodes (4 initial trees of depth 15, then the 2 layer trees), the \
        leaves hashed straight from calldata; the 256 opened values combined with powers \
        of alpha (four lanes byte-swapped per word, products summed unreduced); the query \
        point from a table of powers, the coset points from precomputed tables, and one \
        batch inversion (modexp precompile) of base-field norms only (1 / (a + b X) = \
        (a - b X) / (a^2 - 7 b^2)); two arity-16 coset folds and the final polynomial; all \
        in Yul, 64-bit field elements in 256-bit words. `contract_bytes` and \
        `gate_evaluator_bytes` are the deployed runtime sizes, each under EIP-170's 24,576. \
        The issue's goal is at most 5,000,000 gas per verification, all included (met while \
        `verifier.gas` is below it); \
        the must is that it fits one transaction under EIP-7825's cap of 16,777,216 \
        (2^24), which the benchmark checks.",
    metrics: &[
        "verifier.gas",
        "verifier.base_gas",
        "verifier.calldata_gas",
        "verifier.calldata_floor_gas",
        "verifier.execution_gas",
        "verifier.dispatch_gas",
        "verifier.tables_gas",
        "verifier.public_inputs_hash_gas",
        "verifier.transcript_gas",
        "verifier.challenger_gas",
        "verifier.gate_constraints_gas",
        "verifier.vanishing_quotient_gas",
        "verifier.gates_gas",
        "verifier.fri_merkle_gas",
        "verifier.profile_overhead_gas",
        "verifier.proof_bytes",
        "verifier.calldata_bytes",
        "verifier.contract_bytes",
        "verifier.gate_evaluator_bytes",
    ],
    metric_prefixes: &[],
    machine_note: gas_note,
    plots: &[],
};

/// The L1 cost of batches of `l1_bench`: gas per batch and per transfer, data and fixed
/// parts, for the batch sizes.
pub const L1_GAS: Section = Section {
    heading: "l1_bench: L1 gas per batch and per transfer",
    explanation: "Each batch is a real uniform batch of N signed transfers over the 16 \
        partitions, executed by `rollup_core` and encoded as the settlement module posts it \
        (compact batch data v4: each chunk as its two header bytes and its used records, \
        without the empty records the circuits' fixed 1,056-byte chunks carry; the contract \
        puts them \
        back before hashing), and \
        `l1.batch_gas_N` is the gas of its `commitBatch` transaction with the real verifier: \
        21,000 + EIP-2028 calldata gas of the whole input (batch data and the 69,788-byte \
        wrapper proof) + the `Rollup`'s own execution + the real `Plonky2Verifier`'s \
        execution. A 4,096-transfer batch cannot be proven here in reasonable time, and the \
        verification does not depend on the batch, so the parts are measured apart on \
        Anvil in one run: the verifier's execution on the committed real proof (Prague \
        rules), and the Rollup's execution by committing each real batch through the real \
        `Rollup` with the real proof bytes on an Anvil under Cancun rules (no EIP-7623 \
        floor, so a receipt's gas is 21,000 + calldata gas + execution exactly) whose \
        verifier is a double that accepts (`contracts/test/utils/AcceptingVerifier.sol`; \
        its own execution, measured alone, is taken out). Each batch's total is checked to \
        be above EIP-7623's floor (`l1.floor_gas_N`), so Prague charges exactly it. \
        `data_gas_per_transfer_N` = `data_calldata_gas_per_transfer_N` (EIP-2028 gas of \
        the batch data's bytes) + `data_chain_gas_per_transfer_N` (the execution of its \
        Keccak data chain, `dataCommitment` measured alone: each chunk expanded to its \
        1,056 bytes and hashed after the previous link); `fixed_gas_per_transfer_N` = the \
        rest of the batch's gas / N: the verification (`l1.verification_gas`, proof \
        calldata and verifier execution), the base cost and the Rollup's state update, the \
        same for every batch and amortised over it. `chunks_N` and `chunk_fill_N` show how \
        the batch splits: each partition a batch touches has at least one chunk (32 \
        transfer slots), so 64 transfers over 16 partitions take 16 chunks of 4 transfers, \
        and L1 hashes every chunk whole (about 700 gas for a sparse one, 950 for a full \
        one). The issue's targets: at most 300 gas per transfer for data, and verification \
        amortised to at most 1,000 gas per transfer at 4,096 transfers. The issue splits a \
        batch into calldata and amortised verification, and L1's recomputation of the data \
        chain is its half of checking that the proof binds the calldata: read so, the \
        calldata is at most 300 at every size and the verification with the chain is 968 at \
        4,096 (both met). Counting the chain as data instead: data is at most 300 from 256 \
        transfers up, and at 64 transfers over 16 partitions the 16 chunk hashes add about \
        190 per transfer to the 162 of calldata (353, not met); `fixed_gas_per_transfer_4096` \
        is then 942 (met). The floor of EIP-7623 (10 gas per calldata token, \
        `l1.floor_gas_N`) stays \
        below every batch's gas, the 4,096-transfer one by about 150k: a verifier cheaper \
        than that would make Prague charge the floor, where a transfer's 16 data bytes \
        cost about 420 gas whatever the execution.",
    metrics: &[
        "l1.gas_per_transfer_4096",
        "l1.gas_per_transfer_1024",
        "l1.gas_per_transfer_256",
        "l1.gas_per_transfer_64",
        "l1.data_gas_per_transfer_4096",
        "l1.data_gas_per_transfer_1024",
        "l1.data_gas_per_transfer_256",
        "l1.data_gas_per_transfer_64",
        "l1.data_calldata_gas_per_transfer_4096",
        "l1.data_calldata_gas_per_transfer_1024",
        "l1.data_calldata_gas_per_transfer_256",
        "l1.data_calldata_gas_per_transfer_64",
        "l1.data_chain_gas_per_transfer_4096",
        "l1.data_chain_gas_per_transfer_1024",
        "l1.data_chain_gas_per_transfer_256",
        "l1.data_chain_gas_per_transfer_64",
        "l1.fixed_gas_per_transfer_4096",
        "l1.fixed_gas_per_transfer_1024",
        "l1.fixed_gas_per_transfer_256",
        "l1.fixed_gas_per_transfer_64",
        "l1.batch_gas_4096",
        "l1.batch_gas_1024",
        "l1.batch_gas_256",
        "l1.batch_gas_64",
        "l1.verification_gas",
        "l1.verifier_execution_gas",
    ],
    metric_prefixes: &["l1."],
    machine_note: gas_note,
    plots: &[Plot {
        file: "l1_gas_per_batch.png",
        caption: "L1 gas per batch against batch size: the fixed part and the data part",
    }],
};

/// Prefix of the per-reason rejection counts of `e2e_bench`
/// (`sequencer.e2e_rejected.<reason>[_hot]`); each run replaces all of them, so a reason
/// seen once does not linger.
pub const E2E_REJECTED_PREFIX: &str = "sequencer.e2e_rejected.";

/// The sections the page shows before the full table; benchmarks with figures to
/// explain add theirs here.
pub const SECTIONS: &[Section] = &[
    CORE_RATIOS,
    E2E_LOAD,
    PG_BULK,
    CIRCUITS,
    PROVER_SERVICE,
    VERIFIER,
    L1_GAS,
];

/// The logical CPU count in a [`crate::results::machine_description`] string.
fn logical_cpus(machine: &str) -> Option<usize> {
    machine
        .strip_suffix(" logical CPUs")?
        .rsplit(", ")
        .next()?
        .parse()
        .ok()
}

/// What the speedups mean on the machine they were measured on.
fn scaling_note(machine: &str) -> String {
    match logical_cpus(machine) {
        Some(cpus) if cpus <= 4 => format!(
            "These ratios come from {machine}: a small shared VM whose vCPUs behave like \
             about one core under parallel load, so speedups near 1 are expected here. \
             They show that the parallel paths cost little over the sequential ones, not \
             how they scale; the scaling figures need a machine with more real cores."
        ),
        Some(cpus) => format!(
            "These ratios come from {machine}; the ideal speedup there is at most {cpus} \
             (fewer if the logical CPUs are hyperthreads)."
        ),
        None => format!("These ratios come from {machine}."),
    }
}

/// What end-to-end throughput means on the machine it was measured on.
fn e2e_note(machine: &str) -> String {
    match logical_cpus(machine) {
        Some(cpus) if cpus <= 4 => format!(
            "These figures come from {machine}: a small shared VM whose vCPUs behave like \
             about one core, shared by the sequencer, Postgres and the load generator. \
             Throughput here is bounded by one core's signature verification (see \
             `signature.verify_us`), far from the 16-core goal; the CPU shares are the \
             figures that carry over to a bigger machine."
        ),
        Some(cpus) => format!(
            "These figures come from {machine} ({cpus} logical CPUs), shared by the \
             sequencer, Postgres and the load generator."
        ),
        None => format!("These figures come from {machine}."),
    }
}

/// What the prover service's figures mean on the machine they were measured on.
fn prover_service_note(machine: &str) -> String {
    match logical_cpus(machine) {
        Some(cpus) if cpus <= 4 => format!(
            "These figures come from {machine}: a small VM shared with other work (see \
             `prover.service_load_average`, the 1-minute load at the end of the run). Its \
             {cpus} vCPUs are all a worker's proof uses already (rayon), so two workers \
             share the same cores and a speedup near 1.0x is expected here: the figure \
             shows that a second worker costs little, not how workers scale. The scaling \
             with more workers needs a machine with more cores (one worker per few cores, \
             or one process per worker with `--process-per-worker`). Times include waiting \
             for the CPU; `service_transfers_per_core_second` does not."
        ),
        Some(cpus) => format!(
            "These figures come from {machine} ({cpus} logical CPUs); each worker's proofs \
             use every core (rayon), so workers scale by overlapping the proofs' serial \
             parts and the planner's work, not by dividing cores."
        ),
        None => format!("These figures come from {machine}."),
    }
}

/// What the bulk-write figures mean on the machine they were measured on.
fn pg_note(machine: &str) -> String {
    format!(
        "These figures come from {machine}, with Postgres on the same machine (loopback, \
         default settings); absolute rates depend on its disk and `fsync` settings, the \
         ratios much less."
    )
}

/// What proving times mean on the machine they were measured on.
fn prover_note(machine: &str) -> String {
    match logical_cpus(machine) {
        Some(cpus) if cpus <= 4 => format!(
            "These figures come from {machine}: a small VM shared with other work (see \
             `prover.load_average`), whose vCPUs behave like about one core under parallel \
             load. Wall seconds there include waiting for the CPU; the CPU-second figures \
             (`*_cpu_s`, `transfers_per_core_second`) do not, but count each busy vCPU as a \
             core, so where two vCPUs are hyperthreads of one core the throughput per \
             physical core is up to twice `transfers_per_core_second`. Shares and rows \
             carry over to a bigger machine; times do not."
        ),
        Some(cpus) => format!(
            "These figures come from {machine} ({cpus} logical CPUs); \
             `transfers_per_core_second` counts each busy logical CPU as a core."
        ),
        None => format!("These figures come from {machine}."),
    }
}

/// Gas and sizes do not depend on the machine.
fn gas_note(machine: &str) -> String {
    format!(
        "Gas and sizes are deterministic (one run; measured on {machine}, the same on any \
         machine for the same contracts and proof)."
    )
}

/// A figure for a table: thousands separators for large values, three significant
/// digits for small ones.
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.abs() >= 1000.0 {
        let digits = format!("{:.0}", value.abs());
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        return if value < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    let decimals = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else if value.abs() >= 1.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$}")
}

/// One table row: name, median, run count, unit, and when (and where, if not on the
/// header's machine) it was measured.
fn row(out: &mut String, name: &str, metric: &Metric, results: &Results, machine: &str) {
    let runs = results
        .get(&format!("{name}{RUNS_SUFFIX}"))
        .filter(|runs| runs.unit == RUNS_UNIT)
        .map_or_else(|| "–".to_owned(), |runs| format!("{:.0}", runs.value));
    let mut when = metric.when.clone();
    if metric.machine != machine {
        when.push_str(&format!(" on {}", metric.machine));
    }
    let _ = writeln!(
        out,
        "| `{name}` | {} | {runs} | {} | {when} |",
        format_value(metric.value),
        metric.unit
    );
}

/// Whether `name` is the run-count companion of another metric of `results` (shown in
/// that metric's row rather than as a row of its own).
fn is_run_count(name: &str, metric: &Metric, results: &Results) -> bool {
    metric.unit == RUNS_UNIT
        && name
            .strip_suffix(RUNS_SUFFIX)
            .is_some_and(|base| results.contains_key(base))
}

/// The PNG files in `dir`, by name (none if it does not exist).
fn present_plots(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".png"))
        .collect();
    files.sort();
    files
}

const TABLE_HEAD: &str = "| Metric | Median | Runs | Unit | Measured |\n|---|---:|---:|---|---|\n";

/// The whole page: header, the explained sections present in `results`, then every
/// metric of `results` (run counts folded into their metric's row).
pub fn render(results: &Results, header: &Header) -> String {
    let mut out = String::new();
    out.push_str("# Benchmark results\n\n");
    out.push_str(
        "Generated from `bench/results.json` (do not edit by hand: every benchmark \
         regenerates this page from the whole file). Figures are medians of repeated runs \
         after warm-up.\n\n",
    );
    let _ = writeln!(out, "- Machine: {}", header.machine);
    let _ = writeln!(out, "- Date: {}", header.date);
    let _ = writeln!(out, "- Command: `{}`\n", header.command);

    for section in SECTIONS {
        let mut present: Vec<(&str, &Metric)> = section
            .metrics
            .iter()
            .filter_map(|&name| results.get(name).map(|metric| (name, metric)))
            .collect();
        present.extend(results.iter().filter_map(|(name, metric)| {
            let listed = section.metrics.contains(&name.as_str());
            let prefixed = section
                .metric_prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix));
            (prefixed && !listed && !is_run_count(name, metric, results))
                .then_some((name.as_str(), metric))
        }));
        let Some((_, first)) = present.first() else {
            continue;
        };
        let _ = writeln!(out, "## {}\n", section.heading);
        out.push_str(TABLE_HEAD);
        for (name, metric) in &present {
            row(&mut out, name, metric, results, &header.machine);
        }
        for plot in section.plots {
            if header.plots.iter().any(|file| file == plot.file) {
                let _ = writeln!(out, "\n![{}](plots/{})", plot.caption, plot.file);
            }
        }
        let _ = writeln!(
            out,
            "\n{}\n\n{}\n",
            section.explanation,
            (section.machine_note)(&first.machine)
        );
    }

    out.push_str("## All metrics\n\n");
    out.push_str(TABLE_HEAD);
    for (name, metric) in results {
        if !is_run_count(name, metric, results) {
            row(&mut out, name, metric, results, &header.machine);
        }
    }
    out
}

/// Merges `new` into the results file `out` and regenerates `RESULTS.md` beside it under a
/// header naming this run (`binary` and its arguments), so every benchmark binary records
/// its figures the same way.
pub fn write_results_and_page(
    out: &Path,
    new: Results,
    binary: &str,
    started: Instant,
) -> anyhow::Result<()> {
    if let Some(dir) = out.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let all = merge_into_file(out, new).with_context(|| format!("writing {}", out.display()))?;
    let header = Header {
        machine: machine_description(),
        date: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        command: std::iter::once(format!("cargo run --release -p bench --bin {binary} --"))
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        plots: present_plots(&plots_dir(out)),
    };
    let page = out.with_file_name("RESULTS.md");
    fs::write(&page, render(&all, &header))
        .with_context(|| format!("writing {}", page.display()))?;
    eprintln!(
        "wrote {} and {} in {:.0} s",
        out.display(),
        page.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(value: f64, unit: &str, machine: &str) -> Metric {
        Metric {
            value,
            unit: unit.into(),
            machine: machine.into(),
            when: "2025-01-01T00:00:00Z".into(),
        }
    }

    const SMALL: &str = "Some CPU, 2 logical CPUs";

    fn header() -> Header {
        Header {
            machine: SMALL.into(),
            date: "2025-01-02T00:00:00Z".into(),
            command: "core_bench --quick".into(),
            plots: vec![],
        }
    }

    #[test]
    fn a_section_shows_its_plots_that_exist() {
        let results = Results::from([(
            "l1.gas_per_transfer_4096".into(),
            metric(1960.0, "gas", SMALL),
        )]);
        let mut with_plot = header();
        with_plot.plots = vec!["l1_gas_per_batch.png".into()];
        let page = render(&results, &with_plot);
        assert!(page.contains("](plots/l1_gas_per_batch.png)"), "{page}");
        let page = render(&results, &header());
        assert!(
            !page.contains("plots/"),
            "a missing plot is not linked: {page}"
        );
    }

    #[test]
    fn every_metric_is_listed_with_its_run_count() {
        let results = Results::from([
            ("signature.verify_us".into(), metric(123.456, "us", SMALL)),
            (
                "signature.verify_us.runs".into(),
                metric(5.0, "runs", SMALL),
            ),
            ("tree.parallel_speedup".into(), metric(1.04, "ratio", SMALL)),
            (
                "tree.parallel_speedup.runs".into(),
                metric(7.0, "runs", SMALL),
            ),
            // From another benchmark, on another machine, without a run count.
            (
                "load.p99_ms".into(),
                metric(12_345.6, "ms", "Big CPU, 64 logical CPUs"),
            ),
            // A `.runs` name whose base is absent is a metric of its own.
            ("orphan.runs".into(), metric(3.0, "runs", SMALL)),
        ]);
        let page = render(&results, &header());
        let all = page.split("## All metrics").nth(1).unwrap();
        for name in [
            "signature.verify_us",
            "tree.parallel_speedup",
            "load.p99_ms",
            "orphan.runs",
        ] {
            assert!(all.contains(&format!("| `{name}` |")), "{name} missing");
        }
        assert!(all.contains("| `signature.verify_us` | 123 | 5 | us |"));
        assert!(all.contains("| `load.p99_ms` | 12,346 | – | ms | 2025-01-01T00:00:00Z on Big CPU"));
        assert!(!all.contains("`signature.verify_us.runs`"));
        assert!(page.contains("Command: `core_bench --quick`"));

        // The ratio section shows the ratio present, with the small-machine note.
        let ratios = page.split("## core_bench").nth(1).unwrap();
        let ratios = ratios.split("## All metrics").next().unwrap();
        assert!(ratios.contains("| `tree.parallel_speedup` | 1.04 | 7 | ratio |"));
        assert!(!ratios.contains("sequencer.parallel_speedup` |"));
        assert!(ratios.contains("speedups near 1 are expected"));
    }

    #[test]
    fn the_e2e_section_lists_its_metrics_and_rejection_reasons() {
        let results = Results::from([
            ("sequencer.e2e_tps".into(), metric(3000.0, "tx/s", SMALL)),
            ("sequencer.e2e_tps.runs".into(), metric(3.0, "runs", SMALL)),
            (
                "sequencer.e2e_rejected.mempool_full_hot".into(),
                metric(12.0, "transfers", SMALL),
            ),
            ("signature.verify_us".into(), metric(250.0, "us", SMALL)),
        ]);
        let page = render(&results, &header());
        let e2e = page.split("## e2e_bench").nth(1).unwrap();
        let e2e = e2e.split("## All metrics").next().unwrap();
        assert!(e2e.contains("| `sequencer.e2e_tps` | 3,000 | 3 | tx/s |"));
        assert!(e2e.contains("| `sequencer.e2e_rejected.mempool_full_hot` | 12.0 | – |"));
        assert!(!e2e.contains("signature.verify_us` |"));
        assert!(e2e.contains("about one core"));
        assert!(!page.contains("## core_bench"));
    }

    #[test]
    fn the_pg_section_lists_its_metrics() {
        let results = Results::from([
            (
                "postgres.copy_rows_per_s".into(),
                metric(250_000.0, "rows/s", SMALL),
            ),
            (
                "postgres.copy_vs_insert".into(),
                metric(3.5, "ratio", SMALL),
            ),
            ("x".into(), metric(1.0, "us", SMALL)),
        ]);
        let page = render(&results, &header());
        let pg = page.split("## pg_bench").nth(1).unwrap();
        let pg = pg.split("## All metrics").next().unwrap();
        assert!(pg.contains("| `postgres.copy_rows_per_s` | 250,000 | – | rows/s |"));
        assert!(pg.contains("| `postgres.copy_vs_insert` | 3.50 | – | ratio |"));
        assert!(!pg.contains("`x` |"));
    }

    #[test]
    fn the_verifier_section_lists_its_metrics() {
        let results = Results::from([
            ("verifier.gas".into(), metric(4_200_000.0, "gas", SMALL)),
            (
                "verifier.fri_merkle_gas".into(),
                metric(1_000_000.0, "gas", SMALL),
            ),
        ]);
        let page = render(&results, &header());
        let verifier = page.split("## verifier_bench").nth(1).unwrap();
        let verifier = verifier.split("## All metrics").next().unwrap();
        assert!(verifier.contains("| `verifier.gas` | 4,200,000 | – | gas |"));
        assert!(verifier.contains("| `verifier.fri_merkle_gas` | 1,000,000 | – | gas |"));
        assert!(verifier.contains("16,777,216") && verifier.contains("deterministic"));
    }

    #[test]
    fn the_circuits_section_lists_its_metrics() {
        let results = Results::from([
            (
                "circuit.rows_per_transfer".into(),
                metric(2048.0, "rows", SMALL),
            ),
            ("prover.chunk_prove_s".into(), metric(6.5, "s", SMALL)),
            (
                "prover.chunk_prove_s.runs".into(),
                metric(9.0, "runs", SMALL),
            ),
            ("x".into(), metric(1.0, "us", SMALL)),
        ]);
        let page = render(&results, &header());
        let circuits = page.split("## circuit_bench").nth(1).unwrap();
        let circuits = circuits.split("## All metrics").next().unwrap();
        assert!(circuits.contains("| `circuit.rows_per_transfer` | 2,048 | – | rows |"));
        assert!(circuits.contains("| `prover.chunk_prove_s` | 6.50 | 9 | s |"));
        assert!(!circuits.contains("`x` |"));
        assert!(circuits.contains("hyperthreads"));
    }

    #[test]
    fn the_prover_service_section_lists_its_metrics() {
        let results = Results::from([
            (
                "prover.service_tps_1worker_256".into(),
                metric(0.5, "tx/s", SMALL),
            ),
            (
                "prover.service_tps_1worker_256.runs".into(),
                metric(1.0, "runs", SMALL),
            ),
            (
                "prover.workers_speedup_2v1_32".into(),
                metric(1.02, "x", SMALL),
            ),
            (
                "prover.service_cpu_s_9workers_8".into(),
                metric(7.0, "s", SMALL),
            ),
            ("prover.chunk_prove_s".into(), metric(6.5, "s", SMALL)),
        ]);
        let page = render(&results, &header());
        let service = page.split("## prover_bench").nth(1).unwrap();
        let service = service.split("## All metrics").next().unwrap();
        assert!(service.contains("| `prover.service_tps_1worker_256` | 0.500 | 1 | tx/s |"));
        assert!(service.contains("| `prover.workers_speedup_2v1_32` | 1.02 | – | x |"));
        assert!(service.contains("| `prover.service_cpu_s_9workers_8` |"));
        assert!(!service.contains("`prover.chunk_prove_s` |"));
        assert!(service.contains("share the same cores"));
    }

    #[test]
    fn sections_without_metrics_are_left_out() {
        let results = Results::from([("x".into(), metric(1.0, "us", SMALL))]);
        let page = render(&results, &header());
        assert!(!page.contains("## core_bench"));
        assert!(page.contains("| `x` | 1.00 | – | us |"));
    }

    #[test]
    fn values_and_machines_are_formatted() {
        assert_eq!(format_value(1_234_567.8), "1,234,568");
        assert_eq!(format_value(-1234.0), "-1,234");
        assert_eq!(format_value(999.4), "999");
        assert_eq!(format_value(42.42), "42.4");
        assert_eq!(format_value(1.0), "1.00");
        assert_eq!(format_value(0.12345), "0.123");
        assert_eq!(logical_cpus(SMALL), Some(2));
        assert_eq!(logical_cpus("unknown"), None);
        assert!(scaling_note("Big, 64 logical CPUs").contains("at most 64"));
    }
}
