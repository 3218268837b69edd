//! Setup, key files and the key cache.
//!
//! A key directory holds:
//!
//! | file | content |
//! |---|---|
//! | `circuit.json` | parameters, matrix digest, sizes, and a warning that the setup is local |
//! | `proving_key.bin` | the proving key, arkworks' uncompressed canonical encoding |
//! | `verifying_key.bin` | the verifying key, same encoding |
//! | `verification_key.json` | the verifying key in snarkjs's layout |
//! | `matrices.bin` | the constraint matrices, for the executable that wrote them ([`crate::matrix_file`]) |
//!
//! A directory is reused only if its parameters and matrix digest equal the current circuit's,
//! so a changed circuit never proves with stale keys. Loading takes the matrices from
//! `matrices.bin` when the running executable wrote it (the circuit is compiled in) for these
//! parameters and its entries hash to the digest; otherwise it builds them from the circuit,
//! compares digests, and writes `matrices.bin` again (13 s against 4 s at depth 24 × 32
//! slots; 25 s before [`crate::r1cs_matrices`]).

use ark_bn254::{Bn254, Fr};
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError, SynthesisMode,
};
use ark_relations::utils::matrix::Matrix;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_std::rand::{CryptoRng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::State;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_verifier::snarkjs::VerificationKeyJson;

/// Key errors.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// I/O on a key file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A key file that does not decode or fails validation (truncated, corrupt, off-curve).
    #[error("{path}: corrupt or truncated key file: {reason}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The directory's keys are for another circuit.
    #[error("{path}: keys are for {found}, not for {wanted}; run `zkr setup` again")]
    Stale {
        /// Directory.
        path: PathBuf,
        /// What the directory holds.
        found: String,
        /// What was asked for.
        wanted: String,
    },
    /// No keys in the directory.
    #[error("{0}: no keys here; run `zkr setup` first")]
    Missing(PathBuf),
    /// Synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// The R1CS of a circuit, built once and reused by every proof.
#[derive(Clone)]
pub struct ConstraintMatrices {
    /// A, B and C.
    pub matrices: Vec<Matrix<Fr>>,
    /// Number of instance variables (1 + public inputs).
    pub num_instance_variables: usize,
    /// Number of witness variables.
    pub num_witness_variables: usize,
    /// Number of constraints.
    pub num_constraints: usize,
    /// Which rows are the same linear combination (the witness map evaluates each once).
    pub distinct_rows: crate::rows::DistinctRows,
    /// SHA-256 over the shape and every entry, hex.
    pub digest: String,
    /// Time it took to synthesize and extract them, or to read them from `matrices.bin`.
    pub synthesis_time: Duration,
    /// Where they came from.
    pub source: MatrixSource,
}

/// Where a key set's constraint matrices came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixSource {
    /// Synthesized from the circuit.
    Circuit,
    /// Read from the key directory's `matrices.bin` ([`crate::matrix_file`]).
    File,
}

impl std::fmt::Display for MatrixSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatrixSource::Circuit => "built from the circuit",
            MatrixSource::File => "read from matrices.bin",
        })
    }
}

impl ConstraintMatrices {
    /// Synthesizes the circuit for `params` (on an all-noop batch: the shape does not depend on
    /// the witness) and extracts its matrices.
    pub fn build(params: CircuitParams) -> Result<Self, KeyError> {
        Self::from_circuit(blank_circuit(params))
    }

    /// Synthesizes any circuit and extracts its matrices.
    pub fn from_circuit<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, KeyError> {
        let t = Instant::now();
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        circuit.generate_constraints(cs.clone())?;
        let num_instance_variables = cs.num_instance_variables();
        let num_witness_variables = cs.num_witness_variables();
        let num_constraints = cs.num_constraints();
        // zkr's extraction (`r1cs_matrices`), or ark-relations' where it does not apply.
        let extracted = {
            let system = cs.borrow().ok_or(SynthesisError::MissingCS)?;
            crate::r1cs_matrices::extract(&system)
        };
        let matrices = match extracted {
            Some(matrices) => matrices,
            None => crate::r1cs_matrices::by_ark_relations(&cs)?,
        };
        let mut m = Self::from_parts(
            matrices,
            num_instance_variables,
            num_witness_variables,
            num_constraints,
        );
        m.synthesis_time = t.elapsed();
        Ok(m)
    }

