//! Withdrawals: L2 operations that take funds out to an L1 address.
//!
//! A withdrawal debits its sender like a transfer (same nonce, same fee rules) and credits
//! nobody on L2: its record in the batch calldata names the L1 recipient, and the Rollup
//! contract credits the recipient's pending balance when the batch is verified, to be
//! claimed on L1. The signed message has the transfer's layout under its own domain tag,
//! with the recipient's 20 bytes (5 big-endian u32 words) where a transfer has its
//! recipient's key.

use std::{fmt, str::FromStr};

use plonky2::field::types::Field;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    account::Payment,
    field::{decode_hex, encode_hex, F},
    hash::{hash_elements, Digest},
    schnorr::{PublicKey, SecretKey, Signature},
    token::Token,
    transfer::{decimal_u64, message_elements, MESSAGE_ELEMENTS},
    Result,
};

/// Domain tag of withdrawal messages ("withdraw" in ASCII, below p): no transfer signature
/// can be replayed as a withdrawal, nor the reverse.
pub const WITHDRAWAL_DOMAIN: u64 = 0x7769_7468_6472_6177;

/// An L1 (Ethereum) address: where a withdrawal is paid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct L1Address(pub [u8; 20]);

impl L1Address {
    /// The 5 big-endian u32 words of the address, as the signed message and the circuit
    /// carry it.
    pub fn words(&self) -> [u32; 5] {
        let (words, _) = self.0.as_chunks::<4>();
        std::array::from_fn(|i| u32::from_be_bytes(words[i]))
    }

    /// The words as field elements.
    pub fn to_fields(&self) -> [F; 5] {
        self.words().map(F::from_canonical_u32)
    }
}

impl fmt::Display for L1Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl FromStr for L1Address {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        let bytes = decode_hex(s, 20, "L1 address")?;
        let mut out = [0u8; 20];
        out.copy_from_slice(&bytes);
        Ok(Self(out))
    }
}

impl Serialize for L1Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for L1Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An unsigned withdrawal of `amount` of `token` from `from` to `recipient` on L1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The rollup deployment it is valid on.
    pub chain_id: u64,
    /// The sender's key (signs and pays).
    pub from: PublicKey,
    /// Who is paid on L1.
    pub recipient: L1Address,
    /// The token withdrawn (and paid as fee).
    #[serde(default)]
    pub token: Token,
    /// Amount withdrawn, in L2 units; must be packable like a transfer's.
    #[serde(with = "decimal_u64")]
    pub amount: u64,
    /// Fee paid on top of the amount.
    #[serde(with = "decimal_u64")]
    pub fee: u64,
    /// Must equal the sender's account nonce when executed.
    pub nonce: u32,
}

impl Withdrawal {
    /// The message elements (the transfer layout, [`WITHDRAWAL_DOMAIN`], the recipient's
    /// words in the destination).
    pub fn message_elements(&self) -> [F; MESSAGE_ELEMENTS] {
        message_elements(
            WITHDRAWAL_DOMAIN,
            self.chain_id,
            &self.from,
            self.recipient.to_fields(),
            &self.payment(),
        )
    }

    /// The signed message and the withdrawal's hash.
    pub fn message(&self) -> Digest {
        hash_elements(&self.message_elements())
    }

    /// What the sender pays.
    pub fn payment(&self) -> Payment {
        Payment {
            token: self.token,
            amount: self.amount,
            fee: self.fee,
            nonce: self.nonce,
        }
    }

    /// The withdrawal with a signature made elsewhere (read back from storage), unchecked.
    pub fn sign_with(self, signature: Signature) -> SignedWithdrawal {
        SignedWithdrawal {
            withdrawal: self,
            signature,
        }
    }

    /// Signs the withdrawal with the sender's key.
    pub fn sign(self, key: &SecretKey) -> SignedWithdrawal {
        SignedWithdrawal {
            signature: key.sign(&self.message()),
            withdrawal: self,
        }
    }
}

/// A withdrawal with its signature, as submitted over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedWithdrawal {
    /// The withdrawal.
    #[serde(flatten)]
    pub withdrawal: Withdrawal,
    /// The sender's Schnorr signature of [`Withdrawal::message`].
    pub signature: Signature,
}

impl SignedWithdrawal {
    /// The withdrawal's hash (its signed message).
    pub fn hash(&self) -> Digest {
        self.withdrawal.message()
    }

    /// Checks the signature against the sender's key.
    pub fn verify(&self) -> Result<()> {
        self.withdrawal.from.verify(&self.hash(), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::Transfer;

    fn sample() -> (SecretKey, Withdrawal) {
        let key = SecretKey::random();
        let withdrawal = Withdrawal {
            chain_id: 31337,
            from: key.public_key(),
            recipient: "0x00112233445566778899aabbccddeeff00112233"
                .parse()
                .unwrap(),
            token: Token::TestToken,
            amount: 5_000,
            fee: 10,
            nonce: 1,
        };
        (key, withdrawal)
    }

    #[test]
    fn a_signed_withdrawal_verifies_and_fails_after_any_field_changes() {
        let (key, withdrawal) = sample();
        let signed = withdrawal.sign(&key);
        signed.verify().unwrap();
        let changes = [
            Withdrawal {
                recipient: L1Address([0x11; 20]),
                ..withdrawal
            },
            Withdrawal {
                token: Token::Eth,
                ..withdrawal
            },
            Withdrawal {
                amount: 5_001,
                ..withdrawal
            },
            Withdrawal {
                fee: 11,
                ..withdrawal
            },
            Withdrawal {
                nonce: 2,
                ..withdrawal
            },
            Withdrawal {
                chain_id: 1,
                ..withdrawal
            },
        ];
        for changed in changes {
            let tampered = SignedWithdrawal {
                withdrawal: changed,
                ..signed
            };
            assert!(tampered.verify().is_err(), "{changed:?} still verifies");
        }
    }

    #[test]
    fn withdrawal_and_transfer_messages_differ_by_domain_only_in_layout() {
        let (key, withdrawal) = sample();
        let elements = withdrawal.message_elements();
        assert_eq!(elements[0], F::from_canonical_u64(WITHDRAWAL_DOMAIN));
        assert_eq!(elements[8..13], withdrawal.recipient.to_fields());
        assert_eq!(elements[8], F::from_canonical_u32(0x0011_2233));
        let transfer = Transfer {
            chain_id: withdrawal.chain_id,
            from: key.public_key(),
            to: key.public_key(),
            amount: withdrawal.amount,
            fee: withdrawal.fee,
            nonce: withdrawal.nonce,
            token: withdrawal.token,
        };
        let transfer_elements = transfer.message_elements();
        assert_eq!(elements[1..8], transfer_elements[1..8]);
        assert_eq!(elements[13..], transfer_elements[13..]);
        assert_ne!(elements[0], transfer_elements[0]);
    }

    #[test]
    fn json_round_trips_with_hex_recipient() {
        let (key, withdrawal) = sample();
        let signed = withdrawal.sign(&key);
        let json = serde_json::to_value(signed).unwrap();
        assert_eq!(
            json["recipient"],
            "0x00112233445566778899aabbccddeeff00112233"
        );
        assert_eq!(json["token"], 1);
        assert_eq!(
            serde_json::from_value::<SignedWithdrawal>(json).unwrap(),
            signed
        );
        assert!("0x1234".parse::<L1Address>().is_err());
    }
}
