//! The consolidated API's `config` JSON per category, checked like GitLab's JSON schemas, and
//! its typed form. Any schema mismatch is `"Config must be a valid json schema"`, as in GitLab.

use serde_json::{Map, Value, json};

use super::rules;
use super::*;

pub const NOT_A_HASH: &str = "Config must be a hash";
pub const INVALID_SCHEMA: &str = "Config must be a valid json schema";

#[derive(Debug, Clone, PartialEq)]
pub struct HeaderSpec {
    pub key: String,
    pub value: String,
    pub active: bool,
}

/// A destination's settings without its secret.
#[derive(Debug, Clone, PartialEq)]
pub enum DestinationConfig {
    Http { url: String, headers: Vec<HeaderSpec> },
    Gcp { google_project_id_name: String, client_email: String, log_id_name: String },
    Aws { access_key_xid: String, bucket_name: String, aws_region: String },
}

impl DestinationConfig {
    pub fn category(&self) -> Category {
        match self {
            DestinationConfig::Http { .. } => Category::Http,
            DestinationConfig::Gcp { .. } => Category::Gcp,
            DestinationConfig::Aws { .. } => Category::Aws,
        }
    }

    /// The consolidated API's JSON form (`headers` omitted when there are none).
    pub fn to_json(&self) -> Value {
        match self {
            DestinationConfig::Http { url, headers } => {
                let mut config = json!({ "url": url });
                if !headers.is_empty() {
                    let map: Map<String, Value> = headers
                        .iter()
                        .map(|h| (h.key.clone(), json!({"value": h.value, "active": h.active})))
                        .collect();
                    config["headers"] = Value::Object(map);
                }
                config
            }
            DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name } => json!({
                "googleProjectIdName": google_project_id_name,
                "clientEmail": client_email,
                "logIdName": log_id_name,
            }),
            DestinationConfig::Aws { access_key_xid, bucket_name, aws_region } => json!({
                "accessKeyXid": access_key_xid,
                "bucketName": bucket_name,
                "awsRegion": aws_region,
            }),
        }
    }

    /// The per-owner uniqueness key GitLab checks, and its message when taken.
    pub fn uniqueness(&self) -> (String, &'static str) {
        match self {
            DestinationConfig::Http { url, .. } => (url.clone(), "Config url already taken."),
            DestinationConfig::Gcp { google_project_id_name, log_id_name, .. } => (
                format!("{google_project_id_name}\n{log_id_name}"),
                "Config logIdName, googleProjectIdName already taken.",
            ),
            DestinationConfig::Aws { bucket_name, .. } => (bucket_name.clone(), "Config bucketName already taken."),
        }
    }
}

/// Parses and checks a consolidated `config` for `category`.
pub fn parse_config(category: Category, config: &Value) -> Result<DestinationConfig, String> {
    let Value::Object(fields) = config else { return Err(NOT_A_HASH.into()) };
    match category {
        Category::Http => parse_http(fields),
        Category::Gcp => parse_gcp(fields),
        Category::Aws => parse_aws(fields),
    }
}

fn only_keys(fields: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    if fields.keys().all(|k| allowed.contains(&k.as_str())) { Ok(()) } else { Err(INVALID_SCHEMA.into()) }
}

fn string(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(INVALID_SCHEMA.into()),
    }
}

fn required(fields: &Map<String, Value>, key: &str) -> Result<String, String> {
    string(fields, key)?.ok_or_else(|| INVALID_SCHEMA.to_owned())
}

/// A schema check failed: GitLab reports only that the config does not fit.
fn schema<T>(result: Result<T, String>) -> Result<T, String> {
    result.map_err(|_| INVALID_SCHEMA.to_owned())
}

fn parse_http(fields: &Map<String, Value>) -> Result<DestinationConfig, String> {
    only_keys(fields, &["url", "headers"])?;
    let url = required(fields, "url")?;
    let url_shape = url.starts_with("http://") && url.len() > 7 || url.starts_with("https://") && url.len() > 8;
    if !url_shape || url.chars().count() > MAX_URL_LEN {
        return Err(INVALID_SCHEMA.into());
    }
    let headers = match fields.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => parse_headers(map)?,
        Some(_) => return Err(INVALID_SCHEMA.into()),
    };
    Ok(DestinationConfig::Http { url, headers })
}

fn parse_headers(map: &Map<String, Value>) -> Result<Vec<HeaderSpec>, String> {
    if map.len() > MAX_HEADERS {
        return Err(INVALID_SCHEMA.into());
    }
    if map.keys().any(|k| k.eq_ignore_ascii_case(TOKEN_HEADER)) {
        return Err(format!("Config headers cannot contain {TOKEN_HEADER}"));
    }
    if let Some(reserved) = map.keys().find_map(|k| rules::reserved_header(k)) {
        return Err(format!("Config headers cannot contain {reserved}"));
    }
    let mut headers = Vec::with_capacity(map.len());
    for (key, spec) in map {
        let Value::Object(spec) = spec else { return Err(INVALID_SCHEMA.into()) };
        only_keys(spec, &["value", "active"])?;
        let value = required(spec, "value")?;
        // GitLab allows "" but no leading or trailing whitespace.
        if value.trim() != value || value.chars().count() > MAX_HEADER_VALUE_LEN || value.chars().any(char::is_control)
        {
            return Err(INVALID_SCHEMA.into());
        }
        // The schema's default (true) is not applied when sending: a header without `active`
        // is stored inactive, exactly as GitLab streams it.
        let active = match spec.get("active") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(INVALID_SCHEMA.into()),
        };
        schema(rules::header_key(key))?;
        headers.push(HeaderSpec { key: key.clone(), value, active });
    }
    Ok(headers)
}

