//! The wallet: keys in a JSON file, and the commands that use them against a running node
//! (`zkr node`) and L1 (`zkr l1`).
//!
//! Wallet file (`--wallet`, default `zkr-wallet.json`):
//! `{"keys": [{"name": "alice", "secret_key": "<64 hex>", "l1_address": "0x<40 hex>",
//! "l1_secret_key": "<64 hex>"}]}`. The secret key is a 32-byte seed (see
//! `zkr_circuits::eddsa::SecretKey`), the L2 key; `l1_secret_key` is a secp256k1 private key
//! whose address is `l1_address`, the key's L1 account on an EVM chain (it pays deposits and
//! claims withdrawals there). Wallets made before the EVM L1 have no `l1_secret_key`: their
//! `l1_address` is random, fine for the Rust L1, and on an EVM chain they pay with `--l1-key`.
//! The file is written with mode 0600. Every command prints one JSON object on stdout.
//!
//! | command | does |
//! |---|---|
//! | `zkr wallet new --name N` | a new key and L1 address |
//! | `zkr wallet list` | names, public keys, L1 addresses |
//! | `zkr deposit --name N --amount A [--mint]` | queues an L1 deposit to N's key (`--mint`: first mint A on the local L1) |
//! | `zkr deposit … --l1-rpc URL --rollup ADDR [--l1-key HEX]` | the same as a `deposit` transaction to the rollup contract on an EVM chain, paid by N's L1 key (or `--l1-key`); A units of 1 gwei (`--mint`: anvil's `anvil_setBalance` first credits A gwei and 1 ETH for gas) |
//! | `zkr claim --name N --l1-rpc URL --rollup ADDR [--l1-key HEX]` | sends everything the rollup credited to N's L1 address (or `--l1-key`'s) there |
//! | `zkr full-exit --name N [--index I] [--l1 URL \| --l1-rpc URL --rollup ADDR]` | queues on L1 a full exit of N's account: the operator must include it in queue order; the whole balance goes to N's L1 address if it owns the account (its deposit opened it) |
//! | `zkr exodus [--l1 URL \| --l1-rpc URL --rollup ADDR (--name N \| --l1-key HEX)]` | switches the L1 to exodus mode, once the oldest queued request is past its deadline; on the contract, then refunds the queued deposits to their payers |
//! | `zkr exit --name N [--index I] [--l1 URL \| --l1-rpc URL --rollup ADDR]` | in exodus mode, rebuilds the state from the L1's data and withdraws N's account to its owner with a Merkle proof (on the contract, and claims it when N's L1 key owns the account) |
//! | `zkr transfer --name N --to T --amount A [--fee F] [--wait]` | signs and submits a transfer (`T`: account index or wallet name) |
//! | `zkr withdraw --name N --amount A [--fee F] [--to 0x…] [--wait]` | signs and submits a withdrawal (default: N's L1 address) |
//! | `zkr account (--index I \| --name N)` | balance, nonce, next nonce, spendable |
//! | `zkr tx HASH [--wait]` | the transaction's status: pending, included, proven, final, rejected |
//!
//! `--wait` polls until the transaction is final or rejected; a rejected transaction exits 1.

use crate::node::client::JsonClient;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zkr_circuits::eddsa::{PublicKey, SecretKey};
use zkr_circuits::tx::{L1Address, Transfer, Tx, Withdraw};
use zkr_l1_evm::rollup::{RollupEvent, UNIT_WEI};
use zkr_l1_evm::rpc::{address_of, parse_private_key, RpcChain};
use zkr_l1_evm::{Address, EvmChain, EvmRollup, U256};

/// The L2 public key and the L1 address of the wallet's key `name` (the operator's, for
/// `zkr l1 --operator`: account 0's key and owner from genesis).
pub fn operator_of(wallet: &Path, name: &str) -> anyhow::Result<(PublicKey, L1Address)> {
    let w = Wallet::load(wallet)?;
    let (k, sk) = w.key(name)?;
    Ok((sk.public_key(), k.l1_address))
}

