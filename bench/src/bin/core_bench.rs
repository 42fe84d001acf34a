//! `core_bench`: the first figures of the rollup core's hot paths (signatures, the state
//! tree, batch execution), single-threaded and on all threads side by side.
//!
//! Every figure is the median of repeated runs after one warm-up run; each ratio pairs
//! both sides in the same run (alternating which goes first), so the noise of a shared
//! machine hits both. The metrics are merged into `--out` (default `bench/results.json`)
//! and `RESULTS.md` beside it is regenerated from the whole file. Progress goes to stderr.

use std::{
    collections::HashMap,
    hint::black_box,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{ensure, Context, Result};
use bench::{
    markdown,
    plots::{self, Chart, Series},
    recorder::Recorder,
    results::machine_description,
    workload::{transfer_batch, BatchShape, SplitMix64},
};
use clap::Parser;
use rayon::{prelude::*, ThreadPool, ThreadPoolBuilder};
use rollup_core::{
    hash::Digest,
    schnorr::{PublicKey, SecretKey},
    state::State,
    transfer::{SignedTransfer, Transfer},
    tree::{StateTree, TreeConfig},
};

/// Benchmarks of signatures, the state tree and batch execution.
#[derive(Debug, Parser)]
struct Args {
    /// Few runs per figure (the default): a few minutes on a 2-vCPU VM.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// More runs per figure, for numbers to quote.
    #[arg(long)]
    full: bool,
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
}

/// The workload sizes and the number of measured runs. The sizes are the same in both
/// modes, so quick and full figures compare; `markdown::CORE_RATIOS` describes them.
#[derive(Clone, Copy, Debug)]
struct Plan {
    runs: usize,
    /// Transfers signed per `sign_us` run.
    sign_count: usize,
    /// Pre-signed transfers verified per `verify` run.
    verify_count: usize,
    /// Leaves in the tree before the measured batch.
    tree_prefill: usize,
    /// Leaf updates per measured `apply_updates` (half overwrite prefilled leaves).
    tree_updates: usize,
    /// Funded genesis accounts.
    accounts: usize,
    /// Transfers in the executed batch.
    transfers: usize,
}

const SIZES: Plan = Plan {
    runs: QUICK_RUNS,
    sign_count: 1024,
    verify_count: 2048,
    tree_prefill: 50_000,
    tree_updates: 4096,
    accounts: 10_000,
    transfers: 4096,
};
const QUICK_RUNS: usize = 11;
const FULL_RUNS: usize = 31;

/// Genesis balance of every account: far above what one sender can spend in a batch.
const BALANCE: u64 = 1_000_000_000;
/// Hot recipients (an exchange, a merchant) and the share of transfers they receive.
const HOT_RECIPIENTS: usize = 8;
const HOT_SHARE: f64 = 0.2;

/// Seconds taken by `f`, with its result.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

/// Runs both sides back to back, the first one first on even runs and second on odd ones
/// so that a drift of the machine's load does not favour either; returns (a, b).
fn paired<A, B>(
    run: usize,
    a: impl FnOnce() -> Result<A>,
    b: impl FnOnce() -> Result<B>,
) -> Result<(A, B)> {
    if run.is_multiple_of(2) {
        let a = a()?;
        Ok((a, b()?))
    } else {
        let b = b()?;
        Ok((a()?, b))
    }
}

/// Progress label: run 0 is the warm-up.
fn label(run: usize, runs: usize) -> String {
    if run == 0 {
        "warm-up".to_owned()
    } else {
        format!("run {run}/{runs}")
    }
}

/// The sequencer's workload: funded keys, their genesis state and a valid signed batch.
struct Workload {
    genesis: State,
    /// The hot-account mix: uniform senders, a share of recipients among a few hot keys.
    batch: Vec<Transfer>,
    /// The same size with uniform recipients only.
    uniform_batch: Vec<Transfer>,
    signed: Vec<SignedTransfer>,
    keys: HashMap<PublicKey, SecretKey>,
}

fn build_workload(plan: &Plan) -> Result<Workload> {
    eprintln!(
        "[setup] {} keys, genesis, {} transfers",
        plan.accounts, plan.transfers
    );
    let mut rng = SplitMix64::new(0x5e0_0e2c);
    // Seeds drawn in order, keys derived in parallel: reproducible and quick.
    let seeds: Vec<u64> = (0..plan.accounts).map(|_| rng.next_u64()).collect();
    let secrets: Vec<SecretKey> = seeds
        .par_iter()
        .map(|&seed| SplitMix64::new(seed).secret_key())
        .collect();
    let public: Vec<PublicKey> = secrets.iter().map(SecretKey::public_key).collect();
    let balances: Vec<(PublicKey, u64)> = public.iter().map(|&key| (key, BALANCE)).collect();
    let genesis = State::genesis(TreeConfig::default(), &balances).context("genesis")?;
    let shape = BatchShape {
        transfers: plan.transfers,
        hot_recipients: HOT_RECIPIENTS,
        hot_share: HOT_SHARE,
        chain_id: 31337,
    };
    let batch = transfer_batch(&mut rng, &public, BALANCE, shape);
    let uniform_shape = BatchShape {
        hot_recipients: 0,
        hot_share: 0.0,
        ..shape
    };
    let uniform_batch = transfer_batch(&mut rng, &public, BALANCE, uniform_shape);
    let keys: HashMap<PublicKey, SecretKey> = public.into_iter().zip(secrets).collect();
    let signed = batch
        .par_iter()
        .map(|transfer| transfer.sign(&keys[&transfer.from]))
        .collect();
    Ok(Workload {
        genesis,
        batch,
        uniform_batch,
        signed,
        keys,
    })
}

fn bench_signatures(plan: &Plan, work: &Workload, rec: &mut Recorder) -> Result<()> {
    let to_sign = &work.batch[..plan.sign_count];
    let mut sign_us = Vec::new();
    for run in 0..=plan.runs {
        let ((), secs) = timed(|| {
            for transfer in to_sign {
                black_box(black_box(*transfer).sign(&work.keys[&transfer.from]));
            }
        });
        let us = secs * 1e6 / to_sign.len() as f64;
        eprintln!(
            "[signature.sign] {}: {us:.1} us/signature",
            label(run, plan.runs)
        );
        if run > 0 {
            sign_us.push(us);
        }
    }
    rec.record("signature.sign_us", &sign_us, "us");

    let signed = &work.signed[..plan.verify_count];
    let n = signed.len() as f64;
    let (mut verify_us, mut tps_all, mut speedup) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=plan.runs {
        let (one, all) = paired(
            run,
            || {
                let (checked, secs) =
                    timed(|| signed.iter().try_for_each(|s| black_box(s).verify()));
                checked.context("a benchmark signature does not verify")?;
                Ok(secs)
            },
            || {
                let (checked, secs) =
                    timed(|| signed.par_iter().try_for_each(|s| black_box(s).verify()));
                checked.context("a benchmark signature does not verify")?;
                Ok(secs)
            },
        )?;
        eprintln!(
            "[signature.verify] {}: 1 thread {:.1} us/signature, all threads {:.0} tx/s",
            label(run, plan.runs),
            one * 1e6 / n,
            n / all
        );
        if run > 0 {
            verify_us.push(one * 1e6 / n);
            tps_all.push(n / all);
            speedup.push(one / all);
        }
    }
    rec.record("signature.verify_us", &verify_us, "us");
    rec.record("signature.verify_tps_all_threads", &tps_all, "tx/s");
    rec.record("signature.verify_parallel_speedup", &speedup, "ratio");
    Ok(())
}

fn bench_tree(plan: &Plan, single: &ThreadPool, rec: &mut Recorder) -> Result<()> {
    eprintln!("[setup] state tree with {} leaves", plan.tree_prefill);
    let mut rng = SplitMix64::new(0x7_2ee);
    let slots = 1u64 << TreeConfig::default().depth();
    let prefill: Vec<(u64, Digest)> = (0..plan.tree_prefill)
        .map(|_| (rng.below(slots), rng.digest()))
        .collect();
    let mut base = StateTree::new(TreeConfig::default());
    base.apply_updates(&prefill).context("prefill")?;
    // Half the updates overwrite existing leaves (balances change), half fill new slots
    // (new accounts).
    let updates: Vec<(u64, Digest)> = (0..plan.tree_updates)
        .map(|i| {
            let index = if i.is_multiple_of(2) {
                prefill[rng.below(prefill.len() as u64) as usize].0
            } else {
                rng.below(slots)
            };
            (index, rng.digest())
        })
        .collect();

    let n = updates.len() as f64;
    let (mut one_rate, mut all_rate, mut speedup) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=plan.runs {
        let (mut tree_one, mut tree_all) = (base.clone(), base.clone());
        let (one, all) = paired(
            run,
            || {
                let (applied, secs) = timed(|| single.install(|| tree_one.apply_updates(&updates)));
                applied?;
                Ok(secs)
            },
            || {
                let (applied, secs) = timed(|| tree_all.apply_updates(&updates));
                applied?;
                Ok(secs)
            },
        )?;
        ensure!(
            tree_one.root() == tree_all.root(),
            "1-thread and all-threads roots differ"
        );
        eprintln!(
            "[tree.apply_updates] {}: 1 thread {:.0} updates/s, all threads {:.0} updates/s",
            label(run, plan.runs),
            n / one,
            n / all
        );
        if run > 0 {
            one_rate.push(n / one);
            all_rate.push(n / all);
            speedup.push(one / all);
        }
    }
    rec.record("tree.updates_per_s_1thread", &one_rate, "updates/s");
    rec.record("tree.updates_per_s_all_threads", &all_rate, "updates/s");
    rec.record("tree.parallel_speedup", &speedup, "ratio");
    Ok(())
}

/// Per-run figures of executing one batch with 1 thread and with all threads.
#[derive(Default)]
struct ExecutionRuns {
    one_tps: Vec<f64>,
    all_tps: Vec<f64>,
    speedup: Vec<f64>,
    /// Seconds of the 1-thread execution, per measured run.
    one_secs: Vec<f64>,
}

/// Executes `batch` on fresh clones of genesis (cloned outside the timed regions), 1
/// thread against all threads back to back, checking both reach the same root.
fn measure_execution(
    plan: &Plan,
    work: &Workload,
    batch: &[Transfer],
    single: &ThreadPool,
    name: &str,
) -> Result<ExecutionRuns> {
    let n = batch.len() as f64;
    let mut runs = ExecutionRuns::default();
    for run in 0..=plan.runs {
        let (mut state_one, mut state_all) = (work.genesis.clone(), work.genesis.clone());
        let ((root_one, one), (root_all, all)) = paired(
            run,
            || {
                let (outcome, secs) = timed(|| single.install(|| state_one.execute_batch(batch)));
                Ok((outcome.context("executing the batch")?.new_root, secs))
            },
            || {
                let (outcome, secs) = timed(|| state_all.execute_batch(batch));
                Ok((outcome.context("executing the batch")?.new_root, secs))
            },
        )?;
        ensure!(
            root_one == root_all,
            "1-thread and all-threads roots differ"
        );
        eprintln!(
            "[{name}] {}: 1 thread {:.0} tx/s, all threads {:.0} tx/s",
            label(run, plan.runs),
            n / one,
            n / all
        );
        if run > 0 {
            runs.one_tps.push(n / one);
            runs.all_tps.push(n / all);
            runs.speedup.push(one / all);
            runs.one_secs.push(one);
        }
    }
    Ok(runs)
}

/// Execution on the hot-account mix, and the share of single-threaded CPU time that
/// signature verification takes next to it.
fn bench_sequencer(
    plan: &Plan,
    work: &Workload,
    single: &ThreadPool,
    rec: &mut Recorder,
) -> Result<()> {
    let runs = measure_execution(plan, work, &work.batch, single, "sequencer.execute_batch")?;
    let mut share = Vec::new();
    for one in &runs.one_secs {
        let (verified, verify) =
            timed(|| work.signed.iter().try_for_each(|s| black_box(s).verify()));
        verified.context("a batch signature does not verify")?;
        share.push(verify / (verify + one));
    }
    rec.record("sequencer.exec_tps_1thread", &runs.one_tps, "tx/s");
    rec.record("sequencer.exec_tps_all_threads", &runs.all_tps, "tx/s");
    rec.record("sequencer.parallel_speedup", &runs.speedup, "ratio");
    rec.record("sequencer.sigverify_cpu_share", &share, "share");
    Ok(())
}

/// Execution alone on the uniform workload, 1 thread against all threads.
fn bench_execution_uniform(
    plan: &Plan,
    work: &Workload,
    single: &ThreadPool,
    rec: &mut Recorder,
) -> Result<()> {
    let name = "sequencer.execute_batch uniform";
    let runs = measure_execution(plan, work, &work.uniform_batch, single, name)?;
    rec.record("sequencer.exec_tps_1thread_uniform", &runs.one_tps, "tx/s");
    rec.record(
        "sequencer.exec_tps_all_threads_uniform",
        &runs.all_tps,
        "tx/s",
    );
    rec.record("sequencer.parallel_speedup_uniform", &runs.speedup, "ratio");
    Ok(())
}

/// Thread counts of the scaling sweep: powers of two up to twice the logical CPUs (at
/// least 4), so the plot shows where adding threads stops paying.
fn sweep_threads() -> Vec<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let top = (2 * cpus).max(4);
    std::iter::successors(Some(1usize), |n| Some(n * 2))
        .take_while(|&n| n <= top)
        .collect()
}

