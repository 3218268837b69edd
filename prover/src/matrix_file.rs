//! The constraint matrices on disk: `matrices.bin` in a key directory, so that loading keys
//! does not synthesize the circuit again.
//!
//! Loading keys used to build the R1CS matrices from the circuit every time, to prove with the
//! matrices the keys were made for and to refuse keys made for another circuit (the matrix
//! digest in `circuit.json`). Building them means synthesizing the whole circuit and letting
//! ark-relations inline every linear combination: 30 s at depth 24 with 32 slots (6.2, 19.8 and
//! 4.0 million entries in A, B and C), 2.6 s at the demo's depth 16 with 4: most of what a
//! `zkr prove`, a node's start or a remote prover's start spent before proving. (With
//! [`crate::r1cs_matrices`] instead of ark-relations' inlining, building them takes 13 s at
//! depth 24 × 32; reading this file still saves most of that.)
//!
//! The matrices are a function of the circuit's parameters and of the circuit's code, and the
//! code is compiled into the executable. So the file records the SHA-256 of the executable that
//! wrote it (the one that ran the setup, or that built the matrices from the circuit and found
//! them equal to the keys' digest), and [`read`] returns the matrices only to that same
//! executable, only for the circuit parameters in `circuit.json`, and only if their entries
//! hash to the digest in the file and in `circuit.json`.
//! Anything else — another build of zkr, a missing, truncated or altered file, a file for other
//! keys — reads as "not usable" and the caller builds the matrices from the circuit as before
//! (and writes the file again for the running executable). The file can therefore only save
//! time: it never decides which circuit is proven.
//!
//! Format (little-endian): the magic `zkr-matrices-v1\0`; the executable's SHA-256 (32 bytes);
//! the matrix digest (32 bytes); the circuit's depth and slots (u64 each); the numbers of instance variables, witness variables,
//! constraints and matrices (u64 each); the distinct coefficients (u32 count, then 32 bytes
//! each, canonical); then per matrix, per row, the row's length (u32) and its entries (column
//! u32, coefficient index u32). Eight bytes an entry: 240 MB at depth 24 × 32 slots, 27 MB at
//! 16 × 4.

use crate::keys::ConstraintMatrices;
use ark_bn254::Fr;
use ark_ff::{BigInt, BigInteger, PrimeField};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::OnceLock;
use zkr_circuits::CircuitParams;

/// The file's name in a key directory.
pub const FILE: &str = "matrices.bin";

const MAGIC: &[u8; 16] = b"zkr-matrices-v1\0";

/// Why a matrices file was not used (the caller then builds the matrices from the circuit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// The running executable's own bytes could not be read, so no file can be trusted.
    #[error("the running executable could not be read to identify it")]
    NoExecutable,
    /// Written by another executable (another build of zkr may have another circuit).
    #[error("written by another build of zkr")]
    OtherExecutable,
    /// For other circuit parameters than the keys' (`circuit.json`).
    #[error("made for other circuit parameters")]
    OtherParams,
    /// Not a matrices file, truncated, or with entries out of range.
    #[error("not a valid matrices file: {0}")]
    Malformed(String),
    /// The entries do not hash to the digest the file or `circuit.json` gives.
    #[error("its entries do not match the keys' matrix digest")]
    DigestMismatch,
}

/// SHA-256 of the running executable, computed once per process; `None` where it cannot be read.
///
/// On Linux `/proc/self/exe` is the file the process was started from even if another file has
/// since been put at its path (an upgrade in place), so a new build never inherits the old
/// build's matrices.
pub fn executable_sha256() -> Option<[u8; 32]> {
    static HASH: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    *HASH.get_or_init(|| {
        let file = std::fs::File::open("/proc/self/exe")
            .or_else(|_| std::fs::File::open(std::env::current_exe()?))
            .ok()?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => h.update(&buf[..n]),
                Err(_) => return None,
            }
        }
        Some(h.finalize().into())
    })
}

/// Writes `m`, the matrices of the circuit for `params`, in the file's format, stamped with
/// the running executable (`exe`).
pub fn write(
    w: &mut impl Write,
    m: &ConstraintMatrices,
    params: &CircuitParams,
    exe: &[u8; 32],
) -> std::io::Result<()> {
    let digest = hex::decode(&m.digest).map_err(std::io::Error::other)?;
    w.write_all(MAGIC)?;
    w.write_all(exe)?;
    w.write_all(&digest)?;
    for n in [params.depth as u64, params.batch_size as u64] {
        w.write_all(&n.to_le_bytes())?;
    }
    for n in [
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
        m.matrices.len(),
    ] {
        w.write_all(&(n as u64).to_le_bytes())?;
    }
    // The distinct coefficients, in order of first appearance.
    let mut index: HashMap<Fr, u32> = HashMap::new();
    let mut coefficients: Vec<Fr> = Vec::new();
    for matrix in &m.matrices {
        for row in matrix {
            for (coeff, _) in row {
                index.entry(*coeff).or_insert_with(|| {
                    coefficients.push(*coeff);
                    (coefficients.len() - 1) as u32
                });
            }
        }
    }
    w.write_all(&(coefficients.len() as u32).to_le_bytes())?;
    for c in &coefficients {
        w.write_all(&c.into_bigint().to_bytes_le())?;
    }
    let mut buf = Vec::new();
    for matrix in &m.matrices {
        for row in matrix {
            buf.clear();
            buf.extend_from_slice(&(row.len() as u32).to_le_bytes());
            for (coeff, col) in row {
                buf.extend_from_slice(&(*col as u32).to_le_bytes());
                buf.extend_from_slice(&index[coeff].to_le_bytes());
            }
            w.write_all(&buf)?;
        }
    }
    Ok(())
}

