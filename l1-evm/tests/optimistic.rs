//! The optimistic rollup on the EVM (`contracts/OptimisticRollup.sol`, `contracts/StepExecutor.sol`).
//!
//! - The executor is the twin of `zkr_circuits::step`: on valid slots of every type and on
//!   slots that break each rule (built as the circuit's soundness tests build them), both give
//!   the same verdict and root; a witness that is not genuine proves nothing on either.
//! - The rollup: honest batches are posted unexecuted, cannot be challenged (`NoFraud`), and
//!   become final — withdrawals credited, bonds returned — only after the window; a forged
//!   transfer and a lying root are shown wrong with one step each, reverting the batch and every
//!   later one (requests back to the queue), their bonds forfeited, half to the challenger; a false, late,
//!   malformed or mismatched challenge and every malformed post are refused with nothing changed.

use revm::primitives::{Address, U256};
use zkr_circuits::eddsa::{SecretKey, SignatureWitness};
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::step::{
    execute_fees, execute_slot, find_fraud, slot_step, LeafProof, StepIndex, StepOutcome,
    StepWitness, Violation,
};
use zkr_circuits::tx::{
    encode_public_data, Deposit, FullExit, L1Address, PriorityOp, SlotData, Transfer, Tx, Withdraw,
};
use zkr_circuits::witness::{BatchWitness, SlotTx};
use zkr_circuits::{CircuitParams, Fr, Genesis};
use zkr_l1_evm::optimistic::{
    abi_call, leaf_words, witness_words, Abi, EvmOptimistic, EvmOptimisticBatch,
    EvmOptimisticError, OptimisticRejection,
};
use zkr_l1_evm::rollup::{field_word, UNIT_WEI};
use zkr_l1_evm::Chain;
use zkr_verifier::optimistic::OptimisticSubmission;

const CHAIN: u64 = 0x5eed_c0de;
const DEPOSITOR: L1Address = L1Address([0xd0; 20]);
const OPERATOR: Address = Address::new([0x0b; 20]);
const WINDOW_S: u64 = 100;
/// How long a request may wait for a final batch before exodus mode can be switched on.
const DEADLINE_S: u64 = 250;

/// Depth 6: two 8-ary levels, so the executor's paths use `PoseidonT9`.
fn params() -> CircuitParams {
    CircuitParams::new(6, 3).unwrap()
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i + 1; 32])
}

fn genesis(chain_id: u64) -> Genesis {
    Genesis {
        chain_id,
        operator: key(0).public_key(),
        operator_l1: L1Address(OPERATOR.into_array()),
    }
}

/// Accounts 0..n funded with `balances` by deposit batches (paid by `DEPOSITOR`).
fn funded(g: &Genesis, balances: &[u64]) -> State {
    let queue: Vec<PriorityOp> = balances
        .iter()
        .enumerate()
        .map(|(i, &amount)| {
            PriorityOp::Deposit(Deposit {
                pubkey: key(i as u8).public_key(),
                amount,
                from: DEPOSITOR,
            })
        })
        .collect();
    let mut state = State::genesis(params(), g);
    for chunk in queue.chunks(params().batch_size) {
        let txs: Vec<Tx> = chunk.iter().map(PriorityOp::tx).collect();
        state = state.apply_batch(&txs, chunk).unwrap().state;
    }
    state
}

fn transfer(s: &State, from: u64, to: u64, amount: u64, fee: u64) -> Transfer {
    let nonce = s.account(from).unwrap().nonce;
    Transfer::signed(&key(from as u8), s.chain_id(), from, to, amount, fee, nonce)
}

fn build(s: &State, slots: Vec<SlotTx>) -> BatchWitness {
    let mut b = s.witness_builder();
    for t in slots {
        b.push(t).unwrap();
    }
    b.finish().unwrap().0
}

// ---------------------------------------------------------------- the executor, twin of step

/// The executor's verdict: `Ok((code, root))` or the name of the error it reverted with.
fn evm_slot(
    chain: &mut Chain,
    executor: Address,
    pre: Fr,
    slot: &SlotData,
    sig: Option<&SignatureWitness>,
    w: &[U256],
) -> Result<(u8, U256), String> {
    evm_slot_hint(chain, executor, pre, slot, sig, None, w)
}

/// As [`evm_slot`], with another R.x given as the hint than the signature's.
fn evm_slot_hint(
    chain: &mut Chain,
    executor: Address,
    pre: Fr,
    slot: &SlotData,
    sig: Option<&SignatureWitness>,
    hint: Option<Fr>,
    w: &[U256],
) -> Result<(u8, U256), String> {
    let sig = sig.cloned().unwrap_or_else(SignatureWitness::unused);
    let mut r = field_word(&sig.r_y);
    if ark_ff::BigInteger::is_odd(&ark_ff::PrimeField::into_bigint(sig.r_x)) {
        r |= U256::from(1u8) << 255;
    }
    let s = U256::from_be_slice(&sig.s.to_bytes_be());
    let data = abi_call(
        "executeSlot(uint64,uint256,bytes,uint256[3],uint256[])",
        &[
            Abi::Word(U256::from(CHAIN)),
            Abi::Word(field_word(&pre)),
            Abi::Bytes(slot.to_bytes().to_vec()),
            Abi::Array(vec![r, s, field_word(&hint.unwrap_or(sig.r_x))]),
            Abi::Words(w.to_vec()),
        ],
    );
    verdict(chain, executor, data)
}

