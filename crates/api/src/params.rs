//! Request parameters the GitLab way: from the query string, a form body or a JSON body,
//! merged into one map and read with typed getters whose errors name the parameter.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::error::{ApiError, ServiceError, ServiceResult};

/// The largest parameter body accepted (ingest has its own, larger limit).
const MAX_PARAMS_BODY: usize = 1024 * 1024;

pub struct Params(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut map = Map::new();
        if let Some(query) = request.uri().query() {
            merge_form(&mut map, query)?;
        }
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = super::body::read_limited(request.into_body(), MAX_PARAMS_BODY).await?;
        let _ = state;
        merge_body(&mut map, &body, is_json)?;
        Ok(Params(map))
    }
}

fn merge_body(map: &mut Map<String, Value>, body: &Bytes, is_json: bool) -> ServiceResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if is_json {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => map.extend(fields),
            Ok(_) => return Err(ServiceError::BadParam("the JSON body must be an object".into())),
            Err(e) => return Err(ServiceError::BadParam(format!("the body is not valid JSON: {e}"))),
        }
        return Ok(());
    }
    let text = std::str::from_utf8(body).map_err(|_| ServiceError::BadParam("the body is not valid UTF-8".into()))?;
    merge_form(map, text)
}

/// Form pairs; `key[]=a&key[]=b` collects into an array under `key`.
fn merge_form(map: &mut Map<String, Value>, text: &str) -> ServiceResult<()> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(text).map_err(|e| ServiceError::BadParam(format!("malformed parameters: {e}")))?;
    for (key, value) in pairs {
        match key.strip_suffix("[]") {
            Some(list) => match map.entry(list.to_owned()).or_insert_with(|| Value::Array(vec![])) {
                Value::Array(items) => items.push(Value::String(value)),
                other => *other = Value::Array(vec![Value::String(value)]),
            },
            None => {
                map.insert(key, Value::String(value));
            }
        }
    }
    Ok(())
}

fn invalid(key: &str) -> ServiceError {
    ServiceError::BadParam(format!("{key} is invalid"))
}

impl Params {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> ServiceResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(key)),
        }
    }

    pub fn required_string(&self, key: &str) -> ServiceResult<String> {
        self.string(key)?.ok_or_else(|| ServiceError::missing(key))
    }

    pub fn int(&self, key: &str) -> ServiceResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(key)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(key)),
            Some(_) => Err(invalid(key)),
        }
    }

    pub fn required_int(&self, key: &str) -> ServiceResult<i64> {
        self.int(key)?.ok_or_else(|| ServiceError::missing(key))
    }

    pub fn bool(&self, key: &str) -> ServiceResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" || s == "0" => Ok(Some(false)),
            Some(_) => Err(invalid(key)),
        }
    }

    /// A list given as a JSON array, repeated `key[]` parameters, or one comma-separated string.
    pub fn list(&self, key: &str) -> ServiceResult<Vec<String>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => {
                items.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid(key))).collect()
            }
            Some(Value::String(s)) => {
                Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            }
            Some(_) => Err(invalid(key)),
        }
    }

    /// A date-time or date parameter, as microseconds.
    pub fn timestamp(&self, key: &str) -> ServiceResult<Option<i64>> {
        match self.string(key)? {
            None => Ok(None),
            Some(text) => auditrelay_core::time::parse_timestamp(&text).map(Some).ok_or_else(|| invalid(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lists_and_json_merge() {
        let mut map = Map::new();
        merge_form(&mut map, "name=a+b&scopes[]=api&scopes[]=read_api").unwrap();
        merge_body(&mut map, &Bytes::from_static(br#"{"parent_id": 4}"#), true).unwrap();
        let params = Params(map);
        assert_eq!(params.required_string("name").unwrap(), "a b");
        assert_eq!(params.list("scopes").unwrap(), ["api", "read_api"]);
        assert_eq!(params.int("parent_id").unwrap(), Some(4));
        assert!(matches!(params.required_string("path"), Err(ServiceError::BadParam(m)) if m == "path is missing"));
    }

    #[test]
    fn typed_getters_name_bad_parameters() {
        let mut map = Map::new();
        merge_body(&mut map, &Bytes::from_static(br#"{"n": "x", "b": "maybe", "l": 5}"#), true).unwrap();
        let params = Params(map);
        assert!(matches!(params.int("n"), Err(ServiceError::BadParam(m)) if m == "n is invalid"));
        assert!(params.bool("b").is_err());
        assert!(params.list("l").is_err());
        let mut bad = Map::new();
        assert!(merge_body(&mut bad, &Bytes::from_static(b"[1]"), true).is_err());
        assert!(merge_body(&mut bad, &Bytes::from_static(b"{"), true).is_err());
    }
}
