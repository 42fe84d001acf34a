//! What `circuit_bench` needs besides the prover itself: a signed batch for the devnet's
//! tree shape, the rows a circuit really uses, readings of this process (CPU seconds, peak
//! resident memory) around each proof, and the projection of per-node times onto a
//! batch's proof plan.
//!
//! Everything here is deterministic given the seed, so two runs prove the very same
//! batch, and nothing here is `cfg(test)` code of the prover.

use std::{collections::HashMap, fs, process::Command};

use plonky2::{
    field::extension::Extendable,
    hash::hash_types::RichField,
    plonk::{circuit_data::CircuitData, config::GenericConfig},
};
use rollup_core::{
    account::partition_of_key,
    schnorr::{PublicKey, SecretKey},
    state::State,
    transfer::SignedTransfer,
    tree::TreeConfig,
};

use crate::{
    e2e::proc_cpu_seconds,
    workload::{transfer_batch, BatchShape, SplitMix64},
};

/// The devnet's tree (depth 32, 2^4 partitions) and chain id: the shape of the cached
/// circuits and of the committed on-chain verifier, which the proving and L1 benchmarks
/// measure.
pub const DEVNET_TREE_DEPTH: u32 = 32;
/// See [`DEVNET_TREE_DEPTH`].
pub const DEVNET_PARTITION_BITS: u32 = 4;
/// See [`DEVNET_TREE_DEPTH`].
pub const DEVNET_CHAIN_ID: u64 = 31337;

/// Funded accounts of a benchmark batch of `transfers` transfers: two per transfer, at
/// least 256, so that senders rarely repeat.
pub fn funded_accounts(transfers: usize) -> usize {
    (2 * transfers).max(256)
}

/// Genesis balance of every account: far above what a sender spends in one batch.
const BALANCE: u64 = 1_000_000_000;

/// A funded genesis state and a batch of signed transfers valid in order against it.
#[derive(Clone, Debug)]
pub struct SignedBatch {
    /// The state before the batch.
    pub state: State,
    /// The batch, signed by each sender.
    pub transfers: Vec<SignedTransfer>,
}

/// `transfers` signed transfers among `accounts` funded accounts of a `config`-shaped
/// tree, all of them in the first `partitions` partitions: uniform senders and uniform
/// recipients among those accounts (so a share (k-1)/k of the transfers crosses
/// partitions, k = `partitions`, and takes a debit slot in one chunk and a credit slot in
/// another), each sender's nonces in order, no account creation. Keys, amounts and
/// recipients are drawn from `seed`. With `partitions` below the tree's, a small batch
/// fills a few partitions' chunks instead of spreading a slot or two over every partition.
pub fn signed_uniform_batch(
    config: TreeConfig,
    chain_id: u64,
    partitions: usize,
    accounts: usize,
    transfers: usize,
    seed: u64,
) -> rollup_core::Result<SignedBatch> {
    assert!(
        (1..=config.num_partitions()).contains(&partitions),
        "no such partition count"
    );
    let mut rng = SplitMix64::new(seed);
    let mut secrets: Vec<SecretKey> = Vec::with_capacity(accounts);
    while secrets.len() < accounts {
        let secret = rng.secret_key();
        if partition_of_key(&secret.public_key(), &config) < partitions {
            secrets.push(secret);
        }
    }
    let keys: Vec<PublicKey> = secrets.iter().map(SecretKey::public_key).collect();
    let by_key: HashMap<PublicKey, &SecretKey> = keys.iter().copied().zip(&secrets).collect();
    let genesis: Vec<(PublicKey, u64)> = keys.iter().map(|&key| (key, BALANCE)).collect();
    let state = State::genesis(config, &genesis)?;
    let shape = BatchShape {
        transfers,
        hot_recipients: 0,
        hot_share: 0.0,
        chain_id,
    };
    let transfers = transfer_batch(&mut rng, &keys, BALANCE, shape)
        .into_iter()
        .map(|transfer| transfer.sign(by_key[&transfer.from]))
        .collect();
    Ok(SignedBatch { state, transfers })
}

