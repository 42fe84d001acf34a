//! Every circuit of one configuration, and the plan that proves a batch through them.
//!
//! A [`ProofPlan`] lists the proofs of a batch as nodes in dependency order: chunks,
//! per-partition merges, range nodes over partitions, the top and the wrapper. The
//! in-process prover ([`CircuitSet::prove_batch`]) runs it wave by wave with rayon; the
//! prover service runs each node as a job ([`CircuitSet::prove_node`]).

use std::collections::HashMap;

use plonky2::plonk::{circuit_data::CommonCircuitData, proof::ProofWithPublicInputs};
use rayon::prelude::*;
use rollup_core::{hash::hash_two, hash::Digest, statement::BatchStatement};
use serde::{Deserialize, Serialize};
use tracing::info;

use super::{
    merge::MergeCircuit,
    range::{RangeChild, RangeCircuit, RangeInner},
    top::{statement_words, TopCircuit},
    Proof, Shape,
};
use crate::{
    circuits::{
        chunk::{BatchWitness, ChunkCircuit, ChunkParams, ChunkWitness, Statement},
        wrapper::{WrapperCircuit, WrapperConfig},
        D, F,
    },
    Error, Result,
};

/// Merge levels built by default: a partition may have up to `2^5` chunks per batch
/// (512 debits), enough for batches of several thousand transfers over 16 partitions.
pub const DEFAULT_MERGE_LEVELS: usize = 5;

/// A wrapper proof, what L1 verifies.
pub type WrappedProof = ProofWithPublicInputs<F, WrapperConfig, D>;

/// Index of a node in a [`ProofPlan`].
pub type NodeId = usize;

/// One child of a range node in a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanChild {
    /// Proven by a node (a partition proof of merge height `verifier_index + 1`, or a
    /// range node, whose index is 0).
    Proven(NodeId, usize),
    /// A range the batch did not touch, with its root.
    Untouched(Digest),
}

/// One proof of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanNode {
    /// The chunk proof of `witness.chunks[chunk]`.
    Chunk {
        /// Index into the batch witness's chunks.
        chunk: usize,
    },
    /// A merge at `height` (>= 1) of one partition's proofs.
    Merge {
        /// The merge level.
        height: usize,
        /// The earlier run.
        left: NodeId,
        /// The later run, if any.
        right: Option<NodeId>,
    },
    /// A range node of `level` (>= 1).
    Range {
        /// The range level.
        level: usize,
        /// The lower half.
        left: PlanChild,
        /// The upper half.
        right: PlanChild,
    },
    /// The top over the range node covering every partition.
    Top {
        /// The range node.
        inner: NodeId,
    },
    /// The wrapper of the top proof.
    Wrap {
        /// The top node.
        inner: NodeId,
    },
}

impl PlanNode {
    /// The nodes whose proofs this one needs, in the order [`CircuitSet::prove_node`]
    /// takes them.
    pub fn dependencies(&self) -> Vec<NodeId> {
        match *self {
            PlanNode::Chunk { .. } => Vec::new(),
            PlanNode::Merge { left, right, .. } => std::iter::once(left).chain(right).collect(),
            PlanNode::Range { left, right, .. } => [left, right]
                .into_iter()
                .filter_map(|child| match child {
                    PlanChild::Proven(node, _) => Some(node),
                    PlanChild::Untouched(_) => None,
                })
                .collect(),
            PlanNode::Top { inner } | PlanNode::Wrap { inner } => vec![inner],
        }
    }

    /// A short kind name (job kinds, logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            PlanNode::Chunk { .. } => "chunk",
            PlanNode::Merge { .. } => "merge",
            PlanNode::Range { .. } => "range",
            PlanNode::Top { .. } => "top",
            PlanNode::Wrap { .. } => "wrap",
        }
    }
}

/// The proofs of one batch in dependency order; the last node is the wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPlan {
    /// The nodes; every node depends only on earlier ones.
    pub nodes: Vec<PlanNode>,
}

