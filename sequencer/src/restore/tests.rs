//! The restorer against the sequencer's own executor: batches executed and encoded the way
//! the batcher does it replay into the same state root, and data that could not have been
//! proven is refused.

use rand::{rngs::StdRng, Rng, SeedableRng};
use rollup_core::{
    batch_data::{ChunkData, NewAccountRecord, TransferRecord},
    deposit::Deposit,
    genesis::DEFAULT_CHAIN_ID,
    schnorr::SecretKey,
    token::Token,
    transaction::Transaction,
    transfer::Transfer,
    withdrawal::{L1Address, Withdrawal},
};

use super::*;

fn keys(n: usize) -> Vec<PublicKey> {
    (0..n).map(|_| SecretKey::random().public_key()).collect()
}

/// The calldata of a batch executed on `state`, exactly as the batcher encodes it
/// (`batcher::seal`).
fn execute(
    state: &mut State,
    deposits: &[Deposit],
    transactions: &[Transaction],
) -> (Vec<u8>, Digest, [u64; TOKENS]) {
    let outcome = state.execute(deposits, transactions).unwrap();
    let data = BatchData {
        chunks: outcome
            .chunks()
            .iter()
            .map(|chunk| chunk.data())
            .collect::<rollup_core::Result<_>>()
            .unwrap(),
    }
    .encode()
    .unwrap();
    (data, outcome.new_root, outcome.fees)
}

#[test]
fn genesis_blob_round_trips_and_partial_records_are_refused() {
    let accounts: Vec<GenesisAccount> = keys(3)
        .into_iter()
        .enumerate()
        .map(|(i, public_key)| GenesisAccount {
            public_key,
            balance: u64::MAX - i as u64,
        })
        .collect();
    let blob = genesis_accounts_blob(&accounts);
    assert_eq!(blob.len(), 3 * GENESIS_ACCOUNT_BYTES);
    assert_eq!(&blob[40..48], &u64::MAX.to_be_bytes());
    assert_eq!(parse_genesis_accounts(&blob).unwrap(), accounts);
    assert!(parse_genesis_accounts(&[]).unwrap().is_empty());
    assert!(matches!(
        parse_genesis_accounts(&blob[..blob.len() - 1]),
        Err(Error::Restore(_))
    ));
    let mut bad_key = blob.clone();
    bad_key[..40].fill(0xff);
    assert!(parse_genesis_accounts(&bad_key).is_err());
}

/// The differential test: random batches (deposits of both tokens, new accounts, transfers
/// of both tokens within and across partitions, withdrawals, accounts that receive then
/// send in one batch) executed by the partitioned executor, replayed from their calldata
/// alone.
#[test]
fn replaying_calldata_gives_the_executed_roots() {
    for partition_bits in [0, 2] {
        let config = TreeConfig::new(16, partition_bits).unwrap();
        let funded = keys(6);
        let genesis: Vec<GenesisAccount> = funded
            .iter()
            .map(|&public_key| GenesisAccount {
                public_key,
                balance: 1_000_000,
            })
            .collect();
        let balances: Vec<_> = genesis.iter().map(|a| (a.public_key, a.balance)).collect();
        let mut state = State::genesis(config, &balances).unwrap();
        let mut replayer = Replayer::genesis(config, &genesis).unwrap();
        assert_eq!(replayer.state().unwrap().root(), state.root());

        let mut rng = StdRng::seed_from_u64(u64::from(partition_bits) + 7);
        let mut known = funded.clone();
        let mut nonces: HashMap<PublicKey, u32> = HashMap::new();
        let mut queued = 0;
        for _ in 0..4 {
            // Test tokens enter through deposits only: every funded account gets some, and
            // a new key gets ETH (its deposit creates its account).
            let deposits: Vec<Deposit> = funded
                .iter()
                .map(|&to| (to, Token::TestToken, 5_000))
                .chain([(SecretKey::random().public_key(), Token::Eth, 77)])
                .map(|(to, token, amount)| {
                    queued += 1;
                    Deposit {
                        index: queued - 1,
                        token,
                        to,
                        amount,
                    }
                })
                .collect();
            known.push(deposits.iter().find(|d| d.token == Token::Eth).unwrap().to);
            let mut transactions: Vec<Transaction> = Vec::new();
            for _ in 0..40 {
                // Senders are funded accounts (always solvent); recipients are anyone known
                // or a new key, which creates an account.
                let from = funded[rng.gen_range(0..funded.len())];
                let to = if rng.gen_bool(0.2) {
                    let key = SecretKey::random().public_key();
                    known.push(key);
                    key
                } else {
                    known[rng.gen_range(0..known.len())]
                };
                let nonce = nonces.entry(from).or_default();
                let token = if rng.gen_bool(0.3) {
                    Token::TestToken
                } else {
                    Token::Eth
                };
                let (amount, fee) = (rng.gen_range(1..1000), rng.gen_range(0..20));
                transactions.push(if rng.gen_bool(0.1) {
                    Withdrawal {
                        chain_id: DEFAULT_CHAIN_ID,
                        from,
                        recipient: L1Address(rng.gen()),
                        token,
                        amount,
                        fee,
                        nonce: *nonce,
                    }
                    .into()
                } else {
                    Transfer {
                        chain_id: DEFAULT_CHAIN_ID,
                        from,
                        to,
                        amount,
                        fee,
                        nonce: *nonce,
                        token,
                    }
                    .into()
                });
                *nonce += 1;
            }
            let (data, new_root, fees) = execute(&mut state, &deposits, &transactions);
            let applied = replayer.apply(&data).unwrap();
            assert_eq!(applied.fees, fees);
            assert_eq!(applied.deposits, deposits.len() as u64);
            assert_eq!(replayer.state().unwrap().root(), new_root);
        }
        let rebuilt = replayer.state().unwrap();
        assert_eq!(rebuilt.account_count(), state.account_count());
        for key in &known {
            assert_eq!(rebuilt.account(key), state.account(key));
        }
    }
}

