//! `Groth16KeyedVerifier` (`contracts/KeyedVerifier.sol`, the key given at deployment) against the
//! verifier `zkr export-verifier` renders for the same key (`contracts/test/Verifier.sol`): the
//! same verdict on honest and tampered proofs, and a rollup deployed with it accepts honest
//! batches and refuses a proof of another transition.

mod common;

use common::*;
use revm::primitives::{Address, U256};
use zkr_l1_evm::rollup::{
    field_word, keyed_verifier_args, keyed_verifier_init_code, verify_proof_calldata,
};
use zkr_l1_evm::{Chain, EvmL1Error, EvmRejection, EvmRollup, EvmSubmission, Outcome};

fn verify(chain: &mut Chain, verifier: Address, s: &EvmSubmission, signals: &[U256]) -> Outcome {
    chain
        .view(verifier, verify_proof_calldata(s, signals))
        .unwrap()
}

fn verdict(o: &Outcome) -> bool {
    assert!(o.success, "verifyProof never reverts: {o:?}");
    assert_eq!(o.output.len(), 32);
    U256::from_be_slice(&o.output) == U256::from(1u8)
}

#[test]
fn the_keyed_verifier_gives_the_rendered_verifiers_verdicts() {
    let mut rendered = deploy();
    let g = genesis(&mut rendered);
    let mut chain = rendered.chain;
    let rendered = rendered.deployment.verifier;
    let keyed = chain
        .deploy(
            Address::new([0x0b; 20]),
            keyed_verifier_init_code(keys().vk()).unwrap(),
        )
        .unwrap();
    let outs = three_batches(&g);
    let out = &outs[0];
    let s = EvmSubmission::from_submission(&submission(1, out)).unwrap();
    let signals: Vec<U256> = out.public.to_vec().iter().map(field_word).collect();
    let with = |i: usize, v: U256| {
        let mut x = signals.clone();
        x[i] = v;
        x
    };
    let r = U256::from_str_radix(
        "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        10,
    )
    .unwrap();
    let mut swapped = s.clone();
    std::mem::swap(&mut swapped.pa, &mut swapped.pc);
    let mut off_curve = s.clone();
    off_curve.pa[1] += U256::from(1u8);
    let mut b_swapped = s.clone();
    b_swapped.pb[0].swap(0, 1);
    let last = signals.len() - 1;
    let cases: [(&str, &EvmSubmission, Vec<U256>, bool); 8] = [
        ("honest", &s, signals.clone(), true),
        (
            "another new root",
            &s,
            with(1, signals[1] + U256::from(1u8)),
            false,
        ),
        (
            "another last slot",
            &s,
            with(last, signals[last] + U256::from(1u8)),
            false,
        ),
        ("the old root plus r", &s, with(0, signals[0] + r), false),
        ("a slot plus r", &s, with(last, signals[last] + r), false),
        ("A and C swapped", &swapped, signals.clone(), false),
        ("A off the curve", &off_curve, signals.clone(), false),
        (
            "B's coordinates in the wrong order",
            &b_swapped,
            signals.clone(),
            false,
        ),
    ];
    for (what, sub, signal, want) in cases {
        let a = verify(&mut chain, rendered, sub, &signal);
        let b = verify(&mut chain, keyed, sub, &signal);
        assert_eq!(verdict(&a), want, "rendered verifier, {what}");
        assert_eq!(verdict(&b), want, "keyed verifier, {what}");
        if want {
            println!(
                "verifyProof execution gas: rendered {}, keyed {}",
                a.execution_gas, b.execution_gas
            );
        }
    }
}

#[test]
fn a_rollup_deployed_for_a_key_accepts_its_proofs_and_refuses_another_transition() {
    let mut r = EvmRollup::deploy_for_key(params(), keys().vk(), &alice().public_key()).unwrap();
    evm_deposit(&mut r, Address::new([0xa1; 20]), &alice(), 100);
    evm_deposit(&mut r, Address::new([0xb0; 20]), &bob(), 50);
    let outs = three_batches(&genesis(&mut r));
    let honest: Vec<EvmSubmission> = outs
        .iter()
        .enumerate()
        .map(|(i, o)| EvmSubmission::from_submission(&submission(i as u64 + 1, o)).unwrap())
        .collect();
    r.submit_batch(&honest[0]).unwrap();
    // Batch 3's proof with batch 2's transition: the proof does not verify.
    let mut forged = honest[1].clone();
    forged.pa = honest[2].pa;
    forged.pb = honest[2].pb;
    forged.pc = honest[2].pc;
    let before = r.snapshot().unwrap();
    match r.submit_batch(&forged) {
        Err(EvmL1Error::Rejected(EvmRejection::BadProof)) => {}
        other => panic!("expected BadProof, got {other:?}"),
    }
    assert_eq!(r.snapshot().unwrap(), before, "nothing changed");
    r.submit_batch(&honest[1]).unwrap();
    r.submit_batch(&honest[2]).unwrap();
    let last = outs.last().unwrap();
    assert_eq!(r.state_root().unwrap(), field_word(&last.public.new_root));
    assert_eq!(r.batch_count().unwrap(), 3);
}

#[test]
fn the_keyed_verifier_refuses_other_calls_and_a_rollup_refuses_a_key_of_another_circuit() {
    let mut r = EvmRollup::deploy_for_key(params(), keys().vk(), &alice().public_key()).unwrap();
    let keyed = r.deployment.verifier;
    let out = &three_batches(&genesis(&mut r))[0];
    let s = EvmSubmission::from_submission(&submission(1, out)).unwrap();
    let signals: Vec<U256> = out.public.to_vec().iter().map(field_word).collect();
    assert!(verdict(&verify(&mut r.chain, keyed, &s, &signals)));
    // One signal short or one too many: another function, not a false verdict.
    for n in [signals.len() - 1, signals.len() + 1] {
        let mut x = signals.clone();
        x.resize(n, U256::ZERO);
        let o = verify(&mut r.chain, keyed, &s, &x);
        assert!(!o.success, "{n} signals: the call reverts");
    }
    // The right selector with a truncated argument list.
    let mut data = verify_proof_calldata(&s, &signals);
    data.truncate(data.len() - 1);
    assert!(!r.chain.view(keyed, data).unwrap().success);

    let mut vk = keys().vk().clone();
    assert!(keyed_verifier_args(&vk).is_some());
    let inputs = vk.gamma_abc_g1.len();
    vk.gamma_abc_g1.push(vk.gamma_abc_g1[1]);
    match EvmRollup::deploy_for_key(params(), &vk, &alice().public_key()) {
        Err(EvmL1Error::KeyShape {
            inputs: i,
            expected,
        }) => {
            assert_eq!((i, expected), (inputs, inputs - 1));
        }
        other => panic!("expected KeyShape, got {:?}", other.err()),
    }
    vk.gamma_abc_g1.truncate(1);
    assert!(keyed_verifier_args(&vk).is_none(), "a key without inputs");
    assert!(keyed_verifier_init_code(&vk).is_err());
}