/// How many rows of a built circuit each gate type occupies, largest first, and the
/// rows that are not `NoopGate` (the circuit's gates before padding to a power of two).
///
/// plonky2 keeps no list of gate instances after `build`, but its selector polynomials
/// (the first `num_selectors` constant polynomials of the prover's
/// `constants_sigmas_commitment`) hold, at every row, the index in `common.gates` of the
/// gate placed there (or `u32::MAX` in the selector groups the gate is not in). Reading
/// them back (one FFT per selector) gives the gate of every row; the padding rows are the
/// `NoopGate` rows. Rows added by `build` itself (constants, the public-input hash) are
/// counted, as they are rows the prover pays for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowCensus {
    /// (gate type, rows), most rows first.
    pub by_gate: Vec<(String, usize)>,
    /// Rows of every gate type but `NoopGate`.
    pub used: usize,
    /// All rows (a power of two).
    pub total: usize,
}

/// The [`RowCensus`] of `data`.
pub fn row_census<F, C, const D: usize>(data: &CircuitData<F, C, D>) -> RowCensus
where
    F: RichField + Extendable<D>,
    C: GenericConfig<D, F = F>,
{
    let common = &data.common;
    let selectors: Vec<Vec<u64>> = data.prover_only.constants_sigmas_commitment.polynomials
        [..common.selectors_info.num_selectors()]
        .iter()
        .map(|coeffs| {
            coeffs
                .clone()
                .fft()
                .values
                .iter()
                .map(|v| v.to_canonical_u64())
                .collect()
        })
        .collect();
    let names: Vec<String> = common.gates.iter().map(|g| gate_name(&g.0.id())).collect();
    census_from_selectors(&selectors, &names, common.degree())
}

/// [`RowCensus`] from selector values (`selectors[g][row]`, a gate index or `u32::MAX`)
/// and the gate names by index.
fn census_from_selectors(selectors: &[Vec<u64>], names: &[String], rows: usize) -> RowCensus {
    let unused = u64::from(u32::MAX);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for row in 0..rows {
        let gate = selectors
            .iter()
            .map(|values| values[row])
            .find(|&v| v != unused)
            .and_then(|v| names.get(v as usize))
            .map_or("unknown", String::as_str);
        *counts.entry(gate).or_default() += 1;
    }
    let mut by_gate: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(name, rows)| (name.to_owned(), rows))
        .collect();
    by_gate.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let noop = by_gate
        .iter()
        .find(|(name, _)| name == "NoopGate")
        .map_or(0, |(_, rows)| *rows);
    RowCensus {
        used: rows - noop,
        total: rows,
        by_gate,
    }
}

/// A gate's type name without its parameters (`ArithmeticGate { num_ops: 20 }` →
/// `ArithmeticGate`), so a census groups by type.
fn gate_name(id: &str) -> String {
    id.split([' ', '{', '<', '('])
        .next()
        .unwrap_or(id)
        .to_owned()
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 if unknown).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// This process's user plus system CPU seconds, all threads included (rayon's too).
pub fn own_cpu_seconds(ticks: f64) -> Option<f64> {
    proc_cpu_seconds(&fs::read_to_string("/proc/self/stat").ok()?, ticks)
}

/// A field of `/proc/self/status` given in kB (`VmHWM`, `VmRSS`), in bytes.
fn status_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim_start_matches(':')
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// This process's peak resident memory (`VmHWM`, what `getrusage` reports as
/// `ru_maxrss`) since it started or since the last [`reset_peak_rss`], in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_bytes(&fs::read_to_string("/proc/self/status").ok()?, "VmHWM")
}

/// This process's resident memory now, in bytes.
pub fn rss_bytes() -> Option<u64> {
    status_bytes(&fs::read_to_string("/proc/self/status").ok()?, "VmRSS")
}

/// Resets the peak that [`peak_rss_bytes`] reads to the current resident memory (writes
/// `5` to `/proc/self/clear_refs`, Linux 4.0+), so that a proof's own peak can be read;
/// `false` where the kernel refuses (then peaks are since the process started).
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The proof kinds of a batch, in the plan's order (`PlanNode::kind`).
pub const KINDS: [&str; 5] = ["chunk", "merge", "range", "top", "wrap"];

/// The kinds whose proofs verify other proofs: recursion, as opposed to the chunk
/// proofs that prove the transfers themselves.
pub fn is_recursion(kind: &str) -> bool {
    kind != "chunk"
}

