//! `KeccakRoundGate`: one z-slice of one Keccak-f round, from the theta correction to the
//! next round's column parities, in one row.
//!
//! A slice is the 25 bits of the state with the same bit position z. After rho and pi,
//! the 25 bits of one output slice come from 25 (lane, position) pairs of the input state,
//! and chi and iota act inside the slice; the row therefore takes, for each position
//! i = X + 5 Y of the slice after pi, the input bit `a_i` and the theta correction `d_i`
//! of its source (rho and pi are only the choice of wires, free in copy constraints), and
//! states with degree at most 3:
//!
//! - `b_i = a_i ^ d_i` (advice wires: theta),
//! - `out_i = b_i ^ (!b_{X+1,Y} & b_{X+2,Y})` (chi), with iota XORing the round
//!   constant's bit at z (the gate's one constant) into lane (0, 0) through an advice wire,
//! - `parity_X = out_{X,0} ^ ... ^ out_{X,4}`, the column parity theta needs in the next
//!   round (as in [`super::XorGate`]: `p (p - 1) = 0` and `(s - p)(s - p - 2)(s - p - 4) = 0`).
//!
//! The 25 + 25 + 25 + 5 routed wires fill the 80 of the standard recursion config exactly;
//! 26 advice wires hold the b's and the pre-iota lane (0, 0). Outputs are bits when the
//! inputs are.

use plonky2::{
    field::{extension::Extendable, types::PrimeField64},
    gates::gate::Gate,
    hash::hash_types::RichField,
    iop::{
        generator::{GeneratedValues, SimpleGenerator, WitnessGeneratorRef},
        target::{BoolTarget, Target},
        witness::{PartitionWitness, Witness, WitnessWrite},
    },
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CommonCircuitData},
    util::serialization::{Buffer, IoResult, Read, Write},
};

use super::{impl_bit_gate_evals, BitGate};
use crate::circuits::gates::{Alg, Plain};

/// Bits of a slice.
pub(crate) const SLICE: usize = 25;
/// Input bits a_i, by position i = X + 5 Y after pi.
const A_IN: usize = 0;
/// Theta corrections d_i of the same positions.
const D_IN: usize = A_IN + SLICE;
/// The round's output bits of the slice.
const OUT: usize = D_IN + SLICE;
/// The five column parities of the output slice.
const PARITY: usize = OUT + SLICE;
/// Wires the other gates may read or write: everything above.
const ROUTED: usize = PARITY + 5;
/// Advice: b_i = a_i ^ d_i.
const B: usize = ROUTED;
/// Advice: chi's output at lane (0, 0), before iota.
const CHI00: usize = B + SLICE;
/// All wires of the row.
const WIRES: usize = CHI00 + 1;

/// One slice of one round per row; its constant is the round constant's bit at z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeccakRoundGate;

/// What a round-gate row outputs for one slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SliceTargets {
    /// The round's output bits, by lane index x + 5 y.
    pub(crate) out: [BoolTarget; SLICE],
    /// The output's column parities C[x].
    pub(crate) parity: [BoolTarget; 5],
}

impl KeccakRoundGate {
    /// One slice of a round in a new row: `a[i]` and `d[i]` are the input bit and the
    /// theta correction moved to position i = X + 5 Y by rho and pi; `rc_bit` is the
    /// round constant's bit at this slice's z.
    pub(crate) fn apply<F: RichField + Extendable<D>, const D: usize>(
        builder: &mut CircuitBuilder<F, D>,
        a: &[BoolTarget; SLICE],
        d: &[BoolTarget; SLICE],
        rc_bit: bool,
    ) -> SliceTargets {
        assert!(
            builder.config.num_routed_wires >= ROUTED && builder.config.num_wires >= WIRES,
            "the Keccak round gate needs {ROUTED} routed wires of {WIRES}"
        );
        let row = builder.add_gate(Self, vec![F::from_bool(rc_bit)]);
        for i in 0..SLICE {
            builder.connect(a[i].target, Target::wire(row, A_IN + i));
            builder.connect(d[i].target, Target::wire(row, D_IN + i));
        }
        // The gate constrains every output to be a bit when its inputs are.
        let bit = |col| BoolTarget::new_unsafe(Target::wire(row, col));
        SliceTargets {
            out: std::array::from_fn(|i| bit(OUT + i)),
            parity: std::array::from_fn(|x| bit(PARITY + x)),
        }
    }
}

