//! The wallet side of the rollup: key files, signing transfers the sequencer will accept,
//! and creating a deployment's genesis (the library behind the `rollup` binary).
//!
//! A key file is JSON, `{ "public_key": "0x…", "secret_key": "0x…" }`, created with mode
//! 0600 and never overwritten (losing a funded key is unrecoverable). Reading one checks
//! that the secret key gives the stored public key, so a corrupted file cannot sign for an
//! address other than the one it shows.

use std::{
    fs::OpenOptions,
    io::{self, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use rayon::prelude::*;
use rollup_core::{
    batch_data::{FloatFormat, AMOUNT_FORMAT, FEE_FORMAT},
    field::{decode_hex, encode_hex},
    genesis::{Genesis, GenesisAccount},
    schnorr::{PublicKey, SecretKey},
    token::Token,
    transfer::{SignedTransfer, Transfer},
    tree::TreeConfig,
    withdrawal::{L1Address, SignedWithdrawal, Withdrawal},
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The name of the genesis file in a directory made by [`create_genesis`].
pub const GENESIS_FILE: &str = "genesis.json";

/// The on-disk form of a key file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    public_key: PublicKey,
    secret_key: String,
}

/// Writes `key` to a new key file readable by its owner only (mode 0600), refusing to
/// overwrite an existing file ([`Error::AlreadyExists`]) so that a funded key is never lost.
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<()> {
    let contents = KeyFile {
        public_key: key.public_key(),
        secret_key: encode_hex(&key.to_bytes()),
    };
    let mut json = serde_json::to_string_pretty(&contents).expect("a key file serializes");
    json.push('\n');
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => Error::AlreadyExists {
                path: path.to_owned(),
            },
            _ => file_io(path, source),
        })?;
    file.write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| file_io(path, source))
}

/// Reads a key file, refusing one whose secret key does not give its stored public key
/// ([`Error::KeyMismatch`]).
pub fn read_key_file(path: &Path) -> Result<SecretKey> {
    let invalid = |reason: String| Error::InvalidKeyFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| file_io(path, source))?;
    let contents: KeyFile = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let key = decode_hex(&contents.secret_key, 40, "secret key")
        .and_then(|bytes| SecretKey::from_bytes(&bytes))
        .map_err(|e| invalid(e.to_string()))?;
    if key.public_key() != contents.public_key {
        return Err(Error::KeyMismatch {
            path: path.to_owned(),
            stated: contents.public_key.to_string(),
            derived: key.public_key().to_string(),
        });
    }
    Ok(key)
}

/// The largest value at most `value` that `format` represents exactly (0 is always
/// representable), to suggest a postable amount or fee instead of a refused one.
pub fn nearest_packable_below(format: &FloatFormat, value: u64) -> u64 {
    format.largest_packable_at_most(value)
}

/// Refuses a value `format` cannot represent, naming the nearest lower one that it can.
fn check_packable(format: &FloatFormat, what: &'static str, value: u64) -> Result<()> {
    if format.is_packable(value) {
        return Ok(());
    }
    Err(Error::UnpackableValue {
        what,
        value,
        mantissa_bits: format.mantissa_bits(),
        nearest_lower: nearest_packable_below(format, value),
    })
}

/// Signs a transfer from `key`'s account, refusing what the sequencer would refuse
/// statelessly: an amount or fee that cannot be posted to L1 ([`Error::UnpackableValue`])
/// and an amount plus fee that overflows 64 bits.
#[allow(clippy::too_many_arguments)]
pub fn sign_transfer(
    key: &SecretKey,
    chain_id: u64,
    to: PublicKey,
    token: Token,
    amount: u64,
    fee: u64,
    nonce: u32,
) -> Result<SignedTransfer> {
    check_packable(&AMOUNT_FORMAT, "amount", amount)?;
    check_packable(&FEE_FORMAT, "fee", fee)?;
    let transfer = Transfer {
        chain_id,
        from: key.public_key(),
        to,
        amount,
        fee,
        nonce,
        token,
    };
    if transfer.total_debit().is_none() {
        return Err(rollup_core::Error::AmountOverflow.into());
    }
    Ok(transfer.sign(key))
}

