//! `PointDoubleGate`: one complete ECgFp5 doubling in fractional (x, u) coordinates per
//! operation, two per row of the standard recursion config.
//!
//! The native `Point::double` (4M + 5S) costs about 11 `ArithmeticGate` rows, and the
//! scalar multiplications of a Schnorr verification double 300 times. Here a doubling is
//! 40 routed wires (the point in and out) and 15 advice wires holding t2 = Z T^2,
//! z1 = Z T U and w1 = t2 - 2 (X + Z) U^2, which keep every constraint at degree 3:
//! X' = 4b z1^2, Z' = w1^2, U' = 2 w1 z1, T' = 2 t2^2 - 4 z1^2 - w1^2 (b = 263 z).

use plonky2::{
    field::extension::Extendable,
    hash::hash_types::RichField,
    iop::target::Target,
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CircuitConfig},
};
use rollup_core::ecgfp5::curve::CURVE_B1;

use super::{add5, elem, impl_ops_gate, mul5, mul_z5, scale5, sub5, Alg, OpsGate, E};

/// Routed wires of one doubling: X, Z, U, T in, then X', Z', U', T' out.
const ROUTED_PER_OP: usize = 40;
/// Advice wires of one doubling: t2, z1, w1.
const ADVICE_PER_OP: usize = 15;

/// `num_ops` independent doublings per row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PointDoubleGate {
    /// Doublings per row.
    pub num_ops: usize,
}

impl PointDoubleGate {
    /// As many doublings as the routed and total wires allow.
    pub fn new_from_config(config: &CircuitConfig) -> Self {
        Self {
            num_ops: (config.num_routed_wires / ROUTED_PER_OP)
                .min(config.num_wires / (ROUTED_PER_OP + ADVICE_PER_OP)),
        }
    }

    fn routed(i: usize) -> usize {
        ROUTED_PER_OP * i
    }

    fn advice(&self, i: usize) -> usize {
        ROUTED_PER_OP * self.num_ops + ADVICE_PER_OP * i
    }

    /// The double of (X : Z : U : T) in a free slot of a shared row; returns the targets of
    /// (X' : Z' : U' : T').
    pub fn apply<F: RichField + Extendable<D>, const D: usize>(
        builder: &mut CircuitBuilder<F, D>,
        point: [[Target; 5]; 4],
    ) -> [[Target; 5]; 4] {
        let gate = Self::new_from_config(&builder.config);
        let (row, i) = builder.find_slot(gate, &[], &[]);
        let s = Self::routed(i);
        for (c, coordinate) in point.iter().enumerate() {
            for (k, &t) in coordinate.iter().enumerate() {
                builder.connect(t, Target::wire(row, s + 5 * c + k));
            }
        }
        std::array::from_fn(|c| std::array::from_fn(|k| Target::wire(row, s + 20 + 5 * c + k)))
    }
}

impl OpsGate for PointDoubleGate {
    const NAME: &'static str = "PointDouble";
    const DEGREE: usize = 3;
    const RELATIONS: usize = 7;

    fn with_ops(num_ops: usize) -> Self {
        Self { num_ops }
    }

    fn ops(&self) -> usize {
        self.num_ops
    }

    fn wires(&self) -> usize {
        (ROUTED_PER_OP + ADVICE_PER_OP) * self.num_ops
    }

    fn inputs(&self, i: usize) -> Vec<usize> {
        (Self::routed(i)..Self::routed(i) + 20).collect()
    }

    fn relations<A: Alg>(&self, cx: &mut A, w: &[A::V], i: usize) -> Vec<(usize, E<A::V>)> {
        let s = Self::routed(i);
        let [x, z, u, t] = [0, 5, 10, 15].map(|o| elem(w, s + o));
        let a = self.advice(i);
        let (t2_col, z1_col, w1_col) = (a, a + 5, a + 10);
        let (t2, z1, w1) = (elem(w, t2_col), elem(w, z1_col), elem(w, w1_col));

        let zt = mul5(cx, z, t);
        let t2_expr = mul5(cx, zt, t);
        let z1_expr = mul5(cx, zt, u);
        let x_plus_z = add5(cx, x, z);
        let u2 = mul5(cx, u, u);
        let xzu2 = mul5(cx, x_plus_z, u2);
        let twice = scale5(cx, 2, xzu2);
        let w1_expr = sub5(cx, t2, twice);

        let t4 = mul5(cx, z1, z1);
        let x_out = mul_z5(cx, 4 * CURVE_B1, t4);
        let z_out = mul5(cx, w1, w1);
        let w1z1 = mul5(cx, w1, z1);
        let u_out = scale5(cx, 2, w1z1);
        let x1 = mul5(cx, t2, t2);
        let x1_2 = scale5(cx, 2, x1);
        let t4_4 = scale5(cx, 4, t4);
        let partial = sub5(cx, x1_2, t4_4);
        let t_out = sub5(cx, partial, z_out);
        vec![
            (t2_col, t2_expr),
            (z1_col, z1_expr),
            (w1_col, w1_expr),
            (s + 20, x_out),
            (s + 25, z_out),
            (s + 30, u_out),
            (s + 35, t_out),
        ]
    }
}

impl_ops_gate!(PointDoubleGate);

#[cfg(test)]
mod tests {
    use plonky2::{
        gates::gate_testing::{test_eval_fns, test_low_degree},
        plonk::circuit_data::CircuitConfig,
    };

    use super::*;
    use crate::circuits::{C, D, F};

    #[test]
    fn point_double_gate_low_degree_and_recursive_evaluation() -> anyhow::Result<()> {
        let gate = PointDoubleGate::new_from_config(&CircuitConfig::standard_recursion_config());
        assert_eq!(gate.num_ops, 2);
        test_low_degree::<F, _, D>(gate.clone());
        test_eval_fns::<F, C, _, D>(gate)
    }
}
