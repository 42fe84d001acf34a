//! The proof as the on-chain verifier reads it: one `bytes` of fixed length per circuit.
//!
//! Layout (offsets in [`ProofLayout`]); hashes are `KeccakHash<25>` digests, 25 bytes; every
//! field element is a u64 little-endian, exactly the bytes plonky2's Keccak transcript absorbs
//! and its Keccak Merkle trees hash, so the verifier feeds the calldata itself to `keccak256`
//! (it reverts on a non-canonical opening, final-polynomial coefficient or PoW witness; leaf
//! values are bound by their Merkle paths):
//!
//! 1. caps: wires, Z and partial products, quotient (`2^cap_height` hashes each);
//! 2. openings at zeta, each extension element as (c0, c1): constants, sigmas, wires, Z,
//!    partial products, quotient; then the Z openings at g zeta;
//! 3. FRI commit-phase caps, one per reduction;
//! 4. per query: for each of the 4 initial trees its leaf and Merkle siblings; then per
//!    reduction its coset's evaluations (extension elements) and siblings;
//! 5. the final polynomial's coefficients ((c0, c1) pairs);
//! 6. the proof-of-work witness.
//!
//! Every byte is covered by a check: flipping any of them makes verification fail.

use plonky2::{
    field::{extension::FieldExtension, types::PrimeField64},
    plonk::{circuit_data::CommonCircuitData, proof::ProofWithPublicInputs},
};

use crate::circuits::{wrapper::WrapperConfig, D, F};

/// Size of one `KeccakHash<25>` digest.
pub const HASH_BYTES: usize = 25;

/// Offsets and sizes of the encoding for one circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofLayout {
    /// Offset of the wires cap.
    pub wires_cap: usize,
    /// Offset of the Z/partial-products cap.
    pub zs_cap: usize,
    /// Offset of the quotient cap.
    pub quotient_cap: usize,
    /// Offset of the openings (the constants come first).
    pub openings: usize,
    /// Offset of the sigma openings.
    pub sigmas: usize,
    /// Offset of the wire openings.
    pub wires: usize,
    /// Offset of the Z openings.
    pub zs: usize,
    /// Offset of the partial-product openings.
    pub partial_products: usize,
    /// Offset of the quotient openings.
    pub quotient: usize,
    /// Offset of the Z openings at g zeta.
    pub zs_next: usize,
    /// Extension elements opened in all.
    pub num_openings: usize,
    /// Polynomials opened at zeta (all of the four trees).
    pub num_zeta_polys: usize,
    /// Offset of the FRI commit-phase caps.
    pub commit_caps: usize,
    /// Offset of the first query.
    pub queries: usize,
    /// Bytes per query.
    pub query_bytes: usize,
    /// Leaf sizes (field elements) of the four initial trees.
    pub leaf_lens: [usize; 4],
    /// Merkle depth of the initial trees (below the cap).
    pub depth0: usize,
    /// Merkle depth of each reduction's tree.
    pub layer_depths: Vec<usize>,
    /// Offset of the final polynomial.
    pub final_poly: usize,
    /// Coefficients of the final polynomial.
    pub final_len: usize,
    /// Offset of the proof-of-work witness.
    pub pow: usize,
    /// Total length.
    pub total: usize,
}

