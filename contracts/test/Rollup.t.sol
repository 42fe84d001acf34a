// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup} from "../src/Rollup.sol";
import {IBatchVerifier} from "../src/IBatchVerifier.sol";
import {Plonky2Verifier, IWrapperGateEvaluator} from "../src/verifier/Plonky2Verifier.sol";
import {WrapperGateEvaluator} from "../src/verifier/WrapperGateEvaluator.sol";
import {TestBase} from "./utils/Cheats.sol";

// Bytes of one chunk of batch data as hashed (`Rollup.CHUNK_BYTES`, `CHUNK_DATA_BYTES` in
// Rust): 32 transfer records of 16 bytes, then 4 new-account records of 48 bytes.
uint256 constant CHUNK = 704;
uint256 constant TRANSFERS_BYTES = 512;

/// @notice TEST DOUBLE of the wrapper-proof verifier, for the Rollup's bookkeeping tests only
///         (the real verifier is tested against real proofs in its own tests). It models the
///         one property the Rollup relies on, that a proof is bound to its public inputs: a
///         "proof" here is the 32-byte statement that the 8 public-input words spell, and
///         it is accepted for exactly those inputs. So every test below that expects a
///         rejection gets it from the Rollup's own recomputation of the statement.
contract StatementBoundVerifierDouble is IBatchVerifier {
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external pure returns (bool) {
        if (publicInputs.length != 8 || proof.length != 32) return false;
        uint256 statement;
        for (uint256 i = 0; i < 8; ++i) {
            if (publicInputs[i] >> 32 != 0) return false;
            statement = (statement << 32) | publicInputs[i];
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes32(proof) == bytes32(statement);
    }
}

/// @dev Cheatcodes beyond the shared `Vm` that these tests need.
interface RollupVm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function cool(address target) external;
    function readFileBinary(string calldata path) external view returns (bytes memory);
    function getRecordedLogs() external returns (Log[] memory);
}

