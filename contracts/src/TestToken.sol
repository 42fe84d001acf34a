// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The rollup's ERC-20 test token (L2 token 1)
/// @notice A minimal ERC-20 whose `mint` is open to anyone: a devnet faucet. Self-written
///         because the contracts build offline, without library downloads.
/// @dev The total supply is capped at `MAX_SUPPLY` = (2^64 - 1) L2 units of 10^9 tokens'
///      smallest units: the sum of every L2 balance of the token is then at most the
///      escrowed supply, which fits a u64, so no deposit can overflow an L2 balance. An
///      uncreditable deposit would block the rollup's FIFO deposit queue for good, and an
///      open faucet without the cap would let anyone build one.
contract TestToken {
    /// @notice Smallest units of the largest supply: every token could sit in one L2 balance.
    uint256 public constant MAX_SUPPLY = uint256(type(uint64).max) * 1e9;

    string public constant name = "Rollup Test Token";
    string public constant symbol = "RTT";
    uint8 public constant decimals = 18;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice The sender holds less than the amount.
    error InsufficientBalance(uint256 balance, uint256 needed);
    /// @notice The spender's allowance is below the amount.
    error InsufficientAllowance(uint256 allowance, uint256 needed);
    /// @notice The mint would take the supply past `MAX_SUPPLY`.
    error SupplyCapExceeded();
    /// @notice Tokens cannot be sent to or minted for the zero address.
    error ZeroAddress();

    /// @notice Mints `amount` to `to`; anyone may call it (devnet faucet).
    function mint(address to, uint256 amount) external {
        if (to == address(0)) revert ZeroAddress();
        uint256 supply = totalSupply + amount;
        if (supply > MAX_SUPPLY) revert SupplyCapExceeded();
        totalSupply = supply;
        // Cannot overflow: every balance is at most the supply.
        unchecked {
            balanceOf[to] += amount;
        }
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        move(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Moves `amount` from `from`, spending the caller's allowance (an allowance of
    ///         `type(uint256).max` is never spent).
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) revert InsufficientAllowance(allowed, amount);
            unchecked {
                allowance[from][msg.sender] = allowed - amount;
            }
        }
        move(from, to, amount);
        return true;
    }

    function move(address from, address to, uint256 amount) private {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = balanceOf[from];
        if (balance < amount) revert InsufficientBalance(balance, amount);
        // Checked above, and the sum of balances is the supply.
        unchecked {
            balanceOf[from] = balance - amount;
            balanceOf[to] += amount;
        }
        emit Transfer(from, to, amount);
    }
}
