//! A destination's delivery health as GraphQL shows it (auditrelay's addition to GitLab's types).

use async_graphql::{Context, Result, SimpleObject};
use auditrelay_service::access::need;
use auditrelay_service::destinations::Destination;

use super::context::{caller, service, top_level};

/// How a destination's delivery is going (auditrelay's addition to GitLab's types).
#[derive(SimpleObject, Clone)]
pub struct DestinationDeliveryHealth {
    /// closed (delivering), open (resting after failures), half_open (probing), paused
    /// (credentials or configuration refused), standby (another node delivers), inactive.
    pub state: String,
    pub consecutive_failures: i64,
    pub last_delivered_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_status: Option<i64>,
    pub last_error_at: Option<String>,
    pub delivered: i64,
    /// Log positions behind the destination's cursor.
    pub backlog: i64,
    pub lag_seconds: f64,
    /// Events parked after failing permanently.
    pub parked: i64,
}

pub async fn delivery_health(ctx: &Context<'_>, d: &Destination) -> Result<DestinationDeliveryHealth> {
    use auditrelay_core::time::format_micros;
    let s = service(ctx);
    let grant = s.access().manages::<need::Read>(caller(ctx)?, d).await.map_err(top_level)?;
    let h = s.delivery().destination_health(&grant).await.map_err(top_level)?;
    Ok(DestinationDeliveryHealth {
        state: h.state.to_string(),
        consecutive_failures: h.consecutive_failures,
        last_delivered_at: h.last_success_at.map(format_micros),
        last_error: h.last_error,
        last_error_status: h.last_error_status,
        last_error_at: h.last_error_at.map(format_micros),
        delivered: h.delivered,
        backlog: h.backlog,
        lag_seconds: h.lag_seconds,
        parked: h.parked,
    })
}