fn evm_fees(
    chain: &mut Chain,
    executor: Address,
    pre: Fr,
    fees: u128,
    w: &[U256],
) -> Result<(u8, U256), String> {
    let data = abi_call(
        "executeFees(uint256,uint256,uint256[])",
        &[
            Abi::Word(field_word(&pre)),
            Abi::Word(U256::from(fees)),
            Abi::Words(w.to_vec()),
        ],
    );
    verdict(chain, executor, data)
}

fn verdict(chain: &mut Chain, executor: Address, data: Vec<u8>) -> Result<(u8, U256), String> {
    let out = chain.view(executor, data).unwrap();
    if !out.success {
        return Err(OptimisticRejection::decode(&out.output).name);
    }
    let code = U256::from_be_slice(&out.output[..32]);
    Ok((
        code.try_into().unwrap(),
        U256::from_be_slice(&out.output[32..64]),
    ))
}

/// `StepExecutor`'s code of a violation.
fn code(v: &Violation) -> u8 {
    match v {
        Violation::BadSignature => 1,
        Violation::NonceOverflow => 2,
        Violation::WrongExitAmount { .. } => 3,
        Violation::InsufficientBalance { .. } => 4,
        Violation::NoReceiver => 5,
        Violation::DepositKeyMismatch => 6,
        Violation::BalanceOverflow => 7,
    }
}

fn native(o: StepOutcome) -> (u8, U256) {
    match o {
        StepOutcome::Valid { post_root } => (0, field_word(&post_root)),
        StepOutcome::Invalid(v) => (code(&v), U256::ZERO),
    }
}

/// Runs every step of `w` on both twins, asserting they agree; returns the native verdicts.
fn both(chain: &mut Chain, executor: Address, w: &BatchWitness) -> Vec<(u8, U256)> {
    let mut root = w.old_root;
    let mut fees = 0u128;
    let mut out = Vec::new();
    for s in &w.slots {
        let (data, sig, step) = slot_step(s).unwrap();
        let words = witness_words(&StepWitness::Slot(step.clone()));
        let rust =
            native(execute_slot(&w.params, CHAIN, root, &data, sig.as_ref(), &step).unwrap());
        let evm = evm_slot(chain, executor, root, &data, sig.as_ref(), &words);
        assert_eq!(evm, Ok(rust), "slot {data:?}");
        out.push(rust);
        if rust.0 != 0 {
            return out;
        }
        root = zkr_l1_evm::rollup::fr_from_word(rust.1).unwrap();
        fees += data.fee as u128;
    }
    let op = LeafProof {
        leaf: w.operator.leaf,
        path: zkr_circuits::merkle::MerkleProof {
            index: 0,
            siblings: w.operator.path.siblings.clone(),
        },
    };
    let rust = native(execute_fees(&w.params, root, fees, &op).unwrap());
    assert_eq!(
        evm_fees(chain, executor, root, fees, &leaf_words(&op)),
        Ok(rust)
    );
    out.push(rust);
    out
}

fn executor() -> (Chain, Address) {
    let r = EvmOptimistic::deploy(
        OPERATOR,
        params(),
        &key(0).public_key(),
        WINDOW_S,
        U256::from(1u8),
        DEADLINE_S,
    )
    .unwrap();
    (r.chain, r.executor)
}

