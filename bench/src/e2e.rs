//! Pieces of the end-to-end load benchmark (`e2e_bench`) that need no running service:
//! the submission-ordered workloads, and reading the sequencer's Prometheus text and its
//! CPU time from `/proc`.
//!
//! Workloads are built in *rounds*: in each round every active sender submits its next
//! transfer (funded accounts: nonce `r` in round `r`), senders shuffled within the round. Submitting the list in order,
//! split among concurrent clients, therefore keeps each sender's nonces thousands of
//! transfers apart: concurrent requests can't overtake one another by a whole round, so
//! nonces arrive in order and the load measures the sequencer, not the mempool's
//! future-nonce queue.

use rollup_core::{schnorr::PublicKey, transfer::Transfer};

use crate::workload::SplitMix64;

/// Hot recipients of the `hot` workload (an exchange, a merchant): contention on a few
/// accounts and partitions.
pub const HOT_RECIPIENTS: usize = 8;
/// Share of the `hot` workload's transfers sent to the hot recipients.
pub const HOT_SHARE: f64 = 0.2;
/// Share of the `hot` workload's transfers that fund a fresh (non-genesis) account, which
/// spends some rounds later (see [`rounds_workload`]): accounts created by the load itself.
pub const FRESH_SHARE: f64 = 0.05;
/// What a fresh account receives: enough for every later round's spend.
pub const FRESH_FUNDING: u64 = 1_000_000;

/// How a workload picks recipients: the contention it puts on accounts and partitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contention {
    /// Hot recipients (the first funded keys): contention on a few accounts.
    pub hot_recipients: usize,
    /// Share of transfers sent to a hot recipient.
    pub hot_share: f64,
    /// Share of a genesis sender's transfers that fund a fresh account, which spends some
    /// rounds later (receive-then-spend; see [`RoundsSpec::spend_after`]).
    pub fresh_share: f64,
    /// Share of the other transfers (neither hot nor funding) whose recipient is in another
    /// partition than the sender; `None` leaves it to the uniform draw ((P-1)/P of them).
    /// A sender alone in its partition among the funded accounts always sends across.
    pub cross_partition_share: Option<f64>,
}

impl Contention {
    /// Uniform recipients among the funded accounts.
    pub const UNIFORM: Self = Self {
        hot_recipients: 0,
        hot_share: 0.0,
        fresh_share: 0.0,
        cross_partition_share: None,
    };
    /// [`HOT_SHARE`] to [`HOT_RECIPIENTS`], [`FRESH_SHARE`] funding fresh accounts.
    pub const HOT: Self = Self {
        hot_recipients: HOT_RECIPIENTS,
        hot_share: HOT_SHARE,
        fresh_share: FRESH_SHARE,
        cross_partition_share: None,
    };
}

/// Which transfer pattern a run submits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// Uniform random recipients among the funded accounts ([`Contention::UNIFORM`]).
    Uniform,
    /// [`Contention::HOT`]: hot recipients plus receive-then-spend of fresh accounts.
    Hot,
    /// A contention given on the command line.
    Custom(Contention),
}

impl Shape {
    /// The name used in progress lines and as the metric suffix (`""` for uniform, whose
    /// metrics carry the plain names).
    pub fn name(self) -> &'static str {
        match self {
            Shape::Uniform => "uniform",
            Shape::Hot => "hot",
            Shape::Custom(_) => "custom",
        }
    }

    /// The suffix of this workload's metric names.
    pub fn suffix(self) -> &'static str {
        match self {
            Shape::Uniform => "",
            Shape::Hot => "_hot",
            Shape::Custom(_) => "_custom",
        }
    }

    /// How its recipients are picked.
    pub fn contention(self) -> Contention {
        match self {
            Shape::Uniform => Contention::UNIFORM,
            Shape::Hot => Contention::HOT,
            Shape::Custom(contention) => contention,
        }
    }
}

/// What [`rounds_workload`] builds.
#[derive(Clone, Copy, Debug)]
pub struct RoundsSpec {
    /// Transfers to build.
    pub count: usize,
    /// The recipients' pattern.
    pub shape: Shape,
    /// The first `funded` keys are funded at genesis; the others are fresh.
    pub funded: usize,
    /// Genesis balance of each funded key.
    pub balance: u64,
    /// A fresh account spends from the first round that starts this many transfers or
    /// more after its funding. Make it well above the transfers in flight at once, so
    /// that concurrent requests never get a spend admitted before its funding.
    pub spend_after: usize,
    /// Chain id written into every transfer.
    pub chain_id: u64,
}

