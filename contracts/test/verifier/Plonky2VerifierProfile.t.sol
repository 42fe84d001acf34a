// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {WrapperGateEvaluator} from "../../src/verifier/WrapperGateEvaluator.sol";
import {Plonky2VerifierProfile, IWrapperGateEvaluator} from "../profile/Plonky2VerifierProfile.sol";
import {TestBase} from "../utils/Cheats.sol";
import {WrapperProofFixture} from "./Plonky2Verifier.t.sol";

/// @notice The gas-profile variant on the real proof: its checkpoints decrease section by
///         section and the sections are logged (`forge test -vv --match-contract Profile`), for
///         quick looks while working on the verifier; `verifier_bench` records them on Anvil.
contract Plonky2VerifierProfileTest is TestBase {
    event Section(uint256 index, uint256 gas);

    function test_profile_sections_of_the_real_proof() public {
        Plonky2VerifierProfile profile =
            new Plonky2VerifierProfile(IWrapperGateEvaluator(address(new WrapperGateEvaluator())));
        (bool ok, bytes memory words) = address(profile).call(
            abi.encodeCall(profile.verify, (WrapperProofFixture.publicInputs(), WrapperProofFixture.proof()))
        );
        assertEq(ok ? 1 : 0, 1, "the profile variant verifies the real proof");
        uint256 n = words.length / 32;
        assertEq(n, 7, "one checkpoint before each of the six sections and one after");
        uint256 previous;
        for (uint256 i = 0; i < n; i++) {
            uint256 left;
            assembly {
                left := mload(add(words, mul(32, add(i, 1))))
            }
            if (i > 0) {
                assertEq(left < previous ? 1 : 0, 1, "checkpoints decrease");
                emit Section(i - 1, previous - left);
            }
            previous = left;
        }
    }
}