#[test]
fn the_executor_gives_the_native_steps_verdict_on_every_rule() {
    let (mut chain, ex) = executor();
    let g = genesis(CHAIN);
    // Accounts: 0 operator (10), 1 (100), 2 (100), 3 (u64::MAX - 5).
    let s = funded(&g, &[10, 100, 100, u64::MAX - 5]);
    let last = |v: Vec<(u8, U256)>| v.last().unwrap().0;

    // Valid slots of every type, then the fee step: every root equal.
    let w = build(
        &s,
        vec![
            SlotTx::transfer(&transfer(&s, 1, 2, 10, 3)),
            SlotTx::withdraw(&Withdraw::signed(&key(2), CHAIN, 2, 5, 1, 0, DEPOSITOR)),
            SlotTx::deposit(
                &Deposit {
                    pubkey: key(7).public_key(),
                    amount: 9,
                    from: DEPOSITOR,
                },
                7,
            ),
        ],
    );
    let v = both(&mut chain, ex, &w);
    assert!(v.iter().all(|(c, _)| *c == 0), "{v:?}");
    assert_eq!(v.last().unwrap().1, field_word(&w.public.new_root));
    let w = build(
        &s,
        vec![
            SlotTx::full_exit(
                &FullExit {
                    account: 1,
                    requester: DEPOSITOR,
                },
                100,
            ),
            SlotTx::full_exit(
                &FullExit {
                    account: 2,
                    requester: L1Address([0x66; 20]),
                },
                0,
            ),
            SlotTx::deposit(
                &Deposit {
                    pubkey: key(2).public_key(),
                    amount: 1,
                    from: DEPOSITOR,
                },
                2,
            ),
        ],
    );
    assert!(both(&mut chain, ex, &w).iter().all(|(c, _)| *c == 0));

    // One rule broken per batch: both twins name it (the code of the last step walked).
    let mut broken = |slots: Vec<SlotTx>| last(both(&mut chain, ex, &build(&s, slots)));
    let mut forged = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    forged.signature.s += 1u32;
    assert_eq!(broken(vec![forged]), 1);
    let other_key = Transfer::signed(&key(2), CHAIN, 1, 2, 10, 1, 0);
    assert_eq!(broken(vec![SlotTx::transfer(&other_key)]), 1);
    let other_chain = Transfer::signed(&key(1), CHAIN + 1, 1, 2, 10, 1, 0);
    assert_eq!(broken(vec![SlotTx::transfer(&other_chain)]), 1);
    let future_nonce = Transfer::signed(&key(1), CHAIN, 1, 2, 10, 1, 1);
    assert_eq!(broken(vec![SlotTx::transfer(&future_nonce)]), 1);
    let once = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    assert_eq!(broken(vec![once.clone(), once]), 1);
    let mut big_s = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    big_s.signature.s += num_bigint::BigUint::from(1u8) << 253;
    assert_eq!(broken(vec![big_s]), 1);
    let too_much = SlotTx::transfer(&transfer(&s, 1, 2, 100, 1));
    assert_eq!(broken(vec![too_much]), 4);
    let overflow = SlotTx::transfer(&transfer(&s, 1, 3, 10, 0));
    assert_eq!(broken(vec![overflow]), 7);
    let nobody = SlotTx::transfer(&transfer(&s, 1, 9, 10, 1));
    assert_eq!(broken(vec![nobody]), 5);
    let d = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    assert_eq!(broken(vec![SlotTx::deposit(&d, 2)]), 6);
    let thief = FullExit {
        account: 2,
        requester: L1Address([0x66; 20]),
    };
    assert_eq!(broken(vec![SlotTx::full_exit(&thief, 100)]), 3);
    let owner = FullExit {
        account: 1,
        requester: DEPOSITOR,
    };
    for short in [60, 0] {
        assert_eq!(broken(vec![SlotTx::full_exit(&owner, short)]), 3);
    }
    // The fee step: the operator's credit overflows (account 0 holds almost 2^64 units).
    let rich = funded(&g, &[u64::MAX - 5, 100]);
    let w = build(&rich, vec![SlotTx::transfer(&transfer(&rich, 1, 1, 10, 9))]);
    assert_eq!(last(both(&mut chain, ex, &w)), 7);
}

#[test]
fn a_witness_that_is_not_genuine_proves_nothing_on_the_evm() {
    let (mut chain, ex) = executor();
    let s = funded(&genesis(CHAIN), &[10, 100, 100]);
    let w = build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 2, 10, 1))]);
    let (data, sig, step) = slot_step(&w.slots[0]).unwrap();
    let words = witness_words(&StepWitness::Slot(step.clone()));
    let n = words.len() / 2;
    let run = |chain: &mut Chain, f: &dyn Fn(&mut Vec<U256>), root: Fr| {
        let mut w = words.clone();
        f(&mut w);
        evm_slot(chain, ex, root, &data, sig.as_ref(), &w)
    };
    let err = |name: &str| Err::<(u8, U256), String>(name.to_string());
    assert!(run(&mut chain, &|_| {}, w.old_root).is_ok());
    // A sibling changed, a balance changed, the receiver's path under the pre-root.
    assert_eq!(
        run(&mut chain, &|w| w[5] += U256::from(1u8), w.old_root),
        err("NotUnderRoot")
    );
    assert_eq!(
        run(&mut chain, &|w| w[2] += U256::from(1u8), w.old_root),
        err("NotUnderRoot")
    );
    assert_eq!(
        run(&mut chain, &|w| w[n + 7] += U256::from(1u8), w.old_root),
        err("NotUnderRoot")
    );
    // Another pre-root; a field out of range; a sibling not below r; the wrong length.
    assert_eq!(
        run(&mut chain, &|_| {}, w.public.new_root),
        err("NotUnderRoot")
    );
    assert_eq!(
        run(&mut chain, &|w| w[3] = U256::from(1u64 << 32), w.old_root),
        err("BadLeaf")
    );
    assert_eq!(
        run(&mut chain, &|w| w[5] = U256::MAX, w.old_root),
        err("WrongPath")
    );
    assert_eq!(
        run(
            &mut chain,
            &|w| {
                w.pop();
            },
            w.old_root
        ),
        err("WrongPath")
    );
    // An empty leaf with a balance: it hashes to 0 like the empty leaf, but is no leaf.
    let empty = build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 9, 10, 1))]);
    let (d9, s9, st9) = slot_step(&empty.slots[0]).unwrap();
    let mut w9 = witness_words(&StepWitness::Slot(st9));
    w9[n + 2] = U256::from(5u8);
    assert_eq!(
        evm_slot(&mut chain, ex, empty.old_root, &d9, s9.as_ref(), &w9),
        err("BadLeaf")
    );
    // The signature's R.x negated as the hint: a point with that y exists (the posted parity
    // names x), so the challenger is wrong, not the batch.
    let neg = -sig.as_ref().unwrap().r_x;
    assert_eq!(
        evm_slot_hint(
            &mut chain,
            ex,
            w.old_root,
            &data,
            sig.as_ref(),
            Some(neg),
            &words
        ),
        err("BadSignatureHint")
    );
}

// ---------------------------------------------------------------- the rollup

