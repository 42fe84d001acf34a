// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier} from "./IBatchVerifier.sol";
import {IERC20} from "./IERC20.sol";
import {EcGfp5Key} from "./EcGfp5Key.sol";

/// @title The rollup's L1 contract: the state root, moved only by proven batches, and the
///        escrow of the two L2 tokens
/// @notice A batch is posted in one transaction with its compact data (batch data v4, the
///         calldata anyone rebuilds the L2 state from) and its wrapper proof. The contract
///         recomputes the batch statement itself (prover/CIRCUITS.md §5):
///
///             statement = keccak256(stateRoot || newRoot || dataCommitment || ethFees || tokenFees)
///
///         from its own stored root, the Keccak data chain it recomputes over the calldata
///         (§2), and the claimed new root and fees, and has the verifier check the proof
///         against the statement's 8 big-endian u32 words. So a proof only moves the root
///         for the exact data posted with it, from the exact root stored here.
///
///         L2 holds two tokens: token 0 is ETH, token 1 the ERC-20 `testToken`; an L2 amount
///         `a` is `a * 1e9` of the token's smallest L1 units for both (gwei for ETH). The
///         contract escrows both: the genesis balances (paid at deployment) and every
///         deposit. Deposits enter a FIFO queue, a Keccak chain whose every head is stored;
///         a batch carries the deposits it credits as records, and the contract checks them
///         against the queue (the proof binds the records to the credits). Withdrawal
///         records of a verified batch credit `pendingBalance`, claimed with `claim`.
///
///         Roots are Poseidon digests in their L1 encoding: 4 canonical Goldilocks words,
///         each a big-endian u64 (`rollup_core::statement::digest_to_be_bytes`). The genesis
///         accounts are emitted (event `Genesis`) so that the whole L2 state is rebuildable
///         from L1 alone: the genesis blob, then every batch's calldata in order (`rollup
///         restore`).
/// @dev Commit and verify are one call: splitting them would pay for the calldata once and
///      for a storage write of the commitment twice, with nothing gained while the
///      operator proves before posting. Batches are strictly sequential.
contract Rollup {
    /// @notice The only calldata layout this contract accepts: compact batch data
    ///         (`rollup_core::batch_data::compact`), each chunk as two bytes of record counts
    ///         and its records, without the padding the circuits' fixed chunks carry.
    uint8 public constant BATCH_DATA_VERSION = 4;
    /// @notice Bytes of one chunk as the circuits and the data chain see it: four record
    ///         lists, each its used records then zero ones (`CHUNK_DATA_BYTES`).
    uint256 public constant CHUNK_BYTES = 1056;
    /// @notice Unit records (transfers and withdrawals, one per signed operation) in a
    ///         chunk, and their size: tag, from, to, packed amount, packed fee.
    uint256 public constant CHUNK_TRANSFERS = 32;
    uint256 public constant TRANSFER_RECORD_BYTES = 16;
    /// @notice New-account records in a chunk, and their size: tag, index, padding, key.
    uint256 public constant CHUNK_NEW_ACCOUNTS = 4;
    uint256 public constant NEW_ACCOUNT_RECORD_BYTES = 48;
    /// @notice Deposit records in a chunk, and their size: tag (1: ETH, 3: token), a zero
    ///         byte, queue offset (u16 BE), global index (u32 BE), amount (u64 BE), key (40).
    uint256 public constant CHUNK_DEPOSITS = 4;
    uint256 public constant DEPOSIT_RECORD_BYTES = 56;
    /// @notice Withdrawal records in a chunk, and their size: tag (1: ETH, 3: token), 3 zero
    ///         bytes, amount (u64 BE), L1 recipient (20).
    uint256 public constant CHUNK_WITHDRAWALS = 4;
    uint256 public constant WITHDRAWAL_RECORD_BYTES = 32;
    /// @notice The most deposits one batch consumes (`deposit::MAX_DEPOSITS_PER_BATCH`).
    uint256 public constant MAX_DEPOSITS_PER_BATCH = 1024;
    /// @notice The two L2 tokens, as record tags' bit 1 and `pendingBalance`'s first key.
    uint8 public constant ETH = 0;
    uint8 public constant TEST_TOKEN = 1;
    /// @notice Smallest L1 units of one L2 unit, for both tokens (wei per gwei).
    uint256 public constant L1_UNITS_PER_L2_UNIT = 1e9;
    /// @notice Bytes of one genesis account in the `Genesis` event: the 40-byte public key,
    ///         then the balance as a big-endian u64.
    uint256 public constant GENESIS_ACCOUNT_BYTES = 48;
    /// @notice The Goldilocks modulus: every root word must be below it.
    uint256 internal constant P = 0xFFFFFFFF00000001;

    /// @dev Offsets of the lists in an expanded chunk.
    uint256 private constant ACCOUNTS_AT = 512;
    uint256 private constant DEPOSITS_AT = 704;
    uint256 private constant WITHDRAWALS_AT = 928;
    /// @dev Marks a withdrawal among the record positions the calldata walk collects.
    uint256 private constant WITHDRAWAL_ENTRY = 1 << 255;
    /// @dev "No error" for the walk's error offsets.
    uint256 private constant NONE = type(uint256).max;

    /// @notice The proof verifier, fixed at deployment (a new circuit is a new deployment).
    IBatchVerifier public immutable verifier;
    /// @notice The ERC-20 of L2 token 1, escrowed here.
    IERC20 public immutable testToken;
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
    /// @notice Deposits the verified batches credited: the queue's consumed prefix. In the
    ///         slot of `lastVerifiedBatch`, which every batch writes anyway.
    uint64 public consumedDeposits;
    /// @notice Deposits queued so far (the next deposit's index).
    uint64 public depositCount;
    /// @notice Who can grant and revoke the operator role.
    address public owner;
    /// @notice Accounts allowed to post batches.
    mapping(address => bool) public isOperator;
    /// @notice What each address can claim on L1, per token, in the token's smallest unit:
    ///         withdrawals to it and the fees of the batches it posted.
    mapping(uint8 token => mapping(address => uint256)) public pendingBalance;
    /// @notice The deposit queue's head after its first n deposits: `queueHead(0) == 0`,
    ///         `queueHead(n + 1) = keccak256(queueHead(n) || token || key || amount)`.
    mapping(uint256 n => bytes32) public queueHead;

    /// @notice The starting state: its root, the tree's shape and every funded account
    ///         (`GENESIS_ACCOUNT_BYTES` each, in creation order), enough to rebuild it.
    event Genesis(bytes32 stateRoot, uint64 l2ChainId, uint8 treeDepth, uint8 partitionBits, bytes accounts);
    /// @notice A batch moved the state root. Its data is the `data` argument of the
    ///         transaction's `commitBatch` call, bound by `dataCommitment`; it credited the
    ///         deposits `[consumedDeposits - depositsConsumed, consumedDeposits)` of the queue.
    event BatchVerified(
        uint64 indexed number,
        address indexed operator,
        bytes32 oldRoot,
        bytes32 newRoot,
        bytes32 dataCommitment,
        uint64 ethFees,
        uint64 tokenFees,
        uint64 depositsConsumed
    );
    /// @notice Deposit `index` (0-based) entered the queue; `queueHead` is the head after it.
    event Deposit(
        uint64 indexed index, address indexed sender, uint8 token, bytes key, uint64 amount, bytes32 queueHead
    );
    /// @notice A withdrawal record of verified batch `batch` credited `recipient`'s pending
    ///         balance with `amount` L2 units of `token` (one event per record, so a wallet
    ///         finds its withdrawals without decoding calldata).
    event WithdrawalCredited(uint64 indexed batch, uint8 token, address indexed recipient, uint64 amount);
    /// @notice A pending balance was paid out (`amount` in the token's smallest unit).
    event Claimed(address indexed recipient, uint8 token, uint256 amount);
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
    /// @notice The deposit or withdrawal record at this offset of the calldata has a tag
    ///         other than 0 (empty), 1 (ETH) or 3 (token).
    error BadRecordTag(uint256 offset);
    /// @notice A deposit record's queue offset repeats, or is not below the batch's number
    ///         of deposit records (or `MAX_DEPOSITS_PER_BATCH`).
    error BadDepositOffset(uint256 offset);
    /// @notice The batch credits `count` deposits, more than are queued and unconsumed.
    error DepositsNotQueued(uint256 count);
    /// @notice The deposit records do not chain to the stored queue head: a skipped,
    ///         reordered, invented or altered deposit.
    error DepositMismatch(bytes32 expected, bytes32 computed);
    /// @notice The verifier returned false for the recomputed statement.
    error InvalidProof(bytes32 statement);
    /// @notice A root word is not a canonical Goldilocks element (deployment check).
    error NonCanonicalRoot(bytes32 root);
    /// @notice The genesis blob is not a whole number of accounts, the tree is invalid, or
    ///         the ETH sent does not back the genesis balances exactly.
    error BadGenesis();
    /// @notice An address argument is zero.
    error ZeroAddress();
    /// @notice The key is not a public key the circuits can credit (`EcGfp5Key`).
    error InvalidKey();
    /// @notice A deposit amount is zero, not a whole number of L2 units, or over a u64.
    error InvalidAmount();
    /// @notice The token's `transferFrom` into the escrow failed.
    error TokenTransferFailed();
    /// @notice The caller has nothing pending in that token.
    error NothingToClaim();
    /// @notice The payout transfer failed (the pending balance is kept).
    error PayoutFailed();

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized(msg.sender);
        _;
    }

    /// @notice `msg.value` must be the genesis balances' sum in wei: the escrow backs every
    ///         L2 balance from the start (genesis accounts hold ETH only).
    /// @param verifier_ The wrapper-proof verifier (`Plonky2Verifier`).
    /// @param owner_ Who manages operators.
    /// @param operator_ The first operator (the settlement module's account).
    /// @param genesisRoot The genesis state root, L1-encoded; must be the root of `accounts`
    ///        in a tree of the given shape (restore checks it; L1 cannot hash Poseidon cheaply).
    /// @param chainId The L2 chain id.
    /// @param treeDepth The state tree's depth (at most 32, the calldata's index width).
    /// @param partitionBits log2 of the number of partitions (at most the depth).
    /// @param accounts The genesis accounts: 40-byte key || u64 BE balance (gwei), each.
    /// @param testToken_ The ERC-20 of L2 token 1.
    constructor(
        IBatchVerifier verifier_,
        address owner_,
        address operator_,
        bytes32 genesisRoot,
        uint64 chainId,
        uint8 treeDepth,
        uint8 partitionBits,
        bytes memory accounts,
        IERC20 testToken_
    ) payable {
        if (
            address(verifier_) == address(0) || owner_ == address(0) || operator_ == address(0)
                || address(testToken_) == address(0)
        ) {
            revert ZeroAddress();
        }
        if (
            accounts.length % GENESIS_ACCOUNT_BYTES != 0 || treeDepth == 0 || treeDepth > 32
                || partitionBits > treeDepth || msg.value != genesisBalance(accounts) * L1_UNITS_PER_L2_UNIT
        ) revert BadGenesis();
        checkCanonical(genesisRoot);
        verifier = verifier_;
        testToken = testToken_;
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

    // ------------------------------------------------------------------ deposits

    /// @notice Queues a deposit of `msg.value` wei of ETH (a whole number of gwei) to the L2
    ///         account of `key`, created if the key has none.
    function deposit(bytes calldata key) external payable {
        uint256 amount = msg.value / L1_UNITS_PER_L2_UNIT;
        if (amount == 0 || amount * L1_UNITS_PER_L2_UNIT != msg.value || amount > type(uint64).max) {
            revert InvalidAmount();
        }
        // Checked just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        enqueue(ETH, key, uint64(amount));
    }

    /// @notice Queues a deposit of `amount` L2 units of the test token (`amount * 1e9` of its
    ///         smallest units, taken from the caller with `transferFrom`: approve first).
    function depositToken(bytes calldata key, uint64 amount) external {
        if (amount == 0) revert InvalidAmount();
        enqueue(TEST_TOKEN, key, amount);
        if (!tokenCall(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), amount * L1_UNITS_PER_L2_UNIT))))
        {
            revert TokenTransferFailed();
        }
    }

    /// @dev Appends a deposit to the queue. The key is checked here because every queued
    ///      deposit must be creditable: batches consume the queue in order, so one that no
    ///      proof can credit would block every later deposit.
    function enqueue(uint8 token, bytes calldata key, uint64 amount) private {
        if (!EcGfp5Key.isValidKey(key)) revert InvalidKey();
        uint64 index = depositCount;
        bytes32 head = keccak256(abi.encodePacked(queueHead[index], token, key, amount));
        depositCount = index + 1;
        queueHead[index + 1] = head;
        emit Deposit(index, msg.sender, token, key, amount, head);
    }

    // ------------------------------------------------------------------ batches

    /// @notice Posts batch `number` and its proof; on success the state root becomes
    ///         `newRoot`, the batch's deposits leave the queue, its withdrawals and the fees
    ///         (to the caller) are credited to pending balances.
    /// @dev The deposit records are checked against the queue before the verifier runs
    ///      (cheap rejects first); every state change follows the verifier's acceptance.
    /// @param number Must be `lastVerifiedBatch + 1`.
    /// @param data The compact batch data (v4): version byte, then whole chunks.
    /// @param newRoot The state root after the batch, L1-encoded.
    /// @param ethFees The fees the batch's operations paid in ETH (L2 units).
    /// @param tokenFees The fees paid in the test token (L2 units).
    /// @param proof The wrapper proof, in the verifier's layout.
    function commitBatch(
        uint64 number,
        bytes calldata data,
        bytes32 newRoot,
        uint64 ethFees,
        uint64 tokenFees,
        bytes calldata proof
    ) external {
        if (!isOperator[msg.sender]) revert Unauthorized(msg.sender);
        uint64 expected = lastVerifiedBatch + 1;
        if (number != expected) revert UnexpectedBatchNumber(expected, number);
        (bytes32 commitment, uint256[] memory records) = walk(data, true);
        uint64 consumed = consumedDeposits;
        uint256 deposits = records.length == 0 ? 0 : checkDeposits(records, consumed);
        bytes32 oldRoot = stateRoot;
        {
            bytes32 statement = statementHash(oldRoot, newRoot, commitment, ethFees, tokenFees);
            if (!verifier.verify(publicInputs(statement), proof)) revert InvalidProof(statement);
        }

        stateRoot = newRoot;
        lastVerifiedBatch = number;
        // At most MAX_DEPOSITS_PER_BATCH, and below depositCount after adding (checked).
        // forge-lint: disable-next-line(unsafe-typecast)
        consumedDeposits = consumed + uint64(deposits);
        if (ethFees != 0) pendingBalance[ETH][msg.sender] += ethFees * L1_UNITS_PER_L2_UNIT;
        if (tokenFees != 0) pendingBalance[TEST_TOKEN][msg.sender] += tokenFees * L1_UNITS_PER_L2_UNIT;
        // forge-lint: disable-next-line(unsafe-typecast)
        emit BatchVerified(number, msg.sender, oldRoot, newRoot, commitment, ethFees, tokenFees, uint64(deposits));
        if (records.length != deposits) creditWithdrawals(number, records);
    }

    /// @notice Pays the caller's pending balance of `token` (0: ETH, 1: the test token),
    ///         zeroing it first: a second claim finds nothing (`NothingToClaim`).
    function claim(uint8 token) external {
        uint256 amount = pendingBalance[token][msg.sender];
        if (amount == 0) revert NothingToClaim();
        pendingBalance[token][msg.sender] = 0;
        emit Claimed(msg.sender, token, amount);
        if (token == ETH) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert PayoutFailed();
        } else if (!tokenCall(abi.encodeCall(IERC20.transfer, (msg.sender, amount)))) {
            revert PayoutFailed();
        }
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
    ///         expanded to its `CHUNK_BYTES` (each list's records, then zeros). Reverts unless
    ///         the data is the version byte and whole chunks, at least one, each a header
    ///         `t + 33 a`, `d + 5 w` (`t <= 32` unit, `a <= 4` new-account, `d <= 4` deposit
    ///         and `w <= 4` withdrawal records) then those records. The records themselves are
    ///         not read here (`commitBatch` checks deposits and withdrawals).
    function dataCommitment(bytes calldata data) external pure returns (bytes32 commitment) {
        (commitment,) = walk(data, false);
    }

    /// @notice The batch statement hash (`rollup_core::statement::BatchStatement::hash`):
    ///         keccak256 of the 112 bytes oldRoot || newRoot || dataCommitment || ethFees ||
    ///         tokenFees (u64 BE each).
    function statementHash(bytes32 oldRoot, bytes32 newRoot, bytes32 commitment, uint64 ethFees, uint64 tokenFees)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(oldRoot, newRoot, commitment, ethFees, tokenFees));
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

    /// @dev One pass over the compact calldata: expands each chunk and extends the data
    ///      chain, and (with `collect`) lists the calldata position of every used deposit
    ///      and withdrawal record (`WITHDRAWAL_ENTRY` set on withdrawals), in calldata
    ///      order, after checking its tag.
    function walk(bytes calldata data, bool collect) private pure returns (bytes32 link, uint256[] memory records) {
        {
            uint256 length = data.length;
            if (length < 3) revert BadDataLength(length);
            uint8 version = uint8(data[0]);
            if (version != BATCH_DATA_VERSION) revert UnsupportedDataVersion(version);
        }
        // The offset of a malformed chunk, or of a record with a bad tag with
        // WITHDRAWAL_ENTRY set (one variable: the assembly is at the stack's limit).
        uint256 errorAt = NONE;
        assembly ("memory-safe") {
            // Copies `size` bytes of records from calldata `from` to the list at `to`, then
            // zeroes what the previous chunk wrote to the list beyond them (its size is kept
            // at `dirty`); returns the calldata position after the records.
            function copyList(to, from, size, dirty) -> after {
                calldatacopy(to, from, size)
                let previous := mload(dirty)
                if gt(previous, size) { calldatacopy(add(to, size), calldatasize(), sub(previous, size)) }
                mstore(dirty, size)
                after := add(from, size)
            }
            // Expands the deposit and withdrawal lists of a chunk (records from `from`, sizes
            // from its header's second byte `h1`) when it has any or the previous chunk had
            // any; returns the calldata position after them, or 0 for more than 4
            // withdrawal records.
            function expandBridgeLists(chunk, dirty, from, h1) -> after {
                let withdrawals := mul(div(h1, 5), 32)
                if gt(withdrawals, 128) { leave }
                after := copyList(add(chunk, DEPOSITS_AT), from, mul(mod(h1, 5), 56), add(dirty, 0x40))
                after := copyList(add(chunk, WITHDRAWALS_AT), after, withdrawals, add(dirty, 0x60))
            }
            // Appends `or(position, flag)` at `entry` for each record of `size` bytes in
            // [from, to) whose tag is not 0; returns the next entry, or the bad record's
            // position for a tag other than 1 or 3.
            function collectList(from, to, size, flag, entry) -> next, bad {
                next := entry
                for {} lt(from, to) { from := add(from, size) } {
                    let tag := byte(0, calldataload(from))
                    if tag {
                        if iszero(or(eq(tag, 1), eq(tag, 3))) {
                            bad := from
                            leave
                        }
                        mstore(next, or(from, flag))
                        next := add(next, 0x20)
                    }
                }
            }
            // Collects the deposit and withdrawal records of the chunk ending at `next`,
            // whose list sizes are at `dirty`.
            function collectChunk(next, dirty, entry) -> after, bad {
                after := entry
                if iszero(or(mload(add(dirty, 0x40)), mload(add(dirty, 0x60)))) { leave }
                let withdrawalsFrom := sub(next, mload(add(dirty, 0x60)))
                after, bad :=
                    collectList(
                    sub(withdrawalsFrom, mload(add(dirty, 0x40))),
                    withdrawalsFrom,
                    DEPOSIT_RECORD_BYTES,
                    0,
                    entry
                )
                if iszero(bad) {
                    after, bad := collectList(withdrawalsFrom, next, WITHDRAWAL_RECORD_BYTES, WITHDRAWAL_ENTRY, after)
                }
            }

            // Scratch past the free memory pointer: link (32) || chunk (CHUNK_BYTES) ||
            // each list's bytes written by the previous chunk (4 words) || the record
            // positions (a uint256[]), allocated at the end. Copying from past the end of
            // calldata writes zeros: the chunk is zeroed once, then each chunk re-zeroes
            // only what the previous one wrote beyond its own records.
            let buffer := mload(0x40)
            calldatacopy(add(buffer, 0x20), calldatasize(), add(CHUNK_BYTES, 0x80))
            let entry := add(buffer, add(CHUNK_BYTES, 0xC0))
            let end := add(data.offset, data.length)
            let dirty := add(buffer, add(CHUNK_BYTES, 0x20))
            // One pass, chunk by chunk: the header `t + 33 a`, `d + 5 w`, the unit and
            // new-account lists (every chunk has them: `copyList` written out inline, which
            // saves its calls, about 220 gas a chunk), the bridge lists only when this chunk
            // or the previous one has any, then the link.
            for { let at := add(data.offset, 1) } lt(at, end) {} {
                let header := calldataload(at)
                let next := add(at, 2)
                {
                    let size := shl(4, mod(byte(0, header), 33))
                    calldatacopy(add(buffer, 0x20), next, size)
                    let previous := mload(dirty)
                    if gt(previous, size) { calldatacopy(add(add(buffer, 0x20), size), calldatasize(), sub(previous, size)) }
                    mstore(dirty, size)
                    next := add(next, size)
                    size := mul(div(byte(0, header), 33), 48)
                    if gt(size, 192) {
                        errorAt := sub(at, data.offset)
                        break
                    }
                    let list := add(buffer, add(0x20, ACCOUNTS_AT))
                    calldatacopy(list, next, size)
                    previous := mload(add(dirty, 0x20))
                    if gt(previous, size) { calldatacopy(add(list, size), calldatasize(), sub(previous, size)) }
                    mstore(add(dirty, 0x20), size)
                    next := add(next, size)
                }
                if or(byte(1, header), or(mload(add(dirty, 0x40)), mload(add(dirty, 0x60)))) {
                    next := expandBridgeLists(add(buffer, 0x20), dirty, next, byte(1, header))
                }
                if or(iszero(next), gt(next, end)) {
                    errorAt := sub(at, data.offset)
                    break
                }
                mstore(buffer, link)
                link := keccak256(buffer, add(0x20, CHUNK_BYTES))
                if collect {
                    let bad := 0
                    entry, bad := collectChunk(next, dirty, entry)
                    if bad {
                        errorAt := or(sub(bad, data.offset), WITHDRAWAL_ENTRY)
                        break
                    }
                }
                at := next
            }
            records := add(buffer, add(CHUNK_BYTES, 0xA0))
            mstore(records, shr(5, sub(entry, add(records, 0x20))))
            mstore(0x40, entry)
        }
        if (errorAt != NONE) {
            if (errorAt & WITHDRAWAL_ENTRY == 0) revert MalformedChunk(errorAt);
            revert BadRecordTag(errorAt & ~WITHDRAWAL_ENTRY);
        }
    }

    /// @dev Checks that the batch's deposit records are exactly the next `count` deposits
    ///      of the queue, `count` being their number: their offsets are 0..count-1 once
    ///      each, and the chain from `queueHead[consumed]` over the records in offset order
    ///      gives the stored `queueHead[consumed + count]`.
    function checkDeposits(uint256[] memory records, uint64 consumed) private view returns (uint256 count) {
        for (uint256 i = 0; i < records.length; ++i) {
            if (records[i] & WITHDRAWAL_ENTRY == 0) ++count;
        }
        if (count == 0) return 0;
        uint256[] memory byOffset = new uint256[](count);
        for (uint256 i = 0; i < records.length; ++i) {
            uint256 position = records[i];
            if (position & WITHDRAWAL_ENTRY != 0) continue;
            uint256 offset;
            assembly ("memory-safe") {
                offset := shr(240, calldataload(add(position, 2)))
            }
            // Count unique offsets all below count are exactly 0..count-1. Positions are
            // never 0 (calldata starts with the selector), so 0 marks a free slot.
            if (offset >= count || offset >= MAX_DEPOSITS_PER_BATCH || byOffset[offset] != 0) {
                revert BadDepositOffset(offset);
            }
            byOffset[offset] = position;
        }
        if (consumed + count > depositCount) revert DepositsNotQueued(count);
        bytes32 head = queueHead[consumed];
        assembly ("memory-safe") {
            // The link's preimage, in scratch past the free memory pointer: head (32) ||
            // token (1) || key (40) || amount (8), from the record's tag (bit 1), key (at 16)
            // and amount (at 8).
            let preimage := mload(0x40)
            let at := add(byOffset, 0x20)
            for { let end := add(at, shl(5, count)) } lt(at, end) { at := add(at, 0x20) } {
                let position := mload(at)
                mstore(preimage, head)
                mstore8(add(preimage, 32), and(shr(249, calldataload(position)), 1))
                calldatacopy(add(preimage, 33), add(position, 16), 40)
                calldatacopy(add(preimage, 73), add(position, 8), 8)
                head := keccak256(preimage, 81)
            }
        }
        bytes32 expected = queueHead[consumed + count];
        if (head != expected) revert DepositMismatch(expected, head);
    }

    /// @dev Credits each withdrawal record of verified batch `number` to its recipient's
    ///      pending balance: the record is one word, tag || 3 zero bytes || amount (u64 BE)
    ///      || recipient.
    function creditWithdrawals(uint64 number, uint256[] memory records) private {
        for (uint256 i = 0; i < records.length; ++i) {
            uint256 position = records[i];
            if (position & WITHDRAWAL_ENTRY == 0) continue;
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(and(position, not(WITHDRAWAL_ENTRY)))
            }
            // Truncations select the record's fields.
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 token = uint8(word >> 249) & 1;
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 amount = uint64(word >> 160);
            // forge-lint: disable-next-line(unsafe-typecast)
            address recipient = address(uint160(word));
            pendingBalance[token][recipient] += amount * L1_UNITS_PER_L2_UNIT;
            emit WithdrawalCredited(number, token, recipient, amount);
        }
    }

    /// @dev Calls the test token and reports success: the call must not revert and must
    ///      return true (the test token always does; anything else is not the token).
    function tokenCall(bytes memory call) private returns (bool) {
        (bool ok, bytes memory result) = address(testToken).call(call);
        return ok && result.length == 32 && abi.decode(result, (bool));
    }

    /// @dev The sum of the genesis balances (L2 units).
    function genesisBalance(bytes memory accounts) private pure returns (uint256 sum) {
        for (uint256 at = 0; at + GENESIS_ACCOUNT_BYTES <= accounts.length; at += GENESIS_ACCOUNT_BYTES) {
            uint256 units;
            assembly ("memory-safe") {
                units := shr(192, mload(add(add(accounts, 0x20), add(at, 40))))
            }
            sum += units;
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
