//! GitLab pagination for every REST listing: offset (`page`, `per_page`, the `X-*` headers and
//! `Link` with `prev`/`next`/`first`/`last`) and keyset (`pagination=keyset`, `Link` `next`).
//! One parser with one set of bounds, one header builder, for audit events and directory lists.

use auditrelay_store::SeqOrder;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::params::Params;
use crate::error::{ServiceError, ServiceResult};
use auditrelay_service::events::Page;

/// GitLab's default page size.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// GitLab's largest page: larger `per_page` values are served 100 at a time, as GitLab does.
pub const MAX_PER_PAGE: i64 = 100;
/// The largest `page`: far beyond any listing, small enough that `page * per_page` cannot wrap.
pub const MAX_PAGE: i64 = i32::MAX as i64;

/// Where a listing was asked for: the base URL and the request URI, for absolute `Link`s.
pub struct PageUrl {
    base: String,
    uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for PageUrl {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let uri = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        Ok(PageUrl { base: crate::base_url::base_url(&parts.headers), uri })
    }
}

/// `page` and `per_page`, bounded: a bad value is a 400 naming it, never a wrapped offset.
fn offset_page(params: &Params) -> ServiceResult<(i64, i64)> {
    let per_page = match params.int("per_page")? {
        None => DEFAULT_PER_PAGE,
        Some(n) if n < 1 => {
            return Err(ServiceError::BadParam(format!(
                "per_page must be at least 1 (at most {MAX_PER_PAGE} are returned per page)"
            )));
        }
        Some(n) => n.min(MAX_PER_PAGE),
    };
    let page = match params.int("page")? {
        None => 1,
        Some(n) if !(1..=MAX_PAGE).contains(&n) => {
            return Err(ServiceError::BadParam(format!("page must be between 1 and {MAX_PAGE}")));
        }
        Some(n) => n,
    };
    Ok((page, per_page))
}

fn keyset_requested(params: &Params) -> ServiceResult<bool> {
    match params.string("pagination")?.as_deref() {
        None | Some("offset") => Ok(false),
        Some("keyset") => Ok(true),
        Some(_) => Err(ServiceError::BadParam("pagination does not have a valid value: use offset or keyset".into())),
    }
}

fn check_order_by_id(params: &Params) -> ServiceResult<()> {
    if params.string("order_by")?.is_some_and(|o| o != "id") {
        return Err(ServiceError::BadParam(
            "order_by does not have a valid value: keyset pagination orders by id".into(),
        ));
    }
    Ok(())
}

/// Audit events: `page`/`per_page`, or `pagination=keyset` with `order_by=id`, `sort` and `cursor`.
pub fn page_from(params: &Params) -> ServiceResult<Page> {
    let (page, per_page) = offset_page(params)?;
    if !keyset_requested(params)? {
        return Ok(Page::Offset { page, per_page });
    }
    check_order_by_id(params)?;
    let position = params.string("cursor")?.map(|c| decode_cursor(&c)).transpose()?;
    let order = match params.string("sort")?.as_deref() {
        None | Some("desc") => SeqOrder::NewestFirst { before: position },
        Some("asc") => SeqOrder::OldestFirst { after: position },
        Some(_) => return Err(ServiceError::BadParam("sort does not have a valid value: use asc or desc".into())),
    };
    Ok(Page::Keyset { order, per_page })
}

/// A page of a directory listing (users, groups, projects, members, tokens), ordered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPage {
    Offset {
        page: i64,
        per_page: i64,
    },
    /// GitLab's keyset form for these lists: `order_by=id`, `sort`, and `id_after`/`id_before`.
    Keyset {
        descending: bool,
        from: Option<i64>,
        per_page: i64,
    },
}

pub fn list_page_from(params: &Params) -> ServiceResult<ListPage> {
    let (page, per_page) = offset_page(params)?;
    if !keyset_requested(params)? {
        return Ok(ListPage::Offset { page, per_page });
    }
    check_order_by_id(params)?;
    let descending = match params.string("sort")?.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ServiceError::BadParam("sort does not have a valid value: use asc or desc".into())),
    };
    let from = params.int(if descending { "id_before" } else { "id_after" })?;
    Ok(ListPage::Keyset { descending, from, per_page })
}