/// u ^ v for bits: u + v - 2 u v.
fn xor<A: Alg>(cx: &mut A, u: A::V, v: A::V) -> A::V {
    let sum = cx.add(u, v);
    let uv = cx.mul(u, v);
    let two_uv = cx.scale(2, uv);
    cx.sub(sum, two_uv)
}

/// b0 ^ (!b1 & b2) for bits, with !b1 & b2 = b2 - b1 b2.
fn chi<A: Alg>(cx: &mut A, b0: A::V, b1: A::V, b2: A::V) -> A::V {
    let b1b2 = cx.mul(b1, b2);
    let and_not = cx.sub(b2, b1b2);
    xor(cx, b0, and_not)
}

/// The b's, chi's outputs with the pre-iota lane (0, 0), and the outputs after iota, as
/// expressions in the row's wires: what the constraints equate the wires to and what the
/// generator writes, so that the two cannot drift apart.
struct Relations<V> {
    b: [V; SLICE],
    chi: [V; SLICE],
    iota00: V,
}

fn relations<A: Alg>(cx: &mut A, w: &[A::V], rc: A::V) -> Relations<A::V> {
    let b = std::array::from_fn(|i| xor(cx, w[A_IN + i], w[D_IN + i]));
    let chi = std::array::from_fn(|i| {
        let (x, y) = (i % 5, i / 5);
        let at = |dx: usize| B + (x + dx) % 5 + 5 * y;
        chi(cx, w[at(0)], w[at(1)], w[at(2)])
    });
    let iota00 = xor(cx, w[CHI00], rc);
    Relations { b, chi, iota00 }
}

/// The five column parities of the output wires.
fn column_sums<A: Alg>(cx: &mut A, w: &[A::V]) -> [A::V; 5] {
    std::array::from_fn(|x| (1..5).fold(w[OUT + x], |acc, y| cx.add(acc, w[OUT + x + 5 * y])))
}

/// Every non-input wire of a row, from its 50 input bits and round-constant bit.
pub(crate) fn fill_row<F: PrimeField64>(w: &mut [F], rc: F) {
    let mut cx = Plain::new(F::from_canonical_u64);
    let b = relations(&mut cx, w, rc).b;
    w[B..B + SLICE].copy_from_slice(&b);
    let chi = relations(&mut cx, w, rc).chi;
    w[CHI00] = chi[0];
    let r = relations(&mut cx, w, rc);
    w[OUT..OUT + SLICE].copy_from_slice(&r.chi);
    w[OUT] = r.iota00;
    let sums = column_sums(&mut cx, w);
    for (x, s) in sums.into_iter().enumerate() {
        w[PARITY + x] = F::from_canonical_u64(s.to_canonical_u64() & 1);
    }
}

impl BitGate for KeccakRoundGate {
    fn constraints<A: Alg>(&self, cx: &mut A, w: &[A::V], constants: &[A::V]) -> Vec<A::V> {
        let r = relations(cx, w, constants[0]);
        let mut out = Vec::with_capacity(2 * SLICE + 11);
        for i in 0..SLICE {
            out.push(cx.sub(w[B + i], r.b[i]));
        }
        out.push(cx.sub(w[CHI00], r.chi[0]));
        out.push(cx.sub(w[OUT], r.iota00));
        for i in 1..SLICE {
            out.push(cx.sub(w[OUT + i], r.chi[i]));
        }
        for (x, s) in column_sums(cx, w).into_iter().enumerate() {
            let p = w[PARITY + x];
            let p2 = cx.mul(p, p);
            out.push(cx.sub(p2, p));
            // t (t - 2)(t - 4) = t^3 - 6 t^2 + 8 t for t = s - p.
            let t = cx.sub(s, p);
            let t2 = cx.mul(t, t);
            let t3 = cx.mul(t2, t);
            let six_t2 = cx.scale(6, t2);
            let eight_t = cx.scale(8, t);
            let cubic = cx.sub(t3, six_t2);
            out.push(cx.add(cubic, eight_t));
        }
        out
    }

    fn num_wires(&self) -> usize {
        WIRES
    }
}

