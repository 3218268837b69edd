//! The committed compiler output of `contracts/` (`contracts/out/*.json`, written by
//! `contracts/build.mjs` with the pinned solc), embedded at compile time.

use revm::primitives::Address;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `Rollup.json`.
pub const ROLLUP: &str = include_str!("../../contracts/out/Rollup.json");
/// `PoseidonT4.json` (Poseidon with 3 inputs, npm `poseidon-solidity`): measured in the gas table
/// (the aux chain's hash before full exits added the requester to each step).
pub const POSEIDON_T4: &str = include_str!("../../contracts/out/PoseidonT4.json");
/// `PoseidonT5.json` (Poseidon with 4 inputs, npm `poseidon-solidity`): the aux chain's hash.
pub const POSEIDON_T5: &str = include_str!("../../contracts/out/PoseidonT5.json");
/// `PoseidonT3.json` (Poseidon with 2 inputs, for the cross-check against circomlib's value).
pub const POSEIDON_T3: &str = include_str!("../../contracts/out/PoseidonT3.json");
/// `PoseidonT6.json` (Poseidon with 5 inputs, npm `poseidon-solidity`): the account leaf's hash,
/// for exodus withdrawals.
pub const POSEIDON_T6: &str = include_str!("../../contracts/out/PoseidonT6.json");
/// `PoseidonT9.json` (Poseidon with 8 inputs, `contracts/PoseidonT9.sol`): the 8-ary tree nodes'
/// hash, for exodus withdrawals. The rollup's constructor deploys it.
pub const POSEIDON_T9: &str = include_str!("../../contracts/out/PoseidonT9.json");
/// `contracts/PoseidonT9Constants.sol`: generated from zkr's Poseidon parameters (see the
/// `artifacts` test).
pub const POSEIDON_T9_CONSTANTS_SOL: &str = include_str!("../../contracts/PoseidonT9Constants.sol");
/// `Groth16Verifier.json`: `contracts/test/Verifier.sol`, rendered by `zkr export-verifier` for
/// the tests' key ([`TEST_KEY_SEED`] at [`TEST_KEY_DEPTH`] × [`TEST_KEY_BATCH_SIZE`]).
pub const TEST_VERIFIER: &str = include_str!("../../contracts/out/Groth16Verifier.json");
/// `Token.json`: `contracts/test/Token.sol`, a plain ERC-20, the yardstick of `zkr gas`.
pub const TOKEN: &str = include_str!("../../contracts/out/Token.json");
/// `EddsaHarness.json`: `contracts/test/EddsaHarness.sol`, the external face of
/// `contracts/BabyJubjub.sol` (Baby Jubjub EdDSA verification and point decompression, the twin
/// of `zkr_circuits::eddsa::verify_raw`) for the tests; link `PoseidonT6` at deployment.
pub const EDDSA_HARNESS: &str = include_str!("../../contracts/out/EddsaHarness.json");
/// `OptimisticRollup.json`: `contracts/OptimisticRollup.sol`, zkr settled without proofs, with
/// one-step fraud proofs (see [`crate::optimistic`]); link `PoseidonT5` and `PoseidonT6`.
pub const OPTIMISTIC_ROLLUP: &str = include_str!("../../contracts/out/OptimisticRollup.json");
/// `StepExecutor.json`: `contracts/StepExecutor.sol`, one step of a batch executed on chain (the
/// twin of `zkr_circuits::step`); link `PoseidonT5` and `PoseidonT6`.
pub const STEP_EXECUTOR: &str = include_str!("../../contracts/out/StepExecutor.json");
/// `Groth16KeyedVerifier.json`: `contracts/KeyedVerifier.sol`, the Groth16 verifier for any key
/// with one public input, the key given to its constructor (see
/// [`crate::rollup::keyed_verifier_init_code`]).
pub const KEYED_VERIFIER: &str = include_str!("../../contracts/out/Groth16KeyedVerifier.json");
/// `contracts/test/Verifier.sol` itself.
pub const TEST_VERIFIER_SOL: &str = include_str!("../../contracts/test/Verifier.sol");
/// Tree depth of the key `contracts/test/Verifier.sol` was rendered for.
pub const TEST_KEY_DEPTH: u32 = 4;
/// Batch size of that key.
pub const TEST_KEY_BATCH_SIZE: usize = 2;
/// Setup seed of that key (an insecure, reproducible setup: tests only).
pub const TEST_KEY_SEED: u64 = 11;

/// A malformed artifact.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Not the JSON `build.mjs` writes.
    #[error("artifact is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Bytecode that is not hex after linking.
    #[error("{contract}: bytecode is not hex after linking: {reason}")]
    Hex {
        /// Contract.
        contract: String,
        /// Why.
        reason: String,
    },
    /// A library the bytecode needs was not given.
    #[error("{contract} needs library {library}, which was not given")]
    MissingLibrary {
        /// Contract.
        contract: String,
        /// Library name.
        library: String,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct LinkRef {
    start: usize,
    length: usize,
}

/// One compiled contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Contract name.
    pub contract_name: String,
    /// Source unit it comes from.
    pub source_name: String,
    /// The ABI, as solc writes it.
    pub abi: serde_json::Value,
    /// Creation bytecode, hex with `0x`, with `__$…$__` placeholders for libraries.
    pub bytecode: String,
    /// Runtime bytecode, hex with `0x`.
    pub deployed_bytecode: String,
    link_references: BTreeMap<String, BTreeMap<String, Vec<LinkRef>>>,
}

impl Artifact {
    /// Parses one of the embedded artifacts.
    pub fn parse(json: &str) -> Result<Self, ArtifactError> {
        Ok(serde_json::from_str(json)?)
    }

    /// The creation bytecode with every library placeholder replaced by its address
    /// (`libraries`: library name → address).
    pub fn linked_bytecode(
        &self,
        libraries: &BTreeMap<&str, Address>,
    ) -> Result<Vec<u8>, ArtifactError> {
        let mut hex_code = self
            .bytecode
            .strip_prefix("0x")
            .unwrap_or(&self.bytecode)
            .to_string();
        for libs in self.link_references.values() {
            for (name, refs) in libs {
                let addr =
                    libraries
                        .get(name.as_str())
                        .ok_or_else(|| ArtifactError::MissingLibrary {
                            contract: self.contract_name.clone(),
                            library: name.clone(),
                        })?;
                let addr_hex = hex::encode(addr.as_slice());
                for r in refs {
                    let range = 2 * r.start..2 * (r.start + r.length);
                    if r.length != 20 || range.end > hex_code.len() {
                        return Err(ArtifactError::Hex {
                            contract: self.contract_name.clone(),
                            reason: format!("bad link reference {r:?}"),
                        });
                    }
                    hex_code.replace_range(range, &addr_hex);
                }
            }
        }
        hex::decode(&hex_code).map_err(|e| ArtifactError::Hex {
            contract: self.contract_name.clone(),
            reason: e.to_string(),
        })
    }

    /// Deployed bytecode size in bytes.
    pub fn deployed_size(&self) -> usize {
        self.deployed_bytecode.trim_start_matches("0x").len() / 2
    }
}
