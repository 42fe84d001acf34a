//! Yul for the gate constraints of a circuit, one block per gate of `common.gates`.
//!
//! Every block mirrors the gate's `eval_unfiltered` in plonky2 1.1 (the specification) at the
//! opening point: wires and constants are extension elements (c0, c1) with `x^2 = 7`, and the
//! "extension algebra" values of the extension gates are pairs of them with `X^2 = 7`. Each
//! constraint is multiplied by the gate's filter (plonky2's `compute_filter`) and added into
//! the shared constraint vector, as `evaluate_gate_constraints` does. Gates this module does
//! not know make the generator fail rather than emit a verifier that would reject.

use plonky2::{
    field::{
        interpolation::barycentric_weights,
        types::{Field, PrimeField64},
    },
    hash::poseidon::{Poseidon, ALL_ROUND_CONSTANTS, HALF_N_FULL_ROUNDS, N_PARTIAL_ROUNDS},
};

use super::{GenerateError, Layout};
use crate::circuits::F;

const WIDTH: usize = 12;

/// Offsets (in u64 entries) of the Poseidon constants blob, see [`poseidon_constants`].
const RC_FULL: usize = 0;
const CIRC: usize = RC_FULL + 2 * HALF_N_FULL_ROUNDS * WIDTH;
const DIAG: usize = CIRC + WIDTH;
const FPFRC: usize = DIAG + WIDTH;
const IM: usize = FPFRC + WIDTH;
const FPRC: usize = IM + (WIDTH - 1) * (WIDTH - 1);
const WH: usize = FPRC + N_PARTIAL_ROUNDS;
const VS: usize = WH + N_PARTIAL_ROUNDS * (WIDTH - 1);
const POSEIDON_ENTRIES: usize = VS + N_PARTIAL_ROUNDS * (WIDTH - 1);

