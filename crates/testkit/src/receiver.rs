//! A real HTTP receiver on loopback for delivery tests: records what arrives, answers as told
//! (success, a status, `Retry-After`, a hang, or a connection closed mid-response), can stop
//! listening for a while (connections refused), and counts requests in flight at once. What it
//! received can be written as a capture file for `auditrelay verify` (`write_capture`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use crate::cut_stream::{CutListener, CutSwitch};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    Ok,
    Status(u16),
    /// A status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Waits this long, then answers 200 (a client with a shorter timeout gives up first).
    Hang(Duration),
    /// Reads the request, starts a `200` answer and closes the connection inside its status
    /// line: the client never hears a complete answer, and the request is not recorded.
    CloseMidResponse,
    /// Answers `status` to `per_mille` of the requests at random (recording nothing for them)
    /// and 200 to the rest: a partly failing destination.
    FailSome(u16, u16),
    /// Answers `status` to requests that carry `X-Auditrelay-Checkpoint` (in-band checkpoints),
    /// and 200 to the rest.
    FailCheckpoints(u16),
}

/// One request that was answered with success.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    /// The body's exact bytes (`body` is their lossy UTF-8 text).
    pub raw: Bytes,
    pub at: Instant,
    /// Wall-clock time of receipt, for the capture's `received_at`.
    pub received_at: std::time::SystemTime,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// This request as one capture line (docs/completeness.md): lowercase header names (repeated
    /// headers joined by `, `), the body as text, or as `body_base64` when it is not UTF-8.
    pub fn capture_line(&self) -> Value {
        use base64::Engine;
        let mut headers = serde_json::Map::new();
        for name in self.headers.keys() {
            let values: Vec<String> =
                self.headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
            headers.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
        }
        let received_at: chrono::DateTime<chrono::Utc> = self.received_at.into();
        let mut line = serde_json::json!({
            "received_at": received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "headers": headers,
        });
        match std::str::from_utf8(&self.raw) {
            Ok(text) => line["body"] = Value::String(text.to_owned()),
            Err(_) => line["body_base64"] = base64::engine::general_purpose::STANDARD.encode(&self.raw).into(),
        }
        line
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    attempts: AtomicUsize,
    answer: Mutex<Option<Answer>>,
    once: Mutex<VecDeque<Answer>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Clone)]
pub struct Receiver {
    base: String,
    port: u16,
    inner: Arc<Inner>,
    /// Stops the current listener (None while it is stopped).
    stop: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

impl Receiver {
    /// Starts listening on 127.0.0.1 with a free port.
    pub async fn start() -> Receiver {
        Receiver::start_on(0).await
    }

    /// A loopback port where nothing listens (connections are refused), for
    /// [`Receiver::start_on`] to bring up later.
    pub fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    }

    /// Starts listening on 127.0.0.1:`port` (0: a free port).
    pub async fn start_on(port: u16) -> Receiver {
        let inner = Arc::new(Inner::default());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind receiver");
        let address = listener.local_addr().expect("address");
        let stop = Arc::new(Mutex::new(Some(serve(listener, inner.clone()))));
        Receiver { base: format!("http://{address}"), port: address.port(), inner, stop }
    }

    /// Stops listening (new connections are refused, open ones are closed) for `pause`, then
    /// listens on the same port again, keeping what was received. Returns at once.
    pub fn refuse_connections_for(&self, pause: Duration) {
        let Some(stop) = self.stop.lock().unwrap().take() else { return };
        let _ = stop.send(());
        let (port, inner, slot) = (self.port, self.inner.clone(), self.stop.clone());
        tokio::spawn(async move {
            tokio::time::sleep(pause).await;
            // The port was ours a moment ago; a short retry covers the old socket's teardown.
            for _ in 0..100 {
                if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                    *slot.lock().unwrap() = Some(serve(listener, inner));
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the receiver could not listen on port {port} again");
        });
    }

    /// Whether the receiver is listening (not inside [`Receiver::refuse_connections_for`]).
    pub fn is_listening(&self) -> bool {
        self.stop.lock().unwrap().is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answer every following request this way.
    pub fn answer(&self, answer: Answer) {
        *self.inner.answer.lock().unwrap() = Some(answer);
    }

    /// Answer the next `n` requests this way, then as before.
    pub fn answer_next(&self, n: usize, answer: Answer) {
        self.inner.once.lock().unwrap().extend(std::iter::repeat_n(answer, n));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Requests of any outcome.
    pub fn attempts(&self) -> usize {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// The most requests that were in flight at one moment.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }

    /// The `id`s of the received payloads, in arrival order.
    pub fn ids(&self) -> Vec<Value> {
        self.received().iter().map(|r| r.json()["id"].clone()).collect()
    }

    /// Writes every request received so far, in order of receipt, as a capture file (NDJSON).
    pub fn write_capture(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut text = String::new();
        for received in self.received() {
            text.push_str(&received.capture_line().to_string());
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Waits until at least `count` requests were received (panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(Instant::now() < deadline, "only {} of {count} requests arrived within {within:?}", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Serves `inner` on `listener` until the returned sender fires; then every connection is dropped.
fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) -> oneshot::Sender<()> {
    let app = Router::new().fallback(handle).with_state(inner).into_make_service_with_connect_info::<CutSwitch>();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        // Dropping the server future closes the listener and, unlike a graceful shutdown, every
        // open connection too: a stopped receiver is really unreachable.
        tokio::select! {
            _ = axum::serve(CutListener::new(listener), app) => {}
            _ = stopped => {}
        }
    });
    stop
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(cut): ConnectInfo<CutSwitch>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inner.attempts.fetch_add(1, Ordering::SeqCst);
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let answer = inner.once.lock().unwrap().pop_front().or(*inner.answer.lock().unwrap()).unwrap_or(Answer::Ok);
    let response = match answer {
        Answer::Ok => {
            record(&inner, uri.path(), headers, &body);
            StatusCode::OK.into_response()
        }
        Answer::Hang(wait) => {
            tokio::time::sleep(wait).await;
            record(&inner, uri.path(), headers, &body);
            StatusCode::OK.into_response()
        }
        Answer::Status(code) => {
            (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "refused by the test receiver")
                .into_response()
        }
        Answer::CloseMidResponse => {
            cut.cut();
            StatusCode::OK.into_response()
        }
        Answer::FailSome(code, per_mille) if rand::random_range(0..1000) < per_mille => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "failed at random by the test receiver",
        )
            .into_response(),
        Answer::FailSome(..) => {
            record(&inner, uri.path(), headers, &body);
            StatusCode::OK.into_response()
        }
        Answer::FailCheckpoints(code) if headers.contains_key("x-auditrelay-checkpoint") => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "checkpoint refused by the test receiver",
        )
            .into_response(),
        Answer::FailCheckpoints(_) => {
            record(&inner, uri.path(), headers, &body);
            StatusCode::OK.into_response()
        }
        Answer::RetryAfter(code, seconds) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
            (status, [("retry-after", seconds.to_string())], "slow down").into_response()
        }
    };
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn record(inner: &Inner, path: &str, headers: HeaderMap, body: &Bytes) {
    let received = Received {
        path: path.to_owned(),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
        raw: body.clone(),
        at: Instant::now(),
        received_at: std::time::SystemTime::now(),
    };
    inner.received.lock().unwrap().push(received);
}
