//! zkr as an optimistic rollup on an EVM chain: `contracts/OptimisticRollup.sol` and the
//! one-step executor it disputes batches with, `contracts/StepExecutor.sol` — the Solidity twins
//! of [`zkr_verifier::optimistic::OptimisticL1`] and [`zkr_circuits::step`].
//!
//! A batch goes on chain as an [`EvmOptimisticBatch`] (converted from the Rust L1's
//! [`OptimisticSubmission`], so both L1s post the same batch): `postBatch` with a bond, then
//! either `challenge` with a one-step fraud proof (a [`zkr_circuits::step::Fraud`] found by
//! [`zkr_circuits::step::find_fraud`]) while the window is open, or `finalizeBatch` after it.
//! Refusals decode into [`OptimisticRejection`] (the contracts' custom errors by name, read from
//! their ABIs).

use crate::artifacts::{
    Artifact, ArtifactError, OPTIMISTIC_ROLLUP, POSEIDON_T5, POSEIDON_T6, STEP_EXECUTOR,
};
use crate::chain::{ChainError, EvmChain, Outcome};
use crate::rollup::{deposit_hint, field_word, fr_from_word, selector, EncodeError};
use crate::Chain;
use ark_ed_on_bn254::EdwardsAffine;
use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;
use revm::primitives::{keccak256, Address, U256};
use std::collections::BTreeMap;
use zkr_circuits::eddsa::{PublicKey, Signature, SignatureWitness};
use zkr_circuits::field::fr_from_decimal;
use zkr_circuits::state::State;
use zkr_circuits::step::{LeafProof, PostedSteps, StepIndex, StepWitness};
use zkr_circuits::tx::{decode_public_data, L1Address, SLOT_BYTES};
use zkr_circuits::Fr;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_verifier::optimistic::OptimisticSubmission;

/// One ABI-encoded argument: the shapes the optimistic rollup's functions take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abi {
    /// A static word (`uint*`, `address`, `bytes32`).
    Word(U256),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `uint256[]`.
    Words(Vec<U256>),
    /// A fixed-size array of words (`uint256[N]`), static.
    Array(Vec<U256>),
    /// A struct (tuple) with at least one dynamic member.
    Tuple(Vec<Abi>),
}

impl Abi {
    fn is_dynamic(&self) -> bool {
        matches!(self, Abi::Bytes(_) | Abi::Words(_) | Abi::Tuple(_))
    }

    /// The encoding of a static item (its head) or of a dynamic one (its tail).
    fn encode(&self) -> Vec<u8> {
        match self {
            Abi::Word(w) => w.to_be_bytes::<32>().to_vec(),
            Abi::Array(ws) => ws.iter().flat_map(|w| w.to_be_bytes::<32>()).collect(),
            Abi::Bytes(b) => {
                let mut out = U256::from(b.len()).to_be_bytes::<32>().to_vec();
                out.extend_from_slice(b);
                out.resize(out.len() + (32 - b.len() % 32) % 32, 0);
                out
            }
            Abi::Words(ws) => {
                let mut out = U256::from(ws.len()).to_be_bytes::<32>().to_vec();
                out.extend(ws.iter().flat_map(|w| w.to_be_bytes::<32>()));
                out
            }
            Abi::Tuple(items) => encode_args(items),
        }
    }

    fn head_len(&self) -> usize {
        match self {
            Abi::Array(ws) => 32 * ws.len(),
            _ => 32,
        }
    }
}

/// The ABI encoding of a sequence of arguments (heads, then the dynamic items' tails).
pub fn encode_args(items: &[Abi]) -> Vec<u8> {
    let head_len: usize = items.iter().map(Abi::head_len).sum();
    let mut head = Vec::with_capacity(head_len);
    let mut tail = Vec::new();
    for item in items {
        if item.is_dynamic() {
            head.extend_from_slice(&U256::from(head_len + tail.len()).to_be_bytes::<32>());
            tail.extend(item.encode());
        } else {
            head.extend(item.encode());
        }
    }
    head.extend(tail);
    head
}