/// plonky2's PoseidonGoldilocks constants in the order the Yul reads them, big-endian u64s:
/// taken from plonky2 itself so the Solidity side cannot drift from it.
pub(super) fn poseidon_constants() -> Vec<u8> {
    let mut v: Vec<u64> = Vec::with_capacity(POSEIDON_ENTRIES);
    for round in 0..2 * HALF_N_FULL_ROUNDS {
        // Full rounds are 0..4 and 26..30 of the round counter.
        let ctr = if round < HALF_N_FULL_ROUNDS {
            round
        } else {
            round + N_PARTIAL_ROUNDS
        };
        v.extend_from_slice(&ALL_ROUND_CONSTANTS[ctr * WIDTH..(ctr + 1) * WIDTH]);
    }
    v.extend_from_slice(&<F as Poseidon>::MDS_MATRIX_CIRC);
    v.extend_from_slice(&<F as Poseidon>::MDS_MATRIX_DIAG);
    v.extend_from_slice(&<F as Poseidon>::FAST_PARTIAL_FIRST_ROUND_CONSTANT);
    for row in <F as Poseidon>::FAST_PARTIAL_ROUND_INITIAL_MATRIX {
        v.extend_from_slice(&row);
    }
    v.extend_from_slice(&<F as Poseidon>::FAST_PARTIAL_ROUND_CONSTANTS);
    for row in <F as Poseidon>::FAST_PARTIAL_ROUND_W_HATS {
        v.extend_from_slice(&row);
    }
    for row in <F as Poseidon>::FAST_PARTIAL_ROUND_VS {
        v.extend_from_slice(&row);
    }
    assert_eq!(v.len(), POSEIDON_ENTRIES);
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// Yul helper functions shared by the gate blocks and the Poseidon permutation. `$NAME`
/// placeholders are memory addresses of the layout.
const HELPERS: &str = r#"
            function wa(j) -> p { p := add($WIRES, shl(6, j)) }
            function ka(j) -> p { p := add($GCONST, shl(6, j)) }
            function ld(p) -> a0, a1 { a0 := mload(p) a1 := mload(add(p, 32)) }
            function emul(a0, a1, b0, b1) -> c0, c1 {
                c0 := mod(add(mul(a0, b0), mul(7, mul(a1, b1))), 0xffffffff00000001)
                c1 := mod(add(mul(a0, b1), mul(a1, b0)), 0xffffffff00000001)
            }
            function mulpp(p, q) -> c0, c1 { c0, c1 := emul(mload(p), mload(add(p, 32)), mload(q), mload(add(q, 32))) }
            function mulp(a0, a1, p) -> c0, c1 { c0, c1 := emul(a0, a1, mload(p), mload(add(p, 32))) }
            function eadd(a0, a1, b0, b1) -> c0, c1 {
                c0 := addmod(a0, b0, 0xffffffff00000001)
                c1 := addmod(a1, b1, 0xffffffff00000001)
            }
            function esub(a0, a1, b0, b1) -> c0, c1 {
                c0 := addmod(a0, sub(0xffffffff00000001, b0), 0xffffffff00000001)
                c1 := addmod(a1, sub(0xffffffff00000001, b1), 0xffffffff00000001)
            }
            // mem[p] - a
            function rsubp(p, a0, a1) -> c0, c1 { c0, c1 := esub(mload(p), mload(add(p, 32)), a0, a1) }
            // out[i] += filter * c
            function put(i, c0, c1) {
                let t0, t1 := mulp(c0, c1, $FILT)
                let p := add($OUT, shl(6, i))
                mstore(p, addmod(mload(p), t0, 0xffffffff00000001))
                mstore(add(p, 32), addmod(mload(add(p, 32)), t1, 0xffffffff00000001))
            }
            // Algebra values: two extension elements (4 words) at a pointer.
            function amul(x, y, z) {
                let a0, a1 := mulpp(x, y)
                let b0, b1 := mulpp(add(x, 64), add(y, 64))
                let r0 := addmod(a0, mulmod(7, b0, 0xffffffff00000001), 0xffffffff00000001)
                let r1 := addmod(a1, mulmod(7, b1, 0xffffffff00000001), 0xffffffff00000001)
                a0, a1 := mulpp(x, add(y, 64))
                b0, b1 := mulpp(add(x, 64), y)
                mstore(z, r0)
                mstore(add(z, 32), r1)
                a0, a1 := eadd(a0, a1, b0, b1)
                mstore(add(z, 64), a0)
                mstore(add(z, 96), a1)
            }
            // z = x * mem[k] (an extension scalar)
            function ascal(x, k, z) {
                let a0, a1 := mulpp(x, k)
                let b0, b1 := mulpp(add(x, 64), k)
                mstore(z, a0)
                mstore(add(z, 32), a1)
                mstore(add(z, 64), b0)
                mstore(add(z, 96), b1)
            }
            function aaddsub(x, y, z, neg) {
                for { let o := 0 } lt(o, 128) { o := add(o, 32) } {
                    let b := mload(add(y, o))
                    if neg { b := mod(sub(0xffffffff00000001, b), 0xffffffff00000001) }
                    mstore(add(z, o), addmod(mload(add(x, o)), b, 0xffffffff00000001))
                }
            }
            // constraints i and i + 1 from an algebra value
            function aput(i, z) {
                put(i, mload(z), mload(add(z, 32)))
                put(add(i, 1), mload(add(z, 64)), mload(add(z, 96)))
            }
            function setfilter(s, row, lo, hi, many) {
                let s0, s1 := ld(add($VARS, shl(6, s)))
                s0 := sub(0xffffffff00000001, s0)
                s1 := mod(sub(0xffffffff00000001, s1), 0xffffffff00000001)
                let f0 := 1
                let f1 := 0
                for { let i := lo } lt(i, hi) { i := add(i, 1) } {
                    if iszero(eq(i, row)) { f0, f1 := emul(f0, f1, addmod(i, s0, 0xffffffff00000001), s1) }
                }
                if many { f0, f1 := emul(f0, f1, addmod(0xffffffff, s0, 0xffffffff00000001), s1) }
                mstore($FILT, f0)
                mstore(add($FILT, 32), f1)
            }
            // Poseidon over extension elements: state in $ST (12 pairs). With `gate` set, S-box
            // inputs are replaced by the PoseidonGate's wires and each difference is a constraint.
            function kc(i) -> v { v := shr(192, mload(add($KB, shl(3, i)))) }
            function sbox(p) {
                let x0, x1 := ld(p)
                let a0, a1 := emul(x0, x1, x0, x1)
                let b0, b1 := emul(a0, a1, a0, a1)
                a0, a1 := emul(a0, a1, x0, x1)
                a0, a1 := emul(a0, a1, b0, b1)
                mstore(p, a0)
                mstore(add(p, 32), a1)
            }
            function mds() {
                for { let r := 0 } lt(r, 12) { r := add(r, 1) } {
                    let s0 := 0
                    let s1 := 0
                    for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                        let c := kc(add($CIRC, i))
                        let p := add($ST, shl(6, mod(add(i, r), 12)))
                        s0 := add(s0, mul(mload(p), c))
                        s1 := add(s1, mul(mload(add(p, 32)), c))
                    }
                    let d := kc(add($DIAG, r))
                    let p := add($ST, shl(6, r))
                    mstore(add($NS, shl(6, r)), mod(add(s0, mul(mload(p), d)), 0xffffffff00000001))
                    mstore(add($NS, add(shl(6, r), 32)), mod(add(s1, mul(mload(add(p, 32)), d)), 0xffffffff00000001))
                }
                mcopy($ST, $NS, 768)
            }
            // One S-box input: checked against a wire (gate mode) and replaced by it.
            function sboxin(p, gate, wire, ci) -> nci {
                nci := ci
                if gate {
                    let d0, d1 := rsubp(p, mload(wa(wire)), mload(add(wa(wire), 32)))
                    put(ci, d0, d1)
                    mcopy(p, wa(wire), 64)
                    nci := add(ci, 1)
                }
            }
            function fullround(r, gate, firstwire, ci) -> nci {
                nci := ci
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let p := add($ST, shl(6, i))
                    mstore(p, addmod(mload(p), kc(add(mul(r, 12), i)), 0xffffffff00000001))
                }
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let p := add($ST, shl(6, i))
                    nci := sboxin(p, gate, add(firstwire, i), nci)
                    sbox(p)
                }
                mds()
            }
            function poseidon(gate) {
                let ci := 5
                for { let r := 0 } lt(r, 4) { r := add(r, 1) } {
                    ci := fullround(r, and(gate, gt(r, 0)), add($START_FULL_0, mul(12, sub(r, 1))), ci)
                }
                // Partial rounds, in plonky2's "fast" form.
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let p := add($ST, shl(6, i))
                    mstore(p, addmod(mload(p), kc(add($FPFRC, i)), 0xffffffff00000001))
                }
                mcopy($NS, $ST, 64)
                for { let c := 1 } lt(c, 12) { c := add(c, 1) } {
                    let s0 := 0
                    let s1 := 0
                    for { let r := 1 } lt(r, 12) { r := add(r, 1) } {
                        let t := kc(add($IM, add(mul(sub(r, 1), 11), sub(c, 1))))
                        let p := add($ST, shl(6, r))
                        s0 := add(s0, mul(mload(p), t))
                        s1 := add(s1, mul(mload(add(p, 32)), t))
                    }
                    mstore(add($NS, shl(6, c)), mod(s0, 0xffffffff00000001))
                    mstore(add($NS, add(shl(6, c), 32)), mod(s1, 0xffffffff00000001))
                }
                mcopy($ST, $NS, 768)
                for { let r := 0 } lt(r, 22) { r := add(r, 1) } {
                    ci := sboxin($ST, gate, add($START_PARTIAL, r), ci)
                    sbox($ST)
                    mstore($ST, addmod(mload($ST), kc(add($FPRC, r)), 0xffffffff00000001))
                    // d = s0 * (circ0 + diag0) + sum_i s_i * w_hat[r][i - 1]
                    let m := add(kc($CIRC), kc($DIAG))
                    let s0 := mul(mload($ST), m)
                    let s1 := mul(mload(add($ST, 32)), m)
                    for { let i := 1 } lt(i, 12) { i := add(i, 1) } {
                        let t := kc(add($WH, add(mul(r, 11), sub(i, 1))))
                        let p := add($ST, shl(6, i))
                        s0 := add(s0, mul(mload(p), t))
                        s1 := add(s1, mul(mload(add(p, 32)), t))
                    }
                    // result[i] = s0 * vs[r][i - 1] + s_i
                    let a0 := mload($ST)
                    let a1 := mload(add($ST, 32))
                    for { let i := 1 } lt(i, 12) { i := add(i, 1) } {
                        let t := kc(add($VS, add(mul(r, 11), sub(i, 1))))
                        let p := add($ST, shl(6, i))
                        mstore(p, mod(add(mul(a0, t), mload(p)), 0xffffffff00000001))
                        mstore(add(p, 32), mod(add(mul(a1, t), mload(add(p, 32))), 0xffffffff00000001))
                    }
                    mstore($ST, mod(s0, 0xffffffff00000001))
                    mstore(add($ST, 32), mod(s1, 0xffffffff00000001))
                }
                for { let r := 0 } lt(r, 4) { r := add(r, 1) } {
                    ci := fullround(add(r, 4), gate, add($START_FULL_1, mul(12, r)), ci)
                }
                if gate {
                    for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                        let d0, d1 := rsubp(add($ST, shl(6, i)), mload(wa(add(12, i))), mload(add(wa(add(12, i)), 32)))
                        put(ci, d0, d1)
                        ci := add(ci, 1)
                    }
                }
            }
