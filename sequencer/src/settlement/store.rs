//! Postgres for settlement: the `l1_transactions` table (migrations/0003_settlement.sql),
//! and the read side of what the sequencer and the prover stored (a batch's row, its final
//! proof).

use rollup_core::{batch_data::DataCommitment, hash::Digest, token::TOKENS};
use sqlx::{PgConnection, PgPool, Row};

use crate::{Error, Result};

/// The advisory lock one settlement module holds for its whole life: two modules posting
/// with one key would race for nonces and post batches twice (the second reverting).
const SETTLEMENT_LOCK: i64 = 0x5e77_1e00_0000_0008;

/// What L1 needs of a stored batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchToPost {
    /// Its number.
    pub number: u64,
    /// State root before (must be L1's current root).
    pub old_root: Digest,
    /// State root after.
    pub new_root: Digest,
    /// The compact calldata.
    pub data: Vec<u8>,
    /// Its commitment, as sealed (checked against the calldata before posting).
    pub data_commitment: DataCommitment,
    /// Total fees, per token.
    pub fees: [u64; TOKENS],
}

/// Where an L1 transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Broadcast (or about to be), no receipt seen.
    Sent,
    /// In a block, not yet deep enough.
    Mined,
    /// Deep enough: final for the module.
    Confirmed,
    /// Mined and reverted.
    Reverted,
    /// Its nonce was used by another transaction.
    Dropped,
}

impl TxStatus {
    /// The status's name in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Mined => "mined",
            Self::Confirmed => "confirmed",
            Self::Reverted => "reverted",
            Self::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "sent" => Self::Sent,
            "mined" => Self::Mined,
            "confirmed" => Self::Confirmed,
            "reverted" => Self::Reverted,
            "dropped" => Self::Dropped,
            other => return Err(Error::Corrupt(format!("l1 transaction status {other:?}"))),
        })
    }
}

/// A transaction about to be broadcast: written before it is, so that a crash never loses
/// track of a transaction that may land.
#[derive(Clone, Debug)]
pub struct NewL1Tx {
    /// The batch it posts.
    pub batch: u64,
    /// Its hash.
    pub hash: [u8; 32],
    /// The operator's address.
    pub sender: [u8; 20],
    /// Its nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// EIP-1559 fee cap (wei).
    pub max_fee_per_gas: u128,
    /// EIP-1559 tip (wei).
    pub max_priority_fee_per_gas: u128,
    /// The signed EIP-2718 envelope.
    pub raw: Vec<u8>,
}

/// A recorded transaction.
#[derive(Clone, Debug)]
pub struct L1Tx {
    /// Row id (the order transactions were sent in).
    pub id: i64,
    /// The batch it posts.
    pub batch: u64,
    /// Its hash.
    pub hash: [u8; 32],
    /// Its nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// EIP-1559 fee cap (wei).
    pub max_fee_per_gas: u128,
    /// EIP-1559 tip (wei).
    pub max_priority_fee_per_gas: u128,
    /// The signed envelope.
    pub raw: Vec<u8>,
    /// Where it is.
    pub status: TxStatus,
    /// Seconds since it was written (for fee bumps of stuck transactions).
    pub age_secs: f64,
}

/// What a receipt says, as recorded.
#[derive(Clone, Copy, Debug)]
pub struct Inclusion {
    /// The block.
    pub block_number: u64,
    /// Its hash (a reorg changes it).
    pub block_hash: [u8; 32],
    /// Gas the transaction used.
    pub gas_used: u64,
    /// Price per gas paid (wei).
    pub effective_gas_price: u128,
    /// Blocks from its block to the head, its own included.
    pub confirmations: u64,
}

/// A confirmed batch, for status and reports.
#[derive(Clone, Debug)]
pub struct ConfirmedBatch {
    /// The batch.
    pub batch: u64,
    /// The transaction that posted it.
    pub hash: [u8; 32],
    /// Its block.
    pub block_number: u64,
    /// Gas it used.
    pub gas_used: u64,
}

/// Settlement's queries.
#[derive(Clone)]
pub struct SettlementStore {
    db: PgPool,
}

fn to_db(value: u64) -> i64 {
    value as i64
}

fn from_db(value: i64) -> u64 {
    value as u64
}

