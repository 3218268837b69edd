//! A key directory to damage: the smallest circuit's keys, saved in a fresh temporary
//! directory, and a way to copy one (shared by `hostile_keys.rs` and `matrix_file.rs`).

use std::path::Path;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::KeySet;

/// The smallest circuit's parameters (depth 2, one slot).
pub fn params() -> CircuitParams {
    CircuitParams::new(2, 1).unwrap()
}

/// The smallest circuit's keys (seeded: tests only), saved in a fresh directory.
pub fn key_dir() -> (tempfile::TempDir, KeySet) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeySet::generate(params(), Some(7)).unwrap();
    keys.save(dir.path()).unwrap();
    (dir, keys)
}

/// Copies every file of `from` into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}
