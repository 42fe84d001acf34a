//! The genesis file (`genesis.json`): what a deployment's state starts from.
//!
//! Every node of a deployment must start from the same state, so the file carries, besides
//! the chain id, the tree shape and the funded accounts, the state root they give:
//! [`Genesis::state`] rebuilds the state and refuses a file whose accounts do not give its
//! root (a hand-edited balance, a truncated account list), instead of silently forking.
//!
//! ```json
//! {
//!   "chain_id": 31337,
//!   "tree": { "depth": 32, "partition_bits": 4 },
//!   "accounts": [ { "public_key": "0x…", "balance": "1000000" } ],
//!   "state_root": "0x…"
//! }
//! ```
//!
//! Balances are decimal strings, like transfer amounts, so that JavaScript tools keep every
//! digit of a 64-bit value; accounts are created in the order listed.

use std::{fs::OpenOptions, io::Write, path::Path};

use serde::{Deserialize, Serialize};

use crate::{
    hash::Digest, schnorr::PublicKey, state::State, transfer::decimal_u64, tree::TreeConfig, Error,
    Result,
};

/// The chain id of local deployments (Anvil's), the default of the tools.
pub const DEFAULT_CHAIN_ID: u64 = 31337;

/// One account funded at genesis (its nonce starts at zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account's key, its address.
    pub public_key: PublicKey,
    /// The starting balance, in the token's smallest unit.
    #[serde(with = "decimal_u64")]
    pub balance: u64,
}

/// The contents of a `genesis.json`: a deployment's chain id, tree shape, funded accounts
/// and the state root they give.
///
/// Unknown fields are refused, so that a misspelt key cannot be silently ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The deployment's chain id, which every transfer signs (replay protection).
    pub chain_id: u64,
    /// The state tree's shape (validated when read).
    pub tree: TreeConfig,
    /// The funded accounts, in creation order.
    pub accounts: Vec<GenesisAccount>,
    /// The root of the genesis state; [`Genesis::state`] checks it.
    pub state_root: Digest,
}

impl Genesis {
    /// A genesis of the given accounts, with the state root they give; refuses what
    /// [`State::genesis`] refuses (an account listed twice, a full partition).
    pub fn new(chain_id: u64, tree: TreeConfig, accounts: Vec<GenesisAccount>) -> Result<Self> {
        let state_root = State::genesis(tree, &balances(&accounts))?.root();
        Ok(Self {
            chain_id,
            tree,
            accounts,
            state_root,
        })
    }

    /// Rebuilds the genesis state, refusing a genesis whose accounts do not give its
    /// `state_root` ([`Error::GenesisRootMismatch`]), so a node never starts from a state
    /// other nodes do not share.
    pub fn state(&self) -> Result<State> {
        let state = State::genesis(self.tree, &balances(&self.accounts))?;
        if state.root() != self.state_root {
            return Err(Error::GenesisRootMismatch {
                stated: self.state_root.to_string(),
                computed: state.root().to_string(),
            });
        }
        Ok(state)
    }

    /// The pretty-printed JSON of the file (with a final newline), for humans to review.
    pub fn to_json(&self) -> String {
        let mut json =
            serde_json::to_string_pretty(self).expect("a genesis always serializes to JSON");
        json.push('\n');
        json
    }

    /// Reads and parses a genesis file. The state root is not checked here: call
    /// [`Genesis::state`].
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
        serde_json::from_str(&text).map_err(|e| file_error(path, e))
    }

    /// Writes the file, refusing to overwrite an existing one: a deployment's genesis must
    /// never change under its nodes.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| file_error(path, e))?;
        file.write_all(self.to_json().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| file_error(path, e))
    }
}

/// The `(key, balance)` pairs [`State::genesis`] takes.
fn balances(accounts: &[GenesisAccount]) -> Vec<(PublicKey, u64)> {
    accounts
        .iter()
        .map(|account| (account.public_key, account.balance))
        .collect()
}

