//! `circuit_bench`: the circuits' rows per transfer and the prover's times, for the
//! devnet's tree shape (depth 32, 16 partitions, chain id 31337) and the default merge
//! levels.
//!
//! 1. Sizes: rows of the chunk circuit per transfer (padded and unpadded), gates of one
//!    Schnorr verification, rows of one Keccak-f\[1600\], and the degree of every circuit.
//! 2. Proofs: a uniform batch (every sender and recipient uniform among funded accounts)
//!    is proven node by node through its proof plan, one proof at a time, each with all of
//!    rayon's threads, so every kind's time is its own; wall and CPU seconds and the peak
//!    resident memory are read around each proof. The wrapper proof is verified and its
//!    statement checked against the batch's.
//! 3. Batch figures: the proven batch's totals, and the totals projected for a
//!    1,024-transfer batch from the per-kind medians and that batch's real plan (in
//!    `--full` mode the proven batch is that batch, and both are recorded).
//!
//! `markdown::CIRCUITS` explains the figures. They are merged into `--out` (default
//! `bench/results.json`) and `RESULTS.md` beside it is regenerated. Progress goes to
//! stderr.

use std::{collections::HashMap, fs, path::PathBuf, time::Instant};

use anyhow::{ensure, Context, Result};
use bench::{
    markdown::{self, format_value},
    proving::{
        clock_ticks, funded_accounts, own_cpu_seconds, peak_rss_bytes, reset_peak_rss, row_census,
        rss_bytes, signed_uniform_batch, BatchTotals, NodeTime, DEVNET_CHAIN_ID as CHAIN_ID,
        DEVNET_PARTITION_BITS as PARTITION_BITS, DEVNET_TREE_DEPTH as TREE_DEPTH, KINDS,
    },
    recorder::Recorder,
    results::Results,
};
use clap::Parser;
use plonky2::{
    iop::target::BoolTarget,
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CircuitConfig},
};
use prover::circuits::{
    aggregation::{
        top::statement_words,
        tree::{batch_statement, CircuitSet, NodeProof, PlanNode, ProofPlan, DEFAULT_MERGE_LEVELS},
        Proof,
    },
    chunk::{BatchWitness, ChunkParams, CHUNK_TRANSFERS},
    gfp5::CircuitBuilderGfp5,
    keccak::{CircuitBuilderKeccak, ROWS_PER_PERMUTATION, STATE_BITS},
    schnorr::{add_virtual_signature_target, verify_schnorr_circuit},
    D, F,
};
use rollup_core::tree::TreeConfig;

/// Circuit sizes and proving times of the rollup's proof tree.
#[derive(Debug, Parser)]
struct Args {
    /// A small batch (the default): every kind of proof, in a few minutes on a 2-vCPU VM.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The 1,024-transfer batch of the targets (about an hour on a 2-vCPU VM).
    #[arg(long)]
    full: bool,
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// Transfers in the proven batch (overrides the mode's).
    #[arg(long)]
    transfers: Option<usize>,
    /// Partitions the proven batch's accounts are drawn from (overrides the mode's).
    #[arg(long)]
    partitions: Option<usize>,
    /// Prints the batches' proof plans, then exits (builds and proves nothing).
    #[arg(long)]
    plan_only: bool,
    /// Prints the figures without writing the results file or the page.
    #[arg(long)]
    dry_run: bool,
    /// Where the built circuits are kept between runs (`CircuitSet::load_or_build`; one
    /// directory per code version, so a stale set is never loaded).
    #[arg(long, default_value = "target/circuit-cache")]
    cache_dir: PathBuf,
    /// Regenerates `RESULTS.md` from the results file, measuring nothing.
    #[arg(long, conflicts_with_all = ["dry_run", "plan_only"])]
    render_only: bool,
}

/// The batch size of the targets (2,500 rows per transfer, recursion at most 30%).
const TARGET_TRANSFERS: usize = 1024;
/// The quick mode's batch: uniform among the accounts of two adjacent partitions, enough
/// transfers for three chunks in each, so every kind of proof runs (merges of two chunks,
/// lifts of one, a second merge level, all four range levels) in 18 proofs.
const QUICK_TRANSFERS: usize = 160;
const QUICK_PARTITIONS: usize = 2;
/// The workload's seed: the same batch on every run.
const SEED: u64 = 0xc1_4c_u64;
/// Chained permutations over which Keccak-f\[1600\]'s rows are averaged (the XOR rows
/// shared between permutations amortise).
const KECCAK_PERMUTATIONS: usize = 10;
const MB: f64 = 1024.0 * 1024.0;

