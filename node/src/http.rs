//! The JSON-over-HTTP conventions shared by `zkr l1` and `zkr node`, and the server both run.
//!
//! Every answer is JSON. Errors are `{"error": "<message>", "kind": "<stable name>"}` with a 4xx
//! status for the client's mistakes (400 malformed, 404 unknown, 408 request not received in
//! time, 409 duplicate, 413 too large, 422 refused by the rules, 429 full) and 5xx for the
//! server's (500 storage or `internal`: a handler that panicked, 503 halted).
//!
//! The server ([`serve`]) is hyper (HTTP/1.1) on a small tokio runtime of its own: a connection
//! is a task, not a thread, so a client that connects and stalls costs a connection slot and a
//! few kilobytes until a deadline closes it. Every connection has a deadline to send its request
//! head ([`HEAD_TIMEOUT`], also how long an idle keep-alive connection is kept), its body
//! ([`BODY_TIMEOUT`], then 408 `request_timeout`) and to take each part of the answer
//! ([`SEND_TIMEOUT`]); at most [`MAX_CONNECTIONS`] are served at once. The handlers stay
//! synchronous and run on the runtime's blocking pool, so one that waits on a lock or on disk
//! never holds up the connections.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Sleep;

/// Status and JSON body.
pub type Answer = (u16, String);

/// How long a client has to send a request head (the request line and headers) from the moment
/// the server waits for one: after it connects, and after each answer on a keep-alive
/// connection, so this is also how long an idle keep-alive connection stays open. A client
/// that has not sent the whole head by then is disconnected without an answer.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client has to send the whole request body once its head arrived. A body not
/// received by then is answered 408 `request_timeout` and the connection is closed.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write of the answer may make no progress (a client that does not read what it
/// asked for) before the connection is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once. Further connections are not accepted until one
/// closes: they wait in the listening socket's backlog (the operating system's queue; once it
/// is full, the clients' TCP stacks retry their connection attempts) and are served in turn; a stalled connection gives its slot back within [`HEAD_TIMEOUT`] or
/// [`BODY_TIMEOUT`].
pub const MAX_CONNECTIONS: usize = 256;

/// The largest request head (request line and headers) read; a larger one is refused (431).
pub const MAX_HEAD: usize = 16 * 1024;

/// Threads that run the connections (handlers run on the blocking pool, at most one per
/// connection, so at most [`MAX_CONNECTIONS`] threads).
const RUNTIME_THREADS: usize = 2;

/// Environment variables that override [`HEAD_TIMEOUT`] and [`BODY_TIMEOUT`] in milliseconds.
/// For tests, which must not wait the production deadlines; not meant for deployments.
pub const HEAD_TIMEOUT_ENV: &str = "ZKR_HTTP_TEST_HEAD_TIMEOUT_MS";
/// See [`HEAD_TIMEOUT_ENV`].
pub const BODY_TIMEOUT_ENV: &str = "ZKR_HTTP_TEST_BODY_TIMEOUT_MS";

/// A request's method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
    /// Any other method, as sent.
    Other(String),
}

impl Method {
    fn from_hyper(m: &hyper::Method) -> Self {
        match m.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        }
    }

    /// The method's name as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Other(m) => m,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Binds a listening socket on `addr` (e.g. `127.0.0.1:0`: a free port), for [`serve`].
pub fn bind(addr: &str) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))
}

/// The deadlines in force: the constants, or the test overrides.
#[derive(Clone, Copy, Debug)]
struct Limits {
    head: Duration,
    body: Duration,
    send: Duration,
    max_body: usize,
}

fn env_ms(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(default)
}

/// [`serve`] for a service whose every request runs against one `state`, one at a time, so
/// each call is atomic (the L1 services).
pub fn serve_exclusive<T: Send + 'static>(
    listener: std::net::TcpListener,
    max_body: usize,
    state: T,
    handle: fn(&mut T, &Method, &str, &[u8]) -> Answer,
) {
    let state = std::sync::Mutex::new(state);
    serve(listener, max_body, move |method, url, body| {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        handle(&mut s, method, url, body)
    });
}

/// The address `listener` listens on, as text (`fallback` if the system cannot say).
pub fn listening_on(listener: &std::net::TcpListener, fallback: &str) -> String {
    listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| fallback.to_string())
}

