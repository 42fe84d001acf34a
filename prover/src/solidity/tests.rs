use std::{path::PathBuf, sync::OnceLock};

use plonky2::plonk::proof::ProofWithPublicInputs;

use plonky2::field::types::Field;

use super::*;
use crate::circuits::wrapper::{stand_in::StandIn, WrapperCircuit};

/// The stand-in top circuit, its wrapper and one wrapper proof, built once per test binary
/// (fast; for the encoding and verdict tests, which hold for any wrapper).
pub(crate) fn fixture() -> &'static (WrapperCircuit, ProofWithPublicInputs<F, WrapperConfig, D>) {
    static FIXTURE: OnceLock<(WrapperCircuit, ProofWithPublicInputs<F, WrapperConfig, D>)> =
        OnceLock::new();
    FIXTURE.get_or_init(|| {
        let inner = StandIn::new(8);
        let words: Vec<u32> = (0..8).map(|i| 0xdead_beef ^ (i * 0x1111_1111)).collect();
        let inner_proof = inner.prove(&words).expect("inner proof");
        let wrapper = WrapperCircuit::new(&inner.data.common, &inner.data.verifier_only);
        let proof = wrapper.prove(&inner_proof).expect("wrapper proof");
        (wrapper, proof)
    })
}

fn verifier_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contracts/src/verifier")
}

/// The committed contracts are those of the real wrapper: the devnet/production circuit set
/// ([`super::fixture::devnet_circuits`]), loaded from the circuit cache (`target/circuit-cache`
/// or `$CIRCUIT_CACHE_DIR`; about 25 s here) or, on a fresh checkout, built and stored there
/// (about 4 minutes here). The committed proof fixture has that circuit's proof length. The
/// gas-profile variant in `contracts/test/profile/` is checked the same way.
#[test]
fn solidity_generated_files_are_committed_and_deterministic() {
    let set = super::fixture::devnet_circuits(&super::fixture::cache_dir()).unwrap();
    let wrapper = &set.wrapper;
    let files = generate(&wrapper.data.common, &wrapper.data.verifier_only).unwrap();
    let again = generate(&wrapper.data.common, &wrapper.data.verifier_only).unwrap();
    assert_eq!(files, again, "generation must be deterministic");
    let profile = generate_profile(&wrapper.data.common, &wrapper.data.verifier_only).unwrap();
    let profile_dir = verifier_dir().join("../../test/profile");
    for (dir, f) in files
        .iter()
        .map(|f| (verifier_dir(), f))
        .chain([(profile_dir, &profile)])
    {
        let path = dir.join(f.name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == f.contents,
            "{} is stale: run `cargo run -p prover --bin generate-verifier`",
            path.display()
        );
    }
    let fixture = verifier_dir().join("../../test/data/verifier/wrapper_proof.bin");
    let proof = std::fs::read(&fixture).unwrap();
    assert_eq!(
        proof.len(),
        ProofLayout::new(&wrapper.data.common).total,
        "{} is not a proof of this wrapper: run the generator",
        fixture.display()
    );
}

#[test]
fn solidity_encoding_has_the_layout_length() {
    let (wrapper, proof) = fixture();
    let layout = ProofLayout::new(&wrapper.data.common);
    let bytes = encode_proof(proof);
    assert_eq!(bytes.len(), layout.total);
    eprintln!("proof calldata: {} bytes, layout {layout:?}", bytes.len());
}

/// The EVM verifier's verdict must agree with plonky2's: the fixture proof verifies natively,
/// and the same public-input change that forge rejects is rejected natively.
#[test]
fn solidity_native_verification_agrees() {
    let (wrapper, proof) = fixture();
    wrapper.verify(proof).unwrap();
    let mut bad = proof.clone();
    bad.public_inputs[3] += F::ONE;
    assert!(wrapper.verify(&bad).is_err());
}

/// The profile variant is the production verifier plus its checkpoints, return and name; the
/// production contract keeps no trace of them.
#[test]
fn solidity_profile_variant_only_adds_checkpoints() {
    let (wrapper, _) = fixture();
    let (common, verifier) = (&wrapper.data.common, &wrapper.data.verifier_only);
    let production = generate(common, verifier).unwrap().pop().unwrap();
    assert_eq!(production.name, "Plonky2Verifier.sol");
    let profile = generate_profile(common, verifier).unwrap();
    assert!(!production.contents.contains('%') && !production.contents.contains("gas())"));
    let stores = |s: &str| s.lines().filter(|l| l.ends_with(", gas())")).count();
    assert_eq!(stores(&profile.contents), PROFILE_SECTIONS.len() + 1);
    let kept: Vec<&str> = profile
        .contents
        .lines()
        .filter(|l| {
            !l.ends_with(", gas())")
                && !l.trim_start().starts_with("if gas() { return(")
                && !l.starts_with("/// @dev GAS PROFILE")
                && !l.contains("gas() checkpoints of")
        })
        .collect();
    let expected: Vec<String> = production
        .contents
        .lines()
        .map(|l| {
            l.replace(
                "contract Plonky2Verifier {",
                "contract Plonky2VerifierProfile {",
            )
        })
        .collect();
    assert_eq!(kept, expected);
}
