//! Figure 2: GetProviderSchema round trips over the real transport (TCP, AutoMTLS,
//! HTTP/2, gRPC) to one spawned plugin, on one connection.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use prost::Message as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use terraform_provider_queuescale::plugin::proto::Empty;
use terraform_provider_queuescale::plugin::proto::grpc_controller_client::GrpcControllerClient;
use terraform_provider_queuescale::plugin::tls::crypto_provider;
use terraform_provider_queuescale::tfplugin::proto::provider_client::ProviderClient;
use terraform_provider_queuescale::tfplugin::proto::{diagnostic, get_provider_schema};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::plugin::{self, Handshake, Identity, Plugin};
use crate::report::{Figure, Section};
use crate::stats::{Summary, ms};
use crate::{Bench, Result};

const GOAL: Duration = Duration::from_millis(1);
const GOAL_TEXT: &str = "≤ 1 ms (median)";
/// Untimed calls first: connection set-up, HTTP/2 windows, allocator and caches.
const WARM_UP: u32 = 50;
/// Terraform's client accepts messages up to 64 MiB (tonic's default is 4 MiB).
const CLIENT_MESSAGE_LIMIT: usize = 64 << 20;

/// What one run measured.
struct Measured {
    samples: Vec<Duration>,
    response: get_provider_schema::Response,
    connect: Duration,
    tls_version: String,
    peak_rss_kib: Option<u64>,
    clean_exit: bool,
}

/// Starts one plugin, connects as Terraform does and times `bench.calls` calls.
pub fn run(bench: &Bench) -> Result<Section> {
    let client = Identity::terraform_like()?;
    let (mut plugin, _) = Plugin::spawn(&mut plugin::command(&bench.binary, &client))?;
    let handshake = Handshake::parse(&plugin.first_line()?)?;
    // One thread: the client's own scheduling stays out of the way of the plugin's two
    // worker threads on a small machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("start a Tokio runtime: {e}"))?;
    let mut measured = runtime.block_on(measure(&handshake, &client, bench.calls, &plugin))?;
    measured.clean_exit = plugin.wait_or_kill(Duration::from_secs(2))?;
    Ok(section(bench, &measured))
}

async fn measure(
    handshake: &Handshake,
    client: &Identity,
    calls: u32,
    plugin: &Plugin,
) -> Result<Measured> {
    let started = Instant::now();
    let tls_version = Arc::new(Mutex::new(None));
    let channel = mtls_channel(handshake, client, &tls_version).await?;
    let mut provider = ProviderClient::new(channel.clone())
        .max_decoding_message_size(CLIENT_MESSAGE_LIMIT)
        .max_encoding_message_size(CLIENT_MESSAGE_LIMIT);
    let mut response = call(&mut provider).await?;
    let connect = started.elapsed();
    for _ in 1..WARM_UP {
        call(&mut provider).await?;
    }
    let mut samples = Vec::new();
    for _ in 0..calls {
        let t = Instant::now();
        response = call(&mut provider).await?;
        samples.push(t.elapsed());
    }
    let peak_rss_kib = peak_rss_kib(plugin.pid());
    // Stop it the way Terraform does; `run` then waits for the exit.
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .map_err(|e| format!("plugin.GRPCController/Shutdown: {e}"))?;
    Ok(Measured {
        samples,
        response,
        connect,
        tls_version: tls_version
            .lock()
            .ok()
            .and_then(|v| v.clone())
            .unwrap_or_else(|| "unknown".to_owned()),
        peak_rss_kib,
        clean_exit: false,
    })
}

async fn call(provider: &mut ProviderClient<Channel>) -> Result<get_provider_schema::Response> {
    let reply = provider
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .map_err(|e| format!("GetProviderSchema: {e}"))?;
    Ok(reply.into_inner())
}

