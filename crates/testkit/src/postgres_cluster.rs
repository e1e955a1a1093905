//! A private PostgreSQL cluster for one test (initdb + pg_ctl into a temp dir, on a free loopback
//! port), so a test can stop and restart PostgreSQL without touching the shared server others use.
//!
//! The binaries come from `AUDITRELAY_TEST_PG_BIN` or the newest `/usr/lib/postgresql/*/bin`.
//! PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` OS user
//! (`runuser -u postgres`), which the PostgreSQL packages create.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The OS user a root test runs PostgreSQL as.
const PG_OS_USER: &str = "postgres";

pub struct PostgresCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<String>,
}

impl PostgresCluster {
    /// Creates and starts a fresh cluster (trust auth, superuser `postgres`). Panics, failing
    /// the test, when PostgreSQL's binaries are missing or the cluster cannot start.
    pub fn start() -> PostgresCluster {
        let bin = binaries();
        let run_as = running_as_root().then(|| PG_OS_USER.to_owned());
        let dir = crate::temp_dir("auditrelay-pg");
        if let Some(user) = &run_as {
            give_to(&dir, user);
        }
        let port = free_port();
        let cluster = PostgresCluster { bin, dir, port, run_as };
        let data = cluster.data_dir();
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        cluster.start_again();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server; `mode` is pg_ctl's: `fast` (clients disconnected, clean shutdown) or
    /// `immediate` (like a crash: recovery runs on the next start).
    pub fn stop(&self, mode: &str) {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", &data, "-m", mode, "-w", "stop"]);
    }

    /// Starts the (stopped) server on its port and waits until it accepts connections.
    pub fn start_again(&self) {
        let (data, log) = (self.data_dir(), self.dir.join("postgres.log").display().to_string());
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the private PostgreSQL did not accept connections");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} (is PostgreSQL installed?): {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let program = self.bin.join("pg_ctl");
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// PostgreSQL's server binaries: `AUDITRELAY_TEST_PG_BIN`, else the newest installed version.
fn binaries() -> PathBuf {
    if let Ok(dir) = std::env::var("AUDITRELAY_TEST_PG_BIN") {
        return dir.into();
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("this test needs PostgreSQL's server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or AUDITRELAY_TEST_PG_BIN")
    })
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Hands the cluster's directory to the OS user that runs PostgreSQL.
fn give_to(dir: &Path, user: &str) {
    let status = Command::new("chown").args([user]).arg(dir).status().expect("run chown");
    assert!(status.success(), "cannot give {} to the {user} OS user", dir.display());
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
