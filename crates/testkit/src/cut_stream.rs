//! Connections the test receiver can break on purpose: cut one inside its answer's status line,
//! or break every connection of a listener at once when the receiver stops listening.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How much of a cut answer goes out: `HTTP/1.1 ` and nothing more, so no status arrives.
const CUT_AFTER_BYTES: usize = 9;

/// A TCP listener whose connections can be cut; dropping it breaks all of them.
pub struct CutListener {
    listener: TcpListener,
    broken: Arc<AtomicBool>,
}

impl CutListener {
    pub fn new(listener: TcpListener) -> Self {
        CutListener { listener, broken: Arc::new(AtomicBool::new(false)) }
    }
}

impl Drop for CutListener {
    fn drop(&mut self) {
        // Open keep-alive connections outlive the accept loop; they fail on their next use.
        self.broken.store(true, Ordering::SeqCst);
    }
}

impl Listener for CutListener {
    type Io = CutStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((stream, address)) = self.listener.accept().await {
                let cut = CutSwitch(Arc::new(AtomicBool::new(false)));
                return (CutStream { stream, cut, broken: self.broken.clone(), cut_done: false }, address);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A handler's way to cut its own connection (see `Answer::CloseMidResponse`).
#[derive(Clone)]
pub struct CutSwitch(Arc<AtomicBool>);

impl CutSwitch {
    pub fn cut(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, CutListener>> for CutSwitch {
    fn connect_info(stream: IncomingStream<'_, CutListener>) -> Self {
        stream.io().cut.clone()
    }
}

pub struct CutStream {
    stream: TcpStream,
    cut: CutSwitch,
    broken: Arc<AtomicBool>,
    cut_done: bool,
}

fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "connection cut by the test receiver")
}

impl AsyncRead for CutStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.broken.load(Ordering::SeqCst) || self.cut_done {
            return Poll::Ready(Err(broken_pipe()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CutStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.broken.load(Ordering::SeqCst) || self.cut_done {
            return Poll::Ready(Err(broken_pipe()));
        }
        if self.cut.0.load(Ordering::SeqCst) {
            let part = &buf[..buf.len().min(CUT_AFTER_BYTES)];
            let written = std::task::ready!(Pin::new(&mut self.stream).poll_write(cx, part))?;
            self.cut_done = true;
            return Poll::Ready(Ok(written));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
