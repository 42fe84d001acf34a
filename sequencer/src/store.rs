//! Postgres storage of the sequencer: the chain's genesis, the journal of acknowledged
//! transfers, sealed batches with their account states, and the reads the API needs.
//!
//! Every multi-row write is one statement over `UNNEST`ed arrays (bulk, not row by row),
//! and a sealed batch is written in one database transaction.

use rollup_core::{
    account::Account,
    batch_data::DataCommitment,
    deposit::Deposit,
    genesis::Genesis,
    hash::Digest,
    schema::{deposit_from_row, transaction_from_row, DEPOSIT_COLUMNS, TRANSACTION_COLUMNS},
    schnorr::PublicKey,
    state::State,
    token::{Token, TOKENS},
    transaction::{SignedTransaction, Transaction},
};
use sqlx::{PgPool, Row};

use crate::{mempool::Entry, Error, Result};

/// A batch ready to be stored: everything its row, its transfers and its accounts need.
#[derive(Clone, Debug)]
pub struct SealedBatch {
    /// Its number (consecutive from 1).
    pub number: u64,
    /// State root before.
    pub old_root: Digest,
    /// State root after.
    pub new_root: Digest,
    /// The transfers' (and withdrawals') hashes in execution order.
    pub transfers: Vec<Digest>,
    /// The queue indices of the L1 deposits it consumed, in order.
    pub deposits: Vec<u64>,
    /// The final state of every account it touched, by global index.
    pub accounts: Vec<(u64, Account)>,
    /// Total fees, per token.
    pub fees: [u64; TOKENS],
    /// The L1 calldata.
    pub data: Vec<u8>,
    /// Keccak-256 of the calldata.
    pub data_commitment: DataCommitment,
}

/// A stored batch, as the API shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchRecord {
    /// Its number.
    pub number: u64,
    /// State root before.
    pub old_root: Digest,
    /// State root after.
    pub new_root: Digest,
    /// Keccak-256 of its calldata.
    pub data_commitment: DataCommitment,
    /// Number of transfers.
    pub size: u32,
    /// Calldata bytes.
    pub data_bytes: u32,
    /// Total ETH fees.
    #[serde(serialize_with = "as_decimal")]
    pub fees: u64,
    /// Total test-token fees.
    #[serde(serialize_with = "as_decimal")]
    pub token_fees: u64,
    /// When it was sealed (RFC 3339).
    pub sealed_at: String,
    /// How far it got after execution.
    #[serde(rename = "status")]
    pub stage: BatchStage,
    /// The confirmed L1 transaction that verified it (`0x` hex), once `verified`.
    pub l1_tx_hash: Option<String>,
}

/// How far a sealed batch got: executed when sealed, proven once the prover stored its
/// final (wrapper) proof, verified once the settlement module saw its `commitBatch`
/// transaction confirmed on L1 (its withdrawals can then be claimed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStage {
    /// Sealed and stored.
    Executed,
    /// Its wrapper proof is stored.
    Proven,
    /// L1 verified its proof and moved the state root (confirmed to the settlement module's
    /// depth).
    Verified,
}

impl BatchStage {
    fn of(proven: bool, verified: bool) -> Self {
        match (proven, verified) {
            (_, true) => Self::Verified,
            (true, false) => Self::Proven,
            (false, false) => Self::Executed,
        }
    }

    /// The stage's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Executed => "executed",
            Self::Proven => "proven",
            Self::Verified => "verified",
        }
    }
}

/// Where a stored transfer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredStatus {
    /// Acknowledged, not yet in a batch.
    Pending,
    /// In a sealed batch at a position.
    Executed {
        /// The batch.
        batch: u64,
        /// Its position in the batch.
        position: u32,
        /// How far the batch got.
        stage: BatchStage,
    },
    /// Acknowledged, then refused.
    Rejected {
        /// Machine-readable reason.
        reason: String,
        /// Explanation.
        message: String,
    },
}

fn as_decimal<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// u64 values are stored bit-for-bit in BIGINT.
fn to_db(value: u64) -> i64 {
    value as i64
}