/// `spec.count` transfers in submission order (see the module docs), valid in that order
/// against `keys[..spec.funded]` funded with `spec.balance` each (and nonces 0);
/// `keys[spec.funded..]` are the fresh accounts a shape with a `fresh_share` funds and
/// then spends from. `partitions[i]` is the partition of `keys[i]`, needed (for the
/// funded keys) only by a contention with a `cross_partition_share`.
///
/// Amounts are 1..=1000 with fee 1 (all exactly packable for L1); every debit is checked
/// against the tracked balance as the list is built.
pub fn rounds_workload(
    rng: &mut SplitMix64,
    keys: &[PublicKey],
    partitions: &[usize],
    spec: RoundsSpec,
) -> Vec<Transfer> {
    let RoundsSpec {
        count,
        shape,
        funded,
        balance,
        spend_after,
        chain_id,
    } = spec;
    let contention = shape.contention();
    assert!(funded >= 2 && funded <= keys.len() && contention.hot_recipients <= funded);
    let mut funded_in_partition: std::collections::HashMap<usize, usize> = Default::default();
    if contention.cross_partition_share.is_some() {
        for &partition in &partitions[..funded] {
            *funded_in_partition.entry(partition).or_default() += 1;
        }
    }
    if let Some(share) = contention.cross_partition_share {
        assert!(partitions.len() >= funded, "the funded keys' partitions");
        let first = partitions[0];
        assert!(
            share == 0.0 || partitions[..funded].iter().any(|&p| p != first),
            "cross-partition transfers need funded keys in two partitions"
        );
    }
    let mut balances: Vec<u64> = (0..keys.len())
        .map(|i| if i < funded { balance } else { 0 })
        .collect();
    let mut nonces = vec![0u32; keys.len()];
    // The position from which each fresh account spends (`None`: not funded yet).
    let mut spends_from: Vec<Option<usize>> = vec![None; keys.len()];
    let mut next_fresh = funded;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut senders: Vec<usize> = (0..keys.len())
            .filter(|&i| i < funded || spends_from[i].is_some_and(|from| from <= out.len()))
            .collect();
        // Fisher-Yates: a fresh order of senders in every round.
        for i in (1..senders.len()).rev() {
            senders.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for from in senders {
            if out.len() == count {
                break;
            }
            // Whether an ordinary recipient must be in another partition (decided once per
            // transfer, then drawn until one fits). A sender with no funded peer in its
            // partition can only send across.
            let cross = contention
                .cross_partition_share
                .map(|share| rng.chance(share) || funded_in_partition[&partitions[from]] < 2);
            let (to, amount) = loop {
                let pick = if contention.hot_recipients > 0 && rng.chance(contention.hot_share) {
                    (rng.below(contention.hot_recipients as u64) as usize, None)
                } else if from < funded
                    && next_fresh < keys.len()
                    && contention.fresh_share > 0.0
                    && rng.chance(contention.fresh_share)
                {
                    // Only genesis accounts are rich enough to fund fresh ones.
                    (next_fresh, Some(FRESH_FUNDING))
                } else {
                    let to = rng.below(funded as u64) as usize;
                    if cross.is_some_and(|cross| (partitions[to] != partitions[from]) != cross) {
                        continue;
                    }
                    (to, None)
                };
                if pick.0 != from {
                    break pick;
                }
            };
            let amount = amount.unwrap_or_else(|| 1 + rng.below(1000));
            if to == next_fresh {
                spends_from[to] = Some(out.len() + spend_after);
                next_fresh += 1;
            }
            let fee = 1;
            balances[from] = balances[from]
                .checked_sub(amount + fee)
                .expect("the funded balances cover the workload");
            balances[to] += amount;
            out.push(Transfer {
                token: rollup_core::token::Token::Eth,
                chain_id,
                from: keys[from],
                to: keys[to],
                amount,
                fee,
                nonce: nonces[from],
            });
            nonces[from] += 1;
        }
    }
    out
}

/// The value of an unlabelled sample `name` in a Prometheus text exposition (e.g.
/// `sequencer_signature_seconds_sum`), `None` if absent or unparsable.
pub fn prometheus_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (metric, value) = line.split_once(' ')?;
            (metric == name).then(|| value.trim().parse().ok())?
        })
}

