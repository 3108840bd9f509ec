//! Serving a provider the go-plugin way: handshake, listener, AutoMTLS, the gRPC
//! services, and a prompt, graceful exit on Shutdown; or, with `--debug`, a plain
//! reattachable server for `TF_REATTACH_PROVIDERS`.
//!
//! Owns process-level serving. What the provider does is behind [`Provider`].

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::Router;

use super::handshake::{self, HandshakeError};
use super::incoming::{self, SETUP_TIMEOUT};
use super::log;
use super::proto;
use super::services::{Broker, Controller, Stdio};
use super::tls;
use crate::tfplugin::proto::provider_server::ProviderServer as GrpcProviderServer;
use crate::tfplugin::{Provider, ProviderServer};

/// Largest gRPC message accepted or sent (Terraform itself allows 64 MiB for schemas;
/// terraform-plugin-go uses 256 MiB).
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How long in-flight requests may take to finish after Shutdown before the process
/// exits anyway (Terraform kills the plugin 2 s after asking).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(800);

/// The registry address Terraform knows this provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/queuescale/queuescale";

/// Environment the plugin reads at start-up, gathered so tests can supply it.
#[derive(Debug, Clone, Default)]
pub struct PluginEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`
    pub cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`
    pub protocol_versions: Option<String>,
    /// `PLUGIN_MIN_PORT`
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`
    pub max_port: Option<String>,
    /// `PLUGIN_CLIENT_CERT`: Terraform's certificate for AutoMTLS; TLS is served exactly
    /// when it is present and not blank.
    ///
    /// `TF_DISABLE_PLUGIN_TLS` is Terraform's switch, not the plugin's: Terraform turns
    /// AutoMTLS off for any non-empty value (`os.Getenv("TF_DISABLE_PLUGIN_TLS") == ""`
    /// enables it, in Terraform's `meta_providers.go`) and then sends no certificate.
    /// go-plugin's server (`server.go`) never reads the variable; neither does this one, so
    /// an empty value, or any value beside a certificate, cannot make the two sides disagree.
    pub client_cert: Option<String>,
}

impl PluginEnv {
    /// Reads the process environment.
    pub fn from_process() -> PluginEnv {
        let var = |k: &str| std::env::var(k).ok();
        PluginEnv {
            cookie: var(handshake::MAGIC_COOKIE_KEY),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            min_port: var("PLUGIN_MIN_PORT"),
            max_port: var("PLUGIN_MAX_PORT"),
            client_cert: var("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()),
        }
    }
}

/// Runs the plugin as Terraform expects and returns the process exit code.
///
/// Refuses to run (exit 1, a sentence on stderr) without Terraform's cookie or without a
/// common protocol version. The first stdout line is the handshake line.
pub async fn serve<P: Provider>(provider: P, env: PluginEnv) -> ExitCode {
    if let Err(e) = handshake::check_cookie(env.cookie.as_deref())
        .and_then(|()| handshake::negotiate_version(env.protocol_versions.as_deref()).map(|_| ()))
    {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    match serve_checked(provider, &env).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("terraform-provider-queuescale: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What can stop the plugin from serving once the handshake checks passed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Start-up environment problem.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// No port in the allowed range could be bound.
    #[error("no free port between {0} and {1} on 127.0.0.1")]
    NoPort(u16, u16),
    /// TLS set-up failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Socket or stdout failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

async fn serve_checked<P: Provider>(provider: P, env: &PluginEnv) -> Result<(), ServeError> {
    let (min, max) = handshake::port_range(env.min_port.as_deref(), env.max_port.as_deref())?;
    let listener = bind_in_range(min, max).await?;
    let addr = listener.local_addr()?;
    let mtls = match &env.client_cert {
        Some(pem) => Some(tls::auto_mtls(pem)?),
        None => None,
    };
    let shutdown = CancellationToken::new();
    let router = router(provider, &shutdown).await;
    // Before the handshake line: from then on Terraform may forward a Ctrl-C.
    ignore_interrupts(shutdown.clone());
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            handshake::handshake_line(&addr, mtls.as_ref().map(|m| m.cert_base64.as_str()))
        )?;
        out.flush()?;
    }
    tracing::info!(%addr, tls = mtls.is_some(), "plugin serving");
    let stopped = shutdown.clone();
    let signal = async move { stopped.cancelled().await };
    let server = async {
        match mtls {
            Some(m) => {
                let incoming = incoming::tls(listener, m.config, shutdown.clone(), SETUP_TIMEOUT);
                router.serve_with_incoming_shutdown(incoming, signal).await
            }
            None => {
                let incoming = incoming::plaintext(listener, shutdown.clone(), SETUP_TIMEOUT);
                router.serve_with_incoming_shutdown(incoming, signal).await
            }
        }
    };
    tokio::pin!(server);
    tokio::select! {
        res = &mut server => res?,
        () = shutdown.cancelled() => {
            // Let in-flight requests (the Shutdown reply among them) finish, briefly.
            if let Ok(res) = tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                res?;
            }
        }
    }
    tracing::info!("plugin stopped");
    Ok(())
}

/// Builds the gRPC router: the provider, go-plugin's services and health.
async fn router<P: Provider>(provider: P, shutdown: &CancellationToken) -> Router {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(provider);
    // Shutdown ends work in flight as StopProvider does, so that it can answer within
    // SHUTDOWN_GRACE instead of being cut off.
    let on_shutdown = provider.clone();
    let shutting_down = shutdown.clone();
    tokio::spawn(async move {
        shutting_down.cancelled().await;
        on_shutdown.stop();
    });
    let provider = GrpcProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    Server::builder()
        .add_service(health)
        .add_service(provider)
        .add_service(proto::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(proto::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(proto::grpc_broker_server::GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
}

/// Binds 127.0.0.1 on a port in `[min, max]`, starting at a per-process offset so that
/// plugins started together do not all race for the first port.
async fn bind_in_range(min: u16, max: u16) -> Result<TcpListener, ServeError> {
    let span = u32::from(max - min) + 1;
    let start = std::process::id() % span;
    for i in 0..span {
        let port = min + u16::try_from((start + i) % span).unwrap_or(0);
        if let Ok(l) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return Ok(l);
        }
    }
    Err(ServeError::NoPort(min, max))
}

/// Terraform forwards Ctrl-C to its plugins and then asks them to stop over gRPC;
/// a plugin must not die of the signal itself. SIGTERM, by contrast, stops serving.
///
/// The handlers are installed before this returns (not on the spawned task's first
/// poll), so a signal arriving right after the call is already handled.
fn ignore_interrupts(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = interrupt.recv() => {
                    if r.is_none() { return; }
                    tracing::debug!("interrupt received; waiting for Terraform to stop the provider");
                }
                _ = term.recv() => {
                    shutdown.cancel();
                    return;
                }
            }
        }
    });
}

/// Runs a reattachable server without the handshake: prints the `TF_REATTACH_PROVIDERS`
/// value to use and serves until interrupted.
///
/// # Errors
/// When the listener cannot be bound or the server fails.
pub async fn serve_debug<P: Provider>(provider: P) -> Result<(), ServeError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let router = router(provider, &shutdown).await;
    let reattach = reattach_json(&addr, std::process::id());
    println!(
        "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS in the shell \
         where you run terraform:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Stop the provider with Ctrl-C."
    );
    let stopped = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopped.cancel();
    });
    let signal = {
        let s = shutdown.clone();
        async move { s.cancelled().await }
    };
    let incoming = incoming::plaintext(listener, shutdown.clone(), SETUP_TIMEOUT);
    router
        .serve_with_incoming_shutdown(incoming, signal)
        .await?;
    Ok(())
}

/// The `TF_REATTACH_PROVIDERS` value for a provider serving at `addr`.
pub fn reattach_json(addr: &SocketAddr, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": "tcp", "String": addr.to_string()},
        }
    })
    .to_string()
}

/// Sets up logging for a plugin run by Terraform (hclog JSON on stderr).
pub fn init_plugin_logging() {
    let level = log::level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    log::init(level, true);
}