"#;

/// The helpers with the layout's addresses filled in.
pub(super) fn helpers(layout: &Layout) -> String {
    // PoseidonGate wire layout (plonky2 `gates/poseidon.rs`).
    let start_delta = 2 * WIDTH + 1;
    let start_full_0 = start_delta + 4;
    let start_partial = start_full_0 + WIDTH * (HALF_N_FULL_ROUNDS - 1);
    let start_full_1 = start_partial + N_PARTIAL_ROUNDS;
    let subs: Vec<(&str, usize)> = vec![
        ("$WIRES", layout.wires),
        ("$GCONST", layout.gate_constants),
        ("$VARS", layout.vars),
        ("$FILT", layout.filter),
        ("$OUT", layout.out),
        ("$KB", layout.kb),
        ("$ST", layout.state),
        ("$NS", layout.next_state),
        ("$CIRC", CIRC),
        ("$DIAG", DIAG),
        ("$FPFRC", FPFRC),
        ("$IM", IM),
        ("$FPRC", FPRC),
        ("$WH", WH),
        ("$VS", VS),
        ("$START_FULL_0", start_full_0),
        ("$START_PARTIAL", start_partial),
        ("$START_FULL_1", start_full_1),
    ];
    let mut s = HELPERS.to_owned();
    // Longest names first so that `$ST` does not eat `$START_...`.
    let mut subs = subs;
    subs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (k, v) in subs {
        s = s.replace(k, &v.to_string());
    }
    debug_assert!(!s.contains('$'));
    s
}