const DEFAULT_NODE: &str = "http://127.0.0.1:8546";
const DEFAULT_L1: &str = "http://127.0.0.1:8545";

/// One key of the wallet.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct WalletKey {
    /// A name for it.
    pub name: String,
    /// The secret seed, hex.
    pub secret_key: String,
    /// Where withdrawals go and deposits come from.
    pub l1_address: L1Address,
    /// The secp256k1 private key of `l1_address`, hex (absent in wallets made before the EVM
    /// L1, whose `l1_address` is random).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_secret_key: Option<String>,
}

/// The wallet file.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    /// Keys, in creation order.
    pub keys: Vec<WalletKey>,
}

impl Wallet {
    fn load(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            bail!(
                "no wallet at {} (create one with `zkr wallet new --wallet {} --name NAME`)",
                path.display(),
                path.display()
            );
        }
        super::util::read_json(path)
    }

    /// Writes the wallet atomically: a temporary file created with mode 0600, synced, renamed
    /// over the old one, and the directory synced (a key that already received a deposit must
    /// not be lost in a crash, nor be readable by others even briefly).
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(&serde_json::to_vec_pretty(self)?)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))?;
        Ok(())
    }

    fn key(&self, name: &str) -> anyhow::Result<(&WalletKey, SecretKey)> {
        let k = self
            .keys
            .iter()
            .find(|k| k.name == name)
            .with_context(|| format!("no key named `{name}` in the wallet"))?;
        let sk = SecretKey::from_hex(&k.secret_key)
            .map_err(|e| anyhow::anyhow!("key `{name}`: bad secret key: {e}"))?;
        Ok((k, sk))
    }
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut b = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .context("reading /dev/urandom")?;
    Ok(b)
}

fn print(v: &Value) -> ExitCode {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values print")
    );
    ExitCode::SUCCESS
}

/// Where the wallet file is.
#[derive(clap::Args)]
pub struct WalletFile {
    /// Wallet file.
    #[arg(long, default_value = "zkr-wallet.json")]
    wallet: PathBuf,
}

/// `zkr wallet …`.
#[derive(clap::Subcommand)]
pub enum WalletCommand {
    /// Create a key (EdDSA on Baby Jubjub) and an L1 address.
    New {
        #[command(flatten)]
        file: WalletFile,
        /// Name of the key.
        #[arg(long)]
        name: String,
    },
    /// List the keys.
    List {
        #[command(flatten)]
        file: WalletFile,
    },
}

/// Runs `zkr wallet …`.
pub fn run_wallet(c: WalletCommand) -> anyhow::Result<ExitCode> {
    match c {
        WalletCommand::New { file, name } => {
            let mut w = if file.wallet.exists() {
                Wallet::load(&file.wallet)?
            } else {
                Wallet::default()
            };
            if w.keys.iter().any(|k| k.name == name) {
                bail!("the wallet already has a key named `{name}`");
            }
            let sk = SecretKey::from_seed(random_bytes::<32>()?);
            // A uniformly random 32-byte string is a valid secp256k1 key but with probability
            // about 2^-128; draw again in that case.
            let l1_key = loop {
                if let Ok(k) = parse_private_key(&hex::encode(random_bytes::<32>()?)) {
                    break k;
                }
            };
            let key = WalletKey {
                name: name.clone(),
                secret_key: sk.to_hex(),
                l1_address: L1Address(address_of(&l1_key).into_array()),
                l1_secret_key: Some(hex::encode(l1_key.to_bytes())),
            };
            w.keys.push(key.clone());
            w.save(&file.wallet)?;
            Ok(print(&json!({
                "name": name,
                "pubkey": sk.public_key(),
                "l1_address": key.l1_address,
                "wallet": file.wallet,
            })))
        }
        WalletCommand::List { file } => {
            let w = Wallet::load(&file.wallet)?;
            let mut keys = Vec::new();
            for k in &w.keys {
                let (_, sk) = w.key(&k.name)?;
                keys.push(
                    json!({"name": k.name, "pubkey": sk.public_key(), "l1_address": k.l1_address}),
                );
            }
            Ok(print(&json!({ "keys": keys })))
        }
    }
}

