// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier} from "../../src/IBatchVerifier.sol";

/// @notice A verifier double that accepts every proof, for measurement only: `l1_bench`
///         commits real batch data through the real `Rollup` with it to measure the Rollup's
///         own execution apart from the verifier's, which it measures on the real proof with
///         the real `Plonky2Verifier`. Never part of a deployment.
contract AcceptingVerifier is IBatchVerifier {
    function verify(uint256[] calldata, bytes calldata) external pure returns (bool) {
        return true;
    }
}
