//! The Postgres schema shared by every service that touches the database.
//!
//! The SQL lives in the repository's `migrations/` and is embedded at compile time, so a
//! binary always migrates to exactly the schema it was built against. Both the sequencer
//! and the prover workers run [`migrate`] at start; sqlx serialises concurrent runs with
//! an advisory lock, so starting many workers at once is safe.

use sqlx::{migrate::Migrator, PgPool};

/// The project's migrations, embedded from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// The columns of the `transfers` table a stored transfer or withdrawal is read from, for
/// `SELECT {TRANSACTION_COLUMNS} FROM transfers t ...` (table alias `t`).
pub const TRANSACTION_COLUMNS: &str =
    "t.chain_id, t.from_key, t.to_key, t.recipient, t.kind, t.token, t.amount, t.fee, t.nonce, t.signature";

/// The signed operation of a row selected with [`TRANSACTION_COLUMNS`] (journalled by the
/// sequencer, read back by its recovery and by the provers). Errors name what is corrupt.
pub fn transaction_from_row(
    row: &sqlx::postgres::PgRow,
) -> Result<crate::transaction::SignedTransaction, String> {
    use sqlx::Row;

    use crate::{
        schnorr::{PublicKey, Signature},
        token::Token,
        transfer::Transfer,
        withdrawal::{L1Address, Withdrawal},
    };

    let get_bytes = |column: &str| -> Result<Vec<u8>, String> {
        row.try_get::<Vec<u8>, _>(column)
            .map_err(|e| format!("column {column}: {e}"))
    };
    let get_word = |column: &str| -> Result<u64, String> {
        row.try_get::<i64, _>(column)
            .map(|value| value as u64)
            .map_err(|e| format!("column {column}: {e}"))
    };
    let key = |column: &str| -> Result<PublicKey, String> {
        PublicKey::from_bytes(&get_bytes(column)?).map_err(|e| format!("stored {column}: {e}"))
    };
    let chain_id = get_word("chain_id")?;
    let from = key("from_key")?;
    let amount = get_word("amount")?;
    let fee = get_word("fee")?;
    let nonce = u32::try_from(get_word("nonce")?).map_err(|_| "a nonce above 32 bits")?;
    let token = row
        .try_get::<i16, _>("token")
        .map_err(|e| format!("column token: {e}"))?;
    let token = Token::try_from(token as u8).map_err(|e| format!("stored token: {e}"))?;
    let signature = Signature::from_bytes(&get_bytes("signature")?)
        .map_err(|e| format!("stored signature: {e}"))?;
    let kind = row
        .try_get::<i16, _>("kind")
        .map_err(|e| format!("column kind: {e}"))?;
    Ok(match kind {
        0 => Transfer {
            chain_id,
            from,
            to: key("to_key")?,
            amount,
            fee,
            nonce,
            token,
        }
        .sign_with(signature)
        .into(),
        1 => {
            let recipient: [u8; 20] = get_bytes("recipient")?
                .try_into()
                .map_err(|_| "a stored recipient not of 20 bytes")?;
            Withdrawal {
                chain_id,
                from,
                recipient: L1Address(recipient),
                token,
                amount,
                fee,
                nonce,
            }
            .sign_with(signature)
            .into()
        }
        other => return Err(format!("unknown transaction kind {other}")),
    })
}

/// The columns of the `deposits` table a deposit is read from (no table alias).
pub const DEPOSIT_COLUMNS: &str = "queue_index, token, public_key, amount";

/// The deposit of a row selected with [`DEPOSIT_COLUMNS`]. Errors name what is corrupt.
pub fn deposit_from_row(row: &sqlx::postgres::PgRow) -> Result<crate::deposit::Deposit, String> {
    use sqlx::Row;

    use crate::{deposit::Deposit, schnorr::PublicKey, token::Token};

    let index = row
        .try_get::<i64, _>("queue_index")
        .map_err(|e| format!("column queue_index: {e}"))?;
    let token = row
        .try_get::<i16, _>("token")
        .map_err(|e| format!("column token: {e}"))?;
    let key = row
        .try_get::<Vec<u8>, _>("public_key")
        .map_err(|e| format!("column public_key: {e}"))?;
    let amount = row
        .try_get::<i64, _>("amount")
        .map_err(|e| format!("column amount: {e}"))?;
    Ok(Deposit {
        index: index as u64,
        token: Token::try_from(token as u8).map_err(|e| format!("stored token: {e}"))?,
        to: PublicKey::from_bytes(&key).map_err(|e| format!("stored deposit key: {e}"))?,
        amount: amount as u64,
    })
}