    /// Matrices extracted elsewhere (a circuit, a file), with their digest and distinct rows;
    /// `synthesis_time` is zero and `source` [`MatrixSource::Circuit`] until the caller says
    /// otherwise.
    pub fn from_parts(
        matrices: Vec<Matrix<Fr>>,
        num_instance_variables: usize,
        num_witness_variables: usize,
        num_constraints: usize,
    ) -> Self {
        // Two passes over every entry, independent of each other (about 1.5 s and 2 s at depth
        // 24 × 32 slots): side by side.
        let (digest, distinct_rows) = rayon::join(
            || {
                matrix_digest(
                    &matrices,
                    num_instance_variables,
                    num_witness_variables,
                    num_constraints,
                )
            },
            || crate::rows::DistinctRows::new(&matrices),
        );
        Self {
            distinct_rows,
            matrices,
            num_instance_variables,
            num_witness_variables,
            num_constraints,
            digest,
            synthesis_time: Duration::ZERO,
            source: MatrixSource::Circuit,
        }
    }
}

/// SHA-256 over the shape and every entry (column as u64, coefficient in its 32-byte canonical
/// encoding), hex: the matrix digest `circuit.json` records.
fn matrix_digest(
    matrices: &[Matrix<Fr>],
    num_instance_variables: usize,
    num_witness_variables: usize,
    num_constraints: usize,
) -> String {
    let mut h = Sha256::new();
    h.update(b"zkr-r1cs-v1");
    for n in [
        num_instance_variables,
        num_witness_variables,
        num_constraints,
        matrices.len(),
    ] {
        h.update((n as u64).to_le_bytes());
    }
    // One update per row: the same bytes as entry by entry, a fraction of the calls.
    let mut buf = Vec::new();
    for m in matrices {
        for row in m {
            buf.clear();
            buf.extend_from_slice(&(row.len() as u64).to_le_bytes());
            for (coeff, col) in row {
                buf.extend_from_slice(&(*col as u64).to_le_bytes());
                buf.extend_from_slice(&coeff.into_bigint().to_bytes_le());
            }
            h.update(&buf);
        }
    }
    hex::encode(h.finalize())
}

/// The QAP domain size for `m`'s rows (constraints plus instance variables).
fn qap_domain_size(m: &ConstraintMatrices) -> Result<usize, KeyError> {
    crate::qap::domain_size::<Fr>(m.num_constraints + m.num_instance_variables).ok_or(
        KeyError::Synthesis(SynthesisError::PolynomialDegreeTooLarge),
    )
}

/// An all-noop batch circuit for `params` (on a placeholder deployment: the circuit's shape does
/// not depend on the chain id or the operator's key).
pub fn blank_circuit(params: CircuitParams) -> BatchCircuit {
    let placeholder = Genesis {
        chain_id: 0,
        operator: SecretKey::from_seed([0; 32]).public_key(),
        operator_l1: Default::default(),
    };
    let out = State::genesis(params, &placeholder)
        .apply_batch(&[], &[])
        .expect("an empty batch on the empty state is valid");
    BatchCircuit::new(out.witness).expect("shape matches params")
}

/// `circuit.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    /// Circuit parameters.
    pub params: CircuitParams,
    /// Matrix digest.
    pub matrix_digest: String,
    /// Constraints.
    pub num_constraints: usize,
    /// Witness variables.
    pub num_witness_variables: usize,
    /// Public inputs.
    pub num_public_inputs: usize,
    /// Size of the QAP domain the keys were made for ([`crate::qap::domain_size`]); 0 in key
    /// directories written before the mixed-radix reduction (their domain was the next power of
    /// two), which are refused as stale.
    #[serde(default)]
    pub qap_domain_size: usize,
    /// How the setup was made.
    pub setup: String,
    /// SHA-256 of `proving_key.bin` as setup wrote it, hex.
    pub proving_key_sha256: String,
}