const BOND: u64 = 1_000_000_000_000_000; // 0.001 ETH
const POSTER: Address = Address::new([0x0b; 20]);
const WATCHER: Address = Address::new([0x77; 20]);
const USER_L1: Address = Address::new([0xd0; 20]);

fn rollup() -> EvmOptimistic {
    let mut r = EvmOptimistic::deploy(
        OPERATOR,
        params(),
        &key(0).public_key(),
        WINDOW_S,
        U256::from(BOND),
        DEADLINE_S,
    )
    .unwrap();
    r.chain.fund(POSTER, U256::from(BOND) * U256::from(100u8));
    r.chain
        .fund(USER_L1, U256::from(10_000u64) * U256::from(UNIT_WEI));
    r
}

fn wei(units: u64) -> U256 {
    U256::from(units) * U256::from(UNIT_WEI)
}

fn rejected(r: Result<impl std::fmt::Debug, EvmOptimisticError>) -> String {
    match r {
        Err(EvmOptimisticError::Rejected(j)) => j.name,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Deposits for keys 1 and 2 (1,000 units each), then posts the batch that consumes them.
fn onboard(r: &mut EvmOptimistic) -> (State, Vec<EvmOptimisticBatch>) {
    let mut queue = Vec::new();
    for i in 1..=2u8 {
        r.deposit(USER_L1, &key(i).public_key(), wei(1_000))
            .unwrap();
        queue.push(PriorityOp::Deposit(Deposit {
            pubkey: key(i).public_key(),
            amount: 1_000,
            from: L1Address(USER_L1.into_array()),
        }));
    }
    let state = State::genesis(params(), &r.genesis);
    let txs: Vec<Tx> = queue.iter().map(PriorityOp::tx).collect();
    let out = state.apply_batch(&txs, &queue).unwrap();
    let b = post(r, 1, &out, &txs);
    (out.state, vec![b])
}

fn post(r: &mut EvmOptimistic, number: u64, out: &BatchOutput, txs: &[Tx]) -> EvmOptimisticBatch {
    let sub = OptimisticSubmission::from_batch(number, out, txs).unwrap();
    let b = EvmOptimisticBatch::from_submission(&sub).unwrap();
    r.post_batch(POSTER, &b).unwrap();
    b
}

/// The submission of `w` as posted by an operator that checks no rule: the roots are computed
/// mechanically, slot by slot.
fn forged_batch(
    number: u64,
    s: &State,
    slots: Vec<SlotTx>,
    sigs: Vec<Option<zkr_circuits::eddsa::Signature>>,
    data: Vec<SlotData>,
) -> EvmOptimisticBatch {
    let mut b = s.witness_builder();
    let mut roots = Vec::new();
    for t in slots {
        b.push(t).unwrap();
        roots.push(b.root());
    }
    let (w, _) = b.finish().unwrap();
    use zkr_circuits::field::fr_to_decimal;
    EvmOptimisticBatch::from_submission(&OptimisticSubmission {
        number,
        old_root: fr_to_decimal(&w.old_root),
        new_root: fr_to_decimal(&w.public.new_root),
        public_data: hex::encode(encode_public_data(&data)),
        signatures: sigs,
        step_roots: roots.iter().map(fr_to_decimal).collect(),
    })
    .unwrap()
}

/// The witnesses of every step of an honest batch `out`, as a challenger would read them.
fn honest_steps(out: &BatchOutput) -> Vec<(StepIndex, StepWitness)> {
    let mut steps: Vec<(StepIndex, StepWitness)> = out
        .witness
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                StepIndex::Slot(i),
                StepWitness::Slot(slot_step(s).unwrap().2),
            )
        })
        .collect();
    steps.push((
        StepIndex::Fees,
        StepWitness::Fees(LeafProof {
            leaf: out.witness.operator.leaf,
            path: zkr_circuits::merkle::MerkleProof {
                index: 0,
                siblings: out.witness.operator.path.siblings.clone(),
            },
        }),
    ));
    steps
}

/// The public data of deposit `d` into account `to`.
fn deposit_slot(d: &Deposit, to: u64) -> SlotData {
    SlotData {
        tx_type: zkr_circuits::tx::TxType::Deposit,
        from: 0,
        to,
        amount: d.amount,
        fee: 0,
        aux_x: d.pubkey.x(),
        aux_y: d.pubkey.y(),
        requester: d.from.to_field(),
    }
}

/// The transfers and withdrawal of batch 2 (signed for `r`'s chain id).
fn batch_two(r: &EvmOptimistic) -> Vec<Tx> {
    let chain_id = r.genesis.chain_id;
    vec![
        Tx::Transfer(Transfer::signed(&key(1), chain_id, 1, 2, 100, 2, 0)),
        Tx::Withdraw(Withdraw::signed(
            &key(2),
            chain_id,
            2,
            50,
            1,
            0,
            L1Address([0xaa; 20]),
        )),
    ]
}