fn from_db(value: i64) -> u64 {
    value as u64
}

fn digest(bytes: &[u8]) -> Result<Digest> {
    Digest::from_bytes(bytes).map_err(|e| Error::Corrupt(format!("stored digest: {e}")))
}

fn key(bytes: &[u8]) -> Result<PublicKey> {
    PublicKey::from_bytes(bytes).map_err(|e| Error::Corrupt(format!("stored public key: {e}")))
}

/// The sequencer's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: PgPool,
}

impl Store {
    /// Wraps a migrated pool.
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    /// The pool (for health checks).
    pub fn pool(&self) -> &PgPool {
        &self.db
    }

    /// Records the genesis on a new database, or checks that an existing database belongs
    /// to the same chain (same chain id, tree shape and genesis root).
    pub async fn init_chain(&self, genesis: &Genesis) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let existing =
            sqlx::query("SELECT chain_id, tree_depth, partition_bits, genesis_root FROM chain")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            let stored = (
                from_db(row.get("chain_id")),
                row.get::<i32, _>("tree_depth") as u32,
                row.get::<i32, _>("partition_bits") as u32,
                digest(row.get("genesis_root"))?,
            );
            let expected = (
                genesis.chain_id,
                genesis.tree.depth(),
                genesis.tree.partition_bits(),
                genesis.state_root,
            );
            if stored != expected {
                return Err(Error::GenesisMismatch(format!(
                    "the database holds chain {} (depth {}, {} partition bits, genesis root {}), the genesis file is chain {} (depth {}, {} partition bits, root {})",
                    stored.0, stored.1, stored.2, stored.3, expected.0, expected.1, expected.2, expected.3
                )));
            }
            return Ok(());
        }
        sqlx::query("INSERT INTO chain (chain_id, tree_depth, partition_bits, genesis_root) VALUES ($1, $2, $3, $4)")
            .bind(to_db(genesis.chain_id))
            .bind(genesis.tree.depth() as i32)
            .bind(genesis.tree.partition_bits() as i32)
            .bind(genesis.state_root.to_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        let state = genesis.state()?;
        let accounts: Vec<(u64, Account)> = genesis
            .accounts
            .iter()
            .map(|a| {
                state
                    .account(&a.public_key)
                    .map(|(index, account)| (index, *account))
                    .expect("genesis account")
            })
            .collect();
        upsert_accounts(&mut tx, &accounts, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds the state from the stored accounts and checks its root against the newest
    /// batch's (or the genesis root). Returns the state and the newest batch number.
    pub async fn load_state(&self, genesis: &Genesis) -> Result<(State, u64)> {
        let rows =
            sqlx::query("SELECT index, public_key, balance, token_balance, nonce FROM accounts")
                .fetch_all(&self.db)
                .await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            let account = Account {
                public_key: key(row.get("public_key"))?,
                balances: [
                    from_db(row.get("balance")),
                    from_db(row.get("token_balance")),
                ],
                nonce: row.get::<i64, _>("nonce") as u32,
            };
            accounts.push((from_db(row.get("index")), account));
        }
        let state = State::from_accounts(genesis.tree, accounts)?;
        let latest =
            sqlx::query("SELECT number, new_root FROM batches ORDER BY number DESC LIMIT 1")
                .fetch_optional(&self.db)
                .await?;
        let (number, expected) = match latest {
            Some(row) => (from_db(row.get("number")), digest(row.get("new_root"))?),
            None => (0, genesis.state_root),
        };
        if state.root() != expected {
            return Err(Error::RootMismatch {
                batch: number,
                stored: expected,
                rebuilt: state.root(),
            });
        }
        Ok((state, number))
    }

    /// The sequence number the next admitted transfer gets.
    pub async fn next_seq(&self) -> Result<u64> {
        let max: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM transfers")
            .fetch_one(&self.db)
            .await?;
        Ok(max.map_or(1, |seq| seq as u64 + 1))
    }

    /// Up to `max` deposits of the L1 queue from index `next` on, consecutive and not yet
    /// consumed, in queue order: what the next batch credits first.
    pub async fn next_deposits(&self, next: u64, max: usize) -> Result<Vec<Deposit>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEPOSIT_COLUMNS} FROM deposits
             WHERE batch_number IS NULL AND queue_index >= $1
             ORDER BY queue_index LIMIT $2"
        )))
        .bind(to_db(next))
        .bind(max as i64)
        .fetch_all(&self.db)
        .await?;
        let mut deposits = Vec::with_capacity(rows.len());
        for row in &rows {
            let deposit = deposit_from_row(row).map_err(Error::Corrupt)?;
            // A gap (a deposit not seen yet) ends the run: the queue is consumed in order.
            if deposit.index != next + deposits.len() as u64 {
                break;
            }
            deposits.push(deposit);
        }
        Ok(deposits)
    }

    /// The queue index of the first deposit no stored batch consumed.
    pub async fn next_deposit_index(&self) -> Result<u64> {
        let consumed: i64 =
            sqlx::query_scalar("SELECT coalesce(sum(deposit_count), 0)::bigint FROM batches")
                .fetch_one(&self.db)
                .await?;
        Ok(consumed as u64)
    }

    /// Acknowledged transfers and withdrawals not yet executed nor rejected, in admission
    /// order.
    pub async fn pending_transfers(&self) -> Result<Vec<(u64, SignedTransaction)>> {
        // The column list is a constant: nothing user-supplied reaches the SQL text.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.seq, {TRANSACTION_COLUMNS}
             FROM transfers t
             WHERE NOT EXISTS (SELECT 1 FROM batch_transfers b WHERE b.hash = t.hash)
               AND NOT EXISTS (SELECT 1 FROM rejected_transfers r WHERE r.hash = t.hash)
             ORDER BY t.seq"
        )))
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|row| {
                let transaction = transaction_from_row(row).map_err(Error::Corrupt)?;
                Ok((row.get::<i64, _>("seq") as u64, transaction))
            })
            .collect()
    }

    /// Journals acknowledged transfers (one bulk statement).
    pub async fn insert_transfers(&self, entries: &[Entry]) -> Result<()> {
        let mut columns = TransferColumns::default();
        for entry in entries {
            columns.push(entry);
        }
        sqlx::query(
            "INSERT INTO transfers (hash, seq, chain_id, from_key, to_key, amount, fee, nonce, signature,
                                    token, kind, recipient)
             SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[],
                                  $6::bigint[], $7::bigint[], $8::bigint[], $9::bytea[], $10::smallint[],
                                  $11::smallint[], $12::bytea[])",
        )
        .bind(&columns.hash)
        .bind(&columns.seq)
        .bind(&columns.chain_id)
        .bind(&columns.from)
        .bind(&columns.to)
        .bind(&columns.amount)
        .bind(&columns.fee)
        .bind(&columns.nonce)
        .bind(&columns.signature)
        .bind(&columns.token)
        .bind(&columns.kind)
        .bind(&columns.recipient)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Writes a sealed batch, its transfers' positions and its accounts in one transaction.
    pub async fn store_batch(&self, batch: &SealedBatch) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO batches (number, old_root, new_root, data_commitment, data, transfer_count,
                                  fees, token_fees, deposit_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(to_db(batch.number))
        .bind(batch.old_root.to_bytes().to_vec())
        .bind(batch.new_root.to_bytes().to_vec())
        .bind(batch.data_commitment.as_bytes().to_vec())
        .bind(&batch.data)
        .bind(batch.transfers.len() as i32)
        .bind(to_db(batch.fees[Token::Eth.index()]))
        .bind(to_db(batch.fees[Token::TestToken.index()]))
        .bind(batch.deposits.len() as i32)
        .execute(&mut *tx)
        .await?;
        if let (Some(&first), Some(&last)) = (batch.deposits.first(), batch.deposits.last()) {
            // Only unconsumed rows: a deposit can never be consumed twice.
            let marked = sqlx::query(
                "UPDATE deposits SET batch_number = $1
                 WHERE queue_index BETWEEN $2 AND $3 AND batch_number IS NULL",
            )
            .bind(to_db(batch.number))
            .bind(to_db(first))
            .bind(to_db(last))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked != batch.deposits.len() as u64 {
                return Err(Error::Corrupt(format!(
                    "batch {} consumes deposits {first}..={last}, of which {marked} were unconsumed",
                    batch.number
                )));
            }
        }
        let positions: Vec<i32> = (0..batch.transfers.len() as i32).collect();
        let hashes: Vec<Vec<u8>> = batch
            .transfers
            .iter()
            .map(|h| h.to_bytes().to_vec())
            .collect();
        sqlx::query(
            "INSERT INTO batch_transfers (batch_number, position, hash)
             SELECT $1, * FROM UNNEST($2::int[], $3::bytea[])",
        )
        .bind(to_db(batch.number))
        .bind(&positions)
        .bind(&hashes)
        .execute(&mut *tx)
        .await?;
        upsert_accounts(&mut tx, &batch.accounts, batch.number).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records acknowledged transfers that turned out not executable.
    pub async fn reject(&self, rejected: &[(Digest, &str, String)]) -> Result<()> {
        let hashes: Vec<Vec<u8>> = rejected
            .iter()
            .map(|(h, _, _)| h.to_bytes().to_vec())
            .collect();
        let reasons: Vec<&str> = rejected.iter().map(|(_, r, _)| *r).collect();
        let messages: Vec<&str> = rejected.iter().map(|(_, _, m)| m.as_str()).collect();
        sqlx::query(
            "INSERT INTO rejected_transfers (hash, reason, message)
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[]) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hashes)
        .bind(&reasons)
        .bind(&messages)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// A stored transfer's status, `None` if it was never acknowledged.
    pub async fn transfer_status(&self, hash: &Digest) -> Result<Option<StoredStatus>> {
        // Proven: the prover stored the batch's final proof (prover_jobs, migration 0002);
        // verified: settlement saw its L1 transaction confirmed (l1_transactions, 0003).
        let row = sqlx::query(
            "SELECT b.batch_number, b.position, r.reason, r.message,
                    EXISTS (SELECT 1 FROM prover_jobs j WHERE j.batch_number = b.batch_number
                            AND j.is_final AND j.status = 'done') AS proven,
                    EXISTS (SELECT 1 FROM l1_transactions l WHERE l.batch_number = b.batch_number
                            AND l.status = 'confirmed') AS verified
             FROM transfers t
             LEFT JOIN batch_transfers b ON b.hash = t.hash
             LEFT JOIN rejected_transfers r ON r.hash = t.hash
             WHERE t.hash = $1",
        )
        .bind(hash.to_bytes().to_vec())
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(|row| {
            if let Some(batch) = row.get::<Option<i64>, _>("batch_number") {
                StoredStatus::Executed {
                    batch: batch as u64,
                    position: row.get::<i32, _>("position") as u32,
                    stage: BatchStage::of(row.get("proven"), row.get("verified")),
                }
            } else if let Some(reason) = row.get::<Option<String>, _>("reason") {
                StoredStatus::Rejected {
                    reason,
                    message: row.get("message"),
                }
            } else {
                StoredStatus::Pending
            }
        }))
    }

    /// A stored batch; `None` as number means the newest.
    pub async fn batch(&self, number: Option<u64>) -> Result<Option<BatchRecord>> {
        let row = sqlx::query(
            "SELECT number, old_root, new_root, data_commitment, transfer_count, length(data) AS data_bytes, fees, token_fees,
                    to_char(sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS sealed_at,
                    EXISTS (SELECT 1 FROM prover_jobs j WHERE j.batch_number = batches.number
                            AND j.is_final AND j.status = 'done') AS proven,
                    (SELECT l.tx_hash FROM l1_transactions l WHERE l.batch_number = batches.number
                            AND l.status = 'confirmed') AS l1_tx_hash
             FROM batches WHERE ($1::bigint IS NULL OR number = $1) ORDER BY number DESC LIMIT 1",
        )
        .bind(number.map(to_db))
        .fetch_optional(&self.db)
        .await?;
        row.map(|row| {
            let l1_tx_hash: Option<Vec<u8>> = row.get("l1_tx_hash");
            Ok(BatchRecord {
                number: from_db(row.get("number")),
                old_root: digest(row.get("old_root"))?,
                new_root: digest(row.get("new_root"))?,
                data_commitment: DataCommitment(
                    row.get::<Vec<u8>, _>("data_commitment")
                        .try_into()
                        .map_err(|_| Error::Corrupt("stored data commitment".into()))?,
                ),
                size: row.get::<i32, _>("transfer_count") as u32,
                data_bytes: row.get::<i32, _>("data_bytes") as u32,
                fees: from_db(row.get("fees")),
                token_fees: from_db(row.get("token_fees")),
                sealed_at: row.get("sealed_at"),
                stage: BatchStage::of(row.get("proven"), l1_tx_hash.is_some()),
                l1_tx_hash: l1_tx_hash.map(|hash| format!("0x{}", hex::encode(hash))),
            })
        })
        .transpose()
    }
}

