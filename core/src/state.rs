//! The rollup's state: accounts grouped by partition, and the state tree over them.
//!
//! Each [`PartitionState`] owns its accounts and assigns their indices, so partitions can
//! be executed independently (see [`crate::execution`]). [`State::apply_transfer`],
//! [`State::apply_withdrawal`] and [`State::apply_deposit`] are the sequential reference
//! executor: one operation at a time, in batch order, with no partitioning at all.
//! Partitioned execution must always end at its root.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::{
    account::{partition_of_key, Account},
    deposit::Deposit,
    hash::Digest,
    schnorr::PublicKey,
    transaction::Transaction,
    transfer::Transfer,
    tree::{StateTree, TreeConfig},
    withdrawal::Withdrawal,
    Error, Result,
};

/// The accounts of one partition, by local index (their creation order).
#[derive(Clone, Debug)]
pub struct PartitionState {
    partition: usize,
    config: TreeConfig,
    accounts: Vec<Account>,
    index_of: HashMap<PublicKey, u64>,
}

impl PartitionState {
    /// An empty partition.
    pub fn new(partition: usize, config: TreeConfig) -> Self {
        Self {
            partition,
            config,
            accounts: Vec::new(),
            index_of: HashMap::new(),
        }
    }

    /// The partition's number.
    pub fn partition(&self) -> usize {
        self.partition
    }

    /// The number of accounts in the partition, which is also the next free local index.
    pub fn len(&self) -> u64 {
        self.accounts.len() as u64
    }

    /// Whether the partition has no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The local index and state of the account of `key`, if it is in this partition.
    pub fn get(&self, key: &PublicKey) -> Option<(u64, &Account)> {
        let local = *self.index_of.get(key)?;
        Some((local, &self.accounts[local as usize]))
    }

    /// The account at a local index.
    pub fn account(&self, local: u64) -> Option<&Account> {
        self.accounts.get(usize::try_from(local).ok()?)
    }

    /// The accounts in local index order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The global (state tree) index of a local index.
    pub fn global_index(&self, local: u64) -> u64 {
        self.config.global_index(self.partition, local)
    }

    /// Checks that `count` more accounts fit in the partition's subtree.
    pub(crate) fn check_capacity(&self, count: u64) -> Result<()> {
        let capacity = 1u128 << self.config.partition_depth();
        if u128::from(self.len()) + u128::from(count) > capacity {
            return Err(Error::PartitionFull {
                partition: self.partition,
            });
        }
        Ok(())
    }

    /// Appends a new account at the next local index.
    pub(crate) fn push(&mut self, account: Account) -> Result<u64> {
        self.check_capacity(1)?;
        let local = self.len();
        if self.index_of.insert(account.public_key, local).is_some() {
            return Err(Error::DuplicateAccount {
                account: account.public_key.to_string(),
            });
        }
        self.accounts.push(account);
        Ok(local)
    }

    /// Overwrites the account at an existing local index.
    pub(crate) fn set(&mut self, local: u64, account: Account) {
        self.accounts[local as usize] = account;
    }
}

/// Every account, partitioned, with the state tree that commits to them.
#[derive(Clone, Debug)]
pub struct State {
    config: TreeConfig,
    partitions: Vec<PartitionState>,
    tree: StateTree,
}

impl State {
    /// An empty state of the given shape.
    pub fn new(config: TreeConfig) -> Self {
        Self {
            config,
            partitions: (0..config.num_partitions())
                .map(|p| PartitionState::new(p, config))
                .collect(),
            tree: StateTree::new(config),
        }
    }

    /// The genesis state: one account per `(key, ETH balance)`, created in the order given.
    pub fn genesis(config: TreeConfig, balances: &[(PublicKey, u64)]) -> Result<Self> {
        let mut state = Self::new(config);
        let mut updates = Vec::with_capacity(balances.len());
        for &(public_key, balance) in balances {
            let account = Account::with_eth(public_key, balance);
            let partition = &mut state.partitions[partition_of_key(&public_key, &config)];
            let local = partition.push(account)?;
            updates.push((partition.global_index(local), account.leaf()));
        }
        state.tree.apply_updates(&updates)?;
        Ok(state)
    }