/// Gates of one Schnorr verification alone: `num_gates()` of a builder holding only
/// `verify_schnorr_circuit` (before `build` adds constants and pads, as the prover's
/// test counts them).
fn signature_gates() -> usize {
    let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
    let pk = builder.add_virtual_gfp5();
    let message = builder.add_virtual_hash();
    let signature = add_virtual_signature_target(&mut builder);
    verify_schnorr_circuit(&mut builder, pk, message, &signature);
    builder.num_gates()
}

/// Rows per Keccak-f\[1600\], averaged over chained permutations.
fn keccak_rows_per_permutation() -> f64 {
    let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
    let mut state: Vec<BoolTarget> = (0..STATE_BITS)
        .map(|_| BoolTarget::new_unsafe(builder.add_virtual_target()))
        .collect();
    let start = builder.num_gates();
    for _ in 0..KECCAK_PERMUTATIONS {
        state = builder.keccak_f(&state);
    }
    (builder.num_gates() - start) as f64 / KECCAK_PERMUTATIONS as f64
}

/// A batch's witness and plan, and its node count per kind.
struct PlannedBatch {
    transfers: usize,
    partitions: usize,
    witness: BatchWitness,
    plan: ProofPlan,
    witness_s: f64,
}

impl PlannedBatch {
    fn new(
        params: &ChunkParams,
        transfers: usize,
        partitions: usize,
        merge_levels: usize,
    ) -> Result<Self> {
        let accounts = funded_accounts(transfers);
        let batch = signed_uniform_batch(
            params.tree,
            params.chain_id,
            partitions,
            accounts,
            transfers,
            SEED,
        )
        .context("building the genesis state")?;
        let started = Instant::now();
        let transactions: Vec<_> = batch.transfers.iter().map(|&t| t.into()).collect();
        let witness = BatchWitness::generate(params, &batch.state, &[], &transactions)
            .context("generating the batch witness")?;
        let witness_s = started.elapsed().as_secs_f64();
        let plan = ProofPlan::new(
            &witness,
            params.tree.partition_bits() as usize,
            merge_levels,
        )?;
        Ok(Self {
            transfers,
            partitions,
            witness,
            plan,
            witness_s,
        })
    }

    fn counts(&self) -> HashMap<&'static str, usize> {
        let mut counts: HashMap<&'static str, usize> = KINDS.iter().map(|&k| (k, 0)).collect();
        for node in &self.plan.nodes {
            *counts.entry(node.kind()).or_default() += 1;
        }
        counts
    }

    fn describe(&self) -> String {
        let counts = self.counts();
        let lifts = self
            .plan
            .nodes
            .iter()
            .filter(|node| matches!(node, PlanNode::Merge { right: None, .. }))
            .count();
        let kinds = KINDS
            .iter()
            .map(|kind| format!("{} {kind}", counts[kind]))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{kinds}; {lifts} of the merges lift one proof")
    }
}

/// One proof's readings.
struct Measured {
    time: NodeTime,
    /// Peak resident bytes during the proof (since the process started if the kernel
    /// refuses to reset the peak).
    peak_rss: Option<u64>,
}

