//! Process-level tests of the plugin transport: the built binary is started the way
//! Terraform starts it (environment, stdout handshake line, AutoMTLS) and spoken to over
//! gRPC with a client that plays Terraform's part.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use terraform_provider_queuescale::plugin::proto::grpc_broker_client::GrpcBrokerClient;
use terraform_provider_queuescale::plugin::proto::grpc_controller_client::GrpcControllerClient;
use terraform_provider_queuescale::plugin::proto::grpc_stdio_client::GrpcStdioClient;
use terraform_provider_queuescale::plugin::proto::{ConnInfo, Empty};
use terraform_provider_queuescale::plugin::tls::terraform_like_client_cert;
use terraform_provider_queuescale::tfplugin::proto as tfplugin6;
use terraform_provider_queuescale::tfplugin::proto::provider_client::ProviderClient;

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-queuescale");

/// The cookie Terraform sets for every plugin it starts.
const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Environment variables the plugin reads; removed from every child's environment so the
/// test runner's own environment cannot leak into a test.
const PLUGIN_VARIABLES: &[&str] = &[
    COOKIE_KEY,
    "PLUGIN_PROTOCOL_VERSIONS",
    "PLUGIN_MIN_PORT",
    "PLUGIN_MAX_PORT",
    "PLUGIN_CLIENT_CERT",
    "TF_DISABLE_PLUGIN_TLS",
    "TF_LOG",
    "TF_LOG_PROVIDER",
];

/// Upper bound for any single step (start-up, one read, one call) before a test fails.
const STEP: Duration = Duration::from_secs(10);

/// Terraform waits this long after Shutdown before it kills a plugin.
const TERRAFORM_KILL_GRACE: Duration = Duration::from_secs(2);

/// Limits Terraform's client uses (64 MiB) or more; tonic's default is 4 MiB.
const CLIENT_MESSAGE_LIMIT: usize = 256 << 20;

// ---------------------------------------------------------------------------------------
// The child process
// ---------------------------------------------------------------------------------------

/// A running plugin process. Dropping it kills the process, so a failing test never
/// leaves one behind.
struct PluginProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_drain: Option<JoinHandle<()>>,
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        // Already exited is fine; nothing else can be done in a destructor.
        let _ = self.child.start_kill();
    }
}

impl PluginProcess {
    /// Starts the binary with `args` and exactly the plugin variables in `env` (others
    /// are inherited from the test runner, minus [`PLUGIN_VARIABLES`]).
    fn spawn(args: &[&str], env: &[(&str, String)]) -> PluginProcess {
        let mut cmd = Command::new(BINARY);
        cmd.args(args);
        PluginProcess::launch(cmd, env)
    }