#[test]
fn honest_batches_finalize_after_the_window_and_only_then_pay() {
    let mut r = rollup();
    let (state, mut posted) = onboard(&mut r);
    let txs = batch_two(&r);
    let out = state.apply_batch(&txs, &[]).unwrap();
    let b2 = post(&mut r, 2, &out, &txs);
    posted.push(b2.clone());
    assert_eq!(r.head_root().unwrap(), field_word(&out.state.root()));
    assert_eq!(r.counts().unwrap(), (2, 0));

    // Every step of the honest batch holds: the watcher finds nothing, and no challenge of any
    // step succeeds.
    assert_eq!(find_fraud(&state, &b2.steps().unwrap()).unwrap(), None);
    for (step, w) in honest_steps(&out) {
        assert_eq!(
            rejected(r.challenge(WATCHER, &b2, step, &w)),
            "NoFraud",
            "{step:?}"
        );
    }

    // Not final before the window; final after it, in order.
    assert_eq!(rejected(r.finalize(WATCHER, &b2)), "NotNextToFinalize");
    assert_eq!(rejected(r.finalize(WATCHER, &posted[0])), "NotFinalYet");
    let to = Address::new([0xaa; 20]);
    assert_eq!(r.withdrawable(to).unwrap(), U256::ZERO);
    // The window's last second: still open (a challenge is judged), not final.
    r.chain.advance_time(WINDOW_S);
    assert_eq!(rejected(r.finalize(WATCHER, &posted[0])), "NotFinalYet");
    let (step, w) = honest_steps(&out).remove(0);
    assert_eq!(rejected(r.challenge(WATCHER, &b2, step, &w)), "NoFraud");
    // A second later the window is closed: a challenge is late, even of a batch not yet
    // finalized.
    r.chain.advance_time(1);
    assert_eq!(
        rejected(r.challenge(WATCHER, &b2, step, &w)),
        "WindowClosed"
    );
    let mut wrong = posted[0].clone();
    wrong.new_root = b2.new_root;
    assert_eq!(rejected(r.finalize(WATCHER, &wrong)), "NotThePostedBatch");
    for b in &posted {
        r.finalize(WATCHER, b).unwrap();
    }
    assert_eq!(r.counts().unwrap(), (2, 2));
    assert_eq!(r.final_root().unwrap(), field_word(&out.state.root()));
    assert_eq!(r.withdrawable(to).unwrap(), wei(50));
    assert_eq!(
        r.withdrawable(POSTER).unwrap(),
        U256::from(BOND) * U256::from(2u8)
    );
    assert_eq!(rejected(r.finalize(WATCHER, &b2)), "NotNextToFinalize");
    assert_eq!(rejected(r.challenge(WATCHER, &b2, step, &w)), "NoSuchBatch");
    r.claim(to).unwrap();
    assert_eq!(r.chain.balance(to), wei(50));
}

#[test]
fn a_forged_transfer_is_proven_in_one_step_and_reverts_every_later_batch() {
    let mut r = rollup();
    let (state, _) = onboard(&mut r);
    // A deposit waits in the queue; batch 2 robs account 1 with a signature by another key and
    // consumes the deposit; batch 3 builds on it.
    r.deposit(USER_L1, &key(5).public_key(), wei(7)).unwrap();
    let chain_id = r.genesis.chain_id;
    let forged = Transfer::signed(&key(9), chain_id, 1, 2, 900, 0, 0);
    let dep = Deposit {
        pubkey: key(5).public_key(),
        amount: 7,
        from: L1Address(USER_L1.into_array()),
    };
    let slots = vec![
        SlotTx::transfer(&forged),
        SlotTx::deposit(&dep, 3),
        SlotTx::noop(),
    ];
    let mut data = vec![
        SlotData {
            tx_type: zkr_circuits::tx::TxType::Transfer,
            from: 1,
            to: 2,
            amount: 900,
            fee: 0,
            aux_x: Fr::from(0u8),
            aux_y: Fr::from(0u8),
            requester: Fr::from(0u8),
        },
        deposit_slot(&dep, 3),
    ];
    data.resize(3, SlotData::NOOP);
    let sigs = vec![Some(forged.signature), None, None];
    let b2 = forged_batch(2, &state, slots, sigs.clone(), data);
    r.post_batch(POSTER, &b2).unwrap();
    // Batch 3, by another poster, on top of the forged head (a noop batch).
    let other = Address::new([0x0c; 20]);
    r.chain.fund(other, U256::from(BOND));
    let mut b3 = b2.clone();
    b3.number = 3;
    b3.old_root = b2.new_root;
    b3.public_data = encode_public_data(&[SlotData::NOOP; 3]);
    b3.signatures = Vec::new();
    // (Its roots: the noop steps and the fee step change nothing but the fee step, which
    // credits 0, so every root is the old root.)
    b3.step_roots = vec![b2.new_root; 3];
    b3.new_root = b2.new_root;
    r.post_batch(other, &b3).unwrap();
    assert_eq!(r.counts().unwrap(), (3, 0));
    assert_eq!(r.view_word("pendingRequests()").unwrap(), U256::ZERO);

    // The watcher finds the first bad step from its own state and proves it.
    let fraud = find_fraud(&state, &b2.steps().unwrap()).unwrap().unwrap();
    assert_eq!(fraud.step, StepIndex::Slot(0));
    assert_eq!(fraud.violation, Some(Violation::BadSignature));
    let before = r.chain.balance(WATCHER);
    let (outcome, ev) = r
        .challenge(WATCHER, &b2, fraud.step, &fraud.witness)
        .unwrap();
    println!(
        "challenge of a slot step at depth 6: {} gas",
        outcome.gas_used
    );
    assert_eq!(
        (ev.number, ev.step, ev.violation, ev.reverted),
        (2, 0, 1, 2)
    );
    assert_eq!(ev.challenger, WATCHER);
    // Both bonds forfeited (batch 3 was built on batch 2 unchecked): half to the watcher.
    assert_eq!(ev.reward, U256::from(BOND));
    assert_eq!(r.chain.balance(WATCHER), before);
    assert_eq!(r.withdrawable(WATCHER).unwrap(), U256::from(BOND));
    assert_eq!(r.withdrawable(other).unwrap(), U256::ZERO);
    assert_eq!(r.withdrawable(POSTER).unwrap(), U256::ZERO);
    assert_eq!(r.counts().unwrap(), (1, 0));
    assert_eq!(r.head_root().unwrap(), field_word(&state.root()));
    // The deposit is back in the queue, and batch 2 can be posted again, honestly.
    assert_eq!(r.view_word("pendingRequests()").unwrap(), U256::from(1u8));
    assert_eq!(
        rejected(r.challenge(WATCHER, &b2, fraud.step, &fraud.witness)),
        "NoSuchBatch"
    );
    let queue = [PriorityOp::Deposit(dep)];
    let txs = vec![PriorityOp::tx(&queue[0])];
    let out = state.apply_batch(&txs, &queue).unwrap();
    post(&mut r, 2, &out, &txs);
    r.claim(WATCHER).unwrap();
}

