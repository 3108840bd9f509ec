//! Accepting connections for the gRPC server: a bounded set-up (TLS handshake) per
//! connection, and an accept loop that backs off instead of spinning when the process runs
//! out of file descriptors.
//!
//! Owns the listener after the handshake line is printed; knows nothing of gRPC or of
//! what the connections carry.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

/// How long an accepted connection may take to complete its set-up (the TLS handshake, or
/// for plaintext its first bytes) before it is closed.
///
/// grpc-go's server uses the same bound by default (`connectionTimeout: 120 *
/// time.Second` in its `defaultServerOptions`). Terraform completes the handshake in
/// milliseconds; the bound only frees what a peer opens and never finishes.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

/// First wait after an accept failure that is not the peer's fault (no file descriptors,
/// no buffer memory); it doubles up to [`ACCEPT_BACKOFF_MAX`]. These are the values of
/// grpc-go's `Serve` loop and Go's `net/http` server (5 ms doubling to 1 s).
pub const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(5);

/// Longest wait between accept attempts while failures last.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Connections whose set-up has finished, waiting for the server to take them.
const READY_QUEUE: usize = 16;

/// The stream of set-up connections the gRPC server reads from.
pub type Incoming<S> = ReceiverStream<Result<S, io::Error>>;

/// Accepts TCP connections and completes their TLS handshakes (each within `timeout`)
/// off the accept loop. Connections that fail or time out are closed and logged.
pub fn tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    shutdown: CancellationToken,
    timeout: Duration,
) -> Incoming<TlsStream<TcpStream>> {
    let acceptor = TlsAcceptor::from(config);
    accept_loop(listener, shutdown, timeout, move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp).await }
    })
}

/// Accepts plaintext TCP connections (Terraform disabled AutoMTLS) and hands each to the
/// server once the peer has sent its first bytes, within `timeout`.
pub fn plaintext(
    listener: TcpListener,
    shutdown: CancellationToken,
    timeout: Duration,
) -> Incoming<TcpStream> {
    accept_loop(listener, shutdown, timeout, |tcp: TcpStream| async move {
        // `peek` waits for data (or end of stream) and leaves it for the server to read;
        // `readable` alone may report readiness before any byte has arrived.
        tcp.peek(&mut [0u8; 1]).await?;
        Ok(tcp)
    })
}

/// Whether an accept error concerns only the connection being accepted (the peer gave up
/// before it was accepted), so the next accept may follow at once. hyper and axum make
/// the same distinction.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// The wait after `previous` (none yet: the first wait).
fn next_backoff(previous: Option<Duration>) -> Duration {
    previous.map_or(ACCEPT_BACKOFF_FIRST, |d| (d * 2).min(ACCEPT_BACKOFF_MAX))
}