impl ProofPlan {
    /// The plan of a batch: chunk proofs, merged per partition into a binary tree (an odd
    /// last proof is lifted alone, and a single chunk is lifted once so that every
    /// partition proof is a merge), then range nodes up the state tree.
    pub fn new(witness: &BatchWitness, partition_bits: usize, merge_levels: usize) -> Result<Self> {
        let partitions = 1usize << partition_bits;
        let mut nodes = Vec::new();
        let mut by_partition: Vec<Vec<NodeId>> = vec![Vec::new(); partitions];
        for (index, chunk) in witness.chunks.iter().enumerate() {
            nodes.push(PlanNode::Chunk { chunk: index });
            by_partition[chunk.statement.partition].push(nodes.len() - 1);
        }
        let mut children: Vec<PlanChild> = Vec::with_capacity(partitions);
        for (partition, mut level) in by_partition.into_iter().enumerate() {
            if level.is_empty() {
                children.push(PlanChild::Untouched(
                    witness.outcome.partition_roots[partition],
                ));
                continue;
            }
            let mut height = 0;
            while height == 0 || level.len() > 1 {
                height += 1;
                if height > merge_levels {
                    return Err(Error::Witness(format!(
                        "partition {partition} has more than 2^{merge_levels} chunks"
                    )));
                }
                level = level
                    .chunks(2)
                    .map(|pair| {
                        nodes.push(PlanNode::Merge {
                            height,
                            left: pair[0],
                            right: pair.get(1).copied(),
                        });
                        nodes.len() - 1
                    })
                    .collect();
            }
            children.push(PlanChild::Proven(level[0], height - 1));
        }
        for level in 1..=partition_bits {
            children = children
                .chunks(2)
                .map(|pair| match (pair[0], pair[1]) {
                    (PlanChild::Untouched(left), PlanChild::Untouched(right)) => {
                        PlanChild::Untouched(hash_two(left, right))
                    }
                    (left, right) => {
                        nodes.push(PlanNode::Range { level, left, right });
                        PlanChild::Proven(nodes.len() - 1, 0)
                    }
                })
                .collect();
        }
        let PlanChild::Proven(range, _) = children[0] else {
            return Err(Error::Witness("an empty batch has nothing to prove".into()));
        };
        nodes.push(PlanNode::Top { inner: range });
        nodes.push(PlanNode::Wrap {
            inner: nodes.len() - 1,
        });
        Ok(Self { nodes })
    }
}

/// How a range node's child is given to its prover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildInput {
    /// The next dependency's proof, of the allowed circuit at this index.
    Proven(usize),
    /// An untouched range's root.
    Untouched(Digest),
}

/// What proving one node takes besides its dependencies' proofs: self-contained, so that a
/// worker anywhere can prove the node from a job's input alone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum NodeInput {
    /// A chunk's witness.
    Chunk(Box<ChunkWitness>),
    /// A merge of one or two proofs at this height.
    Merge {
        /// The merge level (>= 1).
        height: usize,
        /// Whether a right proof is given.
        has_right: bool,
    },
    /// A range node.
    Range {
        /// The range level (>= 1).
        level: usize,
        /// The lower half.
        left: ChildInput,
        /// The upper half.
        right: ChildInput,
    },
    /// The top, with every partition's final chains.
    Top {
        /// Sent then received chains per partition.
        chains: Vec<Vec<Digest>>,
    },
    /// The wrapper.
    Wrap,
}

impl NodeInput {
    /// A short kind name (job kinds, logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            NodeInput::Chunk(_) => "chunk",
            NodeInput::Merge { .. } => "merge",
            NodeInput::Range { .. } => "range",
            NodeInput::Top { .. } => "top",
            NodeInput::Wrap => "wrap",
        }
    }
}

