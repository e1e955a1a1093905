//! The pagination helper's bounds, cursors and headers.

use super::*;
use serde_json::{Map, Value};

fn params(pairs: &[(&str, &str)]) -> Params {
    let map: Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
    Params(map)
}

fn url(uri: &str) -> PageUrl {
    PageUrl { base: "http://h".into(), uri: uri.parse().unwrap() }
}

#[test]
fn cursors_round_trip_and_reject_garbage() {
    assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
    assert!(decode_cursor("%%%").is_err());
    assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("{\"x\":1}")).is_err());
}

#[test]
fn pages_are_bounded_with_messages_naming_the_parameter() {
    let bad = |pairs: &[(&str, &str)]| match list_page_from(&params(pairs)) {
        Err(ServiceError::BadParam(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(bad(&[("page", "0")]).starts_with("page must be between 1 and"));
    assert!(bad(&[("page", "9223372036854775807")]).starts_with("page must be"));
    assert!(bad(&[("page", "99999999999999999999")]).starts_with("page is invalid"));
    assert!(bad(&[("per_page", "0")]).starts_with("per_page must be at least 1"));
    assert!(bad(&[("per_page", "-5")]).starts_with("per_page"));
    assert!(bad(&[("pagination", "keyset"), ("order_by", "name")]).starts_with("order_by"));
    assert!(bad(&[("pagination", "sideways")]).starts_with("pagination"));
    assert!(page_from(&params(&[("page", "-1")])).is_err());
    assert_eq!(
        list_page_from(&params(&[("per_page", "1000"), ("page", "2147483647")])).unwrap(),
        ListPage::Offset { page: MAX_PAGE, per_page: MAX_PER_PAGE }
    );
}

#[test]
fn offset_pages_slice_and_link_neighbours() {
    let items: Vec<i64> = (1..=25).collect();
    let (h, page) =
        paginate(items.clone(), |i| *i, ListPage::Offset { page: 2, per_page: 10 }, &url("/api/v4/users?search=a"));
    assert_eq!(page, (11..=20).collect::<Vec<_>>());
    assert_eq!(h["x-total"], "25");
    assert_eq!(h["x-total-pages"], "3");
    assert_eq!(h["x-next-page"], "3");
    assert_eq!(h["x-prev-page"], "1");
    let link = h["link"].to_str().unwrap();
    assert!(link.contains("<http://h/api/v4/users?search=a&page=3&per_page=10>; rel=\"next\""), "{link}");
    assert!(link.contains("page=1&per_page=10>; rel=\"prev\""), "{link}");
    assert!(link.contains("page=3&per_page=10>; rel=\"last\""), "{link}");
    let (h, page) = paginate(items, |i| *i, ListPage::Offset { page: MAX_PAGE, per_page: 100 }, &url("/u"));
    assert!(page.is_empty());
    assert_eq!(h["x-next-page"], "");
}

#[test]
fn keyset_pages_follow_ids_both_ways() {
    let items: Vec<i64> = vec![2, 4, 6, 8, 10];
    let (h, page) =
        paginate(items.clone(), |i| *i, ListPage::Keyset { descending: false, from: Some(4), per_page: 2 }, &url("/g"));
    assert_eq!(page, [6, 8]);
    assert!(h["link"].to_str().unwrap().contains("id_after=8"), "{:?}", h["link"]);
    let (h, page) =
        paginate(items.clone(), |i| *i, ListPage::Keyset { descending: true, from: None, per_page: 3 }, &url("/g"));
    assert_eq!(page, [10, 8, 6]);
    assert!(h["link"].to_str().unwrap().contains("id_before=6"));
    let (h, page) =
        paginate(items, |i| *i, ListPage::Keyset { descending: false, from: Some(6), per_page: 2 }, &url("/g"));
    assert_eq!(page, [8, 10]);
    assert!(h.get("link").is_none(), "the last page has no next link");
}

#[test]
fn offset_headers_of_events_keep_other_parameters() {
    let h = offset_headers(&url("/api/v4/audit_events?page=2&per_page=10&entity_type=Group"), 2, 10, 25);
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains("<http://h/api/v4/audit_events?entity_type=Group&page=3&per_page=10>; rel=\"next\""),
        "{link}"
    );
    assert_eq!(offset_headers(&url("/e"), 3, 10, 25)["x-next-page"], "");
}
