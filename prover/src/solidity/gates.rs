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

use std::fmt::Write as _;

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
/// placeholders are memory addresses of the layout; `$POSEIDON_*` are generated code.
///
/// Gas matters here more than anywhere: arithmetic is written inline (no helper per field
/// operation), products are reduced once per sum (every operand is below 2^64, so a sum of
/// a few products stays far below 2^256), and the Poseidon MDS works on packed extension
/// elements `c0 + c1 2^128`: its coefficients are below 2^6, so twelve products of packed
/// words keep both lanes below 2^74 and one multiplication serves both coordinates.
const HELPERS: &str = r#"
            function wa(j) -> p { p := add($WIRES, shl(6, j)) }
            // out[ci] += filter * (c0, c1); the filter (f0, f1, 7 f1) is at $FILT.
            function put(ci, c0, c1) {
                let p := add($OUT, shl(6, ci))
                let f0 := mload($FILT)
                mstore(p, addmod(mload(p), mod(add(mul(c0, f0), mul(c1, mload(add($FILT, 64)))), 0xffffffff00000001), 0xffffffff00000001))
                p := add(p, 32)
                mstore(p, addmod(mload(p), mod(add(mul(c0, mload(add($FILT, 32))), mul(c1, f0)), 0xffffffff00000001), 0xffffffff00000001))
            }
            // put(ci, mem[p] - mem[q]) for extension elements at p and q.
            function putsub(ci, p, q) {
                put(ci, addmod(mload(p), sub(0xffffffff00000001, mload(q)), 0xffffffff00000001), addmod(mload(add(p, 32)), sub(0xffffffff00000001, mload(add(q, 32))), 0xffffffff00000001))
            }
            // Algebra values: two extension elements (4 words) at a pointer. z = x y, where
            // (a + b Y)(c + d Y) = (ac + 7 bd) + (ad + bc) Y and every product is in the
            // extension (X^2 = 7). z may be x or y.
            function amul(x, y, z) {
                let a0 := mload(x)
                let a1 := mload(add(x, 32))
                let b0 := mload(add(x, 64))
                let b1 := mload(add(x, 96))
                let c0 := mload(y)
                let c1 := mload(add(y, 32))
                let d0 := mload(add(y, 64))
                let d1 := mload(add(y, 96))
                mstore(z, mod(add(add(mul(a0, c0), mul(7, mul(a1, c1))), mul(7, mod(add(mul(b0, d0), mul(7, mul(b1, d1))), 0xffffffff00000001))), 0xffffffff00000001))
                mstore(add(z, 32), mod(add(add(mul(a0, c1), mul(a1, c0)), mul(7, mod(add(mul(b0, d1), mul(b1, d0)), 0xffffffff00000001))), 0xffffffff00000001))
                mstore(add(z, 64), mod(add(add(mul(a0, d0), mul(7, mul(a1, d1))), add(mul(b0, c0), mul(7, mul(b1, c1)))), 0xffffffff00000001))
                mstore(add(z, 96), mod(add(add(mul(a0, d1), mul(a1, d0)), add(mul(b0, c1), mul(b1, c0))), 0xffffffff00000001))
            }
            // z = x k for an algebra value x and an extension element k at pointers.
            function ascal(x, k, z) {
                let k0 := mload(k)
                let k1 := mload(add(k, 32))
                let a0 := mload(x)
                let a1 := mload(add(x, 32))
                mstore(z, mod(add(mul(a0, k0), mul(7, mul(a1, k1))), 0xffffffff00000001))
                mstore(add(z, 32), mod(add(mul(a0, k1), mul(a1, k0)), 0xffffffff00000001))
                a0 := mload(add(x, 64))
                a1 := mload(add(x, 96))
                mstore(add(z, 64), mod(add(mul(a0, k0), mul(7, mul(a1, k1))), 0xffffffff00000001))
                mstore(add(z, 96), mod(add(mul(a0, k1), mul(a1, k0)), 0xffffffff00000001))
            }
            // z = x + y (neg = 0) or x - y (neg = 1), algebra values.
            function aaddsub(x, y, z, neg) {
                for { let o := 0 } lt(o, 128) { o := add(o, 32) } {
                    let b := mload(add(y, o))
                    if neg { b := sub(0xffffffff00000001, b) }
                    mstore(add(z, o), addmod(mload(add(x, o)), b, 0xffffffff00000001))
                }
            }
            // constraints i and i + 1 from an algebra value
            function aput(i, z) {
                put(i, mload(z), mload(add(z, 32)))
                put(add(i, 1), mload(add(z, 64)), mload(add(z, 96)))
            }
            // The gate's filter: prod_{i in [lo, hi), i != row} (i - s), times (UNUSED - s) when
            // the group holds several gates, s the selector opening (plonky2's `compute_filter`).
            function setfilter(s, row, lo, hi, many) {
                let s0 := sub(0xffffffff00000001, mload(add($VARS, shl(6, s))))
                let s1 := mod(sub(0xffffffff00000001, mload(add($VARS, add(shl(6, s), 32)))), 0xffffffff00000001)
                let f0 := 1
                let f1 := 0
                for { let i := lo } lt(i, hi) { i := add(i, 1) } {
                    if iszero(eq(i, row)) {
                        let a := addmod(i, s0, 0xffffffff00000001)
                        let t := mod(add(mul(f0, a), mul(7, mul(f1, s1))), 0xffffffff00000001)
                        f1 := mod(add(mul(f0, s1), mul(f1, a)), 0xffffffff00000001)
                        f0 := t
                    }
                }
                if many {
                    let a := addmod(0xffffffff, s0, 0xffffffff00000001)
                    let t := mod(add(mul(f0, a), mul(7, mul(f1, s1))), 0xffffffff00000001)
                    f1 := mod(add(mul(f0, s1), mul(f1, a)), 0xffffffff00000001)
                    f0 := t
                }
                mstore($FILT, f0)
                mstore(add($FILT, 32), f1)
                mstore(add($FILT, 64), mulmod(7, f1, 0xffffffff00000001))
            }
            // ------------------------------------------------------------ Poseidon
            // The state at $ST: 24 words, packed extension elements c0 + c1 2^128, words 12..24
            // repeating 0..12 so that the circulant MDS reads its rows without wrapping.
            // Partial rounds keep c0 words at $PS and c1 words at $PS + 384. With `gate` set,
            // S-box inputs are the PoseidonGate's wires and each difference is a constraint.
            //
            // x^7 in the extension: x^2, x^3 = x^2 x, x^4 = (x^2)^2, x^7 = x^3 x^4.
            function sbox(x0, x1) -> y0, y1 {
                let a0 := mod(add(mul(x0, x0), mul(7, mul(x1, x1))), 0xffffffff00000001)
                let a1 := mulmod(add(x0, x0), x1, 0xffffffff00000001)
                let b0 := mod(add(mul(a0, x0), mul(7, mul(a1, x1))), 0xffffffff00000001)
                let b1 := mod(add(mul(a0, x1), mul(a1, x0)), 0xffffffff00000001)
                x0 := mod(add(mul(a0, a0), mul(7, mul(a1, a1))), 0xffffffff00000001)
                x1 := mulmod(add(a0, a0), a1, 0xffffffff00000001)
                y0 := mod(add(mul(b0, x0), mul(7, mul(b1, x1))), 0xffffffff00000001)
                y1 := mod(add(mul(b0, x1), mul(b1, x0)), 0xffffffff00000001)
            }
            // An S-box input (x0, x1): in gate mode checked against wire `w` (constraint ci) and
            // replaced by it.
            function sboxin(x0, x1, w, ci) -> y0, y1 {
                let p := add($WIRES, shl(6, w))
                y0 := mload(p)
                y1 := mload(add(p, 32))
                put(ci, addmod(x0, sub(0xffffffff00000001, y0), 0xffffffff00000001), addmod(x1, sub(0xffffffff00000001, y1), 0xffffffff00000001))
            }
            // One full round: round constants from blob address `rc`, S-box wires from `w`
            // (0: none), constraints from `ci`; returns the next constraint index.
            function fullround(rc, w, ci) -> nci {
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let p := add($ST, shl(5, i))
                    let v := mload(p)
                    let x0 := mod(add(and(v, 0xffffffffffffffffffffffffffffffff), shr(192, mload(add(rc, shl(3, i))))), 0xffffffff00000001)
                    let x1 := mod(shr(128, v), 0xffffffff00000001)
                    if w { x0, x1 := sboxin(x0, x1, add(w, i), add(ci, i)) }
                    x0, x1 := sbox(x0, x1)
                    mstore(p, or(x0, shl(128, x1)))
                }
                nci := ci
                if w { nci := add(ci, 12) }
                mds()
            }
            function mds() {
                mcopy(add($ST, 384), $ST, 384)
                for { let r := 0 } lt(r, 12) { r := add(r, 1) } {
                    let b := add($ST, shl(5, r))
                    mstore(add($NS, shl(5, r)), $POSEIDON_MDS_ROW)
                }
$POSEIDON_MDS_DIAG
                mcopy($ST, $NS, 384)
            }
            // The partial rounds in plonky2's "fast" form, from and back to the packed state.
            function partialrounds(gate, ci) -> nci {
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let v := mload(add($ST, shl(5, i)))
                    mstore(add($PS, shl(5, i)), mod(add(and(v, 0xffffffffffffffffffffffffffffffff), shr(192, mload(add($KB_FPFRC, shl(3, i))))), 0xffffffff00000001))
                    mstore(add($PS, add(384, shl(5, i))), mod(shr(128, v), 0xffffffff00000001))
                }
                // mds_partial_layer_init: result[c] = sum_{r >= 1} s[r] m[r - 1][c - 1], c >= 1.
                for { let c := 1 } lt(c, 12) { c := add(c, 1) } {
                    let k := add($KB_IM, shl(3, sub(c, 1)))
                    mstore(add($NS, shl(5, c)), mod($POSEIDON_INIT_C0, 0xffffffff00000001))
                    mstore(add($NS, add(384, shl(5, c))), mod($POSEIDON_INIT_C1, 0xffffffff00000001))
                }
                mstore($NS, mload($PS))
                mstore(add($NS, 384), mload(add($PS, 384)))
                mcopy($PS, $NS, 768)
                nci := ci
                for { let r := 0 } lt(r, 22) { r := add(r, 1) } {
                    let x0 := mload($PS)
                    let x1 := mload(add($PS, 384))
                    if gate {
                        x0, x1 := sboxin(x0, x1, add($START_PARTIAL, r), nci)
                        nci := add(nci, 1)
                    }
                    x0, x1 := sbox(x0, x1)
                    x0 := addmod(x0, shr(192, mload(add($KB_FPRC, shl(3, r)))), 0xffffffff00000001)
                    partialmds(x0, x1, add($KB_WH, mul(88, r)), add($KB_VS, mul(88, r)))
                }
                for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                    let v := or(mload(add($PS, shl(5, i))), shl(128, mload(add($PS, add(384, shl(5, i))))))
                    mstore(add($ST, shl(5, i)), v)
                }
            }
            // mds_partial_layer_fast with w-hats at blob address `k` and vs at `v`:
            // s[0] = x m00 + sum_{i >= 1} s[i] w[i - 1], s[i] += x v[i - 1].
            function partialmds(x0, x1, k, v) {
                let d0 := $POSEIDON_PARTIAL_D0
                let d1 := $POSEIDON_PARTIAL_D1
$POSEIDON_PARTIAL_UPDATE
                mstore($PS, mod(d0, 0xffffffff00000001))
                mstore(add($PS, 384), mod(d1, 0xffffffff00000001))
            }
            // The permutation of the packed state; in gate mode each S-box input is a wire.
            function poseidon(gate) {
                let ci := 5
                pop(fullround($KB_RC, 0, ci))
                for { let r := 1 } lt(r, 4) { r := add(r, 1) } {
                    ci := fullround(add($KB_RC, mul(96, r)), mul(gate, add($START_FULL_0, mul(12, sub(r, 1)))), ci)
                }
                ci := partialrounds(gate, ci)
                for { let r := 0 } lt(r, 4) { r := add(r, 1) } {
                    ci := fullround(add($KB_RC, mul(96, add(r, 4))), mul(gate, add($START_FULL_1, mul(12, r))), ci)
                }
                if gate {
                    for { let i := 0 } lt(i, 12) { i := add(i, 1) } {
                        let v := mload(add($ST, shl(5, i)))
                        let p := add($WIRES, shl(6, add(12, i)))
                        put(add(ci, i), addmod(mod(and(v, 0xffffffffffffffffffffffffffffffff), 0xffffffff00000001), sub(0xffffffff00000001, mload(p)), 0xffffffff00000001), addmod(mod(shr(128, v), 0xffffffff00000001), sub(0xffffffff00000001, mload(add(p, 32))), 0xffffffff00000001))
                    }
                }
            }
