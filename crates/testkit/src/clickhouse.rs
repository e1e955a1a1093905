//! A private ClickHouse server for a test: Debian's `clickhouse-server` on free loopback ports
//! with its own data dir, that a test can stop (an outage) and start again on the same ports and
//! data. The binary comes from `AUDITRELAY_TEST_CLICKHOUSE_BIN` (`scripts/clickhouse-server.sh
//! install` prints one), else `/usr/sbin/clickhouse-server`; without one a test fails, never skips.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CLICKHOUSE_BIN: &str = "AUDITRELAY_TEST_CLICKHOUSE_BIN";
const DEBIAN_BIN: &str = "/usr/sbin/clickhouse-server";
const DEBIAN_CONFIG: &str = "/etc/clickhouse-server/config.xml";

/// A running ClickHouse; killed, and its data removed, on drop.
pub struct ClickHouseServer {
    bin: PathBuf,
    child: Option<Child>,
    dir: PathBuf,
    http_port: u16,
    tcp_port: u16,
    interserver_port: u16,
}

impl ClickHouseServer {
    pub fn start() -> ClickHouseServer {
        let bin = std::env::var_os(CLICKHOUSE_BIN).map(PathBuf::from).unwrap_or_else(|| DEBIAN_BIN.into());
        assert!(
            bin.is_file() && std::path::Path::new(DEBIAN_CONFIG).is_file(),
            "ClickHouse is not installed ({} or {DEBIAN_CONFIG} missing): run `scripts/clickhouse-server.sh install` \
             and set {CLICKHOUSE_BIN}",
            bin.display()
        );
        let mut server = ClickHouseServer {
            bin,
            child: None,
            dir: crate::temp_dir("auditrelay-clickhouse"),
            http_port: free_port(),
            tcp_port: free_port(),
            interserver_port: free_port(),
        };
        server.spawn();
        server
    }

    /// The HTTP URL auditrelay's `--clickhouse-url` takes, for `database`.
    pub fn url(&self, database: &str) -> String {
        format!("http://127.0.0.1:{}/{database}", self.http_port)
    }

    /// Stops the server now (an outage); its data stays for [`Self::start_again`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections are accepted but never answered, like a hung
    /// server or a network partition.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("ClickHouse is running").id();
        let status = Command::new("kill").args([signal, &pid.to_string()]).status().expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Starts it again on the same ports and data.
    pub fn start_again(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Stops and starts it (the same as [`Self::start_again`], for symmetry with `TestServer`).
    pub fn restart(&mut self) {
        self.start_again();
    }

    /// Runs a query over HTTP and returns the body (panics on a non-200 answer).
    pub fn query(&self, sql: &str) -> String {
        let (status, body) = self.http(sql).unwrap_or_else(|e| panic!("ClickHouse query failed: {e}"));
        assert_eq!(status, 200, "ClickHouse answered {status} to {sql}: {body}");
        body
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.err.log")).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let dir = self.dir.display();
        let child = Command::new(&self.bin)
            .arg(format!("--config-file={DEBIAN_CONFIG}"))
            .arg("--")
            .arg(format!("--path={dir}/data/"))
            .arg(format!("--tmp_path={dir}/tmp/"))
            .arg(format!("--user_files_path={dir}/user_files/"))
            .arg(format!("--format_schema_path={dir}/format_schemas/"))
            .arg(format!("--logger.log={dir}/server.log"))
            .arg(format!("--logger.errorlog={dir}/server.err.log"))
            .arg(format!("--http_port={}", self.http_port))
            .arg(format!("--tcp_port={}", self.tcp_port))
            .arg(format!("--interserver_http_port={}", self.interserver_port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if matches!(self.http("SELECT 1"), Ok((200, _))) {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("poll clickhouse-server")) {
                panic!("clickhouse-server exited with {status} before answering; log:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "ClickHouse does not answer after 30 s; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A minimal HTTP/1.0 POST, so the launcher needs no async runtime.
    fn http(&self, sql: &str) -> std::io::Result<(u16, String)> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.http_port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let request = format!(
            "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sql}",
            sql.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        Ok((status, body))
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("a free port").port()
}

impl Drop for ClickHouseServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
