//! The on-chain verifier of wrapper proofs: Solidity/Yul generated from the wrapper circuit.
//!
//! plonky2's verifier is the specification; the generated contracts redo it on the EVM:
//!
//! - `Plonky2Verifier.sol`: the Keccak transcript (plonky2's `Challenger` over
//!   `KeccakPermutation`), proof of work, the vanishing polynomial and quotient identity at
//!   zeta, and FRI (Merkle paths with `KeccakHash<25>`, coset folding, final polynomial).
//! - `WrapperGateEvaluator.sol`: every gate of `common.gates` evaluated at zeta ([`gates`]),
//!   and Poseidon for the public-inputs hash.
//!
//! Everything circuit-specific (sizes, proof layout, FRI parameters, selectors, gate list,
//! `k_is`, the constants-sigmas cap, the transcript's fixed prefix) is written into the
//! contracts as literals by [`generate`]; the logic is in `templates/`. The proof goes on chain
//! in the layout of [`encoding`], which [`encode_proof`] produces.
//!
//! To regenerate for a new wrapper circuit: `generate(&data.common, &data.verifier_only)`
//! and write the files into `contracts/src/verifier/` (the `generate-verifier` binary does
//! this for the wrapper of the devnet/production circuit set, [`fixture::devnet_circuits`]).
//!
//! ## Gas profile
//! [`generate_profile`] writes the same verifier with gas checkpoints
//! (`contracts/test/profile/Plonky2VerifierProfile.sol`, never deployed in production): the
//! template's `%CHECKPOINT%` lines, which vanish from the production contract, become
//! `mstore(<checkpoint area>, gas())`, and `verify` returns the checkpoint words instead of
//! `true`, one before each of the [`PROFILE_SECTIONS`] and one after the last.

pub mod encoding;
pub mod fixture;
mod gates;

use std::{fmt::Write as _, path::Path};

use plonky2::{
    field::types::{Field, PrimeField64},
    plonk::{
        circuit_data::{CommonCircuitData, VerifierOnlyCircuitData},
        config::GenericHashOut,
    },
};

pub use encoding::{encode_proof, ProofLayout};
use gates::GateKind;

use crate::circuits::{wrapper::WrapperConfig, D, F};

/// Why a verifier could not be generated for a circuit.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A gate the generator has no Yul for.
    #[error("unsupported gate: {0}")]
    UnsupportedGate(String),
    /// A circuit feature the on-chain verifier does not implement.
    #[error("unsupported circuit: {0}")]
    Unsupported(&'static str),
}

/// One generated file: its name in `contracts/src/verifier/` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name.
    pub name: &'static str,
    /// Contents.
    pub contents: String,
}

/// The sections of one verification the profile variant ([`generate_profile`]) measures, in
/// execution order: its checkpoint `i` is read just before section `i`, and one more after the
/// last section.
pub const PROFILE_SECTIONS: [&str; 6] = [
    // the constant tables (caps, `k_is`, layer tables) written into memory
    "tables",
    // the call to the gate evaluator's Poseidon `hashNoPad` of the public inputs
    "public_inputs_hash",
    // the Keccak challenger: circuit prefix, caps, openings, FRI caps, PoW, query indices
    "transcript",
    // the call to the gate evaluator: every gate's constraints at zeta
    "gate_constraints",
    // Z(x) = 1 and partial-product terms, and the quotient identity at zeta
    "vanishing_quotient",
    // FRI: per query the Merkle paths, the reduced openings, coset folds, final polynomial
    "fri_merkle",
];

/// Name of the profile variant's file (and, less `.sol`, its contract).
pub const PROFILE_FILE: &str = "Plonky2VerifierProfile.sol";

/// Which verifier contract to write from the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `Plonky2Verifier`, returning `true`: the checkpoint lines vanish.
    Production,
    /// `Plonky2VerifierProfile`: the checkpoints record `gas()` and `verify` returns them.
    Profile,
}