/// A proving key, its verifying key and the circuit's matrices.
pub struct KeySet {
    /// Metadata.
    pub meta: KeyMeta,
    /// Groth16 proving key.
    pub pk: ProvingKey<Bn254>,
    /// The R1CS matrices the key was made for.
    pub matrices: ConstraintMatrices,
}

/// Where a key set came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Generated now.
    Generated,
    /// Loaded from the cache.
    Cached,
}

const META: &str = "circuit.json";
const PK: &str = "proving_key.bin";
const VK: &str = "verifying_key.bin";
const VK_JSON: &str = "verification_key.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl KeySet {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<Bn254> {
        &self.pk.vk
    }

    /// Runs the circuit-specific setup. `seed = None` draws the toxic waste from the operating
    /// system; a seed makes the setup reproducible and **insecure** (tests and benchmarks only).
    ///
    /// The circuit is synthesized once, and the keys are generated from its matrices
    /// ([`crate::generator`]: ark-groth16's keys, computed faster).
    pub fn generate(params: CircuitParams, seed: Option<u64>) -> Result<Self, KeyError> {
        let matrices = ConstraintMatrices::build(params)?;
        use crate::generator::generate_proving_key;
        let (pk, setup) = match seed {
            None => (
                generate_proving_key(&matrices, &mut OsRng)?,
                "local setup from OS randomness: for prototypes and teaching, not for value"
                    .to_string(),
            ),
            Some(s) => (
                generate_proving_key(&matrices, &mut rand_chacha::ChaCha20Rng::seed_from_u64(s))?,
                format!("INSECURE deterministic setup from seed {s}: tests and benchmarks only"),
            ),
        };
        let mut pk_bytes = Vec::new();
        pk.serialize_uncompressed(&mut pk_bytes).expect("in-memory");
        let meta = KeyMeta {
            params,
            matrix_digest: matrices.digest.clone(),
            num_constraints: matrices.num_constraints,
            num_witness_variables: matrices.num_witness_variables,
            num_public_inputs: matrices.num_instance_variables - 1,
            qap_domain_size: qap_domain_size(&matrices)?,
            setup,
            proving_key_sha256: hex::encode(Sha256::digest(&pk_bytes)),
        };
        Ok(Self { meta, pk, matrices })
    }

    /// Writes the key files into `dir` (created if needed); each file is written to a temporary
    /// name and renamed, so a crash never leaves a half-written key under the final name.
    pub fn save(&self, dir: &Path) -> Result<(), KeyError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        write_atomic(&dir.join(PK), |w| {
            self.pk
                .serialize_uncompressed(w)
                .map_err(std::io::Error::other)
        })?;
        write_atomic(&dir.join(VK), |w| {
            self.pk
                .vk
                .serialize_uncompressed(w)
                .map_err(std::io::Error::other)
        })?;
        let vk_json = serde_json::to_vec_pretty(&VerificationKeyJson::from_vk(&self.pk.vk))
            .expect("serializable");
        write_atomic(&dir.join(VK_JSON), |w| w.write_all(&vk_json))?;
        self.save_matrices(dir)?;
        // The metadata goes last: a directory without it is not a key directory.
        let meta = serde_json::to_vec_pretty(&self.meta).expect("serializable");
        write_atomic(&dir.join(META), |w| w.write_all(&meta))
    }

    /// Writes `matrices.bin` for the running executable ([`crate::matrix_file`]); nothing
    /// where the executable cannot be read (no later load could use the file).
    fn save_matrices(&self, dir: &Path) -> Result<(), KeyError> {
        match crate::matrix_file::executable_sha256() {
            Some(exe) => write_atomic(&dir.join(crate::matrix_file::FILE), |w| {
                crate::matrix_file::write(w, &self.matrices, &self.meta.params, &exe)
            }),
            None => Ok(()),
        }
    }

    /// The constraint matrices for `meta`: from the directory's `matrices.bin` when the running
    /// executable wrote it and it matches the keys' digest, otherwise built from the circuit
    /// (and `matrices.bin` written again, if the directory can be written).
    fn load_matrices(dir: &Path, meta: &KeyMeta) -> Result<ConstraintMatrices, KeyError> {
        let t = Instant::now();
        let path = dir.join(crate::matrix_file::FILE);
        let why = match fs::read(&path) {
            Ok(bytes) => {
                match crate::matrix_file::read(&bytes, &meta.params, &meta.matrix_digest) {
                    Ok(mut m) => {
                        m.synthesis_time = t.elapsed();
                        m.source = MatrixSource::File;
                        return Ok(m);
                    }
                    Err(e) => e.to_string(),
                }
            }
            Err(e) => e.to_string(),
        };
        tracing::info!(
            "{}: {why}; building the constraint matrices from the circuit",
            path.display()
        );
        ConstraintMatrices::build(meta.params)
    }

    /// Reads `circuit.json` of a key directory.
    pub fn read_meta(dir: &Path) -> Result<KeyMeta, KeyError> {
        let path = dir.join(META);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(dir.into()))
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let meta: KeyMeta = serde_json::from_slice(&bytes).map_err(|e| KeyError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        meta.params.validate().map_err(|e| KeyError::Corrupt {
            path,
            reason: e.to_string(),
        })?;
        Ok(meta)
    }

    /// Loads and validates the keys in `dir` for the circuit it declares, checking them against
    /// a freshly built circuit (parameters and matrix digest).
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let meta = Self::read_meta(dir)?;
        let matrices = Self::load_matrices(dir, &meta)?;
        if matrices.digest != meta.matrix_digest {
            return Err(KeyError::Stale {
                path: dir.into(),
                found: format!(
                    "a circuit with matrix digest {}",
                    short(&meta.matrix_digest)
                ),
                wanted: format!("the current circuit (digest {})", short(&matrices.digest)),
            });
        }
        let domain = qap_domain_size(&matrices)?;
        if meta.qap_domain_size != domain {
            return Err(KeyError::Stale {
                path: dir.into(),
                found: match meta.qap_domain_size {
                    0 => "an earlier QAP reduction (a power-of-two domain)".to_string(),
                    d => format!("a QAP domain of size {d}"),
                },
                wanted: format!("the current reduction's domain of size {domain}"),
            });
        }
        let pk = read_proving_key(&dir.join(PK), &meta.proving_key_sha256)?;
        if pk.vk.gamma_abc_g1.len() != matrices.num_instance_variables
            || pk.a_query.len() != matrices.num_instance_variables + matrices.num_witness_variables
            || pk.h_query.len() + 1 != domain
        {
            return Err(KeyError::Corrupt {
                path: dir.join(PK),
                reason: "key sizes do not match the circuit".into(),
            });
        }
        let keys = Self { meta, pk, matrices };
        if keys.matrices.source == MatrixSource::Circuit {
            // Built and found equal to the keys' digest: the next load by this executable can
            // read them. A directory that cannot be written only loses that saving.
            if let Err(e) = keys.save_matrices(dir) {
                tracing::warn!("could not write {}: {e}", crate::matrix_file::FILE);
            }
        }
        Ok(keys)
    }

    /// Loads only the verifying key of `dir` (validated).
    pub fn load_vk(dir: &Path) -> Result<(KeyMeta, VerifyingKey<Bn254>), KeyError> {
        let meta = Self::read_meta(dir)?;
        let vk = read_validated(&dir.join(VK))?;
        Ok((meta, vk))
    }

    /// The keys in `dir` if they are for `params` and the current circuit; otherwise a new setup,
    /// saved to `dir`.
    pub fn load_or_generate(
        dir: &Path,
        params: CircuitParams,
        seed: Option<u64>,
    ) -> Result<(Self, KeySource), KeyError> {
        match Self::read_meta(dir) {
            Ok(meta) if meta.params == params => match Self::load(dir) {
                Ok(k) => return Ok((k, KeySource::Cached)),
                Err(KeyError::Stale { .. }) => {}
                Err(e) => return Err(e),
            },
            Ok(_) | Err(KeyError::Missing(_)) => {}
            Err(e) => return Err(e),
        }
        let k = Self::generate(params, seed)?;
        k.save(dir)?;
        Ok((k, KeySource::Generated))
    }

    /// The cache directory for `params` under `root`.
    pub fn cache_dir(root: &Path, params: &CircuitParams) -> PathBuf {
        root.join(format!("d{}-b{}", params.depth, params.batch_size))
    }
}

