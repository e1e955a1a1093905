//! GitLab pagination: offset (`page`, `per_page`, `X-*` headers) and keyset (`cursor`, `Link`).

use auditrelay_store::SeqOrder;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::params::Params;
use crate::error::{ServiceError, ServiceResult};
use auditrelay_service::events::{DEFAULT_PER_PAGE, MAX_PER_PAGE, Page};

/// Reads `page`/`per_page`, or `pagination=keyset` with `order_by`, `sort` and `cursor`.
pub fn page_from(params: &Params) -> ServiceResult<Page> {
    let per_page = params.int("per_page")?.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
    if params.string("pagination")?.as_deref() != Some("keyset") {
        let page = params.int("page")?.unwrap_or(1).max(1);
        return Ok(Page::Offset { page, per_page });
    }
    if params.string("order_by")?.is_some_and(|o| o != "id") {
        return Err(ServiceError::BadParam(
            "order_by does not have a valid value: keyset pagination orders by id".into(),
        ));
    }
    let position = params.string("cursor")?.map(|c| decode_cursor(&c)).transpose()?;
    let order = match params.string("sort")?.as_deref() {
        None | Some("desc") => SeqOrder::NewestFirst { before: position },
        Some("asc") => SeqOrder::OldestFirst { after: position },
        Some(_) => return Err(ServiceError::BadParam("sort does not have a valid value".into())),
    };
    Ok(Page::Keyset { order, per_page })
}

pub fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "seq": seq }).to_string())
}

fn decode_cursor(cursor: &str) -> ServiceResult<i64> {
    let bad = || ServiceError::BadParam("cursor is invalid".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| bad())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    value.get("seq").and_then(serde_json::Value::as_i64).ok_or_else(bad)
}

/// The request's URL with some query parameters replaced, for `Link` headers.
fn url_with(base: &str, uri: &Uri, replace: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
    pairs.retain(|(k, _)| !replace.iter().any(|(r, _)| r == k));
    pairs.extend(replace.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{base}{}?{query}", uri.path())
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

pub fn offset_headers(base: &str, uri: &Uri, page: i64, per_page: i64, total: i64) -> HeaderMap {
    let total_pages = ((total + per_page - 1) / per_page).max(1);
    let next = (page < total_pages).then(|| page + 1);
    let prev = (page > 1).then(|| page - 1);
    let mut headers = HeaderMap::new();
    set(&mut headers, "x-page", page.to_string());
    set(&mut headers, "x-per-page", per_page.to_string());
    set(&mut headers, "x-total", total.to_string());
    set(&mut headers, "x-total-pages", total_pages.to_string());
    set(&mut headers, "x-next-page", next.map(|p| p.to_string()).unwrap_or_default());
    set(&mut headers, "x-prev-page", prev.map(|p| p.to_string()).unwrap_or_default());
    let link = |p: i64, rel: &str| {
        format!(
            "<{}>; rel=\"{rel}\"",
            url_with(base, uri, &[("page", p.to_string()), ("per_page", per_page.to_string())])
        )
    };
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(link(p, "prev"));
    }
    if let Some(p) = next {
        links.push(link(p, "next"));
    }
    links.push(link(1, "first"));
    links.push(link(total_pages, "last"));
    set(&mut headers, "link", links.join(", "));
    headers
}

pub fn keyset_headers(base: &str, uri: &Uri, per_page: i64, next_seq: Option<i64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set(&mut headers, "x-per-page", per_page.to_string());
    if let Some(seq) = next_seq {
        let url = url_with(base, uri, &[("cursor", encode_cursor(seq))]);
        set(&mut headers, "link", format!("<{url}>; rel=\"next\""));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert!(decode_cursor("%%%").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("{\"x\":1}")).is_err());
    }

    #[test]
    fn offset_headers_link_neighbours() {
        let uri: Uri = "/api/v4/audit_events?page=2&per_page=10&entity_type=Group".parse().unwrap();
        let h = offset_headers("http://h", &uri, 2, 10, 25);
        assert_eq!(h["x-total-pages"], "3");
        assert_eq!(h["x-next-page"], "3");
        assert_eq!(h["x-prev-page"], "1");
        let link = h["link"].to_str().unwrap();
        assert!(
            link.contains("<http://h/api/v4/audit_events?entity_type=Group&page=3&per_page=10>; rel=\"next\""),
            "{link}"
        );
        let last = offset_headers("http://h", &uri, 3, 10, 25);
        assert_eq!(last["x-next-page"], "");
    }
}