#[test]
fn a_lying_root_is_proven_at_its_step_and_the_fee_step_too() {
    for lie_at in [0usize, 3] {
        let mut r = rollup();
        let (state, _) = onboard(&mut r);
        let txs = batch_two(&r);
        let out = state.apply_batch(&txs, &[]).unwrap();
        let sub = OptimisticSubmission::from_batch(2, &out, &txs).unwrap();
        let mut b2 = EvmOptimisticBatch::from_submission(&sub).unwrap();
        // Step 0's root or the new root (the fee step's) is a lie; the steps after a lying step
        // root start from it, so only the lying step is wrong.
        if lie_at == 0 {
            b2.step_roots[0] = U256::from(12345u64);
        } else {
            b2.new_root = U256::from(12345u64);
        }
        r.post_batch(POSTER, &b2).unwrap();
        let fraud = find_fraud(&state, &b2.steps().unwrap()).unwrap().unwrap();
        let expected = if lie_at == 0 {
            StepIndex::Slot(0)
        } else {
            StepIndex::Fees
        };
        assert_eq!((fraud.step, fraud.violation.clone()), (expected, None));
        // A challenge of another step (which holds) is refused; of the lying one, it succeeds.
        if lie_at == 3 {
            let (step, w) = honest_steps(&out).remove(1);
            assert_eq!(rejected(r.challenge(WATCHER, &b2, step, &w)), "NoFraud");
        }
        // The witness for the wrong step kind, or of another batch's data, proves nothing.
        let mut other = b2.clone();
        other.step_roots[1] = U256::from(1u8);
        assert_eq!(
            rejected(r.challenge(WATCHER, &other, fraud.step, &fraud.witness)),
            "NotThePostedBatch"
        );
        let (outcome, ev) = r
            .challenge(WATCHER, &b2, fraud.step, &fraud.witness)
            .unwrap();
        println!(
            "challenge of step {:?}: {} gas",
            fraud.step, outcome.gas_used
        );
        assert_eq!((ev.violation, ev.reverted), (0, 1));
        assert_eq!(ev.reward, U256::from(BOND / 2));
        assert_eq!(r.head_root().unwrap(), field_word(&state.root()));
    }
}