impl ProofPlan {
    /// The self-contained input of node `id`.
    pub fn input(&self, witness: &BatchWitness, id: NodeId) -> NodeInput {
        let child = |c: PlanChild| match c {
            PlanChild::Proven(_, index) => ChildInput::Proven(index),
            PlanChild::Untouched(root) => ChildInput::Untouched(root),
        };
        match self.nodes[id] {
            PlanNode::Chunk { chunk } => NodeInput::Chunk(Box::new(witness.chunks[chunk].clone())),
            PlanNode::Merge { height, right, .. } => NodeInput::Merge {
                height,
                has_right: right.is_some(),
            },
            PlanNode::Range { level, left, right } => NodeInput::Range {
                level,
                left: child(left),
                right: child(right),
            },
            PlanNode::Top { .. } => NodeInput::Top {
                chains: witness.chains.clone(),
            },
            PlanNode::Wrap { .. } => NodeInput::Wrap,
        }
    }
}

/// A node's proof: every node but the wrapper gives a Poseidon proof.
#[derive(Clone, Debug)]
pub enum NodeProof {
    /// A chunk, merge, range or top proof.
    Inner(Proof),
    /// The wrapper proof.
    Wrapped(WrappedProof),
}

impl NodeProof {
    /// plonky2's serialisation of the proof.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            NodeProof::Inner(proof) => proof.to_bytes(),
            NodeProof::Wrapped(proof) => proof.to_bytes(),
        }
    }

    fn inner(&self) -> Result<&Proof> {
        match self {
            NodeProof::Inner(proof) => Ok(proof),
            NodeProof::Wrapped(_) => Err(Error::Witness(
                "a wrapper proof cannot be aggregated".into(),
            )),
        }
    }
}

/// A batch's final proofs.
#[derive(Clone, Debug)]
pub struct BatchProof {
    /// What L1 checks.
    pub statement: BatchStatement,
    /// The top proof (Poseidon).
    pub top: Proof,
    /// The wrapper proof L1 verifies.
    pub wrapped: WrappedProof,
}

/// Every circuit of one configuration.
pub struct CircuitSet {
    /// The chunk circuit's parameters (and so the whole set's).
    pub params: ChunkParams,
    /// The chunk circuit.
    pub chunk: ChunkCircuit,
    /// `merges[h - 1]`: the merge circuit of height h; all share one shape.
    pub merges: Vec<MergeCircuit>,
    /// `ranges[l - 1]`: the range circuit of level l.
    pub ranges: Vec<RangeCircuit>,
    /// The top circuit.
    pub top: TopCircuit,
    /// The wrapper for L1.
    pub wrapper: WrapperCircuit,
}

