//! Amazon S3 sink: one `PutObject` per event at GitLab's key, signed with AWS SigV4.
//!
//! GitLab (`amazon_s3_stream_destination.rb`) writes the event's JSON body with content type
//! `application/json` to `<entity_type_slug>/<YYYY>/<MM>/<event_type>_<id>_<epoch_millis>.json`,
//! using static keys only. This sink does the same. The request is signed by `object_store`'s
//! SigV4 signer and sent with our own `reqwest` client, so that:
//! - the key is written exactly as built, byte for byte (object_store's `Path` would re-encode
//!   characters such as `%` or `#` that a producer's string id may contain);
//! - the answer's status, S3 error code and `Retry-After` are all visible for classification;
//! - there are no hidden retries inside the client: the delivery engine owns retries and backoff.

use std::time::Duration;

use auditrelay_core::EventId;
use chrono::{DateTime, Utc};
use object_store::aws::{AwsAuthorizer, AwsCredential};
use object_store::client::{HttpRequest, HttpRequestBody};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::failure::{DeliveryError, FailureKind, MAX_ERROR_BODY, classify_status, parse_retry_after};
use crate::outgoing::{Outgoing, Stamp};

/// Time allowed to open a connection (DNS, TCP, TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole `PutObject`, from sending the request to the end of the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections are closed before S3 closes them (about 20 s), so a reused connection is
/// not found dead mid-request.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// At most this much of an error answer is read.
const MAX_ERROR_READ: usize = 16 * 1024;

/// A GitLab Amazon S3 destination's settings (`accessKeyXid`, `secretAccessKey`, `bucketName`,
/// `awsRegion`).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Spec {
    pub access_key_xid: String,
    pub secret_access_key: String,
    pub bucket_name: String,
    pub aws_region: String,
}

impl std::fmt::Debug for S3Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Spec")
            .field("access_key_xid", &self.access_key_xid)
            .field("secret_access_key", &"******")
            .field("bucket_name", &self.bucket_name)
            .field("aws_region", &self.aws_region)
            .finish()
    }
}

/// Writes events to one bucket.
pub struct S3Sink {
    client: reqwest::Client,
    credential: AwsCredential,
    region: String,
    bucket: String,
    /// The bucket's URL, ending in `/`; the percent-encoded key is appended to it.
    bucket_url: String,
}

impl std::fmt::Debug for S3Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Sink")
            .field("credential", &self.credential)
            .field("region", &self.region)
            .field("bucket_url", &self.bucket_url)
            .finish_non_exhaustive()
    }
}

impl S3Sink {
    /// `endpoint`: None = AWS; Some(url) = an S3-compatible server (path-style requests; http allowed).
    ///
    /// On AWS the bucket is addressed virtual-hosted style (`https://<bucket>.s3.<region>.amazonaws.com/`),
    /// or path style when its name has a `.` (which would not match the TLS certificate), as the AWS
    /// SDKs do. Settings that can never work are an [`FailureKind::Auth`] error: a configuration
    /// problem, to fix before anything is sent.
    pub fn new(spec: S3Spec, endpoint: Option<&str>) -> Result<S3Sink, DeliveryError> {
        let S3Spec { access_key_xid, secret_access_key, bucket_name, aws_region } = spec;
        if access_key_xid.trim().is_empty() || secret_access_key.is_empty() {
            return Err(DeliveryError::auth("S3: the access key id and the secret access key must not be empty"));
        }
        if bucket_name.is_empty() || bucket_name.chars().any(|c| c == '/' || c.is_control() || c.is_whitespace()) {
            return Err(DeliveryError::auth(format!("S3: invalid bucket name {bucket_name:?}")));
        }
        if aws_region.is_empty() || !aws_region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(DeliveryError::auth(format!("S3: invalid AWS region {aws_region:?}")));
        }

