//! Starting the provider as Terraform does and reading its handshake line.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rustls::pki_types::CertificateDer;
use terraform_provider_queuescale::plugin::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use terraform_provider_queuescale::plugin::tls::terraform_like_client_cert;

use crate::Result;

/// Variables the plugin reads; the bench's own environment must not set them for it.
const PLUGIN_VARIABLES: &[&str] = &[
    MAGIC_COOKIE_KEY,
    "PLUGIN_PROTOCOL_VERSIONS",
    "PLUGIN_MIN_PORT",
    "PLUGIN_MAX_PORT",
    "PLUGIN_CLIENT_CERT",
    "TF_DISABLE_PLUGIN_TLS",
    "TF_LOG",
    "TF_LOG_PROVIDER",
    "TF_LOG_PATH",
];

/// The client side of AutoMTLS: a certificate and key made like Terraform's (P-521).
pub struct Identity {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// Private key, PEM.
    pub key_pem: String,
}

impl Identity {
    /// A fresh identity.
    pub fn terraform_like() -> Result<Identity> {
        let (cert_pem, key_pem) = terraform_like_client_cert()
            .map_err(|e| format!("generate a P-521 client certificate: {e}"))?;
        Ok(Identity { cert_pem, key_pem })
    }
}

/// The command Terraform (go-plugin) runs: the cookie, the offered protocol versions, the
/// port range and the client certificate; stdin closed, stdout piped, stderr discarded
/// (logging is off without TF_LOG).
pub fn command(binary: &Path, client: &Identity) -> Command {
    let mut cmd = Command::new(binary);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for key in PLUGIN_VARIABLES {
        cmd.env_remove(key);
    }
    cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &client.cert_pem);
    cmd
}

/// A started plugin; dropping it kills the process and reaps it.
pub struct Plugin {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Plugin {
    /// Starts `cmd` and returns the plugin with the time the spawn began.
    pub fn spawn(cmd: &mut Command) -> Result<(Plugin, Instant)> {
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("start {:?}: {e}", cmd.get_program()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the plugin's stdout is not piped")?;
        Ok((
            Plugin {
                child,
                stdout: BufReader::new(stdout),
            },
            started,
        ))
    }

    /// Blocks until the first complete stdout line and returns it (newline included).
    pub fn first_line(&mut self) -> Result<String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("read the plugin's stdout: {e}"))?;
        if n == 0 || !line.ends_with('\n') {
            let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(
                format!("the plugin ended stdout before a handshake line ({status})").into(),
            );
        }
        Ok(line)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit by itself; kills it otherwise.
    /// Returns whether it exited by itself.
    pub fn wait_or_kill(mut self, limit: Duration) -> Result<bool> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self
                .child
                .try_wait()
                .map_err(|e| format!("query the plugin's status: {e}"))?
                .is_some()
            {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(false)
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        // Nothing more can be done about a failure here; an exited process is fine.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The handshake line's fields that matter for connecting.
pub struct Handshake {
    /// Where the plugin listens.
    pub addr: SocketAddr,
    /// Its certificate (DER).
    pub cert: CertificateDer<'static>,
}

impl Handshake {
    /// Parses `1|6|tcp|ADDR|grpc|CERT`.
    pub fn parse(line: &str) -> Result<Handshake> {
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        let [_, "6", "tcp", addr, "grpc", cert] = fields[..] else {
            return Err(format!("not a protocol-6 tcp/grpc handshake line: {line:?}").into());
        };
        let addr = addr
            .parse()
            .map_err(|e| format!("address in the handshake line {addr:?}: {e}"))?;
        let der = STANDARD_NO_PAD
            .decode(cert)
            .map_err(|e| format!("certificate in the handshake line: {e}"))?;
        Ok(Handshake {
            addr,
            cert: CertificateDer::from(der),
        })
    }
}