#[test]
fn malformed_posts_are_refused_and_change_nothing() {
    let mut r = rollup();
    let (state, posted) = onboard(&mut r);
    let txs = batch_two(&r);
    let out = state.apply_batch(&txs, &[]).unwrap();
    let sub = OptimisticSubmission::from_batch(2, &out, &txs).unwrap();
    let good = EvmOptimisticBatch::from_submission(&sub).unwrap();
    let head = r.head_root().unwrap();
    let r_big = U256::from_str_radix(
        "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        10,
    )
    .unwrap();
    type Tamper = Box<dyn Fn(&mut EvmOptimisticBatch)>;
    let cases: Vec<(&str, Tamper)> = vec![
        ("Replayed", Box::new(|b| b.number = 1)),
        ("OutOfOrder", Box::new(|b| b.number = 3)),
        ("NonCanonicalInput", Box::new(move |b| b.new_root = r_big)),
        ("WrongOldRoot", Box::new(|b| b.old_root = U256::from(1u8))),
        (
            "MalformedPublicData",
            Box::new(|b| {
                b.public_data.pop();
            }),
        ),
        ("MalformedPublicData", Box::new(|b| b.public_data[0] = 9)),
        // Account 64 is outside the tree of 2^6 accounts.
        ("MalformedPublicData", Box::new(|b| b.public_data[1] = 64)),
        (
            "MalformedSignatures",
            Box::new(|b| {
                b.signatures.truncate(64);
            }),
        ),
        (
            "MalformedSignatures",
            Box::new(move |b| {
                let y = r_big.to_be_bytes::<32>();
                b.signatures[..32].copy_from_slice(&y);
            }),
        ),
        (
            "WrongStepRoots",
            Box::new(|b| {
                b.step_roots.pop();
            }),
        ),
        (
            "NonCanonicalInput",
            Box::new(move |b| b.step_roots[1] = r_big),
        ),
    ];
    for (name, f) in cases {
        let mut b = good.clone();
        f(&mut b);
        assert_eq!(rejected(r.post_batch(POSTER, &b)), name);
    }
    // A deposit slot that is not the queue's next request.
    let dep = Deposit {
        pubkey: key(5).public_key(),
        amount: 7,
        from: DEPOSITOR,
    };
    let mut b = good.clone();
    b.public_data[2 * 121..].copy_from_slice(&deposit_slot(&dep, 3).to_bytes());
    assert_eq!(rejected(r.post_batch(POSTER, &b)), "QueueMismatch");
    // Without the bond, or with too much.
    let data = good.post_calldata();
    for value in [U256::ZERO, U256::from(BOND + 1)] {
        let o = r.chain.send(POSTER, r.rollup, data.clone(), value).unwrap();
        assert!(!o.success);
        assert_eq!(OptimisticRejection::decode(&o.output).name, "WrongBond");
    }
    // A deposit whose key is not a subgroup point (its hint is not (8^-1 mod l)·key).
    let k = key(4).public_key();
    let bad = abi_call(
        "deposit(uint256,uint256,uint256,uint256)",
        &[k.x(), k.y(), k.x(), k.y()].map(|x| Abi::Word(field_word(&x))),
    );
    let o = r.chain.send(USER_L1, r.rollup, bad, wei(1)).unwrap();
    assert_eq!(
        OptimisticRejection::decode(&o.output).name,
        "InvalidPublicKey"
    );
    // Truncated calldata: the ABI decoder refuses it.
    let o = r
        .chain
        .send(
            POSTER,
            r.rollup,
            data[..data.len() - 40].to_vec(),
            U256::from(BOND),
        )
        .unwrap();
    assert!(!o.success);
    assert_eq!(r.head_root().unwrap(), head);
    assert_eq!(r.counts().unwrap(), (1, 0));
    // And the good one is accepted.
    let o = r.post_batch(POSTER, &good).unwrap();
    println!(
        "postBatch of {} slots: {} gas",
        params().batch_size,
        o.gas_used
    );
    let _ = posted;
}

#[test]
fn a_signature_that_encodes_no_point_is_a_fraud_the_watcher_proves() {
    let mut r = rollup();
    let (state, _) = onboard(&mut r);
    let txs = batch_two(&r);
    let out = state.apply_batch(&txs, &[]).unwrap();
    let sub = OptimisticSubmission::from_batch(2, &out, &txs).unwrap();
    let mut b2 = EvmOptimisticBatch::from_submission(&sub).unwrap();
    // The transfer's R replaced by a y that no curve point has.
    let y = (2u64..)
        .map(Fr::from)
        .find(|y| ark_ed_on_bn254::EdwardsAffine::get_xs_from_y_unchecked(*y).is_none())
        .unwrap();
    assert_eq!(zkr_l1_evm::optimistic::decompress(field_word(&y)), None);
    b2.signatures[..32].copy_from_slice(&field_word(&y).to_be_bytes::<32>());
    r.post_batch(POSTER, &b2).unwrap();
    let fraud = find_fraud(&state, &b2.steps().unwrap()).unwrap().unwrap();
    assert_eq!(fraud.step, StepIndex::Slot(0));
    assert_eq!(fraud.violation, Some(Violation::BadSignature));
    let (_, ev) = r
        .challenge(WATCHER, &b2, fraud.step, &fraud.witness)
        .unwrap();
    assert_eq!((ev.step, ev.violation, ev.reverted), (0, 1, 1));
}

