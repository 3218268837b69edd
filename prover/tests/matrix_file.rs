//! `matrices.bin`: the constraint matrices kept in the key directory. Loading keys reads them
//! only when the running executable wrote them and they hash to the keys' digest; any other
//! file (damaged, truncated, from another build, for other keys) is ignored, the matrices are
//! built from the circuit as before, and the file is written again.

mod key_dir;
#[path = "../../circuits/tests/mutate/mod.rs"]
mod mutate;

use key_dir::*;
use mutate::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{ConstraintMatrices, KeySet, MatrixSource};
use zkr_prover::matrix_file::{self, Unusable};

/// The loaded matrices are the circuit's, entry for entry.
fn assert_circuits(m: &ConstraintMatrices, built: &ConstraintMatrices) {
    assert_eq!(m.matrices, built.matrices);
    assert_eq!(m.digest, built.digest);
    assert_eq!(
        (
            m.num_instance_variables,
            m.num_witness_variables,
            m.num_constraints
        ),
        (
            built.num_instance_variables,
            built.num_witness_variables,
            built.num_constraints
        )
    );
}

/// The keys in `dir` load with matrices built from the circuit (the file there is not usable),
/// equal to `keys`'; the load writes the file again, and the next load reads it.
fn assert_rebuilt_then_read(dir: &Path, keys: &KeySet) {
    let loaded = KeySet::load(dir).unwrap();
    assert_eq!(loaded.matrices.source, MatrixSource::Circuit);
    assert_circuits(&loaded.matrices, &keys.matrices);
    let again = KeySet::load(dir).unwrap();
    assert_eq!(again.matrices.source, MatrixSource::File);
    assert_circuits(&again.matrices, &keys.matrices);
}

#[test]
fn setup_writes_the_matrices_and_loading_reads_them() {
    let (dir, keys) = key_dir();
    assert!(dir.path().join(matrix_file::FILE).exists());
    let loaded = KeySet::load(dir.path()).unwrap();
    assert_eq!(loaded.matrices.source, MatrixSource::File);
    assert_circuits(&loaded.matrices, &keys.matrices);
    assert_circuits(
        &loaded.matrices,
        &ConstraintMatrices::build(params()).unwrap(),
    );
}

/// Key directories written before the file existed: the first load builds the matrices and
/// writes the file, the next one reads it.
#[test]
fn a_directory_without_the_file_gets_one() {
    let (dir, keys) = key_dir();
    std::fs::remove_file(dir.path().join(matrix_file::FILE)).unwrap();
    assert_rebuilt_then_read(dir.path(), &keys);
}

