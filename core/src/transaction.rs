//! The signed L2 operations a batch executes after its deposits: transfers and withdrawals.

use serde::{Deserialize, Serialize};

use crate::{
    account::Payment,
    hash::Digest,
    schnorr::{PublicKey, Signature},
    transfer::{SignedTransfer, Transfer},
    withdrawal::{SignedWithdrawal, Withdrawal},
    Result,
};

/// A user operation, unsigned: what execution needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transaction {
    /// A transfer to an L2 account.
    Transfer(Transfer),
    /// A withdrawal to an L1 address.
    Withdrawal(Withdrawal),
}

impl Transaction {
    /// The sender (who signs and pays).
    pub fn from(&self) -> &PublicKey {
        match self {
            Transaction::Transfer(transfer) => &transfer.from,
            Transaction::Withdrawal(withdrawal) => &withdrawal.from,
        }
    }

    /// The chain id it is signed for.
    pub fn chain_id(&self) -> u64 {
        match self {
            Transaction::Transfer(transfer) => transfer.chain_id,
            Transaction::Withdrawal(withdrawal) => withdrawal.chain_id,
        }
    }

    /// The L2 account credited: a transfer's recipient; `None` for a withdrawal (paid on
    /// L1).
    pub fn recipient(&self) -> Option<&PublicKey> {
        match self {
            Transaction::Transfer(transfer) => Some(&transfer.to),
            Transaction::Withdrawal(_) => None,
        }
    }

    /// What the sender pays.
    pub fn payment(&self) -> Payment {
        match self {
            Transaction::Transfer(transfer) => transfer.payment(),
            Transaction::Withdrawal(withdrawal) => withdrawal.payment(),
        }
    }

    /// The signed message (the operation's hash).
    pub fn message(&self) -> Digest {
        match self {
            Transaction::Transfer(transfer) => transfer.message(),
            Transaction::Withdrawal(withdrawal) => withdrawal.message(),
        }
    }
}

impl From<Transfer> for Transaction {
    fn from(transfer: Transfer) -> Self {
        Transaction::Transfer(transfer)
    }
}

impl From<Withdrawal> for Transaction {
    fn from(withdrawal: Withdrawal) -> Self {
        Transaction::Withdrawal(withdrawal)
    }
}

/// A user operation with its signature: what the sequencer journals and the prover proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignedTransaction {
    /// A signed transfer.
    Transfer(SignedTransfer),
    /// A signed withdrawal.
    Withdrawal(SignedWithdrawal),
}

impl SignedTransaction {
    /// The operation without its signature.
    pub fn transaction(&self) -> Transaction {
        match self {
            SignedTransaction::Transfer(signed) => Transaction::Transfer(signed.transfer),
            SignedTransaction::Withdrawal(signed) => Transaction::Withdrawal(signed.withdrawal),
        }
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        match self {
            SignedTransaction::Transfer(signed) => &signed.signature,
            SignedTransaction::Withdrawal(signed) => &signed.signature,
        }
    }

    /// The operation's hash (its signed message).
    pub fn hash(&self) -> Digest {
        self.transaction().message()
    }

    /// Checks the signature against the sender's key.
    pub fn verify(&self) -> Result<()> {
        match self {
            SignedTransaction::Transfer(signed) => signed.verify(),
            SignedTransaction::Withdrawal(signed) => signed.verify(),
        }
    }
}

impl From<SignedTransfer> for SignedTransaction {
    fn from(signed: SignedTransfer) -> Self {
        SignedTransaction::Transfer(signed)
    }
}

impl From<SignedWithdrawal> for SignedTransaction {
    fn from(signed: SignedWithdrawal) -> Self {
        SignedTransaction::Withdrawal(signed)
    }
}