/// `VmHWM` (peak resident set) of a running process, from /proc.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn section(bench: &Bench, m: &Measured) -> Section {
    let s = Summary::new(m.samples.clone());
    let median = s.median();
    let pass = median <= GOAL;
    let size = m.response.encoded_len();
    let r = &m.response;
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == diagnostic::Severity::Error as i32)
        .count();
    let mut details = format!(
        "Goal: {GOAL_TEXT}. **{verdict}** (median {median}, p99 {p99}).\n\n\
         One plugin is started as Terraform starts it and reached over the transport \
         Terraform uses: TCP to the address in the handshake line, TLS ({tls}) with the client \
         presenting the Terraform-like P-521 certificate given in `PLUGIN_CLIENT_CERT` and \
         trusting exactly the certificate from the handshake line, ALPN `h2`, gRPC (tonic). \
         On one connection, {WARM_UP} untimed calls are made, then {n} timed \
         `GetProviderSchema` calls one after another; each sample is one call from request \
         to decoded response. The client runs on a single-threaded Tokio runtime. \
         Connecting (TCP, TLS handshake, HTTP/2) plus the first call took {connect}.\n\n\
         Distribution:\n\n{table}\n",
        verdict = if pass { "Pass" } else { "Fail" },
        median = ms(median),
        p99 = ms(s.percentile(99.0)),
        n = s.len(),
        connect = ms(m.connect),
        tls = m.tls_version,
        table = s.markdown_table(),
    );
    let _ = writeln!(
        details,
        "Response: {size} bytes of protobuf ({} bytes in its gRPC frame, before HTTP/2 and \
         TLS framing), holding the provider schema, {} resource schemas, {} data source \
         schemas and {} functions, with {errors} error diagnostics.",
        size + 5,
        r.resource_schemas.len(),
        r.data_source_schemas.len(),
        r.functions.len(),
    );
    if let Some(kib) = m.peak_rss_kib {
        let _ = writeln!(
            details,
            "\nPeak RSS of that plugin after the {} calls (`VmHWM`): {kib} KiB ({}).",
            u64::from(WARM_UP) + u64::from(bench.calls),
            crate::rss::mib(kib)
        );
    }
    if !m.clean_exit {
        details
            .push_str("\nNote: the plugin did not exit within 2 s of `Shutdown` and was killed.\n");
    }
    Section {
        title: "GetProviderSchema round trip over AutoMTLS".to_owned(),
        figures: vec![
            Figure::with_goal(
                "GetProviderSchema round trip (median; p99)",
                format!("{} ({})", ms(median), ms(s.percentile(99.0))),
                GOAL_TEXT,
                pass,
            ),
            Figure::info("GetProviderSchema response size", format!("{size} bytes")),
        ],
        details,
    }
}

/// Connects over TLS to the handshake address as Terraform's AutoMTLS client does (Go
/// sets `TCP_NODELAY` on its connections, so this does too), noting the TLS version.
async fn mtls_channel(
    handshake: &Handshake,
    client: &Identity,
    tls_version: &Arc<Mutex<Option<String>>>,
) -> Result<Channel> {
    let config = client_config(handshake.cert.clone(), client)?;
    let addr: SocketAddr = handshake.addr;
    let tls_version = Arc::clone(tls_version);
    let connector = tower::service_fn(move |_: Uri| {
        let tls = TlsConnector::from(Arc::clone(&config));
        let tls_version = Arc::clone(&tls_version);
        async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let stream = tls.connect(ServerName::try_from("localhost")?, tcp).await?;
            if let Ok(mut v) = tls_version.lock() {
                *v = stream
                    .get_ref()
                    .1
                    .protocol_version()
                    .map(|p| format!("{p:?}"));
            }
            Ok::<_, crate::Error>(TokioIo::new(stream))
        }
    });
    let channel = Endpoint::from_shared(format!("http://localhost:{}", addr.port()))?
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(connector)
        .await
        .map_err(|e| format!("connect to the plugin at {addr} over mTLS: {e}"))?;
    Ok(channel)
}

/// TLS client configuration: trusts only `server_cert`, presents `client`, speaks h2.
fn client_config(
    server_cert: CertificateDer<'static>,
    client: &Identity,
) -> Result<Arc<rustls::ClientConfig>> {
    let provider = crypto_provider();
    let cert = CertificateDer::from_pem_slice(client.cert_pem.as_bytes())
        .map_err(|e| format!("client certificate PEM: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes())
        .map_err(|e| format!("client key PEM: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustExactly {
            cert: server_cert,
            provider,
        }))
        .with_client_auth_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Trusts exactly one certificate, as Terraform does with the one in the handshake line
/// (self-signed and marked as a CA, so WebPKI path building does not apply); handshake
/// signatures are still verified.
#[derive(Debug)]
struct TrustExactly {
    cert: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for TrustExactly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