/// Another build of zkr may have another circuit: its file is not used (here: the executable's
/// hash in the header changed), and loading writes one for this executable.
#[test]
fn a_file_from_another_executable_is_not_used() {
    let (dir, keys) = key_dir();
    let path = dir.path().join(matrix_file::FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[16..48].fill(0);
    assert_eq!(
        matrix_file::read(&bytes, &keys.meta.params, &keys.meta.matrix_digest).err(),
        Some(Unusable::OtherExecutable)
    );
    std::fs::write(&path, &bytes).unwrap();
    assert_rebuilt_then_read(dir.path(), &keys);
}

/// The file of another circuit's keys, put beside these keys: its digest is not theirs.
#[test]
fn a_file_for_other_keys_is_not_used() {
    let (dir, keys) = key_dir();
    let other = tempfile::tempdir().unwrap();
    KeySet::generate(CircuitParams::new(2, 2).unwrap(), Some(7))
        .unwrap()
        .save(other.path())
        .unwrap();
    let bytes = std::fs::read(other.path().join(matrix_file::FILE)).unwrap();
    assert_eq!(
        matrix_file::read(&bytes, &keys.meta.params, &keys.meta.matrix_digest).err(),
        Some(Unusable::DigestMismatch)
    );
    std::fs::write(dir.path().join(matrix_file::FILE), &bytes).unwrap();
    assert_rebuilt_then_read(dir.path(), &keys);
}

/// Truncated files (at every section boundary and in between) and randomly damaged ones are
/// never read: the keys load with the circuit's own matrices.
#[test]
fn damaged_or_truncated_files_are_rebuilt_from_the_circuit() {
    let (dir, keys) = key_dir();
    let good = std::fs::read(dir.path().join(matrix_file::FILE)).unwrap();
    let check = |bytes: &[u8]| {
        let d = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), d.path());
        std::fs::write(d.path().join(matrix_file::FILE), bytes).unwrap();
        let loaded = KeySet::load(d.path()).unwrap();
        assert_circuits(&loaded.matrices, &keys.matrices);
        if bytes != good.as_slice() {
            assert_eq!(loaded.matrices.source, MatrixSource::Circuit);
            // Rewritten: the next load reads the file again.
            assert_eq!(
                std::fs::read(d.path().join(matrix_file::FILE)).unwrap(),
                good
            );
        }
    };
    for len in [
        0,
        15,
        16,
        47,
        48,
        79,
        80,
        95,
        96,
        127,
        128,
        131,
        132,
        good.len() / 2,
        good.len() - 1,
    ] {
        assert!(
            matrix_file::read(&good[..len], &keys.meta.params, &keys.meta.matrix_digest).is_err()
        );
        check(&good[..len]);
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        matrix_file::read(&longer, &keys.meta.params, &keys.meta.matrix_digest),
        Err(Unusable::Malformed(_))
    ));
    let mut runner = TestRunner::new(Config::with_cases(24));
    runner
        .run(&mutated_bytes(good.clone()), |bytes| {
            if bytes != good {
                assert!(
                    matrix_file::read(&bytes, &keys.meta.params, &keys.meta.matrix_digest).is_err()
                );
            }
            check(&bytes);
            Ok(())
        })
        .unwrap();
}

/// Forged counts cannot make the reader allocate more than the file holds: a header claiming
/// 2^32 − 1 constraints or coefficients is "truncated", at once.
#[test]
fn forged_counts_are_refused_before_allocating() {
    let (dir, keys) = key_dir();
    let good = std::fs::read(dir.path().join(matrix_file::FILE)).unwrap();
    // Offsets: magic 16 bytes, executable 32, digest 32, depth and slots (u64 each), then four
    // u64 counts (instance and witness variables, constraints at 112, matrices), then the
    // coefficient count (u32) at 128.
    let mut forged = good.clone();
    forged[112..120].copy_from_slice(&u64::from(u32::MAX).to_le_bytes());
    let mut forged_coefficients = good.clone();
    forged_coefficients[128..132].copy_from_slice(&u32::MAX.to_le_bytes());
    for bytes in [forged, forged_coefficients] {
        assert_eq!(
            matrix_file::read(&bytes, &keys.meta.params, &keys.meta.matrix_digest).err(),
            Some(Unusable::Malformed("truncated".into()))
        );
    }
}

/// A `circuit.json` edited to other circuit parameters (with the same digest) beside this
/// circuit's `matrices.bin`: the file is not taken for the other circuit; the other circuit's
/// matrices are built, and the keys are stale.
#[test]
fn a_file_for_other_parameters_is_not_used() {
    let (dir, keys) = key_dir();
    let other = CircuitParams::new(4, 1).unwrap();
    let bytes = std::fs::read(dir.path().join(matrix_file::FILE)).unwrap();
    assert_eq!(
        matrix_file::read(&bytes, &other, &keys.meta.matrix_digest).err(),
        Some(Unusable::OtherParams)
    );
    let mut meta = keys.meta.clone();
    meta.params = other;
    std::fs::write(
        dir.path().join("circuit.json"),
        serde_json::to_vec(&meta).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        KeySet::load(dir.path()),
        Err(zkr_prover::KeyError::Stale { .. })
    ));
}