/// Arguments of `zkr deposit`.
#[derive(clap::Args)]
pub struct DepositArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The key to credit on L2 (and whose L1 address pays).
    #[arg(long)]
    name: String,
    /// Amount.
    #[arg(long)]
    amount: u64,
    /// First mint the amount to the paying L1 address (the local L1's faucet; on an EVM chain,
    /// anvil's `anvil_setBalance`, with 1 ETH more for gas).
    #[arg(long)]
    mint: bool,
    /// L1 URL (the Rust L1, `zkr l1`).
    #[arg(long, default_value = DEFAULT_L1, conflicts_with = "l1_rpc")]
    l1: String,
    #[command(flatten)]
    evm: EvmOpts,
}

/// Where the rollup contract is, and who signs, for the commands that send L1 transactions on
/// an EVM chain.
#[derive(clap::Args)]
pub struct EvmOpts {
    /// JSON-RPC URL of the EVM chain (e.g. anvil's `http://127.0.0.1:8545`): send a real L1
    /// transaction to the rollup contract there.
    #[arg(long, requires = "rollup")]
    l1_rpc: Option<String>,
    /// The rollup contract's address (as `zkr l1 deploy` printed it).
    #[arg(long, requires = "l1_rpc")]
    rollup: Option<Address>,
    /// The L1 private key (hex) that signs and pays, instead of the wallet key's own
    /// (`l1_secret_key`).
    #[arg(long)]
    l1_key: Option<String>,
}

impl EvmOpts {
    /// The rollup on the chain, with the signing key of `--l1-key` or else of `k`; returns it
    /// and the signer's address.
    fn attach(
        &self,
        k: &WalletKey,
        mint_wei: Option<U256>,
    ) -> anyhow::Result<(EvmRollup<RpcChain>, Address)> {
        self.attach_as(Some(k), mint_wei)
    }

    /// [`EvmOpts::attach`] where the wallet key is optional (`--l1-key` is then required).
    fn attach_as(
        &self,
        k: Option<&WalletKey>,
        mint_wei: Option<U256>,
    ) -> anyhow::Result<(EvmRollup<RpcChain>, Address)> {
        let (Some(url), Some(rollup)) = (&self.l1_rpc, self.rollup) else {
            bail!("give --l1-rpc URL and --rollup ADDRESS");
        };
        let key = match (&self.l1_key, k) {
            (Some(h), _) => parse_private_key(h).context("--l1-key")?,
            (
                None,
                Some(WalletKey {
                    l1_secret_key: Some(h),
                    name,
                    ..
                }),
            ) => {
                parse_private_key(h).with_context(|| format!("key `{name}`: bad l1_secret_key"))?
            }
            (None, Some(k)) => bail!(
                "key `{}` has no L1 private key (a wallet made before the EVM L1): pass --l1-key",
                k.name
            ),
            (None, None) => bail!("an L1 transaction needs a signer: --name N or --l1-key HEX"),
        };
        let mut chain = RpcChain::connect(url).with_context(|| format!("connecting to {url}"))?;
        let who = chain.add_key(key);
        if let Some(wei) = mint_wei {
            let balance = chain.balance_of(who)?;
            chain.set_balance(who, balance + wei).with_context(|| {
                format!("--mint on {url} (anvil_setBalance: a local anvil chain only)")
            })?;
        }
        let r = EvmRollup::attach(chain, rollup, who)
            .with_context(|| format!("the rollup at {rollup} on {url}"))?;
        Ok((r, who))
    }
}

/// Gas money `--mint` adds on an EVM chain: 1 ETH.
const MINT_GAS_WEI: u128 = 1_000_000_000_000_000_000;

