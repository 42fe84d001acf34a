// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {WrapperGateEvaluator} from "../../src/verifier/WrapperGateEvaluator.sol";
import {TestBase} from "../utils/Cheats.sol";
import {VmFiles} from "./Plonky2Verifier.t.sol";

/// @notice The generated gate evaluator against plonky2 on the same inputs: the openings of
///         the real wrapper proof at zeta and plonky2's filtered constraint sums for them
///         (`generate-verifier` writes both from `prover::solidity::fixture::gate_evaluation`),
///         and Poseidon's `hashNoPad` against plonky2's `PoseidonHash::hash_no_pad`.
contract WrapperGateEvaluatorTest is TestBase {
    VmFiles internal constant files = VmFiles(address(uint160(uint256(keccak256("hevm cheat code")))));
    WrapperGateEvaluator evaluator;

    function setUp() public {
        evaluator = new WrapperGateEvaluator();
    }

    /// Big-endian u64s of a fixture file, one per word.
    function words(string memory path) internal view returns (uint256[] memory out) {
        bytes memory raw = files.readFileBinary(path);
        out = new uint256[](raw.length / 8);
        for (uint256 i = 0; i < out.length; i++) {
            uint256 v;
            assembly {
                v := shr(192, mload(add(add(raw, 32), mul(8, i))))
            }
            out[i] = v;
        }
    }

    function test_constraints_match_plonky2_on_the_real_openings() public view {
        uint256[] memory vars = words("test/data/verifier/gate_vars.bin");
        uint256[] memory expected = words("test/data/verifier/gate_constraints.bin");
        uint256[] memory got = evaluator.evalGateConstraints(vars);
        assertEq(got.length, expected.length, "constraint count");
        for (uint256 i = 0; i < expected.length; i++) {
            assertEq(got[i], expected[i], "constraint word");
        }
    }

    /// Every wire and constant opening enters some constraint: changing any one of them
    /// changes the sums (a sample across the whole input, both coordinates).
    function test_each_opening_moves_the_constraints() public view {
        uint256[] memory vars = words("test/data/verifier/gate_vars.bin");
        uint256[] memory expected = words("test/data/verifier/gate_constraints.bin");
        for (uint256 i = 0; i < vars.length; i += 23) {
            uint256[] memory changed = words("test/data/verifier/gate_vars.bin");
            changed[i] = (changed[i] + 1) % 0xffffffff00000001;
            uint256[] memory got = evaluator.evalGateConstraints(changed);
            bool differs;
            for (uint256 j = 0; j < expected.length && !differs; j++) {
                differs = got[j] != expected[j];
            }
            if (!differs) revert NotEqual("an opening changed nothing", i, 0);
        }
    }

    function test_wrong_input_length_is_refused() public {
        uint256[] memory vars = new uint256[](3);
        vm.expectRevert(WrapperGateEvaluator.BadLength.selector);
        evaluator.evalGateConstraints(vars);
    }

    /// Known answer from plonky2 1.1: `PoseidonHash::hash_no_pad` of
    /// `[i * 0x123456789abc + 7 for i in 0..8]`.
    function test_hash_no_pad_known_answer() public view {
        uint256[] memory x = new uint256[](8);
        for (uint256 i = 0; i < 8; i++) {
            x[i] = i * 0x123456789abc + 7;
        }
        uint256[4] memory h = evaluator.hashNoPad(x);
        assertEq(h[0], 12519722221153141812, "h0");
        assertEq(h[1], 1020797428454115990, "h1");
        assertEq(h[2], 18404075535356738127, "h2");
        assertEq(h[3], 15962231721104229267, "h3");
    }

    function test_hash_no_pad_refuses_non_canonical_inputs() public {
        uint256[] memory x = new uint256[](8);
        x[5] = 0xffffffff00000001;
        vm.expectRevert();
        evaluator.hashNoPad(x);
    }
}
