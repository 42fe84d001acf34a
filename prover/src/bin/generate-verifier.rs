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
//! It also writes the gas-profile variant of the verifier
//! ([`solidity::generate_profile`]) into `contracts/test/profile/`.
//!
//! `cargo run -p prover --bin generate-verifier` regenerates all of them; `--contracts-only`
//! skips the proof. `--other-circuit` writes only the negative fixture
//! `other_circuit_proof.bin`: a wrapper proof of the committed statement
//! (`wrapper_public_inputs.bin`) by a circuit of the same shape that is not the devnet's
//! ([`fixture::other_circuit_proof`]), which the committed verifier must refuse.
//!
//! Both proofs are also kept as plonky2 bytes under `target/verifier-fixtures/` (not
//! committed), so that `--reencode` can rewrite the committed fixtures after a change of
//! the calldata encoding alone, without proving again.

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
    let other_circuit = std::env::args().any(|a| a == "--other-circuit");
    let reencode = std::env::args().any(|a| a == "--reencode");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let started = Instant::now();
    let set = fixture::devnet_circuits(&fixture::cache_dir())?;
    eprintln!(
        "circuits ready in {:.1}s (wrapper degree 2^{})",
        started.elapsed().as_secs_f64(),
        set.wrapper.data.common.degree_bits()
    );
    // forge reads fixtures from contracts/test/data (foundry.toml's fs_permissions).
    let dir = root.join("contracts/test/data/verifier");
    let raw_dir = root.join("target/verifier-fixtures");
    if other_circuit {
        return write_other_circuit_proof(&set, &dir, &raw_dir);
    }
    if reencode {
        return reencode_fixtures(&set, &raw_dir, &dir);
    }
    let (common, verifier) = (&set.wrapper.data.common, &set.wrapper.data.verifier_only);
    let files = solidity::generate(common, verifier)?;
    solidity::write_files(&root.join("contracts/src/verifier"), &files)?;
    let profile = solidity::generate_profile(common, verifier)?;
    solidity::write_files(&root.join("contracts/test/profile"), &[profile])?;
    eprintln!(
        "wrote {} contract files and the profile variant",
        files.len()
    );
    if contracts_only {
        return Ok(());
    }

    let sample = fixture::sample_batch();
    let witness = BatchWitness::generate(
        &set.params,
        &sample.state,
        &sample.deposits,
        &sample.transactions,
    )?;
    let started = Instant::now();
    let batch = set.prove_batch(&witness)?;
    eprintln!(
        "batch of {} deposits and {} transactions proven in {:.1}s",
        sample.deposits.len(),
        sample.transactions.len(),
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

    std::fs::create_dir_all(&dir)?;
    save_raw(&raw_dir, "wrapper_proof", &batch.wrapped.to_bytes())?;
    write_gate_evaluation(&set, &batch.wrapped, &dir)?;
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

/// Writes `other_circuit_proof.bin`: the committed statement proven by another circuit of the
/// devnet wrapper's shape.
fn write_other_circuit_proof(
    set: &prover::circuits::aggregation::tree::CircuitSet,
    dir: &std::path::Path,
    raw_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let inputs = std::fs::read(dir.join("wrapper_public_inputs.bin"))
        .context("read the committed statement (run without --other-circuit first)")?;
    let words: Vec<u32> = inputs
        .chunks(32)
        .map(|w| u32::from_be_bytes(w[28..].try_into().expect("32-byte words")))
        .collect();
    let started = Instant::now();
    let (wrapper, proof) = fixture::other_circuit_proof(set, &words)?;
    save_raw(raw_dir, "other_circuit_proof", &proof.to_bytes())?;
    let bytes = solidity::encode_proof(&proof);
    anyhow::ensure!(
        bytes.len() == solidity::ProofLayout::new(&set.wrapper.data.common).total,
        "the other circuit's proof has another length"
    );
    std::fs::write(dir.join("other_circuit_proof.bin"), &bytes).context("write other proof")?;
    eprintln!(
        "wrote other_circuit_proof.bin ({} bytes, circuit digest {:?}) in {:.1}s",
        bytes.len(),
        wrapper.data.verifier_only.circuit_digest,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Keeps a proof's plonky2 bytes for `--reencode`.
fn save_raw(raw_dir: &std::path::Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(raw_dir)?;
    std::fs::write(raw_dir.join(format!("{name}.plonky2")), bytes).context("write raw proof")
}

/// Rewrites the committed proof fixtures in the current encoding from the kept plonky2
/// bytes, checking each proof's verdict under the devnet wrapper first.
fn reencode_fixtures(
    set: &prover::circuits::aggregation::tree::CircuitSet,
    raw_dir: &std::path::Path,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    type Proof = plonky2::plonk::proof::ProofWithPublicInputs<
        prover::circuits::F,
        prover::circuits::wrapper::WrapperConfig,
        { prover::circuits::D },
    >;
    let common = &set.wrapper.data.common;
    for (name, must_verify) in [("wrapper_proof", true), ("other_circuit_proof", false)] {
        let raw = std::fs::read(raw_dir.join(format!("{name}.plonky2")))
            .with_context(|| format!("read {name}.plonky2 (run the generator without flags)"))?;
        let proof = Proof::from_bytes(raw, common).context("decode raw proof")?;
        anyhow::ensure!(
            set.wrapper.verify(&proof).is_ok() == must_verify,
            "{name}: unexpected verdict under the devnet wrapper"
        );
        std::fs::write(
            dir.join(format!("{name}.bin")),
            solidity::encode_proof(&proof),
        )?;
        if must_verify {
            write_gate_evaluation(set, &proof, dir)?;
        }
        eprintln!("re-encoded {name}.bin");
    }
    Ok(())
}

/// Writes `gate_vars.bin` and `gate_constraints.bin` (big-endian u64s): the gate evaluator's
/// input for the proof and plonky2's constraint sums for it ([`fixture::gate_evaluation`]).
fn write_gate_evaluation(
    set: &prover::circuits::aggregation::tree::CircuitSet,
    proof: &plonky2::plonk::proof::ProofWithPublicInputs<
        prover::circuits::F,
        prover::circuits::wrapper::WrapperConfig,
        { prover::circuits::D },
    >,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let (vars, constraints) = fixture::gate_evaluation(&set.wrapper.data.common, proof);
    let bytes = |xs: &[u64]| xs.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    std::fs::write(dir.join("gate_vars.bin"), bytes(&vars))?;
    std::fs::write(dir.join("gate_constraints.bin"), bytes(&constraints))?;
    Ok(())
}
