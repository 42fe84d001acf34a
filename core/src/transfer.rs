//! Transfers: what users sign and submit.
//!
//! The signed message is the Poseidon digest of every field ([`Transfer::message`]), which
//! is also the transfer's hash (its identifier in the API): a fixed layout of 19 field
//! elements that the circuit rebuilds from the same values. Withdrawals
//! ([`crate::withdrawal`]) sign the same layout under another domain tag.
//!
//! The fee leaves L2: it is debited from the sender with the amount and summed per batch,
//! and settlement pays each batch's total to the operator on L1 (so fees need no hot
//! operator account inside a partition).

use plonky2::field::types::Field;
use serde::{Deserialize, Serialize};

use crate::{
    account::Payment,
    field::{u64_to_limbs, F},
    hash::{hash_elements, Digest},
    schnorr::{PublicKey, SecretKey, Signature},
    token::Token,
    Result,
};

/// Domain tag of transfer messages ("transfer" in ASCII, below p), so that no other signed
/// message of the rollup can be replayed as a transfer.
pub const TRANSFER_DOMAIN: u64 = 0x7472_616e_7366_6572;

/// The number of field elements of a signed message (transfer or withdrawal).
pub const MESSAGE_ELEMENTS: usize = 19;

/// The message layout shared by every signed operation: domain || chain id (2 limbs) ||
/// sender (5) || destination (5: a key, or an L1 address as 5 u32 words) || amount (2
/// limbs) || fee (2 limbs) || nonce || token. One layout lets the chunk circuit's signature
/// units check either kind with one message builder.
pub(crate) fn message_elements(
    domain: u64,
    chain_id: u64,
    from: &PublicKey,
    destination: [F; 5],
    payment: &Payment,
) -> [F; MESSAGE_ELEMENTS] {
    let mut elements = [F::ZERO; MESSAGE_ELEMENTS];
    elements[0] = F::from_canonical_u64(domain);
    elements[1..3].copy_from_slice(&u64_to_limbs(chain_id));
    elements[3..8].copy_from_slice(&from.encoding().to_fields());
    elements[8..13].copy_from_slice(&destination);
    elements[13..15].copy_from_slice(&u64_to_limbs(payment.amount));
    elements[15..17].copy_from_slice(&u64_to_limbs(payment.fee));
    elements[17] = F::from_canonical_u32(payment.nonce);
    elements[18] = F::from_canonical_u64(payment.token as u64);
    elements
}

/// An unsigned transfer of `amount` from `from` to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    /// The rollup deployment it is valid on (replay protection across deployments).
    pub chain_id: u64,
    /// The sender's key (the account that signs and pays).
    pub from: PublicKey,
    /// The recipient's key; its account is created if it has none.
    pub to: PublicKey,
    /// Amount moved, in the token's smallest unit.
    #[serde(with = "decimal_u64")]
    pub amount: u64,
    /// Fee paid by the sender on top of the amount.
    #[serde(with = "decimal_u64")]
    pub fee: u64,
    /// Must equal the sender's account nonce when executed.
    pub nonce: u32,
    /// The token moved (and paid as fee); ETH when absent from JSON.
    #[serde(default)]
    pub token: Token,
}

impl Transfer {
    /// The message elements: domain || chain id (2 limbs) || from (5) || to (5) ||
    /// amount (2 limbs) || fee (2 limbs) || nonce || token.
    pub fn message_elements(&self) -> [F; MESSAGE_ELEMENTS] {
        message_elements(
            TRANSFER_DOMAIN,
            self.chain_id,
            &self.from,
            self.to.encoding().to_fields(),
            &self.payment(),
        )
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

    /// The signed message and the transfer's hash.
    pub fn message(&self) -> Digest {
        hash_elements(&self.message_elements())
    }

    /// Signs the transfer. The key must be the sender's; a signature by any other key is
    /// refused by [`SignedTransfer::verify`].
    pub fn sign(self, key: &SecretKey) -> SignedTransfer {
        SignedTransfer {
            signature: key.sign(&self.message()),
            transfer: self,
        }
    }

    /// The transfer with a signature made elsewhere (read back from storage), unchecked.
    pub fn sign_with(self, signature: Signature) -> SignedTransfer {
        SignedTransfer {
            transfer: self,
            signature,
        }
    }

    /// What the sender pays: amount + fee, `None` when it overflows a `u64`.
    pub fn total_debit(&self) -> Option<u64> {
        self.amount.checked_add(self.fee)
    }
}

/// A transfer with its signature, as submitted over HTTP (JSON, hex keys and signature,
/// decimal strings for 64-bit amounts so JavaScript clients keep every digit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransfer {
    /// The transfer.
    #[serde(flatten)]
    pub transfer: Transfer,
    /// The sender's Schnorr signature of [`Transfer::message`].
    pub signature: Signature,
}

