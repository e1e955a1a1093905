//! The service side of delivery: turns destinations into the engine's specs (after every change,
//! and periodically for changes made by other nodes), and answers health, replay and re-send.

use auditrelay_core::DestinationId;
use auditrelay_core::GroupId;
use auditrelay_core::destination::config::DestinationConfig;
use auditrelay_core::states::HealthState;
use auditrelay_core::time::{Micros, now_micros};
use auditrelay_delivery::routing::{NamespaceMatch, RouteSpec};
use auditrelay_delivery::sinks::{Target, gcp::GcpSpec, http::HttpSpec, s3::S3Spec};
use auditrelay_delivery::{DeliverySettings, DestinationSpec};
use auditrelay_store::delivery::{Parked, Replay};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::Service;
use super::access::DestinationGrant;
use super::access::need::{self, Needed};
use super::destinations::{Destination, FilterTarget, Owner};
use crate::error::{ServiceError, ServiceResult};

/// Delivery health, replays and re-sends: `service.delivery()`.
#[derive(Clone, Copy)]
pub struct Delivery<'s> {
    ctx: &'s Service,
}

/// A destination's delivery health as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthView {
    pub state: HealthState,
    pub consecutive_failures: i64,
    pub last_success_at: Option<Micros>,
    pub last_error: Option<String>,
    pub last_error_status: Option<i64>,
    pub last_error_at: Option<Micros>,
    pub delivered: i64,
    /// Log positions behind the destination's cursor.
    pub backlog: i64,
    /// Age of the oldest event not yet handled, in seconds (0 when caught up).
    pub lag_seconds: f64,
    pub parked: i64,
    pub cursor: i64,
}

/// What to replay: a `seq` range, a time range, or both.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayRange {
    pub from_seq: Option<i64>,
    pub to_seq: Option<i64>,
    pub created_after: Option<Micros>,
    pub created_before: Option<Micros>,
}

impl Service {
    pub fn delivery(&self) -> Delivery<'_> {
        Delivery { ctx: self }
    }

    /// Hands the engine every active destination and the current settings.
    pub async fn refresh_delivery(&self) {
        let Some(engine) = &self.engine else { return };
        match self.delivery_specs().await {
            Ok((specs, settings)) => engine.apply(specs, settings).await,
            Err(error) => tracing::warn!(%error, "could not refresh delivery workers"),
        }
    }

    async fn delivery_specs(&self) -> ServiceResult<(Vec<DestinationSpec>, DeliverySettings)> {
        let current = self.application_settings().await?;
        let settings = DeliverySettings {
            allow_local: current.allow_local_requests_from_web_hooks_and_services,
            ai_streaming_enabled: current.ai_audit_event_streaming_enabled,
            ai_redact_content: current.ai_audit_event_redact_content,
            ai_content_fields: current.ai_audit_event_content_fields,
        };
        let mut specs = Vec::new();
        for row in self.store.all_destinations().await?.into_iter().filter(|d| d.active) {
            let owner = match row.group_id {
                None => Owner::Instance,
                Some(gid) => match self.store.group_by_id(gid).await? {
                    Some(group) => Owner::Group(group),
                    None => continue,
                },
            };
            specs.push(spec(&self.load_destination(row, owner).await?));
        }
        Ok((specs, settings))
    }

    async fn wake_delivery(&self, destination_id: DestinationId) {
        if let Some(engine) = &self.engine {
            engine.wake(destination_id).await;
        }
    }
}

/// The state to show for a destination: `inactive` when switched off, else what its worker
/// last wrote (`closed` before it wrote anything). `None` for a state this version does not know.
fn shown_state(active: bool, stored: &str) -> Option<HealthState> {
    match (active, stored) {
        (false, _) => Some(HealthState::Inactive),
        (true, "") => Some(HealthState::Closed),
        (true, text) => HealthState::parse(text),
    }
}

