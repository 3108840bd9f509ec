//! go-plugin's own gRPC services: the controller (Shutdown), stdio and the broker.
//!
//! Terraform opens the stdio and broker streams as soon as it connects. This provider
//! writes logs straight to stderr and brokers no connections, so both streams stay open
//! and idle until shutdown, when they end so the server can stop promptly.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_stream::Stream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::{Request, Response, Status, Streaming};

use super::proto;

type IdleStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that yields nothing and ends when `shutdown` is cancelled.
fn idle_until<T: Send + 'static>(shutdown: CancellationToken) -> IdleStream<T> {
    Box::pin(IdleUntil {
        cancelled: Box::pin(shutdown.cancelled_owned()),
        item: PhantomData,
    })
}

struct IdleUntil<T> {
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    item: PhantomData<fn() -> T>,
}

impl<T> Stream for IdleUntil<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.cancelled.as_mut().poll(cx).map(|()| None)
    }
}

/// `plugin.GRPCController`: Shutdown cancels the serving token.
pub struct Controller {
    /// Cancelled on Shutdown; the server stops when it is.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl proto::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _r: Request<proto::Empty>) -> Result<Response<proto::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(proto::Empty {}))
    }
}

/// `plugin.GRPCStdio`: an idle stream (logs go to stderr directly).
pub struct Stdio {
    /// Ends the stream.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl proto::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = IdleStream<proto::StdioData>;

    async fn stream_stdio(
        &self,
        _r: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}

/// `plugin.GRPCBroker`: accepts the stream, reads and ignores what arrives, never
/// brokers a connection.
pub struct Broker {
    /// Ends the stream.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl proto::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = IdleStream<proto::ConnInfo>;

    async fn start_stream(
        &self,
        r: Request<Streaming<proto::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = r.into_inner();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    msg = incoming.message() => match msg {
                        Ok(Some(info)) => tracing::debug!(service_id = info.service_id, "broker message ignored"),
                        _ => break,
                    },
                }
            }
        });
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}
