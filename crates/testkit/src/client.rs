//! A small HTTP client for tests: JSON in, status + headers + JSON out.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The URL of the `Link` header's `rel="next"`, if any.
    pub fn next_link(&self) -> Option<String> {
        self.header("link")?
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l.trim_start_matches('<').split(">;").next().unwrap_or_default().to_owned())
    }

    /// Panics with the body unless the status is `expected`.
    pub fn expect(self, expected: u16) -> Reply {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.text);
        self
    }
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Api {
        Api { base: base.to_owned(), token: token.map(str::to_owned), http: reqwest::Client::new() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token this client presents, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api { token: Some(token.to_owned()), ..self.clone() }
    }

    pub async fn send(&self, method: Method, path: &str, content_type: Option<&str>, body: Option<Vec<u8>>) -> Reply {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some("application/json"), Some(body.to_string().into_bytes())).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some("application/json"), Some(body.to_string().into_bytes())).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, None).await
    }

    /// Runs a GraphQL document at `/api/graphql` with `variables`.
    pub async fn graphql(&self, query: &str, variables: Value) -> Reply {
        self.post("/api/graphql", &serde_json::json!({ "query": query, "variables": variables })).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.send(Method::POST, path, Some(content_type), Some(body.into())).await
    }
}
