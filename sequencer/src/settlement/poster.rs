//! The posting loop: one pass reconciles every transaction that may still land with what
//! L1 says, then, when none is open, posts the batch L1 expects next.

use std::{sync::Arc, time::Duration};

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256},
    providers::{Provider, RootProvider},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
    transports::TransportError,
};
use rollup_core::{
    batch_data::{compact::compact, DataCommitment},
    token::Token,
};
use tokio_util::sync::CancellationToken;

use super::{
    contract::{root_to_l1, IRollup},
    metrics::SettlementMetrics,
    proofs::ProofEncoder,
    store::{Inclusion, L1Tx, NewL1Tx, SettlementStore, TxStatus},
    SettlementConfig, TX_GAS_CAP,
};
use crate::{Error, Result};

/// Tracing target of the module.
const TARGET: &str = "sequencer::settlement";

/// What one pass did, which sets how soon the next one runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing to post: the next batch is not sealed or not proven yet.
    Idle,
    /// A transaction is in flight (not yet confirmed).
    Waiting,
    /// A transaction was just broadcast.
    Posted,
}

/// An L1 request error as a crate error: transport failures are retryable.
fn l1(error: impl std::fmt::Display) -> Error {
    Error::L1(error.to_string())
}

/// The settlement module: posts proven batches in order and follows them to confirmation.
pub struct Settler {
    provider: RootProvider,
    wallet: EthereumWallet,
    sender: Address,
    rollup: IRollup::IRollupInstance<RootProvider>,
    chain_id: u64,
    store: SettlementStore,
    encoder: Arc<dyn ProofEncoder>,
    config: SettlementConfig,
    metrics: SettlementMetrics,
}

impl Settler {
    /// Connects to L1 and checks that the operator key may post to the contract.
    pub async fn connect(
        config: SettlementConfig,
        store: SettlementStore,
        encoder: Arc<dyn ProofEncoder>,
        metrics: SettlementMetrics,
    ) -> Result<Self> {
        let url = config
            .l1_url
            .parse()
            .map_err(|e| Error::Config(format!("L1 URL {}: {e}", config.l1_url)))?;
        let provider = RootProvider::new_http(url);
        let chain_id = provider.get_chain_id().await.map_err(l1)?;
        let sender = config.operator.address();
        let rollup = IRollup::new(config.rollup, provider.clone());
        let code = provider.get_code_at(config.rollup).await.map_err(l1)?;
        if code.is_empty() {
            return Err(Error::Config(format!(
                "no contract at {} on the L1 of chain id {chain_id}",
                config.rollup
            )));
        }
        if !rollup.isOperator(sender).call().await.map_err(l1)? {
            return Err(Error::Config(format!(
                "{sender} is not an operator of the Rollup at {}",
                config.rollup
            )));
        }
        Ok(Self {
            wallet: EthereumWallet::from(config.operator.clone()),
            provider,
            sender,
            rollup,
            chain_id,
            store,
            encoder,
            config,
            metrics,
        })
    }

