//! `XorGate`: p = b_1 ^ ... ^ b_n for bits b_k, several independent XORs per row.
//!
//! The XOR of n bits is the parity of their integer sum s, so instead of chaining n - 1
//! degree-2 XORs (one `ArithmeticGate` operation each, plus the wires of every
//! intermediate) one operation states `p (p - 1) = 0` and
//! `(s - p)(s - p - 2)...(s - p - 2 floor(n/2)) = 0`: s - p is even and in [0, n], so p is
//! the parity. The second constraint has degree floor(n/2) + 1 (2 for n = 2, 3 for the
//! five-input column parities of theta), and an operation costs only its n + 1 routed
//! wires: 26 XOR2 or 13 XOR5 per row of the standard recursion config.
//!
//! Soundness needs boolean inputs: every caller passes `BoolTarget`s, which the gates
//! producing them constrain.

use plonky2::{
    field::extension::Extendable,
    gates::gate::Gate,
    hash::hash_types::RichField,
    iop::{
        generator::{GeneratedValues, SimpleGenerator, WitnessGeneratorRef},
        target::{BoolTarget, Target},
        witness::{PartitionWitness, Witness, WitnessWrite},
    },
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{CircuitConfig, CommonCircuitData},
    },
    util::serialization::{Buffer, IoResult, Read, Write},
};

use super::{impl_bit_gate_evals, BitGate};
use crate::circuits::gates::Alg;

/// `num_ops` XORs of `arity` bits per row (no constants, so any XORs of one arity share
/// rows).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct XorGate {
    /// Input bits per XOR (at least 2).
    pub arity: usize,
    /// XORs per row.
    pub num_ops: usize,
}

impl XorGate {
    /// As many `arity`-input XORs as the routed wires allow.
    pub fn new_from_config(config: &CircuitConfig, arity: usize) -> Self {
        assert!(arity >= 2, "an XOR of {arity} bits needs no gate");
        Self {
            arity,
            num_ops: config.num_routed_wires / (arity + 1),
        }
    }

    /// The first input wire of operation i (the output follows the inputs).
    fn start(&self, i: usize) -> usize {
        (self.arity + 1) * i
    }

    /// The output wire of operation i.
    fn output(&self, i: usize) -> usize {
        self.start(i) + self.arity
    }

    /// The XOR of `bits` (at least two) in a free slot of a shared row.
    pub fn apply<F: RichField + Extendable<D>, const D: usize>(
        builder: &mut CircuitBuilder<F, D>,
        bits: &[BoolTarget],
    ) -> BoolTarget {
        let gate = Self::new_from_config(&builder.config, bits.len());
        let (row, i) = builder.find_slot(gate.clone(), &[], &[]);
        for (k, bit) in bits.iter().enumerate() {
            builder.connect(bit.target, Target::wire(row, gate.start(i) + k));
        }
        // The gate constrains the output to be a bit.
        BoolTarget::new_unsafe(Target::wire(row, gate.output(i)))
    }

    /// The coefficients of t (t - 2)(t - 4)...(t - 2 floor(arity/2)), lowest degree first.
    fn even_poly(&self) -> Vec<i64> {
        let mut coeffs = vec![0i64, 1];
        for k in 1..=self.arity as i64 / 2 {
            // Multiply by (t - 2k).
            let mut next = vec![0i64; coeffs.len() + 1];
            for (j, &c) in coeffs.iter().enumerate() {
                next[j + 1] += c;
                next[j] -= 2 * k * c;
            }
            coeffs = next;
        }
        coeffs
    }
}

/// sum_j coeffs[j] t^j for integer coefficients with coeffs[0] = 0 and a positive
/// leading one: the positive terms minus the negative ones, so no constant is needed.
fn eval_int_poly<A: Alg>(cx: &mut A, coeffs: &[i64], t: A::V) -> A::V {
    debug_assert_eq!(coeffs[0], 0);
    let (mut pos, mut neg): (Option<A::V>, Option<A::V>) = (None, None);
    let mut power = t;
    for (j, &c) in coeffs.iter().enumerate().skip(1) {
        if j > 1 {
            power = cx.mul(power, t);
        }
        if c == 0 {
            continue;
        }
        let term = cx.scale(c.unsigned_abs(), power);
        let side = if c > 0 { &mut pos } else { &mut neg };
        *side = Some(match *side {
            None => term,
            Some(acc) => cx.add(acc, term),
        });
    }
    let pos = pos.expect("the leading coefficient is 1");
    match neg {
        None => pos,
        Some(neg) => cx.sub(pos, neg),
    }
}

impl BitGate for XorGate {
    fn constraints<A: Alg>(&self, cx: &mut A, wires: &[A::V], _constants: &[A::V]) -> Vec<A::V> {
        let poly = self.even_poly();
        let mut out = Vec::with_capacity(2 * self.num_ops);
        for i in 0..self.num_ops {
            let s = self.start(i);
            let sum = (s + 1..s + self.arity).fold(wires[s], |acc, k| cx.add(acc, wires[k]));
            let p = wires[self.output(i)];
            let p2 = cx.mul(p, p);
            out.push(cx.sub(p2, p));
            let t = cx.sub(sum, p);
            out.push(eval_int_poly(cx, &poly, t));
        }
        out
    }