        let bucket_url = match endpoint {
            None => {
                let domain = if aws_region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
                let region = aws_region.to_ascii_lowercase();
                if bucket_name.contains('.') || !bucket_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    format!("https://s3.{region}.{domain}/{}/", encode_key(&bucket_name))
                } else {
                    format!("https://{bucket_name}.s3.{region}.{domain}/")
                }
            }
            Some(endpoint) => {
                let url = reqwest::Url::parse(endpoint)
                    .map_err(|e| DeliveryError::auth(format!("S3: invalid endpoint {endpoint:?}: {e}")))?;
                if !matches!(url.scheme(), "http" | "https")
                    || url.host_str().is_none()
                    || url.query().is_some()
                    || url.fragment().is_some()
                {
                    return Err(DeliveryError::auth(format!(
                        "S3: the endpoint must be an http(s) URL without query or fragment, got {endpoint:?}"
                    )));
                }
                format!("{}/{}/", url.as_str().trim_end_matches('/'), encode_key(&bucket_name))
            }
        };
        // The signer and reqwest both parse the object URL; make sure that works for this bucket.
        reqwest::Url::parse(&bucket_url)
            .map_err(|e| DeliveryError::auth(format!("S3: cannot address bucket {bucket_name:?}: {e}")))?;

        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            // A redirect means a wrong region or endpoint; a signed request must not follow it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("auditrelay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::transient(format!("S3: cannot build the HTTP client: {e}")))?;

        Ok(S3Sink {
            client,
            credential: AwsCredential { key_id: access_key_xid, secret_key: secret_access_key, token: None },
            region: aws_region,
            bucket: bucket_name,
            bucket_url,
        })
    }

    /// PutObject of the event body with content type application/json at `object_key(..)` (upload time = now).
    pub async fn send(&self, event: &Outgoing) -> Result<String /* the key written */, DeliveryError> {
        let key = object_key(&event.entity_type, &event.event_type, &event.id, Utc::now());
        self.put_object(&key, &event.body, event.stamp.as_ref()).await?;
        Ok(key)
    }

    /// Writes a checkpoint object (`auditrelay-checkpoints/<destination id>/<sequence>.json`).
    pub async fn put_checkpoint(&self, key: &str, json: &str) -> Result<(), DeliveryError> {
        self.put_object(key, json, None).await
    }

    async fn put_object(&self, key: &str, body: &str, stamp: Option<&Stamp>) -> Result<(), DeliveryError> {
        if key.split('/').any(|segment| segment == "." || segment == "..") {
            // URL parsers resolve dot segments, so such a key cannot be written as it is.
            return Err(DeliveryError::permanent(format!(
                "S3: object key {key:?} has a \".\" or \"..\" path segment and cannot be written"
            )));
        }
        let url = format!("{}{}", self.bucket_url, encode_key(key));

        let mut request = HttpRequest::new(HttpRequestBody::from(body.to_owned()));
        *request.method_mut() = reqwest::Method::PUT;
        *request.uri_mut() = url
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("S3: invalid object URL for key {key:?}: {e}")))?;
        request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(stamp) = stamp {
            // Signed with the request (SigV4 covers x-amz-meta-* headers).
            stamp.add_s3_metadata(request.headers_mut());
        }
        AwsAuthorizer::new(&self.credential, "s3", &self.region).authorize(&mut request, None);
        let request = reqwest::Request::try_from(request.map(|body| body.as_bytes().cloned().unwrap_or_default()))
            .map_err(|e| DeliveryError::permanent(format!("S3: cannot build the request for key {key:?}: {e}")))?;

        let mut response = self.client.execute(request).await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let mut answer = Vec::new();
        while answer.len() < MAX_ERROR_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Err(error_from_answer(&self.bucket, status.as_u16(), &String::from_utf8_lossy(&answer), retry_after))
    }

    fn transport_error(&self, error: &reqwest::Error) -> DeliveryError {
        crate::failure::transport_failure(&format!("S3 PutObject to bucket {:?} ", self.bucket), error)
    }
}

/// GitLab's key: "<entity_type_slug>/<YYYY>/<MM>/<event_type>_<id>_<epoch_millis>.json".
/// slug: "Gitlab::Audit::InstanceScope" → "instance", "Namespaces::UserNamespace" → "user", else lowercase with each run of non-alphanumerics replaced by "_" ("Project" → "project").
///
/// `YYYY/MM` and the milliseconds are both taken from `uploaded_at` (UTC); the id is the
/// [`EventId`]'s Display (an integer's digits, a string as it is).
pub fn object_key(entity_type: &str, event_type: &str, id: &EventId, uploaded_at: DateTime<Utc>) -> String {
    format!(
        "{}/{}/{event_type}_{id}_{}.json",
        entity_type_slug(entity_type),
        uploaded_at.format("%Y/%m"),
        uploaded_at.timestamp_millis()
    )
}

/// The key's first segment, as GitLab builds it (`parameterize(separator: '_')`, which also
/// trims separators at either end).
pub fn entity_type_slug(entity_type: &str) -> String {
    match entity_type {
        "Gitlab::Audit::InstanceScope" => return "instance".to_owned(),
        "Namespaces::UserNamespace" => return "user".to_owned(),
        _ => {}
    }
    let mut slug = String::with_capacity(entity_type.len());
    let mut pending_separator = false;
    for c in entity_type.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_separator = true;
        }
    }
    slug
}