/// An [`Error::GenesisFile`] naming the path.
fn file_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::GenesisFile {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schnorr::SecretKey;

    fn sample() -> Genesis {
        let accounts = (0..5)
            .map(|i| GenesisAccount {
                public_key: SecretKey::random().public_key(),
                balance: 1_000_000 + i,
            })
            .collect();
        Genesis::new(DEFAULT_CHAIN_ID, TreeConfig::new(8, 2).unwrap(), accounts).unwrap()
    }

    #[test]
    fn round_trips_through_json_and_rebuilds_its_state() {
        let genesis = sample();
        let json = genesis.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["chain_id"], 31337);
        assert_eq!(value["tree"]["depth"], 8);
        assert_eq!(value["tree"]["partition_bits"], 2);
        assert_eq!(value["accounts"][0]["balance"], "1000000");
        assert_eq!(value["state_root"], genesis.state_root.to_string());

        let parsed: Genesis = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, genesis);
        let state = parsed.state().unwrap();
        assert_eq!(state.root(), genesis.state_root);
        assert_eq!(state.account_count(), 5);
        for account in &genesis.accounts {
            let (_, stored) = state.account(&account.public_key).unwrap();
            assert_eq!(stored.balances, [account.balance, 0]);
            assert_eq!(stored.nonce, 0);
        }
    }

    #[test]
    fn a_tampered_balance_or_root_is_refused() {
        let genesis = sample();
        let mut richer = genesis.clone();
        richer.accounts[2].balance += 1;
        assert!(matches!(
            richer.state(),
            Err(Error::GenesisRootMismatch { .. })
        ));

        let mut dropped = genesis.clone();
        dropped.accounts.pop();
        assert!(matches!(
            dropped.state(),
            Err(Error::GenesisRootMismatch { .. })
        ));

        let mut other_root = genesis.clone();
        other_root.state_root = Digest::ZERO;
        let err = other_root.state().unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&Digest::ZERO.to_string()), "{message}");
        assert!(
            message.contains(&genesis.state_root.to_string()),
            "{message}"
        );
    }

    #[test]
    fn duplicate_accounts_are_refused() {
        let key = SecretKey::random().public_key();
        let account = GenesisAccount {
            public_key: key,
            balance: 1,
        };
        assert_eq!(
            Genesis::new(
                DEFAULT_CHAIN_ID,
                TreeConfig::default(),
                vec![account, account]
            ),
            Err(Error::DuplicateAccount {
                account: key.to_string()
            })
        );
        // A hand-written file with a duplicate is refused when its state is rebuilt too.
        let mut genesis = sample();
        genesis.accounts.push(genesis.accounts[0]);
        assert!(matches!(
            genesis.state(),
            Err(Error::DuplicateAccount { .. })
        ));
    }

    #[test]
    fn malformed_files_are_refused() {
        let json = serde_json::to_value(sample()).unwrap();
        let mut unknown = json.clone();
        unknown["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Genesis>(unknown).is_err());
        let mut bad_tree = json.clone();
        bad_tree["tree"]["partition_bits"] = serde_json::json!(9);
        assert!(serde_json::from_value::<Genesis>(bad_tree).is_err());
        let mut bad_balance = json;
        bad_balance["accounts"][0]["balance"] = serde_json::json!("-1");
        assert!(serde_json::from_value::<Genesis>(bad_balance).is_err());
    }

    #[test]
    fn files_are_read_back_and_never_overwritten() {
        let dir = std::env::temp_dir().join(format!(
            "rollup-genesis-test-{}-{}",
            std::process::id(),
            SecretKey::random().public_key()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("genesis.json");
        let genesis = sample();
        genesis.write_new_file(&path).unwrap();
        assert_eq!(Genesis::from_json_file(&path).unwrap(), genesis);

        let err = sample().write_new_file(&path).unwrap_err();
        assert!(matches!(err, Error::GenesisFile { .. }), "{err}");
        assert!(err.to_string().contains("genesis.json"), "{err}");
        assert_eq!(Genesis::from_json_file(&path).unwrap(), genesis);

        let missing = Genesis::from_json_file(&dir.join("missing.json")).unwrap_err();
        assert!(missing.to_string().contains("missing.json"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
