//! The Keccak gadgets against `tiny_keccak` (the permutation and the hash), with real proofs, wrong claims and the row count.

use plonky2::{
    field::types::Field,
    iop::witness::{PartialWitness, PartitionWitness, Witness, WitnessWrite},
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{CircuitConfig, CommonCircuitData, VerifierCircuitData},
    },
};
use rand::{Rng, RngCore};
use tiny_keccak::{Hasher, Keccak};

use super::*;
use crate::circuits::{gates::GateSerializerEcGfp5, C, D, F};
use rollup_core::batch_data::CHUNK_DATA_BYTES;

/// The native twin: Ethereum's Keccak-256, as rollup-core computes it.
fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    hasher.update(bytes);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}

fn builder() -> CircuitBuilder<F, D> {
    CircuitBuilder::new(CircuitConfig::standard_recursion_config())
}

/// Fresh stream targets of `len` bytes, each bit constrained boolean.
fn add_input(builder: &mut CircuitBuilder<F, D>, len: usize) -> Vec<BoolTarget> {
    (0..8 * len)
        .map(|_| builder.add_virtual_bool_target_safe())
        .collect()
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

/// The lengths the padding cares about (one block, the 0x81 byte, block boundaries), the
/// chain step's 32 + `CHUNK_DATA_BYTES` bytes, and a few random ones.
fn lengths() -> Vec<usize> {
    let mut rng = rand::thread_rng();
    let mut lengths = vec![0, 1, 31, 32, 135, 136, 137, 271, 272, 32 + CHUNK_DATA_BYTES];
    lengths.extend((0..3).map(|_| rng.gen_range(2..400)));
    lengths
}

/// One circuit hashing every length (the witness only: `mock_build` skips commitments),
/// each digest checked against the native hash.
#[test]
fn keccak256_matches_the_native_hash_on_every_padding_case() {
    let lengths = lengths();
    let mut builder = builder();
    let cases: Vec<_> = lengths
        .iter()
        .map(|&len| {
            let input = add_input(&mut builder, len);
            let digest = builder.keccak256(&input);
            (input, digest)
        })
        .collect();
    let data = builder.mock_build::<C>();
    let mut pw = PartialWitness::new();
    let inputs: Vec<Vec<u8>> = lengths.iter().map(|&len| random_bytes(len)).collect();
    for ((input, _), bytes) in cases.iter().zip(&inputs) {
        set_bytes_target(&mut pw, input, bytes).unwrap();
    }
    let witness = data.generate_witness(pw);
    for ((_, digest), bytes) in cases.iter().zip(&inputs) {
        assert_eq!(
            get_bytes(&witness, digest),
            keccak256(bytes),
            "length {}",
            bytes.len()
        );
    }
}

/// Known answer: keccak256("") (as Solidity computes it).
#[test]
fn keccak256_of_the_empty_string_is_the_known_answer() {
    let mut builder = builder();
    let digest = builder.keccak256(&[]);
    let data = builder.mock_build::<C>();
    let witness = data.generate_witness(PartialWitness::new());
    let expected = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
    let hex: String = get_bytes(&witness, &digest)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected);
}

fn generated_state(witness: &PartitionWitness<F>, bits: &[BoolTarget]) -> [u64; 25] {
    std::array::from_fn(|lane| {
        (0..LANE).fold(0u64, |acc, z| {
            acc | (u64::from(witness.get_bool_target(bits[LANE * lane + z])) << z)
        })
    })
}

#[test]
fn keccak_f_matches_tiny_keccak_on_random_states() {
    let mut builder = builder();
    let states: Vec<(Vec<BoolTarget>, Vec<BoolTarget>)> = (0..2)
        .map(|_| {
            let input: Vec<_> = (0..STATE_BITS)
                .map(|_| builder.add_virtual_bool_target_safe())
                .collect();
            let output = builder.keccak_f(&input);
            (input, output)
        })
        .collect();
    let data = builder.mock_build::<C>();
    let mut rng = rand::thread_rng();
    let values: Vec<[u64; 25]> = (0..2).map(|_| std::array::from_fn(|_| rng.gen())).collect();
    let mut pw = PartialWitness::new();
    for ((input, _), lanes) in states.iter().zip(&values) {
        for (k, &t) in input.iter().enumerate() {
            pw.set_bool_target(t, (lanes[k / LANE] >> (k % LANE)) & 1 == 1)
                .unwrap();
        }
    }
    let witness = data.generate_witness(pw);
    for ((_, output), lanes) in states.iter().zip(&values) {
        let mut expected = *lanes;
        tiny_keccak::keccakf(&mut expected);
        assert_eq!(generated_state(&witness, output), expected);
    }
}