/// Answers requests on `listener` until the process ends. Bodies over `max_body` bytes get 413
/// without reaching `handle` (and without being read when `Content-Length` announces them).
/// `handle` runs on a blocking thread and serializes what must be atomic itself (both services
/// lock their state for the whole request). Blocks the calling thread.
pub fn serve<H>(listener: std::net::TcpListener, max_body: usize, handle: H)
where
    H: Fn(&Method, &str, &[u8]) -> Answer + Send + Sync + 'static,
{
    let limits = Limits {
        head: env_ms(HEAD_TIMEOUT_ENV, HEAD_TIMEOUT),
        body: env_ms(BODY_TIMEOUT_ENV, BODY_TIMEOUT),
        send: SEND_TIMEOUT,
        max_body,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .max_blocking_threads(MAX_CONNECTIONS)
        .thread_name("zkr-http")
        .enable_io()
        .enable_time()
        .build()
        .expect("starting the HTTP runtime");
    runtime.block_on(accept_loop(listener, limits, Arc::new(handle)));
}

async fn accept_loop<H>(listener: std::net::TcpListener, limits: Limits, handle: Arc<H>)
where
    H: Fn(&Method, &str, &[u8]) -> Answer + Send + Sync + 'static,
{
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listening socket");
    let listener = tokio::net::TcpListener::from_std(listener).expect("registering the listener");
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head)
        .max_buf_size(MAX_HEAD)
        .keep_alive(true);
    let builder = Arc::new(builder);
    loop {
        // Accept only with a free slot: beyond MAX_CONNECTIONS, clients wait in the backlog.
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                tracing::warn!(error = %e, "accepting a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (builder, handle) = (builder.clone(), handle.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let handle = handle.clone();
                async move { Ok::<_, Infallible>(answer(req, limits, handle).await) }
            });
            let io = TokioIo::new(SendDeadline::new(stream, limits.send));
            if let Err(e) = builder.serve_connection(io, service).await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(slot);
        });
    }
}

enum BodyError {
    TooLarge,
    Read(hyper::Error),
}

/// Reads the whole body, refusing it as soon as it passes `max` bytes.
async fn read_body(mut body: Incoming, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

fn response((status, body): Answer, close: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if close {
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

async fn answer<H>(req: Request<Incoming>, limits: Limits, handle: Arc<H>) -> Response<Full<Bytes>>
where
    H: Fn(&Method, &str, &[u8]) -> Answer + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let method = Method::from_hyper(&parts.method);
    let url = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let body = match receive(body, limits).await {
        Ok(body) => body,
        Err(refusal) => {
            tracing::info!(%method, %url, status = refusal.0, "request");
            // The rest of the body is not read: the connection cannot carry another request.
            return response(refusal, true);
        }
    };
    // A handler may wait on a lock or on disk: never on the connections' threads. If the client
    // goes away meanwhile, the handler still runs to the end (its effects are atomic).
    let answer = tokio::task::spawn_blocking(move || {
        let answer = handle(&method, &url, &body);
        tracing::info!(%method, %url, status = answer.0, "request");
        answer
    })
    .await
    .unwrap_or_else(|e| error(500, "internal", format!("the handler failed: {e}")));
    response(answer, false)
}

/// The whole body within the deadline and the size limit, or the error to answer.
async fn receive(body: Incoming, limits: Limits) -> Result<Vec<u8>, Answer> {
    let max = limits.max_body;
    let too_large = || error(413, "too_large", format!("request body over {max} bytes"));
    // Content-Length, when sent, is the body's exact size: refuse before reading any of it.
    if body.size_hint().lower() > max as u64 {
        return Err(too_large());
    }
    match tokio::time::timeout(limits.body, read_body(body, max)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(BodyError::TooLarge)) => Err(too_large()),
        Ok(Err(BodyError::Read(e))) => Err(error(
            400,
            "malformed_request",
            format!("reading the body: {e}"),
        )),
        Err(_) => Err(error(
            408,
            "request_timeout",
            format!(
                "the request body did not arrive within {} ms",
                limits.body.as_millis()
            ),
        )),
    }
}

/// A TCP stream whose writes fail when they make no progress for a while: a client that stops
/// reading its answer cannot hold its connection forever.
struct SendDeadline {
    io: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl SendDeadline {
    fn new(io: TcpStream, limit: Duration) -> Self {
        SendDeadline {
            io,
            limit,
            stalled: None,
        }
    }

    /// Passes on a write's outcome; a write pending for longer than `limit` fails.
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client does not read its answer",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Instant;

    /// A client that asks for a large answer and never reads it loses its connection once the
    /// writes stall for the send deadline; it does not hold its slot forever.
    #[test]
    fn a_client_that_does_not_read_its_answer_is_disconnected() {
        const ANSWER: usize = 64 << 20;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = Limits {
            head: Duration::from_secs(5),
            body: Duration::from_secs(5),
            send: Duration::from_millis(300),
            max_body: 1024,
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let handle = |_: &Method, _: &str, _: &[u8]| (200, "x".repeat(ANSWER));
            runtime.block_on(accept_loop(listener, limits, Arc::new(handle)));
        });
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(s, "GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        // Long past the send deadline, with the socket buffers full.
        std::thread::sleep(Duration::from_secs(2));
        let t = Instant::now();
        let mut got = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        assert!(got < ANSWER, "the whole answer ({got} bytes) was sent");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }
}