    /// Rebuilds a state from stored accounts at their global indices (crash recovery).
    ///
    /// Each partition's local indices must be exactly `0..n` and every account must sit in
    /// its key's partition, otherwise the store is corrupt and this refuses it.
    pub fn from_accounts(config: TreeConfig, mut accounts: Vec<(u64, Account)>) -> Result<Self> {
        accounts.sort_unstable_by_key(|&(index, _)| index);
        let mut state = Self::new(config);
        for &(index, account) in &accounts {
            config.check_index(index)?;
            let partition = config.partition_of(index);
            let expected = state.partitions[partition].len();
            if partition != partition_of_key(&account.public_key, &config)
                || config.local_index(index) != expected
            {
                return Err(Error::MisplacedAccount {
                    account: account.public_key.to_string(),
                    index,
                });
            }
            state.partitions[partition].push(account)?;
        }
        let updates: Vec<(u64, Digest)> = accounts
            .par_iter()
            .map(|(index, account)| (*index, account.leaf()))
            .collect();
        state.tree.apply_updates(&updates)?;
        Ok(state)
    }

    /// The tree's shape.
    pub fn config(&self) -> TreeConfig {
        self.config
    }

    /// The state root.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The state tree (for proofs and partition roots).
    pub fn tree(&self) -> &StateTree {
        &self.tree
    }

    /// The partitions, in order.
    pub fn partitions(&self) -> &[PartitionState] {
        &self.partitions
    }

    /// The number of accounts.
    pub fn account_count(&self) -> u64 {
        self.partitions.iter().map(PartitionState::len).sum()
    }

    /// The global index and state of the account of `key`.
    pub fn account(&self, key: &PublicKey) -> Option<(u64, &Account)> {
        let partition = &self.partitions[partition_of_key(key, &self.config)];
        let (local, account) = partition.get(key)?;
        Some((partition.global_index(local), account))
    }

    /// Executes one transfer with no partitioning: the sequential reference executor.
    ///
    /// The signature is not checked here (it is stateless, checked before execution). On
    /// error nothing changes.
    pub fn apply_transfer(&mut self, transfer: &Transfer) -> Result<()> {
        let (from_index, sender) =
            self.account(&transfer.from)
                .ok_or_else(|| Error::UnknownAccount {
                    account: transfer.from.to_string(),
                })?;
        let sender = sender.debited(&transfer.payment())?;
        let recipient = match self.account(&transfer.to) {
            Some((_, _)) if transfer.to == transfer.from => sender,
            Some((_, recipient)) => *recipient,
            None => Account::new(transfer.to),
        };
        let recipient = recipient.credited(transfer.token, transfer.amount)?;

        let to_partition = partition_of_key(&transfer.to, &self.config);
        let to_local = match self.partitions[to_partition].get(&transfer.to) {
            Some((local, _)) => local,
            None => {
                self.partitions[to_partition].check_capacity(1)?;
                self.partitions[to_partition].push(Account::new(transfer.to))?
            }
        };
        let from_partition = partition_of_key(&transfer.from, &self.config);
        let from_local = self.config.local_index(from_index);
        self.partitions[from_partition].set(from_local, sender);
        self.tree.set_leaf(from_index, sender.leaf())?;
        self.partitions[to_partition].set(to_local, recipient);
        let to_index = self.partitions[to_partition].global_index(to_local);
        self.tree.set_leaf(to_index, recipient.leaf())?;
        Ok(())
    }

    /// Executes one withdrawal (the sender's debit; L1 pays the recipient): the sequential
    /// reference.
    pub fn apply_withdrawal(&mut self, withdrawal: &Withdrawal) -> Result<()> {
        let (index, sender) =
            self.account(&withdrawal.from)
                .ok_or_else(|| Error::UnknownAccount {
                    account: withdrawal.from.to_string(),
                })?;
        let sender = sender.debited(&withdrawal.payment())?;
        self.store(index, sender)
    }

    /// Credits one deposit, creating the account if its key has none: the sequential
    /// reference.
    pub fn apply_deposit(&mut self, deposit: &Deposit) -> Result<()> {
        let partition = partition_of_key(&deposit.to, &self.config);
        let (local, account) = match self.partitions[partition].get(&deposit.to) {
            Some((local, account)) => (Some(local), *account),
            None => (None, Account::new(deposit.to)),
        };
        let credited = account.credited(deposit.token, deposit.amount)?;
        let local = match local {
            Some(local) => local,
            None => self.partitions[partition].push(Account::new(deposit.to))?,
        };
        let index = self.partitions[partition].global_index(local);
        self.store(index, credited)
    }

