//! The calls the rollup needs from an EVM chain ([`EvmChain`]: deploy, send, call, read logs),
//! and a local chain in memory that makes them (revm, [`Chain`]). The other implementation is
//! a chain over JSON-RPC ([`crate::rpc::RpcChain`], e.g. anvil).

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::context_interface::ContextTr;
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, Log, TxKind, U256};
use revm::state::AccountInfo;
use revm::{Context, Database, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// The EVM version the contracts are compiled for (`evmVersion` in `contracts/build.mjs`) and the
/// chain runs: Cancun has neither EIP-7825's per-transaction gas cap nor EIP-7623's calldata floor,
/// so a transaction's gas is its execution plus the classic intrinsic cost.
pub const SPEC: SpecId = SpecId::CANCUN;

/// Gas limit of every transaction (a block's worth; far above what a batch needs).
pub const TX_GAS_LIMIT: u64 = 30_000_000;

/// Why a chain gave no verdict on a call: the transaction did not run, or its fate is unknown.
/// A revert is not an error here: it is an [`Outcome`] with `success == false`. One enum for
/// every [`EvmChain`] implementation.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The chain refused the transaction before execution (balance, nonce, gas limit, …).
    #[error("the EVM refused the transaction: {0}")]
    Refused(String),
    /// A contract creation did not return an address.
    #[error("deployment failed: {0}")]
    DeployFailed(String),
    /// The JSON-RPC endpoint could not be reached, or the connection broke.
    #[error("{url}: {error}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// The transport error.
        error: String,
    },
    /// The JSON-RPC endpoint answered a call with an error (not a revert).
    #[error("{method}: JSON-RPC error {code}: {message}")]
    Rpc {
        /// The method called.
        method: &'static str,
        /// The JSON-RPC error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The JSON-RPC endpoint answered something that is not what the method returns.
    #[error("{method}: unexpected answer: {error}")]
    BadAnswer {
        /// The method called.
        method: &'static str,
        /// What was wrong.
        error: String,
    },
    /// A transaction from an address this chain holds no signing key for.
    #[error("no signing key for {0}")]
    NoKey(Address),
    /// The transaction was sent but no receipt came within the wait: it may still be mined.
    /// Check the chain's state before sending it again.
    #[error("transaction {hash} was sent but no receipt came within {waited_s} s (it may still be mined)")]
    NoReceipt {
        /// The transaction hash, `0x` hex.
        hash: String,
        /// Seconds waited.
        waited_s: u64,
    },
}

