//! An EVM chain over JSON-RPC (anvil locally, any EVM node beyond): the [`EvmChain`] that the
//! services settle on.
//!
//! Blocking and light on purpose: the node is synchronous (threads, no async runtime), so the
//! transport is a plain HTTP client (`ureq`, already the node's) posting JSON-RPC 2.0 requests,
//! and transactions are built, signed and encoded locally with alloy's types
//! (`alloy-consensus`' EIP-1559 transaction and EIP-2718 envelope, a secp256k1 key from `k256`),
//! not with `alloy-provider`, which would bring an async runtime and its HTTP stack into a
//! synchronous program. Plain `http://` only (no TLS).
//!
//! Every transaction is EIP-1559, for the chain id the endpoint reports, from one of the keys the
//! chain holds ([`RpcChain::add_key`]): its gas is estimated first (`eth_estimateGas`), so a call
//! that would revert is reported as a revert ([`Outcome`] with `success == false`, the revert
//! data in `output`) and **never sent**. A sent transaction is waited for until its receipt comes
//! ([`RpcChain::receipt_timeout`]); without one in time it is [`ChainError::NoReceipt`]: it may
//! still be mined, and [`EvmChain::in_flight`] tells whether it is still pending.

use crate::chain::{intrinsic_gas, ChainError, EvmChain, Outcome};
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use k256::ecdsa::SigningKey;
use revm::primitives::{Address, Log, LogData, TxKind, B256, U256};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The first of anvil's (and Hardhat's) ten well-known development accounts: the private key of
/// `0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`, funded with 10,000 ETH by a fresh anvil. Public
/// knowledge: for a local chain only, never for a chain with value. zkr never uses it unless
/// told to (`--l1-key` or `ZKR_L1_KEY`).
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Why a private key is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 32 bytes of hex (with or without `0x`).
    #[error("an L1 private key is 32 bytes of hex (64 digits, `0x` optional)")]
    NotHex,
    /// Zero, or not below the secp256k1 group order.
    #[error("not a secp256k1 private key (zero or too large)")]
    OutOfRange,
}

/// A secp256k1 private key from hex (`0x` optional).
pub fn parse_private_key(hex_key: &str) -> Result<SigningKey, KeyError> {
    let h = hex_key.trim();
    let h = h.strip_prefix("0x").unwrap_or(h);
    let bytes: [u8; 32] = hex::decode(h)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(KeyError::NotHex)?;
    SigningKey::from_bytes(&bytes.into()).map_err(|_| KeyError::OutOfRange)
}

/// The L1 address of a private key.
pub fn address_of(key: &SigningKey) -> Address {
    Address::from_private_key(key)
}