    fn num_wires(&self) -> usize {
        self.output(self.num_ops - 1) + 1
    }
}

impl<F: RichField + Extendable<D>, const D: usize> Gate<F, D> for XorGate {
    fn id(&self) -> String {
        format!("{self:?}")
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_usize(self.arity)?;
        dst.write_usize(self.num_ops)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            arity: src.read_usize()?,
            num_ops: src.read_usize()?,
        })
    }

    impl_bit_gate_evals!();

    fn generators(&self, row: usize, _: &[F]) -> Vec<WitnessGeneratorRef<F, D>> {
        (0..self.num_ops)
            .map(|i| {
                WitnessGeneratorRef::new(
                    XorGenerator {
                        gate: self.clone(),
                        row,
                        i,
                    }
                    .adapter(),
                )
            })
            .collect()
    }

    fn num_wires(&self) -> usize {
        BitGate::num_wires(self)
    }

    fn num_constants(&self) -> usize {
        0
    }

    fn degree(&self) -> usize {
        (self.arity / 2 + 1).max(2)
    }

    fn num_constraints(&self) -> usize {
        2 * self.num_ops
    }

    fn num_ops(&self) -> usize {
        self.num_ops
    }
}

/// Fills the output of one XOR: the parity of the sum of its input bits.
#[derive(Debug, Default)]
pub(crate) struct XorGenerator {
    gate: XorGate,
    row: usize,
    i: usize,
}

impl<F: RichField + Extendable<D>, const D: usize> SimpleGenerator<F, D> for XorGenerator {
    fn id(&self) -> String {
        "XorGenerator".to_owned()
    }

    fn dependencies(&self) -> Vec<Target> {
        let s = self.gate.start(self.i);
        (s..s + self.gate.arity)
            .map(|col| Target::wire(self.row, col))
            .collect()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let sum: u64 = <Self as SimpleGenerator<F, D>>::dependencies(self)
            .into_iter()
            .map(|t| witness.get_target(t).to_canonical_u64())
            .sum();
        let output = Target::wire(self.row, self.gate.output(self.i));
        out_buffer.set_target(output, F::from_canonical_u64(sum & 1))
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_usize(self.gate.arity)?;
        dst.write_usize(self.gate.num_ops)?;
        dst.write_usize(self.row)?;
        dst.write_usize(self.i)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            gate: XorGate {
                arity: src.read_usize()?,
                num_ops: src.read_usize()?,
            },
            row: src.read_usize()?,
            i: src.read_usize()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::{
        field::{
            goldilocks_field::GoldilocksField,
            types::{Field, Sample},
        },
        gates::gate_testing::{test_eval_fns, test_low_degree},
        hash::hash_types::HashOut,
        plonk::vars::EvaluationVars,
    };

    use super::*;
    use crate::circuits::{C, D, F};

    type FE = <GoldilocksField as Extendable<D>>::Extension;

    fn config() -> CircuitConfig {
        CircuitConfig::standard_recursion_config()
    }

    #[test]
    fn xor_gates_low_degree_and_recursive_evaluation() -> anyhow::Result<()> {
        for (arity, ops) in [(2, 26), (3, 20), (5, 13)] {
            let gate = XorGate::new_from_config(&config(), arity);
            assert_eq!(gate.num_ops, ops);
            test_low_degree::<F, _, D>(gate.clone());
            test_eval_fns::<F, C, _, D>(gate)?;
        }
        Ok(())
    }

    /// The constraints of one row with the given operations (the rest zero).
    fn eval(gate: &XorGate, ops: &[(Vec<u64>, u64)]) -> Vec<FE> {
        let mut wires = vec![FE::ZERO; BitGate::num_wires(gate)];
        for (i, (inputs, output)) in ops.iter().enumerate() {
            for (k, &b) in inputs.iter().enumerate() {
                wires[gate.start(i) + k] = FE::from_canonical_u64(b);
            }
            wires[gate.output(i)] = FE::from_canonical_u64(*output);
        }
        let vars = EvaluationVars {
            local_constants: &[],
            local_wires: &wires,
            public_inputs_hash: &HashOut::rand(),
        };
        Gate::<F, D>::eval_unfiltered(gate, vars)
    }

    #[test]
    fn exactly_the_parity_satisfies_the_constraints() {
        for arity in [2, 3, 5] {
            let gate = XorGate::new_from_config(&config(), arity);
            for mask in 0u64..1 << arity {
                let inputs: Vec<u64> = (0..arity).map(|k| (mask >> k) & 1).collect();
                let parity = u64::from(mask.count_ones() & 1);
                for claimed in 0..=arity as u64 + 1 {
                    let holds = eval(&gate, &[(inputs.clone(), claimed)])
                        .iter()
                        .all(|c| *c == FE::ZERO);
                    assert_eq!(holds, claimed == parity, "{arity} {mask:b} {claimed}");
                }
            }
        }
    }
}