"#;

/// The Poseidon code that depends on plonky2's constants: the MDS rows (circulant and
/// diagonal, small literals) and the unrolled 11-term sums of the partial rounds.
fn poseidon_pieces() -> Vec<(&'static str, String)> {
    let circ = <F as Poseidon>::MDS_MATRIX_CIRC;
    let diag = <F as Poseidon>::MDS_MATRIX_DIAG;
    // One MDS row from the state word `b` on: sum_i ST[r + i] circ[i].
    let row = sum((0..WIDTH)
        .filter(|&i| circ[i] != 0)
        .map(|i| format!("mul(mload(add(b, {})), {})", 32 * i, circ[i]))
        .collect());
    let mut diag_terms = String::new();
    for (r, &d) in diag.iter().enumerate() {
        if d != 0 {
            writeln!(
                diag_terms,
                "                mstore(add($NS, {o}), add(mload(add($NS, {o})), mul(mload(add($ST, {o})), {d})))",
                o = 32 * r
            )
            .unwrap();
        }
    }
    // mds_partial_layer_init: the 11 terms of column c (blob pointer k at row 0, column c - 1).
    let init = |half: usize| {
        sum((1..WIDTH)
            .map(|r| {
                format!(
                    "mul(mload(add($PS, {})), shr(192, mload(add(k, {}))))",
                    half + 32 * r,
                    8 * (WIDTH - 1) * (r - 1)
                )
            })
            .collect())
    };
    let m00 = circ[0] + diag[0];
    let partial_d = |x: &str, half: usize| {
        let mut terms = vec![format!("mul({x}, {m00})")];
        terms.extend((1..WIDTH).map(|i| {
            format!(
                "mul(mload(add($PS, {})), shr(192, mload(add(k, {}))))",
                half + 32 * i,
                8 * (i - 1)
            )
        }));
        sum(terms)
    };
    let mut update = String::new();
    for (x, half) in [("x0", 0), ("x1", 384)] {
        for i in 1..WIDTH {
            writeln!(
                update,
                "                mstore(add($PS, {o}), mod(add(mload(add($PS, {o})), mul({x}, shr(192, mload(add(v, {k}))))), 0xffffffff00000001))",
                o = half + 32 * i,
                k = 8 * (i - 1)
            )
            .unwrap();
        }
    }
    vec![
        ("$POSEIDON_MDS_ROW", row),
        ("$POSEIDON_MDS_DIAG", diag_terms.trim_end().to_owned()),
        ("$POSEIDON_INIT_C0", init(0)),
        ("$POSEIDON_INIT_C1", init(384)),
        ("$POSEIDON_PARTIAL_D0", partial_d("x0", 0)),
        ("$POSEIDON_PARTIAL_D1", partial_d("x1", 384)),
        ("$POSEIDON_PARTIAL_UPDATE", update.trim_end().to_owned()),
    ]
}