/// Memory addresses of the gate evaluator (bytes).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    kb: usize,
    vars: usize,
    wires: usize,
    gate_constants: usize,
    pi_hash: usize,
    filter: usize,
    state: usize,
    next_state: usize,
    partial: usize,
    packed: usize,
    tmp: usize,
    out: usize,
}

const fn align(x: usize) -> usize {
    x.div_ceil(32) * 32
}

/// Bump allocator for a fixed memory layout.
struct Alloc(usize);
impl Alloc {
    fn take(&mut self, bytes: usize) -> usize {
        let at = self.0;
        self.0 = align(self.0 + bytes);
        at
    }
}

fn substitute(template: &str, subs: &[(String, String)]) -> String {
    let mut subs = subs.to_vec();
    subs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut s = template.to_owned();
    for (k, v) in &subs {
        s = s.replace(&format!("%{k}%"), v);
        s = s.replace(&format!("${k}"), v);
    }
    s
}

/// The elements `FriParams::observe` feeds the transcript before anything else (plonky2 1.1,
/// `fri/mod.rs`), then the circuit digest: fixed per circuit, so written as literals.
fn transcript_prefix(
    common: &CommonCircuitData<F, D>,
    verifier: &VerifierOnlyCircuitData<WrapperConfig, D>,
) -> Vec<F> {
    let fp = &common.fri_params;
    let c = &fp.config;
    let mut v = vec![
        F::from_canonical_usize(c.rate_bits),
        F::from_canonical_usize(c.cap_height),
        F::from_canonical_u32(c.proof_of_work_bits),
    ];
    v.extend(c.reduction_strategy.serialize::<F>());
    v.push(F::from_canonical_usize(c.num_query_rounds));
    v.push(F::from_bool(fp.hiding));
    v.push(F::from_canonical_usize(fp.degree_bits));
    v.extend(
        fp.reduction_arity_bits
            .iter()
            .map(|&b| F::from_canonical_usize(b)),
    );
    v.extend(GenericHashOut::<F>::to_vec(&verifier.circuit_digest));
    v
}

/// `n`'s low `bits` bits in reverse order (plonky2's `reverse_bits`, which is crate-private).
fn reverse_bits(n: usize, bits: usize) -> usize {
    if bits == 0 {
        0
    } else {
        n.reverse_bits() >> (usize::BITS as usize - bits)
    }
}

fn selectors(common: &CommonCircuitData<F, D>) -> (Vec<usize>, Vec<(usize, usize)>) {
    // `SelectorsInfo`'s fields are crate-private in plonky2 1.1; it is `Serialize`.
    let v = serde_json::to_value(&common.selectors_info).expect("selectors serialize");
    let indices = v["selector_indices"]
        .as_array()
        .expect("selector_indices")
        .iter()
        .map(|x| x.as_u64().expect("index") as usize)
        .collect();
    let groups = v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["start"].as_u64().expect("start") as usize,
                g["end"].as_u64().expect("end") as usize,
            )
        })
        .collect();
    (indices, groups)
}

/// Generates the verifier contracts of the circuit (`WrapperGateEvaluator.sol` and
/// `Plonky2Verifier.sol`). Deterministic: the same circuit gives the same bytes.
pub fn generate(
    common: &CommonCircuitData<F, D>,
    verifier: &VerifierOnlyCircuitData<WrapperConfig, D>,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    check_supported(common)?;
    let pl = ProofLayout::new(common);
    Ok(vec![
        GeneratedFile {
            name: "WrapperGateEvaluator.sol",
            contents: evaluator(common)?,
        },
        GeneratedFile {
            name: "Plonky2Verifier.sol",
            contents: verifier_contract(common, verifier, &pl, Variant::Production),
        },
    ])
}

