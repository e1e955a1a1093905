//! The client of HTTP destinations: hyper's pooled HTTP/1 client over rustls, with the SSRF
//! guard in its resolver and one deadline for the whole request.
//!
//! reqwest's own layers (its request builder, redirect and retry wrappers, the URL converted
//! again for every request) were about a tenth of the drain's CPU. An HTTP destination has one
//! fixed URL, no redirects and no proxy, so hyper's client is all it needs. In the bench, the
//! drain to one destination went from 28,000–38,000 to 38,000–41,000 events/s with it
//! (docs/benchmarks.md, session 11).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use auditrelay_core::destination::url_guard::blocked_reason;

use crate::failure::{DeliveryError, describe_transport};

/// GitLab's timeouts for streaming requests (the whole request's is configurable).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The marker error of a refused address, found again in the client's error chain.
#[derive(Debug)]
pub(super) struct Blocked(pub(super) &'static str);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "is blocked: {}", self.0)
    }
}

impl std::error::Error for Blocked {}

/// The addresses a connection may use; refused when a name resolves only to local ones.
pub(super) fn public_addresses(found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Blocked> {
    let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| blocked_reason(a.ip()).is_none()).collect();
    if allowed.is_empty() {
        let reason = found.first().and_then(|a| blocked_reason(a.ip())).unwrap_or("Host cannot be resolved or invalid");
        return Err(Blocked(reason));
    }
    Ok(allowed)
}

/// How much of an answer's body is read; the rest is not waited for.
const MAX_ANSWER_BODY: usize = 64 * 1024;

/// A destination's answer: what the sink looks at.
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<HeaderValue>,
    pub body: Bytes,
}

/// A connection pool for one destination. Cloning shares the pool.
#[derive(Clone)]
pub struct HttpClient {
    // Behind an `Arc`: the client's configuration is large, and a sink holds it inline.
    client: Arc<Client<hyper_rustls::HttpsConnector<HttpConnector<Resolver>>, Full<Bytes>>>,
    timeout: Duration,
}

impl HttpClient {
    /// Without `allow_local`, every address a name resolves to is checked when connecting.
    pub fn new(allow_local: bool, timeout: Duration) -> HttpClient {
        let mut http = HttpConnector::new_with_resolver(Resolver { allow_local });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT.min(timeout)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        HttpClient { client: Arc::new(client), timeout }
    }

    /// POSTs `body` with `headers` and reads the answer, all within the request's deadline.
    pub async fn post(&self, uri: &Uri, headers: HeaderMap, body: Bytes) -> Result<Answer, DeliveryError> {
        let mut request =
            Request::post(uri.clone()).body(Full::new(body)).map_err(|e| DeliveryError::auth(e.to_string()))?;
        *request.headers_mut() = headers;
        let exchange = async {
            let response = self.client.request(request).await.map_err(request_error)?;
            let (parts, incoming) = response.into_parts();
            // A body longer than the limit is not read to its end: the connection is closed.
            let body =
                Limited::new(incoming, MAX_ANSWER_BODY).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Ok(Answer { status: parts.status, retry_after: parts.headers.get(RETRY_AFTER).cloned(), body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => {
                Err(DeliveryError::transient(format!("timed out: no answer within {} s", self.timeout.as_secs())))
            }
        }
    }
}

/// A refused address (the SSRF guard) is the destination's to fix; anything else is transient.
fn request_error(error: hyper_util::client::legacy::Error) -> DeliveryError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        let blocked = e
            .downcast_ref::<Blocked>()
            .or_else(|| e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()?.downcast_ref::<Blocked>()));
        if let Some(blocked) = blocked {
            return DeliveryError::auth(format!("destination URL {blocked}"));
        }
        source = e.source();
    }
    let what = if error.is_connect() { "could not connect" } else { "request failed" };
    describe_transport("", what, &error)
}

/// Resolves names with the system's resolver and, without `allow_local`, refuses loopback,
/// private, link-local and metadata addresses, so a destination cannot be pointed at the inside
/// of the network, even by a DNS answer that changes after the destination was checked.
#[derive(Clone, Copy)]
pub(super) struct Resolver {
    allow_local: bool,
}

type Resolving = Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if allow_local {
                return Ok(found.into_iter());
            }
            public_addresses(found).map(Vec::into_iter).map_err(std::io::Error::other)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_local_addresses_are_dropped_and_all_local_is_refused() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let mixed = public_addresses(vec![addr("10.0.0.1:0"), addr("93.184.216.34:0")]).unwrap();
        assert_eq!(mixed, [addr("93.184.216.34:0")], "a rebinding answer's private address is never used");
        let only_local = public_addresses(vec![addr("127.0.0.1:0"), addr("[fd00::1]:0")]).unwrap_err();
        assert_eq!(only_local.to_string(), "is blocked: Requests to localhost are not allowed");
        assert!(public_addresses(vec![]).is_err());
    }

    /// An `https` destination is spoken to in TLS: the first bytes on the wire are a TLS
    /// handshake record (a ClientHello), and a peer that is not TLS fails the request.
    #[tokio::test]
    async fn https_destinations_get_a_tls_handshake() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri: Uri = format!("https://{}/in", listener.local_addr().unwrap()).parse().unwrap();
        let peer = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            stream.read_exact(&mut first).await.unwrap();
            first
        });
        let client = HttpClient::new(true, Duration::from_secs(5));
        let error = client.post(&uri, HeaderMap::new(), Bytes::from_static(b"{}")).await.err().expect("no TLS peer");
        assert_eq!(peer.await.unwrap(), [0x16, 0x03, 0x01], "a TLS handshake record");
        assert_eq!(error.kind, crate::FailureKind::Transient, "{error}");
    }

    /// A name that resolves only to local addresses is refused when connecting (the literal
    /// `localhost` is refused earlier by the sink; here the resolver's check is what runs).
    #[tokio::test]
    async fn a_name_resolving_to_local_addresses_is_refused_by_the_resolver() {
        let client = HttpClient::new(false, Duration::from_secs(5));
        let uri: Uri = "http://localhost:9/in".parse().unwrap();
        let error = client.post(&uri, HeaderMap::new(), Bytes::new()).await.err().expect("refused");
        assert_eq!(error.kind, crate::FailureKind::Auth, "{error}");
        assert_eq!(error.message, "destination URL is blocked: Requests to localhost are not allowed");
    }
}
