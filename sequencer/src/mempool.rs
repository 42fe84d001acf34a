//! The mempool: admission of transfers against the pending state, in per-account nonce
//! order, bounded, with expiry of transfers that can never execute.
//!
//! Invariant: the *ready* queue is valid in order on top of the executed state, so any
//! prefix of it is a valid batch. The *pending* view of an account (what admission checks
//! against and the API reports) is its executed state with every ready transfer applied;
//! it is kept as an overlay for just the accounts that ready transfers touch.
//!
//! A transfer with a future nonce (up to [`MempoolConfig::max_nonce_gap`] ahead) waits in
//! its sender's queue and is promoted when the gap fills and its balance suffices; it
//! expires after [`MempoolConfig::future_ttl`].
//!
//! No IO here: durability (the journal) and execution (the batcher) drive this structure.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use rollup_core::{
    account::Account, hash::Digest, schnorr::PublicKey, state::State,
    transaction::SignedTransaction,
};

use crate::rejection::Rejection;

/// Bounds of the mempool.
#[derive(Clone, Copy, Debug)]
pub struct MempoolConfig {
    /// Most transfers held (ready and future); beyond it admission answers 429.
    pub capacity: usize,
    /// How far past an account's pending nonce a transfer may be and still wait.
    pub max_nonce_gap: u32,
    /// How long a future-nonce transfer may wait for its gap to fill.
    pub future_ttl: Duration,
}

/// A transfer or withdrawal held by the mempool.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Admission order; the journal writes in this order.
    pub seq: u64,
    /// The operation's hash.
    pub hash: Digest,
    /// The transfer or withdrawal.
    pub transaction: SignedTransaction,
    /// When it was admitted.
    pub received: Instant,
}

impl Entry {
    /// The nonce it carries.
    pub fn nonce(&self) -> u32 {
        self.transaction.transaction().payment().nonce
    }

    /// The accounts whose pending view it changes: the sender, then the L2 recipient (the
    /// sender twice for a self-transfer, as the overlay counts references per change).
    fn keys(&self) -> Vec<PublicKey> {
        let transaction = self.transaction.transaction();
        std::iter::once(*transaction.from())
            .chain(transaction.recipient().copied())
            .collect()
    }
}

/// Where an admitted transfer went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Executable now, in the ready queue.
    Ready,
    /// Waiting for earlier nonces of its sender.
    Queued,
}

/// An account's pending view and how many ready transfers it depends on.
#[derive(Clone, Copy, Debug)]
struct Pending {
    account: Account,
    ready_refs: u32,
}

/// The mempool (see the module docs).
#[derive(Debug)]
pub struct Mempool {
    config: MempoolConfig,
    overlay: HashMap<PublicKey, Pending>,
    ready: VecDeque<Entry>,
    future: HashMap<PublicKey, BTreeMap<u32, Entry>>,
    future_count: usize,
    known: HashSet<Digest>,
    next_seq: u64,
    durable_below: u64,
}

impl Mempool {
    /// An empty mempool whose next admission gets sequence number `next_seq`.
    pub fn new(config: MempoolConfig, next_seq: u64) -> Self {
        Self {
            config,
            overlay: HashMap::new(),
            ready: VecDeque::new(),
            future: HashMap::new(),
            future_count: 0,
            known: HashSet::new(),
            next_seq,
            durable_below: next_seq,
        }
    }

    /// Rebuilds the mempool after a restart from the journaled transfers that were neither
    /// executed nor rejected, re-admitted in their original order with their original
    /// sequence numbers. Those no longer admissible are returned with the reason.
    pub fn recover(
        config: MempoolConfig,
        next_seq: u64,
        executed: &State,
        pending: Vec<(u64, SignedTransaction)>,
    ) -> (Self, Vec<(Digest, Rejection)>) {
        let mut pool = Self::new(config, next_seq);
        let mut rejected = Vec::new();
        let now = Instant::now();
        for (seq, transfer) in pending {
            pool.next_seq = seq;
            if let Err(rejection) = pool.admit(executed, transfer, now) {
                rejected.push((transfer.hash(), rejection));
            }
        }
        pool.next_seq = next_seq;
        pool.durable_below = next_seq;
        (pool, rejected)
    }

