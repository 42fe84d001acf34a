//! A circuit shape that several circuits are padded to, so that they share one
//! `CommonCircuitData` and a verifier can take a proof of any of them.

use plonky2::{
    gates::{gate::GateRef, noop::NoopGate},
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CommonCircuitData},
};

use crate::circuits::{D, F};

/// Degree and gate set; everything else in `CommonCircuitData` follows from them and the
/// config (the circuits sharing a shape also share their public-input count).
#[derive(Clone, Debug)]
pub struct Shape {
    /// log2 of the number of rows.
    pub degree_bits: usize,
    /// Every gate type, so that selectors and constants are laid out identically.
    pub gates: Vec<GateRef<F, D>>,
}

impl Shape {
    /// The shape of a built circuit.
    pub fn of(common: &CommonCircuitData<F, D>) -> Self {
        Self {
            degree_bits: common.degree_bits(),
            gates: common.gates.clone(),
        }
    }

    /// The smallest shape that circuits of all these shapes fit: the largest degree and
    /// every gate type any of them uses.
    pub fn union(commons: &[&CommonCircuitData<F, D>]) -> Self {
        let mut gates: Vec<GateRef<F, D>> = Vec::new();
        for common in commons {
            for gate in &common.gates {
                if !gates.iter().any(|g| g.0.id() == gate.0.id()) {
                    gates.push(gate.clone());
                }
            }
        }
        Self {
            degree_bits: commons.iter().map(|c| c.degree_bits()).max().unwrap_or(1),
            gates,
        }
    }

    /// Pads a circuit under construction to this shape: the same gate types, and enough
    /// rows that it rounds up to the same degree. Call it last, before `build`.
    pub fn pad(&self, builder: &mut CircuitBuilder<F, D>) {
        for gate in &self.gates {
            builder.add_gate_to_gate_set(gate.clone());
        }
        let half = 1usize << (self.degree_bits - 1);
        while builder.num_gates() <= half {
            builder.add_gate(NoopGate, vec![]);
        }
    }
}