/// What the generator knows of one gate, parsed from its plonky2 `id()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GateKind {
    Noop,
    Constant {
        num_consts: usize,
    },
    PublicInput,
    BaseSum {
        num_limbs: usize,
        base: usize,
    },
    Arithmetic {
        num_ops: usize,
    },
    ArithmeticExtension {
        num_ops: usize,
    },
    MulExtension {
        num_ops: usize,
    },
    Reducing {
        num_coeffs: usize,
    },
    ReducingExtension {
        num_coeffs: usize,
    },
    RandomAccess {
        bits: usize,
        num_copies: usize,
        num_extra_constants: usize,
    },
    PoseidonMds,
    Poseidon,
    CosetInterpolation {
        subgroup_bits: usize,
        degree: usize,
    },
}

fn field(id: &str, name: &str) -> Option<usize> {
    let start = id.find(&format!("{name}: "))? + name.len() + 2;
    let digits: String = id[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl GateKind {
    /// Parses a gate's `id()` (its `Debug` form in plonky2 1.1).
    pub(super) fn parse(id: &str) -> Result<Self, GenerateError> {
        let unsupported = || GenerateError::UnsupportedGate(id.to_owned());
        let name: String = id.chars().take_while(|c| c.is_alphanumeric()).collect();
        let get = |n: &str| field(id, n).ok_or_else(unsupported);
        Ok(match name.as_str() {
            "NoopGate" => Self::Noop,
            "ConstantGate" => Self::Constant {
                num_consts: get("num_consts")?,
            },
            "PublicInputGate" => Self::PublicInput,
            "BaseSumGate" => Self::BaseSum {
                num_limbs: get("num_limbs")?,
                base: get("Base")?,
            },
            "ArithmeticGate" => Self::Arithmetic {
                num_ops: get("num_ops")?,
            },
            "ArithmeticExtensionGate" => Self::ArithmeticExtension {
                num_ops: get("num_ops")?,
            },
            "MulExtensionGate" => Self::MulExtension {
                num_ops: get("num_ops")?,
            },
            "ReducingGate" => Self::Reducing {
                num_coeffs: get("num_coeffs")?,
            },
            "ReducingExtensionGate" => Self::ReducingExtension {
                num_coeffs: get("num_coeffs")?,
            },
            "RandomAccessGate" => Self::RandomAccess {
                bits: get("bits")?,
                num_copies: get("num_copies")?,
                num_extra_constants: get("num_extra_constants")?,
            },
            "PoseidonMdsGate" if id.contains("WIDTH=12") => Self::PoseidonMds,
            "PoseidonGate" if id.contains("WIDTH=12") => Self::Poseidon,
            "CosetInterpolationGate" => {
                let subgroup_bits = get("subgroup_bits")?;
                let degree = get("degree")?;
                // The Yul derives the weights as `x_i / n` (true of any subgroup); check
                // that they are the gate's, which plonky2 computes by `barycentric_weights`.
                let n = 1usize << subgroup_bits;
                let domain = F::two_adic_subgroup(subgroup_bits);
                let points: Vec<(F, F)> = domain.iter().map(|&x| (x, F::ZERO)).collect();
                let weights = barycentric_weights(&points);
                let n_inv = F::from_canonical_usize(n).inverse();
                let listed = id.contains(&format!("barycentric_weights: {weights:?}"));
                if !listed
                    || degree < 2
                    || weights.iter().zip(&domain).any(|(&w, &x)| w != x * n_inv)
                {
                    return Err(unsupported());
                }
                Self::CosetInterpolation {
                    subgroup_bits,
                    degree,
                }
            }
            _ => return Err(unsupported()),
        })
    }

    /// The Yul block adding this gate's filtered constraints into OUT (the filter is set).
    pub(super) fn yul(&self, layout: &Layout) -> String {
        let t1 = layout.tmp;
        let t2 = layout.tmp + 128;
        let list = layout.tmp + 256;
        match *self {
            Self::Noop => String::new(),
            Self::Constant { num_consts } => format!(
                "for {{ let i := 0 }} lt(i, {num_consts}) {{ i := add(i, 1) }} {{
                    let c0, c1 := ld(ka(i))
                    c0, c1 := rsubp(wa(i), c0, c1)
                    c0, c1 := esub(0, 0, c0, c1)
                    put(i, c0, c1)
                }}"
            ),
            Self::PublicInput => format!(
                "for {{ let i := 0 }} lt(i, 4) {{ i := add(i, 1) }} {{
                    let c0, c1 := ld(wa(i))
                    c0, c1 := esub(c0, c1, mload(add({pih}, shl(5, i))), 0)
                    put(i, c0, c1)
                }}",
                pih = layout.pi_hash
            ),
            Self::BaseSum { num_limbs, base } => format!(
                "{{
                    let s0 := 0
                    let s1 := 0
                    for {{ let i := {num_limbs} }} gt(i, 0) {{ i := sub(i, 1) }} {{
                        let l0, l1 := ld(wa(i))
                        s0 := addmod(mulmod(s0, {base}, 0xffffffff00000001), l0, 0xffffffff00000001)
                        s1 := addmod(mulmod(s1, {base}, 0xffffffff00000001), l1, 0xffffffff00000001)
                    }}
                    let l0, l1 := ld(wa(0))
                    s0, s1 := esub(s0, s1, l0, l1)
                    put(0, s0, s1)
                    for {{ let i := 1 }} lt(i, {end}) {{ i := add(i, 1) }} {{
                        let p0 := 1
                        let p1 := 0
                        for {{ let t := 0 }} lt(t, {base}) {{ t := add(t, 1) }} {{
                            let x0, x1 := ld(wa(i))
                            x0, x1 := esub(x0, x1, t, 0)
                            p0, p1 := emul(p0, p1, x0, x1)
                        }}
                        put(i, p0, p1)
                    }}
                }}",
                end = num_limbs + 1
            ),
            Self::Arithmetic { num_ops } => format!(
                "for {{ let i := 0 }} lt(i, {num_ops}) {{ i := add(i, 1) }} {{
                    let j := shl(2, i)
                    let p0, p1 := mulpp(wa(j), wa(add(j, 1)))
                    p0, p1 := mulp(p0, p1, ka(0))
                    let a0, a1 := mulpp(wa(add(j, 2)), ka(1))
                    p0, p1 := eadd(p0, p1, a0, a1)
                    p0, p1 := rsubp(wa(add(j, 3)), p0, p1)
                    put(i, p0, p1)
                }}"
            ),
            Self::ArithmeticExtension { num_ops } => format!(
                "for {{ let i := 0 }} lt(i, {num_ops}) {{ i := add(i, 1) }} {{
                    let j := shl(3, i)
                    amul(wa(j), wa(add(j, 2)), {t1})
                    ascal({t1}, ka(0), {t1})
                    ascal(wa(add(j, 4)), ka(1), {t2})
                    aaddsub({t1}, {t2}, {t1}, 0)
                    aaddsub(wa(add(j, 6)), {t1}, {t1}, 1)
                    aput(shl(1, i), {t1})
                }}"
            ),
            Self::MulExtension { num_ops } => format!(
                "for {{ let i := 0 }} lt(i, {num_ops}) {{ i := add(i, 1) }} {{
                    let j := mul(6, i)
                    amul(wa(j), wa(add(j, 2)), {t1})
                    ascal({t1}, ka(0), {t1})
                    aaddsub(wa(add(j, 4)), {t1}, {t1}, 1)
                    aput(shl(1, i), {t1})
                }}"
            ),
            Self::Reducing { num_coeffs } | Self::ReducingExtension { num_coeffs } => {
                let ext = matches!(self, Self::ReducingExtension { .. });
                // Coefficient i: one wire (embedded as (c, 0)) or an algebra pair of wires.
                let (coeff, start_accs) = if ext {
                    (
                        format!("aaddsub({t1}, wa(add(6, shl(1, i))), {t1}, 0)"),
                        6 + 2 * num_coeffs,
                    )
                } else {
                    (
                        format!(
                            "let c0, c1 := eadd(mload({t1}), mload(add({t1}, 32)), mload(wa(add(6, i))), mload(add(wa(add(6, i)), 32)))
                    mstore({t1}, c0)
                    mstore(add({t1}, 32), c1)"
                        ),
                        6 + num_coeffs,
                    )
                };
                format!(
                    "{{
                    let acc := wa(4)
                    for {{ let i := 0 }} lt(i, {num_coeffs}) {{ i := add(i, 1) }} {{
                        amul(acc, wa(2), {t1})
                        {coeff}
                        let next := wa(add({start_accs}, shl(1, i)))
                        if eq(i, {last}) {{ next := wa(0) }}
                        aaddsub({t1}, next, {t1}, 1)
                        aput(shl(1, i), {t1})
                        acc := next
                    }}
                }}",
                    last = num_coeffs - 1
                )
            }
            Self::RandomAccess {
                bits,
                num_copies,
                num_extra_constants,
            } => {
                let vec_size = 1usize << bits;
                let stride = 2 + vec_size;
                let routed = stride * num_copies + num_extra_constants;
                format!(
                    "{{
                    let ci := 0
                    for {{ let copy := 0 }} lt(copy, {num_copies}) {{ copy := add(copy, 1) }} {{
                        let base := mul(copy, {stride})
                        let bitw := add({routed}, mul(copy, {bits}))
                        for {{ let i := 0 }} lt(i, {bits}) {{ i := add(i, 1) }} {{
                            let b0, b1 := ld(wa(add(bitw, i)))
                            let c0, c1 := esub(b0, b1, 1, 0)
                            c0, c1 := emul(c0, c1, b0, b1)
                            put(ci, c0, c1)
                            ci := add(ci, 1)
                        }}
                        let r0 := 0
                        let r1 := 0
                        for {{ let i := {bits} }} gt(i, 0) {{ i := sub(i, 1) }} {{
                            let b0, b1 := ld(wa(add(bitw, sub(i, 1))))
                            r0 := addmod(add(r0, r0), b0, 0xffffffff00000001)
                            r1 := addmod(add(r1, r1), b1, 0xffffffff00000001)
                        }}
                        r0, r1 := rsubp(wa(base), r0, r1)
                        r0, r1 := esub(0, 0, r0, r1)
                        put(ci, r0, r1)
                        ci := add(ci, 1)
                        mcopy({list}, wa(add(base, 2)), {list_bytes})
                        for {{ let i := 0 }} lt(i, {bits}) {{ i := add(i, 1) }} {{
                            let bp := wa(add(bitw, i))
                            let n := shr(add(i, 1), {vec_size})
                            for {{ let k := 0 }} lt(k, n) {{ k := add(k, 1) }} {{
                                let x := add({list}, shl(7, k))
                                let x0, x1 := ld(x)
                                let d0, d1 := rsubp(add(x, 64), x0, x1)
                                d0, d1 := mulp(d0, d1, bp)
                                d0, d1 := eadd(d0, d1, x0, x1)
                                mstore(add({list}, shl(6, k)), d0)
                                mstore(add({list}, add(shl(6, k), 32)), d1)
                            }}
                        }}
                        let e0, e1 := ld({list})
                        e0, e1 := rsubp(wa(add(base, 1)), e0, e1)
                        e0, e1 := esub(0, 0, e0, e1)
                        put(ci, e0, e1)
                        ci := add(ci, 1)
                    }}
                    for {{ let i := 0 }} lt(i, {num_extra_constants}) {{ i := add(i, 1) }} {{
                        let c0, c1 := ld(ka(i))
                        c0, c1 := rsubp(wa(add({extra_start}, i)), c0, c1)
                        c0, c1 := esub(0, 0, c0, c1)
                        put(ci, c0, c1)
                        ci := add(ci, 1)
                    }}
                }}",
                    list_bytes = 64 * vec_size,
                    extra_start = stride * num_copies,
                )
            }
            Self::PoseidonMds => format!(
                "for {{ let r := 0 }} lt(r, 12) {{ r := add(r, 1) }} {{
                    for {{ let d := 0 }} lt(d, 2) {{ d := add(d, 1) }} {{
                        let s0 := 0
                        let s1 := 0
                        for {{ let i := 0 }} lt(i, 12) {{ i := add(i, 1) }} {{
                            let c := kc(add({CIRC}, i))
                            let p := wa(add(shl(1, mod(add(i, r), 12)), d))
                            s0 := add(s0, mul(mload(p), c))
                            s1 := add(s1, mul(mload(add(p, 32)), c))
                        }}
                        let c := kc(add({DIAG}, r))
                        let p := wa(add(shl(1, r), d))
                        s0 := mod(add(s0, mul(mload(p), c)), 0xffffffff00000001)
                        s1 := mod(add(s1, mul(mload(add(p, 32)), c)), 0xffffffff00000001)
                        s0, s1 := rsubp(wa(add(24, add(shl(1, r), d))), s0, s1)
                        put(add(shl(1, r), d), s0, s1)
                    }}
                }}"
            ),
            Self::Poseidon => {
                let st = layout.state;
                format!(
                    "{{
                    let s0, s1 := ld(wa(24))
                    let c0, c1 := esub(s0, s1, 1, 0)
                    c0, c1 := emul(c0, c1, s0, s1)
                    put(0, c0, c1)
                    for {{ let i := 0 }} lt(i, 4) {{ i := add(i, 1) }} {{
                        let d0, d1 := ld(wa(add(25, i)))
                        let l0, l1 := ld(wa(i))
                        let r0, r1 := rsubp(wa(add(i, 4)), l0, l1)
                        r0, r1 := emul(r0, r1, s0, s1)
                        r0, r1 := esub(r0, r1, d0, d1)
                        put(add(1, i), r0, r1)
                        l0, l1 := eadd(l0, l1, d0, d1)
                        mstore(add({st}, shl(6, i)), l0)
                        mstore(add({st}, add(shl(6, i), 32)), l1)
                        l0, l1 := rsubp(wa(add(i, 4)), d0, d1)
                        mstore(add({st}, shl(6, add(i, 4))), l0)
                        mstore(add({st}, add(shl(6, add(i, 4)), 32)), l1)
                    }}
                    mcopy(add({st}, 512), wa(8), 256)
                    poseidon(1)
                }}"
                )
            }
            Self::CosetInterpolation {
                subgroup_bits,
                degree,
            } => coset_interpolation(layout, subgroup_bits, degree),
        }
    }
}