/// Calldata: the selector of `signature`, then the encoded `items`.
pub fn abi_call(signature: &str, items: &[Abi]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    out.extend(encode_args(items));
    out
}

const POST_BATCH: &str = "postBatch(uint64,(uint256,uint256,bytes,bytes,uint256[]))";
const CHALLENGE: &str =
    "challenge(uint64,(uint256,uint256,bytes,bytes,uint256[]),uint256,uint256,uint256[])";
const FINALIZE_BATCH: &str = "finalizeBatch(uint64,uint256,bytes,bytes32)";
const FRAUD_PROVEN: &str = "FraudProven(uint64,uint256,uint8,address,uint64,uint256)";

/// A signature as the optimistic rollup posts it: `R.y | (R.x & 1) << 255`, then `S`.
pub fn signature_words(sig: &Signature) -> [U256; 2] {
    let mut r = field_word(&sig.r.y);
    if sig.r.x.into_bigint().is_odd() {
        r |= U256::from(1u8) << 255;
    }
    [r, field_word(&sig.s)]
}

/// The point a posted R encodes (`R.y | (R.x & 1) << 255`, as `BabyJubjub.decompress` reads
/// it): `(x, y)`, or `None` when no curve point has that encoding.
pub fn decompress(word: U256) -> Option<(Fr, Fr)> {
    let y = fr_from_word(word & ((U256::from(1u8) << 255) - U256::from(1u8)))?;
    let odd = word.bit(255);
    let (x, neg_x) = EdwardsAffine::get_xs_from_y_unchecked(y)?;
    [x, neg_x]
        .into_iter()
        .find(|x| x.into_bigint().is_odd() == odd)
        .map(|x| (x, y))
}

/// A leaf and its path in `StepExecutor`'s layout: pkX, pkY, balance, nonce, owner, then the
/// siblings level by level from the leaves up.
pub fn leaf_words(p: &LeafProof) -> Vec<U256> {
    let l = &p.leaf;
    let mut out: Vec<U256> = [l.pk_x, l.pk_y, l.balance, l.nonce, l.owner]
        .iter()
        .map(field_word)
        .collect();
    out.extend(p.path.siblings.iter().flatten().map(field_word));
    out
}

/// A step's witness in `StepExecutor`'s layout (a slot's: the sender's leaf and path, then the
/// receiver's; the fee step's: the operator's).
pub fn witness_words(w: &StepWitness) -> Vec<U256> {
    match w {
        StepWitness::Slot(s) => {
            let mut out = leaf_words(&s.sender);
            out.extend(leaf_words(&s.receiver));
            out
        }
        StepWitness::Fees(p) => leaf_words(p),
    }
}

/// A batch as `OptimisticRollup.postBatch` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmOptimisticBatch {
    /// Batch number.
    pub number: u64,
    /// Root before.
    pub old_root: U256,
    /// Root after the fee step.
    pub new_root: U256,
    /// The slots (121 bytes each).
    pub public_data: Vec<u8>,
    /// 64 bytes per transfer or withdrawal ([`signature_words`]), in slot order.
    pub signatures: Vec<u8>,
    /// The root after each slot.
    pub step_roots: Vec<U256>,
}

