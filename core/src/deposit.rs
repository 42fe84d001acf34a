//! Deposits: funds entering L2 from the Rollup contract's priority queue.
//!
//! L1 appends each deposit to a Keccak chain, `q_{n+1} = keccak256(q_n || token || key ||
//! amount)` ([`queue_link`]), and stores every head. A batch consumes the next deposits of
//! the queue, in order: each one is credited in its key's partition (creating the account
//! if the key has none) and posted as a deposit record naming its offset in the batch's
//! segment; L1 recomputes the chain over the records and compares it with its stored heads,
//! so a batch can neither skip, reorder nor invent a deposit, and the proof binds the
//! records to the credits.

use serde::{Deserialize, Serialize};

use crate::{batch_data::keccak256, schnorr::PublicKey, token::Token, transfer::decimal_u64};

/// The most deposits a batch consumes (the u16 offset of the records leaves room; the
/// contract's cap is the same).
pub const MAX_DEPOSITS_PER_BATCH: usize = 1024;

/// One deposit of the L1 queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Its position in the L1 queue (0-based, the contract's `Deposit` event index).
    pub index: u64,
    /// The token deposited.
    pub token: Token,
    /// The L2 account credited (created if the key has none).
    pub to: PublicKey,
    /// The amount, in L2 units.
    #[serde(with = "decimal_u64")]
    pub amount: u64,
}

/// The queue head after `deposit`: `keccak256(previous || token (1) || key (40) || amount
/// (8, big-endian))`, exactly the Rollup contract's.
pub fn queue_link(previous: &[u8; 32], deposit: &Deposit) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(32 + 1 + 40 + 8);
    bytes.extend_from_slice(previous);
    bytes.push(u8::from(deposit.token));
    bytes.extend_from_slice(&deposit.to.to_bytes());
    bytes.extend_from_slice(&deposit.amount.to_be_bytes());
    keccak256(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schnorr::SecretKey;

    #[test]
    fn queue_links_bind_every_field_and_the_previous_head() {
        let deposit = Deposit {
            index: 0,
            token: Token::Eth,
            to: SecretKey::random().public_key(),
            amount: 1_000,
        };
        let head = queue_link(&[0; 32], &deposit);
        assert_ne!(queue_link(&[1; 32], &deposit), head);
        for other in [
            Deposit {
                token: Token::TestToken,
                ..deposit
            },
            Deposit {
                amount: 1_001,
                ..deposit
            },
            Deposit {
                to: SecretKey::random().public_key(),
                ..deposit
            },
        ] {
            assert_ne!(queue_link(&[0; 32], &other), head);
        }
        // The queue index is the head's position, not part of the link.
        assert_eq!(
            queue_link(
                &[0; 32],
                &Deposit {
                    index: 9,
                    ..deposit
                }
            ),
            head
        );
    }

    /// The queue heads contracts/test/RollupBridge.t.sol pins, computed independently by
    /// contracts/test/known_answers.py: Rust links the chain exactly as the contract does.
    #[test]
    fn queue_links_match_the_contracts_known_answers() {
        let key = |hex: &str| hex.parse::<PublicKey>().unwrap();
        let mut generator = [0u8; 40];
        generator[0] = 4;
        let deposits = [
            (
                Token::Eth,
                key("0x599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b7061498"),
                1_500_000_000,
                "7b7b2923f16e27d39577e3bc735e32b7661763ebf85705e1c0d9af2db1945f89",
            ),
            (
                Token::TestToken,
                key("0xb80dce0616c1ae98729d0cec0f34f7ec961f3ad01e35b1365bd6f6f481ed69d02fce8f992f63004d"),
                7,
                "8e75dc6ccd61ceec1d3230b361ceb01a099bcd4d156e83a728e19117440a06a8",
            ),
            (
                Token::Eth,
                PublicKey::from_bytes(&generator).unwrap(),
                3,
                "d68fb960c06d7766c3485f2405c2e294df3bab3a8a7e62b3de3e5fed82a09d93",
            ),
        ];
        let mut head = [0u8; 32];
        for (index, (token, to, amount, expected)) in deposits.into_iter().enumerate() {
            head = queue_link(
                &head,
                &Deposit {
                    index: index as u64,
                    token,
                    to,
                    amount,
                },
            );
            assert_eq!(hex::encode(head), expected, "head after deposit {index}");
        }
    }
}
