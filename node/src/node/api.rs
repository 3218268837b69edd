//! The node's HTTP JSON API.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /status` | parameters, `chain_id` (the L1 deployment's: wallets sign for it), `operator` (the key of account 0), roots, sealed / proven / final batch counts, mempool size, `halted` |
//! | `GET /account/N` | `{"index", "pubkey", "balance", "nonce", "next_nonce", "spendable"}` |
//! | `GET /account/key/X/Y` | the same, for the account of a public key (decimal coordinates) |
//! | `POST /tx` | body: a signed transfer or withdrawal (`{"type": "transfer", ...}`); `{"hash", "status": "pending"}` |
//! | `GET /tx/0x…` | `{"hash", "status", "batch", "slot", "reason", "tx", "received_unix_ms"}` |
//! | `GET /batch/N` | the batch: stage, roots, transaction hashes, deposit ids, timestamps, proof times, prover, proof |
//! | `POST /prover/lease` | `{"worker", "key_fingerprint"}`; `{"job": {...} or null, "params", "key_fingerprint", "lease_ms"}` |
//! | `POST /prover/renew` | `{"lease_id"}`; `{"batch", "lease_ms", "deadline_unix_ms"}` |
//! | `POST /prover/release` | `{"lease_id"}`; `{"batch", "released": true}` |
//! | `POST /prover/proof` | `{"lease_id", "batch", "proof", "synthesis_s", "prove_s"}`; `{"batch", "stage": "proven"}` |
//! | `GET /prover/jobs` | the jobs waiting for a proof and who holds them |
//!
//! A transaction's `status` is `pending` (in the mempool), `included` (executed in a sealed
//! batch), `proven`, `final` (the L1 accepted its batch) or `rejected` (with `reason`).
//! `next_nonce` and `spendable` count the account's pending transactions: a wallet signs with
//! `next_nonce`. Errors follow [`crate::http`]: 400 malformed, 404 unknown, 408 body not
//! received in time (`request_timeout`), 409 duplicate, 413 too large, 422 refused (`unknown_account`, `bad_signature`, `stale_nonce`,
//! `future_nonce`, `insufficient_balance`, `unsupported_type`), 429 mempool full, 503 halted.
//! The prover endpoints answer with the kinds of [`LeaseError`]: 404 `unknown_lease`, 409
//! `wrong_keys` / `wrong_batch` / `already_proven`, 410 `lease_expired`, 422 `malformed_proof` /
//! `invalid_proof`. The rules are in [`super::core`] and `docs/node.md`.

use super::core::{parse_hash, Core, LeaseError};
use super::job::WitnessJson;
use super::store::{be, cf, BatchStage, ProofJob, TxStatus};
use crate::http::{error, json, parse, Answer, Method};
use serde::Deserialize;
use serde_json::json as j;
use std::time::Instant;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::field::{fr_from_decimal, fr_to_decimal};
use zkr_circuits::tx::Tx;

/// Largest accepted request body (a signed transaction is about 400 bytes).
pub const MAX_BODY: usize = 64 * 1024;

fn account(core: &Core, index: u64) -> Answer {
    let Some(a) = core.state().account(index) else {
        return error(404, "unknown_account", format!("unknown account {index}"));
    };
    let (next_nonce, spendable) = core.pending_view(index).expect("account exists");
    json(
        200,
        &j!({
            "index": index,
            "pubkey": a.pubkey,
            "balance": a.balance,
            "nonce": a.nonce,
            "next_nonce": next_nonce,
            "spendable": spendable as u64,
        }),
    )
}

fn stage_name(s: BatchStage) -> &'static str {
    match s {
        BatchStage::Sealed => "included",
        BatchStage::Proven => "proven",
        BatchStage::Final => "final",
    }
}

