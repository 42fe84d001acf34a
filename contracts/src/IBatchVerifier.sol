// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title What the Rollup needs from the on-chain proof verifier
/// @notice Exactly the entry point of the generated `Plonky2Verifier` (contracts/src/verifier/,
///         issue 7), so the Rollup takes that contract's address as is, with no adapter:
///         `publicInputs` are the wrapper proof's public inputs as canonical Goldilocks
///         elements (for a batch: the 8 big-endian u32 words of its statement hash), and
///         `proof` is the wrapper proof in the verifier's calldata layout
///         (`prover::solidity::encode_proof`).
/// @dev A verifier may revert with its own error on a bad proof (the generated one does,
///      naming the failed check) or return false; the Rollup treats both as a rejection and
///      lets a revert's data bubble up, so the operator sees which check failed.
interface IBatchVerifier {
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);
}