/// Seconds of one proof.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeTime {
    /// Its kind (one of [`KINDS`]).
    pub kind: &'static str,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// CPU seconds of the process over the same interval (every thread).
    pub cpu_s: f64,
}

/// Totals of a batch's proofs, measured or projected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchTotals {
    /// Wall seconds of every proof, one after the other.
    pub wall_s: f64,
    /// CPU seconds of every proof.
    pub cpu_s: f64,
    /// Wall seconds of the recursive proofs (merge, range, top, wrapper).
    pub recursion_wall_s: f64,
    /// CPU seconds of the recursive proofs.
    pub recursion_cpu_s: f64,
}

impl BatchTotals {
    /// The totals of measured proofs.
    pub fn of(times: &[NodeTime]) -> Self {
        let sum = |f: &dyn Fn(&NodeTime) -> f64| times.iter().map(f).sum::<f64>();
        Self {
            wall_s: sum(&|t| t.wall_s),
            cpu_s: sum(&|t| t.cpu_s),
            recursion_wall_s: sum(&|t| if is_recursion(t.kind) { t.wall_s } else { 0.0 }),
            recursion_cpu_s: sum(&|t| if is_recursion(t.kind) { t.cpu_s } else { 0.0 }),
        }
    }

    /// A plan's totals from per-kind (wall, CPU) seconds of one proof and the plan's count
    /// of nodes per kind; `None` if a kind the plan needs has no time.
    pub fn project(
        per_kind: &HashMap<&str, (f64, f64)>,
        counts: &HashMap<&str, usize>,
    ) -> Option<Self> {
        let mut totals = Self {
            wall_s: 0.0,
            cpu_s: 0.0,
            recursion_wall_s: 0.0,
            recursion_cpu_s: 0.0,
        };
        for (&kind, &count) in counts {
            if count == 0 {
                continue;
            }
            let (wall, cpu) = *per_kind.get(kind)?;
            let n = count as f64;
            totals.wall_s += n * wall;
            totals.cpu_s += n * cpu;
            if is_recursion(kind) {
                totals.recursion_wall_s += n * wall;
                totals.recursion_cpu_s += n * cpu;
            }
        }
        Some(totals)
    }

    /// Share of the wall time spent in recursion.
    pub fn recursion_share(&self) -> f64 {
        self.recursion_wall_s / self.wall_s
    }

    /// Share of the CPU time spent in recursion (what a busy shared machine's waits do
    /// not skew; on an idle machine, below [`Self::recursion_share`] where the small
    /// recursive circuits use the threads less well than the chunks).
    pub fn recursion_cpu_share(&self) -> f64 {
        self.recursion_cpu_s / self.cpu_s
    }

    /// Transfers per core-second: `transfers / (wall seconds × cores used)`, with the cores
    /// used measured as CPU seconds over wall seconds, i.e. `transfers / CPU seconds`.
    pub fn transfers_per_core_second(&self, transfers: usize) -> f64 {
        transfers as f64 / self.cpu_s
    }
}

#[cfg(test)]
mod tests {
    use plonky2::{
        field::types::Field,
        iop::witness::{PartialWitness, WitnessWrite},
        plonk::{
            circuit_builder::CircuitBuilder, circuit_data::CircuitConfig,
            config::PoseidonGoldilocksConfig,
        },
    };
    use rollup_core::field::F;

    use super::*;