/// `add(t0, add(t1, ...))` of Yul terms.
fn sum(terms: Vec<String>) -> String {
    terms
        .into_iter()
        .rev()
        .reduce(|acc, t| format!("add({t}, {acc})"))
        .unwrap_or_else(|| "0".to_owned())
}

/// The helpers with the layout's addresses filled in.
pub(super) fn helpers(layout: &Layout) -> String {
    // plonky2's permutation is checked here against the properties the Yul relies on.
    assert_eq!(
        <F as Poseidon>::FAST_PARTIAL_ROUND_CONSTANTS[N_PARTIAL_ROUNDS - 1],
        0,
        "the gate skips the last partial round constant, the permutation adds it: it must be 0"
    );
    assert!(
        <F as Poseidon>::MDS_MATRIX_CIRC
            .iter()
            .chain(&<F as Poseidon>::MDS_MATRIX_DIAG)
            .all(|&c| c < 64),
        "packed MDS lanes need coefficients below 2^6"
    );
    // PoseidonGate wire layout (plonky2 `gates/poseidon.rs`).
    let start_delta = 2 * WIDTH + 1;
    let start_full_0 = start_delta + 4;
    let start_partial = start_full_0 + WIDTH * (HALF_N_FULL_ROUNDS - 1);
    let start_full_1 = start_partial + N_PARTIAL_ROUNDS;
    let mut s = HELPERS.to_owned();
    for (k, v) in poseidon_pieces() {
        s = s.replace(k, &v);
    }
    let blob = |entry: usize| layout.kb + 8 * entry;
    let subs: Vec<(&str, usize)> = vec![
        ("$WIRES", layout.wires),
        ("$VARS", layout.vars),
        ("$FILT", layout.filter),
        ("$OUT", layout.out),
        ("$KB_RC", blob(RC_FULL)),
        ("$KB_FPFRC", blob(FPFRC)),
        ("$KB_IM", blob(IM)),
        ("$KB_FPRC", blob(FPRC)),
        ("$KB_WH", blob(WH)),
        ("$KB_VS", blob(VS)),
        ("$ST", layout.state),
        ("$NS", layout.next_state),
        ("$PS", layout.partial),
        ("$START_FULL_0", start_full_0),
        ("$START_PARTIAL", start_partial),
        ("$START_FULL_1", start_full_1),
    ];
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
    /// Each mirrors the gate's `eval_unfiltered` in plonky2 1.1, constraint for constraint.
    pub(super) fn yul(&self, layout: &Layout) -> String {
        let w = layout.wires;
        let k = layout.gate_constants;
        let t1 = layout.tmp;
        let t2 = layout.tmp + 128;
        let list = layout.tmp + 256;
        let p = "0xffffffff00000001";
        match *self {
            Self::Noop => String::new(),
            // constant_i - wire_i
            Self::Constant { num_consts } => format!(
                "for {{ let i := 0 }} lt(i, {num_consts}) {{ i := add(i, 1) }} {{
                    putsub(i, add({k}, shl(6, i)), add({w}, shl(6, i)))
                }}"
            ),
            // wire_i - public_inputs_hash_i
            Self::PublicInput => format!(
                "for {{ let i := 0 }} lt(i, 4) {{ i := add(i, 1) }} {{
                    let q := add({w}, shl(6, i))
                    put(i, addmod(mload(q), sub({p}, mload(add({pih}, shl(5, i)))), {p}), mload(add(q, 32)))
                }}",
                pih = layout.pi_hash
            ),
            // sum_i limb_i base^i - wire_0, then prod_{t < base} (limb - t) per limb.
            Self::BaseSum { num_limbs, base } => {
                let range = if base == 2 {
                    // x (x - 1) = (x0 (x0 - 1) + 7 x1^2) + (x1 (2 x0 - 1)) X
                    format!(
                        "let y0 := addmod(x0, sub({p}, 1), {p})
                        put(i, mod(add(mul(x0, y0), mul(7, mul(x1, x1))), {p}), mod(add(mul(x0, x1), mul(x1, y0)), {p}))"
                    )
                } else {
                    format!(
                        "let y0 := x0
                        let y1 := x1
                        for {{ let t := 1 }} lt(t, {base}) {{ t := add(t, 1) }} {{
                            let a0 := addmod(x0, sub({p}, t), {p})
                            let z0 := mod(add(mul(y0, a0), mul(7, mul(y1, x1))), {p})
                            y1 := mod(add(mul(y0, x1), mul(y1, a0)), {p})
                            y0 := z0
                        }}
                        put(i, y0, y1)"
                    )
                };
                format!(
                    "{{
                    let s0 := 0
                    let s1 := 0
                    for {{ let q := {top} }} gt(q, {w}) {{ q := sub(q, 64) }} {{
                        s0 := addmod(mulmod(s0, {base}, {p}), mload(q), {p})
                        s1 := addmod(mulmod(s1, {base}, {p}), mload(add(q, 32)), {p})
                    }}
                    put(0, addmod(s0, sub({p}, mload({w})), {p}), addmod(s1, sub({p}, mload({w1})), {p}))
                    for {{ let i := 1 }} lt(i, {end}) {{ i := add(i, 1) }} {{
                        let q := add({w}, shl(6, i))
                        let x0 := mload(q)
                        let x1 := mload(add(q, 32))
                        {range}
                    }}
                }}",
                    top = w + 64 * num_limbs,
                    w1 = w + 32,
                    end = num_limbs + 1
                )
            }
            // wire_3 - (wire_0 wire_1 c_0 + wire_2 c_1), per operation of four wires.
            Self::Arithmetic { num_ops } => format!(
                "for {{ let q := {w} }} lt(q, {end}) {{ q := add(q, 256) }} {{
                    let a0 := mload(q)
                    let a1 := mload(add(q, 32))
                    let b0 := mload(add(q, 64))
                    let b1 := mload(add(q, 96))
                    let m0 := mod(add(mul(a0, b0), mul(7, mul(a1, b1))), {p})
                    let m1 := mod(add(mul(a0, b1), mul(a1, b0)), {p})
                    a0 := mload(add(q, 128))
                    a1 := mload(add(q, 160))
                    b0 := mod(add(add(mul(m0, mload({k})), mul(7, mul(m1, mload({k1})))), add(mul(a0, mload({k2})), mul(7, mul(a1, mload({k3}))))), {p})
                    b1 := mod(add(add(mul(m0, mload({k1})), mul(m1, mload({k}))), add(mul(a0, mload({k3})), mul(a1, mload({k2})))), {p})
                    put(shr(8, sub(q, {w})), addmod(mload(add(q, 192)), sub({p}, b0), {p}), addmod(mload(add(q, 224)), sub({p}, b1), {p}))
                }}",
                end = w + 256 * num_ops,
                k1 = k + 32,
                k2 = k + 64,
                k3 = k + 96,
            ),
            // out - (m0 m1 c_0 + addend c_1) over algebra values of two wires each.
            Self::ArithmeticExtension { num_ops } => format!(
                "for {{ let i := 0 }} lt(i, {num_ops}) {{ i := add(i, 1) }} {{
                    let q := add({w}, shl(9, i))
                    amul(q, add(q, 128), {t1})
                    ascal({t1}, {k}, {t1})
                    ascal(add(q, 256), {k1}, {t2})
                    aaddsub({t1}, {t2}, {t1}, 0)
                    aaddsub(add(q, 384), {t1}, {t1}, 1)
                    aput(shl(1, i), {t1})
                }}",
                k1 = k + 64,
            ),
            // out - m0 m1 c_0
            Self::MulExtension { num_ops } => format!(
                "for {{ let i := 0 }} lt(i, {num_ops}) {{ i := add(i, 1) }} {{
                    let q := add({w}, mul(384, i))
                    amul(q, add(q, 128), {t1})
                    ascal({t1}, {k}, {t1})
                    aaddsub(add(q, 256), {t1}, {t1}, 1)
                    aput(shl(1, i), {t1})
                }}"
            ),
            Self::Reducing { num_coeffs } | Self::ReducingExtension { num_coeffs } => {
                let ext = matches!(self, Self::ReducingExtension { .. });
                // Coefficient i: one wire (embedded as (c, 0)) or an algebra pair of wires.
                let (coeff, start_accs) = if ext {
                    (
                        format!("aaddsub({t1}, add({w6}, shl(7, i)), {t1}, 0)", w6 = w + 64 * 6),
                        6 + 2 * num_coeffs,
                    )
                } else {
                    (
                        format!(
                            "let c := add({w6}, shl(6, i))
                        mstore({t1}, addmod(mload({t1}), mload(c), {p}))
                        mstore({t11}, addmod(mload({t11}), mload(add(c, 32)), {p}))",
                            w6 = w + 64 * 6,
                            t11 = t1 + 32
                        ),
                        6 + num_coeffs,
                    )
                };
                // acc_{i+1} = acc_i alpha + coeff_i; the constraint is computed - next.
                format!(
                    "{{
                    let acc := {w4}
                    for {{ let i := 0 }} lt(i, {num_coeffs}) {{ i := add(i, 1) }} {{
                        amul(acc, {w2}, {t1})
                        {coeff}
                        let next := add({accs}, shl(7, i))
                        if eq(i, {last}) {{ next := {w} }}
                        aaddsub({t1}, next, {t1}, 1)
                        aput(shl(1, i), {t1})
                        acc := next
                    }}
                }}",
                    w2 = w + 64 * 2,
                    w4 = w + 64 * 4,
                    accs = w + 64 * start_accs,
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
                // Per copy: each bit b (b - 1); the bits' value - index; the list folded by the
                // bits (list[k] = list[2k] + b (list[2k+1] - list[2k])), then list[0] - claimed.
                // Then constant_i - extra wire_i.
                format!(
                    "{{
                    let ci := 0
                    for {{ let copy := 0 }} lt(copy, {num_copies}) {{ copy := add(copy, 1) }} {{
                        let base := add({w}, mul(copy, {stride_bytes}))
                        let bitw := add({w}, shl(6, add({routed}, mul(copy, {bits}))))
                        for {{ let i := 0 }} lt(i, {bits}) {{ i := add(i, 1) }} {{
                            let q := add(bitw, shl(6, i))
                            let x0 := mload(q)
                            let x1 := mload(add(q, 32))
                            let y0 := addmod(x0, sub({p}, 1), {p})
                            put(add(ci, i), mod(add(mul(x0, y0), mul(7, mul(x1, x1))), {p}), mod(add(mul(x0, x1), mul(x1, y0)), {p}))
                        }}
                        ci := add(ci, {bits})
                        let r0 := 0
                        let r1 := 0
                        for {{ let q := add(bitw, {bits_bytes}) }} gt(q, bitw) {{}} {{
                            q := sub(q, 64)
                            r0 := addmod(add(r0, r0), mload(q), {p})
                            r1 := addmod(add(r1, r1), mload(add(q, 32)), {p})
                        }}
                        put(ci, addmod(r0, sub({p}, mload(base)), {p}), addmod(r1, sub({p}, mload(add(base, 32))), {p}))
                        ci := add(ci, 1)
                        mcopy({list}, add(base, 128), {list_bytes})
                        for {{ let i := 0 }} lt(i, {bits}) {{ i := add(i, 1) }} {{
                            let q := add(bitw, shl(6, i))
                            let b0 := mload(q)
                            let b1 := mload(add(q, 32))
                            for {{ let x := {list} }} lt(x, add({list}, shr(i, {half_bytes}))) {{ x := add(x, 64) }} {{
                                let y := add({list}, shl(1, sub(x, {list})))
                                let x0 := mload(y)
                                let x1 := mload(add(y, 32))
                                let d0 := addmod(mload(add(y, 64)), sub({p}, x0), {p})
                                let d1 := addmod(mload(add(y, 96)), sub({p}, x1), {p})
                                mstore(x, addmod(mod(add(mul(d0, b0), mul(7, mul(d1, b1))), {p}), x0, {p}))
                                mstore(add(x, 32), addmod(mod(add(mul(d0, b1), mul(d1, b0)), {p}), x1, {p}))
                            }}
                        }}
                        putsub(ci, {list}, add(base, 64))
                        ci := add(ci, 1)
                    }}
                    for {{ let i := 0 }} lt(i, {num_extra_constants}) {{ i := add(i, 1) }} {{
                        putsub(add(ci, i), add({k}, shl(6, i)), add({extra}, shl(6, i)))
                    }}
                }}",
                    stride_bytes = 64 * stride,
                    bits_bytes = 64 * bits,
                    list_bytes = 64 * vec_size,
                    half_bytes = 32 * vec_size,
                    extra = w + 64 * stride * num_copies,
                )
            }
            // out_i - MDS(inputs)_i for the 12 algebra inputs (24 wires), both halves at once
            // on packed words: wire j packed at PK + 32 j and again at PK + 768 + 32 j.
            Self::PoseidonMds => {
                let pk = layout.packed;
                let circ = <F as Poseidon>::MDS_MATRIX_CIRC;
                let diag = <F as Poseidon>::MDS_MATRIX_DIAG;
                let row = sum(
                    (0..WIDTH)
                        .filter(|&i| circ[i] != 0)
                        .map(|i| format!("mul(mload(add(b, {})), {})", 64 * i, circ[i]))
                        .collect(),
                );
                let mut diag_terms = String::new();
                for (r, &d) in diag.iter().enumerate() {
                    if d != 0 {
                        write!(
                            diag_terms,
                            "if eq(r, {r}) {{ s := add(s, mul(mload(b), {d})) }}\n                        "
                        )
                        .unwrap();
                    }
                }
                format!(
                    "{{
                    for {{ let j := 0 }} lt(j, 24) {{ j := add(j, 1) }} {{
                        let q := add({w}, shl(6, j))
                        let v := or(mload(q), shl(128, mload(add(q, 32))))
                        mstore(add({pk}, shl(5, j)), v)
                        mstore(add({pk2}, shl(5, j)), v)
                    }}
                    for {{ let j := 0 }} lt(j, 24) {{ j := add(j, 1) }} {{
                        let r := shr(1, j)
                        let b := add({pk}, shl(5, j))
                        let s := {row}
                        {diag_terms}let q := add({w24}, shl(6, j))
                        put(j, addmod(mload(q), sub({p}, mod(and(s, 0xffffffffffffffffffffffffffffffff), {p})), {p}), addmod(mload(add(q, 32)), sub({p}, mod(shr(128, s), {p})), {p}))
                    }}
                }}",
                    pk2 = pk + 768,
                    w24 = w + 64 * 24,
                )
            }
            // swap (swap - 1); swap (rhs_i - lhs_i) - delta_i; the swapped inputs through the
            // permutation with every S-box input a wire; outputs.
            Self::Poseidon => {
                let st = layout.state;
                format!(
                    "{{
                    let s0 := mload({w24})
                    let s1 := mload({w24b})
                    let y0 := addmod(s0, sub({p}, 1), {p})
                    put(0, mod(add(mul(s0, y0), mul(7, mul(s1, s1))), {p}), mod(add(mul(s0, s1), mul(s1, y0)), {p}))
                    for {{ let i := 0 }} lt(i, 4) {{ i := add(i, 1) }} {{
                        let l := add({w}, shl(6, i))
                        let r := add(l, 256)
                        let d := add({w25}, shl(6, i))
                        let a0 := addmod(mload(r), sub({p}, mload(l)), {p})
                        let a1 := addmod(mload(add(r, 32)), sub({p}, mload(add(l, 32))), {p})
                        put(add(1, i), addmod(mod(add(mul(a0, s0), mul(7, mul(a1, s1))), {p}), sub({p}, mload(d)), {p}), addmod(mod(add(mul(a0, s1), mul(a1, s0)), {p}), sub({p}, mload(add(d, 32))), {p}))
                        mstore(add({st}, shl(5, i)), or(addmod(mload(l), mload(d), {p}), shl(128, addmod(mload(add(l, 32)), mload(add(d, 32)), {p}))))
                        mstore(add({st}, shl(5, add(i, 4))), or(addmod(mload(r), sub({p}, mload(d)), {p}), shl(128, addmod(mload(add(r, 32)), sub({p}, mload(add(d, 32))), {p}))))
                    }}
                    for {{ let i := 8 }} lt(i, 12) {{ i := add(i, 1) }} {{
                        let q := add({w}, shl(6, i))
                        mstore(add({st}, shl(5, i)), or(mload(q), shl(128, mload(add(q, 32)))))
                    }}
                    poseidon(1)
                }}",
                    w24 = w + 64 * 24,
                    w24b = w + 64 * 24 + 32,
                    w25 = w + 64 * 25,
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
