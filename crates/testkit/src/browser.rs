//! A headless Debian Chromium driven over W3C WebDriver by `chromedriver`, for the web UI's
//! end-to-end tests. chromedriver listens on a free loopback port, Chromium gets a fresh
//! profile dir and flags that keep it off the network. The protocol is a few JSON calls, so
//! this speaks it with reqwest instead of adding a WebDriver crate.
//!
//! Missing Chromium or chromedriver is an error (tests fail, never skip): `scripts/test.sh`
//! installs them. `AUDITRELAY_CHROMIUM` and `AUDITRELAY_CHROMEDRIVER` override their paths.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_*` helpers wait before failing.
pub const UI_WAIT: Duration = Duration::from_secs(15);

/// Chromium's flags for a closed network (see the shared test-services notes).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    profile: PathBuf,
}

fn binary(env: &str, default: &str) -> Result<PathBuf> {
    let path = PathBuf::from(std::env::var(env).unwrap_or_else(|_| default.to_owned()));
    if path.exists() {
        Ok(path)
    } else {
        bail!("{} not found (install Debian's chromium and chromium-driver, or set {env})", path.display())
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    pub async fn start() -> Result<Browser> {
        let chromium = binary("AUDITRELAY_CHROMIUM", "/usr/bin/chromium")?;
        let chromedriver = binary("AUDITRELAY_CHROMEDRIVER", "/usr/bin/chromedriver")?;
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build()?;
        // The port is free when picked; another process could take it before chromedriver
        // binds, so try a few.
        let mut last_error = anyhow!("chromedriver did not start");
        for _ in 0..3 {
            let port = free_port()?;
            let mut driver = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", chromedriver.display()))?;
            let base = format!("http://127.0.0.1:{port}");
            match wait_ready(&http, &base).await {
                Ok(()) => return Self::open_session(driver, http, &base, &chromium).await,
                Err(e) => {
                    last_error = e;
                    let _ = driver.kill();
                    let _ = driver.wait();
                }
            }
        }
        Err(last_error)
    }

    async fn open_session(driver: Child, http: reqwest::Client, base: &str, chromium: &Path) -> Result<Browser> {
        let profile = crate::temp_dir("ar-chromium-profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        // Own the driver before anything can fail, so Drop stops it.
        let mut browser = Browser { driver, http, session: String::new(), profile };
        let reply = browser.call(reqwest::Method::POST, &format!("{base}/session"), Some(capabilities)).await?;
        let id = reply["sessionId"].as_str().ok_or_else(|| anyhow!("no session id in {reply}"))?;
        browser.session = format!("{base}/session/{id}");
        Ok(browser)
    }

    async fn call(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
        let request = self.http.request(method.clone(), url);
        let request = match body {
            Some(body) => request.json(&body),
            None if method == reqwest::Method::POST => request.json(&json!({})),
            None => request,
        };
        let reply: Value = request.send().await?.json().await?;
        let value = reply.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            bail!("WebDriver {error}: {}", value["message"].as_str().unwrap_or(""));
        }
        Ok(value)
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.call(method, &format!("{}{path}", self.session), body).await
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await.map(|_| ())
    }

    pub async fn current_url(&self) -> Result<String> {
        Ok(self.command(reqwest::Method::GET, "/url", None).await?.as_str().unwrap_or("").to_owned())
    }

    /// Runs a script in the page; `arguments` are available to it.
    pub async fn execute(&self, script: &str, arguments: Value) -> Result<Value> {
        self.command(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": arguments}))).await
    }

    /// Runs an asynchronous script; it reports its result by calling its last argument.
    pub async fn execute_async(&self, script: &str) -> Result<Value> {
        self.command(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": []}))).await
    }

    /// The element matching a CSS selector, now.
    pub async fn find(&self, css: &str) -> Result<String> {
        let found = self
            .command(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .await?;
        found[ELEMENT_KEY].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no element for {css}"))
    }

    /// Every element matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Result<Vec<String>> {
        let found = self
            .command(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))
            .await?;
        Ok(found.as_array().into_iter().flatten().filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned)).collect())
    }

    /// Waits until a visible element matches the selector.
    pub async fn wait_for(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + UI_WAIT;
        loop {
            if let Ok(element) = self.find(css).await
                && self.displayed(&element).await.unwrap_or(false)
            {
                return Ok(element);
            }
            if Instant::now() > deadline {
                bail!("no visible element for {css} within {UI_WAIT:?}")
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `needle`; returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + UI_WAIT;
        loop {
            let text = match self.find(css).await {
                Ok(element) => self.element_text(&element).await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("{css} never showed {needle:?} within {UI_WAIT:?} (last text: {text:?})")
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until nothing matches the selector.
    pub async fn wait_gone(&self, css: &str) -> Result<()> {
        let deadline = Instant::now() + UI_WAIT;
        while !self.find_all(css).await?.is_empty() {
            if Instant::now() > deadline {
                bail!("{css} still present after {UI_WAIT:?}")
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    pub async fn displayed(&self, element: &str) -> Result<bool> {
        Ok(self.command(reqwest::Method::GET, &format!("/element/{element}/displayed"), None).await?.as_bool()
            == Some(true))
    }

    pub async fn element_text(&self, element: &str) -> Result<String> {
        Ok(self
            .command(reqwest::Method::GET, &format!("/element/{element}/text"), None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        self.element_text(&self.find(css).await?).await
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.wait_for(css).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/click"), None).await.map(|_| ())
    }

    /// Clears a field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let element = self.wait_for(css).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/clear"), None).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await?;
        Ok(())
    }

    /// Sends keys to whatever has focus (e.g. `"\u{E004}"` for Tab, `"\u{E007}"` for Enter).
    pub async fn keys(&self, keys: &str) -> Result<()> {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [json!({"type": "keyDown", "value": c.to_string()}), json!({"type": "keyUp", "value": c.to_string()})]
            })
            .collect();
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.command(reqwest::Method::POST, "/actions", Some(body)).await.map(|_| ())
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        use base64::Engine;
        let data = self.command(reqwest::Method::GET, "/screenshot", None).await?;
        let png = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or(""))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Ends the session (Chromium exits) and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.command(reqwest::Method::DELETE, "", None).await;
        self.session.clear();
    }

    fn stop_driver(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed before `close` still ends its Chromium: Drop cannot await, so the
        // session is deleted with a plain blocking request before chromedriver is stopped.
        if !self.session.is_empty() {
            delete_session_blocking(&self.session);
        }
        self.stop_driver();
    }
}

fn delete_session_blocking(session: &str) {
    use std::io::{Read, Write};
    let Some(rest) = session.strip_prefix("http://") else { return };
    let Some((host, path)) = rest.split_once('/') else { return };
    if let Ok(mut stream) = std::net::TcpStream::connect(host) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request =
            format!("DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(reply) = http.get(format!("{base}/status")).send().await
            && let Ok(status) = reply.json::<Value>().await
            && status["value"]["ready"].as_bool() == Some(true)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("chromedriver at {base} was not ready within 15 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where tests keep screenshots: `$AUDITRELAY_ARTIFACTS_DIR`, or `target/test-artifacts/ui`.
pub fn artifacts_dir() -> PathBuf {
    match std::env::var("AUDITRELAY_ARTIFACTS_DIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts/ui"),
    }
}
