//! Accounts: who holds what, and where in the state tree they live.
//!
//! An account is identified by its public key, which is also its user-facing address
//! (`0x` + 80 hex digits): a transfer to a key that has no account yet creates one, so the
//! key must be known in full. The key fixes the account's partition for good
//! ([`partition_of_key`]); its index inside the partition is assigned in creation order
//! and never changes, so indices never collide and the calldata can name accounts by a
//! 4-byte index.

use plonky2::field::types::{Field, PrimeField64};
use serde::{Deserialize, Serialize};

use crate::{
    field::{u64_to_limbs, F},
    hash::{hash_elements, Digest},
    schnorr::PublicKey,
    transfer::Transfer,
    tree::TreeConfig,
    Error, Result,
};

/// The number of field elements a leaf hashes: key (5), balance (2 limbs), nonce (1).
pub const LEAF_ELEMENTS: usize = 8;

/// One account's state: what a leaf of the state tree commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The owner's key (and the account's address).
    pub public_key: PublicKey,
    /// Balance in the token's smallest unit.
    pub balance: u64,
    /// The nonce the account's next transfer must carry (its count of sent transfers).
    pub nonce: u32,
}

impl Account {
    /// A new, empty account of `public_key`.
    pub fn new(public_key: PublicKey) -> Self {
        Self {
            public_key,
            balance: 0,
            nonce: 0,
        }
    }

    /// The elements hashed into the leaf: key || balance (low, high 32 bits) || nonce. One
    /// Poseidon permutation absorbs them (rate 8).
    pub fn leaf_elements(&self) -> [F; LEAF_ELEMENTS] {
        let mut elements = [F::ZERO; LEAF_ELEMENTS];
        elements[..5].copy_from_slice(&self.public_key.encoding().to_fields());
        elements[5..7].copy_from_slice(&u64_to_limbs(self.balance));
        elements[7] = F::from_canonical_u32(self.nonce);
        elements
    }

    /// The account after sending `transfer` (nonce and balance rules, overflow checked):
    /// the one place the debit rules live, shared by every executor.
    pub fn debited(&self, transfer: &Transfer) -> Result<Self> {
        if transfer.nonce != self.nonce {
            return Err(Error::NonceMismatch {
                expected: self.nonce,
                got: transfer.nonce,
            });
        }
        let needed = transfer.total_debit().ok_or(Error::AmountOverflow)?;
        let balance = self
            .balance
            .checked_sub(needed)
            .ok_or(Error::InsufficientBalance {
                balance: self.balance,
                needed,
            })?;
        let nonce = self.nonce.checked_add(1).ok_or(Error::NonceExhausted)?;
        Ok(Self {
            balance,
            nonce,
            ..*self
        })
    }

    /// The account after receiving `amount` (overflow checked).
    pub fn credited(&self, amount: u64) -> Result<Self> {
        let balance = self
            .balance
            .checked_add(amount)
            .ok_or(Error::BalanceOverflow {
                balance: self.balance,
                amount,
            })?;
        Ok(Self { balance, ..*self })
    }

    /// The leaf digest. Never [`Digest::ZERO`] in practice, so an existing account (even an
    /// empty one) is distinguishable from a free slot.
    pub fn leaf(&self) -> Digest {
        hash_elements(&self.leaf_elements())
    }
}

/// The partition of the account of `public_key`: the low `P` bits of the first limb of the
/// Poseidon digest of the key. Uniform over partitions, and fixed for the key's lifetime.
pub fn partition_of_key(public_key: &PublicKey, config: &TreeConfig) -> usize {
    let digest = hash_elements(&public_key.encoding().to_fields());
    let mask = (config.num_partitions() - 1) as u64;
    (digest.elements()[0].to_canonical_u64() & mask) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schnorr::SecretKey;

    #[test]
    fn leaf_commits_to_every_field() {
        let account = Account {
            public_key: SecretKey::random().public_key(),
            balance: 1 << 40,
            nonce: 7,
        };
        let leaf = account.leaf();
        assert_ne!(leaf, Digest::ZERO);
        assert_ne!(
            Account {
                balance: account.balance + 1,
                ..account
            }
            .leaf(),
            leaf
        );
        assert_ne!(
            Account {
                balance: account.balance ^ (1 << 33),
                ..account
            }
            .leaf(),
            leaf
        );
        assert_ne!(
            Account {
                nonce: 8,
                ..account
            }
            .leaf(),
            leaf
        );
        let other_key = SecretKey::random().public_key();
        assert_ne!(
            Account {
                public_key: other_key,
                ..account
            }
            .leaf(),
            leaf
        );
        assert_eq!(account.leaf_elements()[5..7], u64_to_limbs(1 << 40));
    }

    #[test]
    fn debits_check_nonce_balance_and_overflow() {
        let key = SecretKey::random().public_key();
        let account = Account {
            public_key: key,
            balance: 100,
            nonce: 2,
        };
        let transfer = Transfer {
            chain_id: 1,
            from: key,
            to: key,
            amount: 90,
            fee: 10,
            nonce: 2,
        };
        let after = account.debited(&transfer).unwrap();
        assert_eq!((after.balance, after.nonce), (0, 3));
        assert_eq!(
            account.debited(&Transfer {
                fee: 11,
                ..transfer
            }),
            Err(Error::InsufficientBalance {
                balance: 100,
                needed: 101
            })
        );
        assert_eq!(
            account.debited(&Transfer {
                nonce: 3,
                ..transfer
            }),
            Err(Error::NonceMismatch {
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            account.debited(&Transfer {
                amount: u64::MAX,
                ..transfer
            }),
            Err(Error::AmountOverflow)
        );
        let last_nonce = Account {
            nonce: u32::MAX,
            ..account
        };
        assert_eq!(
            last_nonce.debited(&Transfer {
                nonce: u32::MAX,
                amount: 0,
                fee: 0,
                ..transfer
            }),
            Err(Error::NonceExhausted)
        );
        assert_eq!(account.credited(u64::MAX - 100).unwrap().balance, u64::MAX);
        assert!(account.credited(u64::MAX - 99).is_err());
    }

    #[test]
    fn partitions_are_stable_in_range_and_spread() {
        let config = TreeConfig::new(32, 4).unwrap();
        let one = TreeConfig::new(32, 0).unwrap();
        let mut seen = [0usize; 16];
        for _ in 0..200 {
            let key = SecretKey::random().public_key();
            let partition = partition_of_key(&key, &config);
            assert_eq!(partition, partition_of_key(&key, &config));
            assert_eq!(partition_of_key(&key, &one), 0);
            seen[partition] += 1;
        }
        // 200 random keys over 16 partitions: every partition is hit (fails with
        // probability about 16 * (15/16)^200 < 1e-4 for a uniform map).
        assert!(seen.iter().all(|&count| count > 0), "{seen:?}");
    }
}