impl SignedTransfer {
    /// The transfer's hash (its signed message).
    pub fn hash(&self) -> Digest {
        self.transfer.message()
    }

    /// Checks the signature against the sender's key; stateless, so the sequencer runs it
    /// in parallel before execution.
    pub fn verify(&self) -> Result<()> {
        self.transfer.from.verify(&self.hash(), &self.signature)
    }
}

/// Serde of a `u64` as a decimal string, accepting a JSON number too on input (shared with
/// [`crate::genesis`] balances).
pub(crate) mod decimal_u64 {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(u64),
            Text(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Number(value) => Ok(value),
            Repr::Text(text) => text.parse().map_err(|_| {
                de::Error::custom(format!("expected an unsigned 64-bit decimal, got {text:?}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SecretKey, Transfer) {
        let key = SecretKey::random();
        let transfer = Transfer {
            chain_id: 31337,
            from: key.public_key(),
            to: SecretKey::random().public_key(),
            amount: 1_000_000,
            fee: 25,
            nonce: 3,
            token: Token::Eth,
        };
        (key, transfer)
    }

    #[test]
    fn a_signed_transfer_verifies_and_fails_after_any_field_changes() {
        let (key, transfer) = sample();
        let signed = transfer.sign(&key);
        signed.verify().expect("valid signature");

        let other = SecretKey::random().public_key();
        let changes = [
            Transfer {
                chain_id: 1,
                ..transfer
            },
            Transfer {
                from: other,
                ..transfer
            },
            Transfer {
                to: other,
                ..transfer
            },
            Transfer {
                amount: transfer.amount + 1,
                ..transfer
            },
            Transfer {
                amount: transfer.amount | (1 << 40),
                ..transfer
            },
            Transfer {
                fee: 24,
                ..transfer
            },
            Transfer {
                nonce: 4,
                ..transfer
            },
            Transfer {
                token: Token::TestToken,
                ..transfer
            },
        ];
        for changed in changes {
            let tampered = SignedTransfer {
                transfer: changed,
                ..signed
            };
            assert!(tampered.verify().is_err(), "{changed:?} still verifies");
            assert_ne!(tampered.hash(), signed.hash());
        }
        let wrong_signer = transfer.sign(&SecretKey::random());
        assert!(wrong_signer.verify().is_err());
    }

    #[test]
    fn json_uses_hex_keys_and_decimal_amounts_and_round_trips() {
        let (key, transfer) = sample();
        let signed = transfer.sign(&key);
        let json = serde_json::to_value(signed).unwrap();
        assert_eq!(json["amount"], "1000000");
        assert_eq!(json["fee"], "25");
        assert_eq!(json["nonce"], 3);
        assert_eq!(json["token"], 0);
        let mut without_token = json.clone();
        without_token.as_object_mut().unwrap().remove("token");
        assert_eq!(
            serde_json::from_value::<SignedTransfer>(without_token).unwrap(),
            signed,
            "a transfer without a token is an ETH transfer"
        );
        assert_eq!(json["from"].as_str().unwrap().len(), 2 + 80);
        assert_eq!(json["signature"].as_str().unwrap().len(), 2 + 144);
        assert_eq!(
            serde_json::from_value::<SignedTransfer>(json.clone()).unwrap(),
            signed
        );

        let mut as_number = json.clone();
        as_number["amount"] = serde_json::json!(1_000_000u64);
        assert_eq!(
            serde_json::from_value::<SignedTransfer>(as_number).unwrap(),
            signed
        );

        for bad_amount in [
            serde_json::json!("-1"),
            serde_json::json!("1e3"),
            serde_json::json!("18446744073709551616"),
        ] {
            let mut bad = json.clone();
            bad["amount"] = bad_amount;
            assert!(serde_json::from_value::<SignedTransfer>(bad).is_err());
        }
        let mut bad_key = json;
        bad_key["to"] = serde_json::json!(format!("0x{}", "ff".repeat(40)));
        assert!(serde_json::from_value::<SignedTransfer>(bad_key).is_err());
    }

    #[test]
    fn total_debit_is_overflow_checked() {
        let (_, transfer) = sample();
        assert_eq!(transfer.total_debit(), Some(1_000_025));
        assert_eq!(
            Transfer {
                amount: u64::MAX,
                ..transfer
            }
            .total_debit(),
            None
        );
    }
}