/// `zkr deposit --l1-rpc`: a `deposit` transaction to the rollup contract.
fn deposit_on_chain(a: &DepositArgs, k: &WalletKey, sk: &SecretKey) -> anyhow::Result<ExitCode> {
    let wei = U256::from(a.amount) * U256::from(UNIT_WEI);
    let mint = a.mint.then(|| wei + U256::from(MINT_GAS_WEI));
    let (mut r, payer) = a.evm.attach(k, mint)?;
    let acc = r.deposit(payer, &sk.public_key(), wei)?;
    let id = acc.events.iter().find_map(|e| match e {
        RollupEvent::DepositQueued { id, .. } => Some(*id),
        _ => None,
    });
    Ok(print(&json!({
        "deposit_id": id,
        "name": a.name,
        "amount": a.amount,
        "wei": wei.to_string(),
        "l1_address": payer.to_string(),
        "gas_used": acc.outcome.gas_used,
    })))
}

/// Runs `zkr deposit`.
pub fn run_deposit(a: DepositArgs) -> anyhow::Result<ExitCode> {
    let w = Wallet::load(&a.file.wallet)?;
    let (k, sk) = w.key(&a.name)?;
    if a.evm.l1_rpc.is_some() {
        return deposit_on_chain(&a, k, &sk);
    }
    let l1 = JsonClient::new(&a.l1);
    if a.mint {
        let _: Value = l1.post("/mint", &json!({"to": k.l1_address, "amount": a.amount}))?;
    }
    let r: Value = l1.post(
        "/deposit",
        &json!({"from": k.l1_address, "pubkey": sk.public_key(), "amount": a.amount}),
    )?;
    Ok(print(&json!({
        "deposit_id": r.get("id"),
        "name": a.name,
        "amount": a.amount,
        "l1_address": k.l1_address,
    })))
}

/// Arguments of `zkr claim`.
#[derive(clap::Args)]
pub struct ClaimArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The key whose L1 address claims (its `l1_secret_key` signs, unless `--l1-key`).
    #[arg(long)]
    name: String,
    #[command(flatten)]
    evm: EvmOpts,
}

/// Runs `zkr claim`: the withdrawals the rollup contract credited to an L1 address, sent to it.
pub fn run_claim(a: ClaimArgs) -> anyhow::Result<ExitCode> {
    if a.evm.l1_rpc.is_none() {
        bail!(
            "claiming is an L1 transaction on the rollup contract: give --l1-rpc URL and \
             --rollup ADDRESS (the Rust L1 credits withdrawals to L1 balances directly)"
        );
    }
    let w = Wallet::load(&a.file.wallet)?;
    let (k, _) = w.key(&a.name)?;
    let (mut r, who) = a.evm.attach(k, None)?;
    let owed = r.withdrawable(who)?;
    if owed.is_zero() {
        bail!("nothing to claim: the rollup owes {who} nothing (is the withdrawal final?)");
    }
    let acc = r.claim(who)?;
    let wei = acc
        .events
        .iter()
        .find_map(|e| match e {
            RollupEvent::Claimed { wei, .. } => Some(*wei),
            _ => None,
        })
        .unwrap_or(owed);
    let balance = r.chain.balance_of(who)?;
    Ok(print(&json!({
        "name": a.name,
        "l1_address": who.to_string(),
        "claimed_wei": wei.to_string(),
        "claimed": (wei / U256::from(UNIT_WEI)).to_string(),
        "l1_balance_wei": balance.to_string(),
        "gas_used": acc.outcome.gas_used,
    })))
}

/// Arguments of `zkr full-exit`.
#[derive(clap::Args)]
pub struct FullExitArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The key whose L1 address asks (it is paid if it owns the account: its deposit opened it).
    #[arg(long)]
    name: String,
    /// The L2 account to empty. Without it, the node is asked for the key's account (give it
    /// when the node does not answer: `zkr reconstruct` lists accounts from the L1 alone).
    #[arg(long)]
    index: Option<u64>,
    /// Node URL, to look up the account when `--index` is not given.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
    /// L1 URL (the Rust L1, `zkr l1`).
    #[arg(long, default_value = DEFAULT_L1, conflicts_with = "l1_rpc")]
    l1: String,
    #[command(flatten)]
    evm: EvmOpts,
}