impl EvmOptimisticBatch {
    /// The EVM form of a submission to the Rust optimistic L1 (the same batch).
    pub fn from_submission(s: &OptimisticSubmission) -> Result<Self, EncodeError> {
        let root = |what: &'static str, v: &str| {
            fr_from_decimal(v)
                .map(|x| field_word(&x))
                .map_err(|_| EncodeError::NotAWord {
                    what,
                    value: zkr_circuits::field::quote(v),
                })
        };
        let mut signatures = Vec::new();
        for sig in s.signatures.iter().flatten() {
            for w in signature_words(sig) {
                signatures.extend_from_slice(&w.to_be_bytes::<32>());
            }
        }
        Ok(Self {
            number: s.number,
            old_root: root("old_root", &s.old_root)?,
            new_root: root("new_root", &s.new_root)?,
            public_data: hex::decode(&s.public_data)
                .map_err(|e| EncodeError::NotHex(e.to_string()))?,
            signatures,
            step_roots: s
                .step_roots
                .iter()
                .map(|r| root("step_roots", r))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The posted signature of slot `i` (the k-th signed slot's 64 bytes), if it has one.
    pub fn signature_of(&self, i: usize) -> Option<[U256; 2]> {
        let slots: Vec<&[u8]> = self.public_data.chunks(SLOT_BYTES).collect();
        // Transfers (type 1) and withdrawals (type 3) carry one.
        let signed = |s: &[u8]| matches!(s.first(), Some(1) | Some(3));
        if !signed(slots.get(i)?) {
            return None;
        }
        let k = slots[..i].iter().filter(|s| signed(s)).count();
        let at = 64 * k;
        let word = |o: usize| self.signatures.get(o..o + 32).map(U256::from_be_slice);
        Some([word(at)?, word(at + 32)?])
    }

    /// The steps as [`zkr_circuits::step::find_fraud`] reads them, from the posted data alone
    /// (each R decompressed natively; an encoding of no curve point becomes an R off the curve,
    /// which no signature check accepts). `None` when the data does not decode (no contract
    /// accepts such a batch).
    pub fn steps(&self) -> Option<PostedSteps> {
        let slots = decode_public_data(&self.public_data).ok()?;
        let signatures = (0..slots.len())
            .map(|i| {
                self.signature_of(i).map(|[r, s]| {
                    let (r_x, r_y) = decompress(r).unwrap_or((Fr::from(0u8), Fr::from(0u8)));
                    SignatureWitness {
                        r_x,
                        r_y,
                        s: BigUint::from_bytes_be(&s.to_be_bytes::<32>()),
                    }
                })
            })
            .collect();
        Some(PostedSteps {
            slots,
            signatures,
            step_roots: self
                .step_roots
                .iter()
                .map(|r| fr_from_word(*r))
                .collect::<Option<_>>()?,
            new_root: fr_from_word(self.new_root)?,
        })
    }

    fn tuple(&self) -> Abi {
        Abi::Tuple(vec![
            Abi::Word(self.old_root),
            Abi::Word(self.new_root),
            Abi::Bytes(self.public_data.clone()),
            Abi::Bytes(self.signatures.clone()),
            Abi::Words(self.step_roots.clone()),
        ])
    }

    /// `postBatch(number, batch)` calldata.
    pub fn post_calldata(&self) -> Vec<u8> {
        abi_call(
            POST_BATCH,
            &[Abi::Word(U256::from(self.number)), self.tuple()],
        )
    }

    /// `OptimisticRollup.disputeDataHash`: keccak256 of the old root, keccak256(signatures)
    /// and keccak256(step roots).
    pub fn dispute_hash(&self) -> U256 {
        let roots: Vec<u8> = self
            .step_roots
            .iter()
            .flat_map(|r| r.to_be_bytes::<32>())
            .collect();
        let mut pre = self.old_root.to_be_bytes::<32>().to_vec();
        pre.extend_from_slice(keccak256(&self.signatures).as_slice());
        pre.extend_from_slice(keccak256(&roots).as_slice());
        U256::from_be_slice(keccak256(&pre).as_slice())
    }

    /// `finalizeBatch(number, newRoot, publicData, disputeHash)` calldata.
    pub fn finalize_calldata(&self) -> Vec<u8> {
        abi_call(
            FINALIZE_BATCH,
            &[
                Abi::Word(U256::from(self.number)),
                Abi::Word(self.new_root),
                Abi::Bytes(self.public_data.clone()),
                Abi::Word(self.dispute_hash()),
            ],
        )
    }

    /// `challenge(number, batch, step, rXHint, witness)` calldata for a fraud proof at `step`
    /// with `witness` (the hint is the slot's signature's R.x, 0 for unsigned slots).
    pub fn challenge_calldata(&self, step: StepIndex, witness: &StepWitness) -> Vec<u8> {
        let (step, hint) = match step {
            StepIndex::Slot(i) => {
                let hint = self
                    .signature_of(i)
                    .and_then(|[r, _]| decompress(r))
                    .map_or(U256::ZERO, |(x, _)| field_word(&x));
                (i, hint)
            }
            StepIndex::Fees => (self.step_roots.len(), U256::ZERO),
        };
        abi_call(
            CHALLENGE,
            &[
                Abi::Word(U256::from(self.number)),
                self.tuple(),
                Abi::Word(U256::from(step)),
                Abi::Word(hint),
                Abi::Words(witness_words(witness)),
            ],
        )
    }
}

/// A refusal of the optimistic rollup or of its executor: one of their custom errors, by name,
/// with its arguments (every one of them takes static words). A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))]
pub struct OptimisticRejection {
    /// The error's name, e.g. `NoFraud`; `Unknown` for revert data that is none of them.
    pub name: String,
    /// Its arguments as words (for `Unknown`: empty).
    pub args: Vec<U256>,
    /// The raw revert data.
    pub data: Vec<u8>,
}

/// The custom errors of `OptimisticRollup` and `StepExecutor`: selector → (name, arguments),
/// read from their ABIs once.
fn known_errors() -> &'static BTreeMap<[u8; 4], (String, usize)> {
    static ERRORS: std::sync::OnceLock<BTreeMap<[u8; 4], (String, usize)>> =
        std::sync::OnceLock::new();
    ERRORS.get_or_init(|| {
        let mut out = BTreeMap::new();
        for artifact in [OPTIMISTIC_ROLLUP, STEP_EXECUTOR] {
            let Ok(a) = Artifact::parse(artifact) else {
                continue;
            };
            for e in a.abi.as_array().into_iter().flatten() {
                if e["type"] != "error" {
                    continue;
                }
                let name = e["name"].as_str().unwrap_or_default();
                let types: Vec<&str> = e["inputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["type"].as_str())
                    .collect();
                let sel = selector(&format!("{name}({})", types.join(",")));
                out.insert(sel, (name.to_string(), types.len()));
            }
        }
        out
    })
}

impl OptimisticRejection {
    /// Decodes revert data against the errors of `OptimisticRollup` and `StepExecutor`.
    pub fn decode(data: &[u8]) -> Self {
        let known = data
            .get(..4)
            .and_then(|sel| <[u8; 4]>::try_from(sel).ok())
            .and_then(|sel| known_errors().get(&sel))
            .and_then(|(name, arity)| {
                let args: Option<Vec<U256>> = (0..*arity)
                    .map(|i| data.get(4 + 32 * i..36 + 32 * i).map(U256::from_be_slice))
                    .collect();
                Some((name.clone(), args?))
            });
        let (name, args) = known.unwrap_or_else(|| ("Unknown".into(), Vec::new()));
        Self {
            name,
            args,
            data: data.to_vec(),
        }
    }
}

/// Anything that stops an optimistic rollup call, or the contract's refusal.
#[derive(Debug, thiserror::Error)]
pub enum EvmOptimisticError {
    /// The contract refused the call (it reverted; nothing changed).
    #[error("refused: {0}")]
    Rejected(#[from] OptimisticRejection),
    /// The EVM refused the transaction.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A committed artifact is unusable.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A view returned something that is not the expected word.
    #[error("{0} returned malformed data")]
    BadReturn(&'static str),
    /// A window or bond the contract cannot hold.
    #[error("{0}")]
    Config(String),
}

/// `FraudProven`: a challenge that showed a step wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudProvenEvent {
    /// The batch shown wrong.
    pub number: u64,
    /// The step (`batchSize` for the fee step).
    pub step: u64,
    /// `StepExecutor`'s code of the rule it breaks (0: it ends elsewhere than posted).
    pub violation: u8,
    /// Who showed it.
    pub challenger: Address,
    /// Batches reverted (this one and every later one).
    pub reverted: u64,
    /// Wei credited to the challenger.
    pub reward: U256,
}

impl FraudProvenEvent {
    /// The event among `outcome`'s logs, if any.
    pub fn find(outcome: &Outcome) -> Option<Self> {
        let topic = keccak256(FRAUD_PROVEN.as_bytes());
        let log = outcome
            .logs
            .iter()
            .find(|l| l.data.topics().first() == Some(&topic))?;
        let t = |i: usize| {
            log.data
                .topics()
                .get(i)
                .map(|t| U256::from_be_slice(t.as_slice()))
        };
        let data = log.data.data.as_ref();
        let w = |i: usize| data.get(32 * i..32 * (i + 1)).map(U256::from_be_slice);
        Some(Self {
            number: t(1)?.try_into().ok()?,
            step: w(0)?.try_into().ok()?,
            violation: w(1)?.try_into().ok()?,
            challenger: Address::from_slice(&t(2)?.to_be_bytes::<32>()[12..]),
            reverted: w(2)?.try_into().ok()?,
            reward: w(3)?,
        })
    }
}

/// The optimistic rollup on a chain (by default revm's in-memory [`Chain`]).
pub struct EvmOptimistic<C = Chain> {
    /// The chain.
    pub chain: C,
    /// `StepExecutor`.
    pub executor: Address,
    /// `OptimisticRollup`.
    pub rollup: Address,
    /// The deployer, and the operator's L1 address (account 0's owner).
    pub operator: Address,
    /// The bond of a batch, wei.
    pub bond: U256,
    /// The L2 genesis this deployment starts from (its chain id included).
    pub genesis: Genesis,
}

impl<C: EvmChain> EvmOptimistic<C> {
    /// Deploys PoseidonT5 and PoseidonT6, a `StepExecutor` for `params.depth` and the
    /// optimistic rollup for `params` at the genesis of `operator_key` (owner `operator`), with a
    /// challenge window of `window_s` seconds, a bond of `bond` wei a batch, and
    /// `priority_deadline_s` seconds (longer than the window) that a queued request may wait for
    /// a final batch before exodus mode can be switched on.
    pub fn deploy_on(
        mut chain: C,
        operator: Address,
        params: CircuitParams,
        operator_key: &PublicKey,
        window_s: u64,
        bond: U256,
        priority_deadline_s: u64,
    ) -> Result<Self, EvmOptimisticError> {
        if window_s == 0 || window_s > u32::MAX as u64 {
            return Err(EvmOptimisticError::Config(format!(
                "challenge window of {window_s} s is not in 1..2^32"
            )));
        }
        if priority_deadline_s <= window_s || priority_deadline_s > u32::MAX as u64 {
            return Err(EvmOptimisticError::Config(format!(
                "priority deadline of {priority_deadline_s} s is not longer than the window of {window_s} s (and below 2^32)"
            )));
        }
        if bond.is_zero() {
            return Err(EvmOptimisticError::Config(
                "a bond of 0 pays no challenger".into(),
            ));
        }
        let library = |chain: &mut C, artifact: &str| -> Result<Address, EvmOptimisticError> {
            let code = Artifact::parse(artifact)?.linked_bytecode(&BTreeMap::new())?;
            Ok(chain.deploy(operator, code)?)
        };
        let libs = BTreeMap::from([
            ("PoseidonT5", library(&mut chain, POSEIDON_T5)?),
            ("PoseidonT6", library(&mut chain, POSEIDON_T6)?),
        ]);
        let mut code = Artifact::parse(STEP_EXECUTOR)?.linked_bytecode(&libs)?;
        code.extend_from_slice(&U256::from(params.depth).to_be_bytes::<32>());
        let executor = chain.deploy(operator, code)?;

        let mut genesis = Genesis {
            chain_id: 0,
            operator: *operator_key,
            operator_l1: L1Address(operator.into_array()),
        };
        // The genesis root does not depend on the chain id (see `EvmRollup::deploy_on`).
        let genesis_root = State::genesis(params, &genesis).root();
        let mut code = Artifact::parse(OPTIMISTIC_ROLLUP)?.linked_bytecode(&libs)?;
        code.extend(encode_args(&[
            Abi::Word(U256::from_be_slice(executor.as_slice())),
            Abi::Word(U256::from(params.batch_size)),
            Abi::Word(field_word(&genesis_root)),
            Abi::Word(field_word(&operator_key.x())),
            Abi::Word(field_word(&operator_key.y())),
            Abi::Word(U256::from_be_slice(operator.as_slice())),
            Abi::Word(U256::from(window_s)),
            Abi::Word(bond),
            Abi::Word(U256::from(priority_deadline_s)),
        ]));
        let rollup = chain.deploy(operator, code)?;
        let mut me = Self {
            chain,
            executor,
            rollup,
            operator,
            bond,
            genesis,
        };
        genesis.chain_id = me
            .view_word("chainId()")?
            .try_into()
            .map_err(|_| EvmOptimisticError::BadReturn("chainId()"))?;
        me.genesis = genesis;
        Ok(me)
    }

    fn send(
        &mut self,
        from: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Outcome, EvmOptimisticError> {
        let outcome = self.chain.send(from, self.rollup, data, value)?;
        if !outcome.success {
            return Err(OptimisticRejection::decode(&outcome.output).into());
        }
        Ok(outcome)
    }

    /// `deposit` of `wei` from `from` for `pubkey` (with its subgroup hint).
    pub fn deposit(
        &mut self,
        from: Address,
        pubkey: &PublicKey,
        wei: U256,
    ) -> Result<Outcome, EvmOptimisticError> {
        let (hx, hy) = deposit_hint(&pubkey.point());
        let words = [pubkey.x(), pubkey.y(), hx, hy].map(|x| Abi::Word(field_word(&x)));
        self.send(
            from,
            abi_call("deposit(uint256,uint256,uint256,uint256)", &words),
            wei,
        )
    }

    /// `postBatch` from `from` with the bond.
    pub fn post_batch(
        &mut self,
        from: Address,
        b: &EvmOptimisticBatch,
    ) -> Result<Outcome, EvmOptimisticError> {
        let bond = self.bond;
        self.send(from, b.post_calldata(), bond)
    }

    /// `challenge` from `from`: a one-step fraud proof against `b` at `step` with `witness`.
    pub fn challenge(
        &mut self,
        from: Address,
        b: &EvmOptimisticBatch,
        step: StepIndex,
        witness: &StepWitness,
    ) -> Result<(Outcome, FraudProvenEvent), EvmOptimisticError> {
        let outcome = self.send(from, b.challenge_calldata(step, witness), U256::ZERO)?;
        let event = FraudProvenEvent::find(&outcome)
            .ok_or(EvmOptimisticError::BadReturn("challenge (no FraudProven)"))?;
        Ok((outcome, event))
    }

    /// `finalizeBatch` of `b` from `from`.
    pub fn finalize(
        &mut self,
        from: Address,
        b: &EvmOptimisticBatch,
    ) -> Result<Outcome, EvmOptimisticError> {
        self.send(from, b.finalize_calldata(), U256::ZERO)
    }

    /// `claim()` from `who`.
    pub fn claim(&mut self, who: Address) -> Result<Outcome, EvmOptimisticError> {
        self.send(who, abi_call("claim()", &[]), U256::ZERO)
    }

    /// `requestFullExit(account)` from `from`.
    pub fn request_full_exit(
        &mut self,
        from: Address,
        account: u64,
    ) -> Result<Outcome, EvmOptimisticError> {
        let data = abi_call("requestFullExit(uint64)", &[Abi::Word(U256::from(account))]);
        self.send(from, data, U256::ZERO)
    }

    /// `activateExodus()` from `from`.
    pub fn activate_exodus(&mut self, from: Address) -> Result<Outcome, EvmOptimisticError> {
        self.send(from, abi_call("activateExodus()", &[]), U256::ZERO)
    }

    /// `refundDeposits(count)` from `from`.
    pub fn refund_deposits(
        &mut self,
        from: Address,
        count: u64,
    ) -> Result<Outcome, EvmOptimisticError> {
        let data = abi_call("refundDeposits(uint64)", &[Abi::Word(U256::from(count))]);
        self.send(from, data, U256::ZERO)
    }

    /// `exodusWithdraw(...)` from `from`: account `index` with `leaf`'s fields and its path's
    /// `siblings` (per level, leaf level first) under the final root.
    pub fn exodus_withdraw(
        &mut self,
        from: Address,
        index: u64,
        leaf: &zkr_circuits::account::AccountLeaf,
        siblings: &[Vec<Fr>],
    ) -> Result<Outcome, EvmOptimisticError> {
        let mut args: Vec<Abi> = [leaf.pk_x, leaf.pk_y, leaf.balance, leaf.nonce, leaf.owner]
            .iter()
            .map(|x| Abi::Word(field_word(x)))
            .collect();
        args.insert(0, Abi::Word(U256::from(index)));
        args.push(Abi::Words(
            siblings.iter().flatten().map(field_word).collect(),
        ));
        let data = abi_call(
            "exodusWithdraw(uint64,uint256,uint256,uint64,uint32,address,uint256[])",
            &args,
        );
        self.send(from, data, U256::ZERO)
    }

    /// A view of the rollup returning one word.
    pub fn view_word(&mut self, signature: &'static str) -> Result<U256, EvmOptimisticError> {
        self.view_with(signature, &[])
    }

    fn view_with(
        &mut self,
        signature: &'static str,
        args: &[Abi],
    ) -> Result<U256, EvmOptimisticError> {
        let out = self.chain.view(self.rollup, abi_call(signature, args))?;
        if !out.success {
            return Err(OptimisticRejection::decode(&out.output).into());
        }
        out.output
            .get(..32)
            .map(U256::from_be_slice)
            .ok_or(EvmOptimisticError::BadReturn(signature))
    }

    /// `withdrawable(who)`: wei `who` can claim.
    pub fn withdrawable(&mut self, who: Address) -> Result<U256, EvmOptimisticError> {
        self.view_with(
            "withdrawable(address)",
            &[Abi::Word(U256::from_be_slice(who.as_slice()))],
        )
    }

    /// `headRoot()`: the root after the last posted batch.
    pub fn head_root(&mut self) -> Result<U256, EvmOptimisticError> {
        self.view_word("headRoot()")
    }

    /// `finalRoot()`: the root after the last final batch.
    pub fn final_root(&mut self) -> Result<U256, EvmOptimisticError> {
        self.view_word("finalRoot()")
    }

    /// `batchCount()` and `finalCount()`.
    pub fn counts(&mut self) -> Result<(u64, u64), EvmOptimisticError> {
        let small = |v: U256, what| {
            v.try_into()
                .map_err(|_| EvmOptimisticError::BadReturn(what))
        };
        let posted = small(self.view_word("batchCount()")?, "batchCount()")?;
        let fin = small(self.view_word("finalCount()")?, "finalCount()")?;
        Ok((posted, fin))
    }
}

impl EvmOptimistic<Chain> {
    /// Deploys on a fresh in-memory chain (see [`EvmOptimistic::deploy_on`]).
    pub fn deploy(
        operator: Address,
        params: CircuitParams,
        operator_key: &PublicKey,
        window_s: u64,
        bond: U256,
        priority_deadline_s: u64,
    ) -> Result<Self, EvmOptimisticError> {
        Self::deploy_on(
            Chain::new(),
            operator,
            params,
            operator_key,
            window_s,
            bond,
            priority_deadline_s,
        )
    }
}
