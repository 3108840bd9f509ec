//! The AWS endpoint acceptance tests run against: the embedded moto emulator (started once
//! per test process, stopped when the process ends — it exits when our end of its stdin
//! pipe closes, also on panic or kill), an external endpoint chosen with
//! `QUEUESCALE_ACC_ENDPOINT` (a URL such as LocalStack Pro's, or `aws` for real AWS with
//! the ambient credentials), or the split mode `QUEUESCALE_ACC_LOCALSTACK=URL`: SQS,
//! CloudWatch and STS at that URL (LocalStack's community edition), ECS and Application
//! Auto Scaling, which it does not serve, on the embedded emulator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value as Json;

/// The services the provider calls, by the suffix of their `AWS_ENDPOINT_URL_<SERVICE>`
/// variable.
pub const SERVICES: [&str; 6] = [
    "APPLICATION_AUTO_SCALING",
    "CLOUDWATCH",
    "ECS",
    "SCHEDULER",
    "SQS",
    "STS",
];

/// The services the split mode sends to LocalStack: the ones its community edition serves.
pub const LOCALSTACK_SERVICES: [&str; 3] = ["CLOUDWATCH", "SQS", "STS"];

/// Where AWS calls go.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded emulator at this URL.
    Embedded(String),
    /// An external endpoint (None: AWS itself).
    External(Option<String>),
    /// [`LOCALSTACK_SERVICES`] at `localstack`, the other services on the embedded
    /// emulator at `emulator`.
    Split {
        /// LocalStack's URL.
        localstack: String,
        /// The embedded emulator's URL.
        emulator: String,
    },
}

impl Backend {
    /// The one endpoint URL every service uses (None for AWS itself and the split mode).
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Backend::Embedded(u) => Some(u),
            Backend::External(u) => u.as_deref(),
            Backend::Split { .. } => None,
        }
    }

    /// The endpoint URL of one of [`SERVICES`] (None: AWS itself).
    pub fn endpoint_of(&self, service: &str) -> Option<&str> {
        match self {
            Backend::Split {
                localstack,
                emulator,
            } => Some(if LOCALSTACK_SERVICES.contains(&service) {
                localstack
            } else {
                emulator
            }),
            other => other.endpoint(),
        }
    }

    /// Whether the emulator runs in this process and answers every call, i.e. tests run
    /// on the machine only, with fixed test credentials.
    pub fn is_local(&self) -> bool {
        !matches!(self, Backend::External(_))
    }

    /// Whether this is the embedded emulator (fault injection available).
    pub fn is_embedded(&self) -> bool {
        matches!(self, Backend::Embedded(_))
    }
}

/// The running emulator: the child and the pipe that keeps it alive.
struct Running {
    _child: Child,
    _stdin: ChildStdin,
}

static RUNNING: OnceLock<Mutex<Running>> = OnceLock::new();

static BACKEND: OnceLock<Backend> = OnceLock::new();

/// The backend named by an endpoint setting: empty or unset is the embedded emulator,
/// `aws` is AWS itself, anything else an endpoint URL.
pub fn backend_from_setting(setting: Option<&str>) -> Backend {
    match setting {
        Some("aws") => Backend::External(None),
        Some(url) if !url.is_empty() => Backend::External(Some(url.to_owned())),
        _ => Backend::Embedded(start_embedded()),
    }
}

/// Chooses the backend before first use (the demo does; tests use the default).
pub fn use_backend(b: Backend) {
    let _ = BACKEND.set(b);
}

/// A non-empty environment variable.
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether the environment asks for anything but the embedded emulator alone
/// (`QUEUESCALE_ACC_ENDPOINT` or `QUEUESCALE_ACC_LOCALSTACK`), without starting it.
pub fn external_requested() -> bool {
    setting("QUEUESCALE_ACC_ENDPOINT").is_some() || setting("QUEUESCALE_ACC_LOCALSTACK").is_some()
}

