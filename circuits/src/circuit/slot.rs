//! One transaction slot of the batch circuit (rules 1–14 and 6b of [`super`]).

use super::leaf::LeafVar;
use super::meter::{Component, Meter};
use crate::eddsa::gadget::verify_var;
use crate::merkle::gadget::PathVar;
use crate::poseidon::gadget::poseidon_var;
use crate::range::gadget::{enforce_bits, enforce_u64};
use crate::tx::{TxType, PACK_SHIFTS};
use crate::witness::SlotWitness;
use crate::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// Running values carried from slot to slot.
pub struct Accumulators {
    /// The deployment's chain id (a witness, bound by the aux chain's public end).
    pub chain_id: FpVar<Fr>,
    /// Hash chain of the deposit keys and withdrawal addresses.
    pub aux_chain: FpVar<Fr>,
    /// Sum of fees (each a range-checked u64, so no wrap for any realistic batch size).
    pub fee_total: FpVar<Fr>,
}

/// Enforces `flag · value = 0`: "when `flag`, `value` is zero".
fn zero_when(flag: &FpVar<Fr>, value: &FpVar<Fr>) -> Result<(), SynthesisError> {
    flag.mul_equals(value, &FpVar::zero())
}

/// Constrains slot `i` against the running `root` and the slot's public input `packed_input`;
/// returns the root after the slot.
#[allow(clippy::too_many_arguments)]
pub fn synthesize_slot(
    cs: ConstraintSystemRef<Fr>,
    m: &Meter,
    i: usize,
    root: &FpVar<Fr>,
    packed_input: &FpVar<Fr>,
    w: &SlotWitness,
    acc: &mut Accumulators,
) -> Result<FpVar<Fr>, SynthesisError> {
    let s = Some(i);
    let wit = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v));

    // Rule 1: exactly one type.
    let (is_noop, is_transfer, is_deposit, is_withdraw, is_full_exit) =
        m.span(s, Component::TxLogic, "exactly one tx type", || {
            let flag = |t: TxType| Boolean::new_witness(cs.clone(), || Ok(w.tx_type == t));
            let f = (
                flag(TxType::Noop)?,
                flag(TxType::Transfer)?,
                flag(TxType::Deposit)?,
                flag(TxType::Withdraw)?,
                flag(TxType::FullExit)?,
            );
            let sum = FpVar::from(f.0.clone())
                + FpVar::from(f.1.clone())
                + FpVar::from(f.2.clone())
                + FpVar::from(f.3.clone())
                + FpVar::from(f.4.clone());
            sum.enforce_equal(&FpVar::one())?;
            Ok(f)
        })?;
    let [noop, transfer, deposit, withdraw, full_exit] = [
        &is_noop,
        &is_transfer,
        &is_deposit,
        &is_withdraw,
        &is_full_exit,
    ]
    .map(|b| FpVar::from((*b).clone()));
    // Transfers and withdrawals debit and sign; the flags are one-hot, so the sum is boolean.
    let sends = &transfer + &withdraw;
    let is_sending = m.span(
        s,
        Component::TxLogic,
        "sending = transfer or withdraw",
        || Ok(&is_transfer | &is_withdraw),
    )?;

    let from = wit(w.from)?;
    let to = wit(w.to)?;
    let amount = wit(w.amount)?;
    let fee = wit(w.fee)?;
    let nonce = wit(w.nonce)?;
    let aux_x = wit(w.aux_x)?;
    let aux_y = wit(w.aux_y)?;
    let requester = wit(w.requester)?;

    // Rule 2: canonical encoding per type.
    m.span(s, Component::TxLogic, "unused fields are zero", || {
        zero_when(&(&noop + &deposit), &from)?;
        zero_when(&(&noop + &withdraw + &full_exit), &to)?;
        zero_when(&noop, &amount)?;
        zero_when(&(&noop + &deposit + &full_exit), &fee)?;
        zero_when(&(&noop + &deposit + &full_exit), &nonce)?;
        zero_when(&(&noop + &transfer + &full_exit), &aux_x)?;
        zero_when(&(&noop + &transfer + &withdraw + &full_exit), &aux_y)?;
        zero_when(&(&noop + &transfer + &withdraw), &requester)
    })?;
    m.span(
        s,
        Component::RangeChecks,
        "withdrawal address is 160 bits",
        || enforce_bits(&(&withdraw * &aux_x), 160).map(|_| ()),
    )?;

    // Rule 3: amount and fee are u64.
    m.span(s, Component::RangeChecks, "amount is u64", || {
        enforce_u64(&amount)
    })?;
    m.span(s, Component::RangeChecks, "fee is u64", || {
        enforce_u64(&fee)
    })?;

    // The packed public-data element, from the constrained variables (indices < 2^32 via
    // their path bits, amount and fee via the range checks above).
    let two = Fr::from(2u64);
    let tx_type = &transfer
        + &deposit * Fr::from(2u64)
        + &withdraw * Fr::from(3u64)
        + &full_exit * Fr::from(4u64);
    let packed = [
        tx_type,
        from.clone(),
        to.clone(),
        amount.clone(),
        fee.clone(),
    ]
    .iter()
    .zip(PACK_SHIFTS)
    .fold(FpVar::zero(), |a, (v, sh)| a + v * two.pow([sh]));

    // Rule 4: the sender's old leaf is under the running root.
    let sender = LeafVar::new_witness(cs.clone(), &w.sender.leaf)?;
    let sender_path = m.span(
        s,
        Component::MerklePaths,
        "sender path bits spell `from`",
        || PathVar::new(cs.clone(), &from, &w.sender.path),
    )?;
    let sender_hash = m.span(s, Component::LeafHashes, "sender leaf hash", || {
        let e = sender.is_empty()?;
        sender.hash(&e)
    })?;
    m.span(
        s,
        Component::MerklePaths,
        "sender leaf is under the old root",
        || sender_path.root(&sender_hash)?.enforce_equal(root),
    )?;

    // Rule 5: the sender signed this slot.
    m.span(s, Component::Signature, "sender signature", || {
        let msg = poseidon_var(&[
            acc.chain_id.clone(),
            packed.clone(),
            aux_x.clone(),
            nonce.clone(),
        ])?;
        verify_var(
            cs.clone(),
            &is_sending,
            &sender.pk_x,
            &sender.pk_y,
            &msg,
            &w.signature,
        )
    })?;

    // Rule 6: nonce.
    m.span(
        s,
        Component::TxLogic,
        "signed nonce is the sender's nonce",
        || zero_when(&sends, &(&nonce - &sender.nonce)),
    )?;
    let new_nonce = &sender.nonce + &sends;
    m.span(s, Component::RangeChecks, "sender nonce stays u32", || {
        enforce_bits(&new_nonce, 32).map(|_| ())
    })?;

    // Rule 6b: a full exit pays the whole balance when the requester owns the account, and
    // nothing otherwise (an empty leaf's owner is 0, which no L1 address is).
    let exit_amount = m.span(
        s,
        Component::TxLogic,
        "full exit pays the owner the whole balance",
        || {
            let is_owner = sender.owner.is_eq(&requester)?;
            let owed = FpVar::from(is_owner) * &sender.balance;
            zero_when(&full_exit, &(&amount - &owed))?;
            Ok(&full_exit * &amount)
        },
    )?;

    // Rule 7: balance covers amount + fee.
    let debit = m.span(
        s,
        Component::TxLogic,
        "debit = amount + fee when sending",
        || Ok(&sends * (&amount + &fee) + &exit_amount),
    )?;
    let new_sender = LeafVar {
        balance: &sender.balance - &debit,
        nonce: new_nonce,
        ..sender.clone()
    };
    m.span(
        s,
        Component::RangeChecks,
        "sender balance covers amount + fee",
        || enforce_u64(&new_sender.balance),
    )?;

    // Rule 8: sender update.
    let mid_root = m.span(s, Component::LeafHashes, "sender new leaf hash", || {
        let e = new_sender.is_empty()?;
        new_sender.hash(&e)
    })?;
    let mid_root = m.span(s, Component::MerklePaths, "sender update root", || {
        sender_path.root(&mid_root)
    })?;

    // Rule 9: the receiver's leaf is under the intermediate root.
    let receiver = LeafVar::new_witness(cs.clone(), &w.receiver.leaf)?;
    let receiver_path = m.span(
        s,
        Component::MerklePaths,
        "receiver path bits spell `to`",
        || PathVar::new(cs.clone(), &to, &w.receiver.path),
    )?;
    let (receiver_hash, receiver_empty) =
        m.span(s, Component::LeafHashes, "receiver leaf hash", || {
            let e = receiver.is_empty()?;
            Ok((receiver.hash(&e)?, e))
        })?;
    m.span(
        s,
        Component::MerklePaths,
        "receiver leaf is under the intermediate root",
        || receiver_path.root(&receiver_hash)?.enforce_equal(&mid_root),
    )?;

    // Rule 10: the receiver exists (transfer) or has the deposit's key (deposit to an account).
    m.span(s, Component::TxLogic, "transfer receiver exists", || {
        zero_when(&transfer, &FpVar::from(receiver_empty.clone()))
    })?;
    m.span(
        s,
        Component::TxLogic,
        "deposit key matches the account",
        || {
            let topup = &is_deposit & &!&receiver_empty;
            receiver.pk_x.conditional_enforce_equal(&aux_x, &topup)?;
            receiver.pk_y.conditional_enforce_equal(&aux_y, &topup)
        },
    )?;

    // Rule 11: the credit does not overflow.
    let credit = m.span(
        s,
        Component::TxLogic,
        "credit = amount for transfers and deposits",
        || Ok((&transfer + &deposit) * &amount),
    )?;
    let new_receiver = m.span(s, Component::TxLogic, "deposit writes its key", || {
        let opens = &is_deposit & &receiver_empty;
        Ok(LeafVar {
            pk_x: is_deposit.select(&aux_x, &receiver.pk_x)?,
            pk_y: is_deposit.select(&aux_y, &receiver.pk_y)?,
            balance: &receiver.balance + &credit,
            nonce: receiver.nonce.clone(),
            // Rule 11b: the deposit that opens an account makes its payer the owner.
            owner: opens.select(&requester, &receiver.owner)?,
        })
    })?;
    m.span(
        s,
        Component::RangeChecks,
        "receiver balance does not overflow",
        || enforce_u64(&new_receiver.balance),
    )?;

    // Rule 12: receiver update.
    let new_hash = m.span(s, Component::LeafHashes, "receiver new leaf hash", || {
        let e = new_receiver.is_empty()?;
        new_receiver.hash(&e)
    })?;
    let new_root = m.span(s, Component::MerklePaths, "receiver update root", || {
        receiver_path.root(&new_hash)
    })?;

    // Rule 13: public data. The slot's public input is its packed element, built from the very
    // variables the rules above constrain.
    m.span(
        s,
        Component::PublicData,
        "packed slot is the public input",
        || packed.enforce_equal(packed_input),
    )?;
    // Rule 14: a slot's L1 data (a deposit's key and payer, a withdrawal's address, a full
    // exit's requester) enters the aux chain, in slot order.
    acc.aux_chain = m.span(s, Component::AuxChain, "aux chain", || {
        let next = poseidon_var(&[acc.aux_chain.clone(), aux_x, aux_y, requester])?;
        // The flags are one-hot, so their sum is boolean: acc + flag·(next − acc).
        let flag = &deposit + &withdraw + &full_exit;
        let step = flag * (&next - &acc.aux_chain);
        Ok(&acc.aux_chain + step)
    })?;
    acc.fee_total = &acc.fee_total + &fee;
    let _ = is_noop;
    Ok(new_root)
}