/// The accept loop shared by both transports: accept, set `TCP_NODELAY`, run `setup` on
/// its own task under `timeout`, pass the result on.
///
/// # Guarantees
/// - An accept failure other than a connection error (EMFILE, ENFILE, ENOBUFS, ENOMEM)
///   waits [`ACCEPT_BACKOFF_FIRST`], doubling to [`ACCEPT_BACKOFF_MAX`], before the next
///   attempt; a success resets the wait. The loop never spins.
/// - A connection holds its file descriptor at most `timeout` before it is set up.
/// - The loop ends when `shutdown` is cancelled or the server drops the stream.
fn accept_loop<S, F, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    timeout: Duration,
    setup: F,
) -> Incoming<S>
where
    S: Send + 'static,
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<S>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(READY_QUEUE);
    tokio::spawn(async move {
        let mut backoff = None;
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                () = tx.closed() => break,
                a = listener.accept() => a,
            };
            let (tcp, peer) = match accepted {
                Ok(conn) => {
                    backoff = None;
                    conn
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    let wait = next_backoff(backoff);
                    backoff = Some(wait);
                    tracing::warn!("accepting a connection failed: {e}; retrying in {wait:?}");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(wait) => continue,
                    }
                }
            };
            // gRPC exchanges small messages: without this, Nagle's algorithm and delayed
            // ACKs add ~40 ms to a round trip.
            let _ = tcp.set_nodelay(true);
            let tx = tx.clone();
            let setting_up = setup(tcp);
            tokio::spawn(async move {
                match tokio::time::timeout(timeout, setting_up).await {
                    Ok(Ok(conn)) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Ok(Err(e)) => refused(peer, &e.to_string()),
                    Err(_) => refused(peer, &format!("not set up within {timeout:?}")),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

fn refused(peer: SocketAddr, why: &str) {
    tracing::warn!(%peer, "closed a connection: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::tls::{auto_mtls, terraform_like_client_cert};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_stream::StreamExt;

    const SHORT: Duration = Duration::from_millis(300);
    /// Far longer than [`SHORT`]: a connection still open after this was not bounded.
    const PATIENCE: Duration = Duration::from_secs(10);

    async fn listener() -> (TcpListener, SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("address");
        (l, addr)
    }

    /// Reads until the server closes the connection; fails after [`PATIENCE`].
    async fn assert_closed_by_server(mut tcp: TcpStream) {
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(PATIENCE, async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "the server kept the connection open longer than {PATIENCE:?}"
        );
    }

    fn mtls_config() -> Arc<rustls::ServerConfig> {
        let (cert_pem, _key) = terraform_like_client_cert().expect("client certificate");
        auto_mtls(&cert_pem).expect("AutoMTLS configuration").config
    }

    #[tokio::test]
    async fn an_idle_connection_that_never_starts_tls_is_closed_after_the_bound() {
        let (l, addr) = listener().await;
        let shutdown = CancellationToken::new();
        let mut incoming = tls(l, mtls_config(), shutdown.clone(), SHORT);
        let idle = TcpStream::connect(addr).await.expect("connect");
        assert_closed_by_server(idle).await;
        let served = tokio::time::timeout(SHORT, incoming.next()).await;
        assert!(served.is_err(), "nothing reaches the server");
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_connection_stalled_inside_the_tls_handshake_is_closed_after_the_bound() {
        let (l, addr) = listener().await;
        let shutdown = CancellationToken::new();
        let _incoming = tls(l, mtls_config(), shutdown.clone(), SHORT);
        let mut stalled = TcpStream::connect(addr).await.expect("connect");
        // The first bytes of a TLS record header (handshake, TLS 1.0 record version), then
        // nothing more.
        stalled.write_all(&[0x16, 0x03, 0x01]).await.expect("write");
        assert_closed_by_server(stalled).await;
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_plaintext_connection_that_never_speaks_is_closed_after_the_bound() {
        let (l, addr) = listener().await;
        let shutdown = CancellationToken::new();
        let _incoming = plaintext(l, shutdown.clone(), SHORT);
        let idle = TcpStream::connect(addr).await.expect("connect");
        assert_closed_by_server(idle).await;
        shutdown.cancel();
    }

    #[tokio::test]
    async fn a_plaintext_connection_that_speaks_reaches_the_server() {
        let (l, addr) = listener().await;
        let shutdown = CancellationToken::new();
        let mut incoming = plaintext(l, shutdown.clone(), SHORT);
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("write");
        let served = tokio::time::timeout(PATIENCE, incoming.next())
            .await
            .expect("a connection within the patience");
        assert!(matches!(served, Some(Ok(_))), "{served:?}");
        shutdown.cancel();
    }

    #[test]
    fn the_backoff_doubles_from_5_ms_to_at_most_1_s() {
        let mut waits = Vec::new();
        let mut last = None;
        for _ in 0..10 {
            let next = next_backoff(last);
            waits.push(next.as_millis());
            last = Some(next);
        }
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    }

    #[test]
    fn only_peer_side_failures_are_retried_at_once() {
        for kind in [
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionReset,
        ] {
            assert!(is_connection_error(&io::Error::from(kind)), "{kind:?}");
        }
        // EMFILE and ENFILE: the process or the system is out of file descriptors.
        for errno in [24, 23] {
            assert!(
                !is_connection_error(&io::Error::from_raw_os_error(errno)),
                "errno {errno}"
            );
        }
    }
}
