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
    token::{Token, TOKENS},
    tree::TreeConfig,
    Error, Result,
};

/// The number of field elements a leaf hashes: key (5), one balance per token (2 limbs
/// each), nonce (1).
pub const LEAF_ELEMENTS: usize = 5 + 2 * TOKENS + 1;

/// One account's state: what a leaf of the state tree commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The owner's key (and the account's address).
    pub public_key: PublicKey,
    /// Balance of each token ([`Token::index`]), in L2 units.
    pub balances: [u64; TOKENS],
    /// The nonce the account's next transfer or withdrawal must carry (its count of
    /// signed operations executed).
    pub nonce: u32,
}

/// What a signed operation takes from its sender: the rules of a debit, shared by
/// transfers and withdrawals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The token paid (the amount and the fee are both in it).
    pub token: Token,
    /// The amount leaving the account.
    pub amount: u64,
    /// The fee, on top of the amount.
    pub fee: u64,
    /// The nonce the operation carries.
    pub nonce: u32,
}

impl Payment {
    /// Amount + fee, `None` when it overflows a `u64`.
    pub fn total(&self) -> Option<u64> {
        self.amount.checked_add(self.fee)
    }
}

impl Account {
    /// A new, empty account of `public_key`.
    pub fn new(public_key: PublicKey) -> Self {
        Self {
            public_key,
            balances: [0; TOKENS],
            nonce: 0,
        }
    }

    /// A new account holding `balance` of ETH (genesis funds ETH only: its escrow is the
    /// ETH the deployer sends with the Rollup's deployment).
    pub fn with_eth(public_key: PublicKey, balance: u64) -> Self {
        let mut account = Self::new(public_key);
        account.balances[Token::Eth.index()] = balance;
        account
    }

    /// The balance of one token.
    pub fn balance(&self, token: Token) -> u64 {
        self.balances[token.index()]
    }

    /// The elements hashed into the leaf: key || ETH balance (low, high 32 bits) || token
    /// balance (low, high) || nonce. Two Poseidon absorptions (rate 8).
    pub fn leaf_elements(&self) -> [F; LEAF_ELEMENTS] {
        let mut elements = [F::ZERO; LEAF_ELEMENTS];
        elements[..5].copy_from_slice(&self.public_key.encoding().to_fields());
        for (token, balance) in self.balances.iter().enumerate() {
            elements[5 + 2 * token..7 + 2 * token].copy_from_slice(&u64_to_limbs(*balance));
        }
        elements[LEAF_ELEMENTS - 1] = F::from_canonical_u32(self.nonce);
        elements
    }

    /// The account after paying `payment` (nonce and balance rules, overflow checked): the
    /// one place the debit rules live, shared by every executor.
    pub fn debited(&self, payment: &Payment) -> Result<Self> {
        if payment.nonce != self.nonce {
            return Err(Error::NonceMismatch {
                expected: self.nonce,
                got: payment.nonce,
            });
        }
        let needed = payment.total().ok_or(Error::AmountOverflow)?;
        let balance = self.balance(payment.token);
        let remaining = balance
            .checked_sub(needed)
            .ok_or(Error::InsufficientBalance { balance, needed })?;
        let nonce = self.nonce.checked_add(1).ok_or(Error::NonceExhausted)?;
        let mut after = Self { nonce, ..*self };
        after.balances[payment.token.index()] = remaining;
        Ok(after)
    }

    /// The account after receiving `amount` of `token` (overflow checked).
    pub fn credited(&self, token: Token, amount: u64) -> Result<Self> {
        let balance = self.balance(token);
        let mut after = *self;
        after.balances[token.index()] = balance
            .checked_add(amount)
            .ok_or(Error::BalanceOverflow { balance, amount })?;
        Ok(after)
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
            balances: [1 << 40, 5],
            nonce: 7,
        };
        let leaf = account.leaf();
        assert_ne!(leaf, Digest::ZERO);
        let mut changed = Vec::new();
        for token in 0..TOKENS {
            for delta in [1u64, 1 << 33] {
                let mut other = account;
                other.balances[token] ^= delta;
                changed.push(other);
            }
        }
        changed.push(Account {
            nonce: 8,
            ..account
        });
        changed.push(Account {
            public_key: SecretKey::random().public_key(),
            ..account
        });
        // Swapping the two balances changes the leaf: the token is positional.
        changed.push(Account {
            balances: [5, 1 << 40],
            ..account
        });
        for other in changed {
            assert_ne!(other.leaf(), leaf, "{other:?}");
        }
        assert_eq!(account.leaf_elements()[5..7], u64_to_limbs(1 << 40));
        assert_eq!(account.leaf_elements()[7..9], u64_to_limbs(5));
    }

    #[test]
    fn debits_check_nonce_balance_and_overflow_in_the_paid_token() {
        let key = SecretKey::random().public_key();
        let account = Account {
            public_key: key,
            balances: [100, 7],
            nonce: 2,
        };
        let payment = Payment {
            token: Token::Eth,
            amount: 90,
            fee: 10,
            nonce: 2,
        };
        let after = account.debited(&payment).unwrap();
        assert_eq!((after.balances, after.nonce), ([0, 7], 3));
        let token_payment = Payment {
            token: Token::TestToken,
            amount: 6,
            fee: 1,
            ..payment
        };
        assert_eq!(account.debited(&token_payment).unwrap().balances, [100, 0]);
        assert_eq!(
            account.debited(&Payment {
                amount: 7,
                ..token_payment
            }),
            Err(Error::InsufficientBalance {
                balance: 7,
                needed: 8
            })
        );
        assert_eq!(
            account.debited(&Payment { fee: 11, ..payment }),
            Err(Error::InsufficientBalance {
                balance: 100,
                needed: 101
            })
        );
        assert_eq!(
            account.debited(&Payment {
                nonce: 3,
                ..payment
            }),
            Err(Error::NonceMismatch {
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            account.debited(&Payment {
                amount: u64::MAX,
                ..payment
            }),
            Err(Error::AmountOverflow)
        );
        let last_nonce = Account {
            nonce: u32::MAX,
            ..account
        };
        assert_eq!(
            last_nonce.debited(&Payment {
                nonce: u32::MAX,
                amount: 0,
                fee: 0,
                ..payment
            }),
            Err(Error::NonceExhausted)
        );
        let credited = account.credited(Token::Eth, u64::MAX - 100).unwrap();
        assert_eq!(credited.balances, [u64::MAX, 7]);
        assert!(account.credited(Token::Eth, u64::MAX - 99).is_err());
        assert_eq!(
            account.credited(Token::TestToken, 3).unwrap().balances,
            [100, 10]
        );
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