/// Signs a withdrawal from `key`'s account to `recipient` on L1, refusing what the
/// sequencer would refuse statelessly (as [`sign_transfer`]).
#[allow(clippy::too_many_arguments)]
pub fn sign_withdrawal(
    key: &SecretKey,
    chain_id: u64,
    recipient: L1Address,
    token: Token,
    amount: u64,
    fee: u64,
    nonce: u32,
) -> Result<SignedWithdrawal> {
    check_packable(&AMOUNT_FORMAT, "amount", amount)?;
    check_packable(&FEE_FORMAT, "fee", fee)?;
    let withdrawal = Withdrawal {
        chain_id,
        from: key.public_key(),
        recipient,
        token,
        amount,
        fee,
        nonce,
    };
    if withdrawal.payment().total().is_none() {
        return Err(rollup_core::Error::AmountOverflow.into());
    }
    Ok(withdrawal.sign(key))
}

/// The key file name of account `index` among `count`: `account-0000.key`, zero-padded to
/// at least four digits and to the width of the last index, so names sort in index order.
pub fn key_file_name(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len().max(4);
    format!("account-{index:0width$}.key")
}

/// What [`create_genesis`] wrote.
#[derive(Clone, Debug)]
pub struct CreatedGenesis {
    /// The genesis, as written.
    pub genesis: Genesis,
    /// The path of `genesis.json`.
    pub genesis_path: PathBuf,
    /// The key file of each account, in the genesis' account order.
    pub key_paths: Vec<PathBuf>,
}

/// Creates a deployment's genesis in `dir` (created if needed): `accounts` fresh keys in
/// key files named by [`key_file_name`], each funded with `balance`, and
/// [`GENESIS_FILE`]. Refuses before writing anything if any of those files exists, so an
/// existing deployment is never overwritten or mixed with a new one.
pub fn create_genesis(
    dir: &Path,
    accounts: usize,
    balance: u64,
    chain_id: u64,
    tree: TreeConfig,
) -> Result<CreatedGenesis> {
    std::fs::create_dir_all(dir).map_err(|source| file_io(dir, source))?;
    let genesis_path = dir.join(GENESIS_FILE);
    let key_paths: Vec<PathBuf> = (0..accounts)
        .map(|index| dir.join(key_file_name(index, accounts)))
        .collect();
    for path in std::iter::once(&genesis_path).chain(&key_paths) {
        // symlink_metadata: a dangling link is an existing name too.
        if path.symlink_metadata().is_ok() {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
    }

    let keys: Vec<SecretKey> = (0..accounts)
        .into_par_iter()
        .map(|_| SecretKey::random())
        .collect();
    let funded = keys
        .iter()
        .map(|key| GenesisAccount {
            public_key: key.public_key(),
            balance,
        })
        .collect();
    // Built (and so validated: tree capacity, duplicates) before any file is written.
    let genesis = Genesis::new(chain_id, tree, funded)?;
    for (key, path) in keys.iter().zip(&key_paths) {
        write_key_file(path, key)?;
    }
    // Written last: its presence means the key files are complete.
    genesis.write_new_file(&genesis_path)?;
    Ok(CreatedGenesis {
        genesis,
        genesis_path,
        key_paths,
    })
}

/// An [`Error::FileIo`] naming the path.
fn file_io(path: &Path, source: io::Error) -> Error {
    Error::FileIo {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use rollup_core::batch_data::{is_packable_amount, is_packable_fee};

    use super::*;

    #[test]
    fn nearest_packable_below_is_packable_and_maximal() {
        for value in [
            0,
            1,
            2047,
            2048,
            2049,
            20_491,
            123_456_789,
            (1 << 35) + 1,
            u64::MAX,
            10u64.pow(19) + 7,
        ] {
            let amount = nearest_packable_below(&AMOUNT_FORMAT, value);
            assert!(amount <= value && is_packable_amount(amount), "{value}");
            let fee = nearest_packable_below(&FEE_FORMAT, value);
            assert!(fee <= value && is_packable_fee(fee), "{value}");
            if is_packable_fee(value) {
                assert_eq!(fee, value);
            }
        }
        assert_eq!(nearest_packable_below(&FEE_FORMAT, 2049), 2047);
        assert_eq!(nearest_packable_below(&FEE_FORMAT, 20_491), 20_470);
        for value in 0..30_000 {
            let fee = nearest_packable_below(&FEE_FORMAT, value);
            assert!(((fee + 1)..=value).all(|v| !is_packable_fee(v)), "{value}");
        }
    }

    #[test]
    fn key_file_names_sort_in_index_order() {
        assert_eq!(key_file_name(0, 5), "account-0000.key");
        assert_eq!(key_file_name(42, 10_000), "account-0042.key");
        assert_eq!(key_file_name(42, 10_001), "account-00042.key");
    }
}