/// The engine's view of a destination.
pub(super) fn spec(d: &Destination) -> DestinationSpec {
    let route = RouteSpec {
        group_id: d.owner.group_id().map(GroupId::get),
        active: d.active,
        event_types: d.event_types.clone(),
        namespace_filters: d
            .namespace_filters
            .iter()
            .map(|f| match &f.target {
                FilterTarget::Group(g) => NamespaceMatch::Group { full_path: g.full_path.clone() },
                FilterTarget::Project(p) => NamespaceMatch::Project { id: p.id.get() },
            })
            .collect(),
    };
    let target = match &d.config {
        DestinationConfig::Http { url, headers } => Target::Http(HttpSpec {
            url: url.clone(),
            token: d.secret.clone(),
            headers: headers.iter().filter(|h| h.active).map(|h| (h.key.clone(), h.value.clone())).collect(),
            signing: d.signing_keys(),
        }),
        DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name } => Target::Gcp(GcpSpec {
            google_project_id_name: google_project_id_name.clone(),
            client_email: client_email.clone(),
            log_id_name: log_id_name.clone(),
            private_key: d.secret.clone(),
        }),
        DestinationConfig::Aws { access_key_xid, bucket_name, aws_region } => Target::S3(S3Spec {
            access_key_xid: access_key_xid.clone(),
            secret_access_key: d.secret.clone(),
            bucket_name: bucket_name.clone(),
            aws_region: aws_region.clone(),
        }),
    };
    // Filters are not in it: a running worker takes them from the routing versions at the
    // change's place in the log, without a restart.
    let mut hasher = DefaultHasher::new();
    (d.id, &d.name, d.category.as_str(), d.config.to_json().to_string(), &d.secret, d.active, d.strict_order)
        .hash(&mut hasher);
    // A signing change restarts the worker with the secrets in force.
    d.signing_secrets.iter().map(|s| s.id).collect::<Vec<_>>().hash(&mut hasher);
    DestinationSpec {
        id: d.id,
        name: d.name.clone(),
        route,
        target,
        strict_order: d.strict_order,
        stream_id: d.stream_id().into(),
        fingerprint: hasher.finish(),
    }
}

/// Seconds per history bucket.
pub const HISTORY_BUCKET_SECONDS: i64 = auditrelay_delivery::history::BUCKET_SECONDS;

/// One 10-second bucket of a destination's last hour of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryBucket {
    /// Unix seconds at the bucket's start.
    pub start: i64,
    pub delivered: u64,
    pub max_lag_ms: u64,
}