/// The first 16 characters of a digest, for messages; the digest read from `circuit.json` may be
/// shorter, or not even ASCII.
fn short(digest: &str) -> &str {
    digest.get(..16).unwrap_or(digest)
}

/// Writes `path` through a temporary file named after this process (two processes writing the
/// same file, say a node and a prover refreshing `matrices.bin`, never write into one temporary
/// file), synced, then renamed over `path`.
fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<(), KeyError> {
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let run = || -> std::io::Result<()> {
        let mut w = BufWriter::new(fs::File::create(&tmp)?);
        f(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    run().map_err(io(path))
}

/// Reads the proving key. A file whose SHA-256 equals the one recorded at setup is byte for byte
/// the key setup produced (every point came out of group operations) and is decoded without
/// re-checking each point — the check costs seconds, mostly G2 subgroup checks. Any other file
/// is decoded with full validation, to say precisely what is wrong, and refused.
fn read_proving_key(path: &Path, expected_sha256: &str) -> Result<ProvingKey<Bn254>, KeyError> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            KeyError::Missing(path.into())
        } else {
            io(path)(e)
        }
    })?;
    let corrupt = |reason: String| KeyError::Corrupt {
        path: path.into(),
        reason,
    };
    if hex::encode(Sha256::digest(&bytes)) == expected_sha256 {
        let mut r = &bytes[..];
        let pk = ProvingKey::deserialize_with_mode(&mut r, Compress::No, Validate::No)
            .map_err(|e| corrupt(e.to_string()))?;
        if !r.is_empty() {
            return Err(corrupt("trailing bytes after the key".into()));
        }
        return Ok(pk);
    }
    let mut r = &bytes[..];
    ProvingKey::<Bn254>::deserialize_with_mode(&mut r, Compress::No, Validate::Yes)
        .map_err(|e| corrupt(e.to_string()))?;
    if !r.is_empty() {
        return Err(corrupt("trailing bytes after the key".into()));
    }
    Err(corrupt(
        "the key decodes but is not the one this directory's setup wrote (SHA-256 differs)".into(),
    ))
}