/// Percent-encodes a key for the request path the way SigV4 canonicalizes S3 paths: everything
/// but the unreserved characters and `/`.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Classifies an S3 error answer. The S3 error code decides when there is one; otherwise the
/// status does.
fn error_from_answer(bucket: &str, status: u16, answer: &str, retry_after: Option<Duration>) -> DeliveryError {
    let code = xml_text(answer, "Code");
    let kind = classify_s3_error(status, code.as_deref());
    let detail = match (&code, xml_text(answer, "Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.clone(),
        (None, _) => answer.trim().to_owned(),
    };
    DeliveryError {
        kind,
        status: Some(status),
        message: format!("S3 PutObject to bucket {bucket:?} failed: HTTP {status} {}", truncate(&detail)),
        retry_after,
    }
}

fn classify_s3_error(status: u16, code: Option<&str>) -> FailureKind {
    match code {
        // Credentials or settings that cannot work: pause the destination until they are fixed.
        Some(
            "AccessDenied"
            | "AccountProblem"
            | "AllAccessDisabled"
            | "AuthorizationHeaderMalformed"
            | "ExpiredToken"
            | "InvalidAccessKeyId"
            | "InvalidBucketName"
            | "InvalidToken"
            | "NoSuchBucket"
            | "NotSignedUp"
            | "PermanentRedirect"
            | "RequestTimeTooSkewed"
            | "SignatureDoesNotMatch"
            | "TokenRefreshRequired",
        ) => FailureKind::Auth,
        Some(
            "InternalError" | "OperationAborted" | "RequestTimeout" | "ServiceUnavailable" | "SlowDown"
            | "TemporaryRedirect",
        ) => FailureKind::Transient,
        _ => match status {
            // 301: the bucket is in another region; 404 on a PUT: the bucket does not exist.
            301 | 404 => FailureKind::Auth,
            _ => classify_status(status),
        },
    }
}

/// The text of the first `<tag>…</tag>` in an S3 XML error document.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let text = xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_BODY) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn spec() -> S3Spec {
        S3Spec {
            access_key_xid: "AKIAAUDITRELAYTEST01".into(),
            secret_access_key: "wJalrXUtnFEMI-example-secret".into(),
            bucket_name: "audit-bucket".into(),
            aws_region: "eu-central-1".into(),
        }
    }

    #[test]
    fn slugs_follow_gitlab() {
        assert_eq!(entity_type_slug("Gitlab::Audit::InstanceScope"), "instance");
        assert_eq!(entity_type_slug("Namespaces::UserNamespace"), "user");
        assert_eq!(entity_type_slug("Project"), "project");
        assert_eq!(entity_type_slug("Group"), "group");
        assert_eq!(entity_type_slug("User"), "user");
        assert_eq!(entity_type_slug("Ci::Runner"), "ci_runner");
        assert_eq!(entity_type_slug("Foo::-Bar  Baz"), "foo_bar_baz");
        assert_eq!(entity_type_slug("::Odd::"), "odd");
    }

    #[test]
    fn keys_have_gitlab_layout() {
        let when = at("2026-02-13T02:33:20.123Z");
        assert_eq!(
            object_key("Project", "repository_git_operation", &EventId::Int(42), when),
            "project/2026/02/repository_git_operation_42_1770950000123.json"
        );
        assert_eq!(
            object_key("Gitlab::Audit::InstanceScope", "user_created", &EventId::Str("5b1f-aa".into()), when),
            "instance/2026/02/user_created_5b1f-aa_1770950000123.json"
        );
        assert_eq!(
            object_key("Namespaces::UserNamespace", "x", &EventId::Int(-3), at("2024-12-31T23:59:59.999Z")),
            "user/2024/12/x_-3_1735689599999.json"
        );
        // The month is zero-padded; a string id that looks like a number is kept as it is.
        assert_eq!(
            object_key("Group", "g", &EventId::Str("007".into()), at("2025-01-01T00:00:00Z")),
            "group/2025/01/g_007_1735689600000.json"
        );
    }

    #[test]
    fn keys_are_percent_encoded_like_sigv4() {
        assert_eq!(encode_key("project/2026/02/a_b-c.d~e_1.json"), "project/2026/02/a_b-c.d~e_1.json");
        assert_eq!(encode_key("a b%#?+=&é"), "a%20b%25%23%3F%2B%3D%26%C3%A9");
    }

    #[test]
    fn s3_errors_are_classified() {
        assert_eq!(classify_s3_error(403, Some("SignatureDoesNotMatch")), FailureKind::Auth);
        assert_eq!(classify_s3_error(403, Some("InvalidAccessKeyId")), FailureKind::Auth);
        assert_eq!(classify_s3_error(403, Some("AccessDenied")), FailureKind::Auth);
        assert_eq!(classify_s3_error(403, None), FailureKind::Auth);
        assert_eq!(classify_s3_error(404, Some("NoSuchBucket")), FailureKind::Auth);
        assert_eq!(classify_s3_error(400, Some("AuthorizationHeaderMalformed")), FailureKind::Auth);
        assert_eq!(classify_s3_error(301, Some("PermanentRedirect")), FailureKind::Auth);
        assert_eq!(classify_s3_error(503, Some("SlowDown")), FailureKind::Transient);
        assert_eq!(classify_s3_error(500, Some("InternalError")), FailureKind::Transient);
        assert_eq!(classify_s3_error(400, Some("RequestTimeout")), FailureKind::Transient);
        assert_eq!(classify_s3_error(502, None), FailureKind::Transient);
        assert_eq!(classify_s3_error(429, None), FailureKind::Transient);
        assert_eq!(classify_s3_error(400, Some("EntityTooLarge")), FailureKind::Permanent);
        assert_eq!(classify_s3_error(400, Some("InvalidArgument")), FailureKind::Permanent);
        assert_eq!(classify_s3_error(413, None), FailureKind::Permanent);
    }

    #[test]
    fn error_messages_carry_code_and_message() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message><RequestId>1</RequestId></Error>"#;
        let e = error_from_answer("b", 403, xml, None);
        assert_eq!(e.kind, FailureKind::Auth);
        assert_eq!(e.status, Some(403));
        assert_eq!(
            e.message,
            "S3 PutObject to bucket \"b\" failed: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match & so on"
        );

        let e = error_from_answer("b", 502, &"x".repeat(5000), Some(Duration::from_secs(3)));
        assert_eq!(e.kind, FailureKind::Transient);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert!(e.message.chars().count() < MAX_ERROR_BODY + 100, "{}", e.message.len());
    }

    #[test]
    fn buckets_are_addressed_like_the_aws_sdks() {
        let sink = S3Sink::new(spec(), None).unwrap();
        assert_eq!(sink.bucket_url, "https://audit-bucket.s3.eu-central-1.amazonaws.com/");

        let dotted = S3Sink::new(S3Spec { bucket_name: "audit.example".into(), ..spec() }, None).unwrap();
        assert_eq!(dotted.bucket_url, "https://s3.eu-central-1.amazonaws.com/audit.example/");

        let china = S3Sink::new(S3Spec { aws_region: "cn-north-1".into(), ..spec() }, None).unwrap();
        assert_eq!(china.bucket_url, "https://audit-bucket.s3.cn-north-1.amazonaws.com.cn/");

        let local = S3Sink::new(spec(), Some("http://127.0.0.1:9000/")).unwrap();
        assert_eq!(local.bucket_url, "http://127.0.0.1:9000/audit-bucket/");
    }

    #[test]
    fn unusable_settings_are_auth_errors() {
        for bad in [
            S3Spec { bucket_name: String::new(), ..spec() },
            S3Spec { bucket_name: "a/b".into(), ..spec() },
            S3Spec { aws_region: "eu central".into(), ..spec() },
            S3Spec { aws_region: String::new(), ..spec() },
            S3Spec { secret_access_key: String::new(), ..spec() },
        ] {
            assert_eq!(S3Sink::new(bad, None).unwrap_err().kind, FailureKind::Auth);
        }
        for endpoint in ["ftp://host", "not a url", "http://host/?x=1"] {
            assert_eq!(S3Sink::new(spec(), Some(endpoint)).unwrap_err().kind, FailureKind::Auth, "{endpoint}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let sink = S3Sink::new(spec(), None).unwrap();
        assert!(!format!("{sink:?}").contains("wJalrXUtnFEMI"));
        assert!(!format!("{:?}", spec()).contains("wJalrXUtnFEMI"));
    }

    #[tokio::test]
    async fn dot_segments_are_refused() {
        let sink = S3Sink::new(spec(), Some("http://127.0.0.1:9")).unwrap();
        let e = sink.put_object("project/2026/02/../x.json", "{}", None).await.unwrap_err();
        assert_eq!(e.kind, FailureKind::Permanent);
    }
}
