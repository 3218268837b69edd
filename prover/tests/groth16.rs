//! Setup, key files, proving and verification, and the refusal of tampered inputs.

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::One;
use std::sync::OnceLock;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::State;
use zkr_circuits::tx::{Deposit, Transfer, Tx};
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{KeyError, KeySet, OsRng};
use zkr_prover::prove;
use zkr_verifier::snarkjs::{
    public_from_json, public_to_json, FormatError, ProofJson, VerificationKeyJson,
};
use zkr_verifier::verify_proof;

fn params() -> CircuitParams {
    CircuitParams::new(4, 2).unwrap()
}

fn keys() -> &'static KeySet {
    static K: OnceLock<KeySet> = OnceLock::new();
    K.get_or_init(|| KeySet::generate(params(), Some(7)).unwrap())
}

/// Two batches: deposits, then a transfer.
fn witnesses() -> Vec<zkr_circuits::witness::BatchWitness> {
    let a = SecretKey::from_seed([1; 32]);
    let b = SecretKey::from_seed([2; 32]);
    let q = [
        Deposit {
            pubkey: a.public_key(),
            amount: 100,
            from: Default::default(),
        },
        Deposit {
            pubkey: b.public_key(),
            amount: 50,
            from: Default::default(),
        },
    ];
    let genesis = zkr_circuits::Genesis {
        chain_id: 7,
        operator: a.public_key(),
        operator_l1: Default::default(),
    };
    let s0 = State::genesis(params(), &genesis);
    let o1 = s0
        .apply_batch(
            &[Tx::Deposit(q[0]), Tx::Deposit(q[1])],
            &[q[0].into(), q[1].into()],
        )
        .unwrap();
    let t = Transfer::signed(&b, genesis.chain_id, 1, 0, 20, 1, 0);
    let o2 = o1.state.apply_batch(&[Tx::Transfer(t)], &[]).unwrap();
    vec![o1.witness, o2.witness]
}

#[test]
fn round_trip_through_files_and_snarkjs_json() {
    let dir = tempfile::tempdir().unwrap();
    keys().save(dir.path()).unwrap();
    let loaded = KeySet::load(dir.path()).unwrap();
    assert_eq!(loaded.meta, keys().meta);
    let w = &witnesses()[1];
    let (proof, public, t) = prove(&loaded, w, &mut OsRng).unwrap();
    assert!(t.proving > t.self_check);
    let (_, vk) = KeySet::load_vk(dir.path()).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    assert!(verify_proof(&pvk, &proof, &public));
    // snarkjs JSON round trips, for the proof, the public inputs and the verification key.
    let pj: ProofJson =
        serde_json::from_str(&serde_json::to_string(&ProofJson::from_proof(&proof)).unwrap())
            .unwrap();
    assert_eq!(pj.to_proof().unwrap(), proof);
    assert_eq!(public_from_json(&public_to_json(&public)).unwrap(), public);
    let vkj = std::fs::read(dir.path().join("verification_key.json")).unwrap();
    let vkj: VerificationKeyJson = serde_json::from_slice(&vkj).unwrap();
    assert_eq!(vkj.to_vk().unwrap(), vk);
    assert_eq!(
        vkj.n_public,
        zkr_circuits::public::num_inputs(params().batch_size)
    );
}