    #[test]
    fn the_census_finds_every_gate_and_the_padding() {
        // 3 arithmetic rows of 20 multiplications each, hashed and made public.
        let mut builder = CircuitBuilder::<F, 2>::new(CircuitConfig::standard_recursion_config());
        let x = builder.add_virtual_target();
        let mut acc = x;
        for _ in 0..60 {
            acc = builder.mul(acc, x);
        }
        builder.register_public_input(acc);
        let before_build = builder.num_gates();
        let data = builder.build::<PoseidonGoldilocksConfig>();
        let census = row_census(&data);
        assert_eq!(census.total, data.common.degree());
        let rows = |name: &str| {
            census
                .by_gate
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, r)| *r)
        };
        assert_eq!(rows("ArithmeticGate"), 3);
        assert_eq!(rows("NoopGate"), census.total - census.used);
        assert!(census.used >= before_build && census.used < census.total);
        assert_eq!(
            census.by_gate.iter().map(|(_, r)| r).sum::<usize>(),
            census.total
        );
        // The circuit still proves (the census only read its data).
        let mut pw = PartialWitness::new();
        pw.set_target(x, F::from_canonical_u64(3)).unwrap();
        data.verify(data.prove(pw).unwrap()).unwrap();
    }

    #[test]
    fn census_from_selector_groups() {
        let names: Vec<String> = ["NoopGate", "ConstantGate", "PoseidonGate"]
            .map(String::from)
            .to_vec();
        let u = u64::from(u32::MAX);
        // Two selector groups: {Noop, Constant} and {Poseidon}.
        let selectors = vec![vec![1, u, u, 0], vec![u, 2, 2, u]];
        let census = census_from_selectors(&selectors, &names, 4);
        assert_eq!(census.used, 3);
        assert_eq!(census.by_gate[0], ("PoseidonGate".to_owned(), 2));
        assert_eq!(
            gate_name("ArithmeticGate { num_ops: 20 }"),
            "ArithmeticGate"
        );
        assert_eq!(gate_name("NoopGate"), "NoopGate");
    }

    #[test]
    fn status_fields_and_own_readings() {
        let status = "Name:\tbench\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(status_bytes(status, "VmHWM"), Some(123_456 * 1024));
        assert_eq!(status_bytes(status, "VmRSS"), Some(1_024_000));
        assert_eq!(status_bytes(status, "VmSwap"), None);
        assert!(peak_rss_bytes().unwrap() >= rss_bytes().unwrap() / 2);
        assert!(own_cpu_seconds(clock_ticks()).is_some());
    }

    #[test]
    fn totals_measured_and_projected_agree() {
        let times = [
            NodeTime {
                kind: "chunk",
                wall_s: 4.0,
                cpu_s: 8.0,
            },
            NodeTime {
                kind: "chunk",
                wall_s: 4.0,
                cpu_s: 8.0,
            },
            NodeTime {
                kind: "merge",
                wall_s: 1.0,
                cpu_s: 2.0,
            },
            NodeTime {
                kind: "wrap",
                wall_s: 3.0,
                cpu_s: 6.0,
            },
        ];
        let measured = BatchTotals::of(&times);
        assert_eq!(measured.wall_s, 12.0);
        assert_eq!(measured.recursion_share(), 4.0 / 12.0);
        assert_eq!(measured.recursion_cpu_share(), 8.0 / 24.0);
        assert_eq!(measured.transfers_per_core_second(48), 2.0);
        let per_kind = HashMap::from([
            ("chunk", (4.0, 8.0)),
            ("merge", (1.0, 2.0)),
            ("wrap", (3.0, 6.0)),
        ]);
        let counts = HashMap::from([("chunk", 2), ("merge", 1), ("wrap", 1), ("range", 0)]);
        assert_eq!(BatchTotals::project(&per_kind, &counts), Some(measured));
        let missing = HashMap::from([("top", 1)]);
        assert_eq!(BatchTotals::project(&per_kind, &missing), None);
    }

    #[test]
    fn the_uniform_batch_executes_and_crosses_partitions() {
        let config = TreeConfig::new(16, 2).unwrap();
        let batch = signed_uniform_batch(config, 9, 4, 40, 100, 1).unwrap();
        assert_eq!(batch.transfers.len(), 100);
        for signed in &batch.transfers {
            signed
                .transfer
                .from
                .verify(&signed.transfer.message(), &signed.signature)
                .unwrap();
        }
        let cross = batch
            .transfers
            .iter()
            .filter(|t| {
                partition_of_key(&t.transfer.from, &config)
                    != partition_of_key(&t.transfer.to, &config)
            })
            .count();
        assert!((50..100).contains(&cross), "{cross}");
        // Two partitions of four: every account is in one of them.
        let two = signed_uniform_batch(config, 9, 2, 20, 30, 2).unwrap();
        assert!(two
            .transfers
            .iter()
            .all(|t| partition_of_key(&t.transfer.to, &config) < 2
                && partition_of_key(&t.transfer.from, &config) < 2));
        let plain: Vec<_> = batch.transfers.iter().map(|t| t.transfer).collect();
        batch.state.clone().execute_batch(&plain).unwrap();
    }
}