contract RollupTest is TestBase {
    RollupVm internal constant logs = RollupVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    address internal constant OWNER = address(0xA11CE);
    address internal constant OPERATOR = address(0x0B0B);
    address internal constant STRANGER = address(0xBAD);

    /// @dev Roots in the L1 encoding (4 canonical big-endian u64 words).
    bytes32 internal constant GENESIS_ROOT = 0x0000000000000001000000000000000200000000000000030000000000000004;
    bytes32 internal constant ROOT_1 = 0xffffffff00000000000000000000000000000000000000000000000000000007;
    bytes32 internal constant ROOT_2 = 0x0000000000000009000000000000000800000000000000070000000000000006;

    StatementBoundVerifierDouble internal verifierDouble;
    Rollup internal rollup;
    bytes internal genesisAccounts;

    function setUp() public {
        verifierDouble = new StatementBoundVerifierDouble();
        // Two accounts: 40-byte key || u64 BE balance.
        genesisAccounts = abi.encodePacked(bytes32(uint256(1)), bytes8(0), uint64(1_000_000), bytes32(uint256(2)), bytes8(0), uint64(5));
        rollup = new Rollup(verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 31337, 32, 4, genesisAccounts);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Compact batch data (v3) of `chunks` chunks whose record counts and bytes depend
    ///      on `seed` (L1 does not read the records, so any bytes do).
    function batchData(uint256 chunks, uint256 seed) internal pure returns (bytes memory data) {
        data = hex"03";
        for (uint256 i = 0; i < chunks; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            data = bytes.concat(data, chunkData(r % 33, (r >> 8) % 5, r));
        }
    }

    /// @dev Compact batch data of `chunks` full chunks (32 transfers, 4 new accounts each),
    ///      built in one allocation (large batches for the gas tests).
    function fullBatchData(uint256 chunks, uint256 seed) internal pure returns (bytes memory data) {
        uint256 stride = 1 + CHUNK;
        data = randomBytes(1 + chunks * stride, seed);
        data[0] = 0x03;
        for (uint256 at = 1; at < data.length; at += stride) {
            data[at] = bytes1(uint8(32 + 33 * 4));
        }
    }

    /// @dev One compact chunk: its header `t + 33 a`, then `16 t + 48 a` pseudo-random
    ///      record bytes (`a` up to 7 for the malformed cases).
    function chunkData(uint256 t, uint256 a, uint256 seed) internal pure returns (bytes memory chunk) {
        bytes memory records = randomBytes(16 * t + 48 * a, seed);
        // forge-lint: disable-next-line(unsafe-typecast)
        chunk = bytes.concat(bytes1(uint8(t + 33 * a)), records);
    }

    /// @dev `length` pseudo-random bytes from `seed`, one allocation: whole words of
    ///      Keccak output, then the real length.
    function randomBytes(uint256 length, uint256 seed) internal pure returns (bytes memory out) {
        out = new bytes(length + 31);
        for (uint256 i = 0; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            assembly ("memory-safe") {
                mstore(add(add(out, 32), i), word)
            }
        }
        assembly ("memory-safe") {
            mstore(out, length)
        }
    }

    /// @dev The data chain in plain Solidity, independent of the contract's assembly: each
    ///      compact chunk expanded to its records and zeros, then hashed after the link.
    function referenceCommitment(bytes memory data) internal pure returns (bytes32 link) {
        uint256 at = 1;
        while (at < data.length) {
            uint256 t = uint8(data[at]) % 33;
            uint256 a = uint8(data[at]) / 33;
            at += 1;
            bytes memory chunk = new bytes(CHUNK);
            for (uint256 j = 0; j < 16 * t; ++j) {
                chunk[j] = data[at + j];
            }
            at += 16 * t;
            for (uint256 j = 0; j < 48 * a; ++j) {
                chunk[TRANSFERS_BYTES + j] = data[at + j];
            }
            at += 48 * a;
            link = keccak256(abi.encodePacked(link, chunk));
        }
    }

    /// @dev What an honest prover proves for a batch: the statement from `oldRoot`.
    function proofFor(bytes32 oldRoot, bytes memory data, bytes32 newRoot, uint64 fees)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(keccak256(abi.encodePacked(oldRoot, newRoot, referenceCommitment(data), fees)));
    }

    function commitAs(address who, uint64 number, bytes memory data, bytes32 newRoot, uint64 fees, bytes memory proof)
        internal
    {
        vm.prank(who);
        rollup.commitBatch(number, data, newRoot, fees, proof);
    }

    function log(string memory what, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }

    // ------------------------------------------------------------------ genesis

    function test_genesis_is_stored_and_emitted() public {
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "genesis root");
        assertEq(rollup.lastVerifiedBatch(), 0, "no batch yet");
        assertEq(uint256(rollup.genesisAccountsHash()), uint256(keccak256(genesisAccounts)), "blob hash");
        assertEq(rollup.l2ChainId(), 31337, "chain id");
        assertEq(rollup.isOperator(OPERATOR) ? 1 : 0, 1, "operator role");
        assertEq(uint256(uint160(rollup.owner())), uint256(uint160(OWNER)), "owner");

        logs.recordLogs();
        Rollup other = new Rollup(verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 7, 16, 2, genesisAccounts);
        RollupVm.Log[] memory entries = logs.getRecordedLogs();
        RollupVm.Log memory genesis = entries[entries.length - 1];
        assertEq(uint256(genesis.topics[0]), uint256(Rollup.Genesis.selector), "Genesis is the last event");
        (bytes32 root, uint64 chainId, uint8 depth, uint8 bits, bytes memory accounts) =
            abi.decode(genesis.data, (bytes32, uint64, uint8, uint8, bytes));
        assertEq(uint256(root), uint256(GENESIS_ROOT), "event root");
        assertEq(chainId, 7, "event chain id");
        assertEq(depth, 16, "event depth");
        assertEq(bits, 2, "event partition bits");
        assertEq(uint256(keccak256(accounts)), uint256(keccak256(genesisAccounts)), "event accounts");
        assertEq(uint256(uint160(genesis.emitter)), uint256(uint160(address(other))), "emitter");
    }

    function test_genesis_rejects_bad_parameters() public {
        vm.expectRevert(Rollup.BadGenesis.selector);
        new Rollup(verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 1, 32, 4, new bytes(47));
        vm.expectRevert(Rollup.BadGenesis.selector);
        new Rollup(verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 1, 33, 4, genesisAccounts);
        vm.expectRevert(Rollup.BadGenesis.selector);
        new Rollup(verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 1, 8, 9, genesisAccounts);
        bytes32 nonCanonical = bytes32(uint256(0xFFFFFFFF00000001) << 64);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NonCanonicalRoot.selector, nonCanonical));
        new Rollup(verifierDouble, OWNER, OPERATOR, nonCanonical, 1, 32, 4, genesisAccounts);
        vm.expectRevert(Rollup.ZeroAddress.selector);
        new Rollup(IBatchVerifier(address(0)), OWNER, OPERATOR, GENESIS_ROOT, 1, 32, 4, genesisAccounts);
    }

    // ------------------------------------------------------------------ data commitment

    /// @dev Pinned against `rollup_core` (sequencer settlement tests assert the same bytes
    ///      give the same commitment and statement in Rust).
    function test_known_answer_matches_rust() public view {
        // One chunk: one transfer record and one new-account record (the Rust side pins
        // `compact` of the padded chunk to these bytes).
        bytes memory data = abi.encodePacked(
            hex"0322",
            hex"0100000001000000020000007d000140",
            hex"0100000002000000",
            hex"11111111111111111111111111111111111111111111111111111111111111111111111111111111"
        );
        assertEq(data.length, 2 + 16 + 48, "one compact chunk");
        bytes32 commitment = rollup.dataCommitment(data);
        assertEq(uint256(commitment), 0xfff360a5ebc22b18f1286babe454e94b5bbe332eac1af620e371e8b02a041459, "commitment");
        bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, commitment, 10);
        assertEq(uint256(statement), 0xdc51b3b9ac23e3617f220dc7a4d6be21655342614c9d8cb43659cd44e09024ca, "statement");
        uint256[] memory words = rollup.publicInputs(statement);
        assertEq(words.length, 8, "8 words");
        assertEq(words[0], 0xdc51b3b9, "first word");
        assertEq(words[7], 0xe09024ca, "last word");
    }

    function testFuzz_commitment_matches_reference(uint8 chunks, uint256 seed) public view {
        bytes memory data = batchData(1 + uint256(chunks) % 6, seed);
        assertEq(uint256(rollup.dataCommitment(data)), uint256(referenceCommitment(data)), "data chain");
    }

    function test_malformed_data_is_rejected() public {
        bytes memory proof = new bytes(32);
        for (uint256 length = 0; length < 2; ++length) {
            bytes memory data = new bytes(length);
            if (length > 0) data[0] = 0x03;
            vm.expectRevert(abi.encodeWithSelector(Rollup.BadDataLength.selector, length));
            commitAs(OPERATOR, 1, data, ROOT_1, 0, proof);
        }
        bytes memory v2 = batchData(1, 1);
        v2[0] = 0x02;
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnsupportedDataVersion.selector, uint8(2)));
        commitAs(OPERATOR, 1, v2, ROOT_1, 0, proof);

        bytes memory one = chunkData(2, 1, 5);
        // A chunk header after a whole chunk, without its record.
        expectMalformed(bytes.concat(hex"03", one, hex"01"), 1 + one.length);
        // Records cut short: the header promises more than follows.
        bytes memory short = bytes.concat(hex"03", one);
        assembly ("memory-safe") {
            mstore(short, sub(mload(short), 1))
        }
        expectMalformed(short, 1);
        // More new accounts than a chunk has slots for (headers 165 and up).
        expectMalformed(bytes.concat(hex"03", chunkData(0, 5, 5)), 1);
        expectMalformed(bytes.concat(hex"03", one, chunkData(24, 7, 5)), 1 + one.length);
    }

    function expectMalformed(bytes memory data, uint256 offset) internal {
        vm.expectRevert(abi.encodeWithSelector(Rollup.MalformedChunk.selector, offset));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, new bytes(32));
    }

    function test_empty_records_cost_no_calldata_but_are_hashed() public view {
        // A chunk of nothing and the same chunk spelled with one zero transfer record are
        // different calldata for the same padded chunk: the same commitment.
        bytes memory empty = hex"0300";
        bytes memory zeroRecord = abi.encodePacked(hex"0301", new bytes(16));
        assertEq(
            uint256(rollup.dataCommitment(empty)), uint256(rollup.dataCommitment(zeroRecord)), "same padded chunk"
        );
        assertEq(
            uint256(rollup.dataCommitment(empty)),
            uint256(keccak256(abi.encodePacked(bytes32(0), new bytes(CHUNK)))),
            "one keccak of the zero link and a zero chunk"
        );
    }

    // ------------------------------------------------------------------ commits

    function test_commit_moves_the_root_and_accrues_fees() public {
        bytes memory data = batchData(2, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 250);
        logs.recordLogs();
        commitAs(OPERATOR, 1, data, ROOT_1, 250, proof);
        assertEq(uint256(rollup.stateRoot()), uint256(ROOT_1), "root after 1");
        assertEq(rollup.lastVerifiedBatch(), 1, "batch 1");
        assertEq(rollup.pendingBalance(OPERATOR), 250, "fees of 1");

        RollupVm.Log[] memory entries = logs.getRecordedLogs();
        assertEq(entries.length, 1, "one event");
        assertEq(uint256(entries[0].topics[0]), uint256(Rollup.BatchVerified.selector), "BatchVerified");
        assertEq(uint256(entries[0].topics[1]), 1, "indexed number");
        assertEq(uint256(entries[0].topics[2]), uint256(uint160(OPERATOR)), "indexed operator");
        (bytes32 oldRoot, bytes32 newRoot, bytes32 commitment, uint64 fees) =
            abi.decode(entries[0].data, (bytes32, bytes32, bytes32, uint64));
        assertEq(uint256(oldRoot), uint256(GENESIS_ROOT), "event old root");
        assertEq(uint256(newRoot), uint256(ROOT_1), "event new root");
        assertEq(uint256(commitment), uint256(referenceCommitment(data)), "event commitment");
        assertEq(fees, 250, "event fees");

        bytes memory data2 = batchData(1, 2);
        commitAs(OPERATOR, 2, data2, ROOT_2, 50, proofFor(ROOT_1, data2, ROOT_2, 50));
        assertEq(uint256(rollup.stateRoot()), uint256(ROOT_2), "root after 2");
        assertEq(rollup.lastVerifiedBatch(), 2, "batch 2");
        assertEq(rollup.pendingBalance(OPERATOR), 300, "fees accrue");
    }

    function test_batches_out_of_order_are_rejected() public {
        bytes memory data = batchData(1, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(1), uint64(2)));
        commitAs(OPERATOR, 2, data, ROOT_1, 0, proof);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(1), uint64(0)));
        commitAs(OPERATOR, 0, data, ROOT_1, 0, proof);

        commitAs(OPERATOR, 1, data, ROOT_1, 0, proof);
        // The same batch again (a double post after a lost receipt) is refused.
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(2), uint64(1)));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, proof);
        assertEq(rollup.lastVerifiedBatch(), 1, "still 1");
    }

    function test_tampered_calldata_fails_the_statement() public {
        bytes memory data = fullBatchData(3, 7);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 10);
        // One flipped bit in any record of any chunk changes the data chain, hence the
        // statement.
        uint256[3] memory positions = [uint256(2), CHUNK + 100, data.length - 1];
        for (uint256 i = 0; i < positions.length; ++i) {
            bytes memory tampered = bytes.concat(data);
            tampered[positions[i]] = tampered[positions[i]] ^ 0x01;
            bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, referenceCommitment(tampered), 10);
            vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, statement));
            commitAs(OPERATOR, 1, tampered, ROOT_1, 10, proof);
        }
        // Dropping the last chunk is tampering too.
        bytes memory truncated = fullBatchData(2, 7);
        vm.expectRevert();
        commitAs(OPERATOR, 1, truncated, ROOT_1, 10, proof);
        // Claiming other fees or another root than proven.
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_1, 11, proof);
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_2, 10, proof);
        assertEq(rollup.lastVerifiedBatch(), 0, "nothing moved");
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "root unchanged");
    }

    function test_proof_from_another_old_root_is_rejected() public {
        bytes memory data = batchData(1, 1);
        // A valid proof of a transition from ROOT_2, not from the stored genesis root.
        bytes memory proof = proofFor(ROOT_2, data, ROOT_1, 0);
        bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, referenceCommitment(data), 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, statement));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, proof);

        // After batch 1, a proof of batch 2 built on the genesis root is stale.
        commitAs(OPERATOR, 1, data, ROOT_1, 0, proofFor(GENESIS_ROOT, data, ROOT_1, 0));
        bytes memory data2 = batchData(1, 2);
        vm.expectRevert();
        commitAs(OPERATOR, 2, data2, ROOT_2, 0, proofFor(GENESIS_ROOT, data2, ROOT_2, 0));
    }

    function test_only_operators_commit_and_only_the_owner_manages_roles() public {
        bytes memory data = batchData(1, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, STRANGER));
        commitAs(STRANGER, 1, data, ROOT_1, 0, proof);

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, STRANGER));
        rollup.setOperator(STRANGER, true);

        vm.prank(OWNER);
        rollup.setOperator(STRANGER, true);
        commitAs(STRANGER, 1, data, ROOT_1, 0, proof);

        vm.prank(OWNER);
        rollup.setOperator(OPERATOR, false);
        bytes memory data2 = batchData(1, 2);
        bytes memory proof2 = proofFor(ROOT_1, data2, ROOT_2, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, OPERATOR));
        commitAs(OPERATOR, 2, data2, ROOT_2, 0, proof2);

        vm.prank(OWNER);
        rollup.transferOwnership(STRANGER);
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, OWNER));
        rollup.setOperator(OPERATOR, true);
    }

    // ------------------------------------------------------------------ gas

    /// @dev Gas of `commitBatch` with the double verifier (no real verification) at several
    ///      batch sizes, each a steady-state batch (batch 2: the fee balance already nonzero).
    ///      The logged figure is measured around the call, so it includes this contract's
    ///      encoding of the call; `forge test --isolate --gas-report --match-test test_gas_`
    ///      gives the transactions' own gas (intrinsic and calldata cost included).
    function gasOfBatch(uint256 chunks) internal {
        bytes memory first = batchData(1, 0);
        commitAs(OPERATOR, 1, first, ROOT_1, 1, proofFor(GENESIS_ROOT, first, ROOT_1, 1));
        bytes memory data = fullBatchData(chunks, chunks);
        bytes memory proof = abi.encodePacked(rollup.statementHash(ROOT_1, ROOT_2, rollup.dataCommitment(data), 1));
        // Every slot cold again, as in a transaction of its own.
        logs.cool(address(rollup));
        vm.prank(OPERATOR);
        uint256 before = gasleft();
        rollup.commitBatch(2, data, ROOT_2, 1, proof);
        uint256 used = before - gasleft();
        log(string.concat("commitBatch gas around the call, chunks = ", decimal(chunks)), used);
        assertEq(rollup.lastVerifiedBatch(), 2, "committed");
    }

    function test_gas_1_chunk() public {
        gasOfBatch(1);
    }

    function test_gas_16_chunks() public {
        gasOfBatch(16);
    }

    function test_gas_64_chunks() public {
        gasOfBatch(64);
    }

    function test_gas_256_chunks() public {
        gasOfBatch(256);
    }

    function decimal(uint256 v) internal pure returns (string memory s) {
        if (v == 0) return "0";
        while (v != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            s = string.concat(string(abi.encodePacked(bytes1(uint8(48 + v % 10)))), s);
            v /= 10;
        }
    }
}

