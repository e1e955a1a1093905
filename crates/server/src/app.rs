//! Starting and stopping the service: open the store, start the log writer, bootstrap, serve
//! HTTP until shutdown, then let in-flight commits finish.

use anyhow::Context;
use auditrelay_delivery::Engine;
use auditrelay_store::{LogWriter, Store};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;

use auditrelay_api::{AppState, router};
use auditrelay_service::Service;
use auditrelay_service::secret_box::SecretBox;

use crate::bootstrap;
use crate::cli::ServeArgs;

/// `auditrelay serve`: runs until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(&args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    run(args, listener, shutdown_signal(), true).await
}

/// The data dir holds the database, the secret key and the root credentials: created 0700,
/// and tightened to 0700 if it exists with a wider mode.
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

pub async fn open_store(args: &ServeArgs) -> anyhow::Result<Store> {
    private_dir(&args.data_dir).with_context(|| format!("cannot create data dir {}", args.data_dir.display()))?;
    Ok(match &args.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Store::open_postgres(url).await.context("cannot open the PostgreSQL store")?
        }
        Some(url) => anyhow::bail!("--database-url must be a postgres:// URL, got '{url}'"),
        None => Store::open_sqlite(&args.data_dir).await.context("cannot open the embedded SQLite store")?,
    })
}

/// Serves on `listener` until `shutdown` completes. With `announce`, prints the `listening on`
/// line (the signal that the service is ready; the bench runs servers in-process without it).
pub async fn run(
    args: ServeArgs,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    announce: bool,
) -> anyhow::Result<()> {
    let store = open_store(&args).await?;
    let (log, writer) = LogWriter::start(store.clone()).await?;
    let secrets = SecretBox::load(args.secret_key.as_deref(), &args.data_dir)?;
    let mut engine_config = args.delivery.engine_config(&args.data_dir);
    let signer = auditrelay_service::stream_signer::instance_signer(&store, &secrets)
        .await
        .context("cannot load the stream signing key")?;
    let signer = Arc::new(signer);
    engine_config.checkpoints.signer = Some(signer.clone());
    let node_id = engine_config.node_id.clone();
    let archive = start_archive(&args, &store, &log, &engine_config)?;
    let engine = Engine::new(store.clone(), log.head(), engine_config);
    let service = Service::new(store.clone(), log.clone(), secrets)
        .with_engine(engine.clone())
        .with_stream_signer(signer)
        .with_archive(archive.as_ref().map(|(archive, _)| archive.clone()));
    let service = Arc::new(service);
    // Header values stored in plain text by earlier versions are sealed now (reads open both).
    let sealed = store.seal_plain_header_values().await.context("cannot seal stored header values")?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed custom header values stored in plain text");
    }
    bootstrap::ensure_root(&service, &args).await?;
    // Destinations made before routing versions were kept get theirs (see `route_versions`).
    log.commit_unit(seed_route_versions).await?;
    // The service holds the writer's handles from here on: when they are gone, it drains.
    drop(log);

    service.refresh_delivery().await;
    let refresher = tokio::spawn(refresh_periodically(Arc::downgrade(&service)));

    let state = AppState { service, graphql: auditrelay_api::graphql::schema(), metrics: metrics_handle() };
    let address = listener.local_addr()?;
    if announce {
        println!("auditrelay listening on http://{address}");
    }
    let read_timeout = Duration::from_secs(args.request_read_timeout_seconds.max(1));
    crate::http_server::serve(listener, router(state), read_timeout, shutdown).await?;
    refresher.abort();
    if let Some((archive, archiver)) = archive {
        // Safe at any point: the archiver resumes from ClickHouse's own position.
        archiver.abort();
        let _ = archiver.await;
        if let Err(error) = archive.release_lease(&store, &node_id).await {
            tracing::warn!(%error, "could not release the archive lease");
        }
    }
    // Workers stop; what they had in flight stays after their cursors and is sent again later.
    engine.shutdown().await;

    // The router (and with it every handle to the log writer) is gone: the writer drains its
    // queue, commits, and stops.
    if tokio::time::timeout(Duration::from_secs(30), writer).await.is_err() {
        tracing::error!("the event log writer did not finish within 30 s");
    }
    store.close().await;
    tracing::info!("auditrelay stopped");
    Ok(())
}

/// With `--clickhouse-url`: the archive handle and its archiver task. ClickHouse need not be up:
/// the archiver retries until it is, and reads use the operational store meanwhile.
fn start_archive(
    args: &ServeArgs,
    store: &Store,
    log: &auditrelay_store::LogWriter,
    engine: &auditrelay_delivery::EngineConfig,
) -> anyhow::Result<Option<(auditrelay_archive::Archive, tokio::task::JoinHandle<()>)>> {
    let Some(url) = &args.clickhouse_url else { return Ok(None) };
    let archive = auditrelay_archive::Archive::new(url, Duration::from_secs(30), Duration::from_secs(2))
        .context("--clickhouse-url")?;
    let config = auditrelay_archive::ArchiverConfig {
        node_id: engine.node_id.clone(),
        lease_ttl: engine.lease_ttl,
        ..Default::default()
    };
    let task = archive.spawn(store.clone(), log.head(), config);
    Ok(Some((archive, task)))
}

/// Picks up destination changes made by other nodes sharing the database.
async fn refresh_periodically(service: std::sync::Weak<Service>) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let Some(service) = service.upgrade() else { return };
        service.refresh_delivery().await;
    }
}

/// The process-wide Prometheus recorder (installed once; later servers in the process share it).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).clone()
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn seed_route_versions(tx: &mut auditrelay_store::Tx) -> auditrelay_store::UnitFuture<'_, ()> {
    Box::pin(async move {
        tx.seed_route_versions().await?;
        Ok(((), Vec::new()))
    })
}
