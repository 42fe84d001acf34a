//! Partitioned execution against the sequential reference, on random workloads with hot
//! accounts and cross-partition receive-then-spend chains.

use proptest::prelude::*;

use crate::{
    account::partition_of_key,
    batch_data::ChunkData,
    deposit::Deposit,
    schnorr::{PublicKey, SecretKey},
    state::State,
    token::Token,
    transaction::Transaction,
    transfer::Transfer,
    tree::TreeConfig,
    withdrawal::{L1Address, Withdrawal},
    Error,
};

/// A pool of keys, made once (key generation is the slow part of these tests).
fn key_pool() -> &'static [PublicKey] {
    static KEYS: std::sync::OnceLock<Vec<PublicKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| (0..48).map(|_| SecretKey::random().public_key()).collect())
}

/// A workload step: sender and recipient choices (skewed toward a few hot accounts), an
/// amount as a share of the sender's balance, and the kind: an ETH transfer (0, 1), a
/// test-token transfer (2) or a withdrawal of ETH or the token (3).
#[derive(Clone, Debug)]
struct Step {
    from: usize,
    to: usize,
    share: u8,
    fee: u8,
    kind: u8,
}

fn step() -> impl Strategy<Value = Step> {
    let account = prop_oneof![3 => 0usize..4, 2 => 0usize..48];
    (account.clone(), account, any::<u8>(), 0u8..4, 0u8..4).prop_map(
        |(from, to, share, fee, kind)| Step {
            from,
            to,
            share,
            fee,
            kind,
        },
    )
}

/// A deposit of the workload: recipient (any key of the pool, funded or not), token and
/// amount.
fn deposit() -> impl Strategy<Value = (usize, bool, u64)> {
    (0usize..48, any::<bool>(), 1u64..1_000_000)
}

/// A batch valid in order, with the state before and after it by the sequential reference.
struct Workload {
    genesis: State,
    reference: State,
    deposits: Vec<Deposit>,
    transactions: Vec<Transaction>,
}

/// Turns deposits and steps into a batch that is valid in order, using the sequential
/// reference both to size amounts and to apply them. Only the first 8 keys are funded at
/// genesis (ETH only), so most accounts spend only what they received earlier in the same
/// batch, and test tokens only exist through deposits.
fn build_batch(config: TreeConfig, deposits: &[(usize, bool, u64)], steps: &[Step]) -> Workload {
    let keys = key_pool();
    let genesis: Vec<_> = keys[..8].iter().map(|k| (*k, 1_000_000)).collect();
    let genesis = State::genesis(config, &genesis).unwrap();
    let mut reference = genesis.clone();
    let deposits: Vec<Deposit> = deposits
        .iter()
        .enumerate()
        .map(|(i, &(to, token, amount))| Deposit {
            index: 40 + i as u64,
            token: if token { Token::TestToken } else { Token::Eth },
            to: keys[to],
            amount,
        })
        .collect();
    for deposit in &deposits {
        reference.apply_deposit(deposit).unwrap();
    }
    let mut transactions = Vec::new();
    for step in steps {
        let (from, to) = (keys[step.from], keys[step.to]);
        let Some((_, sender)) = reference.account(&from) else {
            continue;
        };
        let token = if step.kind == 2 || (step.kind == 3 && step.share % 2 == 1) {
            Token::TestToken
        } else {
            Token::Eth
        };
        let fee = u64::from(step.fee);
        let amount = sender.balance(token).saturating_sub(fee) * u64::from(step.share) / 255;
        let transaction: Transaction = if step.kind == 3 {
            Withdrawal {
                chain_id: 7,
                from,
                recipient: L1Address([step.to as u8; 20]),
                token,
                amount,
                fee,
                nonce: sender.nonce,
            }
            .into()
        } else {
            Transfer {
                chain_id: 7,
                from,
                to,
                amount,
                fee,
                nonce: sender.nonce,
                token,
            }
            .into()
        };
        if reference.apply_transaction(&transaction).is_ok() {
            transactions.push(transaction);
        }
    }
    Workload {
        genesis,
        reference,
        deposits,
        transactions,
    }
}

fn check_equivalence(partition_bits: u32, deposits: &[(usize, bool, u64)], steps: &[Step]) {
    let config = TreeConfig::new(20, partition_bits).unwrap();
    let Workload {
        genesis,
        reference,
        deposits,
        transactions,
    } = build_batch(config, deposits, steps);
    let mut partitioned = genesis.clone();
    let outcome = partitioned.execute(&deposits, &transactions).unwrap();

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
    for token in Token::ALL {
        let fees: u64 = transactions
            .iter()
            .map(|t| t.payment())
            .filter(|p| p.token == token)
            .map(|p| p.fee)
            .sum();
        assert_eq!(outcome.fees[token.index()], fees);
    }
    assert_eq!(outcome.deposits, deposits.len());
    // Every record the chunks post decodes back to what was executed.
    let data: Vec<_> = outcome.chunks().iter().map(|c| c.data().unwrap()).collect();
    let posted_deposits: usize = data.iter().map(|d| d.deposits.len()).sum();
    let posted_withdrawals: usize = data.iter().map(|d| d.withdrawals.len()).sum();
    assert_eq!(posted_deposits, deposits.len());
    let withdrawals = transactions
        .iter()
        .filter(|t| matches!(t, Transaction::Withdrawal(_)))
        .count();
    assert_eq!(posted_withdrawals, withdrawals);
    let mut offsets: Vec<u16> = data
        .iter()
        .flat_map(|d| d.deposits.iter().map(|r| r.offset))
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..deposits.len() as u16).collect::<Vec<_>>());
    for chunk in &data {
        assert_eq!(ChunkData::decode(&chunk.encode().unwrap()).unwrap(), *chunk);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn partitioned_execution_equals_sequential_for_1_4_and_16_partitions(
        deposits in prop::collection::vec(deposit(), 0..12),
        steps in prop::collection::vec(step(), 1..120),
    ) {
        for partition_bits in [0, 2, 4] {
            check_equivalence(partition_bits, &deposits, &steps);
        }
    }
}

#[test]
fn deposits_must_be_consecutive_queue_entries() {
    let config = TreeConfig::new(20, 2).unwrap();
    let keys = key_pool();
    let mut state = State::genesis(config, &[(keys[0], 100)]).unwrap();
    let deposit = |index| Deposit {
        index,
        token: Token::TestToken,
        to: keys[1],
        amount: 5,
    };
    assert_eq!(
        state.clone().execute(&[deposit(3), deposit(5)], &[]),
        Err(Error::DepositOutOfOrder {
            expected: 4,
            got: 5
        })
    );
    let outcome = state.execute(&[deposit(3), deposit(4)], &[]).unwrap();
    assert_eq!(outcome.deposits, 2);
    assert_eq!(state.account(&keys[1]).unwrap().1.balances, [0, 10]);
    assert_eq!(outcome.created.len(), 1);
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
            token: Token::Eth,
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
    assert_eq!(state.account(&chain[3]).unwrap().1.balances, [700, 0]);
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
            token: Token::Eth,
            chain_id: 7,
            from: keys[0],
            to: keys[1],
            amount: 60,
            fee: 0,
            nonce: 0,
        },
        Transfer {
            token: Token::Eth,
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