impl ProofLayout {
    /// The layout of proofs of the circuit `common`.
    pub fn new(common: &CommonCircuitData<F, D>) -> Self {
        let cfg = &common.config;
        let nch = cfg.num_challenges;
        let cap = (1usize << cfg.fri_config.cap_height) * HASH_BYTES;
        let wires_cap = 0;
        let zs_cap = cap;
        let quotient_cap = 2 * cap;
        let openings = 3 * cap;
        let sigmas = openings + 16 * common.num_constants;
        let wires = sigmas + 16 * cfg.num_routed_wires;
        let zs = wires + 16 * cfg.num_wires;
        let partial_products = zs + 16 * nch;
        let quotient = partial_products + 16 * nch * common.num_partial_products;
        let zs_next = quotient + 16 * nch * common.quotient_degree_factor;
        let num_zeta_polys = (zs_next - openings) / 16;
        let num_openings = num_zeta_polys + nch;
        let layers = &common.fri_params.reduction_arity_bits;
        let commit_caps = zs_next + 16 * nch;
        let queries = commit_caps + layers.len() * cap;
        let leaf_lens = [
            common.num_constants + cfg.num_routed_wires,
            cfg.num_wires,
            nch * (1 + common.num_partial_products),
            nch * common.quotient_degree_factor,
        ];
        let lde_bits = common.degree_bits() + cfg.fri_config.rate_bits;
        let depth0 = lde_bits - cfg.fri_config.cap_height;
        let mut query_bytes: usize = leaf_lens.iter().map(|n| 8 * n + HASH_BYTES * depth0).sum();
        let mut layer_depths = Vec::new();
        let mut bits = lde_bits;
        for &a in layers {
            bits -= a;
            let depth = bits - cfg.fri_config.cap_height;
            layer_depths.push(depth);
            query_bytes += 16 * (1 << a) + HASH_BYTES * depth;
        }
        let final_poly = queries + cfg.fri_config.num_query_rounds * query_bytes;
        let final_len = common.fri_params.final_poly_len();
        let pow = final_poly + 16 * final_len;
        Self {
            wires_cap,
            zs_cap,
            quotient_cap,
            openings,
            sigmas,
            wires,
            zs,
            partial_products,
            quotient,
            zs_next,
            num_openings,
            num_zeta_polys,
            commit_caps,
            queries,
            query_bytes,
            leaf_lens,
            depth0,
            layer_depths,
            final_poly,
            final_len,
            pow,
            total: pow + 8,
        }
    }
}

type Fe = <F as plonky2::field::extension::Extendable<D>>::Extension;

fn le_ext(out: &mut Vec<u8>, x: &Fe) {
    let parts: [F; D] = x.to_basefield_array();
    for c in parts {
        out.extend_from_slice(&c.to_canonical_u64().to_le_bytes());
    }
}

/// Re-encodes a wrapper proof for `Plonky2Verifier.verify` (layout in the module doc).
pub fn encode_proof(proof: &ProofWithPublicInputs<F, WrapperConfig, D>) -> Vec<u8> {
    let p = &proof.proof;
    let mut out = Vec::new();
    for cap in [
        &p.wires_cap,
        &p.plonk_zs_partial_products_cap,
        &p.quotient_polys_cap,
    ] {
        for h in &cap.0 {
            out.extend_from_slice(&h.0);
        }
    }
    let o = &p.openings;
    for block in [
        &o.constants,
        &o.plonk_sigmas,
        &o.wires,
        &o.plonk_zs,
        &o.partial_products,
        &o.quotient_polys,
        &o.plonk_zs_next,
    ] {
        for x in block {
            le_ext(&mut out, x);
        }
    }
    let fri = &p.opening_proof;
    for cap in &fri.commit_phase_merkle_caps {
        for h in &cap.0 {
            out.extend_from_slice(&h.0);
        }
    }
    for q in &fri.query_round_proofs {
        for (leaf, path) in &q.initial_trees_proof.evals_proofs {
            for v in leaf {
                out.extend_from_slice(&v.to_canonical_u64().to_le_bytes());
            }
            for h in &path.siblings {
                out.extend_from_slice(&h.0);
            }
        }
        for step in &q.steps {
            for e in &step.evals {
                le_ext(&mut out, e);
            }
            for h in &step.merkle_proof.siblings {
                out.extend_from_slice(&h.0);
            }
        }
    }
    for c in &fri.final_poly.coeffs {
        le_ext(&mut out, c);
    }
    out.extend_from_slice(&fri.pow_witness.to_canonical_u64().to_le_bytes());
    out
}

/// The public inputs as the verifier takes them (canonical u64s, one per `uint256`).
pub fn encode_public_inputs(proof: &ProofWithPublicInputs<F, WrapperConfig, D>) -> Vec<u64> {
    proof
        .public_inputs
        .iter()
        .map(PrimeField64::to_canonical_u64)
        .collect()
}