fn hash32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::Corrupt(format!("stored {what} is not 32 bytes")))
}

fn wei(text: String) -> Result<u128> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("stored wei amount {text:?}")))
}

impl SettlementStore {
    /// Queries over `db` (migrated).
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    /// Takes the settlement lock on a connection of its own (detached from the pool, so
    /// that dropping it closes the session and releases the lock); fails if another module
    /// holds it.
    pub async fn lock(&self) -> Result<PgConnection> {
        let mut conn = self.db.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(SETTLEMENT_LOCK)
            .fetch_one(&mut conn)
            .await?;
        if !locked {
            return Err(Error::Settlement(
                "another settlement module holds the lock on this database".into(),
            ));
        }
        Ok(conn)
    }

    /// Batch `number` as sealed, `None` if it is not (yet).
    pub async fn batch(&self, number: u64) -> Result<Option<BatchToPost>> {
        let row = sqlx::query(
            "SELECT old_root, new_root, data, data_commitment, fees, token_fees FROM batches WHERE number = $1",
        )
        .bind(to_db(number))
        .fetch_optional(&self.db)
        .await?;
        row.map(|row| {
            let digest = |column: &str| {
                Digest::from_bytes(row.get::<&[u8], _>(column))
                    .map_err(|e| Error::Corrupt(format!("batch {number} {column}: {e}")))
            };
            Ok(BatchToPost {
                number,
                old_root: digest("old_root")?,
                new_root: digest("new_root")?,
                data: row.get("data"),
                data_commitment: DataCommitment(hash32(
                    row.get("data_commitment"),
                    "data commitment",
                )?),
                fees: [from_db(row.get("fees")), from_db(row.get("token_fees"))],
            })
        })
        .transpose()
    }

    /// The newest sealed batch's number (0: none).
    pub async fn latest_batch(&self) -> Result<u64> {
        let latest: Option<i64> = sqlx::query_scalar("SELECT max(number) FROM batches")
            .fetch_one(&self.db)
            .await?;
        Ok(latest.map_or(0, from_db))
    }