/// Runs `zkr full-exit`: queues on L1 a request that the operator must include, in queue order,
/// paying the account's whole L2 balance to the key's L1 address if that address owns the
/// account. It needs nothing from the operator but the inclusion the L1 enforces.
pub fn run_full_exit(a: FullExitArgs) -> anyhow::Result<ExitCode> {
    let w = Wallet::load(&a.file.wallet)?;
    let (k, sk) = w.key(&a.name)?;
    let index = match a.index {
        Some(i) => i,
        None => {
            account_of(&JsonClient::new(&a.node), &sk)
                .context("looking up the account on the node (or give --index)")?
                .index
        }
    };
    if a.evm.l1_rpc.is_some() {
        let (mut r, who) = a.evm.attach(k, None)?;
        let acc = r.request_full_exit(who, index)?;
        let id = acc.events.iter().find_map(|e| match e {
            RollupEvent::FullExitQueued { id, .. } => Some(*id),
            _ => None,
        });
        return Ok(print(&json!({
            "request_id": id,
            "name": a.name,
            "account": index,
            "l1_address": who.to_string(),
            "gas_used": acc.outcome.gas_used,
        })));
    }
    let l1 = JsonClient::new(&a.l1);
    let r: Value = l1.post(
        "/full-exit",
        &json!({"requester": k.l1_address, "account": index}),
    )?;
    Ok(print(&json!({
        "request_id": r.get("id"),
        "name": a.name,
        "account": index,
        "l1_address": k.l1_address,
    })))
}

/// Arguments of `zkr exodus`.
#[derive(clap::Args)]
pub struct ExodusArgs {
    #[command(flatten)]
    file: WalletFile,
    /// On an EVM chain: the wallet key whose L1 key signs (or `--l1-key`). Anyone may.
    #[arg(long, requires = "l1_rpc")]
    name: Option<String>,
    /// L1 URL (the Rust L1, `zkr l1`).
    #[arg(long, default_value = DEFAULT_L1, conflicts_with = "l1_rpc")]
    l1: String,
    #[command(flatten)]
    evm: EvmOpts,
}

/// Requests `refundDeposits` takes off the queue per transaction.
const REFUNDS_PER_TX: u64 = 100;

/// Runs `zkr exodus`: asks the L1 to switch to exodus mode, which it does once the oldest
/// queued request waited past its deadline (anyone may ask). On the rollup contract it then
/// empties the queue (`refundDeposits`, 100 requests a transaction), crediting each queued
/// deposit back to its payer; already in exodus mode, it only finishes the refunds.
pub fn run_exodus(a: ExodusArgs) -> anyhow::Result<ExitCode> {
    if a.evm.l1_rpc.is_none() {
        let l1 = JsonClient::new(&a.l1);
        let r: Value = l1.post("/exodus", &json!({}))?;
        return Ok(print(&r));
    }
    let w;
    let key = match &a.name {
        Some(n) => {
            w = Wallet::load(&a.file.wallet)?;
            Some(w.key(n)?.0)
        }
        None => None,
    };
    let (mut r, who) = a.evm.attach_as(key, None)?;
    let mut gas = 0;
    let activated = if r.exodus()? {
        false
    } else {
        gas += r.activate_exodus(who)?.outcome.gas_used;
        true
    };
    let mut refunded = Vec::new();
    while r.pending_requests()? > 0 {
        let acc = r.refund_deposits(who, REFUNDS_PER_TX)?;
        gas += acc.outcome.gas_used;
        refunded.extend(acc.events.iter().filter_map(|e| match e {
            RollupEvent::DepositRefunded { id, to, amount } => {
                Some(json!({"id": id, "to": to.to_string(), "amount": amount}))
            }
            _ => None,
        }));
    }
    Ok(print(&json!({
        "exodus": true,
        "activated": activated,
        "state_root": r.state_root()?.to_string(),
        "refunded_deposits": refunded,
        "l1_address": who.to_string(),
        "gas_used": gas,
    })))
}