impl Delivery<'_> {
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn destination_health<N: Needed>(&self, grant: &DestinationGrant<'_, N>) -> ServiceResult<HealthView> {
        let destination = grant.destination();
        let stored = self.ctx.store.health(destination.id).await?.unwrap_or_default();
        let cursor = self.ctx.store.cursor(destination.id).await?.unwrap_or_default();
        let head = self.ctx.store.head_seq().await?;
        let lag_seconds = match self.ctx.store.first_created_after_seq(cursor).await? {
            Some(created) if cursor < head => ((now_micros() - created).max(0) as f64) / 1e6,
            _ => 0.0,
        };
        let state = shown_state(destination.active, &stored.state)
            .ok_or_else(|| ServiceError::Internal(format!("unknown delivery state '{}'", stored.state)))?;
        Ok(HealthView {
            state,
            consecutive_failures: stored.consecutive_failures,
            last_success_at: stored.last_success_at,
            last_error: stored.last_error,
            last_error_status: stored.last_error_status,
            last_error_at: stored.last_error_at,
            delivered: stored.delivered,
            backlog: (head - cursor).max(0),
            lag_seconds,
            parked: self.ctx.store.count_parked(destination.id).await?,
            cursor,
        })
    }

    /// Re-sends a destination's events in a `seq` and/or time range (routing and filters apply).
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn replay(&self, grant: &DestinationGrant<'_, need::Write>, range: ReplayRange) -> ServiceResult<Replay> {
        let destination = grant.destination();
        let (first, last) = self.ctx.store.seq_range_for_time(range.created_after, range.created_before).await?;
        let from = range.from_seq.unwrap_or(first).max(first).max(1);
        let to = range.to_seq.unwrap_or(last).min(last);
        if let (Some(a), Some(b)) = (range.created_after, range.created_before)
            && a > b
        {
            return Err(ServiceError::BadParam("created_after must not be later than created_before".into()));
        }
        let replay = self
            .ctx
            .store
            .create_replay(destination.id, from, to.max(from - 1), range.created_after, range.created_before)
            .await?;
        self.ctx.wake_delivery(destination.id).await;
        Ok(replay)
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get(), replay_id = replay_id))]
    pub async fn replay_status<N: Needed>(
        &self,
        grant: &DestinationGrant<'_, N>,
        replay_id: i64,
    ) -> ServiceResult<Replay> {
        let destination = grant.destination();
        self.ctx
            .store
            .replay(replay_id)
            .await?
            .filter(|r| r.destination_id == destination.id)
            .ok_or(ServiceError::NotFound("Replay"))
    }

    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn parked_events<N: Needed>(&self, grant: &DestinationGrant<'_, N>) -> ServiceResult<Vec<Parked>> {
        let destination = grant.destination();
        Ok(self.ctx.store.parked_of(destination.id, 1000).await?)
    }

    /// Flags every parked event of a destination to be sent again. Returns how many.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn resend_parked(&self, grant: &DestinationGrant<'_, need::Write>) -> ServiceResult<u64> {
        let destination = grant.destination();
        let count = self.ctx.store.request_resend(destination.id).await?;
        self.ctx.wake_delivery(destination.id).await;
        Ok(count)
    }

    /// Per-destination gauges for `/-/metrics`: backlog, breaker state, failures, parked.
    pub async fn record_delivery_gauges(&self) -> ServiceResult<()> {
        let head = self.ctx.store.head_seq().await?;
        for destination in self.ctx.store.all_destinations().await? {
            let id = destination.id.to_string();
            let cursor = self.ctx.store.cursor(destination.id).await?.unwrap_or(head);
            let health = self.ctx.store.health(destination.id).await?.unwrap_or_default();
            let state = shown_state(destination.active, &health.state);
            metrics::gauge!("auditrelay_destination_backlog", "destination" => id.clone())
                .set((head - cursor).max(0) as f64);
            metrics::gauge!("auditrelay_destination_consecutive_failures", "destination" => id.clone())
                .set(health.consecutive_failures as f64);
            metrics::gauge!("auditrelay_destination_parked", "destination" => id.clone())
                .set(self.ctx.store.count_parked(destination.id).await? as f64);
            for candidate in HealthState::ALL {
                let value = if Some(*candidate) == state { 1.0 } else { 0.0 };
                metrics::gauge!("auditrelay_destination_state", "destination" => id.clone(), "state" => candidate.as_str())
                    .set(value);
            }
        }
        Ok(())
    }

    /// The last hour of deliveries as this node saw them (empty on a node that does not deliver
    /// the destination). Who may read the destination may read it.
    #[tracing::instrument(skip_all, fields(caller = grant.caller().user.id.get(), destination = grant.destination().id.get()))]
    pub async fn delivery_history<N: Needed>(
        &self,
        grant: &DestinationGrant<'_, N>,
    ) -> ServiceResult<Vec<HistoryBucket>> {
        let destination = grant.destination();
        let Some(engine) = &self.ctx.engine else { return Ok(Vec::new()) };
        let now = now_micros().div_euclid(1_000_000);
        Ok(engine
            .config()
            .history
            .last_hour(destination.id, now)
            .into_iter()
            .map(|b| HistoryBucket { start: b.start, delivered: b.delivered, max_lag_ms: b.max_lag_ms })
            .collect())
    }
}