fn tx(core: &Core, hash: &str) -> Answer {
    let Some(h) = parse_hash(hash) else {
        return error(
            400,
            "malformed_request",
            "a transaction hash is 0x and 64 hex digits",
        );
    };
    let rec = match core.store().tx_record(&h) {
        Ok(Some(r)) => r,
        Ok(None) => return error(404, "unknown_tx", format!("no transaction {hash}")),
        Err(e) => return error(500, "storage", e),
    };
    let (status, batch, slot, reason) = match &rec.status {
        TxStatus::Pending => ("pending".to_string(), None, None, None),
        TxStatus::Rejected { reason } => ("rejected".into(), None, None, Some(reason.clone())),
        TxStatus::Included { batch, slot } => match core.store().batch_record(*batch) {
            Ok(Some(b)) => (stage_name(b.stage).into(), Some(*batch), Some(*slot), None),
            Ok(None) => return error(500, "storage", format!("batch {batch} is missing")),
            Err(e) => return error(500, "storage", e),
        },
    };
    json(
        200,
        &j!({
            "hash": rec.hash,
            "status": status,
            "batch": batch,
            "slot": slot,
            "reason": reason,
            "tx": rec.tx,
            "received_unix_ms": rec.received_unix_ms,
        }),
    )
}

fn batch(core: &Core, n: u64) -> Answer {
    let rec = match core.store().batch_record(n) {
        Ok(Some(r)) => r,
        Ok(None) => return error(404, "unknown_batch", format!("no batch {n}")),
        Err(e) => return error(500, "storage", e),
    };
    let (synthesis_s, prove_s, prover, proof) =
        match core.store().get::<ProofJob>(cf::PROOF_JOBS, &be(n)) {
            Ok(Some(ProofJob::Proven {
                synthesis_s,
                prove_s,
                prover,
                proof,
            })) => (Some(synthesis_s), Some(prove_s), prover, Some(proof)),
            _ => (None, None, None, None),
        };
    let kinds: Vec<&str> = rec.txs.iter().map(|t| t.tx_type().name()).collect();
    json(
        200,
        &j!({
            "number": rec.number,
            "stage": stage_name(rec.stage),
            "old_root": fr_to_decimal(&rec.old_root),
            "new_root": fr_to_decimal(&rec.new_root),
            "tx_types": kinds,
            "tx_hashes": rec.tx_hashes,
            "request_ids": rec.request_ids,
            "sealed_unix_ms": rec.sealed_unix_ms,
            "proven_unix_ms": rec.proven_unix_ms,
            "final_unix_ms": rec.final_unix_ms,
            "synthesis_s": synthesis_s,
            "prove_s": prove_s,
            "prover": prover,
            "proof": proof,
        }),
    )
}

/// The node's status as JSON.
pub fn status(core: &Core) -> serde_json::Value {
    let (sealed, proven, fin) = core.heights();
    j!({
        "params": core.params(),
        "chain_id": core.state().chain_id(),
        "operator": core.genesis().operator,
        "state_root": fr_to_decimal(&core.state().root()),
        "final_root": core.final_root().map(|r| fr_to_decimal(&r)).ok(),
        "accounts": core.state().accounts().len(),
        "batches": { "sealed": sealed, "proven": proven, "final": fin },
        "mempool": core.mempool_len(),
        "requests_waiting": core.requests_waiting(),
        "halted": core.halted(),
    })
}

