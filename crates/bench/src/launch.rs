//! How the bench starts the servers it measures. The binary hands it a [`Launcher`], so the
//! bench knows nothing of the server's wiring and nothing in the service depends on the bench.

use rand::Rng;
use rand::distr::Alphanumeric;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use tokio::net::TcpListener;

/// What a bench server is started with; everything else is `serve`'s default.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// A fresh data dir, removed after the measurement.
    pub data_dir: PathBuf,
    /// A scratch PostgreSQL database, or `None` for the embedded store.
    pub database_url: Option<String>,
    /// The token (and password) of `root`, through which the bench sets up and loads the server.
    pub root_token: String,
    pub root_password: String,
    /// Requests in flight per destination (`None`: the server's default).
    pub in_flight: Option<usize>,
    /// Seconds an open breaker rests (`None`: the server's default).
    pub breaker_open_seconds: Option<u64>,
}

/// A running server until its shutdown future completes. It runs on the bench's own task, so it
/// need not be `Send`.
pub type ServeFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>>>>;

/// Starts an in-process server on a listener.
pub trait Launcher: Send + Sync {
    /// Serves on `listener` until `shutdown` completes, without announcing itself on stdout
    /// (stdout carries only the bench's results).
    fn serve(
        &self,
        options: ServerOptions,
        listener: TcpListener,
        shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> ServeFuture;

    /// Requests in flight per destination when the options leave it to the server.
    fn default_in_flight(&self) -> usize;
}

pub(crate) fn random_string(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}