/// Arguments of `zkr exit`.
#[derive(clap::Args)]
pub struct ExitArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The key whose account is withdrawn (its balance goes to the account's owner).
    #[arg(long)]
    name: String,
    /// The account, if not the key's (found in the state rebuilt from the L1).
    #[arg(long)]
    index: Option<u64>,
    /// L1 URL (the Rust L1, `zkr l1`).
    #[arg(long, default_value = DEFAULT_L1, conflicts_with = "l1_rpc")]
    l1: String,
    /// On an EVM chain, the key's L1 key (or `--l1-key`) sends the withdrawal, and claims it
    /// when it is the account's owner.
    #[command(flatten)]
    evm: EvmOpts,
}

#[derive(Deserialize)]
struct GenesisView {
    chain_id: u64,
    operator: PublicKey,
    operator_l1: L1Address,
    params: zkr_circuits::CircuitParams,
}

/// Runs `zkr exit`: in exodus mode, rebuilds the L2 state from the L1's public data alone (as
/// `zkr reconstruct` does), and presents the account's leaf and Merkle path under the last
/// verified root; the L1 pays the balance to the account's owner, once.
pub fn run_exit(a: ExitArgs) -> anyhow::Result<ExitCode> {
    let w = Wallet::load(&a.file.wallet)?;
    let (k, sk) = w.key(&a.name)?;
    if a.evm.l1_rpc.is_some() {
        return exit_on_chain(&a, k, &sk);
    }
    let l1 = JsonClient::new(&a.l1);
    let g: GenesisView = l1.get("/genesis")?;
    let genesis = zkr_circuits::Genesis {
        chain_id: g.chain_id,
        operator: g.operator,
        operator_l1: g.operator_l1,
    };
    let batches: Vec<zkr_verifier::AcceptedBatch> = l1.get("/batches?from=1")?;
    let root: Value = l1.get("/root")?;
    let l1_root = root["state_root"]
        .as_str()
        .and_then(|s| zkr_circuits::field::fr_from_decimal(s).ok())
        .context("the L1's root is not a field element")?;
    let (state, r) = super::reconstruct::replay(g.params, &genesis, &batches, l1_root)?;
    if !r.matches_l1 {
        bail!("the L1's public data does not rebuild its root; refusing to build a proof");
    }
    let index = match a.index {
        Some(i) => i,
        None => state
            .index_of(&sk.public_key())
            .with_context(|| format!("key `{}` has no account in the L1's state", a.name))?,
    };
    let account = state
        .account(index)
        .with_context(|| format!("account {index} does not exist in the L1's state"))?;
    let proof = state.proof(index)?;
    let siblings: Vec<Vec<String>> = proof
        .siblings
        .iter()
        .map(|l| l.iter().map(zkr_circuits::field::fr_to_decimal).collect())
        .collect();
    let paid: Value = l1.post(
        "/exodus/withdraw",
        &json!({"index": index, "account": account, "siblings": siblings}),
    )?;
    Ok(print(&json!({
        "name": a.name,
        "index": index,
        "owner": paid["owner"],
        "amount": paid["amount"],
    })))
}

