// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title A plain ERC-20, the yardstick of `zkr gas`
/// @notice The token transfer that a rollup transfer is compared with: balances in a mapping,
/// `transfer`, `approve`, `transferFrom` and their events, as EIP-20 specifies them and as
/// widely deployed tokens implement them (no hooks, no fees, no pausing). The deployer receives
/// the whole supply.
contract Token {
    /// Token name.
    string public constant name = "zkr test token";
    /// Token symbol.
    string public constant symbol = "ZKRT";
    /// Decimals of the display unit.
    uint8 public constant decimals = 18;
    /// All tokens in existence.
    uint256 public immutable totalSupply;
    /// Balance of each holder.
    mapping(address => uint256) public balanceOf;
    /// What `spender` may still move from `owner`'s balance.
    mapping(address => mapping(address => uint256)) public allowance;

    /// `value` tokens moved from `from` to `to`.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// `owner` let `spender` move up to `value` tokens.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// Mints `supply` tokens to the deployer.
    constructor(uint256 supply) {
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    /// Moves `value` of the caller's tokens to `to`.
    function transfer(address to, uint256 value) external returns (bool) {
        move(msg.sender, to, value);
        return true;
    }

    /// Lets `spender` move up to `value` of the caller's tokens.
    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    /// Moves `value` of `from`'s tokens to `to` within the caller's allowance.
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "allowance exceeded");
            allowance[from][msg.sender] = allowed - value;
        }
        move(from, to, value);
        return true;
    }

    function move(address from, address to, uint256 value) internal {
        uint256 balance = balanceOf[from];
        require(balance >= value, "balance exceeded");
        unchecked {
            balanceOf[from] = balance - value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