/// The chunk circuit's shape: 8 u32 words of the previous data-chain value, then the
/// chunk's bytes (`CHUNK_DATA_BYTES`), hashed and exposed as 8 u32 words; proved,
/// serialized with the rollup's gate serializer, and verified.
#[test]
fn a_data_chain_step_proves_and_verifies() {
    let mut builder = builder();
    let d: Vec<Target> = (0..8).map(|_| builder.add_virtual_target()).collect();
    let chunk = add_input(&mut builder, CHUNK_DATA_BYTES);
    let mut input = builder.u32_words_to_bits(&d);
    input.extend(&chunk);
    let digest = builder.keccak256(&input);
    let words = builder.bits_to_u32_words(&digest);
    builder.register_public_inputs(&words);
    let before = builder.num_gates();
    let data = builder.build::<C>();
    eprintln!(
        "{}-byte Keccak-256 circuit: {before} gates, degree 2^{}",
        32 + CHUNK_DATA_BYTES,
        data.common.degree_bits()
    );

    let serializer = GateSerializerEcGfp5;
    let bytes = data.common.to_bytes(&serializer).unwrap();
    assert_eq!(
        CommonCircuitData::<F, D>::from_bytes(bytes, &serializer).unwrap(),
        data.common
    );
    let bytes = data.verifier_data().to_bytes(&serializer).unwrap();
    let verifier = VerifierCircuitData::<F, C, D>::from_bytes(bytes, &serializer).unwrap();

    let prev = random_bytes(32);
    let chunk_bytes = random_bytes(CHUNK_DATA_BYTES);
    let mut pw = PartialWitness::new();
    for (k, &w) in d.iter().enumerate() {
        let word = u32::from_be_bytes(prev[4 * k..4 * k + 4].try_into().unwrap());
        pw.set_target(w, F::from_canonical_u32(word)).unwrap();
    }
    set_bytes_target(&mut pw, &chunk, &chunk_bytes).unwrap();
    let proof = data.prove(pw).unwrap();

    let expected = keccak256(&[prev, chunk_bytes].concat());
    let expected_words: Vec<F> = expected
        .chunks(4)
        .map(|w| F::from_canonical_u32(u32::from_be_bytes(w.try_into().unwrap())))
        .collect();
    assert_eq!(proof.public_inputs, expected_words);
    verifier.verify(proof).unwrap();
}

/// A digest bit connected to the opposite of its true value: no proof.
#[test]
fn a_wrong_claimed_digest_does_not_prove() {
    let bytes = random_bytes(137);
    let first_bit = keccak256(&bytes)[0] & 1 == 1;
    let mut builder = builder();
    let input = add_input(&mut builder, bytes.len());
    let digest = builder.keccak256(&input);
    let wrong = builder.constant_bool(!first_bit);
    builder.connect(digest[0].target, wrong.target);
    let data = builder.build::<C>();
    let mut pw = PartialWitness::new();
    set_bytes_target(&mut pw, &input, &bytes).unwrap();
    assert!(data.prove(pw).is_err());
}

#[test]
fn byte_and_word_helpers_follow_big_endian_bytes_and_range_check() {
    let mut builder = builder();
    let word = builder.add_virtual_target();
    let bits = builder.be_bytes_bits(word, 4);
    let back = builder.bits_to_u32_words(&bits);
    let amount = builder.add_virtual_target();
    let amount_bits = builder.be_bytes_bits(amount, 5);
    let amount_back = builder.be_bits_to_target(&amount_bits);
    let data = builder.mock_build::<C>();

    let (w, a) = (0x1234_abcdu32, 0x01_0203_0405u64);
    let mut pw = PartialWitness::new();
    pw.set_target(word, F::from_canonical_u32(w)).unwrap();
    pw.set_target(amount, F::from_canonical_u64(a)).unwrap();
    let witness = data.generate_witness(pw);
    assert_eq!(get_bytes(&witness, &bits), w.to_be_bytes());
    assert_eq!(get_bytes(&witness, &amount_bits), [1, 2, 3, 4, 5]);
    assert_eq!(witness.get_target(back[0]), F::from_canonical_u32(w));
    assert_eq!(witness.get_target(amount_back), F::from_canonical_u64(a));

    // 2^32 has no 4-byte decomposition.
    let mut builder = self::builder();
    let word = builder.add_virtual_target();
    builder.be_bytes_bits(word, 4);
    let data = builder.build::<C>();
    let mut pw = PartialWitness::new();
    pw.set_target(word, F::from_canonical_u64(1 << 32)).unwrap();
    assert!(data.prove(pw).is_err());
}

/// Rows of one permutation, and of ten chained ones (shared XOR rows amortized).
#[test]
fn rows_per_permutation() {
    let mut builder = builder();
    let mut state: Vec<BoolTarget> = (0..STATE_BITS)
        .map(|_| BoolTarget::new_unsafe(builder.add_virtual_target()))
        .collect();
    let start = builder.num_gates();
    state = builder.keccak_f(&state);
    let one = builder.num_gates() - start;
    for _ in 1..10 {
        state = builder.keccak_f(&state);
    }
    let ten = builder.num_gates() - start;
    eprintln!(
        "Keccak-f[1600]: {one} rows alone, {} per permutation over ten",
        ten as f64 / 10.0
    );
    assert_eq!(one, ROWS_PER_PERMUTATION + 1);
    // Only the last XOR5 and XOR2 rows are partly filled.
    assert!((10 * ROWS_PER_PERMUTATION..=10 * ROWS_PER_PERMUTATION + 2).contains(&ten));
}
