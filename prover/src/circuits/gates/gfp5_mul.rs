//! `Gfp5MulGate`: c = a b in GF(p^5), several independent products per row.
//!
//! A product costs 25 base multiply-adds (1.25 `ArithmeticGate` rows); here it is 15
//! routed wires and five degree-2 constraints
//! c_k - sum_{i+j=k} a_i b_j - 3 sum_{i+j=k+5} a_i b_j = 0, so a row of the standard
//! recursion config (80 routed wires) holds 5 products.

use plonky2::{
    field::extension::Extendable,
    hash::hash_types::RichField,
    iop::target::Target,
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CircuitConfig},
};

use super::{elem, impl_ops_gate, mul5, Alg, OpsGate, E};

/// Wires of one product: a, b, then c.
const WIRES_PER_OP: usize = 15;

/// `num_ops` products c = a b per row (no constants, so any products share rows).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gfp5MulGate {
    /// Products per row.
    pub num_ops: usize,
}

impl Gfp5MulGate {
    /// As many products as the routed wires allow.
    pub fn new_from_config(config: &CircuitConfig) -> Self {
        Self {
            num_ops: config.num_routed_wires / WIRES_PER_OP,
        }
    }

    /// The first wire of a in operation i (b and c follow).
    fn start(i: usize) -> usize {
        WIRES_PER_OP * i
    }

    /// c = a b in a free slot of a shared row; returns the targets of c.
    pub fn apply<F: RichField + Extendable<D>, const D: usize>(
        builder: &mut CircuitBuilder<F, D>,
        a: [Target; 5],
        b: [Target; 5],
    ) -> [Target; 5] {
        let gate = Self::new_from_config(&builder.config);
        let (row, i) = builder.find_slot(gate, &[], &[]);
        let s = Self::start(i);
        for k in 0..5 {
            builder.connect(a[k], Target::wire(row, s + k));
            builder.connect(b[k], Target::wire(row, s + 5 + k));
        }
        std::array::from_fn(|k| Target::wire(row, s + 10 + k))
    }
}

impl OpsGate for Gfp5MulGate {
    const NAME: &'static str = "Gfp5Mul";
    const DEGREE: usize = 2;
    const RELATIONS: usize = 1;

    fn with_ops(num_ops: usize) -> Self {
        Self { num_ops }
    }

    fn ops(&self) -> usize {
        self.num_ops
    }

    fn wires(&self) -> usize {
        self.num_ops * WIRES_PER_OP
    }

    fn inputs(&self, i: usize) -> Vec<usize> {
        (Self::start(i)..Self::start(i) + 10).collect()
    }

    fn relations<A: Alg>(&self, cx: &mut A, w: &[A::V], i: usize) -> Vec<(usize, E<A::V>)> {
        let s = Self::start(i);
        let product = mul5(cx, elem(w, s), elem(w, s + 5));
        vec![(s + 10, product)]
    }
}

impl_ops_gate!(Gfp5MulGate);

#[cfg(test)]
mod tests {
    use plonky2::{
        gates::gate_testing::{test_eval_fns, test_low_degree},
        plonk::circuit_data::CircuitConfig,
    };

    use super::*;
    use crate::circuits::{C, D, F};

    #[test]
    fn gfp5_mul_gate_low_degree_and_recursive_evaluation() -> anyhow::Result<()> {
        let gate = Gfp5MulGate::new_from_config(&CircuitConfig::standard_recursion_config());
        assert_eq!(gate.num_ops, 5);
        test_low_degree::<F, _, D>(gate.clone());
        test_eval_fns::<F, C, _, D>(gate)
    }
}