    /// The result of batch `number`'s final proving job, as the prover stored it; `None`
    /// until it is done (migrations/0002_prover_jobs.sql).
    pub async fn final_proof(&self, number: u64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT result FROM prover_jobs WHERE batch_number = $1 AND is_final AND status = 'done'",
        )
        .bind(to_db(number))
        .fetch_optional(&self.db)
        .await?
        .flatten())
    }

    /// Records a transaction before it is broadcast.
    pub async fn insert_sent(&self, tx: &NewL1Tx) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO l1_transactions
                 (batch_number, tx_hash, sender, nonce, gas_limit, max_fee_per_gas,
                  max_priority_fee_per_gas, raw, status)
             VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, 'sent')
             RETURNING id",
        )
        .bind(to_db(tx.batch))
        .bind(tx.hash.to_vec())
        .bind(tx.sender.to_vec())
        .bind(to_db(tx.nonce))
        .bind(to_db(tx.gas_limit))
        .bind(tx.max_fee_per_gas.to_string())
        .bind(tx.max_priority_fee_per_gas.to_string())
        .bind(&tx.raw)
        .fetch_one(&self.db)
        .await?)
    }

    /// Transactions that may still land (sent or mined), oldest first.
    pub async fn open_transactions(&self) -> Result<Vec<L1Tx>> {
        self.transactions("status IN ('sent', 'mined')", None).await
    }

    /// Every transaction of a batch, oldest first.
    pub async fn batch_transactions(&self, batch: u64) -> Result<Vec<L1Tx>> {
        self.transactions("TRUE", Some(batch)).await
    }

    async fn transactions(&self, filter: &str, batch: Option<u64>) -> Result<Vec<L1Tx>> {
        let sql = format!(
            "SELECT id, batch_number, tx_hash, nonce, gas_limit, max_fee_per_gas::text AS max_fee,
                    max_priority_fee_per_gas::text AS max_priority, raw, status,
                    extract(epoch FROM now() - sent_at)::float8 AS age
             FROM l1_transactions
             WHERE {filter} AND ($1::bigint IS NULL OR batch_number = $1) ORDER BY id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(batch.map(to_db))
            .fetch_all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                Ok(L1Tx {
                    id: row.get("id"),
                    batch: from_db(row.get("batch_number")),
                    hash: hash32(row.get("tx_hash"), "transaction hash")?,
                    nonce: from_db(row.get("nonce")),
                    gas_limit: from_db(row.get("gas_limit")),
                    max_fee_per_gas: wei(row.get("max_fee"))?,
                    max_priority_fee_per_gas: wei(row.get("max_priority"))?,
                    raw: row.get("raw"),
                    status: TxStatus::parse(row.get("status"))?,
                    age_secs: row.get("age"),
                })
            })
            .collect()
    }

    /// A receipt was seen: mined, or confirmed once deep enough.
    pub async fn record_inclusion(
        &self,
        id: i64,
        inclusion: &Inclusion,
        confirmed: bool,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        if confirmed {
            // Only after a reorg deeper than the confirmation depth can a batch already be
            // confirmed by another transaction; that one is no longer on the chain.
            sqlx::query(
                "UPDATE l1_transactions SET status = 'dropped',
                     last_error = 'left the chain after its confirmation (reorg deeper than the depth)'
                 WHERE status = 'confirmed' AND id <> $1
                   AND batch_number = (SELECT batch_number FROM l1_transactions WHERE id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE l1_transactions SET
                 status = CASE WHEN $2 THEN 'confirmed' ELSE 'mined' END,
                 block_number = $3, block_hash = $4, gas_used = $5,
                 effective_gas_price = $6::numeric, confirmations = $7,
                 mined_at = coalesce(mined_at, now()),
                 confirmed_at = CASE WHEN $2 THEN now() END
             WHERE id = $1",
        )
        .bind(id)
        .bind(confirmed)
        .bind(to_db(inclusion.block_number))
        .bind(inclusion.block_hash.to_vec())
        .bind(to_db(inclusion.gas_used))
        .bind(inclusion.effective_gas_price.to_string())
        .bind(to_db(inclusion.confirmations))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The transaction was mined and reverted.
    pub async fn record_revert(&self, id: i64, inclusion: &Inclusion, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE l1_transactions SET status = 'reverted', block_number = $2, block_hash = $3,
                 gas_used = $4, effective_gas_price = $5::numeric, confirmations = $6,
                 mined_at = now(), last_error = $7
             WHERE id = $1",
        )
        .bind(id)
        .bind(to_db(inclusion.block_number))
        .bind(inclusion.block_hash.to_vec())
        .bind(to_db(inclusion.gas_used))
        .bind(inclusion.effective_gas_price.to_string())
        .bind(to_db(inclusion.confirmations))
        .bind(error)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Back to sent: its block left the canonical chain (a reorg), or it was never mined.
    pub async fn record_unmined(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE l1_transactions SET status = 'sent', block_number = NULL, block_hash = NULL,
                 gas_used = NULL, effective_gas_price = NULL, confirmations = 0, mined_at = NULL,
                 last_error = $2
             WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Another transaction used its nonce.
    pub async fn record_dropped(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE l1_transactions SET status = 'dropped', last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Notes an error (a failed broadcast) without changing the status.
    pub async fn record_error(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE l1_transactions SET last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// How many of a batch's transactions reverted (the module gives up on a batch that
    /// keeps reverting instead of burning gas).
    pub async fn reverts(&self, batch: u64) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM l1_transactions WHERE batch_number = $1 AND status = 'reverted'",
        )
        .bind(to_db(batch))
        .fetch_one(&self.db)
        .await?;
        Ok(count as u64)
    }

    /// The newest confirmed batch, if any.
    pub async fn last_confirmed(&self) -> Result<Option<ConfirmedBatch>> {
        let row = sqlx::query(
            "SELECT batch_number, tx_hash, block_number, gas_used FROM l1_transactions
             WHERE status = 'confirmed' ORDER BY batch_number DESC LIMIT 1",
        )
        .fetch_optional(&self.db)
        .await?;
        row.map(|row| {
            Ok(ConfirmedBatch {
                batch: from_db(row.get("batch_number")),
                hash: hash32(row.get("tx_hash"), "transaction hash")?,
                block_number: from_db(row.get("block_number")),
                gas_used: from_db(row.get("gas_used")),
            })
        })
        .transpose()
    }
}