    /// Like [`PluginProcess::spawn`] without arguments, with the open-file limit
    /// (`RLIMIT_NOFILE`) lowered to `limit` by the shell that then becomes the plugin.
    fn spawn_with_fd_limit(limit: u32, env: &[(&str, String)]) -> PluginProcess {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("ulimit -n {limit} && exec \"$0\""), BINARY]);
        PluginProcess::launch(cmd, env)
    }

    fn launch(mut cmd: Command, env: &[(&str, String)]) -> PluginProcess {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for key in PLUGIN_VARIABLES {
            cmd.env_remove(key);
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("start the plugin binary");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let stderr_drain = tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = stderr_pipe.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("stderr buffer")
                    .extend_from_slice(&chunk[..n]);
            }
        });
        PluginProcess {
            child,
            stdout,
            stderr,
            stderr_drain: Some(stderr_drain),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the plugin is still running")
    }

    /// What the plugin wrote to stderr so far.
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr buffer")).into_owned()
    }

    /// The next stdout line, newline included; fails after [`STEP`] or at end of output.
    async fn stdout_line(&mut self) -> String {
        let mut line = String::new();
        let read = tokio::time::timeout(STEP, self.stdout.read_line(&mut line)).await;
        match read {
            Ok(Ok(n)) if n > 0 => line,
            Ok(Ok(_)) => panic!(
                "the plugin closed stdout without a line; stderr:\n{}",
                self.stderr()
            ),
            Ok(Err(e)) => panic!("reading the plugin's stdout: {e}"),
            Err(_) => panic!(
                "no stdout line from the plugin within {STEP:?}; stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// Reads and parses the handshake line, which must be the first stdout line.
    async fn handshake(&mut self) -> Handshake {
        let line = self.stdout_line().await;
        Handshake::parse(&line)
    }

    /// Waits up to `limit` for the process to exit.
    async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for the plugin"),
            Err(_) => panic!(
                "the plugin did not exit within {limit:?}; stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// Waits for a process that is expected to refuse to run: its exit status, all of
    /// its stdout and all of its stderr.
    async fn refusal(mut self) -> (ExitStatus, String, String) {
        let status = self.wait_exit(STEP).await;
        let mut stdout = String::new();
        tokio::time::timeout(STEP, self.stdout.read_to_string(&mut stdout))
            .await
            .expect("stdout ends when the plugin exits")
            .expect("read the plugin's stdout");
        if let Some(drain) = self.stderr_drain.take() {
            tokio::time::timeout(STEP, drain)
                .await
                .expect("stderr ends when the plugin exits")
                .expect("stderr reader task");
        }
        let stderr = self.stderr();
        (status, stdout, stderr)
    }

    /// Sends a signal by name (`INT`, `TERM`) with the system's `kill` command.
    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed: {status}");
    }

    /// File descriptors the process has open now.
    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("list the plugin's file descriptors")
            .count()
    }

    /// CPU time (user + system) the process has used so far.
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("read the plugin's /proc stat");
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').expect("stat has a command name").1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
    }

    /// Whether the process is still running (it has not exited yet).
    fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("query the plugin's status")
            .is_none()
    }
}

/// The kernel's clock tick rate for /proc CPU times (`getconf CLK_TCK`).
fn clock_ticks_per_second() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("run getconf CLK_TCK");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK is a number")
}

/// The handshake line's fields.
#[derive(Debug)]
struct Handshake {
    core_version: String,
    protocol_version: String,
    network: String,
    addr: SocketAddr,
    protocol: String,
    /// The server certificate (DER), absent when TLS is disabled.
    cert: Option<CertificateDer<'static>>,
}

impl Handshake {
    /// Splits a handshake line (with its newline) into its six fields.
    fn parse(line: &str) -> Handshake {
        let body = line
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("the handshake line must end with a newline: {line:?}"));
        let fields: Vec<&str> = body.split('|').collect();
        assert_eq!(fields.len(), 6, "six fields expected in {body:?}");
        let cert = (!fields[5].is_empty()).then(|| {
            let der = STANDARD_NO_PAD.decode(fields[5]).unwrap_or_else(|e| {
                panic!("CERT must be standard base64 without padding: {e}: {body:?}")
            });
            CertificateDer::from(der)
        });
        Handshake {
            core_version: fields[0].to_owned(),
            protocol_version: fields[1].to_owned(),
            network: fields[2].to_owned(),
            addr: fields[3]
                .parse()
                .unwrap_or_else(|e| panic!("address field {:?}: {e}", fields[3])),
            protocol: fields[4].to_owned(),
            cert,
        }
    }

    fn server_cert(&self) -> CertificateDer<'static> {
        self.cert
            .clone()
            .expect("the handshake line carries a certificate when AutoMTLS is on")
    }
}

// ---------------------------------------------------------------------------------------
// Playing Terraform
// ---------------------------------------------------------------------------------------

/// A client identity: certificate and private key as PEM.
#[derive(Clone)]
struct Identity {
    cert_pem: String,
    key_pem: String,
}

impl Identity {
    /// A fresh ECDSA P-521 identity like the one Terraform makes for each plugin.
    fn terraform_like() -> Identity {
        let (cert_pem, key_pem) = terraform_like_client_cert().expect("generate a certificate");
        Identity { cert_pem, key_pem }
    }
}

/// The environment Terraform gives a plugin it starts with AutoMTLS.
fn terraform_env(client: &Identity) -> Vec<(&'static str, String)> {
    vec![
        (COOKIE_KEY, COOKIE_VALUE.to_owned()),
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6".to_owned()),
        ("PLUGIN_CLIENT_CERT", client.cert_pem.clone()),
    ]
}

