//! GitLab 18.10's newer destination limits, behind the admin's
//! `audit_event_streaming_newer_limits_enabled` setting: at most 50 destinations per group
//! (active or not) and at most 10 destination creates or updates per user per minute.

use auditrelay_service::destinations::{Api, CreateDestination, Destination, DestinationUpdate};
use auditrelay_service::{Caller, ServiceError, ServiceResult};
use serde_json::{Map, json};

use crate::destinations::{alpha_destination, http};
use crate::{Backend, Cast, assert_refused, on_both_backends};

const SETTING: &str = "audit_event_streaming_newer_limits_enabled";
const TOO_MANY_CHANGES: &str =
    "Too many destination changes: at most 10 creates or updates per minute. Try again later.";
const GROUP_FULL: &str = "Maximum number of audit event streaming destinations per group (50) exceeded";

async fn newer_limits(cast: &Cast, on: bool) {
    let mut change = Map::new();
    change.insert(SETTING.into(), json!(on));
    let admin = cast.service().access().admin(cast.root()).unwrap();
    cast.service().settings().update(&admin, change).await.unwrap();
}

/// Changes `destination` as `caller`, with the writing proof of it the update takes.
async fn update(cast: &Cast, caller: &Caller, destination: &Destination, n: usize) -> ServiceResult<Destination> {
    let managed = cast.service().access().manages(caller, destination).await?;
    cast.service().destinations().update_destination(&managed, Api::Consolidated, rename(n)).await
}

/// Creates a destination of `group` as `caller`, with the writing proof of its owner.
async fn create(
    cast: &Cast,
    caller: &Caller,
    group: &str,
    api: Api,
    input: CreateDestination,
) -> ServiceResult<Destination> {
    let owner = cast.service().access().owner(caller, Some(group)).await?;
    cast.service().destinations().create_destination(&owner, api, input).await
}

fn rename(n: usize) -> DestinationUpdate {
    DestinationUpdate { name: Some(format!("renamed-{n}")), ..Default::default() }
}

/// Renames `destination` as `caller` `times` times, each change allowed.
async fn renames(cast: &Cast, caller: &Caller, destination: &Destination, times: usize) {
    for n in 0..times {
        update(cast, caller, destination, n).await.unwrap_or_else(|e| panic!("change {n}: {e:?}"));
    }
}

#[tokio::test]
async fn the_limits_are_off_by_default() {
    let cast = Cast::new(Backend::Sqlite).await;
    let admin = cast.service().access().admin(cast.root()).unwrap();
    assert_eq!(cast.service().settings().show(&admin).await.unwrap()[SETTING], json!(false));
    let destination = alpha_destination(&cast, "https://example.com/off").await;
    renames(&cast, &cast.owner, &destination, 15).await;
}

#[tokio::test]
async fn with_the_limits_on_a_users_eleventh_change_in_a_minute_is_refused() {
    let cast = Cast::new(Backend::Sqlite).await;
    newer_limits(&cast, true).await;
    let destination = alpha_destination(&cast, "https://example.com/limited").await;
    renames(&cast, &cast.owner, &destination, 9).await;
    assert_refused!(
        update(&cast, &cast.owner, &destination, 99).await,
        ServiceError::Validation(m) if m == [TOO_MANY_CHANGES]
    );
    assert_refused!(
        create(&cast, &cast.owner, "alpha", Api::Legacy, http("https://example.com/more")).await,
        ServiceError::Validation(m) if m == [TOO_MANY_CHANGES],
    );
}

#[tokio::test]
async fn the_change_limit_counts_each_user_apart() {
    let cast = Cast::new(Backend::Sqlite).await;
    newer_limits(&cast, true).await;
    let destination = alpha_destination(&cast, "https://example.com/apart").await;
    renames(&cast, &cast.owner, &destination, 9).await;
    // The owner has used up the minute; an admin changing the same destination has not.
    renames(&cast, cast.root(), &destination, 10).await;
}

#[tokio::test]
async fn turning_the_limits_off_lifts_the_change_limit() {
    let cast = Cast::new(Backend::Sqlite).await;
    newer_limits(&cast, true).await;
    let destination = alpha_destination(&cast, "https://example.com/lifted").await;
    renames(&cast, &cast.owner, &destination, 9).await;
    assert_refused!(update(&cast, &cast.owner, &destination, 10).await, ServiceError::Validation(_));
    newer_limits(&cast, false).await;
    renames(&cast, &cast.owner, &destination, 3).await;
}

async fn with_the_limits_on_a_group_holds_at_most_50_destinations(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let owner = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    // Made with the limits off (so the change limit does not apply), switched off as made so
    // that GitLab's older limit of 5 active destinations does not apply either.
    for n in 0..50 {
        let input = http(&format!("https://example.com/{n}"));
        let made = destinations.create_destination(&owner, Api::Consolidated, input).await.unwrap();
        let managed = access.manages(&cast.owner, &made).await.unwrap();
        let off = DestinationUpdate { active: Some(false), ..Default::default() };
        destinations.update_destination(&managed, Api::Consolidated, off).await.unwrap();
    }
    newer_limits(&cast, true).await;
    assert_refused!(
        destinations.create_destination(&owner, Api::Consolidated, http("https://example.com/51")).await,
        ServiceError::Validation(m) if m == [GROUP_FULL]
    );
    assert_refused!(
        create(&cast, cast.root(), "alpha", Api::Legacy, http("https://example.com/51")).await,
        ServiceError::Validation(m) if m == [GROUP_FULL],
    );
    // Another group's destinations are its own.
    create(&cast, &cast.other_owner, "beta", Api::Consolidated, http("https://example.com/b")).await.unwrap();
    newer_limits(&cast, false).await;
    destinations.create_destination(&owner, Api::Consolidated, http("https://example.com/51")).await.unwrap();
}

on_both_backends!(with_the_limits_on_a_group_holds_at_most_50_destinations);
