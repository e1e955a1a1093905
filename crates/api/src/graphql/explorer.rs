//! A self-contained GraphQL explorer page: query and variables editors, a token field, the
//! answer, and the schema. Served by the binary (`assets/explorer.{js,css}`); no CDN.

use axum::http::StatusCode;
use axum::response::Response;

/// With the web UI's security headers: its script and stylesheet are assets of this origin.
pub async fn page() -> Response {
    crate::web::with_security_headers(
        StatusCode::OK,
        PAGE.replace("{{SCHEMA}}", &crate::web::escape(&super::schema::schema_sdl())),
    )
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>auditrelay GraphQL explorer</title>
<link rel="stylesheet" href="/assets/explorer.css">
</head>
<body>
<header>
  <strong>auditrelay GraphQL explorer</strong>
  <label>Token <input id="token" type="password" autocomplete="off" placeholder="personal access token"></label>
  <button id="run" type="button">Run (Ctrl+Enter)</button>
</header>
<section aria-label="Request">
  <label for="query">Query</label>
  <textarea id="query" spellcheck="false">query {
  auditEventDefinitions(first: 5) { nodes { name featureCategory } }
}</textarea>
  <label for="variables">Variables (JSON)</label>
  <textarea id="variables" spellcheck="false" style="flex: .3">{}</textarea>
</section>
<section aria-label="Response">
  <label for="result">Response</label>
  <pre id="result" role="status" aria-live="polite"></pre>
  <details><summary>Schema</summary><pre>{{SCHEMA}}</pre></details>
</section>
<script src="/assets/explorer.js" defer></script>
</body>
</html>
"#;
