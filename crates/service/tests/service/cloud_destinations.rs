//! Google Cloud Logging and AWS S3 destinations: made by the Owners of a top-level group (and
//! admins, also for the instance), each with its key, unique by project and log or by bucket,
//! and under the legacy API with limits of their own.

use auditrelay_core::Scope;
use auditrelay_core::destination::config::DestinationConfig;
use auditrelay_service::ServiceError;
use auditrelay_service::access::need;
use auditrelay_service::destinations::{Api, CreateDestination, Owner};

use crate::destinations::http;
use crate::{Backend, Cast, assert_refused, on_both_backends};

const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----\nnot-checked-until-sent\n-----END PRIVATE KEY-----\n";

fn gcp(log: &str) -> CreateDestination {
    CreateDestination {
        config: DestinationConfig::Gcp {
            google_project_id_name: "my-project-1".into(),
            client_email: "streamer@my-project-1.iam.gserviceaccount.com".into(),
            log_id_name: log.into(),
        },
        name: None,
        secret: Some(PRIVATE_KEY.into()),
        strict_order: false,
    }
}

fn aws(bucket: &str) -> CreateDestination {
    CreateDestination {
        config: DestinationConfig::Aws {
            access_key_xid: "AKIAIOSFODNN7EXAMPLE".into(),
            bucket_name: bucket.into(),
            aws_region: "us-east-1".into(),
        },
        name: None,
        secret: Some("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        strict_order: false,
    }
}

#[tokio::test]
async fn cloud_destinations_are_made_by_top_level_owners_and_admins() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let alpha = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    for (api, name) in [(Api::Legacy, "legacy"), (Api::Consolidated, "consolidated")] {
        destinations.create_destination(&alpha, api, gcp(name)).await.unwrap();
        destinations.create_destination(&alpha, api, aws(&format!("bucket-{name}"))).await.unwrap();
    }
    let instance = access.owner(cast.root(), None).await.unwrap();
    assert_eq!(instance.owner(), &Owner::Instance);
    let made = destinations.create_destination(&instance, Api::Legacy, gcp("instance-log")).await.unwrap();
    assert_eq!(made.owner, Owner::Instance);
    for not_owner in [&cast.maintainer, &cast.developer, &cast.reporter, &cast.other_owner] {
        assert_refused!(access.owner::<need::Read>(not_owner, Some("alpha")).await, ServiceError::NotFound("Group"));
    }
}

#[tokio::test]
async fn a_read_only_token_makes_no_cloud_destination() {
    let cast = Cast::new(Backend::Sqlite).await;
    let access = cast.service().access();
    let reader = cast.world.caller_of(cast.owner.user.id, &["read_api"]).await;
    // Creating takes a writing proof of the owner, which a read-only token does not make.
    let alpha = access.owner::<need::Read>(&reader, Some("alpha")).await.unwrap();
    assert_refused!(alpha.needing::<need::Write>(), ServiceError::InsufficientScope(Scope::Api));
    assert_refused!(
        access.owner::<need::Write>(&reader, Some("alpha")).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
}

#[tokio::test]
async fn a_cloud_destination_needs_its_key() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let alpha = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    let create = |api, input| destinations.create_destination(&alpha, api, input);
    assert_refused!(
        create(Api::Consolidated, CreateDestination { secret: None, ..gcp("no-key") }).await,
        ServiceError::Validation(m) if m == ["Secret token is required for category"]
    );
    assert_refused!(
        create(Api::Legacy, CreateDestination { secret: None, ..gcp("no-key") }).await,
        ServiceError::Validation(m) if m[0].starts_with("Private key")
    );
    assert_refused!(
        create(Api::Legacy, CreateDestination { secret: Some(String::new()), ..aws("no-key") }).await,
        ServiceError::Validation(m) if m[0].starts_with("Secret access key")
    );
    assert_refused!(
        create(Api::Legacy, CreateDestination { secret: Some("k".repeat(4097)), ..aws("long-key") }).await,
        ServiceError::Validation(m) if m[0].starts_with("Secret access key")
    );
}

#[tokio::test]
async fn a_cloud_destinations_key_is_sealed_at_rest() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let alpha = service.access().owner(&cast.owner, Some("alpha")).await.unwrap();
    let made = service.destinations().create_destination(&alpha, Api::Legacy, gcp("sealed")).await.unwrap();
    assert_eq!(made.secret, PRIVATE_KEY, "the service reads its own key back");
    let row = service.store().destination(made.id).await.unwrap().unwrap();
    assert!(!row.secret.contains("PRIVATE KEY"), "only sealed in the store");
}

async fn cloud_destinations_are_unique_by_project_and_log_or_by_bucket(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let alpha = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    let create = |api, input| destinations.create_destination(&alpha, api, input);
    create(Api::Legacy, gcp("audit")).await.unwrap();
    create(Api::Legacy, aws("audit-bucket")).await.unwrap();
    assert_refused!(
        create(Api::Legacy, gcp("audit")).await,
        ServiceError::Validation(m) if m == ["Google project id name has already been taken"]
    );
    assert_refused!(
        create(Api::Legacy, aws("audit-bucket")).await,
        ServiceError::Validation(m) if m == ["Bucket name has already been taken"]
    );
    assert_refused!(create(Api::Consolidated, gcp("audit")).await, ServiceError::Validation(_));
    // Another log of the same project, another bucket, or another group's: all allowed.
    create(Api::Legacy, gcp("other-log")).await.unwrap();
    create(Api::Legacy, aws("other-bucket")).await.unwrap();
    let beta = access.owner(&cast.other_owner, Some("beta")).await.unwrap();
    destinations.create_destination(&beta, Api::Legacy, gcp("audit")).await.unwrap();
}

async fn legacy_cloud_categories_have_limits_of_their_own(backend: Backend) {
    let cast = Cast::new(backend).await;
    let (access, destinations) = (cast.service().access(), cast.service().destinations());
    let alpha = access.owner(&cast.owner, Some("alpha")).await.unwrap();
    let create = |api, input| destinations.create_destination(&alpha, api, input);
    for n in 0..5 {
        create(Api::Legacy, http(&format!("https://example.com/{n}"))).await.unwrap();
    }
    // Five HTTP destinations leave the legacy GCP and S3 limits untouched…
    for n in 0..5 {
        create(Api::Legacy, gcp(&format!("log-{n}"))).await.unwrap();
    }
    assert_refused!(
        create(Api::Legacy, gcp("log-5")).await,
        ServiceError::Validation(m) if m == ["Maximum number of google cloud logging configurations (5) exceeded"]
    );
    create(Api::Legacy, aws("bucket-0")).await.unwrap();
    // …while the consolidated API counts every category together.
    assert_refused!(
        create(Api::Consolidated, aws("bucket-1")).await,
        ServiceError::Validation(m) if m == ["Maximum number of external audit event destinations (5) exceeded"]
    );
}

on_both_backends!(
    cloud_destinations_are_unique_by_project_and_log_or_by_bucket,
    legacy_cloud_categories_have_limits_of_their_own
);
