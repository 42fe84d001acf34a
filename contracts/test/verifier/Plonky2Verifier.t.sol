// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Plonky2Verifier, IWrapperGateEvaluator} from "../../src/verifier/Plonky2Verifier.sol";
import {WrapperGateEvaluator} from "../../src/verifier/WrapperGateEvaluator.sol";
import {TestBase} from "../utils/Cheats.sol";

/// @notice The generated verifier against a real wrapper proof (fixture written by
///         `cargo run -p prover --bin generate-verifier`), and against tampered copies of it.
/// @notice File cheatcodes (not in the shared Cheats.sol).
interface VmFiles {
    function readFileBinary(string calldata path) external view returns (bytes memory);
}

/// @notice The fixture written by `cargo run -p prover --bin generate-verifier`.
library WrapperProofFixture {
    VmFiles internal constant files = VmFiles(address(uint160(uint256(keccak256("hevm cheat code")))));

    function proof() internal view returns (bytes memory) {
        return files.readFileBinary("test/data/verifier/wrapper_proof.bin");
    }

    /// @notice A real wrapper proof of the same statement and length by another circuit of
    ///         the devnet wrapper's exact shape (`generate-verifier --other-circuit`).
    function otherCircuitProof() internal view returns (bytes memory) {
        return files.readFileBinary("test/data/verifier/other_circuit_proof.bin");
    }

    function publicInputs() internal view returns (uint256[] memory) {
        return abi.decode(
            bytes.concat(abi.encode(uint256(32)), abi.encode(uint256(8)), files.readFileBinary("test/data/verifier/wrapper_public_inputs.bin")),
            (uint256[])
        );
    }
}

contract Plonky2VerifierTest is TestBase {
    Plonky2Verifier verifier;

    event Gas(string what, uint256 value);

    function setUp() public {
        verifier = new Plonky2Verifier(IWrapperGateEvaluator(address(new WrapperGateEvaluator())));
    }

    function test_real_proof_verifies() public {
        bytes memory proof = WrapperProofFixture.proof();
        uint256[] memory pis = WrapperProofFixture.publicInputs();
        uint256 before = gasleft();
        bool ok = verifier.verify(pis, proof);
        uint256 used = before - gasleft();
        emit Gas("verify (execution, no calldata)", used);
        assertEq(ok ? 1 : 0, 1, "verifies");
        assertEq(proof.length, proof.length, "len");
    }

    function _rejects(uint256[] memory pis, bytes memory proof) internal view returns (bool) {
        try verifier.verify(pis, proof) returns (bool) {
            return false;
        } catch (bytes memory reason) {
            // A real rejection names its check; an empty reason is an out-of-gas, not a verdict.
            return reason.length >= 4;
        }
    }

    /// Flips one byte at each of 2 offsets inside twenty-fourth `part` of the proof (a rejection
    /// costs up to a whole verification, so the sample is split over 24 tests to stay under
    /// the per-test gas cap). Together they cover caps, openings, FRI caps and queries.
    function _flipPart(uint256 part) internal view {
        bytes memory proof = WrapperProofFixture.proof();
        uint256[] memory pis = WrapperProofFixture.publicInputs();
        uint256 n = proof.length / 24;
        for (uint256 i = 0; i < 2; i++) {
            _flipAt(pis, proof, part * n + ((i * 2 + 1) * n) / 4 + (part * 131 + i * 17) % 97);
        }
    }

    function _flipAt(uint256[] memory pis, bytes memory proof, uint256 at) internal view {
        bytes memory bad = bytes.concat(proof);
        bad[at] = bytes1(uint8(bad[at]) ^ 0x01);
        if (!_rejects(pis, bad)) revert NotEqual("flipped byte accepted at", at, 0);
    }

    function test_flip_part_00() public view {
        _flipPart(0);
    }

    function test_flip_part_01() public view {
        _flipPart(1);
    }

    function test_flip_part_02() public view {
        _flipPart(2);
    }

    function test_flip_part_03() public view {
        _flipPart(3);
    }

    function test_flip_part_04() public view {
        _flipPart(4);
    }

    function test_flip_part_05() public view {
        _flipPart(5);
    }

    function test_flip_part_06() public view {
        _flipPart(6);
    }

    function test_flip_part_07() public view {
        _flipPart(7);
    }

    function test_flip_part_08() public view {
        _flipPart(8);
    }

    function test_flip_part_09() public view {
        _flipPart(9);
    }

    function test_flip_part_10() public view {
        _flipPart(10);
    }

    function test_flip_part_11() public view {
        _flipPart(11);
    }

    function test_flip_part_12() public view {
        _flipPart(12);
    }

    function test_flip_part_13() public view {
        _flipPart(13);
    }

    function test_flip_part_14() public view {
        _flipPart(14);
    }

    function test_flip_part_15() public view {
        _flipPart(15);
    }

    function test_flip_part_16() public view {
        _flipPart(16);
    }

    function test_flip_part_17() public view {
        _flipPart(17);
    }

    function test_flip_part_18() public view {
        _flipPart(18);
    }

    function test_flip_part_19() public view {
        _flipPart(19);
    }

    function test_flip_part_20() public view {
        _flipPart(20);
    }

    function test_flip_part_21() public view {
        _flipPart(21);
    }

    function test_flip_part_22() public view {
        _flipPart(22);
    }

    function test_flip_part_23() public view {
        _flipPart(23);
    }

    /// The last sections: the proof-of-work witness (last 8 bytes) and the final polynomial.
    function test_flip_pow_witness_and_final_poly() public view {
        bytes memory proof = WrapperProofFixture.proof();
        uint256[] memory pis = WrapperProofFixture.publicInputs();
        _flipAt(pis, proof, proof.length - 1);
        _flipAt(pis, proof, proof.length - 8);
        _flipAt(pis, proof, proof.length - 8 - 37);
    }

    function test_every_public_input_change_is_rejected() public view {
        bytes memory proof = WrapperProofFixture.proof();
        uint256[] memory pis = WrapperProofFixture.publicInputs();
        for (uint256 i = 0; i < pis.length; i++) {
            uint256[] memory bad = WrapperProofFixture.publicInputs();
            bad[i] = bad[i] + 1;
            assertEq(_rejects(bad, proof) ? 1 : 0, 1, "changed input accepted");
        }
    }

    /// A proof of another circuit (same shape and length, same public inputs) is refused for
    /// its circuit: the transcript starts from the devnet wrapper's circuit digest, so the
    /// challenges differ from those the other proof's grinding answered, and the
    /// proof-of-work check, the first check of the proof's content, fails.
    function test_proof_of_another_circuit_is_rejected() public {
        bytes memory other = WrapperProofFixture.otherCircuitProof();
        assertEq(other.length, WrapperProofFixture.proof().length, "same length");
        vm.expectRevert(Plonky2Verifier.ProofOfWork.selector);
        verifier.verify(WrapperProofFixture.publicInputs(), other);
    }

    function test_malformed_lengths_revert_cleanly() public {
        bytes memory proof = WrapperProofFixture.proof();
        uint256[] memory pis = WrapperProofFixture.publicInputs();
        vm.expectRevert(Plonky2Verifier.BadProofLength.selector);
        verifier.verify(pis, bytes.concat(proof, hex"00"));
        vm.expectRevert(Plonky2Verifier.BadProofLength.selector);
        verifier.verify(pis, hex"");
        vm.expectRevert(Plonky2Verifier.BadPublicInputsLength.selector);
        verifier.verify(new uint256[](7), proof);
    }
}