/// Upserts account states (one bulk statement).
async fn upsert_accounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    accounts: &[(u64, Account)],
    batch: u64,
) -> Result<()> {
    let indices: Vec<i64> = accounts.iter().map(|(i, _)| to_db(*i)).collect();
    let keys: Vec<Vec<u8>> = accounts
        .iter()
        .map(|(_, a)| a.public_key.to_bytes().to_vec())
        .collect();
    let balances: Vec<i64> = accounts
        .iter()
        .map(|(_, a)| to_db(a.balance(Token::Eth)))
        .collect();
    let token_balances: Vec<i64> = accounts
        .iter()
        .map(|(_, a)| to_db(a.balance(Token::TestToken)))
        .collect();
    let nonces: Vec<i64> = accounts.iter().map(|(_, a)| i64::from(a.nonce)).collect();
    sqlx::query(
        "INSERT INTO accounts (index, public_key, balance, token_balance, nonce, updated_batch)
         SELECT i, k, b, t, n, $6
         FROM UNNEST($1::bigint[], $2::bytea[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(i, k, b, t, n)
         ON CONFLICT (index) DO UPDATE
           SET balance = EXCLUDED.balance, token_balance = EXCLUDED.token_balance,
               nonce = EXCLUDED.nonce, updated_batch = EXCLUDED.updated_batch",
    )
    .bind(&indices)
    .bind(&keys)
    .bind(&balances)
    .bind(&token_balances)
    .bind(&nonces)
    .bind(to_db(batch))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Column vectors of transfers and withdrawals for an UNNEST insert.
#[derive(Default)]
struct TransferColumns {
    hash: Vec<Vec<u8>>,
    seq: Vec<i64>,
    chain_id: Vec<i64>,
    from: Vec<Vec<u8>>,
    to: Vec<Option<Vec<u8>>>,
    amount: Vec<i64>,
    fee: Vec<i64>,
    nonce: Vec<i64>,
    signature: Vec<Vec<u8>>,
    token: Vec<i16>,
    kind: Vec<i16>,
    recipient: Vec<Option<Vec<u8>>>,
}

impl TransferColumns {
    fn push(&mut self, entry: &Entry) {
        let transaction = entry.transaction.transaction();
        let payment = transaction.payment();
        self.hash.push(entry.hash.to_bytes().to_vec());
        self.seq.push(entry.seq as i64);
        self.chain_id.push(to_db(transaction.chain_id()));
        self.from.push(transaction.from().to_bytes().to_vec());
        self.amount.push(to_db(payment.amount));
        self.fee.push(to_db(payment.fee));
        self.nonce.push(i64::from(payment.nonce));
        self.signature
            .push(entry.transaction.signature().to_bytes().to_vec());
        self.token.push(i16::from(u8::from(payment.token)));
        let (kind, to, recipient) = match transaction {
            Transaction::Transfer(transfer) => (0, Some(transfer.to.to_bytes().to_vec()), None),
            Transaction::Withdrawal(withdrawal) => (1, None, Some(withdrawal.recipient.0.to_vec())),
        };
        self.kind.push(kind);
        self.to.push(to);
        self.recipient.push(recipient);
    }
}