/// A batch whose calldata lists a received-then-spent balance with the debit in an earlier
/// chunk than the credit that funds it still replays: balances are sums.
#[test]
fn record_order_does_not_matter() {
    let config = TreeConfig::new(8, 0).unwrap();
    let [a, b] = [0, 1].map(|_| SecretKey::random().public_key());
    let genesis = [
        GenesisAccount {
            public_key: a,
            balance: 100,
        },
        GenesisAccount {
            public_key: b,
            balance: 0,
        },
    ];
    let mut replayer = Replayer::genesis(config, &genesis).unwrap();
    let chunk = ChunkData {
        transfers: vec![
            // b spends 50 it only receives in the next record.
            TransferRecord {
                token: Token::Eth,
                withdrawal: false,
                from: 1,
                to: 0,
                amount: 40,
                fee: 10,
            },
            TransferRecord {
                token: Token::Eth,
                withdrawal: false,
                from: 0,
                to: 1,
                amount: 50,
                fee: 0,
            },
        ],
        ..ChunkData::default()
    };
    let data = BatchData {
        chunks: vec![chunk],
    }
    .encode()
    .unwrap();
    assert_eq!(replayer.apply(&data).unwrap().fees, [10, 0]);
    let state = replayer.state().unwrap();
    assert_eq!(state.account(&a).unwrap().1.balances, [90, 0]);
    assert_eq!(state.account(&b).unwrap().1.balances, [0, 0]);
    assert_eq!(state.account(&b).unwrap().1.nonce, 1);
}

#[test]
fn data_that_could_not_be_proven_is_refused() {
    let config = TreeConfig::new(8, 0).unwrap();
    let a = SecretKey::random().public_key();
    let genesis = [GenesisAccount {
        public_key: a,
        balance: 100,
    }];
    let batch = |transfers: Vec<TransferRecord>, new_accounts: Vec<NewAccountRecord>| {
        BatchData {
            chunks: vec![ChunkData {
                transfers,
                new_accounts,
                ..ChunkData::default()
            }],
        }
        .encode()
        .unwrap()
    };
    let transfer = |from, to, amount| TransferRecord {
        token: Token::Eth,
        withdrawal: false,
        from,
        to,
        amount,
        fee: 0,
    };
    let fresh = Replayer::genesis(config, &genesis).unwrap();

    let unknown = batch(vec![transfer(0, 5, 1)], vec![]);
    assert!(matches!(
        fresh.clone().apply(&unknown),
        Err(Error::Restore(_))
    ));
    // A self-transfer only pays its fee, here more than the balance.
    let overdraft = batch(
        vec![TransferRecord {
            token: Token::Eth,
            withdrawal: false,
            from: 0,
            to: 0,
            amount: 1,
            fee: 200,
        }],
        vec![],
    );
    assert!(matches!(
        fresh.clone().apply(&overdraft),
        Err(Error::Restore(_))
    ));
    let taken = batch(
        vec![],
        vec![NewAccountRecord {
            index: 0,
            public_key: SecretKey::random().public_key(),
        }],
    );
    assert!(matches!(
        fresh.clone().apply(&taken),
        Err(Error::Restore(_))
    ));
    assert!(matches!(fresh.clone().apply(&[2]), Err(Error::Core(_))));
    // A deposit credited to an account of another key than the one queued on L1.
    let misdirected = BatchData {
        chunks: vec![ChunkData {
            deposits: vec![rollup_core::batch_data::DepositRecord {
                token: Token::TestToken,
                offset: 0,
                index: 0,
                amount: 5,
                public_key: SecretKey::random().public_key(),
            }],
            ..ChunkData::default()
        }],
    }
    .encode()
    .unwrap();
    assert!(matches!(
        fresh.clone().apply(&misdirected),
        Err(Error::Restore(_))
    ));

    // A new account at an index its key's partition does not own is caught when the
    // state is rebuilt.
    let config = TreeConfig::new(8, 2).unwrap();
    let mut replayer = Replayer::genesis(config, &genesis).unwrap();
    let key = SecretKey::random().public_key();
    let wrong_partition = (rollup_core::account::partition_of_key(&key, &config) + 1) % 4;
    // The next free index of that partition (genesis accounts may already hold its first).
    let taken_there = genesis
        .iter()
        .filter(|a| {
            rollup_core::account::partition_of_key(&a.public_key, &config) == wrong_partition
        })
        .count() as u64;
    let misplaced = batch(
        vec![],
        vec![NewAccountRecord {
            index: config.global_index(wrong_partition, taken_there) as u32,
            public_key: key,
        }],
    );
    replayer.apply(&misplaced).unwrap();
    assert!(replayer.state().is_err());
}
