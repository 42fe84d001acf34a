//! The Rollup contract as Rust sees it (contracts/src/Rollup.sol), and the L1 encoding of
//! state roots.
//!
//! The interface is declared here rather than read from forge's build output, so that the
//! crate builds without the contracts; `rollup_core`'s statement and the forge tests pin
//! the same bytes on both sides.

// The generated event structs take one constructor argument per field (BatchVerified: 8).
#![allow(clippy::too_many_arguments)]

use alloy::primitives::B256;
use rollup_core::{hash::Digest, statement::digest_to_be_bytes};

use crate::{Error, Result};

alloy::sol! {
    /// The Rollup contract's external surface.
    #[sol(rpc)]
    #[derive(Debug)]
    interface IRollup {
        event Genesis(bytes32 stateRoot, uint64 l2ChainId, uint8 treeDepth, uint8 partitionBits, bytes accounts);
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
        event WithdrawalCredited(uint64 indexed batch, uint8 token, address indexed recipient, uint64 amount);
        event Claimed(address indexed recipient, uint8 token, uint256 amount);
        event Deposit(
            uint64 indexed index,
            address indexed sender,
            uint8 token,
            bytes key,
            uint64 amount,
            bytes32 queueHead
        );

        error Unauthorized(address caller);
        error UnexpectedBatchNumber(uint64 expected, uint64 got);
        error UnsupportedDataVersion(uint8 version);
        error BadDataLength(uint256 length);
        error InvalidProof(bytes32 statement);

        function commitBatch(
            uint64 number,
            bytes calldata data,
            bytes32 newRoot,
            uint64 ethFees,
            uint64 tokenFees,
            bytes calldata proof
        ) external;
        function deposit(bytes calldata key) external payable;
        function depositToken(bytes calldata key, uint64 amount) external;
        function claim(uint8 token) external;
        function depositCount() external view returns (uint64);
        function consumedDeposits() external view returns (uint64);
        function queueHead(uint256 index) external view returns (bytes32);
        function testToken() external view returns (address);
        function stateRoot() external view returns (bytes32);
        function lastVerifiedBatch() external view returns (uint64);
        function genesisBlock() external view returns (uint256);
        function genesisAccountsHash() external view returns (bytes32);
        function l2ChainId() external view returns (uint64);
        function isOperator(address operator) external view returns (bool);
        function pendingBalance(uint8 token, address account) external view returns (uint256);
        function dataCommitment(bytes calldata data) external pure returns (bytes32);
    }
}

/// A state root as the contract stores it: four big-endian u64 words.
pub fn root_to_l1(root: &Digest) -> B256 {
    B256::from(digest_to_be_bytes(root))
}

/// A root read from L1 as a digest, refusing non-canonical words (the contract only ever
/// stores roots a proof vouched for, so one would mean a wrong address or a broken chain).
pub fn root_from_l1(root: &B256) -> Result<Digest> {
    let mut le = [0u8; 32];
    for (out, word) in le.chunks_exact_mut(8).zip(root.as_slice().chunks_exact(8)) {
        out.copy_from_slice(&u64::from_be_bytes(word.try_into().expect("8 bytes")).to_le_bytes());
    }
    Digest::from_bytes(&le).map_err(|e| Error::Settlement(format!("L1 root {root}: {e}")))
}