/// @notice The Rollup wired to the real generated verifier. A positive end-to-end commit
///         needs a proof fixture of a batch's own statement together with that batch's
///         genesis and calldata; until the fixture carries them, this checks the real
///         verifier's side of the binding: a genuine wrapper proof of another statement
///         does not move the root.
contract RollupRealVerifierTest is TestBase {
    RollupVm internal constant files = RollupVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal constant OPERATOR = address(0x0B0B);
    bytes32 internal constant GENESIS_ROOT = 0x0000000000000001000000000000000200000000000000030000000000000004;

    Rollup internal rollup;

    function setUp() public {
        Plonky2Verifier verifier = new Plonky2Verifier(IWrapperGateEvaluator(address(new WrapperGateEvaluator())));
        rollup = new Rollup(IBatchVerifier(address(verifier)), OPERATOR, OPERATOR, GENESIS_ROOT, 31337, 32, 4, "");
    }

    function test_a_real_proof_of_another_statement_is_rejected() public {
        bytes memory proof = files.readFileBinary("test/data/verifier/wrapper_proof.bin");
        bytes memory data = hex"0300";
        vm.prank(OPERATOR);
        vm.expectRevert();
        rollup.commitBatch(1, data, GENESIS_ROOT, 0, proof);
        assertEq(rollup.lastVerifiedBatch(), 0, "nothing verified");
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "root unchanged");
    }
}
