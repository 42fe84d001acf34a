//! Proving a claimed job with the circuits.

use std::{sync::Arc, time::Instant};

use tracing::info;

use crate::{
    circuits::aggregation::{
        tree::{CircuitSet, NodeInput, NodeProof},
        Proof,
    },
    queue::{worker::JobExecutor, ClaimedJob},
    solidity::encode_proof,
    Error, Result,
};

/// Proves jobs of every kind with one configuration's circuits.
#[derive(Clone)]
pub struct CircuitExecutor {
    circuits: Arc<CircuitSet>,
}

impl CircuitExecutor {
    /// An executor over built (or loaded) circuits.
    pub fn new(circuits: Arc<CircuitSet>) -> Self {
        Self { circuits }
    }
}

impl JobExecutor for CircuitExecutor {
    fn prove(&self, job: &ClaimedJob) -> Result<Vec<u8>> {
        let input: NodeInput = serde_json::from_slice(&job.input)
            .map_err(|e| Error::Witness(format!("job {} has an unreadable input: {e}", job.key)))?;
        if input.kind() != job.kind {
            return Err(Error::Witness(format!(
                "job {} is a {} job with a {} input",
                job.key,
                job.kind,
                input.kind()
            )));
        }
        let deps: Vec<Proof> = if job.deps.is_empty() {
            Vec::new()
        } else {
            let common = self.circuits.dependency_common(&input)?;
            job.deps
                .iter()
                .map(|dep| Proof::from_bytes(dep.result.clone(), common).map_err(Error::from))
                .collect::<Result<_>>()?
        };
        let refs: Vec<&Proof> = deps.iter().collect();
        let started = Instant::now();
        let proof = self.circuits.prove_input(&input, &refs)?;
        // The batch's final proof is stored as L1 takes it (the settlement module posts it
        // as is), after a native check so that no invalid proof ever reaches L1.
        let bytes = match &proof {
            NodeProof::Wrapped(wrapped) => {
                self.circuits.wrapper.verify(wrapped)?;
                encode_proof(wrapped)
            }
            NodeProof::Inner(_) => proof.to_bytes(),
        };
        info!(
            target: "prover::executor",
            batch = job.batch,
            job = %job.key,
            seconds = started.elapsed().as_secs_f64(),
            "proved"
        );
        Ok(bytes)
    }
}
