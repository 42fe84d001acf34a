//! Writes the on-chain verifier of the wrapper circuit into `contracts/src/verifier/` and a
//! proof fixture for its forge tests into `contracts/test/verifier/`.
//!
//! Until the top circuit exists, the wrapper wraps the stand-in top circuit (8 public
//! inputs); the wrapper's gate set and so the generated code do not depend on it.

use std::path::PathBuf;

use anyhow::Context;
use prover::{
    circuits::wrapper::{stand_in::StandIn, WrapperCircuit},
    solidity::{self, encoding::encode_public_inputs},
};

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let inner = StandIn::new(8);
    let wrapper = WrapperCircuit::new(&inner.data.common, &inner.data.verifier_only);
    let files = solidity::generate(&wrapper.data.common, &wrapper.data.verifier_only)?;
    solidity::write_files(&root.join("contracts/src/verifier"), &files)?;

    let words: Vec<u32> = (0..8).map(|i| 0xdead_beef ^ (i * 0x1111_1111)).collect();
    let proof = wrapper.prove(&inner.prove(&words)?)?;
    wrapper.verify(&proof)?;
    // forge reads fixtures from contracts/test/data (foundry.toml's fs_permissions).
    let dir = root.join("contracts/test/data/verifier");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("wrapper_proof.bin"),
        solidity::encode_proof(&proof),
    )
    .context("write proof fixture")?;
    let pis: Vec<u8> = encode_public_inputs(&proof)
        .iter()
        .flat_map(|v| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&v.to_be_bytes());
            w
        })
        .collect();
    std::fs::write(dir.join("wrapper_public_inputs.bin"), pis).context("write inputs")?;
    eprintln!("wrote {} files and the proof fixture", files.len());
    Ok(())
}