/// Generates the gas-profile variant of `Plonky2Verifier.sol` ([`PROFILE_FILE`], for
/// `contracts/test/profile/`): the same checks, plus a `gas()` checkpoint before each of the
/// [`PROFILE_SECTIONS`] and one after the last, returned by `verify` as
/// `PROFILE_SECTIONS.len() + 1` 32-byte words instead of `true`. Deploy it with the same
/// `WrapperGateEvaluator`.
pub fn generate_profile(
    common: &CommonCircuitData<F, D>,
    verifier: &VerifierOnlyCircuitData<WrapperConfig, D>,
) -> Result<GeneratedFile, GenerateError> {
    check_supported(common)?;
    let pl = ProofLayout::new(common);
    Ok(GeneratedFile {
        name: PROFILE_FILE,
        contents: verifier_contract(common, verifier, &pl, Variant::Profile),
    })
}

/// Expands the template's checkpoint lines (`%CHECKPOINT%`, `%PROFILE_RETURN%`): removed for
/// production, `gas()` stores into the words at `area` and their return for the profile.
fn checkpoints(template: &str, variant: Variant, area: usize) -> String {
    let mut out = String::with_capacity(template.len());
    let mut n = 0;
    for line in template.split_inclusive('\n') {
        match (line.trim(), variant) {
            ("%CHECKPOINT%" | "%PROFILE_RETURN%", Variant::Production) => {}
            ("%CHECKPOINT%", Variant::Profile) => {
                writeln!(out, "            mstore({}, gas())", area + 32 * n).unwrap();
                n += 1;
            }
            ("%PROFILE_RETURN%", Variant::Profile) => {
                // Conditional (gas() is never 0 here) only so that solc does not flag the
                // template's `return true` as unreachable.
                writeln!(out, "            if gas() {{ return({area}, {}) }}", 32 * n).unwrap();
            }
            _ => out.push_str(line),
        }
    }
    assert!(
        variant == Variant::Production || n == PROFILE_SECTIONS.len() + 1,
        "the template's checkpoints and PROFILE_SECTIONS disagree"
    );
    out
}

fn check_supported(common: &CommonCircuitData<F, D>) -> Result<(), GenerateError> {
    if common.num_lookup_polys != 0 || common.num_lookup_selectors != 0 {
        return Err(GenerateError::Unsupported("lookups"));
    }
    if common.fri_params.hiding || common.config.zero_knowledge {
        return Err(GenerateError::Unsupported("zero knowledge (salted leaves)"));
    }
    Ok(())
}

