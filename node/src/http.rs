//! The JSON-over-HTTP conventions shared by `zkr l1` and `zkr node`.
//!
//! Every answer is JSON. Errors are `{"error": "<message>", "kind": "<stable name>"}` with a 4xx
//! status for the client's mistakes (400 malformed, 404 unknown, 409 duplicate, 413 too large,
//! 422 refused by the rules, 429 full) and 5xx for the server's (500 storage, 503 halted).

use serde::Serialize;
use std::io::Read;
use tiny_http::{Header, Method, Request, Response, Server};

/// Status and JSON body.
pub type Answer = (u16, String);

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: String,
    kind: &'a str,
}

/// A JSON answer.
pub fn json<T: Serialize>(status: u16, v: &T) -> Answer {
    (
        status,
        serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
    )
}

/// A JSON error.
pub fn error(status: u16, kind: &str, msg: impl ToString) -> Answer {
    json(
        status,
        &ErrorBody {
            error: msg.to_string(),
            kind,
        },
    )
}

/// Parses a JSON body, or answers 400.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            400,
            "malformed_request",
            format!("malformed JSON body: {e}"),
        )
    })
}

fn respond(req: Request, (status, body): Answer) {
    let header =
        Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("static header");
    let _ = req.respond(
        Response::from_string(body)
            .with_status_code(status)
            .with_header(header),
    );
}

/// How many requests are read and answered at once. A client that sends its body slowly holds
/// one of them; the others keep serving.
pub const WORKERS: usize = 4;

/// Answers requests on [`WORKERS`] threads until the server is closed. Bodies over `max_body`
/// bytes get 413 without reaching `handle`. `handle` serializes what must be atomic itself
/// (both services lock their state for the whole request).
pub fn serve<H>(server: Server, max_body: usize, handle: H)
where
    H: Fn(&Method, &str, &[u8]) -> Answer + Send + Sync + 'static,
{
    let server = std::sync::Arc::new(server);
    let handle = std::sync::Arc::new(handle);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, handle) = (server.clone(), handle.clone());
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    answer(req, max_body, &*handle);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}

fn answer(mut req: Request, max_body: usize, handle: &dyn Fn(&Method, &str, &[u8]) -> Answer) {
    let too_big = req.body_length().is_some_and(|n| n > max_body);
    let mut body = Vec::new();
    let read = if too_big {
        Ok(0)
    } else {
        req.as_reader()
            .take(max_body as u64 + 1)
            .read_to_end(&mut body)
    };
    let answer = if too_big || body.len() > max_body {
        error(
            413,
            "too_large",
            format!("request body over {max_body} bytes"),
        )
    } else if let Err(e) = read {
        error(400, "malformed_request", format!("reading the body: {e}"))
    } else {
        let method = req.method().clone();
        let url = req.url().to_string();
        let answer = handle(&method, &url, &body);
        tracing::info!(%method, %url, status = answer.0, "request");
        answer
    };
    respond(req, answer);
}