impl CircuitSet {
    /// Builds every circuit (deterministically) for `params` with `merge_levels` merge
    /// heights. Needs at least two partitions.
    pub fn build(params: ChunkParams, merge_levels: usize) -> Result<Self> {
        let partition_bits = params.tree.partition_bits() as usize;
        if partition_bits == 0 || merge_levels == 0 {
            return Err(Error::Witness(
                "the proof tree needs at least two partitions and one merge level".into(),
            ));
        }
        let chunk = ChunkCircuit::build(params);
        info!(
            degree_bits = chunk.data.common.degree_bits(),
            "chunk circuit built"
        );

        // The merge shape: the union of the first two levels' gates at the larger degree.
        let first = MergeCircuit::build(&chunk.data.common, &chunk.data.verifier_only, None);
        let second = MergeCircuit::build(&first.data.common, &first.data.verifier_only, None);
        let shape = Shape::union(&[&first.data.common, &second.data.common]);
        let mut merges: Vec<MergeCircuit> = Vec::with_capacity(merge_levels);
        merges.push(MergeCircuit::build(
            &chunk.data.common,
            &chunk.data.verifier_only,
            Some(&shape),
        ));
        for _ in 1..merge_levels {
            let below = merges.last().expect("one level");
            let next =
                MergeCircuit::build(&below.data.common, &below.data.verifier_only, Some(&shape));
            merges.push(next);
        }
        if merges
            .iter()
            .any(|m| m.data.common != merges[0].data.common)
        {
            return Err(Error::Witness("merge levels differ in shape".into()));
        }
        info!(
            degree_bits = merges[0].data.common.degree_bits(),
            levels = merge_levels,
            "merge circuits built"
        );

        let mut ranges: Vec<RangeCircuit> = Vec::with_capacity(partition_bits);
        let verifiers = merges.iter().map(|m| &m.data.verifier_only).collect();
        ranges.push(RangeCircuit::build(
            1,
            partition_bits,
            &RangeInner::Partitions {
                common: &merges[0].data.common,
                verifiers,
            },
            None,
        ));
        for level in 2..=partition_bits {
            let below = ranges.last().expect("one level");
            let next = RangeCircuit::build(
                level,
                partition_bits,
                &RangeInner::Ranges {
                    common: &below.data.common,
                    verifier: &below.data.verifier_only,
                },
                None,
            );
            ranges.push(next);
        }
        let last = ranges.last().expect("one level");
        let top = TopCircuit::build(partition_bits, &last.data.common, &last.data.verifier_only);
        let wrapper = WrapperCircuit::new(&top.data.common, &top.data.verifier_only);
        info!(
            top_degree_bits = top.data.common.degree_bits(),
            wrapper_degree_bits = wrapper.data.common.degree_bits(),
            "top and wrapper circuits built"
        );
        Ok(Self {
            params,
            chunk,
            merges,
            ranges,
            top,
            wrapper,
        })
    }

    /// Proves one node of `plan` given its dependencies' proofs (in
    /// [`PlanNode::dependencies`] order).
    pub fn prove_node(
        &self,
        witness: &BatchWitness,
        plan: &ProofPlan,
        node: NodeId,
        inputs: &[&NodeProof],
    ) -> Result<NodeProof> {
        let proofs: Vec<&Proof> = inputs.iter().map(|p| p.inner()).collect::<Result<_>>()?;
        self.prove_input(&plan.input(witness, node), &proofs)
    }