fn evaluator(common: &CommonCircuitData<F, D>) -> Result<String, GenerateError> {
    let (sel_indices, groups) = selectors(common);
    let num_selectors = groups.len();
    let poseidon = gates::poseidon_constants();
    let nc = common.num_constants;
    let nw = common.config.num_wires;
    // Solidity allocates `out` (hashNoPad) and the constants' copy first, from 0x80.
    let mut a = Alloc(align(0x100 + 32 + poseidon.len()) + 64);
    let kb = a.take(poseidon.len());
    let vars = a.take(64 * (nc + nw) + 128);
    let layout = Layout {
        kb,
        vars,
        wires: vars + 64 * nc,
        gate_constants: vars + 64 * num_selectors,
        pi_hash: vars + 64 * (nc + nw),
        filter: a.take(96),
        state: a.take(32 * 24),
        next_state: a.take(32 * 24),
        partial: a.take(32 * 24),
        packed: a.take(32 * 48),
        tmp: a.take(256 + 64 * 64),
        out: {
            a.take(64);
            a.take(64 * common.num_gate_constraints)
        },
    };
    let mut body = String::new();
    for (i, gate) in common.gates.iter().enumerate() {
        let id = gate.0.id();
        let kind = GateKind::parse(&id)?;
        let s = sel_indices[i];
        let (lo, hi) = groups[s];
        let many = u8::from(num_selectors > 1);
        let yul = kind.yul(&layout);
        writeln!(body, "            // gate {i}: {id}").unwrap();
        if yul.is_empty() {
            continue;
        }
        writeln!(body, "            setfilter({s}, {i}, {lo}, {hi}, {many})").unwrap();
        writeln!(body, "            {yul}").unwrap();
    }
    let subs: Vec<(String, String)> = [
        ("POSEIDON_HEX", hex_string(&poseidon)),
        ("NUM_CONSTANTS", nc.to_string()),
        ("NUM_WIRES", nw.to_string()),
        (
            "NUM_GATE_CONSTRAINTS",
            common.num_gate_constraints.to_string(),
        ),
        ("VARS_WORDS", (2 * (nc + nw) + 4).to_string()),
        ("VARS_BYTES", (32 * (2 * (nc + nw) + 4)).to_string()),
        ("KB", layout.kb.to_string()),
        ("KB_LEN", poseidon.len().to_string()),
        ("VARS", layout.vars.to_string()),
        ("OUT", layout.out.to_string()),
        ("OUT_WORDS", (2 * common.num_gate_constraints).to_string()),
        ("OUT_BYTES", (64 * common.num_gate_constraints).to_string()),
        ("ST", layout.state.to_string()),
        ("HELPERS", gates::helpers(&layout)),
        ("GATES", body),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Ok(substitute(
        include_str!("templates/GateEvaluator.sol"),
        &subs,
    ))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn verifier_contract(
    common: &CommonCircuitData<F, D>,
    verifier: &VerifierOnlyCircuitData<WrapperConfig, D>,
    pl: &ProofLayout,
    variant: Variant,
) -> String {
    let nch = common.config.num_challenges;
    let layers = &common.fri_params.reduction_arity_bits;
    // Per query: the norms of x - zeta and x - g zeta, then per layer n x^n and its coset.
    let num_den: usize = 2 + layers.iter().map(|&b| (1 << b) + 1).sum::<usize>();
    let max_arity = layers.iter().map(|&b| 1usize << b).max().unwrap_or(1);
    let max_leaf = pl.leaf_lens.iter().copied().max().unwrap_or(0);
    let cap_len = 1usize << common.config.fri_config.cap_height;
    let vars_words = 2 * (common.num_constants + common.config.num_wires) + 4;
    let num_chunks = common.num_partial_products + 1;
    let num_vterms = nch * (1 + num_chunks);

    let degree_bits = common.degree_bits();
    let lde_bits = degree_bits + common.config.fri_config.rate_bits;
    let mut a = Alloc(0x100);
    let mut m: Vec<(String, usize)> = Vec::new();
    let mut take = |name: &str, bytes: usize| m.push((name.to_owned(), a.take(bytes)));
    take("SCR", 256);
    take("CH", 128);
    take("NIN", 32);
    take("NOUT", 32);
    take("PP", 32);
    take("PIH", 128);
    take("BETAS", 32 * nch);
    take("GAMMAS", 32 * nch);
    take("ALPHAS", 32 * nch);
    take("ZETA", 64);
    take("ZETAN", 64);
    take("ZNEXT", 64);
    take("ZETA7", 64);
    take("FALPHA", 64);
    take("FBETAS", 64 * layers.len().max(1));
    take("FBETA7", 32 * layers.len().max(1));
    take("FBETA1N", 32 * layers.len().max(1));
    take("BETAN", 64 * layers.len().max(1));
    take("RO0", 64);
    take("RO1", 64);
    take("ASHIFT", 64);
    take("RS", 128);
    take("QIDX", 32 * common.config.fri_config.num_query_rounds);
    take("CURQ", 32);
    take("CAP0", 32 * cap_len);
    take("KIS", 32 * common.config.num_routed_wires);
    take("LEAF_LENS", 128);
    take("CAP_OFFS", 128);
    take("LAYER_BITS", 32 * layers.len().max(1));
    take("LAYER_DEPTHS", 32 * layers.len().max(1));
    take("OMEGAS", 32 * lde_bits);
    take("COSETS", 32 * max_arity * layers.len().max(1));
    take("GREV", 32 * max_arity * layers.len().max(1));
    take("OPN", 64 * pl.num_openings);
    take("FIN", 64 * pl.final_len + 32);
    take("APOW", 64 * pl.num_zeta_polys);
    take("VTERMS", 64 * num_vterms);
    take("DEN", 32 * num_den);
    take("AJ", 32 * num_den);
    take("PTS", 32 * num_den);
    take("TMP", 32 * num_den);
    take("LEAF", (8 * max_leaf).max(16 * max_arity) + 64);
    take("GIN", 68 + 32 * vars_words);
    take("TERMS", 64 + 64 * common.num_gate_constraints);
    take("CHECKPOINTS", 32 * (PROFILE_SECTIONS.len() + 1));
    let addr = |n: &str| m.iter().find(|(k, _)| k == n).expect("region").1;
    // The openings as words: each block at the memory twin of its proof offset (16 bytes of
    // calldata per extension element, 64 of memory).
    let opn = addr("OPN");
    let in_memory = |offset: usize| opn + 4 * (offset - pl.openings);
    let memory_blocks = [
        ("M_SIGMAS", in_memory(pl.sigmas)),
        ("M_WIRES", in_memory(pl.wires)),
        ("M_ZS", in_memory(pl.zs)),
        ("M_PPS", in_memory(pl.partial_products)),
        ("M_QUOTIENT", in_memory(pl.quotient)),
        ("M_ZS_NEXT", in_memory(pl.zs_next)),
    ];

    // Tables written at the start of the call.
    let mut init = String::new();
    let mut put = |at: usize, v: String| writeln!(init, "            mstore({at}, {v})").unwrap();
    for (i, h) in verifier.constants_sigmas_cap.0.iter().enumerate() {
        let mut word = [0u8; 32];
        word[..25].copy_from_slice(&h.0);
        put(addr("CAP0") + 32 * i, format!("0x{}", hex_string(&word)));
    }
    for (j, k) in common.k_is.iter().enumerate() {
        put(addr("KIS") + 32 * j, k.to_canonical_u64().to_string());
    }
    for k in 0..4 {
        put(addr("LEAF_LENS") + 32 * k, pl.leaf_lens[k].to_string());
    }
    for (k, off) in [pl.wires_cap, pl.zs_cap, pl.quotient_cap]
        .iter()
        .enumerate()
    {
        put(addr("CAP_OFFS") + 32 * (k + 1), off.to_string());
    }
    // Bit b of a query index contributes omega^(2^(lde_bits - 1 - b)) to its point.
    let omega = F::primitive_root_of_unity(lde_bits);
    for b in 0..lde_bits {
        let power = omega.exp_power_of_2(lde_bits - 1 - b);
        put(
            addr("OMEGAS") + 32 * b,
            power.to_canonical_u64().to_string(),
        );
    }
    for (l, &bits) in layers.iter().enumerate() {
        put(addr("LAYER_BITS") + 32 * l, bits.to_string());
        put(
            addr("LAYER_DEPTHS") + 32 * l,
            pl.layer_depths[l].to_string(),
        );
        // plonky2's `compute_evaluation`: the coset of x starts at x g^(arity - rev(s)) for x's
        // position s in it, and the proof's j-th evaluation is at the start times g^rev(j).
        let arity = 1usize << bits;
        let g = F::primitive_root_of_unity(bits);
        for s in 0..arity {
            let rev = reverse_bits(s, bits);
            let start = g.exp_u64(((arity - rev) % arity) as u64);
            let table = 32 * (l * max_arity + s);
            put(addr("COSETS") + table, start.to_canonical_u64().to_string());
            let point = g.exp_u64(rev as u64);
            put(addr("GREV") + table, point.to_canonical_u64().to_string());
        }
    }
    // The transcript's fixed prefix, absorbed a word (four little-endian elements) at a time.
    let mut prefix = String::new();
    for lanes in transcript_prefix(common, verifier).chunks(4) {
        let mut word = [0u8; 32];
        for (i, e) in lanes.iter().enumerate() {
            word[8 * i..8 * i + 8].copy_from_slice(&e.to_canonical_u64().to_le_bytes());
        }
        writeln!(
            prefix,
            "            absorbword(0x{}, {})",
            hex_string(&word),
            lanes.len()
        )
        .unwrap();
    }

    let mut subs: Vec<(String, String)> =
        m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    let nums: Vec<(&str, usize)> = vec![
        ("DEGREE_BITS", degree_bits),
        ("DEGREE", 1 << degree_bits),
        ("LDE_BITS", lde_bits),
        ("NUM_WIRES", common.config.num_wires),
        ("NUM_WIRES2", 2 * common.config.num_wires),
        ("NUM_CONSTANTS2", 2 * common.num_constants),
        ("NUM_ROUTED", common.config.num_routed_wires),
        ("NUM_QUERIES", common.config.fri_config.num_query_rounds),
        ("RATE_BITS", common.config.fri_config.rate_bits),
        (
            "POW_BITS",
            common.config.fri_config.proof_of_work_bits as usize,
        ),
        ("NUM_PUBLIC_INPUTS", common.num_public_inputs),
        ("PROOF_BYTES", pl.total),
        ("NCH", nch),
        ("NCH2", 2 * nch),
        ("QDF", common.quotient_degree_factor),
        ("NPP", common.num_partial_products),
        ("NUM_CHUNKS", num_chunks),
        ("NUM_VTERMS", num_vterms),
        ("NUM_GATE_CONSTRAINTS", common.num_gate_constraints),
        ("VARS_WORDS", vars_words),
        ("CAP_LEN", cap_len),
        ("NUM_LAYERS", layers.len()),
        ("FINAL_LEN", pl.final_len),
        ("MAX_ARITY", max_arity),
        ("FINAL_ELEMS", 2 * pl.final_len),
        ("NUM_OPENING_ELEMS", 2 * pl.num_openings),
        ("NUM_ZETA_POLYS", pl.num_zeta_polys),
        ("DEPTH0", pl.depth0),
        ("QUERY_BYTES", pl.query_bytes),
        ("OFF_WIRES_CAP", pl.wires_cap),
        ("OFF_ZS_CAP", pl.zs_cap),
        ("OFF_QUOTIENT_CAP", pl.quotient_cap),
        ("OFF_OPENINGS", pl.openings),
        ("OFF_COMMIT_CAPS", pl.commit_caps),
        ("OFF_QUERIES", pl.queries),
        ("OFF_FINAL", pl.final_poly),
        ("OFF_POW", pl.pow),
        (
            "G_DEGREE",
            F::primitive_root_of_unity(degree_bits).to_canonical_u64() as usize,
        ),
        (
            "MULT_GEN",
            F::MULTIPLICATIVE_GROUP_GENERATOR.to_canonical_u64() as usize,
        ),
    ];
    subs.extend(nums.into_iter().map(|(k, v)| (k.to_owned(), v.to_string())));
    subs.extend(
        memory_blocks
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_string())),
    );
    subs.push(("INIT_TABLES".into(), init));
    subs.push(("OBSERVE_PREFIX".into(), prefix));
    let template = checkpoints(
        include_str!("templates/Plonky2Verifier.sol"),
        variant,
        addr("CHECKPOINTS"),
    );
    let contract = substitute(&template, &subs);
    match variant {
        Variant::Production => contract,
        Variant::Profile => contract
            .replacen(
                "contract Plonky2Verifier {",
                "/// @dev GAS PROFILE VARIANT (prover::solidity::generate_profile): `verify` returns the\n\
                 ///      gas() checkpoints of prover::solidity::PROFILE_SECTIONS, not true. Test only.\n\
                 contract Plonky2VerifierProfile {",
                1,
            ),
    }
}

/// Writes the generated files into `dir`.
pub fn write_files(dir: &Path, files: &[GeneratedFile]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in files {
        std::fs::write(dir.join(f.name), &f.contents)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