#[test]
fn tampered_proofs_and_inputs_are_refused() {
    let ws = witnesses();
    let (proof, public, _) = prove(keys(), &ws[0], &mut OsRng).unwrap();
    let (proof2, public2, _) = prove(keys(), &ws[1], &mut OsRng).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(keys().vk());
    assert!(verify_proof(&pvk, &proof, &public));

    // A tampered proof point (still a valid curve point).
    let mut bad = proof.clone();
    bad.a = (G1Projective::from(bad.a) + G1Affine::generator()).into_affine();
    assert!(!verify_proof(&pvk, &bad, &public));
    // A tampered public input.
    assert!(!verify_proof(&pvk, &proof, &[public[0] + Fr::one()]));
    // Swapped public inputs between two valid proofs.
    assert!(!verify_proof(&pvk, &proof, &public2));
    assert!(!verify_proof(&pvk, &proof2, &public));
    // Wrong number of public inputs.
    assert!(!verify_proof(&pvk, &proof, &[public[0], public[0]]));

    // A public input equal to the modulus is refused when parsed, never reduced.
    let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    assert!(matches!(
        public_from_json(&[p.to_string()]),
        Err(FormatError::Number { .. })
    ));
    // A proof point off the curve.
    let mut pj = ProofJson::from_proof(&proof);
    pj.pi_a[1] = "5".into();
    assert_eq!(pj.to_proof(), Err(FormatError::NotOnCurve("pi_a")));
    // A coordinate at the base-field modulus.
    let mut pj = ProofJson::from_proof(&proof);
    pj.pi_c[0] =
        "21888242871839275222246405745257275088696311157297823662689037894645226208583".into();
    assert!(matches!(pj.to_proof(), Err(FormatError::Number { .. })));
    // A G2 point on the twist but outside the prime-order subgroup.
    let mut pj = ProofJson::from_proof(&proof);
    pj.pi_b = zkr_verifier::snarkjs::g2_to_json(&non_subgroup_g2());
    assert_eq!(pj.to_proof(), Err(FormatError::NotInSubgroup("pi_b")));
    // Wrong tags.
    let mut pj = ProofJson::from_proof(&proof);
    pj.curve = "bls12381".into();
    assert!(matches!(pj.to_proof(), Err(FormatError::Shape(_))));
}

/// A point on BN254's G2 curve that is not in the r-torsion subgroup.
fn non_subgroup_g2() -> ark_bn254::G2Affine {
    use ark_bn254::{Fq, Fq2};
    use ark_ec::short_weierstrass::SWCurveConfig;
    use ark_ff::Field;
    let b = ark_bn254::g2::Config::COEFF_B;
    let mut x = Fq2::new(Fq::from(1u64), Fq::from(0u64));
    loop {
        let rhs = x * x * x + b;
        if let Some(y) = rhs.sqrt() {
            let p = ark_bn254::G2Affine::new_unchecked(x, y);
            if p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve() {
                return p;
            }
        }
        x += Fq2::one();
    }
}

#[test]
fn truncated_corrupt_and_stale_key_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    keys().save(dir.path()).unwrap();
    let pk = dir.path().join("proving_key.bin");
    let bytes = std::fs::read(&pk).unwrap();

    std::fs::write(&pk, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(KeyError::Corrupt { .. })
    ));

    let mut flipped = bytes.clone();
    flipped[100] ^= 0x55; // inside the first point's coordinates
    std::fs::write(&pk, &flipped).unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(KeyError::Corrupt { .. })
    ));

    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(&pk, &longer).unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(KeyError::Corrupt { .. })
    ));
    std::fs::write(&pk, &bytes).unwrap();

    let vk = dir.path().join("verifying_key.bin");
    let vbytes = std::fs::read(&vk).unwrap();
    std::fs::write(&vk, &vbytes[..10]).unwrap();
    assert!(matches!(
        KeySet::load_vk(dir.path()),
        Err(KeyError::Corrupt { .. })
    ));

    // A changed circuit (different matrix digest) never reuses the keys.
    let meta_path = dir.path().join("circuit.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["matrix_digest"] = serde_json::Value::String("00".repeat(32));
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(KeyError::Stale { .. })
    ));

    std::fs::write(&meta_path, b"{not json").unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(KeyError::Corrupt { .. })
    ));
    assert!(matches!(
        KeySet::load(&dir.path().join("nowhere")),
        Err(KeyError::Missing(_))
    ));
}

#[test]
fn load_or_generate_caches_by_parameters_and_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (a, src) = KeySet::load_or_generate(dir.path(), params(), Some(1)).unwrap();
    assert_eq!(src, zkr_prover::keys::KeySource::Generated);
    let (b, src) = KeySet::load_or_generate(dir.path(), params(), Some(2)).unwrap();
    assert_eq!(src, zkr_prover::keys::KeySource::Cached);
    assert_eq!(a.vk(), b.vk());
}

#[test]
fn proving_an_invalid_witness_is_an_error() {
    let mut w = witnesses()[1].clone();
    w.slots[0].amount += Fr::one();
    assert!(matches!(
        prove(keys(), &w, &mut OsRng),
        Err(zkr_prover::ProveError::InvalidWitness)
    ));
}