/// Proves every node of `batch` in plan order, one at a time; returns each proof's
/// readings and the wrapper proof's checked statement.
fn prove_sequentially(set: &CircuitSet, batch: &PlannedBatch) -> Result<Vec<Measured>> {
    let ticks = clock_ticks();
    let nodes = &batch.plan.nodes;
    let mut proofs: Vec<Option<NodeProof>> = vec![None; nodes.len()];
    // How many later nodes still need each proof, so proofs are dropped once consumed.
    let mut pending = vec![0usize; nodes.len()];
    for node in nodes {
        for dep in node.dependencies() {
            pending[dep] += 1;
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let counts = batch.counts();
    let mut measured = Vec::with_capacity(nodes.len());
    for (id, node) in nodes.iter().enumerate() {
        let kind = node.kind();
        let input = batch.plan.input(&batch.witness, id);
        let deps: Vec<&Proof> = node
            .dependencies()
            .iter()
            .map(|&dep| match proofs[dep].as_ref() {
                Some(NodeProof::Inner(proof)) => Ok(proof),
                _ => Err(anyhow::anyhow!(
                    "node {id} needs the Poseidon proof of {dep}"
                )),
            })
            .collect::<Result<_>>()?;
        let reset = reset_peak_rss();
        let cpu_before = own_cpu_seconds(ticks).context("reading /proc/self/stat")?;
        let started = Instant::now();
        let proof = set
            .prove_input(&input, &deps)
            .with_context(|| format!("proving node {id} ({kind})"))?;
        let wall_s = started.elapsed().as_secs_f64();
        let cpu_s = own_cpu_seconds(ticks).context("reading /proc/self/stat")? - cpu_before;
        let peak_rss = peak_rss_bytes().filter(|_| reset);
        let n = seen.entry(kind).or_default();
        *n += 1;
        eprintln!(
            "[{kind} {n}/{}] {wall_s:.2} s wall, {cpu_s:.2} s CPU{}",
            counts[kind],
            peak_rss.map_or_else(String::new, |b| format!(", peak {:.0} MB", b as f64 / MB))
        );
        for dep in node.dependencies() {
            pending[dep] -= 1;
            if pending[dep] == 0 {
                proofs[dep] = None;
            }
        }
        proofs[id] = Some(proof);
        measured.push(Measured {
            time: NodeTime {
                kind,
                wall_s,
                cpu_s,
            },
            peak_rss,
        });
    }

    // The last two nodes are the top and the wrapper: check what they state.
    let last = nodes.len() - 1;
    let Some(NodeProof::Wrapped(wrapped)) = proofs[last].as_ref() else {
        anyhow::bail!("the plan does not end with the wrapper");
    };
    set.wrapper
        .verify(wrapped)
        .context("verifying the wrapper proof")?;
    let statement = batch_statement(&batch.witness).public_inputs();
    let words: Vec<u64> = wrapped
        .public_inputs
        .iter()
        .map(plonky2::field::types::PrimeField64::to_canonical_u64)
        .collect();
    ensure!(
        words == statement.map(u64::from),
        "the wrapper states another batch"
    );
    if let Some(NodeProof::Inner(top)) = proofs[last - 1].as_ref() {
        ensure!(
            statement_words(top)? == statement,
            "the top states another batch"
        );
    }
    Ok(measured)
}

/// The load average, for the notes (a shared machine's figures depend on it).
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    if args.render_only {
        return markdown::write_results_and_page(
            &args.out,
            Results::new(),
            "circuit_bench",
            started,
        );
    }
    let transfers = args.transfers.unwrap_or(if args.full {
        TARGET_TRANSFERS
    } else {
        QUICK_TRANSFERS
    });
    ensure!(transfers > 0, "nothing to prove");
    let params = ChunkParams {
        tree: TreeConfig::new(TREE_DEPTH, PARTITION_BITS)?,
        chain_id: CHAIN_ID,
    };
    let partitions = args.partitions.unwrap_or(if args.full {
        params.tree.num_partitions()
    } else {
        QUICK_PARTITIONS
    });
    ensure!(
        (1..=params.tree.num_partitions()).contains(&partitions),
        "the tree has {} partitions",
        params.tree.num_partitions()
    );
    let threads = rayon::current_num_threads();
    let load_before = load_average();
    eprintln!(
        "[setup] depth {TREE_DEPTH}, {} partitions, chain id {CHAIN_ID}, {DEFAULT_MERGE_LEVELS} \
         merge levels; {transfers} transfers over {partitions} partitions; {threads} threads; \
         load average {load_before}",
        params.tree.num_partitions()
    );
    let mut rec = Recorder::default();

    // The batch to prove, and the 1,024-transfer batch's plan for the projection.
    let batch = PlannedBatch::new(&params, transfers, partitions, DEFAULT_MERGE_LEVELS)?;
    eprintln!(
        "[batch] {} transfers over {} partitions: {} chunks ({}); witness in {:.2} s",
        batch.transfers,
        batch.partitions,
        batch.witness.chunks.len(),
        batch.describe(),
        batch.witness_s
    );
    let target = if transfers == TARGET_TRANSFERS && partitions == params.tree.num_partitions() {
        None
    } else {
        Some(PlannedBatch::new(
            &params,
            TARGET_TRANSFERS,
            params.tree.num_partitions(),
            DEFAULT_MERGE_LEVELS,
        )?)
    };
    let target_ref = target.as_ref().unwrap_or(&batch);
    if target.is_some() {
        eprintln!(
            "[batch] the {TARGET_TRANSFERS}-transfer batch's plan: {} chunks ({})",
            target_ref.witness.chunks.len(),
            target_ref.describe()
        );
    }

    if args.plan_only {
        return Ok(());
    }

    // Sizes.
    let signature_gates = signature_gates();
    let keccak_rows = keccak_rows_per_permutation();
    eprintln!(
        "[sizes] Schnorr verification: {signature_gates} gates; Keccak-f[1600]: {keccak_rows} \
         rows (the prover's constant: {ROWS_PER_PERMUTATION})"
    );
    rec.record_one("circuit.signature_gates", signature_gates as f64, "gates");
    rec.record_one("circuit.keccak_rows_per_permutation", keccak_rows, "rows");

    let build_started = Instant::now();
    let set = CircuitSet::load_or_build(params, DEFAULT_MERGE_LEVELS, &args.cache_dir)?;
    let build_s = build_started.elapsed().as_secs_f64();
    let circuits_rss = rss_bytes();
    eprintln!(
        "[build] every circuit ready in {build_s:.1} s (built, or loaded from {}); \
         resident {:.0} MB",
        args.cache_dir.display(),
        circuits_rss.unwrap_or(0) as f64 / MB
    );
    rec.record_one("prover.circuits_ready_s", build_s, "s");
    if let Some(bytes) = circuits_rss {
        rec.record_one("prover.circuits_rss_mb", bytes as f64 / MB, "MB");
    }

    let chunk_common = &set.chunk.data.common;
    let census = row_census(&set.chunk.data);
    let per_unit = CHUNK_TRANSFERS as f64;
    eprintln!(
        "[sizes] chunk circuit: 2^{} = {} rows, {} used: {}",
        chunk_common.degree_bits(),
        census.total,
        census.used,
        census
            .by_gate
            .iter()
            .map(|(gate, rows)| format!("{gate} {rows}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    rec.record_one("circuit.chunk_rows", census.total as f64, "rows");
    rec.record_one("circuit.chunk_gates", census.used as f64, "gates");
    rec.record_one(
        "circuit.rows_per_transfer",
        census.total as f64 / per_unit,
        "rows",
    );
    rec.record_one(
        "circuit.gates_per_transfer",
        census.used as f64 / per_unit,
        "gates",
    );
    let degrees: Vec<(String, usize)> = [
        ("chunk".to_owned(), chunk_common.degree_bits()),
        ("merge".to_owned(), set.merges[0].data.common.degree_bits()),
    ]
    .into_iter()
    .chain(
        set.ranges
            .iter()
            .enumerate()
            .map(|(i, range)| (format!("range{}", i + 1), range.data.common.degree_bits())),
    )
    .chain([
        ("top".to_owned(), set.top.data.common.degree_bits()),
        ("wrapper".to_owned(), set.wrapper.data.common.degree_bits()),
    ])
    .collect();
    eprintln!(
        "[sizes] degree bits: {}",
        degrees
            .iter()
            .map(|(name, bits)| format!("{name} {bits}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, bits) in &degrees {
        rec.record_one(
            &format!("circuit.{name}_degree_bits"),
            *bits as f64,
            "log2 rows",
        );
    }

    // Proofs, one at a time.
    let measured = prove_sequentially(&set, &batch)?;
    let mut per_kind: HashMap<&str, (f64, f64)> = HashMap::new();
    for kind in KINDS {
        let of_kind: Vec<&Measured> = measured.iter().filter(|m| m.time.kind == kind).collect();
        let walls: Vec<f64> = of_kind.iter().map(|m| m.time.wall_s).collect();
        let cpus: Vec<f64> = of_kind.iter().map(|m| m.time.cpu_s).collect();
        rec.record(&format!("prover.{kind}_prove_s"), &walls, "s");
        rec.record(&format!("prover.{kind}_prove_cpu_s"), &cpus, "s");
        let peaks: Vec<u64> = of_kind.iter().filter_map(|m| m.peak_rss).collect();
        if let Some(peak) = peaks.iter().max() {
            rec.record_one(
                &format!("prover.{kind}_peak_rss_mb"),
                *peak as f64 / MB,
                "MB",
            );
        }
        if let (Some(wall), Some(cpu)) = (bench::stats::median(&walls), bench::stats::median(&cpus))
        {
            per_kind.insert(kind, (wall, cpu));
        }
    }

    // Batch figures: measured on the proven batch, and projected onto the 1,024 one.
    let totals = BatchTotals::of(&measured.iter().map(|m| m.time).collect::<Vec<_>>());
    let chunk_rows_batch = batch.witness.chunks.len() as f64 * census.total as f64;
    rec.record_one("prover.batch_transfers", transfers as f64, "transfers");
    rec.record_one("prover.batch_partitions", partitions as f64, "partitions");
    rec.record_one(
        "prover.batch_chunks",
        batch.witness.chunks.len() as f64,
        "chunks",
    );
    rec.record_one("prover.witness_s", batch.witness_s, "s");
    rec.record_one("prover.batch_prove_s", totals.wall_s, "s");
    rec.record_one("prover.batch_prove_cpu_s", totals.cpu_s, "s");
    rec.record_one("prover.recursion_share", totals.recursion_share(), "share");
    rec.record_one(
        "prover.recursion_cpu_share",
        totals.recursion_cpu_share(),
        "share",
    );
    rec.record_one(
        "prover.transfers_per_core_second",
        totals.transfers_per_core_second(transfers),
        "tx/core-s",
    );
    rec.record_one(
        "prover.transfers_per_second",
        transfers as f64 / totals.wall_s,
        "tx/s",
    );
    rec.record_one("prover.cores_used", totals.cpu_s / totals.wall_s, "cores");
    rec.record_one("prover.threads", threads as f64, "threads");
    rec.record_one(
        "circuit.rows_per_transfer_batch",
        chunk_rows_batch / transfers as f64,
        "rows",
    );
    let target_chunks = target_ref.witness.chunks.len();
    rec.record_one(
        "circuit.rows_per_transfer_1024",
        target_chunks as f64 * census.total as f64 / TARGET_TRANSFERS as f64,
        "rows",
    );
    rec.record_one("prover.chunks_1024", target_chunks as f64, "chunks");
    let projected = BatchTotals::project(&per_kind, &target_ref.counts())
        .context("a kind of proof the 1,024-transfer plan needs was not measured")?;
    rec.record_one("prover.batch_prove_s_1024_est", projected.wall_s, "s");
    rec.record_one(
        "prover.recursion_share_1024_est",
        projected.recursion_share(),
        "share",
    );
    rec.record_one(
        "prover.recursion_cpu_share_1024_est",
        projected.recursion_cpu_share(),
        "share",
    );
    rec.record_one(
        "prover.transfers_per_core_second_1024_est",
        projected.transfers_per_core_second(TARGET_TRANSFERS),
        "tx/core-s",
    );
    if let Some(peak) = measured.iter().filter_map(|m| m.peak_rss).max() {
        rec.record_one("prover.peak_rss_mb", peak as f64 / MB, "MB");
    }
    let load_after = load_average();
    eprintln!(
        "[batch] {transfers} transfers proven in {} s wall ({} s CPU, {:.2} cores used): \
         recursion {:.1}%, {} transfers/core-s; projected for {TARGET_TRANSFERS}: {} s, \
         recursion {:.1}%, {} transfers/core-s; load average {load_after}",
        format_value(totals.wall_s),
        format_value(totals.cpu_s),
        totals.cpu_s / totals.wall_s,
        100.0 * totals.recursion_share(),
        format_value(totals.transfers_per_core_second(transfers)),
        format_value(projected.wall_s),
        100.0 * projected.recursion_share(),
        format_value(projected.transfers_per_core_second(TARGET_TRANSFERS)),
    );
    // The 1-minute load average at the end of the run: the other processes the figures
    // shared the machine with (this benchmark's own threads add up to `threads`).
    if let Some(load) = load_after
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
    {
        rec.record_one("prover.load_average", load, "load");
    }

    if args.dry_run {
        eprintln!(
            "dry run: nothing written ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    markdown::write_results_and_page(&args.out, rec.results, "circuit_bench", started)
}