    /// Transfers held, ready and future.
    pub fn len(&self) -> usize {
        self.ready.len() + self.future_count
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ready transfers.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Future-nonce transfers.
    pub fn future_len(&self) -> usize {
        self.future_count
    }

    /// Whether the mempool holds a transfer.
    pub fn contains(&self, hash: &Digest) -> bool {
        self.known.contains(hash)
    }

    /// The pending view of an account: executed state plus ready transfers.
    pub fn pending_account(&self, executed: &State, key: &PublicKey) -> Option<Account> {
        match self.overlay.get(key) {
            Some(pending) => Some(pending.account),
            None => executed.account(key).map(|(_, account)| *account),
        }
    }

    /// Admits a transfer whose signature and chain id were already checked, assigning it
    /// the next sequence number. Rejections leave the mempool unchanged.
    pub fn admit(
        &mut self,
        executed: &State,
        transaction: SignedTransaction,
        now: Instant,
    ) -> Result<(Entry, Placement), Rejection> {
        let hash = transaction.hash();
        if self.known.contains(&hash) {
            return Err(Rejection::Duplicate);
        }
        if self.len() >= self.config.capacity {
            return Err(Rejection::MempoolFull);
        }
        let t = transaction.transaction();
        let (from, nonce) = (*t.from(), t.payment().nonce);
        let sender = self
            .pending_account(executed, &from)
            .ok_or(Rejection::UnknownAccount)?;
        if nonce < sender.nonce {
            return Err(Rejection::NonceTooLow {
                expected: sender.nonce,
            });
        }
        if nonce - sender.nonce > self.config.max_nonce_gap {
            return Err(Rejection::NonceTooFar {
                expected: sender.nonce,
                max_gap: self.config.max_nonce_gap,
            });
        }
        let entry = Entry {
            seq: self.next_seq,
            hash,
            transaction,
            received: now,
        };
        let placement = if nonce == sender.nonce {
            self.try_make_ready(executed, entry.clone())
                .map_err(Rejection::from)?;
            self.promote_from(executed, entry.keys());
            Placement::Ready
        } else {
            let queue = self.future.entry(from).or_default();
            if queue.contains_key(&nonce) {
                return Err(Rejection::NonceTaken);
            }
            queue.insert(nonce, entry.clone());
            self.future_count += 1;
            Placement::Queued
        };
        self.known.insert(hash);
        self.next_seq += 1;
        Ok((entry, placement))
    }

    /// Applies an in-order transfer to the overlay and appends it to the ready queue, or
    /// says why it can't execute now (nothing changes then).
    fn try_make_ready(&mut self, executed: &State, entry: Entry) -> rollup_core::Result<()> {
        let t = entry.transaction.transaction();
        let (from, payment) = (*t.from(), t.payment());
        let sender = self
            .pending_account(executed, &from)
            .expect("checked by the caller");
        let sender = sender.debited(&payment)?;
        let recipient = match t.recipient() {
            Some(&to) if to == from => Some((to, sender)),
            Some(&to) => Some((
                to,
                self.pending_account(executed, &to)
                    .unwrap_or_else(|| Account::new(to)),
            )),
            None => None,
        };
        let recipient = recipient
            .map(|(to, account)| {
                Ok::<_, rollup_core::Error>((to, account.credited(payment.token, payment.amount)?))
            })
            .transpose()?;
        self.set_overlay(from, sender);
        if let Some((to, account)) = recipient {
            self.set_overlay(to, account);
        }
        self.ready.push_back(entry);
        Ok(())
    }

    fn set_overlay(&mut self, key: PublicKey, account: Account) {
        let pending = self.overlay.entry(key).or_insert(Pending {
            account,
            ready_refs: 0,
        });
        pending.account = account;
        pending.ready_refs += 1;
    }

    /// Promotes waiting transfers of the given accounts (and, transitively, of the
    /// accounts those credit) whose nonce is now next and whose balance suffices.
    fn promote_from(&mut self, executed: &State, start: Vec<PublicKey>) {
        let mut work = start;
        while let Some(key) = work.pop() {
            while let Some(entry) = self.take_next_future(executed, &key) {
                let to = entry.transaction.transaction().recipient().copied();
                match self.try_make_ready(executed, entry.clone()) {
                    Ok(()) => {
                        self.future_count -= 1;
                        work.extend(to);
                    }
                    Err(_) => {
                        // Not fundable yet: it waits (until a credit or its expiry).
                        self.future
                            .entry(key)
                            .or_default()
                            .insert(entry.nonce(), entry);
                        break;
                    }
                }
            }
        }
    }

    /// Removes and returns `key`'s waiting transfer whose nonce is the account's next one.
    fn take_next_future(&mut self, executed: &State, key: &PublicKey) -> Option<Entry> {
        let nonce = self.pending_account(executed, key)?.nonce;
        let queue = self.future.get_mut(key)?;
        let entry = queue.remove(&nonce)?;
        if queue.is_empty() {
            self.future.remove(key);
        }
        Some(entry)
    }

    /// Marks every transfer admitted with a sequence number below `seq` durable (the
    /// journal has committed them).
    pub fn mark_durable_below(&mut self, seq: u64) {
        self.durable_below = self.durable_below.max(seq);
    }

    /// Up to `max` transfers from the front of the ready queue, all durable: the next
    /// batch. They stay in the mempool until [`Self::remove_executed`].
    pub fn next_batch(&self, max: usize) -> Vec<Entry> {
        self.ready
            .iter()
            .take(max)
            .take_while(|entry| entry.seq < self.durable_below)
            .cloned()
            .collect()
    }

    /// Removes the first `count` ready transfers once the executed state includes them.
    pub fn remove_executed(&mut self, count: usize) {
        for entry in self.ready.drain(..count) {
            self.known.remove(&entry.hash);
            for key in entry.keys() {
                if let Some(pending) = self.overlay.get_mut(&key) {
                    pending.ready_refs -= 1;
                    if pending.ready_refs == 0 {
                        self.overlay.remove(&key);
                    }
                }
            }
        }
    }

    /// Drops future-nonce transfers that waited longer than the TTL, returning them with
    /// the reason to record.
    pub fn expire(&mut self, now: Instant) -> Vec<(Entry, Rejection)> {
        let ttl = self.config.future_ttl;
        let mut expired = Vec::new();
        self.future.retain(|_, queue| {
            queue.retain(|_, entry| {
                let keep = now.duration_since(entry.received) < ttl;
                if !keep {
                    expired.push((entry.clone(), Rejection::Expired));
                }
                keep
            });
            !queue.is_empty()
        });
        self.future_count -= expired.len();
        for (entry, _) in &expired {
            self.known.remove(&entry.hash);
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use rollup_core::{
        schnorr::SecretKey,
        token::Token,
        transfer::Transfer,
        tree::TreeConfig,
        withdrawal::{L1Address, Withdrawal},
    };

    use super::*;

    struct Fixture {
        keys: Vec<SecretKey>,
        state: State,
        pool: Mempool,
    }

    fn fixture() -> Fixture {
        let keys: Vec<SecretKey> = (0..4).map(|_| SecretKey::random()).collect();
        let state = State::genesis(
            TreeConfig::new(16, 2).unwrap(),
            &[(keys[0].public_key(), 1_000), (keys[1].public_key(), 50)],
        )
        .unwrap();
        let config = MempoolConfig {
            capacity: 8,
            max_nonce_gap: 4,
            future_ttl: Duration::from_secs(60),
        };
        Fixture {
            keys,
            state,
            pool: Mempool::new(config, 1),
        }
    }

    fn pay(from: &SecretKey, to: &SecretKey, amount: u64, nonce: u32) -> SignedTransaction {
        Transfer {
            chain_id: 1,
            from: from.public_key(),
            to: to.public_key(),
            amount,
            fee: 1,
            nonce,
            token: Token::Eth,
        }
        .sign(from)
        .into()
    }

    fn withdraw(from: &SecretKey, amount: u64, nonce: u32) -> SignedTransaction {
        Withdrawal {
            chain_id: 1,
            from: from.public_key(),
            recipient: L1Address([7; 20]),
            token: Token::Eth,
            amount,
            fee: 1,
            nonce,
        }
        .sign(from)
        .into()
    }

    #[test]
    fn a_withdrawal_debits_its_sender_and_credits_no_one_on_l2() {
        let Fixture {
            keys,
            state,
            mut pool,
        } = fixture();
        let now = Instant::now();
        let before = pool
            .pending_account(&state, &keys[0].public_key())
            .unwrap()
            .balance(Token::Eth);
        pool.admit(&state, withdraw(&keys[0], 100, 0), now).unwrap();
        let after = pool.pending_account(&state, &keys[0].public_key()).unwrap();
        assert_eq!((after.balance(Token::Eth), after.nonce), (before - 101, 1));
        // Its nonce sequence is the transfers': the next transfer carries nonce 1.
        assert_eq!(
            pool.admit(&state, pay(&keys[0], &keys[1], 1, 0), now)
                .unwrap_err(),
            Rejection::NonceTooLow { expected: 1 }
        );
        assert!(matches!(
            pool.admit(&state, withdraw(&keys[0], before, 1), now),
            Err(Rejection::InsufficientBalance { .. })
        ));
        pool.mark_durable_below(10);
        let batch = pool.next_batch(10);
        assert!(matches!(
            batch[0].transaction,
            SignedTransaction::Withdrawal(_)
        ));
        pool.remove_executed(batch.len());
        assert!(pool.overlay.is_empty() && pool.is_empty());
    }

    #[test]
    fn admission_checks_nonce_balance_duplicates_and_capacity_against_pending_state() {
        let Fixture {
            keys,
            state,
            mut pool,
        } = fixture();
        let now = Instant::now();
        let first = pay(&keys[0], &keys[2], 600, 0);
        assert_eq!(pool.admit(&state, first, now).unwrap().1, Placement::Ready);
        assert_eq!(
            pool.admit(&state, first, now).unwrap_err(),
            Rejection::Duplicate
        );
        // The pending balance (1000 - 601) can't pay 600 again.
        assert!(matches!(
            pool.admit(&state, pay(&keys[0], &keys[2], 600, 1), now),
            Err(Rejection::InsufficientBalance { .. })
        ));
        assert_eq!(
            pool.admit(&state, pay(&keys[0], &keys[2], 10, 0), now)
                .unwrap_err(),
            Rejection::NonceTooLow { expected: 1 }
        );
        assert!(matches!(
            pool.admit(&state, pay(&keys[0], &keys[2], 10, 6), now),
            Err(Rejection::NonceTooFar { .. })
        ));
        assert_eq!(
            pool.admit(&state, pay(&keys[3], &keys[2], 0, 0), now)
                .unwrap_err(),
            Rejection::UnknownAccount
        );
        // Keys[2] was credited by a pending transfer: it can spend it before any batch.
        assert_eq!(
            pool.admit(&state, pay(&keys[2], &keys[3], 500, 0), now)
                .unwrap()
                .1,
            Placement::Ready
        );
        assert_eq!(
            pool.pending_account(&state, &keys[2].public_key())
                .unwrap()
                .balance(Token::Eth),
            99
        );
        assert_eq!(
            pool.pending_account(&state, &keys[3].public_key())
                .unwrap()
                .balance(Token::Eth),
            500
        );
        assert_eq!(pool.ready_len(), 2);

        for nonce in 1..=4 {
            pool.admit(&state, pay(&keys[3], &keys[0], 1, nonce), now)
                .unwrap();
        }
        pool.admit(&state, pay(&keys[1], &keys[0], 1, 0), now)
            .unwrap();
        assert_eq!(pool.len(), 7);
        pool.admit(&state, pay(&keys[1], &keys[0], 1, 1), now)
            .unwrap();
        assert_eq!(
            pool.admit(&state, pay(&keys[1], &keys[0], 1, 2), now)
                .unwrap_err(),
            Rejection::MempoolFull
        );
    }

    #[test]
    fn future_nonces_wait_and_are_promoted_in_order_when_the_gap_fills() {
        let Fixture {
            keys,
            state,
            mut pool,
        } = fixture();
        let now = Instant::now();
        assert_eq!(
            pool.admit(&state, pay(&keys[0], &keys[1], 1, 2), now)
                .unwrap()
                .1,
            Placement::Queued
        );
        assert_eq!(
            pool.admit(&state, pay(&keys[0], &keys[1], 1, 1), now)
                .unwrap()
                .1,
            Placement::Queued
        );
        assert_eq!(
            pool.admit(&state, pay(&keys[0], &keys[1], 2, 1), now)
                .unwrap_err(),
            Rejection::NonceTaken
        );
        assert_eq!(pool.ready_len(), 0);
        pool.admit(&state, pay(&keys[0], &keys[1], 1, 0), now)
            .unwrap();
        assert_eq!((pool.ready_len(), pool.future_len()), (3, 0));
        let nonces: Vec<u32> = pool.ready.iter().map(Entry::nonce).collect();
        assert_eq!(nonces, [0, 1, 2]);
    }

    #[test]
    fn an_unfunded_future_transfer_is_promoted_by_a_later_credit() {
        let Fixture {
            keys,
            state,
            mut pool,
        } = fixture();
        let now = Instant::now();
        // keys[1] has 50: a nonce-1 transfer of 200 waits behind a cheap nonce-0 one, and
        // stays waiting once that one is ready, since 39 remain.
        pool.admit(&state, pay(&keys[1], &keys[2], 200, 1), now)
            .unwrap();
        pool.admit(&state, pay(&keys[1], &keys[2], 10, 0), now)
            .unwrap();
        assert_eq!(
            (pool.ready_len(), pool.future_len()),
            (1, 1),
            "200 exceeds the remaining 39"
        );
        pool.admit(&state, pay(&keys[0], &keys[1], 300, 0), now)
            .unwrap();
        assert_eq!(
            (pool.ready_len(), pool.future_len()),
            (3, 0),
            "the credit made it fundable"
        );
    }

    #[test]
    fn batches_take_durable_prefixes_and_executed_transfers_leave_the_overlay() {
        let Fixture {
            keys,
            mut state,
            mut pool,
        } = fixture();
        let now = Instant::now();
        for nonce in 0..3 {
            pool.admit(&state, pay(&keys[0], &keys[2], 100, nonce), now)
                .unwrap();
        }
        assert!(pool.next_batch(10).is_empty(), "nothing is durable yet");
        pool.mark_durable_below(3); // seqs 1 and 2
        let batch = pool.next_batch(10);
        assert_eq!(batch.len(), 2);
        let transactions: Vec<_> = batch.iter().map(|e| e.transaction.transaction()).collect();
        state.execute(&[], &transactions).unwrap();
        pool.remove_executed(batch.len());
        assert_eq!(pool.ready_len(), 1);
        assert_eq!(
            pool.pending_account(&state, &keys[0].public_key())
                .unwrap()
                .balance(Token::Eth),
            1_000 - 303
        );
        assert_eq!(
            pool.pending_account(&state, &keys[2].public_key())
                .unwrap()
                .balance(Token::Eth),
            300
        );
        pool.mark_durable_below(4);
        let rest: Vec<_> = pool
            .next_batch(10)
            .iter()
            .map(|e| e.transaction.transaction())
            .collect();
        state.execute(&[], &rest).unwrap();
        pool.remove_executed(1);
        assert!(pool.overlay.is_empty() && pool.is_empty());
        assert_eq!(
            state
                .account(&keys[2].public_key())
                .unwrap()
                .1
                .balance(Token::Eth),
            300
        );
    }

    #[test]
    fn recovery_readmits_in_order_with_original_sequence_numbers() {
        let Fixture {
            keys,
            state,
            pool: _,
        } = fixture();
        let config = MempoolConfig {
            capacity: 8,
            max_nonce_gap: 4,
            future_ttl: Duration::from_secs(60),
        };
        let pending = vec![
            (3, pay(&keys[0], &keys[2], 100, 1)),
            (5, pay(&keys[0], &keys[2], 100, 0)),
            (6, pay(&keys[1], &keys[2], 100, 0)), // 50 can't pay 101
        ];
        let (pool, rejected) = Mempool::recover(config, 9, &state, pending);
        assert_eq!(rejected.len(), 1);
        assert!(matches!(
            rejected[0].1,
            Rejection::InsufficientBalance { .. }
        ));
        let seqs: Vec<u64> = pool.next_batch(10).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [5, 3], "all durable, executed in nonce order");
        assert_eq!(pool.next_seq, 9);
    }

    #[test]
    fn stale_future_transfers_expire() {
        let Fixture {
            keys,
            state,
            mut pool,
        } = fixture();
        let start = Instant::now();
        pool.admit(&state, pay(&keys[0], &keys[1], 1, 3), start)
            .unwrap();
        assert!(pool.expire(start + Duration::from_secs(59)).is_empty());
        let expired = pool.expire(start + Duration::from_secs(61));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].1, Rejection::Expired);
        assert!(pool.is_empty());
        assert!(!pool.contains(&expired[0].0.hash));
    }
}