/// The backend, started on first use (by default from `QUEUESCALE_ACC_LOCALSTACK` or
/// `QUEUESCALE_ACC_ENDPOINT`). A missing or broken emulator panics: acceptance tests must
/// fail loudly, never skip.
pub fn backend() -> &'static Backend {
    BACKEND.get_or_init(|| {
        let endpoint = setting("QUEUESCALE_ACC_ENDPOINT");
        match setting("QUEUESCALE_ACC_LOCALSTACK") {
            Some(localstack) => {
                assert!(
                    endpoint.is_none(),
                    "QUEUESCALE_ACC_LOCALSTACK and QUEUESCALE_ACC_ENDPOINT are both set: choose one"
                );
                Backend::Split {
                    localstack,
                    emulator: start_embedded(),
                }
            }
            None => backend_from_setting(endpoint.as_deref()),
        }
    })
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn start_embedded() -> String {
    let python = std::env::var_os("QUEUESCALE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/venv/bin/python"));
    let script = repo_root().join("tests/emulator/queuescale_emulator.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the AWS emulator with {} ({e}); install it with `make tools`",
                python.display()
            )
        });
    let stdin = child.stdin.take().expect("emulator stdin");
    let stdout = child.stdout.take().expect("emulator stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the AWS emulator did not become ready within 60 s"));
    let url = line
        .trim()
        .strip_prefix("QUEUESCALE_EMULATOR_READY ")
        .unwrap_or_else(|| {
            panic!("the AWS emulator failed to start (said {line:?}); see stderr above")
        })
        .to_owned();
    let _ = RUNNING.set(Mutex::new(Running {
        _child: child,
        _stdin: stdin,
    }));
    url
}

/// A minimal HTTP/1.1 exchange with the emulator's control API.
fn control(method: &str, path: &str, body: Option<&Json>) -> Json {
    let Backend::Embedded(url) = backend() else {
        panic!("fault injection needs the embedded emulator");
    };
    let authority = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(authority).expect("connect to the emulator");
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let payload = body.map(Json::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .expect("write to the emulator");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read from the emulator");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
        "{method} {path}: {head}\n{body}"
    );
    serde_json::from_str(body).unwrap_or(Json::Null)
}

/// An injected fault; removed when dropped.
pub struct Fault {
    id: String,
}

impl Fault {
    /// Makes matching requests fail; `spec` is the emulator's fault spec, e.g.
    /// `{"operation": "RegisterScalableTarget", "error": "ThrottlingException", "count": 2,
    /// "match": "<a name only this test uses>"}` (match or access_key keeps parallel tests
    /// from disturbing each other).
    pub fn inject(spec: Json) -> Fault {
        assert!(
            spec.get("match").is_some() || spec.get("access_key").is_some(),
            "faults must be scoped with match or access_key: tests share the emulator"
        );
        let out = control("POST", "/_queuescale/faults", Some(&spec));
        Fault {
            id: out["id"].as_str().expect("fault id").to_owned(),
        }
    }

    /// How many times the fault has fired.
    pub fn fired(&self) -> u64 {
        self.counter("fired")
    }

    /// How many requests held by a `delay_seconds` fault their client abandoned (they
    /// never took effect).
    pub fn abandoned(&self) -> u64 {
        self.counter("abandoned")
    }

    fn counter(&self, name: &str) -> u64 {
        let all = control("GET", "/_queuescale/faults", None);
        all["faults"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["id"] == self.id.as_str()))
            .and_then(|f| f[name].as_u64())
            .unwrap_or(0)
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        if backend().is_embedded() {
            let _ = std::panic::catch_unwind(|| {
                control("DELETE", &format!("/_queuescale/faults/{}", self.id), None)
            });
        }
    }
}

/// The AWS API calls signed with `access_key` so far, as `service:Operation` → count.
pub fn requests(access_key: &str) -> std::collections::BTreeMap<String, u64> {
    let out = control("GET", &format!("/_queuescale/requests/{access_key}"), None);
    out["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// Forgets the counts of `access_key`.
pub fn reset_requests(access_key: &str) {
    control(
        "DELETE",
        &format!("/_queuescale/requests/{access_key}"),
        None,
    );
}