#[test]
fn the_pool_proves_in_order() {
    let ws = witnesses();
    let keys = std::sync::Arc::new(KeySet::generate(params(), Some(7)).unwrap());
    let cfg = zkr_prover::pool::PoolConfig {
        workers: 2,
        threads_per_worker: 1,
    };
    let results = zkr_prover::pool::prove_all(cfg, keys.clone(), ws.clone());
    let pvk = ark_groth16::prepare_verifying_key(keys.vk());
    for (r, w) in results.iter().zip(&ws) {
        let (proof, public, _) = r.result.as_ref().unwrap();
        assert_eq!(public, &w.public_inputs());
        assert!(verify_proof(&pvk, proof, public));
    }
}

/// zkr's prover computes exactly ark-groth16's proof: the same witness and the same
/// randomness `(r, s)` through `create_proof_with_reduction_and_matrices` and through
/// `zkr_prover::groth16::create_proof` (with both MSM engines) give the same three points, and
/// the proof verifies with ark-groth16's own verifier.
#[test]
fn zkr_prover_equals_ark_groth16() {
    use ark_bn254::Bn254;
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use zkr_prover::groth16::{create_proof, MsmEngine};
    use zkr_prover::prove::assignment;

    let k = keys();
    use ark_std::rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    for w in witnesses() {
        let circuit = zkr_circuits::circuit::BatchCircuit::new(w.clone()).unwrap();
        let public = circuit.public_inputs();
        let full = assignment(circuit, &k.matrices).unwrap();
        for _ in 0..2 {
            let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
            let ark = zkr_prover::qap::Groth16::create_proof_with_reduction_and_matrices(
                &k.pk,
                r,
                s,
                &k.matrices.matrices,
                k.matrices.num_instance_variables,
                k.matrices.num_constraints,
                &full,
            )
            .unwrap();
            for engine in [MsmEngine::Zkr, MsmEngine::Arkworks] {
                let (ours, t) = create_proof(&k.pk, &k.matrices, &full, r, s, engine).unwrap();
                assert_eq!(ours, ark, "{engine:?}");
                assert!(t.total() >= t.msm_total());
            }
            let pvk = ark_groth16::prepare_verifying_key(&k.pk.vk);
            assert!(Groth16::<Bn254>::verify_proof(&pvk, &ark, &public).unwrap());
        }
    }
    // r = 0 takes ark-groth16's branch without B in G1; still the same proof.
    let full = assignment(
        zkr_circuits::circuit::BatchCircuit::new(witnesses()[0].clone()).unwrap(),
        &k.matrices,
    )
    .unwrap();
    let s = Fr::rand(&mut rng);
    let ark = zkr_prover::qap::Groth16::create_proof_with_reduction_and_matrices(
        &k.pk,
        Fr::from(0u64),
        s,
        &k.matrices.matrices,
        k.matrices.num_instance_variables,
        k.matrices.num_constraints,
        &full,
    )
    .unwrap();
    let (ours, _) =
        create_proof(&k.pk, &k.matrices, &full, Fr::from(0u64), s, MsmEngine::Zkr).unwrap();
    assert_eq!(ours, ark);
    // A wrong-length assignment is an error, not a panic.
    assert!(create_proof(&k.pk, &k.matrices, &full[1..], s, s, MsmEngine::Zkr).is_err());
}

/// zkr's setup (`zkr_prover::generator`: from the matrices, the key's points batch-affine) gives
/// ark-groth16's proving key byte for byte: ark-groth16's generator on the batch circuit itself,
/// with the same seeded randomness, for two seeds and two circuit sizes.
#[test]
fn setup_gives_ark_groth16s_keys() {
    use ark_serialize::CanonicalSerialize;
    use rand_chacha::rand_core::SeedableRng;
    use zkr_prover::keys::blank_circuit;
    use zkr_prover::qap::Groth16;

    let bytes = |pk: &ark_groth16::ProvingKey<ark_bn254::Bn254>| {
        let mut bytes = Vec::new();
        pk.serialize_uncompressed(&mut bytes).unwrap();
        bytes
    };
    for (params, seed) in [(params(), 11), (CircuitParams::new(2, 1).unwrap(), 12)] {
        let zkr = KeySet::generate(params, Some(seed)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let ark =
            Groth16::generate_random_parameters_with_reduction(blank_circuit(params), &mut rng)
                .unwrap();
        assert!(
            bytes(&zkr.pk) == bytes(&ark),
            "zkr's and ark-groth16's proving keys differ ({params:?}, seed {seed})"
        );
    }
}