/// `zkr exit --l1-rpc`: the state rebuilt from the contract's `BatchAccepted` events alone, then
/// an `exodusWithdraw` transaction with the account's fields and path, then a `claim` when the
/// sender owns the account.
fn exit_on_chain(a: &ExitArgs, k: &WalletKey, sk: &SecretKey) -> anyhow::Result<ExitCode> {
    let (mut r, who) = a.evm.attach(k, None)?;
    if !r.exodus()? {
        bail!("the rollup is not in exodus mode (switch it with `zkr exodus` once a queued request is overdue)");
    }
    let (state, rec) = super::reconstruct::replay_contract(&mut r)?;
    if !rec.matches_l1 {
        bail!("the contract's public data does not rebuild its root; refusing to build a proof");
    }
    let index = match a.index {
        Some(i) => i,
        None => state
            .index_of(&sk.public_key())
            .with_context(|| format!("key `{}` has no account in the rollup's state", a.name))?,
    };
    let account = *state
        .account(index)
        .with_context(|| format!("account {index} does not exist in the rollup's state"))?;
    let proof = state.proof(index)?;
    let acc = r.exodus_withdraw(who, index, &account, &proof.siblings)?;
    let owner = zkr_l1_evm::rollup::evm_address(&account.owner);
    let mut out = json!({
        "name": a.name,
        "index": index,
        "owner": owner.to_string(),
        "amount": account.balance,
        "gas_used": acc.outcome.gas_used,
    });
    if owner == who && !r.withdrawable(who)?.is_zero() {
        let claim = r.claim(who)?;
        let wei = claim.events.iter().find_map(|e| match e {
            RollupEvent::Claimed { wei, .. } => Some(*wei),
            _ => None,
        });
        out["claimed_wei"] = json!(wei.map(|w| w.to_string()));
        out["claim_gas_used"] = json!(claim.outcome.gas_used);
    }
    Ok(print(&out))
}

/// Node URL and waiting options shared by the transaction commands.
#[derive(clap::Args)]
pub struct NodeOpts {
    /// Node URL.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
    /// Wait until the transaction is final on L1 (or rejected).
    #[arg(long)]
    wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_s: u64,
}

/// Arguments of `zkr transfer`.
#[derive(clap::Args)]
pub struct TransferArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The sending key.
    #[arg(long)]
    name: String,
    /// Receiver: an account index, or the name of a key in the wallet.
    #[arg(long)]
    to: String,
    /// Amount.
    #[arg(long)]
    amount: u64,
    /// Fee for the operator.
    #[arg(long, default_value_t = 0)]
    fee: u64,
    #[command(flatten)]
    node: NodeOpts,
}

/// Arguments of `zkr withdraw`.
#[derive(clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    file: WalletFile,
    /// The withdrawing key.
    #[arg(long)]
    name: String,
    /// Amount credited on L1.
    #[arg(long)]
    amount: u64,
    /// Fee for the operator.
    #[arg(long, default_value_t = 0)]
    fee: u64,
    /// L1 address to credit (default: the key's own).
    #[arg(long)]
    to: Option<L1Address>,
    #[command(flatten)]
    node: NodeOpts,
}

#[derive(Deserialize)]
struct AccountView {
    index: u64,
    next_nonce: u64,
}

#[derive(Deserialize)]
struct NodeStatus {
    /// The deployment's chain id, which every signature binds.
    chain_id: u64,
}

/// The node's path for the account of `sk`'s public key.
fn account_path(sk: &SecretKey) -> String {
    let pk = sk.public_key();
    format!(
        "/account/key/{}/{}",
        zkr_circuits::field::fr_to_decimal(&pk.x()),
        zkr_circuits::field::fr_to_decimal(&pk.y())
    )
}

fn account_of(node: &JsonClient, sk: &SecretKey) -> anyhow::Result<AccountView> {
    node.get(&account_path(sk))
        .context("this key has no L2 account yet (deposit first, and wait for the batch)")
}

fn nonce(v: &AccountView) -> anyhow::Result<u32> {
    u32::try_from(v.next_nonce)
        .map_err(|_| anyhow::anyhow!("account {} has used all its nonces", v.index))
}

fn submit(node: &NodeOpts, tx: Tx) -> anyhow::Result<ExitCode> {
    let client = JsonClient::new(&node.node);
    let r: Value = client.post("/tx", &tx)?;
    let hash = r["hash"]
        .as_str()
        .context("node answered without a hash")?
        .to_string();
    if !node.wait {
        return Ok(print(&r));
    }
    wait_for(&client, &hash, Duration::from_secs(node.timeout_s))
}