/// A random transaction of the property test below.
#[derive(Debug, Clone)]
enum Op {
    Transfer(u64, u64, u64, u64),
    Withdraw(u64, u64, u64),
    Deposit(u8, u64),
    FullExit(u64, bool),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (0u64..5, 0u64..5, 0u64..60, 0u64..4).prop_map(|(f, t, a, fee)| Op::Transfer(f, t, a, fee)),
        (0u64..5, 0u64..60, 0u64..4).prop_map(|(f, a, fee)| Op::Withdraw(f, a, fee)),
        (0u8..8, 1u64..1000).prop_map(|(k, a)| Op::Deposit(k, a)),
        (0u64..6, any::<bool>()).prop_map(|(a, owner)| Op::FullExit(a, owner)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// On random batches the native transition accepts, `StepExecutor` walks every step to the
    /// same roots as `zkr_circuits::step`, ending at the batch's new root.
    #[test]
    fn the_executor_walks_random_valid_batches_like_the_native_step(
        ops in proptest::collection::vec(op(), 1..7)
    ) {
        let (mut chain, ex) = executor();
        let mut state = funded(&genesis(CHAIN), &[10, 100, 100, 50, 7]);
        for chunk in ops.chunks(params().batch_size) {
            let mut txs = Vec::new();
            let mut queue = Vec::new();
            for o in chunk {
                let nonce = |i: u64| state.account(i).map_or(0, |a| a.nonce);
                match *o {
                    Op::Transfer(f, t, a, fee) => txs.push(Tx::Transfer(Transfer::signed(
                        &key(f as u8), CHAIN, f, t, a, fee, nonce(f),
                    ))),
                    Op::Withdraw(f, a, fee) => txs.push(Tx::Withdraw(Withdraw::signed(
                        &key(f as u8), CHAIN, f, a, fee, nonce(f), L1Address([7; 20]),
                    ))),
                    Op::Deposit(k, a) => {
                        let d = Deposit { pubkey: key(k).public_key(), amount: a, from: DEPOSITOR };
                        queue.push(PriorityOp::Deposit(d));
                        txs.push(PriorityOp::Deposit(d).tx());
                    }
                    Op::FullExit(account, owner) => {
                        let f = FullExit {
                            account,
                            requester: if owner { DEPOSITOR } else { L1Address([0x66; 20]) },
                        };
                        queue.push(PriorityOp::FullExit(f));
                        txs.push(Tx::FullExit(f));
                    }
                }
            }
            // Combinations the native transition refuses (a nonce used twice in one batch, an
            // overdraft) are not batches; only accepted ones are walked.
            let Ok(out) = state.apply_batch(&txs, &queue) else { continue };
            let v = both(&mut chain, ex, &out.witness);
            proptest::prop_assert!(v.iter().all(|(c, _)| *c == 0), "{:?}", v);
            proptest::prop_assert_eq!(v.last().unwrap().1, field_word(&out.state.root()));
            state = out.state;
        }
    }
}

#[test]
fn an_operator_that_stops_finalizing_leaves_its_users_an_exodus() {
    let mut r = rollup();
    let (state, mut posted) = onboard(&mut r);
    let txs = batch_two(&r);
    let out = state.apply_batch(&txs, &[]).unwrap();
    posted.push(post(&mut r, 2, &out, &txs));
    r.chain.advance_time(WINDOW_S + 1);
    for b in &posted {
        r.finalize(WATCHER, b).unwrap();
    }
    let fin = out.state;

    // A deposit joins the queue; the operator posts the batch that takes it, then never
    // finalizes it (or anything else).
    r.deposit(USER_L1, &key(5).public_key(), wei(7)).unwrap();
    let dep = Deposit {
        pubkey: key(5).public_key(),
        amount: 7,
        from: L1Address(USER_L1.into_array()),
    };
    let queue = [PriorityOp::Deposit(dep)];
    let txs3 = vec![PriorityOp::tx(&queue[0])];
    let out3 = fin.apply_batch(&txs3, &queue).unwrap();
    let b3 = post(&mut r, 3, &out3, &txs3);
    assert_eq!(rejected(r.activate_exodus(USER_L1)), "NotOverdue");
    r.chain.advance_time(DEADLINE_S);
    assert_eq!(rejected(r.activate_exodus(USER_L1)), "NotOverdue");
    r.chain.advance_time(1);
    r.activate_exodus(USER_L1).unwrap();
    assert_eq!(rejected(r.activate_exodus(USER_L1)), "Exodus");

    // Nothing settles any more: the pending batch is void.
    assert_eq!(rejected(r.finalize(WATCHER, &b3)), "Exodus");
    assert_eq!(rejected(r.post_batch(POSTER, &b3)), "Exodus");
    assert_eq!(
        rejected(r.deposit(USER_L1, &key(6).public_key(), wei(1))),
        "Exodus"
    );
    assert_eq!(rejected(r.request_full_exit(USER_L1, 1)), "Exodus");

    // The queued deposit is refunded; each account is withdrawn once under the final root.
    r.refund_deposits(WATCHER, 10).unwrap();
    let mut b = fin.witness_builder();
    let leaf_and_path = |b: &mut zkr_circuits::witness::WitnessBuilder, i: u64| {
        (b.leaf(i), b.proof(i).unwrap().siblings)
    };
    for i in 0..3u64 {
        let (leaf, siblings) = leaf_and_path(&mut b, i);
        // Forgeries first: another balance, a short path, a sibling of r.
        let mut rich = leaf;
        rich.balance += Fr::from(1u8);
        assert_eq!(
            rejected(r.exodus_withdraw(WATCHER, i, &rich, &siblings)),
            "BadExitProof"
        );
        let mut short = siblings.clone();
        short.last_mut().unwrap().pop();
        assert_eq!(
            rejected(r.exodus_withdraw(WATCHER, i, &leaf, &short)),
            "BadExitProof"
        );
        r.exodus_withdraw(WATCHER, i, &leaf, &siblings).unwrap();
        assert_eq!(
            rejected(r.exodus_withdraw(WATCHER, i, &leaf, &siblings)),
            "AlreadyExited"
        );
    }
    // An empty index with made-up fields does not verify.
    let (mut empty, siblings) = leaf_and_path(&mut b, 9);
    empty.balance = Fr::from(500u64);
    assert_eq!(
        rejected(r.exodus_withdraw(WATCHER, 9, &empty, &siblings)),
        "BadExitProof"
    );

    // Every unit deposited is paid out: 50 withdrawn in batch 2, the accounts' balances (the
    // operator's fees included) and the refunded deposit. Only the void batch's bond stays.
    let to = Address::new([0xaa; 20]);
    for who in [to, USER_L1, OPERATOR] {
        r.claim(who).unwrap();
    }
    assert_eq!(r.chain.balance(to), wei(50));
    assert_eq!(r.chain.balance(r.rollup), U256::from(BOND));
}