    /// Executes a signed operation of either kind: the sequential reference.
    pub fn apply_transaction(&mut self, transaction: &Transaction) -> Result<()> {
        match transaction {
            Transaction::Transfer(transfer) => self.apply_transfer(transfer),
            Transaction::Withdrawal(withdrawal) => self.apply_withdrawal(withdrawal),
        }
    }

    /// Writes an existing account back, leaf included.
    fn store(&mut self, index: u64, account: Account) -> Result<()> {
        let partition = self.config.partition_of(index);
        self.partitions[partition].set(self.config.local_index(index), account);
        self.tree.set_leaf(index, account.leaf())?;
        Ok(())
    }

    /// The partitions for mutation by the batch executor.
    pub(crate) fn partitions_mut(&mut self) -> &mut [PartitionState] {
        &mut self.partitions
    }

    /// The tree for mutation by the batch executor.
    pub(crate) fn tree_mut(&mut self) -> &mut StateTree {
        &mut self.tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schnorr::SecretKey;

    fn keys(n: usize) -> Vec<PublicKey> {
        (0..n).map(|_| SecretKey::random().public_key()).collect()
    }

    #[test]
    fn genesis_places_accounts_in_their_partitions_and_commits_them() {
        let config = TreeConfig::new(16, 2).unwrap();
        let keys = keys(12);
        let balances: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, 100 * i as u64))
            .collect();
        let state = State::genesis(config, &balances).unwrap();
        assert_eq!(state.account_count(), 12);
        for (i, key) in keys.iter().enumerate() {
            let (index, account) = state.account(key).unwrap();
            assert_eq!(account.balances, [100 * i as u64, 0]);
            assert_eq!(config.partition_of(index), partition_of_key(key, &config));
            assert_eq!(state.tree().get_leaf(index).unwrap(), account.leaf());
            assert!(state
                .tree()
                .prove(index)
                .unwrap()
                .verify(index, account.leaf(), state.root()));
        }
        let stored: Vec<_> = keys
            .iter()
            .map(|k| state.account(k).map(|(i, a)| (i, *a)).unwrap())
            .collect();
        let rebuilt = State::from_accounts(config, stored.iter().rev().copied().collect()).unwrap();
        assert_eq!(rebuilt.root(), state.root());
        let mut gap = stored.clone();
        gap.retain(|&(index, _)| config.local_index(index) != 0);
        assert!(matches!(
            State::from_accounts(config, gap),
            Err(Error::MisplacedAccount { .. })
        ));
        let mut moved = stored;
        moved[0].0 ^= 1 << 15; // another partition
        assert!(State::from_accounts(config, moved).is_err());

        let twice = [balances[0], balances[0]];
        assert!(matches!(
            State::genesis(config, &twice),
            Err(Error::DuplicateAccount { .. })
        ));
    }

    #[test]
    fn sequential_transfers_move_balances_create_accounts_and_fail_atomically() {
        let config = TreeConfig::new(16, 2).unwrap();
        let [alice, bob, carol] = <[PublicKey; 3]>::try_from(keys(3)).unwrap();
        let mut state = State::genesis(config, &[(alice, 1_000)]).unwrap();
        let pay = |from, to, amount, nonce| Transfer {
            chain_id: 1,
            from,
            to,
            amount,
            fee: 1,
            nonce,
            token: crate::token::Token::Eth,
        };

        state.apply_transfer(&pay(alice, bob, 500, 0)).unwrap();
        state.apply_transfer(&pay(bob, carol, 200, 0)).unwrap();
        state.apply_transfer(&pay(alice, alice, 100, 1)).unwrap();
        let balance = |state: &State, key| state.account(&key).unwrap().1.balances[0];
        assert_eq!(balance(&state, alice), 1_000 - 501 - 1);
        assert_eq!(balance(&state, bob), 500 - 201);
        assert_eq!(balance(&state, carol), 200);
        assert_eq!(state.account(&alice).unwrap().1.nonce, 2);

        let before = (state.root(), state.account_count());
        let dave = keys(1)[0];
        for bad in [
            pay(carol, dave, 200, 0),
            pay(bob, dave, 1, 0),
            pay(dave, bob, 0, 0),
        ] {
            assert!(state.apply_transfer(&bad).is_err());
            assert_eq!((state.root(), state.account_count()), before);
        }
    }
}