/// Longest worker name kept (longer ones are cut).
const MAX_WORKER_NAME: usize = 64;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LeaseRequest {
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    key_fingerprint: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseRef {
    lease_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofUpload {
    lease_id: String,
    batch: u64,
    proof: serde_json::Value,
    #[serde(default)]
    synthesis_s: f64,
    #[serde(default)]
    prove_s: f64,
}

fn refused(e: LeaseError) -> Answer {
    let (status, kind) = e.status_and_kind();
    error(status, kind, e)
}

fn lease(core: &mut Core, body: &[u8]) -> Answer {
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        LeaseRequest::default()
    } else {
        match parse::<LeaseRequest>(body) {
            Ok(r) => r,
            Err(a) => return a,
        }
    };
    let worker: String = req
        .worker
        .unwrap_or_else(|| "anonymous".into())
        .chars()
        .take(MAX_WORKER_NAME)
        .collect();
    let job = match core.lease_job(&worker, req.key_fingerprint.as_deref(), Instant::now()) {
        Ok(j) => j,
        Err(e) => return refused(e),
    };
    let job = job.map(|job| {
        j!({
            "batch": job.number,
            "lease_id": job.lease_id,
            "lease_ms": job.lease.as_millis() as u64,
            "deadline_unix_ms": job.deadline_unix_ms,
            "public_inputs": job.public_inputs.iter().map(fr_to_decimal).collect::<Vec<_>>(),
            "witness": WitnessJson::from_witness(&job.witness),
        })
    });
    json(
        200,
        &j!({
            "job": job,
            "params": core.params(),
            "key_fingerprint": core.key_fingerprint(),
            "lease_ms": core.lease_duration().as_millis() as u64,
        }),
    )
}

fn prover_jobs(core: &mut Core) -> Answer {
    let jobs = core.jobs(Instant::now());
    json(
        200,
        &j!({
            "params": core.params(),
            "key_fingerprint": core.key_fingerprint(),
            "lease_ms": core.lease_duration().as_millis() as u64,
            "jobs": jobs,
        }),
    )
}

fn number(s: &str, what: &str) -> Result<u64, Answer> {
    s.parse::<u64>()
        .map_err(|e| error(400, "malformed_request", format!("bad {what} `{s}`: {e}")))
}

/// Handles one request.
pub fn handle(core: &mut Core, method: &Method, url: &str, body: &[u8]) -> Answer {
    let path = url.split_once('?').map(|(p, _)| p).unwrap_or(url);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (Method::Get, ["status"]) => json(200, &status(core)),
        (Method::Get, ["account", "key", x, y]) => {
            let key = fr_from_decimal(x)
                .and_then(|x| fr_from_decimal(y).map(|y| (x, y)))
                .map_err(|e| e.to_string())
                .and_then(|(x, y)| PublicKey::from_coordinates(x, y).map_err(|e| e.to_string()));
            match key {
                Err(e) => error(400, "malformed_request", format!("bad public key: {e}")),
                Ok(pk) => match core.state().index_of(&pk) {
                    Some(i) => account(core, i),
                    None => error(404, "unknown_account", "no account for this key"),
                },
            }
        }
        (Method::Get, ["account", n]) => match number(n, "account index") {
            Ok(i) => account(core, i),
            Err(a) => a,
        },
        (Method::Get, ["tx", h]) => tx(core, h),
        (Method::Get, ["batch", n]) => match number(n, "batch number") {
            Ok(n) => batch(core, n),
            Err(a) => a,
        },
        (Method::Post, ["tx"]) => match parse::<Tx>(body) {
            Err(a) => a,
            Ok(t) => match core.submit(t) {
                Ok(rec) => json(200, &j!({ "hash": rec.hash, "status": "pending" })),
                Err(e) => {
                    let (status, kind) = e.status_and_kind();
                    error(status, kind, e)
                }
            },
        },
        (Method::Post, ["prover", "lease"]) => lease(core, body),
        (Method::Post, ["prover", "renew"]) => match parse::<LeaseRef>(body) {
            Err(a) => a,
            Ok(r) => match core.renew_lease(&r.lease_id, Instant::now()) {
                Ok(deadline) => json(
                    200,
                    &j!({
                        "lease_id": r.lease_id,
                        "lease_ms": core.lease_duration().as_millis() as u64,
                        "deadline_unix_ms": deadline,
                    }),
                ),
                Err(e) => refused(e),
            },
        },
        (Method::Post, ["prover", "release"]) => match parse::<LeaseRef>(body) {
            Err(a) => a,
            Ok(r) => match core.release_lease(&r.lease_id, Instant::now()) {
                Ok(batch) => json(200, &j!({ "batch": batch, "released": true })),
                Err(e) => refused(e),
            },
        },
        (Method::Post, ["prover", "proof"]) => match parse::<ProofUpload>(body) {
            Err(a) => a,
            Ok(u) => match core.upload_proof(
                &u.lease_id,
                u.batch,
                &u.proof,
                u.synthesis_s,
                u.prove_s,
                Instant::now(),
            ) {
                Ok(()) => json(200, &j!({ "batch": u.batch, "stage": "proven" })),
                Err(e) => refused(e),
            },
        },
        (Method::Get, ["prover", "jobs"]) => prover_jobs(core),
        _ => error(404, "not_found", format!("no endpoint {method} {path}")),
    }
}
