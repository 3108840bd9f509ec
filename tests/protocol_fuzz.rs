//! A bounded, deterministic fuzz test of the provider's gRPC surface: the real
//! `queuescale` provider served over an in-process pipe gets random and mutated msgpack
//! and JSON DynamicValues for ValidateResourceConfig, PlanResourceChange and
//! ApplyResourceChange, hostile ids for ImportResourceState, and calls out of order.
//!
//! Every call must answer (no panic, no gRPC error status) within [`CALL_LIMIT`], and every
//! input that is rejected — undecodable, or an operation that cannot succeed — must come
//! back with an error diagnostic; an answer without one must carry a valid value. AWS is
//! an endpoint that refuses connections, so nothing the provider does can succeed there.
//!
//! The seed is fixed (proptest's deterministic generator) and the case counts bounded, so
//! `cargo test` runs the same inputs every time; a failure is shrunk to a small input.

use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use tokio::io::DuplexStream;
use tonic::transport::{Channel, Endpoint, Server, Uri};

use terraform_provider_queuescale::provider::Queuescale;
use terraform_provider_queuescale::tfplugin::proto as pb;
use terraform_provider_queuescale::tfplugin::server::{decode_dynamic, encode_dynamic};
use terraform_provider_queuescale::tfplugin::{Number, Provider, ProviderServer, Type, Value};

use pb::diagnostic::Severity;
use pb::provider_client::ProviderClient;

/// Longest any one call may take before the test fails as hung.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// An AWS endpoint nothing listens on (connections are refused at once).
const NO_AWS: &str = "http://127.0.0.1:1";

// ---------------------------------------------------------------------------------------
// The server over an in-process pipe
// ---------------------------------------------------------------------------------------

/// Hands the client half of the pipe to the channel, once.
struct Pipe(Mutex<Option<DuplexStream>>);

impl tonic::codegen::Service<Uri> for Pipe {
    type Response = TokioIo<DuplexStream>;
    type Error = std::io::Error;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let io = self.0.lock().expect("pipe lock").take();
        ready(
            io.map(TokioIo::new)
                .ok_or_else(|| std::io::Error::other("the pipe is already in use")),
        )
    }
}

/// A fresh, unconfigured provider and a client connected to it.
async fn serve() -> ProviderClient<Channel> {
    let server = ProviderServer::new(Queuescale);
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        Server::builder()
            .add_service(
                pb::provider_server::ProviderServer::new(server)
                    .max_decoding_message_size(64 << 20),
            )
            .serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server_io)))
            .await
    });
    let channel = Endpoint::from_static("http://in-process.test")
        .connect_with_connector(Pipe(Mutex::new(Some(client_io))))
        .await
        .expect("the client connects over the pipe");
    ProviderClient::new(channel).max_encoding_message_size(64 << 20)
}

/// Runs one call with the time limit; a gRPC error status or a hang fails the case.
async fn within<T>(
    rpc: &str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, TestCaseError> {
    match tokio::time::timeout(CALL_LIMIT, call).await {
        Err(_) => Err(TestCaseError::fail(format!(
            "{rpc} did not answer within {CALL_LIMIT:?}"
        ))),
        Ok(Err(status)) => Err(TestCaseError::fail(format!(
            "{rpc} answered with a gRPC error (a panic or protocol fault): {status}"
        ))),
        Ok(Ok(r)) => Ok(r.into_inner()),
    }
}

/// The provider type and every resource type, from the provider itself.
struct Types {
    provider: Type,
    resources: BTreeMap<&'static str, Type>,
}

fn types() -> Types {
    let p = Queuescale;
    Types {
        provider: p.schema().value_type(),
        resources: p
            .resources()
            .iter()
            .map(|r| (r.type_name(), r.schema().value_type()))
            .collect(),
    }
}

/// An object of `ty` with every attribute null.
fn nulls(ty: &Type) -> Value {
    match ty {
        Type::Object(attrs) => {
            Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
        }
        _ => Value::Null,
    }
}

/// A provider configuration whose every AWS call fails at once: all endpoints refuse
/// connections, no retries, no credentials check.
fn unreachable_config(provider: &Type) -> Value {
    let mut cfg = nulls(provider);
    cfg.set("region", Value::from("us-east-1"));
    cfg.set("access_key", Value::from("AKIDFUZZ"));
    cfg.set("secret_key", Value::from("fuzz"));
    cfg.set("skip_credentials_validation", Value::Bool(true));
    cfg.set("max_retries", Value::int(0));
    if let Type::Object(attrs) = provider
        && let Some(endpoints_ty) = attrs.get("endpoints")
    {
        let mut endpoints = nulls(endpoints_ty);
        if let Value::Object(m) = &mut endpoints {
            for v in m.values_mut() {
                *v = Value::from(NO_AWS);
            }
        }
        cfg.set("endpoints", endpoints);
    }
    cfg
}

async fn configure(client: &mut ProviderClient<Channel>, t: &Types) -> Result<(), TestCaseError> {
    let config = encode_dynamic(&unreachable_config(&t.provider), &t.provider)
        .map_err(|e| TestCaseError::fail(format!("encoding the provider config: {e}")))?;
    let r = within(
        "ConfigureProvider",
        client.configure_provider(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(config),
            client_capabilities: None,
        }),
    )
    .await?;
    prop_assert!(
        !has_error(&r.diagnostics),
        "configuring: {:?}",
        r.diagnostics
    );
    Ok(())
}

