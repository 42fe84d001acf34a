//! `PointAddAffineGate`: one complete ECgFp5 mixed addition (fractional plus affine, the
//! native `Point::add_affine`) per row.
//!
//! The gadget version costs about 12 `ArithmeticGate` rows, and a Schnorr verification
//! adds about 150 table entries. Here an addition is 50 routed wires (P = (X : Z : U : T)
//! and q = (x, u) in, the sum out) and 20 advice wires holding t1 = X x, t3 = U u,
//! t8 = T t7 and t9 = t3 (2b t5 + a t7), with t5 = X + x Z and t7 = t1 + b Z, which keep
//! every constraint at degree 3 (a = 2, b = 263 z).

use plonky2::{
    field::extension::Extendable,
    hash::hash_types::RichField,
    iop::target::Target,
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CircuitConfig},
};
use rollup_core::ecgfp5::curve::{CURVE_A, CURVE_B1};

use super::{add5, elem, impl_ops_gate, mul5, mul_z5, scale5, sub5, Alg, OpsGate, E};

/// Routed wires of one addition: X, Z, U, T, x, u in, then X', Z', U', T' out.
const ROUTED_PER_OP: usize = 50;
/// Advice wires of one addition: t1, t3, t8, t9.
const ADVICE_PER_OP: usize = 20;

/// `num_ops` independent mixed additions per row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PointAddAffineGate {
    /// Additions per row.
    pub num_ops: usize,
}

impl PointAddAffineGate {
    /// As many additions as the routed and total wires allow.
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

    /// (X : Z : U : T) + (x, u) in a free slot; returns the targets of the sum.
    pub fn apply<F: RichField + Extendable<D>, const D: usize>(
        builder: &mut CircuitBuilder<F, D>,
        point: [[Target; 5]; 4],
        affine: [[Target; 5]; 2],
    ) -> [[Target; 5]; 4] {
        let gate = Self::new_from_config(&builder.config);
        let (row, i) = builder.find_slot(gate, &[], &[]);
        let s = Self::routed(i);
        for (c, coordinate) in point.iter().chain(&affine).enumerate() {
            for (k, &t) in coordinate.iter().enumerate() {
                builder.connect(t, Target::wire(row, s + 5 * c + k));
            }
        }
        std::array::from_fn(|c| std::array::from_fn(|k| Target::wire(row, s + 30 + 5 * c + k)))
    }
}

impl OpsGate for PointAddAffineGate {
    const NAME: &'static str = "PointAddAffine";
    const DEGREE: usize = 3;
    const RELATIONS: usize = 8;

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
        (Self::routed(i)..Self::routed(i) + 30).collect()
    }

    fn relations<A: Alg>(&self, cx: &mut A, w: &[A::V], i: usize) -> Vec<(usize, E<A::V>)> {
        let s = Self::routed(i);
        let [x1, z1, u1, t1_in, x2, u2] = [0, 5, 10, 15, 20, 25].map(|o| elem(w, s + o));
        let a = self.advice(i);
        let cols = [a, a + 5, a + 10, a + 15];
        let [t1, t3, t8, t9] = cols.map(|c| elem(w, c));

        let t1_expr = mul5(cx, x1, x2);
        let t3_expr = mul5(cx, u1, u2);
        let b_t2 = mul_z5(cx, CURVE_B1, z1);
        let t7 = add5(cx, t1, b_t2);
        let t8_expr = mul5(cx, t1_in, t7);
        let x2z1 = mul5(cx, x2, z1);
        let t5 = add5(cx, x1, x2z1);
        let b_t5 = mul_z5(cx, 2 * CURVE_B1, t5);
        let a_t7 = scale5(cx, CURVE_A, t7);
        let inner = add5(cx, b_t5, a_t7);
        let t9_expr = mul5(cx, t3, inner);

        let a_t3 = scale5(cx, CURVE_A, t3);
        let left = add5(cx, t1_in, a_t3);
        let right = add5(cx, t5, t7);
        let t10 = mul5(cx, left, right);
        let diff = sub5(cx, t10, t8);
        let x_out = mul_z5(cx, CURVE_B1, diff);
        let z_out = sub5(cx, t8, t9);
        let u2t1 = mul5(cx, u2, t1_in);
        let t6 = add5(cx, u1, u2t1);
        let u_factor = sub5(cx, b_t2, t1);
        let u_out = mul5(cx, t6, u_factor);
        let t_out = add5(cx, t8, t9);
        vec![
            (cols[0], t1_expr),
            (cols[1], t3_expr),
            (cols[2], t8_expr),
            (cols[3], t9_expr),
            (s + 30, x_out),
            (s + 35, z_out),
            (s + 40, u_out),
            (s + 45, t_out),
        ]
    }
}

impl_ops_gate!(PointAddAffineGate);

#[cfg(test)]
mod tests {
    use plonky2::{
        gates::gate_testing::{test_eval_fns, test_low_degree},
        plonk::circuit_data::CircuitConfig,
    };

    use super::*;
    use crate::circuits::{C, D, F};

    #[test]
    fn point_add_affine_gate_low_degree_and_recursive_evaluation() -> anyhow::Result<()> {
        let gate = PointAddAffineGate::new_from_config(&CircuitConfig::standard_recursion_config());
        assert_eq!(gate.num_ops, 1);
        test_low_degree::<F, _, D>(gate.clone());
        test_eval_fns::<F, C, _, D>(gate)
    }
}