fn parse_gcp(fields: &Map<String, Value>) -> Result<DestinationConfig, String> {
    only_keys(fields, &["googleProjectIdName", "clientEmail", "logIdName"])?;
    let google_project_id_name = required(fields, "googleProjectIdName")?;
    let client_email = required(fields, "clientEmail")?;
    let log_id_name = string(fields, "logIdName")?.unwrap_or_else(|| CONSOLIDATED_GCP_LOG_ID.to_owned());
    schema(rules::google_project_id_name(&google_project_id_name))?;
    schema(rules::client_email(&client_email))?;
    schema(rules::log_id_name(&log_id_name))?;
    Ok(DestinationConfig::Gcp { google_project_id_name, client_email, log_id_name })
}

fn parse_aws(fields: &Map<String, Value>) -> Result<DestinationConfig, String> {
    only_keys(fields, &["accessKeyXid", "bucketName", "awsRegion"])?;
    let access_key_xid = required(fields, "accessKeyXid")?;
    let bucket_name = required(fields, "bucketName")?;
    let aws_region = required(fields, "awsRegion")?;
    schema(rules::access_key_xid(&access_key_xid))?;
    schema(rules::bucket_name(&bucket_name))?;
    schema(rules::aws_region(&aws_region))?;
    Ok(DestinationConfig::Aws { access_key_xid, bucket_name, aws_region })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_config_round_trips() {
        let config = json!({"url": "https://siem.example.com", "headers": {"X-A": {"value": "1", "active": true}, "X-B": {"value": "", "active": false}}});
        let parsed = parse_config(Category::Http, &config).unwrap();
        assert_eq!(parsed.to_json(), config);
        let bare = parse_config(Category::Http, &json!({"url": "http://x.example", "headers": {}})).unwrap();
        assert_eq!(bare.to_json(), json!({"url": "http://x.example"}));
    }

    #[test]
    fn http_config_refusals() {
        assert_eq!(parse_config(Category::Http, &json!("x")).unwrap_err(), NOT_A_HASH);
        for bad in [
            json!({}),
            json!({"url": 5}),
            json!({"url": "ftp://x"}),
            json!({"url": "https://x", "extra": 1}),
            json!({"url": "https://x", "headers": {"X": {"value": " padded ", "active": true}}}),
            json!({"url": "https://x", "headers": {"X": {"value": "v", "active": "yes"}}}),
            json!({"url": "https://x", "headers": {"X": {"value": "v", "other": 1}}}),
            json!({"url": "https://x", "headers": {"Bad Name": {"value": "v"}}}),
        ] {
            assert_eq!(parse_config(Category::Http, &bad).unwrap_err(), INVALID_SCHEMA, "{bad}");
        }
        let many: Map<String, Value> =
            (0..21).map(|i| (format!("X-{i}"), json!({"value": "v", "active": true}))).collect();
        assert_eq!(
            parse_config(Category::Http, &json!({"url": "https://x", "headers": many})).unwrap_err(),
            INVALID_SCHEMA
        );
        let token =
            json!({"url": "https://x", "headers": {"x-gitlab-event-streaming-token": {"value": "v", "active": true}}});
        assert_eq!(
            parse_config(Category::Http, &token).unwrap_err(),
            "Config headers cannot contain X-Gitlab-Event-Streaming-Token"
        );
        for (key, reserved) in [("host", "Host"), ("Transfer-Encoding", "Transfer-Encoding"), ("proxy-x", "proxy-x")] {
            let config = json!({"url": "https://x", "headers": {key: {"value": "v", "active": true}}});
            assert_eq!(
                parse_config(Category::Http, &config).unwrap_err(),
                format!("Config headers cannot contain {reserved}")
            );
        }
    }

    #[test]
    fn header_without_active_is_inactive() {
        let parsed =
            parse_config(Category::Http, &json!({"url": "https://x", "headers": {"X": {"value": "v"}}})).unwrap();
        let DestinationConfig::Http { headers, .. } = parsed else { panic!() };
        assert!(!headers[0].active);
    }

    #[test]
    fn gcp_and_aws_configs() {
        let gcp = parse_config(
            Category::Gcp,
            &json!({"googleProjectIdName": "my-project", "clientEmail": "a@b.iam.example"}),
        )
        .unwrap();
        assert_eq!(gcp.to_json()["logIdName"], CONSOLIDATED_GCP_LOG_ID);
        assert_eq!(parse_config(Category::Gcp, &json!({"googleProjectIdName": "x"})).unwrap_err(), INVALID_SCHEMA);
        let aws = json!({"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "audit", "awsRegion": "eu-west-1"});
        assert_eq!(parse_config(Category::Aws, &aws).unwrap().to_json(), aws);
        assert_eq!(parse_config(Category::Aws, &json!({"bucketName": "audit"})).unwrap_err(), INVALID_SCHEMA);
    }
}