    /// Proves a node from its self-contained input and its dependencies' proofs.
    pub fn prove_input(&self, input: &NodeInput, deps: &[&Proof]) -> Result<NodeProof> {
        let dep = |i: usize| -> Result<&Proof> {
            deps.get(i)
                .copied()
                .ok_or_else(|| Error::Witness(format!("a {} node lacks input {i}", input.kind())))
        };
        Ok(match input {
            NodeInput::Chunk(witness) => NodeProof::Inner(self.chunk.prove(witness)?),
            NodeInput::Merge { height, has_right } => {
                let circuit = self.merge(*height)?;
                let right = if *has_right { Some(dep(1)?) } else { None };
                NodeProof::Inner(circuit.prove(dep(0)?, right)?)
            }
            NodeInput::Range { level, left, right } => {
                let circuit = self
                    .ranges
                    .get(level.wrapping_sub(1))
                    .ok_or_else(|| Error::Witness(format!("no range level {level}")))?;
                let mut next = 0;
                let mut child = |c: &ChildInput| -> Result<RangeChild<'_>> {
                    Ok(match *c {
                        ChildInput::Proven(index) => {
                            next += 1;
                            RangeChild::Proven(dep(next - 1)?, index)
                        }
                        ChildInput::Untouched(root) => RangeChild::Untouched(root),
                    })
                };
                let (left, right) = (child(left)?, child(right)?);
                NodeProof::Inner(circuit.prove(left, right)?)
            }
            NodeInput::Top { chains } => NodeProof::Inner(self.top.prove(dep(0)?, chains)?),
            NodeInput::Wrap => NodeProof::Wrapped(self.wrapper.prove(dep(0)?)?),
        })
    }

    fn merge(&self, height: usize) -> Result<&MergeCircuit> {
        self.merges
            .get(height.wrapping_sub(1))
            .ok_or_else(|| Error::Witness(format!("no merge level {height}")))
    }

    /// The common data of the proofs a node consumes (to read them back from bytes).
    pub fn dependency_common(&self, input: &NodeInput) -> Result<&CommonCircuitData<F, D>> {
        Ok(match input {
            NodeInput::Chunk(_) => {
                return Err(Error::Witness("a chunk consumes no proof".into()));
            }
            NodeInput::Merge { height: 1, .. } => &self.chunk.data.common,
            NodeInput::Merge { height, .. } => &self.merge(height - 1)?.data.common,
            NodeInput::Range { level: 1, .. } => &self.merges[0].data.common,
            NodeInput::Range { level, .. } => {
                &self
                    .ranges
                    .get(level.wrapping_sub(2))
                    .ok_or_else(|| Error::Witness(format!("no range level {level}")))?
                    .data
                    .common
            }
            NodeInput::Top { .. } => &self.ranges.last().expect("one level").data.common,
            NodeInput::Wrap => &self.top.data.common,
        })
    }

    /// Proves a whole batch in this process, each wave of independent nodes in parallel.
    pub fn prove_batch(&self, witness: &BatchWitness) -> Result<BatchProof> {
        let partition_bits = self.params.tree.partition_bits() as usize;
        let plan = ProofPlan::new(witness, partition_bits, self.merges.len())?;
        let mut depth = vec![0usize; plan.nodes.len()];
        for (id, node) in plan.nodes.iter().enumerate() {
            depth[id] = node
                .dependencies()
                .iter()
                .map(|d| depth[*d] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut proofs: HashMap<NodeId, NodeProof> = HashMap::new();
        for wave in 0..=depth.iter().copied().max().unwrap_or(0) {
            let ids: Vec<NodeId> = (0..plan.nodes.len())
                .filter(|id| depth[*id] == wave)
                .collect();
            let started = std::time::Instant::now();
            let done: Vec<(NodeId, NodeProof)> = ids
                .par_iter()
                .map(|&id| {
                    let inputs: Vec<&NodeProof> = plan.nodes[id]
                        .dependencies()
                        .iter()
                        .map(|d| &proofs[d])
                        .collect();
                    Ok((id, self.prove_node(witness, &plan, id, &inputs)?))
                })
                .collect::<Result<_>>()?;
            info!(
                wave,
                proofs = done.len(),
                kind = plan.nodes[ids[0]].kind(),
                seconds = started.elapsed().as_secs_f64(),
                "proof wave done"
            );
            proofs.extend(done);
        }
        let last = plan.nodes.len() - 1;
        let NodeProof::Wrapped(wrapped) = proofs.remove(&last).expect("the wrapper node") else {
            return Err(Error::Witness(
                "the plan does not end with the wrapper".into(),
            ));
        };
        let NodeProof::Inner(top) = proofs.remove(&(last - 1)).expect("the top node") else {
            return Err(Error::Witness(
                "the plan's top is not a Poseidon proof".into(),
            ));
        };
        let statement = batch_statement(witness);
        if statement_words(&top)? != statement.public_inputs() {
            return Err(Error::Statement(
                "the top proof states another batch".into(),
            ));
        }
        Ok(BatchProof {
            statement,
            top,
            wrapped,
        })
    }
}

/// The statement L1 will check for a batch witness.
pub fn batch_statement(witness: &BatchWitness) -> BatchStatement {
    BatchStatement {
        old_root: witness.outcome.old_root,
        new_root: witness.outcome.new_root,
        data_commitment: witness.data_commitment,
        fees: witness.outcome.fees,
    }
}

/// The statement of a chunk-level proof (chunk, merge or range).
pub fn proof_statement(proof: &Proof) -> Result<Statement> {
    Statement::from_public_inputs(&proof.public_inputs)
}
