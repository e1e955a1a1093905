//! A real S3-compatible server for tests: s3s-fs (it checks SigV4 signatures), started on a free
//! loopback port with a fresh data dir and the given buckets. Its binary comes from
//! `AUDITRELAY_S3S_FS_BIN` (`scripts/s3-server.sh install` prints one); without it a test fails,
//! never skips.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const S3S_FS_BIN: &str = "AUDITRELAY_S3S_FS_BIN";

/// A running s3s-fs; killed, and its data removed, on drop.
pub struct S3sFs {
    child: Option<Child>,
    port: u16,
    data_dir: PathBuf,
}

impl S3sFs {
    /// Starts s3s-fs accepting `access_key`/`secret`, with `buckets` created (s3s-fs keeps a
    /// bucket as a directory).
    pub fn start(access_key: &str, secret: &str, buckets: &[&str]) -> S3sFs {
        let bin = std::env::var_os(S3S_FS_BIN).map(PathBuf::from).unwrap_or_else(|| {
            panic!("{S3S_FS_BIN} is not set: point it at an s3s-fs binary (`scripts/s3-server.sh install` prints one)")
        });
        assert!(bin.is_file(), "{S3S_FS_BIN}={} is not a file", bin.display());
        let data_dir = crate::temp_dir("auditrelay-s3s");
        for bucket in buckets {
            std::fs::create_dir_all(data_dir.join(bucket)).expect("create a bucket directory");
        }
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("create the s3s-fs log");
        let port =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", access_key, "--secret-key", secret])
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = S3sFs { child: Some(child), port, data_dir };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("poll s3s-fs")) {
                panic!("s3s-fs exited with {status} before listening; log:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "s3s-fs is not listening on {address} after 20 s; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// Where a bucket's objects are kept, as plain files at their keys.
    pub fn bucket(&self, bucket: &str) -> PathBuf {
        self.data_dir.join(bucket)
    }

    /// The object keys of a bucket, sorted (s3s-fs's own `.` files are left out).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("read the bucket directory") {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    out.push(path.strip_prefix(root).expect("under the bucket").to_string_lossy().into_owned());
                }
            }
        }
        let root = self.bucket(bucket);
        let mut out = Vec::new();
        walk(&root, &root, &mut out);
        out.sort();
        out
    }

    /// Stops the server now (its data stays until drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let _ = std::fs::remove_file(self.data_dir.with_extension("log"));
    }
}