fn has_error(diags: &[pb::Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity() == Severity::Error)
}

/// Every diagnostic says something.
fn check_diagnostics(rpc: &str, diags: &[pb::Diagnostic]) -> Result<(), TestCaseError> {
    for d in diags {
        prop_assert!(
            !d.summary.trim().is_empty(),
            "{rpc}: a diagnostic without a summary: {d:?}"
        );
        prop_assert!(
            d.severity() != Severity::Invalid,
            "{rpc}: a diagnostic without a severity: {d:?}"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// Strings chosen to break things: empty, separators only, traversal, control and
/// non-ASCII characters, near-limit lengths, ARNs and interpolation syntax.
fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9-]{1,20}",
        2 => any::<String>(),
        1 => Just(String::new()),
        1 => Just(" ".to_owned()),
        1 => "[/ ]{1,8}",
        1 => Just("../../../etc/passwd".to_owned()),
        1 => Just("service/c/s".to_owned()),
        1 => Just("c/s/n/attached".to_owned()),
        1 => Just("c/s/n/attached/extra/parts".to_owned()),
        1 => Just("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x".to_owned()),
        1 => Just("${var.x}".to_owned()),
        1 => Just("a\u{0}b".to_owned()),
        1 => Just("\n\t\r".to_owned()),
        1 => Just("名前/サービス/ü".to_owned()),
        1 => (200usize..=300).prop_map(|n| "a".repeat(n)),
        1 => Just("x/".repeat(5000)),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (-1e6f64..1e6).prop_map(Number::from_f64),
        prop_oneof![
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(-0.0),
            Just(1e308),
            Just(-1e308),
            Just(1e-308),
            Just(f64::EPSILON),
        ]
        .prop_map(Number::Float),
        prop_oneof![
            Just("1e+400"),
            Just("-1e+400"),
            Just("0.1"),
            Just("123456789012345678901234567890"),
            Just("1e-400"),
        ]
        .prop_map(|s| Number::Decimal(s.to_owned())),
    ]
    .boxed()
}

/// A value that fits `ty`: nulls and unknowns anywhere, hostile leaves.
fn value_of(ty: &Type) -> BoxedStrategy<Value> {
    prop_oneof![8 => known_of(ty), 1 => Just(Value::Null), 1 => Just(Value::Unknown)].boxed()
}

/// A non-null, known value of `ty` (with nulls and unknowns inside).
fn known_of(ty: &Type) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::String => hostile_string().prop_map(Value::String).boxed(),
        Type::Dynamic => hostile_string().prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(value_of(e), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(value_of(e), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(hostile_string(), value_of(e), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<BoxedStrategy<Value>> = attrs.values().map(value_of).collect();
            values
                .prop_map(move |vs| Value::Object(names.iter().cloned().zip(vs).collect()))
                .boxed()
        }
        Type::Tuple(elems) => {
            let values: Vec<BoxedStrategy<Value>> = elems.iter().map(value_of).collect();
            values.prop_map(Value::Tuple).boxed()
        }
    }
}

/// A value of `ty` as Terraform sends one for a resource: an object at the top, or
/// (rarely) null.
fn object_of(ty: &Type) -> BoxedStrategy<Value> {
    prop_oneof![9 => known_of(ty), 1 => Just(Value::Null)].boxed()
}