/// Reads a canonical uncompressed encoding with full validation (on curve, in subgroup) and no
/// trailing bytes.
pub fn read_validated<T: CanonicalDeserialize + CanonicalSerialize>(
    path: &Path,
) -> Result<T, KeyError> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            KeyError::Missing(path.into())
        } else {
            io(path)(e)
        }
    })?;
    let corrupt = |reason: String| KeyError::Corrupt {
        path: path.into(),
        reason,
    };
    let mut r = bytes.as_slice();
    let v = T::deserialize_with_mode(&mut r, Compress::No, Validate::Yes)
        .map_err(|e| corrupt(e.to_string()))?;
    if !r.is_empty() {
        return Err(corrupt("trailing bytes after the key".into()));
    }
    // A point at infinity is decoded from its flag alone, whatever coordinates the file holds
    // beside it: such a file is not what setup wrote, so only the canonical encoding is taken.
    let mut canonical = Vec::with_capacity(bytes.len());
    v.serialize_uncompressed(&mut canonical)
        .map_err(|e| corrupt(e.to_string()))?;
    if canonical != bytes {
        return Err(corrupt("not the canonical encoding of the key".into()));
    }
    Ok(v)
}

/// The operating system's randomness, as an arkworks RNG.
pub struct OsRng;

impl RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom_fill(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), ark_std::rand::Error> {
        getrandom_fill(dest);
        Ok(())
    }
}

impl CryptoRng for OsRng {}

fn getrandom_fill(dest: &mut [u8]) {
    use std::io::Read as _;
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(dest))
        .expect("the operating system's randomness (/dev/urandom) is unavailable");
}