impl<F: RichField + Extendable<D>, const D: usize> Gate<F, D> for KeccakRoundGate {
    fn id(&self) -> String {
        format!("{self:?}")
    }

    fn serialize(&self, _: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        Ok(())
    }

    fn deserialize(_: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self)
    }

    impl_bit_gate_evals!();

    fn generators(&self, row: usize, local_constants: &[F]) -> Vec<WitnessGeneratorRef<F, D>> {
        vec![WitnessGeneratorRef::new(
            RoundGenerator {
                row,
                rc: local_constants[0],
            }
            .adapter(),
        )]
    }

    fn num_wires(&self) -> usize {
        WIRES
    }

    fn num_constants(&self) -> usize {
        1
    }

    fn degree(&self) -> usize {
        3
    }

    fn num_constraints(&self) -> usize {
        2 * SLICE + 1 + 10
    }
}

/// Fills a round-gate row from its 50 input bits.
#[derive(Debug, Default)]
pub(crate) struct RoundGenerator<F> {
    row: usize,
    rc: F,
}

impl<F: RichField + Extendable<D>, const D: usize> SimpleGenerator<F, D> for RoundGenerator<F> {
    fn id(&self) -> String {
        "KeccakRoundGenerator".to_owned()
    }

    fn dependencies(&self) -> Vec<Target> {
        (A_IN..OUT).map(|col| Target::wire(self.row, col)).collect()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let mut w = vec![F::ZERO; WIRES];
        for (col, value) in w.iter_mut().enumerate().take(OUT) {
            *value = witness.get_target(Target::wire(self.row, col));
        }
        fill_row(&mut w, self.rc);
        for (col, &value) in w.iter().enumerate().skip(OUT) {
            out_buffer.set_target(Target::wire(self.row, col), value)?;
        }
        Ok(())
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_usize(self.row)?;
        dst.write_field(self.rc)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            row: src.read_usize()?,
            rc: src.read_field()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::{
        field::{
            extension::FieldExtension,
            goldilocks_field::GoldilocksField,
            types::{Field, Sample},
        },
        gates::gate_testing::{test_eval_fns, test_low_degree},
        hash::hash_types::HashOut,
        plonk::vars::EvaluationVars,
    };
    use rand::Rng;

    use super::*;
    use crate::circuits::{C, D, F};

    type FE = <GoldilocksField as Extendable<D>>::Extension;

    #[test]
    fn round_gate_low_degree_and_recursive_evaluation() -> anyhow::Result<()> {
        test_low_degree::<F, _, D>(KeccakRoundGate);
        test_eval_fns::<F, C, _, D>(KeccakRoundGate)
    }

    fn holds(w: &[F], rc: F) -> bool {
        let wires: Vec<FE> = w
            .iter()
            .map(|&x| <FE as FieldExtension<D>>::from_basefield(x))
            .collect();
        let constants = [<FE as FieldExtension<D>>::from_basefield(rc)];
        let vars = EvaluationVars {
            local_constants: &constants,
            local_wires: &wires,
            public_inputs_hash: &HashOut::rand(),
        };
        Gate::<F, D>::eval_unfiltered(&KeccakRoundGate, vars)
            .iter()
            .all(|c| *c == FE::ZERO)
    }

    /// A row the generator fills from random input bits satisfies the constraints, and
    /// flipping any one output, parity or advice wire of it breaks them.
    #[test]
    fn filled_rows_hold_and_any_wrong_output_wire_fails() {
        let mut rng = rand::thread_rng();
        for _ in 0..20 {
            let rc = F::from_bool(rng.gen());
            let mut w = vec![F::ZERO; WIRES];
            for x in w.iter_mut().take(OUT) {
                *x = F::from_bool(rng.gen());
            }
            fill_row(&mut w, rc);
            assert!(holds(&w, rc));
            assert!(!holds(&w, F::ONE - rc), "the round constant bit matters");
            for col in OUT..WIRES {
                let mut bad = w.clone();
                bad[col] = F::ONE - bad[col];
                assert!(!holds(&bad, rc), "flipped wire {col} still satisfies");
                bad[col] = F::TWO;
                assert!(!holds(&bad, rc), "wire {col} = 2 still satisfies");
            }
        }
    }
}