/// A JSON-RPC error object.
#[derive(Debug, Deserialize)]
struct RpcError {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl RpcError {
    /// The revert data of an `execution reverted` error (code 3, hex `data`), if it is one.
    fn revert_data(&self) -> Option<Vec<u8>> {
        let is_revert = self.code == 3 || self.message.contains("revert");
        let data = match &self.data {
            Some(Value::String(s)) => s.as_str(),
            // Some nodes nest it: {"data": {"data": "0x…"}}.
            Some(Value::Object(o)) => o.get("data").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        };
        if !is_revert {
            return None;
        }
        Some(hex::decode(data.trim_start_matches("0x")).unwrap_or_default())
    }
}

fn bad(method: &'static str, error: impl std::fmt::Display) -> ChainError {
    ChainError::BadAnswer {
        method,
        error: error.to_string(),
    }
}

/// A `0x` hex value of type `T` (a quantity, an address, a hash or bytes) from a JSON string.
fn hex_value<T: std::str::FromStr>(method: &'static str, v: &Value) -> Result<T, ChainError>
where
    T::Err: std::fmt::Display,
{
    let s = v
        .as_str()
        .ok_or_else(|| bad(method, format!("expected a hex string, got {v}")))?;
    s.parse::<T>().map_err(|e| bad(method, format!("{s}: {e}")))
}

/// A `0x` hex quantity that fits 64 bits.
fn quantity(method: &'static str, v: &Value) -> Result<u64, ChainError> {
    u64_of(method, hex_value::<U256>(method, v)?)
}

/// A `0x` hex byte string.
fn hex_bytes(method: &'static str, v: &Value) -> Result<Vec<u8>, ChainError> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(method, format!("expected hex data, got {v}")))?;
    hex::decode(s.trim_start_matches("0x")).map_err(|e| bad(method, e))
}

/// `0x` hex of bytes, as JSON-RPC takes them.
fn to_hex(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// A log as JSON-RPC returns it.
fn log_of(method: &'static str, v: &Value) -> Result<Log, ChainError> {
    let topics = v["topics"]
        .as_array()
        .ok_or_else(|| bad(method, "a log without topics"))?
        .iter()
        .map(|t| hex_value::<B256>(method, t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Log {
        address: hex_value(method, &v["address"])?,
        data: LogData::new_unchecked(topics, hex_bytes(method, &v["data"])?.into()),
    })
}

/// The fields of a receipt this chain reads.
struct Receipt {
    success: bool,
    contract_address: Option<Address>,
    gas_used: u64,
    block_number: u64,
    logs: Vec<Log>,
}

impl Receipt {
    fn parse(v: &Value) -> Result<Self, ChainError> {
        const M: &str = "eth_getTransactionReceipt";
        Ok(Self {
            // Pre-Byzantium receipts have no status; every chain zkr runs on has it.
            success: v["status"].is_null() || quantity(M, &v["status"])? == 1,
            contract_address: match &v["contractAddress"] {
                Value::Null => None,
                a => Some(hex_value(M, a)?),
            },
            gas_used: quantity(M, &v["gasUsed"])?,
            block_number: quantity(M, &v["blockNumber"])?,
            logs: v["logs"]
                .as_array()
                .map(|l| l.iter().map(|l| log_of(M, l)).collect())
                .unwrap_or(Ok(Vec::new()))?,
        })
    }
}

/// An EVM chain reached over JSON-RPC, with the keys it signs with.
#[derive(Clone)]
pub struct RpcChain {
    url: String,
    agent: ureq::Agent,
    chain_id: u64,
    keys: Vec<(Address, SigningKey)>,
    /// How long a sent transaction is waited for before [`ChainError::NoReceipt`].
    pub receipt_timeout: Duration,
    /// How often the receipt is asked for while waiting.
    pub poll: Duration,
}

fn u64_of(method: &'static str, v: U256) -> Result<u64, ChainError> {
    u64::try_from(v).map_err(|_| ChainError::BadAnswer {
        method,
        error: format!("{v} does not fit 64 bits"),
    })
}

impl RpcChain {
    /// Connects to the JSON-RPC endpoint at `url` (`http://…`) and reads its chain id, which
    /// every transaction signed here commits to. No key yet: see [`RpcChain::add_key`].
    pub fn connect(url: &str) -> Result<Self, ChainError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut chain = Self {
            url: url.trim_end_matches('/').to_string(),
            agent,
            chain_id: 0,
            keys: Vec::new(),
            receipt_timeout: Duration::from_secs(120),
            poll: Duration::from_millis(100),
        };
        let id = chain.request("eth_chainId", json!([]))?;
        chain.chain_id = quantity("eth_chainId", &id)?;
        Ok(chain)
    }

    /// Adds a signing key; returns its address (the `from` of its transactions).
    pub fn add_key(&mut self, key: SigningKey) -> Address {
        let address = address_of(&key);
        if !self.keys.iter().any(|(a, _)| *a == address) {
            self.keys.push((address, key));
        }
        address
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chain id the endpoint reported at [`RpcChain::connect`].
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The latest block's number.
    pub fn block_number(&mut self) -> Result<u64, ChainError> {
        let n = self.request("eth_blockNumber", json!([]))?;
        quantity("eth_blockNumber", &n)
    }

    /// Sets an account's balance with `anvil_setBalance` (Hardhat has it too): the local
    /// chain's faucet. Any other chain answers with an error.
    pub fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), ChainError> {
        self.request(
            "anvil_setBalance",
            json!([who.to_string(), format!("{wei:#x}")]),
        )?;
        Ok(())
    }

    /// One JSON-RPC call: `Ok(Err(_))` is the endpoint's error answer.
    fn call_raw(
        &mut self,
        method: &'static str,
        params: Value,
    ) -> Result<Result<Value, RpcError>, ChainError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let unreachable = |e: String| ChainError::Unreachable {
            url: self.url.clone(),
            error: e,
        };
        let mut res = self
            .agent
            .post(&self.url)
            .send_json(&body)
            .map_err(|e| unreachable(e.to_string()))?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .read_to_string()
            .map_err(|e| unreachable(e.to_string()))?;
        let v: Value = serde_json::from_str(&text).map_err(|_| ChainError::BadAnswer {
            method,
            error: format!(
                "HTTP {status}, not JSON-RPC: {}",
                text.chars().take(200).collect::<String>()
            ),
        })?;
        if let Some(e) = v.get("error") {
            let e: RpcError =
                serde_json::from_value(e.clone()).map_err(|e| ChainError::BadAnswer {
                    method,
                    error: format!("malformed error object: {e}"),
                })?;
            return Ok(Err(e));
        }
        match v.get("result") {
            Some(r) => Ok(Ok(r.clone())),
            None => Err(ChainError::BadAnswer {
                method,
                error: format!(
                    "HTTP {status}, no result: {}",
                    text.chars().take(200).collect::<String>()
                ),
            }),
        }
    }

    /// One JSON-RPC call, `method` with `params` (a JSON array); the endpoint's error answer is
    /// [`ChainError::Rpc`]. For the methods this type has no wrapper for (e.g. anvil's
    /// `evm_mine`).
    pub fn request(&mut self, method: &'static str, params: Value) -> Result<Value, ChainError> {
        match self.call_raw(method, params)? {
            Ok(v) => Ok(v),
            Err(e) => Err(ChainError::Rpc {
                method,
                code: e.code,
                message: e.message,
            }),
        }
    }

    fn key(&self, from: Address) -> Result<&SigningKey, ChainError> {
        self.keys
            .iter()
            .find(|(a, _)| *a == from)
            .map(|(_, k)| k)
            .ok_or(ChainError::NoKey(from))
    }

    fn nonce(&mut self, from: Address, tag: &str) -> Result<u64, ChainError> {
        let n = self.request("eth_getTransactionCount", json!([from.to_string(), tag]))?;
        quantity("eth_getTransactionCount", &n)
    }

    /// `eth_call` of `call` at `block`; a revert is `Ok` with `success == false`.
    fn eth_call(&mut self, call: Value, block: Value) -> Result<Outcome, ChainError> {
        let data_len = call
            .get("data")
            .and_then(Value::as_str)
            .map_or(0, |s| s.len().saturating_sub(2) / 2);
        let intrinsic = 21_000 + 16 * data_len as u64; // a bound: a view pays no gas
        match self.call_raw("eth_call", json!([call, block]))? {
            Ok(v) => Ok(view_outcome(true, hex_bytes("eth_call", &v)?, intrinsic)),
            Err(e) => match e.revert_data() {
                Some(data) => Ok(view_outcome(false, data, intrinsic)),
                None => Err(ChainError::Rpc {
                    method: "eth_call",
                    code: e.code,
                    message: e.message,
                }),
            },
        }
    }

    /// Estimates, signs, sends and waits for one transaction. A revert at estimation is
    /// returned as such, and nothing is sent.
    fn transact(
        &mut self,
        from: Address,
        to: TxKind,
        data: Vec<u8>,
        value: U256,
    ) -> Result<(Outcome, Receipt), Result<Outcome, ChainError>> {
        let key = self.key(from).map_err(Err)?.clone();
        let mut call = json!({
            "from": from.to_string(),
            "value": format!("{value:#x}"),
            "data": to_hex(&data),
        });
        if let TxKind::Call(to) = to {
            call["to"] = json!(to.to_string());
        }
        let intrinsic = intrinsic_gas(&data);
        let estimate = match self
            .call_raw("eth_estimateGas", json!([call.clone()]))
            .map_err(Err)?
        {
            Ok(v) => quantity("eth_estimateGas", &v).map_err(Err)?,
            Err(e) => {
                return Err(match e.revert_data() {
                    Some(revert) => Ok(view_outcome(false, revert, intrinsic)),
                    None => Err(ChainError::Rpc {
                        method: "eth_estimateGas",
                        code: e.code,
                        message: e.message,
                    }),
                })
            }
        };
        let block = self
            .request("eth_getBlockByNumber", json!(["latest", false]))
            .map_err(Err)?;
        let base_fee = match &block["baseFeePerGas"] {
            Value::Null => 0, // a chain without EIP-1559's base fee
            f => u128::from(quantity("eth_getBlockByNumber", f).map_err(Err)?),
        };
        // The endpoint's suggestion, or 1 gwei where it has none.
        let tip = self
            .request("eth_maxPriorityFeePerGas", json!([]))
            .ok()
            .and_then(|t| quantity("eth_maxPriorityFeePerGas", &t).ok())
            .map_or(1_000_000_000, u128::from);
        let nonce = self.nonce(from, "pending").map_err(Err)?;
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit: estimate + estimate / 4,
            max_fee_per_gas: 2 * base_fee + tip,
            max_priority_fee_per_gas: tip,
            to,
            value,
            input: data.into(),
            ..Default::default()
        };
        let (sig, recid) = key
            .sign_prehash_recoverable(tx.signature_hash().as_slice())
            .map_err(|e| Err(ChainError::Refused(format!("signing: {e}"))))?;
        let signed = tx.into_signed((sig, recid).into());
        let hash = *signed.hash();
        let raw = to_hex(&signed.encoded_2718());
        tracing::debug!(%hash, %from, nonce, gas = estimate, "sending a transaction");
        match self
            .call_raw("eth_sendRawTransaction", json!([raw]))
            .map_err(Err)?
        {
            Ok(_) => {}
            // The same transaction is already in the pool: wait for it.
            Err(e) if e.message.contains("already known") => {}
            Err(e) => {
                return Err(Err(ChainError::Rpc {
                    method: "eth_sendRawTransaction",
                    code: e.code,
                    message: e.message,
                }))
            }
        }
        let receipt = self.wait_receipt(hash).map_err(Err)?;
        let gas_used = receipt.gas_used;
        let success = receipt.success;
        let output = if success {
            Vec::new()
        } else {
            // Mined but reverted (the state moved between estimate and block): the reason is
            // the call replayed on the state before its block.
            let before = format!("{:#x}", receipt.block_number.saturating_sub(1));
            self.eth_call(call, json!(before))
                .map(|o| if o.success { Vec::new() } else { o.output })
                .unwrap_or_default()
        };
        let outcome = Outcome {
            success,
            output,
            logs: Vec::new(),
            gas_used,
            gas_refunded: 0,
            intrinsic_gas: intrinsic,
            execution_gas: gas_used.saturating_sub(intrinsic),
        };
        Ok((outcome, receipt))
    }

    fn wait_receipt(&mut self, hash: B256) -> Result<Receipt, ChainError> {
        let t = Instant::now();
        loop {
            let r = self.request("eth_getTransactionReceipt", json!([hash.to_string()]))?;
            if !r.is_null() {
                return Receipt::parse(&r);
            }
            if t.elapsed() >= self.receipt_timeout {
                return Err(ChainError::NoReceipt {
                    hash: hash.to_string(),
                    waited_s: t.elapsed().as_secs(),
                });
            }
            std::thread::sleep(self.poll);
        }
    }
}

fn view_outcome(success: bool, output: Vec<u8>, intrinsic: u64) -> Outcome {
    Outcome {
        success,
        output,
        logs: Vec::new(),
        gas_used: 0,
        gas_refunded: 0,
        intrinsic_gas: intrinsic,
        execution_gas: 0,
    }
}

impl EvmChain for RpcChain {
    fn deploy(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, ChainError> {
        match self.transact(from, TxKind::Create, init_code, U256::ZERO) {
            Ok((o, r)) if o.success => r.contract_address.ok_or_else(|| ChainError::BadAnswer {
                method: "eth_getTransactionReceipt",
                error: "a creation's receipt without a contract address".into(),
            }),
            Ok((o, _)) | Err(Ok(o)) => Err(ChainError::DeployFailed(format!(
                "the creation reverted: 0x{}",
                hex::encode(o.output)
            ))),
            Err(Err(e)) => Err(e),
        }
    }

    fn send(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Outcome, ChainError> {
        match self.transact(from, TxKind::Call(to), data, value) {
            Ok((mut o, r)) => {
                if o.success {
                    o.logs = r.logs;
                }
                Ok(o)
            }
            Err(r) => r,
        }
    }

    fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Outcome, ChainError> {
        self.eth_call(
            json!({"to": to.to_string(), "data": to_hex(&data)}),
            json!("latest"),
        )
    }

    fn balance_of(&mut self, who: Address) -> Result<U256, ChainError> {
        let b = self.request("eth_getBalance", json!([who.to_string(), "latest"]))?;
        hex_value("eth_getBalance", &b)
    }

    fn code_len(&mut self, who: Address) -> Result<usize, ChainError> {
        let code = self.request("eth_getCode", json!([who.to_string(), "latest"]))?;
        Ok(hex_bytes("eth_getCode", &code)?.len())
    }

    fn logs(&mut self, address: Address) -> Result<Vec<Log>, ChainError> {
        let logs = self.request(
            "eth_getLogs",
            json!([{"address": address.to_string(), "fromBlock": "earliest", "toBlock": "latest"}]),
        )?;
        logs.as_array()
            .ok_or_else(|| bad("eth_getLogs", "not a list"))?
            .iter()
            .map(|l| log_of("eth_getLogs", l))
            .collect()
    }

    fn in_flight(&mut self, from: Address) -> Result<u64, ChainError> {
        let pending = self.nonce(from, "pending")?;
        let latest = self.nonce(from, "latest")?;
        Ok(pending.saturating_sub(latest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anvil_dev_key_is_the_well_known_first_account() {
        let k = parse_private_key(ANVIL_DEV_KEY).unwrap();
        assert_eq!(
            address_of(&k).to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(parse_private_key("0x12").unwrap_err(), KeyError::NotHex);
        assert_eq!(
            parse_private_key(&"0".repeat(64)).unwrap_err(),
            KeyError::OutOfRange
        );
        assert_eq!(
            parse_private_key(&"f".repeat(64)).unwrap_err(),
            KeyError::OutOfRange
        );
    }

    #[test]
    fn an_unreachable_endpoint_is_a_clear_error() {
        // Port 9 (discard) on loopback: nothing listens there in the tests' sandbox.
        let e = RpcChain::connect("http://127.0.0.1:9").err().unwrap();
        assert!(matches!(e, ChainError::Unreachable { .. }), "{e}");
    }
}
