//! The UI's stylesheet and scripts, compiled into the binary (no CDN, no build step).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ServiceError};

const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../assets/app.css")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../../assets/api.js")),
    ("stream_panel.js", "text/javascript; charset=utf-8", include_str!("../../assets/stream_panel.js")),
    ("streams.js", "text/javascript; charset=utf-8", include_str!("../../assets/streams.js")),
    ("explorer.js", "text/javascript; charset=utf-8", include_str!("../../assets/explorer.js")),
    ("explorer.css", "text/css; charset=utf-8", include_str!("../../assets/explorer.css")),
];

pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => {
            ([(CONTENT_TYPE, *content_type), (CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => ApiError(ServiceError::NotFound("")).into_response(),
    }
}
