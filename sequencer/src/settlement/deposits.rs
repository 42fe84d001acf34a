//! The deposit watcher: copies the Rollup's `Deposit` events into the `deposits` table
//! (migrations/0004), from which the sequencer's batcher consumes them.
//!
//! Reorg-safe by reading only blocks at least `confirmations` deep (its own block
//! counted): a deposit is never seen before it is final for this module, so nothing it
//! wrote has to be taken back. Gap-safe by checking each event against the contract's
//! queue chain: its index must be the next one and its `queueHead` must be
//! `queue_link(previous head, deposit)`, so a missed or altered event stops the watcher
//! instead of letting a batch consume the wrong deposits (which L1 would refuse anyway).
//! Each scan writes its deposits and how far it read in one Postgres transaction, so a
//! crash at any point resumes where the last committed scan stopped.

use alloy::{
    primitives::{Address, B256},
    providers::{Provider, RootProvider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use rollup_core::{
    deposit::{queue_link, Deposit},
    schnorr::PublicKey,
    token::Token,
};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;

use super::{contract::IRollup, SettlementMetrics};
use crate::{Error, Result};

/// Most blocks one `eth_getLogs` call covers (nodes cap the range).
const BLOCKS_PER_QUERY: u64 = 2_000;

fn l1(error: impl std::fmt::Display) -> Error {
    Error::L1(error.to_string())
}

/// A deposit as seen on L1, with where it was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenDeposit {
    /// The deposit.
    pub deposit: Deposit,
    /// The contract's queue head after it.
    pub queue_head: B256,
    /// The L1 block it was included in.
    pub block: u64,
    /// The L1 transaction that made it.
    pub tx_hash: B256,
}

/// Follows the Rollup's deposit queue into Postgres.
pub struct DepositWatcher {
    provider: RootProvider,
    rollup: Address,
    confirmations: u64,
    db: PgPool,
    metrics: SettlementMetrics,
}

impl DepositWatcher {
    /// A watcher of the Rollup at `rollup`, reading blocks `confirmations` deep.
    pub fn new(
        provider: RootProvider,
        rollup: Address,
        confirmations: u64,
        db: PgPool,
        metrics: SettlementMetrics,
    ) -> Self {
        Self {
            provider,
            rollup,
            confirmations: confirmations.max(1),
            db,
            metrics,
        }
    }

    /// Scans until cancelled, every `interval`; L1 errors are logged and retried, a broken
    /// queue chain (a missed or altered event) stops it with an error.
    pub async fn run(
        &self,
        interval: std::time::Duration,
        cancel: CancellationToken,
    ) -> Result<()> {
        loop {
            match self.scan().await {
                Ok(_) => {}
                Err(error @ Error::Corrupt(_)) => return Err(error),
                Err(error) => {
                    tracing::warn!(target: "sequencer::deposits", %error, "deposit scan failed; retrying");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(interval) => {},
            }
        }
    }

    /// Reads the confirmed blocks not read yet (at most [`BLOCKS_PER_QUERY`]) and stores
    /// their deposits; returns how many it stored.
    pub async fn scan(&self) -> Result<usize> {
        let head = self.provider.get_block_number().await.map_err(l1)?;
        let Some(safe) = (head + 1).checked_sub(self.confirmations) else {
            return Ok(0);
        };
        let from = match self.scanned_to().await? {
            Some(block) => block + 1,
            None => self.genesis_block().await?,
        };
        if from > safe {
            return Ok(0);
        }
        let to = safe.min(from + BLOCKS_PER_QUERY - 1);
        let filter = Filter::new()
            .address(self.rollup)
            .event_signature(IRollup::Deposit::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(l1)?;
        let seen = logs
            .iter()
            .map(decode)
            .collect::<Result<Vec<SeenDeposit>>>()?;
        self.store(&seen, to).await?;
        self.metrics.deposits_seen.inc_by(seen.len() as u64);
        self.metrics.deposit_scan_block.set(to as i64);
        if !seen.is_empty() {
            tracing::info!(
                target: "sequencer::deposits",
                count = seen.len(),
                first = seen[0].deposit.index,
                through_block = to,
                "deposits confirmed on L1"
            );
        }
        Ok(seen.len())
    }

    async fn scanned_to(&self) -> Result<Option<u64>> {
        let block: Option<i64> = sqlx::query_scalar("SELECT deposits_block FROM l1_scan")
            .fetch_optional(&self.db)
            .await?;
        Ok(block.map(|b| b as u64))
    }

    async fn genesis_block(&self) -> Result<u64> {
        let contract = IRollup::new(self.rollup, self.provider.clone());
        let block = contract.genesisBlock().call().await.map_err(l1)?;
        u64::try_from(block).map_err(|_| Error::L1("genesis block out of range".into()))
    }

    /// Writes `seen` after checking each links to the stored chain, and the scan progress,
    /// in one transaction.
    async fn store(&self, seen: &[SeenDeposit], scanned_to: u64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let last = sqlx::query(
            "SELECT queue_index, queue_head FROM deposits ORDER BY queue_index DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (mut next, mut head) = match last {
            Some(row) => (
                row.get::<i64, _>("queue_index") as u64 + 1,
                <[u8; 32]>::try_from(row.get::<Vec<u8>, _>("queue_head"))
                    .map_err(|_| Error::Corrupt("a stored queue head not of 32 bytes".into()))?,
            ),
            None => (0, [0u8; 32]),
        };
        for deposit in seen {
            check_link(next, &head, deposit)?;
            sqlx::query(
                "INSERT INTO deposits (queue_index, token, public_key, amount, queue_head, l1_block, l1_tx_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(deposit.deposit.index as i64)
            .bind(i16::from(u8::from(deposit.deposit.token)))
            .bind(deposit.deposit.to.to_bytes().to_vec())
            .bind(deposit.deposit.amount as i64)
            .bind(deposit.queue_head.to_vec())
            .bind(deposit.block as i64)
            .bind(deposit.tx_hash.to_vec())
            .execute(&mut *tx)
            .await?;
            next += 1;
            head = deposit.queue_head.0;
        }
        sqlx::query(
            "INSERT INTO l1_scan (id, deposits_block) VALUES (TRUE, $1)
             ON CONFLICT (id) DO UPDATE SET deposits_block = EXCLUDED.deposits_block",
        )
        .bind(scanned_to as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Checks that `seen` is deposit `next` of the queue and that its head links to `head`.
pub fn check_link(next: u64, head: &[u8; 32], seen: &SeenDeposit) -> Result<()> {
    if seen.deposit.index != next {
        return Err(Error::Corrupt(format!(
            "L1 deposit #{} seen where #{next} was due: an event was missed",
            seen.deposit.index
        )));
    }
    if queue_link(head, &seen.deposit) != seen.queue_head.0 {
        return Err(Error::Corrupt(format!(
            "L1 deposit #{next}'s queue head {} does not follow the previous one",
            seen.queue_head
        )));
    }
    Ok(())
}

/// A `Deposit` log as a deposit. The contract only queues valid keys and tokens, so a
/// log that does not decode means a wrong contract address.
fn decode(log: &Log) -> Result<SeenDeposit> {
    let event = log
        .log_decode::<IRollup::Deposit>()
        .map_err(|e| Error::Corrupt(format!("Deposit event: {e}")))?
        .inner
        .data;
    let deposit = Deposit {
        index: event.index,
        token: Token::try_from(event.token)
            .map_err(|e| Error::Corrupt(format!("Deposit #{}: {e}", event.index)))?,
        to: PublicKey::from_bytes(&event.key)
            .map_err(|e| Error::Corrupt(format!("Deposit #{}: {e}", event.index)))?,
        amount: event.amount,
    };
    Ok(SeenDeposit {
        deposit,
        queue_head: event.queueHead,
        block: log
            .block_number
            .ok_or_else(|| Error::L1("a log without its block number".into()))?,
        tx_hash: log
            .transaction_hash
            .ok_or_else(|| Error::L1("a log without its transaction hash".into()))?,
    })
}