/// Throughput of signature verification and of batch execution (hot mix) with 1, 2, 4, …
/// threads (a rayon pool of each size, the thread counts in rotating order from run to
/// run), recorded per thread count and drawn as `plots/throughput_vs_threads.png`.
fn bench_thread_sweep(plan: &Plan, work: &Workload, rec: &mut Recorder, out: &Path) -> Result<()> {
    let threads = sweep_threads();
    let pools = threads
        .iter()
        .map(|&n| ThreadPoolBuilder::new().num_threads(n).build())
        .collect::<std::result::Result<Vec<ThreadPool>, _>>()
        .context("building the sweep's pools")?;
    let signed = &work.signed[..plan.verify_count];
    let runs = SWEEP_RUNS;
    let mut verify: Vec<Vec<f64>> = vec![Vec::new(); threads.len()];
    let mut execute: Vec<Vec<f64>> = vec![Vec::new(); threads.len()];
    for run in 0..=runs {
        for k in 0..threads.len() {
            let i = (k + run) % threads.len();
            let pool = &pools[i];
            let (checked, verify_secs) = timed(|| {
                pool.install(|| signed.par_iter().try_for_each(|s| black_box(s).verify()))
            });
            checked.context("a benchmark signature does not verify")?;
            let mut state = work.genesis.clone();
            let (outcome, execute_secs) =
                timed(|| pool.install(|| state.execute_batch(&work.batch)));
            outcome.context("executing the batch")?;
            if run > 0 {
                verify[i].push(signed.len() as f64 / verify_secs);
                execute[i].push(work.batch.len() as f64 / execute_secs);
            }
        }
        eprintln!(
            "[thread sweep] {} over {threads:?} threads",
            label(run, runs)
        );
    }
    let mut verify_points = Vec::new();
    let mut execute_points = Vec::new();
    for (i, &n) in threads.iter().enumerate() {
        rec.record(
            &format!("signature.verify_tps_threads_{n}"),
            &verify[i],
            "tx/s",
        );
        rec.record(
            &format!("sequencer.exec_tps_threads_{n}"),
            &execute[i],
            "tx/s",
        );
        let median = |v: &[f64]| bench::stats::median(v).unwrap_or(f64::NAN);
        verify_points.push((n as f64, median(&verify[i])));
        execute_points.push((n as f64, median(&execute[i])));
    }
    let ideal = |points: &[(f64, f64)]| {
        let one = points[0].1;
        points
            .iter()
            .map(|&(n, _)| (n, one * n))
            .collect::<Vec<_>>()
    };
    let path = plots::plots_dir(out).join("throughput_vs_threads.png");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let title = format!("Throughput against threads ({cpus} logical CPUs)");
    plots::line_chart(
        &path,
        &Chart {
            title: &title,
            x_label: "rayon threads",
            y_label: "transfers per second",
            log2_x: true,
            series: vec![
                Series::measured(
                    "batch execution (4,096 transfers, hot mix)",
                    execute_points.clone(),
                ),
                Series::reference("execution, ideal linear scaling", ideal(&execute_points)),
                Series::measured("signature verification", verify_points.clone()),
                Series::reference("verification, ideal linear scaling", ideal(&verify_points)),
            ],
        },
    )?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Measured runs per thread count of the sweep (after one warm-up).
const SWEEP_RUNS: usize = 5;

fn main() -> Result<()> {
    let args = Args::parse();
    let plan = Plan {
        runs: if args.full && !args.quick {
            FULL_RUNS
        } else {
            QUICK_RUNS
        },
        ..SIZES
    };
    let started = Instant::now();
    eprintln!(
        "core_bench ({} mode, {} runs per figure) on {}, rayon default pool: {} threads",
        if args.full { "full" } else { "quick" },
        plan.runs,
        machine_description(),
        rayon::current_num_threads()
    );
    let single = ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("building the 1-thread pool")?;

    let mut rec = Recorder::default();
    let work = build_workload(&plan)?;
    bench_signatures(&plan, &work, &mut rec)?;
    bench_tree(&plan, &single, &mut rec)?;
    bench_sequencer(&plan, &work, &single, &mut rec)?;
    bench_execution_uniform(&plan, &work, &single, &mut rec)?;
    bench_thread_sweep(&plan, &work, &mut rec, &args.out)?;

    markdown::write_results_and_page(&args.out, rec.results, "core_bench", started)
}