/// Starts the plugin as Terraform does (AutoMTLS with `client`'s certificate) and reads
/// its handshake line.
async fn start_with_mtls(client: &Identity) -> (PluginProcess, Handshake) {
    let mut plugin = PluginProcess::spawn(&[], &terraform_env(client));
    let handshake = plugin.handshake().await;
    (plugin, handshake)
}

/// A TLS client that trusts exactly `server_cert` for the name `localhost`, negotiates
/// HTTP/2 and presents `identity` (or no certificate).
fn tls_client(
    server_cert: CertificateDer<'static>,
    identity: Option<&Identity>,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ExactServerCert {
            expected: server_cert,
            provider,
        }));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).expect("cert PEM")],
                PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).expect("key PEM"),
            )
            .expect("client identity"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// Terraform's view of the server: it trusts exactly the certificate from the handshake
/// line (a pool holding only that certificate) and checks the name and the handshake
/// signature. WebPKI path building is not used because that certificate is, like
/// go-plugin's, marked as a CA.
#[derive(Debug)]
struct ExactServerCert {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ExactServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() != self.expected.as_ref() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        }
        let name = server_name.to_str();
        if !dns_names(end_entity).iter().any(|n| *n == name) {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The DNS names in a certificate's subject alternative name extension.
fn dns_names(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
            _ => None,
        })
        .collect()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens a gRPC channel to `addr` over our own TLS connection (TCP + rustls, server name
/// `localhost`), as Terraform's AutoMTLS client does.
async fn tls_channel(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Result<Channel, BoxError> {
    let connector = tower::service_fn(move |_: Uri| {
        let tls = TlsConnector::from(Arc::clone(&config));
        async move {
            let tcp = TcpStream::connect(addr).await?;
            let name = ServerName::try_from("localhost")?;
            let stream = tls.connect(name, tcp).await?;
            Ok::<_, BoxError>(TokioIo::new(stream))
        }
    });
    let channel = Endpoint::from_shared(format!("http://localhost:{}", addr.port()))?
        .connect_timeout(STEP)
        .connect_with_connector(connector)
        .await?;
    Ok(channel)
}

/// Opens a plaintext HTTP/2 gRPC channel to `addr`.
async fn plaintext_channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint address")
        .connect_timeout(STEP)
        .connect()
        .await
        .expect("connect without TLS")
}

/// Connects over AutoMTLS with `identity`, failing the test on any error.
async fn mtls_channel(handshake: &Handshake, identity: &Identity) -> Channel {
    let config = tls_client(handshake.server_cert(), Some(identity));
    within(tls_channel(handshake.addr, config))
        .await
        .expect("connect with Terraform's client certificate")
}

/// The provider client Terraform uses, with its message limits raised.
fn provider_client(channel: Channel) -> ProviderClient<Channel> {
    ProviderClient::new(channel)
        .max_decoding_message_size(CLIENT_MESSAGE_LIMIT)
        .max_encoding_message_size(CLIENT_MESSAGE_LIMIT)
}

/// Fails the test when `fut` takes longer than [`STEP`].
async fn within<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("no answer within {STEP:?}"))
}

async fn get_provider_schema(
    channel: Channel,
) -> Result<tfplugin6::get_provider_schema::Response, tonic::Status> {
    let reply = provider_client(channel)
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await?;
    Ok(reply.into_inner())
}