/// Cuts one page out of a whole listing (ascending by id) and builds its headers.
pub fn paginate<T>(items: Vec<T>, id: impl Fn(&T) -> i64, page: ListPage, url: &PageUrl) -> (HeaderMap, Vec<T>) {
    match page {
        ListPage::Offset { page, per_page } => {
            let total = items.len() as i64;
            let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
            let items: Vec<T> = items.into_iter().skip(skip).take(per_page as usize).collect();
            (offset_headers(url, page, per_page, total), items)
        }
        ListPage::Keyset { descending, from, per_page } => {
            let mut items: Vec<T> = if descending {
                items.into_iter().rev().filter(|i| from.is_none_or(|f| id(i) < f)).collect()
            } else {
                items.into_iter().filter(|i| from.is_none_or(|f| id(i) > f)).collect()
            };
            let more = items.len() as i64 > per_page;
            items.truncate(per_page as usize);
            let next = more.then(|| items.last().map(&id)).flatten();
            let key = if descending { "id_before" } else { "id_after" };
            let mut headers = HeaderMap::new();
            set(&mut headers, "x-per-page", per_page.to_string());
            if let Some(last) = next {
                let next_url = url_with(url, &[(key, last.to_string()), ("per_page", per_page.to_string())]);
                set(&mut headers, "link", format!("<{next_url}>; rel=\"next\""));
            }
            (headers, items)
        }
    }
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
fn url_with(url: &PageUrl, replace: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        url.uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
    pairs.retain(|(k, _)| !replace.iter().any(|(r, _)| r == k));
    pairs.extend(replace.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}{}?{query}", url.base, url.uri.path())
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// GitLab's offset headers: `X-Page`, `X-Per-Page`, `X-Total`, `X-Total-Pages`, `X-Next-Page`,
/// `X-Prev-Page` (empty when there is none) and `Link`.
pub fn offset_headers(url: &PageUrl, page: i64, per_page: i64, total: i64) -> HeaderMap {
    let total_pages = ((total + per_page - 1) / per_page).max(1);
    let next = (page < total_pages).then(|| page + 1);
    let prev = (page > 1).then(|| (page - 1).min(total_pages));
    let mut headers = HeaderMap::new();
    set(&mut headers, "x-page", page.to_string());
    set(&mut headers, "x-per-page", per_page.to_string());
    set(&mut headers, "x-total", total.to_string());
    set(&mut headers, "x-total-pages", total_pages.to_string());
    set(&mut headers, "x-next-page", next.map(|p| p.to_string()).unwrap_or_default());
    set(&mut headers, "x-prev-page", prev.map(|p| p.to_string()).unwrap_or_default());
    let link = |p: i64, rel: &str| {
        format!("<{}>; rel=\"{rel}\"", url_with(url, &[("page", p.to_string()), ("per_page", per_page.to_string())]))
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

/// Keyset headers of audit events: `X-Per-Page` and, when there is a next page, `Link` `next`.
pub fn keyset_headers(url: &PageUrl, per_page: i64, next_seq: Option<i64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set(&mut headers, "x-per-page", per_page.to_string());
    if let Some(seq) = next_seq {
        let next = url_with(url, &[("cursor", encode_cursor(seq))]);
        set(&mut headers, "link", format!("<{next}>; rel=\"next\""));
    }
    headers
}

/// Headers of a listing that pages by a position (`after_sequence` of checkpoints):
/// `X-Per-Page` and, when there may be more, `Link` `next` with `param` set to the last one.
pub fn after_headers(url: &PageUrl, per_page: i64, param: &str, next_after: Option<i64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set(&mut headers, "x-per-page", per_page.to_string());
    if let Some(after) = next_after {
        let next = url_with(url, &[(param, after.to_string())]);
        set(&mut headers, "link", format!("<{next}>; rel=\"next\""));
    }
    headers
}

#[cfg(test)]
mod tests;