/// What the rollup needs from an EVM chain: deploy, send, call, read balances, code and logs.
///
/// The contract of every method: `Err` means no verdict (the transaction did not run, or its
/// fate is unknown, see [`ChainError::NoReceipt`]); a transaction that ran and reverted is
/// `Ok` with `success == false` and the revert data in `output`, and changed nothing.
/// Implementations: [`Chain`] (revm in memory; any `from`, no signatures, no fees) and
/// [`crate::rpc::RpcChain`] (JSON-RPC; signs with the keys it holds, so `from` must be one of
/// them).
pub trait EvmChain {
    /// Deploys `init_code` (creation bytecode with its constructor arguments) from `from`;
    /// returns the new contract's address.
    fn deploy(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, ChainError>;
    /// Sends a call transaction of `value` wei with `data` to `to`, and waits for its outcome.
    fn send(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Outcome, ChainError>;
    /// Runs a call against the latest state without committing anything (a view).
    fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Outcome, ChainError>;
    /// An account's balance in wei.
    fn balance_of(&mut self, who: Address) -> Result<U256, ChainError>;
    /// An account's code size in bytes (0: no contract there).
    fn code_len(&mut self, who: Address) -> Result<usize, ChainError>;
    /// Every log `address` emitted, in chain order.
    fn logs(&mut self, address: Address) -> Result<Vec<Log>, ChainError>;
    /// Transactions of `from` sent but not yet mined (0 on a chain that mines at once).
    fn in_flight(&mut self, from: Address) -> Result<u64, ChainError>;
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// True when it succeeded; false when it reverted or halted (and changed nothing).
    pub success: bool,
    /// Return data, or revert data.
    pub output: Vec<u8>,
    /// Logs (empty unless it succeeded).
    pub logs: Vec<Log>,
    /// Gas the sender pays: execution and intrinsic gas, less the refund.
    pub gas_used: u64,
    /// Gas refunded (storage cleared).
    pub gas_refunded: u64,
    /// Intrinsic gas: 21,000 plus 4 per zero and 16 per non-zero calldata byte.
    pub intrinsic_gas: u64,
    /// Gas spent executing the call, before the refund (the total less the intrinsic gas).
    pub execution_gas: u64,
}

/// The classic intrinsic gas of a call with `data` (no access list, not a creation).
pub fn intrinsic_gas(data: &[u8]) -> u64 {
    21_000
        + data
            .iter()
            .map(|b| if *b == 0 { 4 } else { 16 })
            .sum::<u64>()
}

/// An in-memory EVM chain: accounts, contracts and storage persist across transactions.
pub struct Chain {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
    /// Every log of every committed transaction, in order.
    logs: Vec<Log>,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// An empty chain at [`SPEC`] with no fees.
    pub fn new() -> Self {
        let ctx = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SPEC);
                // Tests send transactions from plain addresses without tracking their nonces.
                cfg.disable_nonce_check = true;
            });
        Self {
            evm: ctx.build_mainnet(),
            logs: Vec::new(),
        }
    }

    /// Sets an account's balance (genesis allocation).
    pub fn fund(&mut self, who: Address, wei: U256) {
        let info = AccountInfo {
            balance: wei,
            ..self.account(who)
        };
        self.evm.ctx.db_mut().insert_account_info(who, info);
    }

    fn account(&mut self, who: Address) -> AccountInfo {
        self.evm
            .ctx
            .db_mut()
            .basic(who)
            .expect("in-memory database")
            .unwrap_or_default()
    }

    /// The block time the next transactions see (`block.timestamp`, unix seconds).
    pub fn timestamp(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// Moves `block.timestamp` forward by `seconds` (tests: a deadline passes without waiting).
    pub fn advance_time(&mut self, seconds: u64) {
        self.evm.ctx.block.timestamp += U256::from(seconds);
    }

    /// An account's balance in wei.
    pub fn balance(&mut self, who: Address) -> U256 {
        self.account(who).balance
    }

    /// An account's code size in bytes.
    pub fn code_size(&mut self, who: Address) -> usize {
        self.account(who)
            .code
            .map_or(0, |c| c.original_byte_slice().len())
    }

    fn tx(&self, from: Address, kind: TxKind, data: Vec<u8>, value: U256) -> TxEnv {
        TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .value(value)
            .gas_limit(TX_GAS_LIMIT)
            .gas_price(0)
            .build_fill()
    }

    fn outcome(data_len_gas: u64, r: ExecutionResult) -> Outcome {
        let gas = *r.gas();
        let gas_used = r.tx_gas_used();
        let (success, output, logs) = match r {
            ExecutionResult::Success { output, logs, .. } => {
                let out = match output {
                    Output::Call(b) => b.to_vec(),
                    Output::Create(b, _) => b.to_vec(),
                };
                (true, out, logs)
            }
            ExecutionResult::Revert { output, .. } => (false, output.to_vec(), vec![]),
            ExecutionResult::Halt { reason, .. } => {
                (false, format!("halt: {reason:?}").into_bytes(), vec![])
            }
        };
        Outcome {
            success,
            output,
            logs,
            gas_used,
            gas_refunded: gas.inner_refunded(),
            intrinsic_gas: data_len_gas,
            execution_gas: gas.total_gas_spent().saturating_sub(data_len_gas),
        }
    }

    /// Deploys `init_code` (creation bytecode with its constructor arguments) from `from`;
    /// returns the new contract's address.
    pub fn deploy(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, ChainError> {
        let tx = self.tx(from, TxKind::Create, init_code, U256::ZERO);
        let r = self
            .evm
            .transact_commit(tx)
            .map_err(|e| ChainError::Refused(format!("{e:?}")))?;
        match r {
            ExecutionResult::Success {
                output: Output::Create(_, Some(addr)),
                ..
            } => Ok(addr),
            other => Err(ChainError::DeployFailed(format!("{other:?}"))),
        }
    }

    /// Sends a call transaction and commits its effects (none if it reverts).
    pub fn send(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Outcome, ChainError> {
        let intrinsic = intrinsic_gas(&data);
        let tx = self.tx(from, TxKind::Call(to), data, value);
        let r = self
            .evm
            .transact_commit(tx)
            .map_err(|e| ChainError::Refused(format!("{e:?}")))?;
        let outcome = Self::outcome(intrinsic, r);
        self.logs.extend(outcome.logs.iter().cloned());
        Ok(outcome)
    }

    /// Runs a call without committing anything (a view).
    pub fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Outcome, ChainError> {
        let intrinsic = intrinsic_gas(&data);
        let tx = self.tx(Address::ZERO, TxKind::Call(to), data, U256::ZERO);
        let r = self
            .evm
            .transact(tx)
            .map_err(|e| ChainError::Refused(format!("{e:?}")))?;
        Ok(Self::outcome(intrinsic, r.result))
    }
}

impl EvmChain for Chain {
    fn deploy(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, ChainError> {
        Chain::deploy(self, from, init_code)
    }

    fn send(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Outcome, ChainError> {
        Chain::send(self, from, to, data, value)
    }

    fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Outcome, ChainError> {
        Chain::view(self, to, data)
    }

    fn balance_of(&mut self, who: Address) -> Result<U256, ChainError> {
        Ok(self.balance(who))
    }

    fn code_len(&mut self, who: Address) -> Result<usize, ChainError> {
        Ok(self.code_size(who))
    }

    fn logs(&mut self, address: Address) -> Result<Vec<Log>, ChainError> {
        Ok(self
            .logs
            .iter()
            .filter(|l| l.address == address)
            .cloned()
            .collect())
    }

    fn in_flight(&mut self, _from: Address) -> Result<u64, ChainError> {
        Ok(0)
    }
}