/// plonky2's `CosetInterpolationGate::eval_unfiltered` (`gates/coset_interpolation.rs`):
/// wires `shift (1) || values (2 n) || point (2) || value (2) || intermediate evals (2 m) ||
/// intermediate products (2 m) || shifted point (2)`, algebra values of two wires each. The
/// constraints are `point - shift * shifted`, then per intermediate `eval_i - computed`,
/// `prod_i - computed`, then `value - computed`, where `computed` runs plonky2's
/// `partial_interpolate_ext_algebra` over the subgroup `g^k` with weights `g^k / n`, restarting
/// from the intermediate wires at each segment boundary `degree + (degree - 1) i`.
fn coset_interpolation(layout: &Layout, subgroup_bits: usize, degree: usize) -> String {
    let n = 1usize << subgroup_bits;
    let m = (n - 2) / (degree - 1);
    let point = 1 + 2 * n;
    let value = point + 2;
    let start_int = value + 2;
    let shifted = start_int + 4 * m;
    let g = F::primitive_root_of_unity(subgroup_bits).to_canonical_u64();
    let n_inv = F::from_canonical_usize(n).inverse().to_canonical_u64();
    let t = layout.tmp;
    let u = t + 128;
    let e = t + 256;
    let pp = t + 384;
    let w = t + 512;
    format!(
        "{{
                    ascal(wa({shifted}), wa(0), {t})
                    aaddsub(wa({point}), {t}, {t}, 1)
                    aput(0, {t})
                    mstore({e}, 0)
                    mstore(add({e}, 32), 0)
                    mstore(add({e}, 64), 0)
                    mstore(add({e}, 96), 0)
                    mstore({pp}, 1)
                    mstore(add({pp}, 32), 0)
                    mstore(add({pp}, 64), 0)
                    mstore(add({pp}, 96), 0)
                    mstore(add({w}, 32), 0)
                    let x := 1
                    for {{ let k := 0 }} lt(k, {n}) {{ k := add(k, 1) }} {{
                        if and(iszero(lt(k, {degree})), iszero(mod(sub(k, {degree}), {dm1}))) {{
                            let i := div(sub(k, {degree}), {dm1})
                            if lt(i, {m}) {{
                                let ie := wa(add({start_int}, shl(1, i)))
                                let ip := wa(add({start_int}, shl(1, add({m}, i))))
                                aaddsub(ie, {e}, {t}, 1)
                                aput(add(2, shl(2, i)), {t})
                                aaddsub(ip, {pp}, {t}, 1)
                                aput(add(4, shl(2, i)), {t})
                                mcopy({e}, ie, 128)
                                mcopy({pp}, ip, 128)
                            }}
                        }}
                        mcopy({t}, wa({shifted}), 128)
                        mstore({t}, addmod(mload({t}), sub(0xffffffff00000001, x), 0xffffffff00000001))
                        mstore({w}, mulmod(x, {n_inv}, 0xffffffff00000001))
                        ascal(wa(add(1, shl(1, k))), {w}, {u})
                        amul({u}, {pp}, {u})
                        amul({e}, {t}, {e})
                        aaddsub({e}, {u}, {e}, 0)
                        amul({pp}, {t}, {pp})
                        x := mulmod(x, {g}, 0xffffffff00000001)
                    }}
                    aaddsub(wa({value}), {e}, {t}, 1)
                    aput({last}, {t})
                }}",
        dm1 = degree - 1,
        last = 2 + 4 * m,
    )
}