fn wait_for(client: &JsonClient, hash: &str, timeout: Duration) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    loop {
        let v: Value = client.get(&format!("/tx/{hash}"))?;
        match v["status"].as_str() {
            Some("final") => return Ok(print(&v)),
            Some("rejected") => {
                print(&v);
                return Ok(ExitCode::from(1));
            }
            _ if t.elapsed() > timeout => {
                bail!(
                    "transaction {hash} is still {} after {timeout:?}",
                    v["status"]
                )
            }
            _ => {
                let s: Value = client.get("/status")?;
                if let Some(why) = s["halted"].as_str() {
                    bail!(
                        "transaction {hash} is {} and the node has stopped: {why}",
                        v["status"]
                    );
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Runs `zkr transfer`.
pub fn run_transfer(a: TransferArgs) -> anyhow::Result<ExitCode> {
    let w = Wallet::load(&a.file.wallet)?;
    let (_, sk) = w.key(&a.name)?;
    let node = JsonClient::new(&a.node.node);
    let status: NodeStatus = node.get("/status")?;
    let from = account_of(&node, &sk)?;
    let to = match a.to.parse::<u64>() {
        Ok(i) => i,
        Err(_) => {
            let (_, to_sk) = w.key(&a.to)?;
            account_of(&node, &to_sk)
                .with_context(|| format!("receiver `{}`", a.to))?
                .index
        }
    };
    let t = Transfer::signed(
        &sk,
        status.chain_id,
        from.index,
        to,
        a.amount,
        a.fee,
        nonce(&from)?,
    );
    submit(&a.node, Tx::Transfer(t))
}

/// Runs `zkr withdraw`.
pub fn run_withdraw(a: WithdrawArgs) -> anyhow::Result<ExitCode> {
    let w = Wallet::load(&a.file.wallet)?;
    let (k, sk) = w.key(&a.name)?;
    let node = JsonClient::new(&a.node.node);
    let status: NodeStatus = node.get("/status")?;
    let from = account_of(&node, &sk)?;
    let t = Withdraw::signed(
        &sk,
        status.chain_id,
        from.index,
        a.amount,
        a.fee,
        nonce(&from)?,
        a.to.unwrap_or(k.l1_address),
    );
    submit(&a.node, Tx::Withdraw(t))
}

/// Arguments of `zkr account`.
#[derive(clap::Args)]
pub struct AccountArgs {
    /// Account index.
    #[arg(long, conflicts_with = "name")]
    index: Option<u64>,
    /// Or: the account of this wallet key.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    file: WalletFile,
    /// Node URL.
    #[arg(long, default_value = DEFAULT_NODE)]
    node: String,
}

/// Runs `zkr account`.
pub fn run_account(a: AccountArgs) -> anyhow::Result<ExitCode> {
    let node = JsonClient::new(&a.node);
    let v: Value = match (a.index, &a.name) {
        (Some(i), _) => node.get(&format!("/account/{i}"))?,
        (None, Some(name)) => {
            let w = Wallet::load(&a.file.wallet)?;
            let (_, sk) = w.key(name)?;
            node.get(&account_path(&sk))?
        }
        (None, None) => bail!("give --index or --name"),
    };
    Ok(print(&v))
}

/// Arguments of `zkr tx`.
#[derive(clap::Args)]
pub struct TxArgs {
    /// Transaction hash (0x + 64 hex digits), as `zkr transfer` printed it.
    hash: String,
    #[command(flatten)]
    node: NodeOpts,
}

/// Runs `zkr tx`.
pub fn run_tx(a: TxArgs) -> anyhow::Result<ExitCode> {
    let client = JsonClient::new(&a.node.node);
    if a.node.wait {
        return wait_for(&client, &a.hash, Duration::from_secs(a.node.timeout_s));
    }
    let v: Value = client.get(&format!("/tx/{}", a.hash))?;
    Ok(print(&v))
}
