//! Writes the on-chain verifier of the wrapper circuit into `contracts/src/verifier/` and a
//! proof fixture for its forge and Anvil tests into `contracts/test/data/verifier/`.
//!
//! The wrapper is the real one: the devnet/production configuration
//! ([`solidity::fixture::devnet_params`]: depth 32, 16 partitions, chain id 31337, the
//! default merge levels), loaded from the circuit cache (`target/circuit-cache`, or
//! `$CIRCUIT_CACHE_DIR`) or built and stored there. The fixture is a batch of signed
//! transfers over two partitions proven through the whole tree (chunks, merges, ranges,
//! top, wrapper), checked natively before it is written.
//!
//! `cargo run -p prover --bin generate-verifier` regenerates both; `--contracts-only` skips
//! the proof.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use prover::{
    circuits::chunk::BatchWitness,
    solidity::{self, fixture},
};

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let contracts_only = std::env::args().any(|a| a == "--contracts-only");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let started = Instant::now();
    let set = fixture::devnet_circuits(&fixture::cache_dir())?;
    eprintln!(
        "circuits ready in {:.1}s (wrapper degree 2^{})",
        started.elapsed().as_secs_f64(),
        set.wrapper.data.common.degree_bits()
    );
    let files = solidity::generate(&set.wrapper.data.common, &set.wrapper.data.verifier_only)?;
    solidity::write_files(&root.join("contracts/src/verifier"), &files)?;
    eprintln!("wrote {} contract files", files.len());
    if contracts_only {
        return Ok(());
    }

    let (state, transfers) = fixture::sample_batch();
    let witness = BatchWitness::generate(&set.params, &state, &transfers)?;
    let started = Instant::now();
    let batch = set.prove_batch(&witness)?;
    eprintln!(
        "batch of {} transfers proven in {:.1}s",
        transfers.len(),
        started.elapsed().as_secs_f64()
    );
    set.wrapper.verify(&batch.wrapped)?;
    let words = batch.statement.public_inputs();
    let exposed = solidity::encoding::encode_public_inputs(&batch.wrapped);
    anyhow::ensure!(
        exposed
            .iter()
            .copied()
            .eq(words.iter().map(|&w| u64::from(w))),
        "the wrapper proof exposes another statement"
    );

    // forge reads fixtures from contracts/test/data (foundry.toml's fs_permissions).
    let dir = root.join("contracts/test/data/verifier");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("wrapper_proof.bin"),
        solidity::encode_proof(&batch.wrapped),
    )
    .context("write proof fixture")?;
    let pis: Vec<u8> = words
        .iter()
        .flat_map(|&v| {
            let mut w = [0u8; 32];
            w[28..].copy_from_slice(&v.to_be_bytes());
            w
        })
        .collect();
    std::fs::write(dir.join("wrapper_public_inputs.bin"), pis).context("write inputs")?;
    eprintln!("wrote the proof fixture (statement {words:08x?})");
    Ok(())
}
