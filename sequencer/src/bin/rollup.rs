//! `rollup`: the wallet CLI: key files, signed transfers and a deployment's genesis (see
//! `sequencer::wallet`, which does the work), `deploy`, the L1 contracts
//! (`sequencer::settlement::deploy`), and `restore`, the state rebuilt from L1
//! (`sequencer::restore`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rollup_core::hash::Digest;
use rollup_core::{
    genesis::DEFAULT_CHAIN_ID,
    schnorr::PublicKey,
    token::Token,
    tree::{TreeConfig, DEFAULT_DEPTH, DEFAULT_PARTITION_BITS},
    withdrawal::L1Address,
};
use sequencer::{client, client::SequencerClient, wallet};

/// The rollup's wallet: keys, signed transfers and genesis files.
#[derive(Debug, Parser)]
#[command(name = "rollup", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates a new key file (mode 0600, never overwritten) and prints its address.
    Keygen {
        /// The key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Prints the address (public key) of a key file.
    Address {
        /// The key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Signs a transfer from a key file's account and prints it as one line of JSON, the
    /// body the sequencer's API takes.
    SignTransfer {
        /// The sender's key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The recipient's address (0x followed by 80 hex digits).
        #[arg(long, value_name = "ADDRESS")]
        to: PublicKey,
        /// Amount, in the token's smallest unit; must be postable to L1.
        #[arg(long)]
        amount: u64,
        /// Fee, in the token's smallest unit; must be postable to L1.
        #[arg(long)]
        fee: u64,
        /// The token: 0 (ETH, the default) or 1 (the test token).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        token: u8,
        /// The sender's next nonce.
        #[arg(long)]
        nonce: u32,
        /// The deployment's chain id.
        #[arg(long, env = "ROLLUP_CHAIN_ID", default_value_t = DEFAULT_CHAIN_ID)]
        chain_id: u64,
    },
    /// Sends a transfer through a sequencer: fetches the sender's next nonce (pending
    /// transfers counted), signs, submits, and prints the transfer's hash.
    Transfer {
        /// The sender's key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The recipient's address (0x followed by 80 hex digits).
        #[arg(long, value_name = "ADDRESS")]
        to: PublicKey,
        /// Amount, in the token's smallest unit; must be postable to L1.
        #[arg(long)]
        amount: u64,
        /// Fee, in the token's smallest unit; must be postable to L1.
        #[arg(long, default_value_t = 0)]
        fee: u64,
        /// The token: 0 (ETH, the default) or 1 (the test token).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        token: u8,
        /// The sequencer's API.
        #[arg(long, env = "ROLLUP_SEQUENCER", default_value = client::DEFAULT_URL)]
        sequencer: String,
    },
    /// Deposits into the Rollup's L1 queue for an L2 account (created by the deposit if it
    /// has none), and prints the queued deposit as JSON. The sequencer credits it once the
    /// settlement module sees it confirmed.
    Deposit {
        /// The L1 node's JSON-RPC URL.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8545")]
        l1: String,
        /// The Rollup contract's address.
        #[arg(long, env = "ROLLUP_ADDRESS", value_name = "ADDRESS")]
        rollup: alloy::primitives::Address,
        /// The L1 account's private key (hex); prefer the environment to the command line.
        #[arg(
            long,
            env = "ROLLUP_L1_KEY",
            hide_env_values = true,
            value_name = "HEX"
        )]
        l1_key: alloy::signers::local::PrivateKeySigner,
        /// The L2 account credited (0x followed by 80 hex digits).
        #[arg(long, value_name = "ADDRESS")]
        to: PublicKey,
        /// Amount, in L2 units (gwei for ETH, 10^9 smallest units for the test token).
        #[arg(long)]
        amount: u64,
        /// The token: 0 (ETH, the default) or 1 (the test token).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        token: u8,
        /// Mint the test tokens first (the devnet token's open faucet).
        #[arg(long)]
        mint: bool,
    },
    /// Sends a withdrawal to L1 through a sequencer: signs it with the next nonce, submits
    /// it and prints its hash. Once its batch is verified on L1, `rollup claim` pays it.
    Withdraw {
        /// The sender's key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The L1 address paid.
        #[arg(long, value_name = "ADDRESS")]
        recipient: L1Address,
        /// Amount, in L2 units; must be postable to L1.
        #[arg(long)]
        amount: u64,
        /// Fee, in the same token; must be postable to L1.
        #[arg(long, default_value_t = 0)]
        fee: u64,
        /// The token: 0 (ETH, the default) or 1 (the test token).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        token: u8,
        /// The sequencer's API.
        #[arg(long, env = "ROLLUP_SEQUENCER", default_value = client::DEFAULT_URL)]
        sequencer: String,
    },
    /// Claims on L1 what withdrawals (and, for an operator, fees) credited to the key's
    /// address, and prints the payout as JSON.
    Claim {
        /// The L1 node's JSON-RPC URL.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8545")]
        l1: String,
        /// The Rollup contract's address.
        #[arg(long, env = "ROLLUP_ADDRESS", value_name = "ADDRESS")]
        rollup: alloy::primitives::Address,
        /// The L1 account's private key (hex); prefer the environment to the command line.
        #[arg(
            long,
            env = "ROLLUP_L1_KEY",
            hide_env_values = true,
            value_name = "HEX"
        )]
        l1_key: alloy::signers::local::PrivateKeySigner,
        /// The token: 0 (ETH, the default) or 1 (the test token).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        token: u8,
    },
    /// Prints an account as JSON (`balance` and `nonce` executed, `pending_*` with every
    /// acknowledged transfer applied).
    Account {
        /// The account's address.
        address: PublicKey,
        /// The sequencer's API.
        #[arg(long, env = "ROLLUP_SEQUENCER", default_value = client::DEFAULT_URL)]
        sequencer: String,
    },
    /// Prints a transfer's status as JSON.
    Tx {
        /// The transfer's hash.
        hash: Digest,
        /// The sequencer's API.
        #[arg(long, env = "ROLLUP_SEQUENCER", default_value = client::DEFAULT_URL)]
        sequencer: String,
    },
    /// Rebuilds the L2 state from L1 alone (the Rollup's genesis event and every verified
    /// batch's calldata), checks its root against the contract's, and prints it as JSON.
    Restore {
        /// The L1 node's JSON-RPC URL.
        #[arg(long, value_name = "URL")]
        l1: String,
        /// The Rollup contract's address.
        #[arg(long, value_name = "ADDRESS")]
        rollup: alloy::primitives::Address,
    },
    /// Deploys the L1 contracts (gate evaluator, verifier, Rollup) for a genesis file, the
    /// key's address as owner and operator, and prints their addresses and the gas used
    /// as one line of JSON.
    Deploy {
        /// The L1 node's JSON-RPC URL.
        #[arg(long, value_name = "URL")]
        l1: String,
        /// The genesis.json whose root and accounts the Rollup starts from.
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// The operator's private key (hex); prefer the environment to the command line.
        #[arg(
            long,
            env = "ROLLUP_DEPLOY_KEY",
            hide_env_values = true,
            value_name = "HEX"
        )]
        key: alloy::signers::local::PrivateKeySigner,
        /// forge's build output.
        #[arg(long, value_name = "DIR", default_value = "contracts/out")]
        artifacts: PathBuf,
    },
    /// Creates a deployment: N funded key files and the genesis.json that funds them.
    Genesis {
        /// How many accounts to create.
        #[arg(long, value_name = "N")]
        accounts: usize,
        /// The balance of each account.
        #[arg(long, value_name = "B")]
        balance: u64,
        /// Where to write the key files and genesis.json (created if needed).
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// The deployment's chain id.
        #[arg(long, env = "ROLLUP_CHAIN_ID", default_value_t = DEFAULT_CHAIN_ID)]
        chain_id: u64,
        /// The state tree's depth.
        #[arg(long, default_value_t = DEFAULT_DEPTH)]
        depth: u32,
        /// The number of partition bits (2^P partitions).
        #[arg(long, default_value_t = DEFAULT_PARTITION_BITS)]
        partition_bits: u32,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Keygen { out } => {
            let key = rollup_core::schnorr::SecretKey::random();
            wallet::write_key_file(&out, &key)?;
            println!("{}", key.public_key());
        }
        Command::Address { key } => {
            println!("{}", wallet::read_key_file(&key)?.public_key());
        }
        Command::SignTransfer {
            key,
            to,
            amount,
            fee,
            token,
            nonce,
            chain_id,
        } => {
            let key = wallet::read_key_file(&key)?;
            let token = Token::try_from(token)?;
            let signed = wallet::sign_transfer(&key, chain_id, to, token, amount, fee, nonce)
                .context("refusing to sign the transfer")?;
            println!("{}", serde_json::to_string(&signed)?);
        }
        Command::Transfer {
            key,
            to,
            amount,
            fee,
            token,
            sequencer,
        } => {
            let key = wallet::read_key_file(&key)?;
            let token = Token::try_from(token)?;
            let api = SequencerClient::new(&sequencer);
            let chain_id = api.chain_id().await?;
            let account = api
                .account(&key.public_key())
                .await
                .context("fetching the sender's nonce")?;
            let nonce = account["pending_nonce"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .context("the sequencer's account answer has no pending_nonce")?;
            let signed = wallet::sign_transfer(&key, chain_id, to, token, amount, fee, nonce)
                .context("refusing to sign the transfer")?;
            let acknowledged = api.submit(&signed).await?;
            println!(
                "{}",
                acknowledged["hash"]
                    .as_str()
                    .context("no hash in the acknowledgement")?
            );
        }
        Command::Deposit {
            l1,
            rollup,
            l1_key,
            to,
            amount,
            token,
            mint,
        } => {
            let token = Token::try_from(token)?;
            let deposited =
                sequencer::bridge::deposit(&l1, rollup, &l1_key, &to, token, amount, mint)
                    .await
                    .context("depositing on L1")?;
            println!("{}", serde_json::to_string(&deposited)?);
        }
        Command::Withdraw {
            key,
            recipient,
            amount,
            fee,
            token,
            sequencer,
        } => {
            let key = wallet::read_key_file(&key)?;
            let token = Token::try_from(token)?;
            let api = SequencerClient::new(&sequencer);
            let chain_id = api.chain_id().await?;
            let account = api
                .account(&key.public_key())
                .await
                .context("fetching the sender's nonce")?;
            let nonce = account["pending_nonce"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .context("the sequencer's account answer has no pending_nonce")?;
            let signed =
                wallet::sign_withdrawal(&key, chain_id, recipient, token, amount, fee, nonce)
                    .context("refusing to sign the withdrawal")?;
            let acknowledged = api.submit_withdrawal(&signed).await?;
            println!(
                "{}",
                acknowledged["hash"]
                    .as_str()
                    .context("the sequencer's acknowledgement has no hash")?
            );
        }
        Command::Claim {
            l1,
            rollup,
            l1_key,
            token,
        } => {
            let token = Token::try_from(token)?;
            let claimed = sequencer::bridge::claim(&l1, rollup, &l1_key, token)
                .await
                .context("claiming on L1")?;
            println!("{}", serde_json::to_string(&claimed)?);
        }
        Command::Account { address, sequencer } => {
            println!(
                "{}",
                SequencerClient::new(&sequencer).account(&address).await?
            );
        }
        Command::Tx { hash, sequencer } => {
            println!(
                "{}",
                SequencerClient::new(&sequencer).transfer(&hash).await?
            );
        }
        Command::Restore { l1, rollup } => {
            let restored = sequencer::restore::restore_from_l1(&l1, rollup)
                .await
                .context("restoring the state from L1")?;
            println!("{}", serde_json::to_string(&restored)?);
        }
        Command::Deploy {
            l1,
            genesis,
            key,
            artifacts,
        } => {
            let genesis = rollup_core::genesis::Genesis::from_json_file(&genesis)
                .with_context(|| format!("reading {}", genesis.display()))?;
            let deployed =
                sequencer::settlement::deploy::deploy_contracts(&l1, &key, &genesis, &artifacts)
                    .await
                    .context("deploying the contracts")?;
            println!("{}", serde_json::to_string(&deployed)?);
        }
        Command::Genesis {
            accounts,
            balance,
            out_dir,
            chain_id,
            depth,
            partition_bits,
        } => {
            let tree = TreeConfig::new(depth, partition_bits)?;
            let created = wallet::create_genesis(&out_dir, accounts, balance, chain_id, tree)
                .context("creating the genesis")?;
            println!(
                "{accounts} accounts funded with {balance} each, chain id {chain_id}, state root {}: {}",
                created.genesis.state_root,
                created.genesis_path.display()
            );
        }
    }
    Ok(())
}