/// Any msgpack value, shaped like nothing in particular.
fn arbitrary_msgpack() -> BoxedStrategy<rmpv::Value> {
    let leaf = prop_oneof![
        Just(rmpv::Value::Nil),
        any::<bool>().prop_map(rmpv::Value::Boolean),
        any::<i64>().prop_map(rmpv::Value::from),
        any::<u64>().prop_map(rmpv::Value::from),
        any::<f64>().prop_map(rmpv::Value::F64),
        any::<f32>().prop_map(rmpv::Value::F32),
        hostile_string().prop_map(rmpv::Value::from),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(rmpv::Value::Binary),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(t, d)| rmpv::Value::Ext(t, d)),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(rmpv::Value::Array),
            prop::collection::vec((hostile_string().prop_map(rmpv::Value::from), inner), 0..6)
                .prop_map(rmpv::Value::Map),
        ]
    })
    .boxed()
}

/// One byte-level change to an encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutations() -> BoxedStrategy<Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ];
    prop::collection::vec(one, 1..4).boxed()
}

fn mutate(mut bytes: Vec<u8>, changes: &[Mutation]) -> Vec<u8> {
    for m in changes {
        let len = bytes.len();
        match *m {
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            _ if len == 0 => {}
            Mutation::Flip(i, bit) => bytes[i % len] ^= 1 << bit,
            Mutation::Set(i, b) => bytes[i % len] = b,
            Mutation::Remove(i) => {
                bytes.remove(i % len);
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

/// The JSON form Terraform uses for a value (unknowns cannot be written; they become
/// null).
fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(Number::Int(i)) => J::from(*i),
        Value::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
        }
        Value::Number(Number::Decimal(d)) => {
            serde_json::from_str::<J>(d).unwrap_or_else(|_| J::String(d.clone()))
        }
        Value::String(s) => J::String(s.clone()),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            J::Array(xs.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// One DynamicValue for a position of type `ty`: well-typed msgpack, mutated msgpack,
/// msgpack of the wrong shape, well-typed JSON, mutated JSON, or JSON of the wrong shape.
#[derive(Debug, Clone)]
struct Input {
    kind: &'static str,
    dv: pb::DynamicValue,
}

fn msgpack_dv(bytes: Vec<u8>) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    }
}

fn json_dv(bytes: Vec<u8>) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: Vec::new(),
        json: bytes,
    }
}

fn encode_mp(v: &rmpv::Value) -> Vec<u8> {
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, v).expect("writing to a Vec cannot fail");
    buf
}

fn input_for(ty: &Type) -> BoxedStrategy<Input> {
    let ty1 = ty.clone();
    let typed = object_of(ty).prop_map(move |v| Input {
        kind: "typed msgpack",
        dv: encode_dynamic(&v, &ty1).unwrap_or_else(|_| msgpack_dv(vec![0xc1])),
    });
    let ty2 = ty.clone();
    let mutated = (object_of(ty), mutations()).prop_map(move |(v, m)| Input {
        kind: "mutated msgpack",
        dv: msgpack_dv(mutate(
            encode_dynamic(&v, &ty2)
                .map(|d| d.msgpack)
                .unwrap_or_default(),
            &m,
        )),
    });
    let shapeless = arbitrary_msgpack().prop_map(|v| Input {
        kind: "arbitrary msgpack",
        dv: msgpack_dv(encode_mp(&v)),
    });
    let json = object_of(ty).prop_map(|v| Input {
        kind: "typed JSON",
        dv: json_dv(to_json(&v).to_string().into_bytes()),
    });
    let mutated_json = (object_of(ty), mutations()).prop_map(|(v, m)| Input {
        kind: "mutated JSON",
        dv: json_dv(mutate(to_json(&v).to_string().into_bytes(), &m)),
    });
    let shapeless_json = arbitrary_msgpack().prop_map(|v| Input {
        kind: "arbitrary JSON",
        dv: json_dv(serde_json::to_vec(&mp_to_json(&v)).expect("JSON values always serialise")),
    });
    prop_oneof![
        4 => typed,
        3 => mutated,
        2 => shapeless,
        2 => json,
        2 => mutated_json,
        1 => shapeless_json,
    ]
    .boxed()
}

