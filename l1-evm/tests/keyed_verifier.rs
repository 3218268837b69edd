//! `Groth16KeyedVerifier` (`contracts/KeyedVerifier.sol`, the key given at deployment) against the
//! verifier `zkr export-verifier` renders for the same key (`contracts/test/Verifier.sol`): the
//! same verdict on honest and tampered proofs, and a rollup deployed with it accepts honest
//! batches and refuses a proof of another transition.

mod common;

use common::*;
use revm::primitives::{Address, U256};
use zkr_l1_evm::rollup::{field_word, keyed_verifier_args, keyed_verifier_init_code, selector};
use zkr_l1_evm::{Chain, EvmL1Error, EvmRejection, EvmRollup, EvmSubmission, Outcome};

const VERIFY: &str = "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[1])";

fn verify(chain: &mut Chain, verifier: Address, s: &EvmSubmission, signal: U256) -> Outcome {
    let mut data = selector(VERIFY).to_vec();
    let words = [
        s.pa[0], s.pa[1], s.pb[0][0], s.pb[0][1], s.pb[1][0], s.pb[1][1], s.pc[0], s.pc[1], signal,
    ];
    for w in words {
        data.extend_from_slice(&w.to_be_bytes::<32>());
    }
    chain.view(verifier, data).unwrap()
}

fn verdict(o: &Outcome) -> bool {
    assert!(o.success, "verifyProof never reverts: {o:?}");
    assert_eq!(o.output.len(), 32);
    U256::from_be_slice(&o.output) == U256::from(1u8)
}

#[test]
fn the_keyed_verifier_gives_the_rendered_verifiers_verdicts() {
    let rendered = deploy();
    let mut chain = rendered.chain;
    let rendered = rendered.deployment.verifier;
    let keyed = chain
        .deploy(
            Address::new([0x0b; 20]),
            keyed_verifier_init_code(keys().vk()).unwrap(),
        )
        .unwrap();
    let outs = three_batches();
    let out = &outs[0];
    let s = EvmSubmission::from_submission(&submission(1, out)).unwrap();
    let commitment = field_word(&out.public.commitment());
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
    let cases: [(&str, &EvmSubmission, U256, bool); 6] = [
        ("honest", &s, commitment, true),
        (
            "another commitment",
            &s,
            commitment + U256::from(1u8),
            false,
        ),
        ("the signal plus r", &s, commitment + r, false),
        ("A and C swapped", &swapped, commitment, false),
        ("A off the curve", &off_curve, commitment, false),
        (
            "B's coordinates in the wrong order",
            &b_swapped,
            commitment,
            false,
        ),
    ];
    for (what, sub, signal, want) in cases {
        let a = verify(&mut chain, rendered, sub, signal);
        let b = verify(&mut chain, keyed, sub, signal);
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
    let mut r = EvmRollup::deploy_for_key(params(), keys().vk()).unwrap();
    evm_deposit(&mut r, Address::new([0xa1; 20]), &alice(), 100);
    evm_deposit(&mut r, Address::new([0xb0; 20]), &bob(), 50);
    let outs = three_batches();
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
fn the_keyed_verifier_takes_only_keys_with_one_public_input() {
    let mut vk = keys().vk().clone();
    assert!(keyed_verifier_args(&vk).is_some());
    vk.gamma_abc_g1.push(vk.gamma_abc_g1[1]);
    match keyed_verifier_init_code(&vk) {
        Err(EvmL1Error::KeyShape { inputs: 2 }) => {}
        other => panic!("expected KeyShape, got {other:?}"),
    }
}
