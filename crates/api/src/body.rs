//! Reading request bodies with a size limit that still lets the client hear why it was refused.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

use crate::error::{ServiceError, ServiceResult};

/// Past this much, an oversize body is no longer drained: the connection is closed instead.
const DRAIN_CAP: usize = 64 * 1024 * 1024;

/// Collects at most `limit` bytes. An oversize body is read to its end (up to [`DRAIN_CAP`]) and
/// discarded before the `413`, because a server that answers while the client is still sending
/// and then closes makes most clients report a connection reset instead of the answer.
pub async fn read_limited(body: Body, limit: usize) -> ServiceResult<Bytes> {
    let mut body = body;
    let mut collected = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ServiceError::BadInput(format!("could not read the request body: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen <= limit {
            collected.extend_from_slice(&data);
        } else if seen > DRAIN_CAP {
            break;
        }
    }
    if seen > limit {
        return Err(ServiceError::TooLarge(format!("request body is larger than the limit of {limit} bytes")));
    }
    Ok(Bytes::from(collected))
}
