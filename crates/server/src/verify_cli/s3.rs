//! Reads the deliveries from an S3 bucket: every object's body and its `auditrelay_stream`,
//! `auditrelay_sequence`, `auditrelay_chain` metadata, in order of writing; checkpoint objects
//! from `auditrelay-checkpoints/`.

use anyhow::{Context, bail};
use auditrelay_core::stream_proof::audit::Delivery;
use auditrelay_core::stream_proof::capture::parse_stream_fields;
use auditrelay_core::stream_proof::names::{CHAIN_LABEL, CHECKPOINT_PREFIX, SEQUENCE_LABEL, STREAM_LABEL};
use auditrelay_core::stream_proof::{SignedCheckpoint, body_sha256};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Attribute, ObjectMeta, ObjectStore};

use super::args::VerifyArgs;
use super::inputs::{Inputs, progress};

/// Objects fetched at once.
const CONCURRENT_GETS: usize = 8;

pub(super) async fn read(args: &VerifyArgs, bucket: &str) -> anyhow::Result<Inputs> {
    let access_key = std::env::var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?;
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is not set")?;
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&args.s3_region)
        .with_access_key_id(access_key)
        .with_secret_access_key(secret);
    if let Some(endpoint) = &args.s3_endpoint {
        builder = builder.with_endpoint(endpoint).with_allow_http(true).with_virtual_hosted_style_request(false);
    }
    let store = builder.build().context("the S3 settings")?;

    let prefix = args.s3_prefix.as_deref().filter(|p| !p.is_empty()).map(Path::from);
    let mut objects: Vec<ObjectMeta> =
        store.list(prefix.as_ref()).try_collect().await.with_context(|| format!("listing bucket {bucket}"))?;
    let checkpoint_dir = format!("{CHECKPOINT_PREFIX}/");
    objects.retain(|o| !o.location.as_ref().starts_with(&checkpoint_dir));
    // Arrival order: when each object was written.
    objects.sort_by(|a, b| (a.last_modified, &a.location).cmp(&(b.last_modified, &b.location)));

    let bar = progress(objects.len() as u64, "objects");
    let store = &store;
    let fetched: Vec<Option<Delivery>> = futures_util::stream::iter(objects.iter().enumerate())
        .map(|(arrival, object)| async move { delivery(store, &object.location, arrival as u64).await })
        .buffered(CONCURRENT_GETS)
        .inspect(|_| bar.inc(1))
        .try_collect()
        .await?;
    bar.finish_and_clear();
    let mut inputs = Inputs::default();
    for item in fetched {
        match item {
            Some(delivery) => inputs.deliveries.push(delivery),
            None => inputs.unsequenced += 1,
        }
    }

    let checkpoint_prefix = Path::from(CHECKPOINT_PREFIX);
    let listed: Vec<ObjectMeta> =
        store.list(Some(&checkpoint_prefix)).try_collect().await.context("listing the checkpoint objects")?;
    for object in listed {
        let bytes = store.get(&object.location).await?.bytes().await?;
        let checkpoint: SignedCheckpoint = serde_json::from_slice(&bytes)
            .with_context(|| format!("checkpoint object {} is not a signed checkpoint", object.location))?;
        inputs.checkpoints.push(checkpoint);
    }
    Ok(inputs)
}

/// One object as a delivery; `None` when it carries no stream metadata.
async fn delivery(store: &impl ObjectStore, key: &Path, arrival: u64) -> anyhow::Result<Option<Delivery>> {
    let object = store.get(key).await.with_context(|| format!("reading object {key}"))?;
    let metadata = |name: &'static str| object.attributes.get(&Attribute::Metadata(name.into())).map(|v| v.to_string());
    let (stream, sequence, chain) = (metadata(STREAM_LABEL), metadata(SEQUENCE_LABEL), metadata(CHAIN_LABEL));
    let body = object.bytes().await.with_context(|| format!("reading object {key}"))?;
    let Some(stream) = stream else { return Ok(None) };
    let (Some(sequence), Some(chain)) = (sequence, chain) else {
        bail!("object {key} has {STREAM_LABEL} metadata but not both {SEQUENCE_LABEL} and {CHAIN_LABEL}");
    };
    let (position, chain) = parse_stream_fields(&sequence, &chain)
        .map_err(|e| anyhow::anyhow!("object {key}: {}", e.describe(SEQUENCE_LABEL, CHAIN_LABEL)))?;
    Ok(Some(Delivery { stream, position, chain, body_sha256: body_sha256(&body), arrival, origin: key.to_string() }))
}