/// The matrices in `bytes`, if they were written by the running executable for the circuit
/// `params` and hash to `expected_digest` (both from `circuit.json`).
pub fn read(
    bytes: &[u8],
    params: &CircuitParams,
    expected_digest: &str,
) -> Result<ConstraintMatrices, Unusable> {
    let exe = executable_sha256().ok_or(Unusable::NoExecutable)?;
    let mut r = Reader(bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return Err(Unusable::Malformed("no zkr-matrices-v1 header".into()));
    }
    if r.take(32)? != exe {
        return Err(Unusable::OtherExecutable);
    }
    let digest = hex::encode(r.take(32)?);
    if digest != expected_digest {
        return Err(Unusable::DigestMismatch);
    }
    let depth = u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
    let batch_size = u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
    if (depth, batch_size) != (params.depth as u64, params.batch_size as u64) {
        return Err(Unusable::OtherParams);
    }
    let num_instance_variables = r.count()?;
    let num_witness_variables = r.count()?;
    let num_constraints = r.count()?;
    let num_matrices = r.count()?;
    let columns = num_instance_variables
        .checked_add(num_witness_variables)
        .ok_or_else(|| Unusable::Malformed("variable count overflows".into()))?;
    if num_matrices != 3 {
        return Err(Unusable::Malformed(format!(
            "{num_matrices} matrices, not A, B and C"
        )));
    }
    let num_coefficients = r.u32()? as usize;
    // Every count below is checked against the bytes that remain before anything is allocated,
    // so a forged count cannot ask for more memory than the file's size.
    r.ensure(num_coefficients, 32)?;
    let mut coefficients = Vec::with_capacity(num_coefficients);
    for _ in 0..num_coefficients {
        let mut limbs = [0u64; 4];
        for limb in &mut limbs {
            *limb = u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
        }
        coefficients.push(
            Fr::from_bigint(BigInt(limbs))
                .ok_or_else(|| Unusable::Malformed("a coefficient is not below r".into()))?,
        );
    }
    r.ensure(num_constraints.saturating_mul(num_matrices), 4)?;
    let mut matrices = Vec::with_capacity(num_matrices);
    for _ in 0..num_matrices {
        let mut matrix = Vec::with_capacity(num_constraints);
        for _ in 0..num_constraints {
            let len = r.u32()? as usize;
            r.ensure(len, 8)?;
            let mut row = Vec::with_capacity(len);
            for _ in 0..len {
                let col = r.u32()? as usize;
                let k = r.u32()? as usize;
                if col >= columns {
                    return Err(Unusable::Malformed(format!(
                        "column {col} of {columns} variables"
                    )));
                }
                let coeff = *coefficients.get(k).ok_or_else(|| {
                    Unusable::Malformed(format!("coefficient {k} of {num_coefficients}"))
                })?;
                row.push((coeff, col));
            }
            matrix.push(row);
        }
        matrices.push(matrix);
    }
    if !r.0.is_empty() {
        return Err(Unusable::Malformed("trailing bytes".into()));
    }
    let m = ConstraintMatrices::from_parts(
        matrices,
        num_instance_variables,
        num_witness_variables,
        num_constraints,
    );
    if m.digest != expected_digest {
        return Err(Unusable::DigestMismatch);
    }
    Ok(m)
}

/// The unread rest of a file.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Unusable> {
        if self.0.len() < n {
            return Err(Unusable::Malformed("truncated".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, Unusable> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A u64 count that must fit the platform's `usize` and the 32-bit indices of the entries.
    fn count(&mut self) -> Result<usize, Unusable> {
        let n = u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
        if n > u32::MAX as u64 {
            return Err(Unusable::Malformed(format!("count {n} out of range")));
        }
        Ok(n as usize)
    }

    /// At least `count` items of `size` bytes remain.
    fn ensure(&self, count: usize, size: usize) -> Result<(), Unusable> {
        match count.checked_mul(size) {
            Some(n) if n <= self.0.len() => Ok(()),
            _ => Err(Unusable::Malformed("truncated".into())),
        }
    }
}
