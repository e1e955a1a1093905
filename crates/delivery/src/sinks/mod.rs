//! Where events go: one sink per destination category, each speaking GitLab's wire format.

pub mod gcp;
pub mod http;
pub mod http_client;
pub mod s3;
pub mod webhook_headers;

use auditrelay_core::DestinationId;
use tracing::Instrument;

use crate::failure::DeliveryError;
use crate::outgoing::Outgoing;

/// How a destination is reached.
#[derive(Clone)]
pub enum Target {
    Http(http::HttpSpec),
    Gcp(gcp::GcpSpec),
    S3(s3::S3Spec),
}

/// Endpoints of the cloud services, configurable so tests run against local servers.
#[derive(Debug, Clone, Default)]
pub struct CloudEndpoints {
    pub gcp: gcp::GcpEndpoints,
    /// An S3-compatible server instead of AWS.
    pub s3: Option<String>,
    /// The longest an HTTP destination may take to answer (`None`: GitLab's 30 s).
    pub http_timeout: Option<std::time::Duration>,
}

/// A ready sink. HTTP and S3 take one event per request; Google Cloud Logging takes several
/// entries per `entries:write`.
pub enum Sink {
    Http(http::HttpSink),
    Gcp(gcp::GcpSink),
    S3(s3::S3Sink),
}

/// Entries per Google Cloud Logging request (well under its request size limits).
const GCP_BATCH: usize = 50;

impl Sink {
    pub fn build(target: &Target, allow_local: bool, endpoints: &CloudEndpoints) -> Result<Sink, DeliveryError> {
        Ok(match target {
            Target::Http(spec) => {
                let timeout = endpoints.http_timeout.unwrap_or(http::REQUEST_TIMEOUT);
                Sink::Http(http::HttpSink::new(spec, http::HttpClient::new(allow_local, timeout), allow_local)?)
            }
            Target::Gcp(spec) => {
                let client = gcp::http_client_builder().build().map_err(|e| DeliveryError::transient(e.to_string()))?;
                Sink::Gcp(gcp::GcpSink::new(spec.clone(), endpoints.gcp.clone(), client)?)
            }
            Target::S3(spec) => Sink::S3(s3::S3Sink::new(spec.clone(), endpoints.s3.as_deref())?),
        })
    }

    /// Events sent in one request.
    pub fn unit_size(&self) -> usize {
        match self {
            Sink::Gcp(_) => GCP_BATCH,
            Sink::Http(_) | Sink::S3(_) => 1,
        }
    }

    /// Sends one unit as attempt `attempt` (from 1: retries and the breaker's probes count on)
    /// of destination `destination_id`, under a span naming both and the unit's first and last
    /// `seq`, so whatever is logged while it runs says which attempt it belongs to. Runs per
    /// request: one span per attempt, integer fields only, entered only while it is polled.
    pub async fn send_attempt(
        &self,
        destination_id: DestinationId,
        attempt: u32,
        unit: &[Outgoing],
    ) -> Result<(), DeliveryError> {
        let (first_seq, last_seq) = match (unit.first(), unit.last()) {
            (Some(first), Some(last)) => (first.seq, last.seq),
            _ => (0, 0),
        };
        let span =
            tracing::info_span!("delivery_attempt", destination = destination_id.get(), attempt, first_seq, last_seq);
        self.send(unit).instrument(span).await
    }

    /// Sends one unit (at most [`Sink::unit_size`] events).
    pub async fn send(&self, unit: &[Outgoing]) -> Result<(), DeliveryError> {
        match self {
            Sink::Gcp(sink) => sink.send_batch(unit).await,
            Sink::Http(sink) => {
                for event in unit {
                    sink.send(event).await?;
                }
                Ok(())
            }
            Sink::S3(sink) => {
                for event in unit {
                    sink.send(event).await?;
                }
                Ok(())
            }
        }
    }
}
