//! The bench's [`Launcher`]: an in-process `serve` with the bench's options on top of the defaults.

use auditrelay_bench::{Launcher, ServeFuture, ServerOptions};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::cli::{DeliveryArgs, ServeArgs};

pub fn launcher() -> Arc<dyn Launcher> {
    Arc::new(InProcess)
}

struct InProcess;

impl Launcher for InProcess {
    fn serve(
        &self,
        options: ServerOptions,
        listener: TcpListener,
        shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> ServeFuture {
        let mut serve = ServeArgs::embedded(options.data_dir);
        serve.database_url = options.database_url;
        serve.root_token = Some(options.root_token);
        serve.root_password = Some(options.root_password);
        if let Some(in_flight) = options.in_flight {
            serve.delivery.delivery_in_flight = in_flight;
        }
        if let Some(seconds) = options.breaker_open_seconds {
            serve.delivery.breaker_open_seconds = seconds;
        }
        Box::pin(crate::app::run(serve, listener, shutdown, false))
    }

    fn default_in_flight(&self) -> usize {
        DeliveryArgs::default().delivery_in_flight
    }
}
