//! A delaying TCP relay in front of the emulator: every byte a client sends reaches the
//! emulator a fixed time after it was sent (replies come straight back), so each request
//! costs one such delay, as a network round trip would. Delays overlap: a request does not
//! wait for the one before it, on the same connection or another.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::Result;

/// Starts the relay to `upstream` on a free port of 127.0.0.1, on a thread of its own that
/// lives as long as the process, and returns its address.
pub fn start(upstream: SocketAddr, delay: Duration) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("bind the latency relay: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("set the latency relay non-blocking: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("read the latency relay's address: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("start the latency relay's runtime: {e}"))?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                eprintln!("bench: the latency relay cannot listen");
                return;
            };
            loop {
                if let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(relay(client, upstream, delay));
                }
            }
        });
    });
    Ok(addr)
}

/// Relays one connection: client to server delayed by `delay`, server to client at once.
async fn relay(client: TcpStream, upstream: SocketAddr, delay: Duration) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let forward = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to_server.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let back = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(read, forward, back);
}