/// User plus system CPU seconds of a process, from the text of its `/proc/<pid>/stat`
/// (fields 14 and 15, in clock ticks of `ticks_per_second`).
pub fn proc_cpu_seconds(stat: &str, ticks_per_second: f64) -> Option<f64> {
    // The command name (field 2) is parenthesised and may hold spaces: split after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `fields[0]` is field 3 (state), so utime (14) and stime (15) are 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks_per_second)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rollup_core::{state::State, tree::TreeConfig};

    use super::*;

    fn keys(n: usize) -> Vec<PublicKey> {
        let mut rng = SplitMix64::new(3);
        (0..n).map(|_| rng.secret_key().public_key()).collect()
    }

    fn spec(count: usize, shape: Shape, funded: usize) -> RoundsSpec {
        RoundsSpec {
            count,
            shape,
            funded,
            balance: 1 << 30,
            spend_after: 100,
            chain_id: 5,
        }
    }

    /// Executes `transfers` in order on a genesis of `keys[..funded]`, and checks nonces
    /// rise by one per sender.
    fn check_valid_in_order(keys: &[PublicKey], funded: usize, transfers: &[Transfer]) {
        let mut next: HashMap<PublicKey, u32> = HashMap::new();
        for t in transfers {
            let nonce = next.entry(t.from).or_default();
            assert_eq!(t.nonce, *nonce);
            *nonce += 1;
            assert_ne!(t.from, t.to);
        }
        let genesis: Vec<(PublicKey, u64)> = keys[..funded].iter().map(|&k| (k, 1 << 30)).collect();
        let mut state = State::genesis(TreeConfig::default(), &genesis).unwrap();
        state
            .execute_batch(transfers)
            .expect("the workload is valid in order");
    }

    #[test]
    fn uniform_rounds_give_every_sender_one_transfer_per_round() {
        let keys = keys(20);
        let mut rng = SplitMix64::new(1);
        let transfers = rounds_workload(&mut rng, &keys, &[], spec(95, Shape::Uniform, 20));
        assert_eq!(transfers.len(), 95);
        // Round r holds exactly the nonce-r transfers of all 20 senders.
        for (round, chunk) in transfers.chunks(20).enumerate() {
            assert!(chunk.iter().all(|t| t.nonce as usize == round));
        }
        check_valid_in_order(&keys, 20, &transfers);
    }

    #[test]
    fn hot_rounds_fund_fresh_accounts_that_spend_later() {
        let keys = keys(60);
        let funded = 40;
        let mut rng = SplitMix64::new(2);
        let transfers = rounds_workload(&mut rng, &keys, &[], spec(600, Shape::Hot, funded));
        let hot = transfers
            .iter()
            .filter(|t| keys[..HOT_RECIPIENTS].contains(&t.to))
            .count();
        assert!(hot > 600 / 10, "{hot}");
        let fresh = &keys[funded..];
        let first_spend = transfers.iter().position(|t| fresh.contains(&t.from));
        let first_funding = transfers
            .iter()
            .position(|t| fresh.contains(&t.to))
            .expect("fresh accounts get funded");
        let first_spend = first_spend.expect("fresh accounts spend");
        assert!(first_spend - first_funding >= 100);
        check_valid_in_order(&keys, funded, &transfers);
    }

    #[test]
    fn the_cross_partition_share_is_what_was_asked() {
        let keys = keys(256);
        let config = TreeConfig::default();
        let partitions: Vec<usize> = keys
            .iter()
            .map(|k| rollup_core::account::partition_of_key(k, &config))
            .collect();
        let crossing = |transfers: &[Transfer]| {
            let index = |key: &PublicKey| keys.iter().position(|k| k == key).unwrap();
            transfers
                .iter()
                .filter(|t| partitions[index(&t.from)] != partitions[index(&t.to)])
                .count() as f64
                / transfers.len() as f64
        };
        for share in [0.0, 0.3, 1.0] {
            let shape = Shape::Custom(Contention {
                cross_partition_share: Some(share),
                ..Contention::UNIFORM
            });
            let mut rng = SplitMix64::new(7);
            let transfers = rounds_workload(&mut rng, &keys, &partitions, spec(2_000, shape, 64));
            let measured = crossing(&transfers);
            assert!(
                (measured - share).abs() < 0.05,
                "asked {share}, got {measured}"
            );
            check_valid_in_order(&keys, 64, &transfers);
        }
        // Hot recipients with a custom share and count.
        let shape = Shape::Custom(Contention {
            hot_recipients: 2,
            hot_share: 0.5,
            ..Contention::UNIFORM
        });
        let mut rng = SplitMix64::new(8);
        let transfers = rounds_workload(&mut rng, &keys, &[], spec(2_000, shape, 64));
        let hot = transfers
            .iter()
            .filter(|t| keys[..2].contains(&t.to))
            .count() as f64;
        assert!((hot / 2_000.0 - 0.5).abs() < 0.05, "{hot}");
    }

    #[test]
    fn reads_prometheus_samples_and_proc_stat() {
        let text = "# HELP sequencer_x help\n# TYPE sequencer_x counter\nsequencer_x 42\n\
                    sequencer_y_sum 1.5\nsequencer_y_count 3\n\
                    sequencer_rejected_total{reason=\"duplicate\"} 2\n";
        assert_eq!(prometheus_value(text, "sequencer_x"), Some(42.0));
        assert_eq!(prometheus_value(text, "sequencer_y_sum"), Some(1.5));
        assert_eq!(prometheus_value(text, "sequencer_y"), None);

        let stat = "1234 (my proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(proc_cpu_seconds(stat, 100.0), Some(3.0));
        assert_eq!(proc_cpu_seconds("garbage", 100.0), None);
    }
}
