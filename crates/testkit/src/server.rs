//! A real `auditrelay serve` process for a test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::Api;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The token `root` gets in every test server.
pub const ROOT_TOKEN: &str = "glpat-testroottoken0000000001";
pub const ROOT_PASSWORD: &str = "root-password-for-tests";
/// Every test server shares one secret key, so servers sharing a database can read its secrets.
pub const SECRET_KEY: &str = "6175646974726c61792d746573742d6b65792d30303030303030303030303030";

pub struct TestServerBuilder {
    binary: PathBuf,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    backend: Backend,
    env: Vec<(String, String)>,
}

impl TestServerBuilder {
    /// `binary` is the path of the `auditrelay` executable (`env!("CARGO_BIN_EXE_auditrelay")`).
    pub fn new(binary: &str, backend: Backend) -> Self {
        TestServerBuilder { binary: binary.into(), data_dir: None, database_url: None, backend, env: Vec::new() }
    }

    /// Reuse a data dir (e.g. to restart a server on the same embedded store).
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    /// Share a PostgreSQL database with another server.
    pub fn database_url(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub async fn start(self) -> TestServer {
        let data_dir = self.data_dir.unwrap_or_else(|| crate::temp_dir("auditrelay-test"));
        let database_url = match (self.backend, self.database_url) {
            (_, Some(url)) => Some(url),
            (Backend::Postgres, None) => Some(crate::fresh_postgres_database().await),
            (Backend::Sqlite, None) => None,
        };
        let mut server =
            TestServer { binary: self.binary, data_dir, database_url, env: self.env, child: None, base: String::new() };
        server.spawn();
        server
    }
}

pub struct TestServer {
    binary: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl TestServer {
    pub fn builder(binary: &str, backend: Backend) -> TestServerBuilder {
        TestServerBuilder::new(binary, backend)
    }

    /// Starts the process and waits for its `auditrelay listening on http://…` line.
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("server.log"))
            .expect("log file");
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .env("AUDITRELAY_ROOT_TOKEN", ROOT_TOKEN)
            .env("AUDITRELAY_ROOT_PASSWORD", ROOT_PASSWORD)
            .env("AUDITRELAY_SECRET_KEY", SECRET_KEY)
            .env_remove("AUDITRELAY_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        if let Some(url) = &self.database_url {
            command.args(["--database-url", url]);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start auditrelay");
        let stdout = child.stdout.take().expect("stdout");
        let (found, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(address) = line.strip_prefix("auditrelay listening on ") {
                    let _ = found.send(address.trim().to_owned());
                    sent = true;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            if let Ok(base) = lines.recv_timeout(Duration::from_millis(100)) {
                break base;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("auditrelay exited with {status} before listening; log:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "auditrelay did not start within 60 s; log:\n{}", self.log());
        };
        self.base = base;
        self.child = Some(child);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    /// A client authenticated as `root`.
    pub fn root(&self) -> Api {
        Api::new(&self.base, Some(ROOT_TOKEN))
    }

    pub fn api(&self, token: Option<&str>) -> Api {
        Api::new(&self.base, token)
    }

    /// `kill -9`: no shutdown, no flushing.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the process again on the same data dir and database.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