    /// Posts until cancelled or until a fatal error (L1 and Postgres disagree, L1 refuses
    /// a batch for good); retryable errors (an L1 or database outage) back off and retry.
    ///
    /// Holds the settlement lock of the database for its whole run, so that two modules
    /// never post with one key.
    pub async fn run(self, cancel: CancellationToken) -> Result<()> {
        let _lock = self.store.lock().await?;
        if let Some(last) = self.store.last_confirmed().await? {
            self.metrics.last_confirmed_batch.set(last.batch as i64);
            self.metrics.last_posted_batch.set(last.batch as i64);
            self.metrics.last_batch_gas.set(last.gas_used as i64);
        }
        tracing::info!(
            target: TARGET,
            operator = %self.sender,
            rollup = %self.config.rollup,
            chain_id = self.chain_id,
            confirmations = self.config.confirmations,
            "settlement started"
        );
        let mut backoff = self.config.poll_interval;
        loop {
            let outcome = tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                outcome = self.step() => outcome,
            };
            let wait = match outcome {
                Ok(progress) => {
                    backoff = self.config.poll_interval;
                    if progress == Progress::Posted {
                        Duration::ZERO
                    } else {
                        self.config.poll_interval
                    }
                }
                Err(error) if error.is_retryable() => {
                    tracing::warn!(target: TARGET, %error, retry_in = ?backoff, "settlement pass failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    wait
                }
                Err(error) => {
                    tracing::error!(target: TARGET, %error, "settlement stopped");
                    return Err(error);
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass: reconcile open transactions; if none stays open, post the next batch.
    pub async fn step(&self) -> Result<Progress> {
        let head = self.provider.get_block_number().await.map_err(l1)?;
        let mut open = Vec::new();
        for tx in self.store.open_transactions().await? {
            if self.reconcile(&tx, head).await? {
                open.push(tx);
            }
        }
        let verified = self.rollup.lastVerifiedBatch().call().await.map_err(l1)?;
        self.metrics.l1_last_verified_batch.set(verified as i64);
        if let Some(newest) = open.last() {
            let stuck = newest.status == TxStatus::Sent
                && newest.age_secs >= self.config.resubmit_after.as_secs_f64()
                && newest.batch == verified + 1;
            if stuck {
                tracing::warn!(
                    target: TARGET,
                    batch = newest.batch,
                    tx = %B256::from(newest.hash),
                    nonce = newest.nonce,
                    age_secs = newest.age_secs,
                    "transaction not mined in time: replacing it with higher fees"
                );
                return self.post(newest.batch, Some(newest)).await;
            }
            return Ok(Progress::Waiting);
        }
        let next = verified + 1;
        let reverts = self.store.reverts(next).await?;
        if reverts >= self.config.max_reverts {
            return Err(Error::Settlement(format!(
                "batch {next} reverted on L1 {reverts} times: giving up (see l1_transactions.last_error)"
            )));
        }
        self.post(next, None).await
    }

    /// Brings one recorded transaction up to date with L1; true while it may still land
    /// or is not yet deep enough.
    async fn reconcile(&self, tx: &L1Tx, head: u64) -> Result<bool> {
        let hash = B256::from(tx.hash);
        if let Some(receipt) = self
            .provider
            .get_transaction_receipt(hash)
            .await
            .map_err(l1)?
        {
            let Some(block_number) = receipt.block_number else {
                return Ok(true);
            };
            let inclusion = Inclusion {
                block_number,
                block_hash: receipt.block_hash.unwrap_or_default().0,
                gas_used: receipt.gas_used,
                effective_gas_price: receipt.effective_gas_price,
                confirmations: head.saturating_sub(block_number) + 1,
            };
            if !receipt.status() {
                let reason = format!(
                    "reverted in block {block_number} (gas used {})",
                    receipt.gas_used
                );
                tracing::warn!(target: TARGET, batch = tx.batch, tx = %hash, %reason, "batch transaction reverted");
                self.store.record_revert(tx.id, &inclusion, &reason).await?;
                self.metrics.transactions_reverted.inc();
                return Ok(false);
            }
            let confirmed = inclusion.confirmations >= self.config.confirmations;
            self.store
                .record_inclusion(tx.id, &inclusion, confirmed)
                .await?;
            if confirmed {
                self.metrics.last_confirmed_batch.set(tx.batch as i64);
                self.metrics.last_batch_gas.set(receipt.gas_used as i64);
                self.metrics.batch_gas.observe(receipt.gas_used as f64);
                self.metrics.confirmation_seconds.observe(tx.age_secs);
                tracing::info!(
                    target: TARGET,
                    batch = tx.batch,
                    tx = %hash,
                    block = block_number,
                    gas_used = receipt.gas_used,
                    confirmations = inclusion.confirmations,
                    "batch verified on L1"
                );
            }
            return Ok(!confirmed);
        }

        if tx.status == TxStatus::Mined {
            tracing::warn!(target: TARGET, batch = tx.batch, tx = %hash, "mined transaction left the chain (reorg)");
            self.store
                .record_unmined(tx.id, "its block left the canonical chain")
                .await?;
        }
        let next_nonce = self
            .provider
            .get_transaction_count(self.sender)
            .latest()
            .await
            .map_err(l1)?;
        if next_nonce > tx.nonce {
            // The nonce is used: by this transaction if its receipt shows up now (mined
            // between the two requests) or within the grace, else by another one (a
            // replacement of it won).
            if tx.age_secs < self.config.receipt_grace.as_secs_f64()
                || self
                    .provider
                    .get_transaction_receipt(hash)
                    .await
                    .map_err(l1)?
                    .is_some()
            {
                return Ok(true);
            }
            self.store
                .record_dropped(tx.id, "its nonce was used by another transaction")
                .await?;
            self.metrics.transactions_dropped.inc();
            return Ok(false);
        }
        // Not mined: if the node does not know it (a restarted node, a crash before the
        // broadcast), send the very same bytes again.
        if self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(l1)?
            .is_none()
        {
            tracing::info!(target: TARGET, batch = tx.batch, tx = %hash, nonce = tx.nonce, "rebroadcasting a recorded transaction");
            self.metrics
                .transactions_sent
                .with_label_values(&["rebroadcast"])
                .inc();
            if let Err(error) = self.provider.send_raw_transaction(&tx.raw).await {
                self.store.record_error(tx.id, &error.to_string()).await?;
                return Err(l1(error));
            }
        }
        Ok(true)
    }

    /// Signs, records, then broadcasts `commitBatch` for batch `number` (with the nonce
    /// and higher fees of `replacing`, if given). Idle if the batch is not sealed or not
    /// proven yet.
    async fn post(&self, number: u64, replacing: Option<&L1Tx>) -> Result<Progress> {
        let Some(batch) = self.store.batch(number).await? else {
            return Ok(Progress::Idle);
        };
        let Some(stored) = self.store.final_proof(number).await? else {
            return Ok(Progress::Idle);
        };
        let proof = self.encoder.to_l1(number, &stored)?;
        if DataCommitment::of_calldata(&batch.data)? != batch.data_commitment {
            return Err(Error::Corrupt(format!(
                "batch {number}'s calldata does not give its stored data commitment"
            )));
        }
        let l1_root = self.rollup.stateRoot().call().await.map_err(l1)?;
        if l1_root != root_to_l1(&batch.old_root) {
            return Err(Error::Settlement(format!(
                "L1's state root {l1_root} is not batch {number}'s old root {} (L1 encoding {}): \
                 this database does not continue the chain the contract holds",
                batch.old_root,
                root_to_l1(&batch.old_root)
            )));
        }
        // L1 takes the data without its chunks' padding and puts it back before hashing.
        let call = IRollup::commitBatchCall {
            number,
            data: compact(&batch.data)?.into(),
            newRoot: root_to_l1(&batch.new_root),
            ethFees: batch.fees[Token::Eth.index()],
            tokenFees: batch.fees[Token::TestToken.index()],
            proof: proof.into(),
        };
        let request = TransactionRequest::default()
            .with_from(self.sender)
            .with_to(self.config.rollup)
            .with_input(call.abi_encode())
            .with_chain_id(self.chain_id);
        let gas = self
            .provider
            .estimate_gas(request.clone())
            .await
            .map_err(|error| refusal(number, error))?;
        let gas_limit = (gas + gas / 5).clamp(gas, TX_GAS_CAP);
        let estimate = self.provider.estimate_eip1559_fees().await.map_err(l1)?;
        let (nonce, max_fee, tip) = match replacing {
            // Nodes accept a replacement only with both fees raised (geth: by 10%).
            Some(old) => (
                old.nonce,
                estimate
                    .max_fee_per_gas
                    .max(old.max_fee_per_gas * 5 / 4 + 1),
                estimate
                    .max_priority_fee_per_gas
                    .max(old.max_priority_fee_per_gas * 5 / 4 + 1),
            ),
            None => (
                self.provider
                    .get_transaction_count(self.sender)
                    .pending()
                    .await
                    .map_err(l1)?,
                estimate.max_fee_per_gas,
                estimate.max_priority_fee_per_gas,
            ),
        };
        let envelope = request
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(tip.min(max_fee))
            .build(&self.wallet)
            .await
            .map_err(|e| Error::Settlement(format!("signing batch {number}'s transaction: {e}")))?;
        let raw = envelope.encoded_2718();
        let hash = *envelope.tx_hash();
        let id = self
            .store
            .insert_sent(&NewL1Tx {
                batch: number,
                hash: hash.0,
                sender: self.sender.0 .0,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip.min(max_fee),
                raw: raw.clone(),
            })
            .await?;
        let kind = if replacing.is_some() {
            "replacement"
        } else {
            "new"
        };
        self.metrics
            .transactions_sent
            .with_label_values(&[kind])
            .inc();
        self.metrics.last_posted_batch.set(number as i64);
        tracing::info!(
            target: TARGET,
            batch = number,
            tx = %hash,
            nonce,
            gas_estimate = gas,
            gas_limit,
            calldata_bytes = raw.len(),
            kind,
            "posting batch"
        );
        if let Err(error) = self.provider.send_raw_transaction(&raw).await {
            // Recorded: the next pass finds out whether it landed and rebroadcasts if not.
            tracing::warn!(target: TARGET, batch = number, tx = %hash, %error, "broadcast failed");
            self.store.record_error(id, &error.to_string()).await?;
        }
        Ok(Progress::Posted)
    }
}

/// Why L1 would refuse a batch, from a failed gas estimate: the contract's own errors
/// decoded; a batch number L1 no longer expects is retryable (the next pass re-reads the
/// contract), every other revert is fatal (posting it would only burn gas).
fn refusal(number: u64, error: TransportError) -> Error {
    let Some(payload) = error.as_error_resp() else {
        return l1(error);
    };
    if let Some(decoded) = payload.as_decoded_interface_error::<IRollup::IRollupErrors>() {
        return match decoded {
            IRollup::IRollupErrors::UnexpectedBatchNumber(e) => Error::L1(format!(
                "L1 expects batch {} now, not {}",
                e.expected, e.got
            )),
            other => Error::Settlement(format!("L1 refuses batch {number}: {other:?}")),
        };
    }
    match payload.as_revert_data() {
        Some(data) => Error::Settlement(format!(
            "L1 refuses batch {number}: revert data {data} (a verifier error, if not the Rollup's)"
        )),
        None => l1(error),
    }
}
