// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier} from "./IBatchVerifier.sol";

/// @title The rollup's L1 contract: the state root, moved only by proven batches
/// @notice A batch is posted in one transaction with its compact data (batch data v3, the
///         calldata anyone rebuilds the L2 state from) and its wrapper proof. The contract
///         recomputes the batch statement itself (prover/CIRCUITS.md §5):
///
///             statement = keccak256(stateRoot || newRoot || dataCommitment || fees)
///
///         from its own stored root, the Keccak data chain it recomputes over the calldata
///         (§2), and the claimed new root and fees, and has the verifier check the proof
///         against the statement's 8 big-endian u32 words. So a proof only moves the root
///         for the exact data posted with it, from the exact root stored here: tampered
///         calldata, a stale root or another fee total give another statement, and the
///         proof fails.
///
///         Roots are Poseidon digests in their L1 encoding: 4 canonical Goldilocks words,
///         each a big-endian u64 (`rollup_core::statement::digest_to_be_bytes`).
///
///         The genesis accounts are emitted (event `Genesis`) so that the whole L2 state is
///         rebuildable from L1 alone: the genesis blob, then every batch's calldata in
///         order (`rollup restore`). Deposits, withdrawals and the escape hatch are designed
///         in contracts/DESIGN.md and come with later work.
/// @dev Commit and verify are one call: splitting them would pay for the calldata once and
///      for a storage write of the commitment twice, with nothing gained while the
///      operator proves before posting. Batches are strictly sequential.
contract Rollup {
    /// @notice The only calldata layout this contract accepts: compact batch data
    ///         (`rollup_core::batch_data::compact`), each chunk as a byte of record counts and
    ///         its records, without the padding the circuits' fixed chunks carry.
    uint8 public constant BATCH_DATA_VERSION = 3;
    /// @notice Bytes of one chunk as the circuits and the data chain see it: 32 transfer
    ///         records of 16 bytes, then 4 new-account records of 48 bytes, empty ones zero
    ///         (`CHUNK_DATA_BYTES`).
    uint256 public constant CHUNK_BYTES = 704;
    /// @notice Transfer records in a chunk, and their size.
    uint256 public constant CHUNK_TRANSFERS = 32;
    uint256 public constant TRANSFER_RECORD_BYTES = 16;
    /// @notice New-account records in a chunk, and their size.
    uint256 public constant CHUNK_NEW_ACCOUNTS = 4;
    uint256 public constant NEW_ACCOUNT_RECORD_BYTES = 48;
    /// @notice Bytes of one genesis account in the `Genesis` event: the 40-byte public key,
    ///         then the balance as a big-endian u64.
    uint256 public constant GENESIS_ACCOUNT_BYTES = 48;
    /// @notice The Goldilocks modulus: every root word must be below it.
    uint256 internal constant P = 0xFFFFFFFF00000001;

    /// @notice The proof verifier, fixed at deployment (a new circuit is a new deployment).
    IBatchVerifier public immutable verifier;
    /// @notice The L2 chain id every transfer signs (replay protection across deployments).
    uint64 public immutable l2ChainId;
    /// @notice The block the contract was deployed in: where a restore starts reading logs.
    uint256 public immutable genesisBlock;
    /// @notice keccak256 of the genesis accounts blob, so that a restorer can check the blob
    ///         it read from the `Genesis` event.
    bytes32 public immutable genesisAccountsHash;

    /// @notice The state root after the last verified batch (the genesis root before any).
    bytes32 public stateRoot;
    /// @notice The number of the last verified batch; 0 before the first (batch 0 is
    ///         the genesis state).
    uint64 public lastVerifiedBatch;
    /// @notice Who can grant and revoke the operator role.
    address public owner;
    /// @notice Accounts allowed to post batches.
    mapping(address => bool) public isOperator;
    /// @notice What each address can claim on L1, in the L2 token's smallest unit: for now
    ///         the fees of the batches an operator posted. Claims arrive with the token's L1
    ///         escrow (deposits, contracts/DESIGN.md); withdrawals will credit the same
    ///         balances.
    mapping(address => uint256) public pendingBalance;

    /// @notice The starting state: its root, the tree's shape and every funded account
    ///         (`GENESIS_ACCOUNT_BYTES` each, in creation order), enough to rebuild it.
    event Genesis(
        bytes32 stateRoot, uint64 l2ChainId, uint8 treeDepth, uint8 partitionBits, bytes accounts
    );
    /// @notice A batch moved the state root. Its data is the `data` argument of the
    ///         transaction's `commitBatch` call, bound by `dataCommitment`.
    event BatchVerified(
        uint64 indexed number,
        address indexed operator,
        bytes32 oldRoot,
        bytes32 newRoot,
        bytes32 dataCommitment,
        uint64 fees
    );
    /// @notice The operator role was granted or revoked.
    event OperatorSet(address indexed operator, bool allowed);
    /// @notice Ownership moved.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The caller lacks the role the function needs.
    error Unauthorized(address caller);
    /// @notice The batch is not the next one (`lastVerifiedBatch + 1`).
    error UnexpectedBatchNumber(uint64 expected, uint64 got);
    /// @notice The calldata's first byte is not `BATCH_DATA_VERSION`.
    error UnsupportedDataVersion(uint8 version);
    /// @notice The calldata is too short for a version byte and one chunk header.
    error BadDataLength(uint256 length);
    /// @notice The chunk at this offset of the calldata is truncated or holds more records
    ///         than a chunk has slots for.
    error MalformedChunk(uint256 offset);
    /// @notice The verifier returned false for the recomputed statement.
    error InvalidProof(bytes32 statement);
    /// @notice A root word is not a canonical Goldilocks element (deployment check).
    error NonCanonicalRoot(bytes32 root);
    /// @notice The genesis blob is not a whole number of accounts, or the tree is invalid.
    error BadGenesis();
    /// @notice An address argument is zero.
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized(msg.sender);
        _;
    }

    /// @param verifier_ The wrapper-proof verifier (`Plonky2Verifier`).
    /// @param owner_ Who manages operators.
    /// @param operator_ The first operator (the settlement module's account).
    /// @param genesisRoot The genesis state root, L1-encoded; must be the root of `accounts`
    ///        in a tree of the given shape (restore checks it; L1 cannot hash Poseidon cheaply).
    /// @param chainId The L2 chain id.
    /// @param treeDepth The state tree's depth (at most 32, the calldata's index width).
    /// @param partitionBits log2 of the number of partitions (at most the depth).
    /// @param accounts The genesis accounts: 40-byte key || u64 BE balance, each.
    constructor(
        IBatchVerifier verifier_,
        address owner_,
        address operator_,
        bytes32 genesisRoot,
        uint64 chainId,
        uint8 treeDepth,
        uint8 partitionBits,
        bytes memory accounts
    ) {
        if (address(verifier_) == address(0) || owner_ == address(0) || operator_ == address(0)) {
            revert ZeroAddress();
        }
        if (
            accounts.length % GENESIS_ACCOUNT_BYTES != 0 || treeDepth == 0 || treeDepth > 32
                || partitionBits > treeDepth
        ) revert BadGenesis();
        checkCanonical(genesisRoot);
        verifier = verifier_;
        l2ChainId = chainId;
        genesisBlock = block.number;
        genesisAccountsHash = keccak256(accounts);
        stateRoot = genesisRoot;
        owner = owner_;
        isOperator[operator_] = true;
        emit OwnershipTransferred(address(0), owner_);
        emit OperatorSet(operator_, true);
        emit Genesis(genesisRoot, chainId, treeDepth, partitionBits, accounts);
    }

    /// @notice Posts batch `number` and its proof; on success the state root becomes
    ///         `newRoot` and the fees are credited to the caller's pending balance.
    /// @param number Must be `lastVerifiedBatch + 1`.
    /// @param data The compact batch data (v3): version byte, then whole chunks.
    /// @param newRoot The state root after the batch, L1-encoded.
    /// @param fees The fees the batch's transfers paid.
    /// @param proof The wrapper proof, in the verifier's layout.
    function commitBatch(uint64 number, bytes calldata data, bytes32 newRoot, uint64 fees, bytes calldata proof)
        external
    {
        if (!isOperator[msg.sender]) revert Unauthorized(msg.sender);
        uint64 expected = lastVerifiedBatch + 1;
        if (number != expected) revert UnexpectedBatchNumber(expected, number);
        bytes32 commitment = dataCommitment(data);
        bytes32 oldRoot = stateRoot;
        bytes32 statement = statementHash(oldRoot, newRoot, commitment, fees);
        if (!verifier.verify(publicInputs(statement), proof)) revert InvalidProof(statement);

        stateRoot = newRoot;
        lastVerifiedBatch = number;
        pendingBalance[msg.sender] += fees;
        emit BatchVerified(number, msg.sender, oldRoot, newRoot, commitment, fees);
    }

    /// @notice Grants or revokes the operator role.
    function setOperator(address operator, bool allowed) external onlyOwner {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[operator] = allowed;
        emit OperatorSet(operator, allowed);
    }

    /// @notice Hands the owner role to another address.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice The data commitment of batch calldata, as the circuits compute it: the Keccak
    ///         chain `d0 = 0`, `d_{i+1} = keccak256(d_i || chunk_i)` over the chunks, each
    ///         expanded to its `CHUNK_BYTES` (records, then zeros). Reverts unless the data
    ///         is the version byte and whole chunks, at least one, each a header byte
    ///         `t + 33 a` (`t <= 32` transfer records, `a <= 4` new-account records) then
    ///         those records (the records themselves are vouched for by the proof).
    function dataCommitment(bytes calldata data) public pure returns (bytes32 link) {
        uint256 length = data.length;
        if (length < 2) revert BadDataLength(length);
        uint8 version = uint8(data[0]);
        if (version != BATCH_DATA_VERSION) revert UnsupportedDataVersion(version);
        uint256 malformedAt = type(uint256).max;
        assembly ("memory-safe") {
            // Scratch past the free memory pointer, never allocated: link (32) || transfer
            // records (512) || new-account records (192). Copying from past the end of
            // calldata writes zeros: the buffer is zeroed once, then each chunk re-zeroes
            // only the records the previous chunk wrote beyond its own.
            let buffer := mload(0x40)
            calldatacopy(add(buffer, 32), calldatasize(), CHUNK_BYTES)
            let dirtyTransfers := 0
            let dirtyAccounts := 0
            let end := add(data.offset, length)
            for { let at := add(data.offset, 1) } lt(at, end) {} {
                // The header byte is t + 33 a: t transfer and a new-account records.
                let header := byte(0, calldataload(at))
                let transferBytes := mul(mod(header, 33), 16)
                let accountBytes := mul(div(header, 33), 48)
                let next := add(add(at, 1), add(transferBytes, accountBytes))
                // At most 4 new accounts (t is at most 32 by construction), all within the data.
                if or(gt(next, end), gt(accountBytes, 192)) {
                    malformedAt := sub(at, data.offset)
                    break
                }
                mstore(buffer, link)
                calldatacopy(add(buffer, 32), add(at, 1), transferBytes)
                if gt(dirtyTransfers, transferBytes) {
                    calldatacopy(add(add(buffer, 32), transferBytes), calldatasize(), sub(dirtyTransfers, transferBytes))
                }
                calldatacopy(add(buffer, 544), add(add(at, 1), transferBytes), accountBytes)
                if gt(dirtyAccounts, accountBytes) {
                    calldatacopy(add(add(buffer, 544), accountBytes), calldatasize(), sub(dirtyAccounts, accountBytes))
                }
                dirtyTransfers := transferBytes
                dirtyAccounts := accountBytes
                link := keccak256(buffer, add(32, CHUNK_BYTES))
                at := next
            }
        }
        if (malformedAt != type(uint256).max) revert MalformedChunk(malformedAt);
    }

    /// @notice The batch statement hash (`rollup_core::statement::BatchStatement::hash`):
    ///         keccak256 of the 104 bytes oldRoot || newRoot || dataCommitment || fees (u64 BE).
    function statementHash(bytes32 oldRoot, bytes32 newRoot, bytes32 commitment, uint64 fees)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(oldRoot, newRoot, commitment, fees));
    }

    /// @notice The proof's public inputs for a statement: its 8 big-endian u32 words
    ///         (`BatchStatement::public_inputs`), each a canonical Goldilocks element.
    function publicInputs(bytes32 statement) public pure returns (uint256[] memory words) {
        words = new uint256[](8);
        uint256 s = uint256(statement);
        for (uint256 i = 0; i < 8; ++i) {
            // Truncation is the point: word i is bits 255-32i .. 224-32i of the hash.
            // forge-lint: disable-next-line(unsafe-typecast)
            words[i] = uint32(s >> (224 - 32 * i));
        }
    }

    /// @dev Reverts unless each of the root's four big-endian u64 words is below p.
    function checkCanonical(bytes32 root) internal pure {
        uint256 r = uint256(root);
        for (uint256 i = 0; i < 4; ++i) {
            // Truncation selects word i of the root.
            // forge-lint: disable-next-line(unsafe-typecast)
            if (uint64(r >> (64 * i)) >= P) revert NonCanonicalRoot(root);
        }
    }
}
