//! Partitioned execution against the sequential reference, on random workloads with hot
//! accounts and cross-partition receive-then-spend chains.

use proptest::prelude::*;

use crate::{
    account::partition_of_key, schnorr::PublicKey, schnorr::SecretKey, state::State,
    transfer::Transfer, tree::TreeConfig, Error,
};

/// A pool of keys, made once (key generation is the slow part of these tests).
fn key_pool() -> &'static [PublicKey] {
    static KEYS: std::sync::OnceLock<Vec<PublicKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| (0..48).map(|_| SecretKey::random().public_key()).collect())
}

/// A workload step: sender and recipient choices (skewed toward a few hot accounts) and an
/// amount as a share of the sender's balance.
#[derive(Clone, Debug)]
struct Step {
    from: usize,
    to: usize,
    share: u8,
    fee: u8,
}

fn step() -> impl Strategy<Value = Step> {
    let account = prop_oneof![3 => 0usize..4, 2 => 0usize..48];
    (account.clone(), account, any::<u8>(), 0u8..4).prop_map(|(from, to, share, fee)| Step {
        from,
        to,
        share,
        fee,
    })
}

/// Turns steps into a batch that is valid in order, using the sequential reference both to
/// size amounts and to apply them. Only the first 8 keys are funded at genesis, so most
/// accounts spend only what they received earlier in the same batch.
fn build_batch(config: TreeConfig, steps: &[Step]) -> (State, State, Vec<Transfer>) {
    let keys = key_pool();
    let genesis: Vec<_> = keys[..8].iter().map(|k| (*k, 1_000_000)).collect();
    let genesis = State::genesis(config, &genesis).unwrap();
    let mut reference = genesis.clone();
    let mut transfers = Vec::new();
    for step in steps {
        let (from, to) = (keys[step.from], keys[step.to]);
        let Some((_, sender)) = reference.account(&from) else {
            continue;
        };
        let fee = u64::from(step.fee);
        let amount = sender.balance.saturating_sub(fee) * u64::from(step.share) / 255;
        let transfer = Transfer {
            chain_id: 7,
            from,
            to,
            amount,
            fee,
            nonce: sender.nonce,
        };
        if reference.apply_transfer(&transfer).is_ok() {
            transfers.push(transfer);
        }
    }
    (genesis, reference, transfers)
}

fn check_equivalence(partition_bits: u32, steps: &[Step]) {
    let config = TreeConfig::new(20, partition_bits).unwrap();
    let (genesis, reference, transfers) = build_batch(config, steps);
    let mut partitioned = genesis.clone();
    let outcome = partitioned.execute_batch(&transfers).unwrap();

    assert_eq!(outcome.old_root, genesis.root());
    assert_eq!(outcome.new_root, reference.root());
    assert_eq!(partitioned.root(), reference.root());
    for key in key_pool() {
        assert_eq!(partitioned.account(key), reference.account(key));
    }
    for (p, root) in outcome.partition_roots.iter().enumerate() {
        assert_eq!(*root, reference.tree().partition_root(p).unwrap());
    }
    let created: Vec<_> = key_pool()
        .iter()
        .filter(|k| genesis.account(k).is_none())
        .filter_map(|k| reference.account(k).map(|(i, _)| (i, *k)))
        .collect();
    let mut created_sorted = created.clone();
    created_sorted.sort_unstable_by_key(|&(index, _)| index);
    assert_eq!(outcome.created, created_sorted);
    assert_eq!(outcome.fees, transfers.iter().map(|t| t.fee).sum::<u64>());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn partitioned_execution_equals_sequential_for_1_4_and_16_partitions(steps in prop::collection::vec(step(), 1..120)) {
        for partition_bits in [0, 2, 4] {
            check_equivalence(partition_bits, &steps);
        }
    }
}

#[test]
fn a_cross_partition_receive_then_spend_chain_executes() {
    let config = TreeConfig::new(20, 4).unwrap();
    let keys = key_pool();
    // Pick a chain of keys hopping across partitions: k0 -> k1 -> k2 -> k3, each in a
    // partition other than the previous one's.
    let mut chain = vec![keys[0]];
    for key in &keys[8..] {
        if partition_of_key(key, &config) != partition_of_key(chain.last().unwrap(), &config) {
            chain.push(*key);
        }
        if chain.len() == 4 {
            break;
        }
    }
    let mut state = State::genesis(config, &[(chain[0], 1_000)]).unwrap();
    let transfers: Vec<_> = chain
        .windows(2)
        .enumerate()
        .map(|(hop, pair)| Transfer {
            chain_id: 7,
            from: pair[0],
            to: pair[1],
            amount: 900 - 100 * hop as u64,
            fee: 10,
            nonce: 0,
        })
        .collect();
    let mut reference = state.clone();
    for transfer in &transfers {
        reference.apply_transfer(transfer).unwrap();
    }
    let outcome = state.execute_batch(&transfers).unwrap();
    assert_eq!(outcome.new_root, reference.root());
    assert_eq!(outcome.created.len(), 3);
    assert_eq!(state.account(&chain[3]).unwrap().1.balance, 700);
    let cross_messages = outcome
        .sent_chains
        .iter()
        .flatten()
        .filter(|c| !c.elements().iter().all(|e| *e == Default::default()))
        .count();
    assert_eq!(cross_messages, 3, "three hops, three non-empty chains");
}

#[test]
fn an_invalid_batch_fails_and_leaves_the_state_untouched() {
    let config = TreeConfig::new(20, 2).unwrap();
    let keys = key_pool();
    let mut state = State::genesis(config, &[(keys[0], 100)]).unwrap();
    let before = state.clone();
    let overspend = [
        Transfer {
            chain_id: 7,
            from: keys[0],
            to: keys[1],
            amount: 60,
            fee: 0,
            nonce: 0,
        },
        Transfer {
            chain_id: 7,
            from: keys[0],
            to: keys[2],
            amount: 60,
            fee: 0,
            nonce: 1,
        },
    ];
    assert!(matches!(
        state.execute_batch(&overspend),
        Err(Error::InsufficientBalance { .. })
    ));
    let replay = [overspend[0], overspend[0]];
    assert!(matches!(
        state.execute_batch(&replay),
        Err(Error::NonceMismatch { .. })
    ));
    let unknown = [Transfer {
        from: keys[3],
        ..overspend[0]
    }];
    assert!(matches!(
        state.execute_batch(&unknown),
        Err(Error::UnknownAccount { .. })
    ));
    assert_eq!(state.root(), before.root());
    assert_eq!(state.account_count(), before.account_count());
    assert_eq!(state.account(&keys[0]), before.account(&keys[0]));
}