/// Asserts that `schema` is this provider's: the provider block with its AWS settings and
/// the backlog data source.
fn assert_is_queuescale_schema(schema: &tfplugin6::get_provider_schema::Response) {
    let errors: Vec<_> = schema
        .diagnostics
        .iter()
        .filter(|d| d.severity == tfplugin6::diagnostic::Severity::Error as i32)
        .collect();
    assert!(errors.is_empty(), "schema diagnostics: {errors:?}");
    let provider_attrs: Vec<&str> = schema
        .provider
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .map(|b| b.attributes.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    assert!(
        provider_attrs.contains(&"region") && provider_attrs.contains(&"profile"),
        "provider attributes: {provider_attrs:?}"
    );
    assert!(
        schema
            .data_source_schemas
            .contains_key("queuescale_backlog_target"),
        "data sources: {:?}",
        schema.data_source_schemas.keys().collect::<Vec<_>>()
    );
}

async fn health_of_plugin(channel: Channel) -> Result<i32, tonic::Status> {
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await?;
    Ok(reply.into_inner().status)
}

/// Connects with `config` and makes one GetProviderSchema call; any failure is returned.
async fn connect_and_call(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Result<tfplugin6::get_provider_schema::Response, BoxError> {
    let channel = tls_channel(addr, config).await?;
    Ok(get_provider_schema(channel).await?)
}

/// A port range of three consecutive free ports on 127.0.0.1, found by binding them and
/// letting them go.
fn free_port_range() -> (u16, u16) {
    for _ in 0..100 {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let lo = first.local_addr().expect("local address").port();
        let Some(hi) = lo.checked_add(2) else {
            continue;
        };
        let rest: Result<Vec<_>, _> = (lo + 1..=hi)
            .map(|p| TcpListener::bind(("127.0.0.1", p)))
            .collect();
        if rest.is_ok() {
            return (lo, hi);
        }
    }
    panic!("no three consecutive free ports found");
}

// ---------------------------------------------------------------------------------------
// Start-up refusals
// ---------------------------------------------------------------------------------------

/// Asserts the way a plugin refuses to run: exit code 1, nothing on stdout.
fn assert_refused(status: ExitStatus, stdout: &str) {
    assert_eq!(status.code(), Some(1), "exit status {status}");
    assert!(stdout.is_empty(), "nothing may reach stdout: {stdout:?}");
}

/// Asserts the stderr explanation given to a person who runs the binary by hand.
fn assert_says_it_is_a_terraform_plugin(stderr: &str) {
    assert!(
        stderr.contains("This binary is a plugin") && stderr.contains("Terraform"),
        "stderr must explain that Terraform runs this plugin: {stderr:?}"
    );
    assert!(
        !stderr.trim_start().starts_with('{'),
        "the explanation is for a person, not a log line: {stderr:?}"
    );
}

#[tokio::test]
async fn without_the_magic_cookie_it_explains_it_is_a_terraform_plugin_and_exits_1() {
    let plugin = PluginProcess::spawn(&[], &[("PLUGIN_PROTOCOL_VERSIONS", "5,6".to_owned())]);
    let (status, stdout, stderr) = plugin.refusal().await;
    assert_refused(status, &stdout);
    assert_says_it_is_a_terraform_plugin(&stderr);
}

#[tokio::test]
async fn with_a_wrong_magic_cookie_it_explains_it_is_a_terraform_plugin_and_exits_1() {
    let plugin = PluginProcess::spawn(
        &[],
        &[
            (COOKIE_KEY, "not-the-cookie".to_owned()),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6".to_owned()),
        ],
    );
    let (status, stdout, stderr) = plugin.refusal().await;
    assert_refused(status, &stdout);
    assert_says_it_is_a_terraform_plugin(&stderr);
}

// ---------------------------------------------------------------------------------------
// Version negotiation
// ---------------------------------------------------------------------------------------

async fn negotiated_version(offered: &str) -> String {
    let client = Identity::terraform_like();
    let mut env = terraform_env(&client);
    env.retain(|(k, _)| *k != "PLUGIN_PROTOCOL_VERSIONS");
    env.push(("PLUGIN_PROTOCOL_VERSIONS", offered.to_owned()));
    let mut plugin = PluginProcess::spawn(&[], &env);
    plugin.handshake().await.protocol_version
}

#[tokio::test]
async fn offered_versions_5_and_6_negotiate_protocol_6() {
    assert_eq!(negotiated_version("5,6").await, "6");
}

#[tokio::test]
async fn offered_versions_6_and_5_in_that_order_negotiate_protocol_6() {
    assert_eq!(negotiated_version("6,5").await, "6");
}

#[tokio::test]
async fn offered_version_6_alone_negotiates_protocol_6() {
    assert_eq!(negotiated_version("6").await, "6");
}

#[tokio::test]
async fn offered_versions_without_6_are_refused_with_an_error_naming_them() {
    let client = Identity::terraform_like();
    let mut env = terraform_env(&client);
    env.retain(|(k, _)| *k != "PLUGIN_PROTOCOL_VERSIONS");
    env.push(("PLUGIN_PROTOCOL_VERSIONS", "4,5".to_owned()));
    let (status, stdout, stderr) = PluginProcess::spawn(&[], &env).refusal().await;
    assert_refused(status, &stdout);
    assert!(
        stderr.contains("4,5") && stderr.contains('6'),
        "stderr must name the offered and the supported versions: {stderr:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The handshake line
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_first_stdout_line_is_the_handshake_line_with_a_port_in_the_given_range() {
    let client = Identity::terraform_like();
    let (min, max) = free_port_range();
    let mut env = terraform_env(&client);
    env.push(("PLUGIN_MIN_PORT", min.to_string()));
    env.push(("PLUGIN_MAX_PORT", max.to_string()));
    let mut plugin = PluginProcess::spawn(&[], &env);

    let line = plugin.stdout_line().await;
    let handshake = Handshake::parse(&line);
    let port = handshake.addr.port();
    assert_eq!(
        line,
        format!(
            "1|6|tcp|127.0.0.1:{port}|grpc|{}\n",
            STANDARD_NO_PAD.encode(handshake.server_cert())
        ),
        "the whole first line, nothing before it"
    );
    assert_eq!(handshake.core_version, "1");
    assert_eq!(handshake.protocol_version, "6");
    assert_eq!(handshake.network, "tcp");
    assert_eq!(handshake.protocol, "grpc");
    assert!(
        (min..=max).contains(&port),
        "port {port} outside PLUGIN_MIN_PORT..PLUGIN_MAX_PORT = {min}..{max}"
    );
    // Terraform 1.0 reads the certificate only when the field is longer than 50 chars.
    assert!(
        line.split('|')
            .nth(5)
            .is_some_and(|c| c.trim_end().len() > 50)
    );
    assert!(plugin.is_running(), "the plugin serves after the handshake");
}

#[tokio::test]
async fn the_handshake_certificate_is_a_current_x509_server_certificate_for_localhost() {
    let client = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&client).await;
    let der = handshake.server_cert();

    let (rest, cert) =
        x509_parser::parse_x509_certificate(der.as_ref()).expect("CERT is a DER X.509 certificate");
    assert!(rest.is_empty(), "no bytes after the certificate");
    assert!(
        dns_names(&der).iter().any(|n| n == "localhost"),
        "subject alternative names: {:?}",
        dns_names(&der)
    );
    assert!(
        cert.validity().is_valid(),
        "valid now: {:?}",
        cert.validity()
    );
    let eku = cert
        .extended_key_usage()
        .expect("well-formed extended key usage");
    assert!(
        eku.as_ref()
            .is_none_or(|e| e.value.server_auth || e.value.any),
        "usable for server authentication: {eku:?}"
    );
}

// ---------------------------------------------------------------------------------------
// AutoMTLS
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_client_presenting_no_certificate_is_refused() {
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let config = tls_client(handshake.server_cert(), None);
    let outcome = within(connect_and_call(handshake.addr, config)).await;
    assert!(
        outcome.is_err(),
        "a client without a certificate was served: {outcome:?}"
    );
}

#[tokio::test]
async fn a_client_presenting_a_different_p521_certificate_is_refused() {
    let terraform = Identity::terraform_like();
    let stranger = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let config = tls_client(handshake.server_cert(), Some(&stranger));
    let outcome = within(connect_and_call(handshake.addr, config)).await;
    assert!(
        outcome.is_err(),
        "a client with another certificate was served: {outcome:?}"
    );
}

#[tokio::test]
async fn a_client_presenting_terraforms_certificate_gets_the_provider_schema() {
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema over AutoMTLS");
    assert_is_queuescale_schema(&schema);
}

#[tokio::test]
async fn a_client_presenting_terraforms_certificate_sees_the_plugin_service_serving() {
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;
    let status = within(health_of_plugin(channel))
        .await
        .expect("grpc.health.v1.Health/Check");
    assert_eq!(status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn the_handshake_certificate_is_not_accepted_for_a_name_other_than_localhost() {
    // Also shows that the client's verifier checks the name, so the calls that succeed
    // prove the certificate is valid for `localhost`.
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let config = tls_client(handshake.server_cert(), Some(&terraform));
    let tcp = within(TcpStream::connect(handshake.addr))
        .await
        .expect("TCP connect");
    let name = ServerName::try_from("example.com").expect("server name");
    let outcome = within(TlsConnector::from(config).connect(name, tcp)).await;
    assert!(outcome.is_err(), "TLS accepted for example.com");
}

// ---------------------------------------------------------------------------------------
// TF_DISABLE_PLUGIN_TLS: Terraform's switch, read by Terraform (any non-empty value turns
// AutoMTLS off, and then no PLUGIN_CLIENT_CERT is sent). Like go-plugin's server, the plugin
// serves TLS exactly when it is given a certificate, whatever the variable says.
// ---------------------------------------------------------------------------------------

/// Starts the plugin with Terraform's AutoMTLS environment plus `TF_DISABLE_PLUGIN_TLS`
/// set to `value` (or left unset), and checks that it serves the schema over AutoMTLS.
async fn assert_mtls_served_with_tls_variable(value: Option<&str>) {
    let terraform = Identity::terraform_like();
    let mut env = terraform_env(&terraform);
    if let Some(v) = value {
        env.push(("TF_DISABLE_PLUGIN_TLS", v.to_owned()));
    }
    let mut plugin = PluginProcess::spawn(&[], &env);
    let handshake = plugin.handshake().await;
    assert!(
        handshake.cert.is_some(),
        "TF_DISABLE_PLUGIN_TLS={value:?} beside a client certificate: the handshake line must \
         carry the server certificate"
    );
    let channel = mtls_channel(&handshake, &terraform).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema over AutoMTLS");
    assert_is_queuescale_schema(&schema);
}

/// Starts the plugin without a client certificate, `TF_DISABLE_PLUGIN_TLS` set to `value`
/// (or unset), and checks that it serves plaintext gRPC with an empty CERT field.
async fn assert_plaintext_served_with_tls_variable(value: Option<&str>) {
    let mut env = vec![
        (COOKIE_KEY, COOKIE_VALUE.to_owned()),
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6".to_owned()),
    ];
    if let Some(v) = value {
        env.push(("TF_DISABLE_PLUGIN_TLS", v.to_owned()));
    }
    let mut plugin = PluginProcess::spawn(&[], &env);
    let line = plugin.stdout_line().await;
    assert!(line.ends_with("|grpc|\n"), "empty CERT field: {line:?}");
    let handshake = Handshake::parse(&line);
    assert!(handshake.cert.is_none());

    let channel = within(plaintext_channel(handshake.addr)).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema over plaintext HTTP/2");
    assert_is_queuescale_schema(&schema);
}

#[tokio::test]
async fn with_tls_variable_unset_and_a_client_certificate_mtls_is_served() {
    assert_mtls_served_with_tls_variable(None).await;
}

#[tokio::test]
async fn with_tls_variable_empty_and_a_client_certificate_mtls_is_served() {
    // `TF_DISABLE_PLUGIN_TLS= terraform plan`: Terraform keeps AutoMTLS on.
    assert_mtls_served_with_tls_variable(Some("")).await;
}

#[tokio::test]
async fn with_tls_variable_1_and_a_client_certificate_mtls_is_served() {
    // Only a host that ignores the variable sends both; it expects TLS, as go-plugin serves.
    assert_mtls_served_with_tls_variable(Some("1")).await;
}

#[tokio::test]
async fn with_tls_variable_true_and_a_client_certificate_mtls_is_served() {
    assert_mtls_served_with_tls_variable(Some("true")).await;
}

#[tokio::test]
async fn with_tls_variable_1_and_no_client_certificate_plaintext_grpc_is_served() {
    // What Terraform does for `TF_DISABLE_PLUGIN_TLS=1`.
    assert_plaintext_served_with_tls_variable(Some("1")).await;
}

#[tokio::test]
async fn with_tls_variable_true_and_no_client_certificate_plaintext_grpc_is_served() {
    assert_plaintext_served_with_tls_variable(Some("true")).await;
}

#[tokio::test]
async fn with_tls_variable_empty_and_no_client_certificate_plaintext_grpc_is_served() {
    assert_plaintext_served_with_tls_variable(Some("")).await;
}

#[tokio::test]
async fn with_tls_variable_unset_and_no_client_certificate_plaintext_grpc_is_served() {
    assert_plaintext_served_with_tls_variable(None).await;
}

// ---------------------------------------------------------------------------------------
// Running out of file descriptors
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn out_of_file_descriptors_the_plugin_backs_off_instead_of_spinning_and_recovers() {
    const LIMIT: u32 = 64;
    /// CPU the plugin may use while it cannot accept: a spinning accept loop uses about
    /// all of one core.
    const WATCH: Duration = Duration::from_secs(2);
    const CPU_ALLOWED: Duration = Duration::from_millis(300);

    let terraform = Identity::terraform_like();
    let mut plugin = PluginProcess::spawn_with_fd_limit(LIMIT, &terraform_env(&terraform));
    let handshake = plugin.handshake().await;

    // Connections that never start TLS: each holds one of the plugin's descriptors until
    // the set-up bound; the rest wait in the listen backlog, where accept() fails EMFILE.
    let mut hogs = Vec::new();
    for _ in 0..LIMIT + 16 {
        hogs.push(
            within(TcpStream::connect(handshake.addr))
                .await
                .expect("TCP connect (the kernel completes it from the backlog)"),
        );
    }
    let deadline = Instant::now() + STEP;
    while plugin.open_fds() < LIMIT as usize - 1 {
        assert!(
            Instant::now() < deadline,
            "the plugin never ran out of descriptors: {} of {LIMIT} open",
            plugin.open_fds()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let before = plugin.cpu_time();
    tokio::time::sleep(WATCH).await;
    let used = plugin.cpu_time() - before;
    assert!(plugin.is_running(), "stderr:\n{}", plugin.stderr());
    assert!(
        used < CPU_ALLOWED,
        "the plugin used {used:?} of CPU in {WATCH:?} while out of descriptors"
    );

    drop(hogs);
    let channel = mtls_channel(&handshake, &terraform).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema once descriptors are free again");
    assert_is_queuescale_schema(&schema);
}

// ---------------------------------------------------------------------------------------
// Stopping
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn shutdown_exits_with_code_0_within_2_seconds_while_stdio_and_broker_streams_are_open() {
    let terraform = Identity::terraform_like();
    let (mut plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;

    // What Terraform opens as soon as it connects, and keeps open.
    let _stdio = within(GrpcStdioClient::new(channel.clone()).stream_stdio(()))
        .await
        .expect("open plugin.GRPCStdio/StreamStdio")
        .into_inner();
    let _broker = within(
        GrpcBrokerClient::new(channel.clone()).start_stream(tokio_stream::pending::<ConnInfo>()),
    )
    .await
    .expect("open plugin.GRPCBroker/StartStream")
    .into_inner();
    within(get_provider_schema(channel.clone()))
        .await
        .expect("the plugin serves while the streams are open");

    let asked = Instant::now();
    within(GrpcControllerClient::new(channel.clone()).shutdown(Empty {}))
        .await
        .expect("plugin.GRPCController/Shutdown");
    let status = plugin.wait_exit(STEP).await;
    let took = asked.elapsed();

    assert!(
        took < TERRAFORM_KILL_GRACE,
        "exited {took:?} after Shutdown; Terraform kills after {TERRAFORM_KILL_GRACE:?}"
    );
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

#[tokio::test]
async fn sigterm_stops_the_plugin_promptly() {
    let terraform = Identity::terraform_like();
    let (mut plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;
    within(health_of_plugin(channel))
        .await
        .expect("serving before the signal");

    let sent = Instant::now();
    plugin.signal("TERM");
    let status = plugin.wait_exit(STEP).await;
    let took = sent.elapsed();

    assert!(took < TERRAFORM_KILL_GRACE, "exited {took:?} after SIGTERM");
    assert_eq!(status.code(), Some(0), "a graceful stop: {status}");
}

#[tokio::test]
async fn sigint_does_not_stop_the_plugin_which_still_answers_afterwards() {
    let terraform = Identity::terraform_like();
    let (mut plugin, handshake) = start_with_mtls(&terraform).await;

    // Straight after the handshake line: Terraform may forward a Ctrl-C at any moment.
    plugin.signal("INT");
    // Answering needs the process to run, so by the time an answer arrives the signal
    // has been delivered.
    let channel = mtls_channel(&handshake, &terraform).await;
    let status = within(health_of_plugin(channel.clone()))
        .await
        .expect("the plugin answers after SIGINT");
    assert_eq!(status, ServingStatus::Serving as i32);

    plugin.signal("INT");
    let schema = within(get_provider_schema(channel))
        .await
        .expect("the plugin still answers after a second SIGINT");
    assert_is_queuescale_schema(&schema);
    assert!(plugin.is_running(), "SIGINT must not stop the plugin");
}

// ---------------------------------------------------------------------------------------
// Debug mode
// ---------------------------------------------------------------------------------------

/// Reads stdout lines until the `TF_REATTACH_PROVIDERS='…'` one and returns its JSON.
async fn reattach_value(plugin: &mut PluginProcess) -> serde_json::Value {
    for _ in 0..20 {
        let line = plugin.stdout_line().await;
        let Some((_, rest)) = line.split_once("TF_REATTACH_PROVIDERS='") else {
            continue;
        };
        let json = rest
            .rsplit_once('\'')
            .map(|(json, _)| json)
            .unwrap_or_else(|| panic!("unterminated quote: {line:?}"));
        return serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("reattach value is not JSON: {e}: {json}"));
    }
    panic!("no TF_REATTACH_PROVIDERS line in the first 20 stdout lines");
}

#[tokio::test]
async fn debug_mode_prints_a_reattach_line_for_a_plaintext_server() {
    let mut plugin = PluginProcess::spawn(&["--debug"], &[]);
    let reattach = reattach_value(&mut plugin).await;

    let providers = reattach.as_object().expect("a JSON object");
    let keys: Vec<&String> = providers.keys().collect();
    assert_eq!(keys, ["registry.terraform.io/queuescale/queuescale"]);
    let entry = &reattach["registry.terraform.io/queuescale/queuescale"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"].as_u64(), Some(6));
    assert_eq!(entry["Pid"].as_u64(), Some(u64::from(plugin.pid())));
    assert_eq!(entry["Addr"]["Network"], "tcp");
    let addr: SocketAddr = entry["Addr"]["String"]
        .as_str()
        .expect("Addr.String")
        .parse()
        .expect("Addr.String is host:port");

    let channel = within(plaintext_channel(addr)).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema on the reattach address");
    assert_is_queuescale_schema(&schema);
}

// ---------------------------------------------------------------------------------------
// Message size limits
// ---------------------------------------------------------------------------------------

/// A msgpack provider configuration setting only `profile`, to a string of `len` bytes.
fn config_with_profile_of(len: usize) -> tfplugin6::DynamicValue {
    let mut msgpack = Vec::with_capacity(len + 32);
    rmp::encode::write_map_len(&mut msgpack, 1).expect("msgpack map");
    rmp::encode::write_str(&mut msgpack, "profile").expect("msgpack key");
    rmp::encode::write_str(&mut msgpack, &"p".repeat(len)).expect("msgpack value");
    tfplugin6::DynamicValue {
        msgpack,
        json: Vec::new(),
    }
}

#[tokio::test]
async fn the_schema_response_decodes_under_raised_client_limits() {
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;
    let schema = within(get_provider_schema(channel))
        .await
        .expect("GetProviderSchema with raised limits");
    assert_is_queuescale_schema(&schema);
}

#[tokio::test]
async fn a_request_larger_than_4_mib_is_accepted() {
    const FIVE_MIB: usize = 5 << 20;
    let terraform = Identity::terraform_like();
    let (_plugin, handshake) = start_with_mtls(&terraform).await;
    let channel = mtls_channel(&handshake, &terraform).await;

    let config = config_with_profile_of(FIVE_MIB);
    assert!(config.msgpack.len() > FIVE_MIB);
    let reply = within(provider_client(channel).validate_provider_config(
        tfplugin6::validate_provider_config::Request {
            config: Some(config),
        },
    ))
    .await;
    let reply = match reply {
        Ok(r) => r.into_inner(),
        Err(status) => panic!(
            "a 5 MiB request was refused: {:?} {}",
            status.code(),
            status.message()
        ),
    };
    let errors: BTreeMap<&str, &str> = reply
        .diagnostics
        .iter()
        .filter(|d| d.severity == tfplugin6::diagnostic::Severity::Error as i32)
        .map(|d| (d.summary.as_str(), d.detail.as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "a long profile is a valid configuration: {errors:?}"
    );
}
