//! A self-contained GraphQL explorer page: query and variables editors, a token field, the
//! answer, and the schema. Served by the binary; no CDN, no network.

use axum::response::Html;

pub async fn page() -> Html<String> {
    Html(PAGE.replace("{{SCHEMA}}", &html_escape(&super::schema_sdl())))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>auditrelay GraphQL explorer</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 1fr 1fr; grid-template-rows: auto 1fr; height: 100vh; }
  header { grid-column: 1 / 3; padding: .5rem 1rem; background: #292961; color: #fff; display: flex; gap: 1rem; align-items: center; }
  header input { width: 22rem; }
  section { display: flex; flex-direction: column; padding: .5rem; gap: .5rem; min-height: 0; }
  textarea, pre { flex: 1; font-family: ui-monospace, monospace; font-size: 13px; margin: 0; overflow: auto; border: 1px solid #ccc; padding: .5rem; }
  details pre { max-height: 40vh; }
</style>
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
<script>
  const token = document.getElementById('token');
  token.value = sessionStorage.getItem('auditrelay-token') || '';
  async function run() {
    sessionStorage.setItem('auditrelay-token', token.value);
    let variables = {};
    try { variables = JSON.parse(document.getElementById('variables').value || '{}'); }
    catch (e) { document.getElementById('result').textContent = 'Variables are not valid JSON: ' + e; return; }
    const headers = { 'Content-Type': 'application/json' };
    if (token.value) headers['Authorization'] = 'Bearer ' + token.value;
    const response = await fetch('/api/graphql', { method: 'POST', headers, body: JSON.stringify({ query: document.getElementById('query').value, variables }) });
    document.getElementById('result').textContent = JSON.stringify(await response.json(), null, 2);
  }
  document.getElementById('run').addEventListener('click', run);
  document.addEventListener('keydown', (e) => { if (e.ctrlKey && e.key === 'Enter') run(); });
</script>
</body>
</html>
"#;