fn mp_to_json(v: &rmpv::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        rmpv::Value::Boolean(b) => J::Bool(*b),
        rmpv::Value::Integer(i) => i
            .as_i64()
            .map(J::from)
            .or_else(|| i.as_u64().map(J::from))
            .unwrap_or(J::Null),
        rmpv::Value::F64(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        rmpv::Value::F32(f) => {
            serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number)
        }
        rmpv::Value::String(s) => J::String(s.as_str().unwrap_or_default().to_owned()),
        rmpv::Value::Array(xs) => J::Array(xs.iter().map(mp_to_json).collect()),
        rmpv::Value::Map(kvs) => J::Object(
            kvs.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), mp_to_json(v)))
                .collect(),
        ),
        rmpv::Value::Nil | rmpv::Value::Binary(_) | rmpv::Value::Ext(..) => J::Null,
    }
}

/// The type of resource `name` (dynamic for a name the provider does not have: the
/// inputs for it need no particular shape).
fn type_of(t: &BTreeMap<&'static str, Type>, name: &str) -> Type {
    t.get(name).cloned().unwrap_or(Type::Dynamic)
}

/// A resource type name: one of the provider's, or one it does not have.
fn type_name(t: &Types) -> BoxedStrategy<String> {
    let known: Vec<String> = t.resources.keys().map(|k| (*k).to_owned()).collect();
    prop_oneof![
        8 => prop::sample::select(known),
        1 => Just("queuescale_nothing".to_owned()),
        1 => hostile_string(),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Running the cases
// ---------------------------------------------------------------------------------------

/// What one fuzz run did, for the summary line.
#[derive(Default)]
struct Figures {
    inputs: AtomicUsize,
    rejected: AtomicUsize,
}

/// Runs `cases` deterministic cases of `strategy` through `check`; panics with the
/// smallest failing input. Prints how many inputs were tried and rejected.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value, &Figures) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let figures = Figures::default();
    let result = runner.run(&strategy, |input| check(input, &figures));
    eprintln!(
        "fuzz {name}: {} inputs, {} rejected with an error diagnostic, {} failures",
        figures.inputs.load(Ordering::SeqCst),
        figures.rejected.load(Ordering::SeqCst),
        usize::from(result.is_err()),
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}

/// Runs an async check on the test's runtime from inside proptest's synchronous loop.
fn block<T>(f: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

fn count(figures: &Figures, rejected: bool) {
    figures.inputs.fetch_add(1, Ordering::SeqCst);
    if rejected {
        figures.rejected.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_resource_config_answers_every_input() {
    let t = types();
    let client = serve().await;
    let res = t.resources.clone();
    let strategy = type_name(&t).prop_flat_map(move |name| {
        let input = input_for(&type_of(&res, &name));
        (Just(name), input)
    });
    fuzz(
        "ValidateResourceConfig",
        600,
        strategy,
        |(name, input), figures| {
            let mut client = client.clone();
            block(async {
                let r = within(
                    "ValidateResourceConfig",
                    client.validate_resource_config(pb::validate_resource_config::Request {
                        type_name: name.clone(),
                        config: Some(input.dv.clone()),
                        client_capabilities: None,
                    }),
                )
                .await?;
                check_diagnostics("ValidateResourceConfig", &r.diagnostics)?;
                let rejected = has_error(&r.diagnostics);
                count(figures, rejected);
                match t.resources.get(name.as_str()) {
                    None => prop_assert!(rejected, "unknown type {name:?} accepted"),
                    Some(ty) => {
                        if decode_dynamic(Some(&input.dv), ty).is_err() {
                            prop_assert!(
                                rejected,
                                "undecodable {} config accepted: {:?}",
                                input.kind,
                                r.diagnostics
                            );
                        }
                    }
                }
                Ok(())
            })
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_resource_change_answers_every_input() {
    let t = types();
    let mut client = serve().await;
    block(configure(&mut client, &t)).expect("configure");
    let client = client;
    let res = t.resources.clone();
    let strategy = type_name(&t).prop_flat_map(move |name| {
        let ty = type_of(&res, &name);
        (
            Just(name),
            prop::option::of(input_for(&ty)),
            input_for(&ty),
            input_for(&ty),
        )
    });
    fuzz(
        "PlanResourceChange",
        400,
        strategy,
        |(name, prior, proposed, config), figures| {
            let mut client = client.clone();
            block(async {
                let r = within(
                    "PlanResourceChange",
                    client.plan_resource_change(pb::plan_resource_change::Request {
                        type_name: name.clone(),
                        prior_state: prior.as_ref().map(|i| i.dv.clone()),
                        proposed_new_state: Some(proposed.dv.clone()),
                        config: Some(config.dv.clone()),
                        ..Default::default()
                    }),
                )
                .await?;
                check_diagnostics("PlanResourceChange", &r.diagnostics)?;
                let rejected = has_error(&r.diagnostics);
                count(figures, rejected);
                let Some(ty) = t.resources.get(name.as_str()) else {
                    prop_assert!(rejected, "unknown type {name:?} planned");
                    return Ok(());
                };
                let undecodable = [prior.as_ref(), Some(&proposed), Some(&config)]
                    .into_iter()
                    .flatten()
                    .any(|i| decode_dynamic(Some(&i.dv), ty).is_err());
                prop_assert!(!undecodable || rejected, "undecodable input planned");
                if !rejected {
                    prop_assert!(
                        decode_dynamic(r.planned_state.as_ref(), ty).is_ok(),
                        "a plan without errors carries no valid planned state"
                    );
                }
                Ok(())
            })
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_resource_change_answers_every_input() {
    let t = types();
    let mut client = serve().await;
    block(configure(&mut client, &t)).expect("configure");
    let client = client;
    let res = t.resources.clone();
    let strategy = type_name(&t).prop_flat_map(move |name| {
        let ty = type_of(&res, &name);
        (
            Just(name),
            prop::option::of(input_for(&ty)),
            prop::option::weighted(0.8, input_for(&ty)),
        )
    });
    fuzz(
        "ApplyResourceChange",
        400,
        strategy,
        |(name, prior, planned), figures| {
            let mut client = client.clone();
            block(async {
                let r = within(
                    "ApplyResourceChange",
                    client.apply_resource_change(pb::apply_resource_change::Request {
                        type_name: name.clone(),
                        prior_state: prior.as_ref().map(|i| i.dv.clone()),
                        planned_state: planned.as_ref().map(|i| i.dv.clone()),
                        ..Default::default()
                    }),
                )
                .await?;
                check_diagnostics("ApplyResourceChange", &r.diagnostics)?;
                let rejected = has_error(&r.diagnostics);
                count(figures, rejected);
                let Some(ty) = t.resources.get(name.as_str()) else {
                    prop_assert!(rejected, "unknown type {name:?} applied");
                    return Ok(());
                };
                let decoded = |i: &Option<Input>| decode_dynamic(i.as_ref().map(|i| &i.dv), ty);
                match (decoded(&prior), decoded(&planned)) {
                    (Err(_), _) | (_, Err(_)) => {
                        prop_assert!(rejected, "undecodable input applied")
                    }
                    (Ok(p), Ok(n)) if p.is_null() && !n.is_null() => prop_assert!(
                        rejected,
                        "a create succeeded with AWS unreachable: {:?}",
                        r.diagnostics
                    ),
                    _ => {}
                }
                if !rejected {
                    let state = decode_dynamic(r.new_state.as_ref(), ty);
                    prop_assert!(
                        state.as_ref().is_ok_and(Value::is_wholly_known),
                        "an apply without errors carries no valid, known new state: {state:?}"
                    );
                }
                Ok(())
            })
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_resource_state_refuses_every_hostile_id() {
    let t = types();
    let unconfigured = serve().await;
    let mut configured = serve().await;
    block(configure(&mut configured, &t)).expect("configure");
    let strategy = (type_name(&t), hostile_string());
    fuzz(
        "ImportResourceState",
        400,
        strategy,
        |(name, id), figures| {
            block(async {
                for (mut client, when) in [
                    (unconfigured.clone(), "before ConfigureProvider"),
                    (configured.clone(), "with AWS unreachable"),
                ] {
                    let r = within(
                        "ImportResourceState",
                        client.import_resource_state(pb::import_resource_state::Request {
                            type_name: name.clone(),
                            id: id.clone(),
                            client_capabilities: None,
                        }),
                    )
                    .await?;
                    check_diagnostics("ImportResourceState", &r.diagnostics)?;
                    let rejected = has_error(&r.diagnostics);
                    count(figures, rejected);
                    // Nothing exists anywhere: every import must fail, saying why.
                    prop_assert!(rejected, "import of {id:?} {when} without an error");
                    prop_assert!(
                        r.imported_resources.is_empty(),
                        "import of {id:?} {when} imported something"
                    );
                }
                Ok(())
            })
        },
    );
}

/// One call in a sequence sent in any order.
#[derive(Debug, Clone)]
enum Step {
    Configure,
    Stop,
    Validate(String, Input),
    Plan(String, Input, Input),
    Apply(String, Option<Input>, Input),
    Read(String, Input),
    Import(String, String),
}

fn step(t: &Types) -> BoxedStrategy<Step> {
    let res = Arc::new(t.resources.clone());
    let input = move |name: &str| input_for(&type_of(&res, name));
    let (i1, i2, i3, i4) = (input.clone(), input.clone(), input.clone(), input);
    prop_oneof![
        1 => Just(Step::Configure),
        1 => Just(Step::Stop),
        1 => type_name(t)
            .prop_flat_map(move |n| (i1(&n), Just(n)))
            .prop_map(|(c, n)| Step::Validate(n, c)),
        2 => type_name(t)
            .prop_flat_map(move |n| (i2(&n), i2(&n), Just(n)))
            .prop_map(|(p, c, n)| Step::Plan(n, p, c)),
        3 => type_name(t)
            .prop_flat_map(move |n| (prop::option::of(i3(&n)), i3(&n), Just(n)))
            .prop_map(|(p, c, n)| Step::Apply(n, p, c)),
        2 => type_name(t)
            .prop_flat_map(move |n| (i4(&n), Just(n)))
            .prop_map(|(st, n)| Step::Read(n, st)),
        2 => (type_name(t), hostile_string()).prop_map(|(n, i)| Step::Import(n, i)),
    ]
    .boxed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_any_order_are_answered() {
    let t = types();
    fuzz(
        "calls out of order",
        150,
        prop::collection::vec(step(&t), 1..8),
        |steps, figures| {
            block(async {
                let mut client = serve().await;
                let mut configured = false;
                for s in &steps {
                    let (rpc, diags) = match s {
                        Step::Configure => {
                            configure(&mut client, &t).await?;
                            configured = true;
                            continue;
                        }
                        Step::Stop => {
                            let r = within(
                                "StopProvider",
                                client.stop_provider(pb::stop_provider::Request {}),
                            )
                            .await?;
                            prop_assert_eq!(r.error, "");
                            continue;
                        }
                        Step::Validate(n, c) => (
                            "ValidateResourceConfig",
                            within(
                                "ValidateResourceConfig",
                                client.validate_resource_config(
                                    pb::validate_resource_config::Request {
                                        type_name: n.clone(),
                                        config: Some(c.dv.clone()),
                                        client_capabilities: None,
                                    },
                                ),
                            )
                            .await?
                            .diagnostics,
                        ),
                        Step::Plan(n, p, c) => (
                            "PlanResourceChange",
                            within(
                                "PlanResourceChange",
                                client.plan_resource_change(pb::plan_resource_change::Request {
                                    type_name: n.clone(),
                                    prior_state: None,
                                    proposed_new_state: Some(p.dv.clone()),
                                    config: Some(c.dv.clone()),
                                    ..Default::default()
                                }),
                            )
                            .await?
                            .diagnostics,
                        ),
                        Step::Apply(n, prior, planned) => {
                            let r = within(
                                "ApplyResourceChange",
                                client.apply_resource_change(pb::apply_resource_change::Request {
                                    type_name: n.clone(),
                                    prior_state: prior.as_ref().map(|i| i.dv.clone()),
                                    planned_state: Some(planned.dv.clone()),
                                    ..Default::default()
                                }),
                            )
                            .await?;
                            if !configured {
                                prop_assert!(
                                    has_error(&r.diagnostics),
                                    "apply before ConfigureProvider without an error"
                                );
                            }
                            ("ApplyResourceChange", r.diagnostics)
                        }
                        Step::Read(n, st) => {
                            let r = within(
                                "ReadResource",
                                client.read_resource(pb::read_resource::Request {
                                    type_name: n.clone(),
                                    current_state: Some(st.dv.clone()),
                                    ..Default::default()
                                }),
                            )
                            .await?;
                            if !configured {
                                prop_assert!(
                                    has_error(&r.diagnostics),
                                    "read before ConfigureProvider without an error"
                                );
                            }
                            ("ReadResource", r.diagnostics)
                        }
                        Step::Import(n, id) => {
                            let r = within(
                                "ImportResourceState",
                                client.import_resource_state(pb::import_resource_state::Request {
                                    type_name: n.clone(),
                                    id: id.clone(),
                                    client_capabilities: None,
                                }),
                            )
                            .await?;
                            prop_assert!(
                                has_error(&r.diagnostics),
                                "import of {id:?} without an error"
                            );
                            ("ImportResourceState", r.diagnostics)
                        }
                    };
                    check_diagnostics(rpc, &diags)?;
                    count(figures, has_error(&diags));
                }
                Ok(())
            })
        },
    );
}
