//! The protocol server end to end: a small test provider served over an in-process pipe
//! and called through the generated tfplugin6 client, one group of tests per RPC.
//!
//! Requests are encoded and responses decoded with the SDK's msgpack codec against the
//! schema's value type, as Terraform does. Bad input must come back as an error
//! diagnostic: a panic or a gRPC error status fails the `expect` on the call.

use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use async_trait::async_trait;
use hyper_util::rt::TokioIo;
use tokio::io::DuplexStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Server, Uri};

use super::ProviderServer;
use crate::tfplugin::diag::{AttrPath, Diagnostics};
use crate::tfplugin::function::{Function, FunctionError, Parameter, Signature};
use crate::tfplugin::msgpack;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::{ConfigureRequest, DataSource, PlannedChange, Provider, Resource};
use crate::tfplugin::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::tfplugin::types::Type;
use crate::tfplugin::value::{Number, Value};

use pb::attribute_path::step::Selector;
use pb::diagnostic::Severity;
use pb::provider_client::ProviderClient;

// ---------------------------------------------------------------------------------------
// The test provider
// ---------------------------------------------------------------------------------------

const ENDPOINT: &str = "https://api.test";
/// Creating a thing with this name fails after the object exists remotely.
const HALF_MADE: &str = "half-made";
/// Deleting a thing with this name fails.
const UNDELETABLE: &str = "undeletable";

/// The fake remote system: things by id.
type Store = Arc<Mutex<BTreeMap<String, Value>>>;

fn lock(store: &Store) -> MutexGuard<'_, BTreeMap<String, Value>> {
    store.lock().expect("store lock")
}

/// What configuring the test provider produces.
struct TestClient {
    endpoint: String,
    store: Store,
}

struct TestProvider {
    store: Store,
}

fn provider_schema() -> Schema {
    Schema::new(Block::new(vec![
        Attribute::required("endpoint", Type::String).describe("Where the API lives."),
        Attribute::optional("token", Type::String)
            .sensitive()
            .describe("API token."),
    ]))
}

#[async_trait]
impl Provider for TestProvider {
    type Client = TestClient;

    fn type_name(&self) -> &'static str {
        "test"
    }

    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("token").as_str() == Some("") {
            diags.error_at(
                AttrPath::root("token"),
                "Empty token",
                "Leave token unset rather than empty.",
            );
        }
    }

    async fn configure(
        &self,
        req: ConfigureRequest<'_>,
        diags: &mut Diagnostics,
    ) -> Option<TestClient> {
        if !req.config.is_wholly_known() {
            return None;
        }
        let endpoint = req.config.get("endpoint").as_str().unwrap_or_default();
        if endpoint.is_empty() {
            diags.error_at(
                AttrPath::root("endpoint"),
                "Missing endpoint",
                "The endpoint must not be empty.",
            );
            return None;
        }
        Some(TestClient {
            endpoint: endpoint.to_owned(),
            store: Arc::clone(&self.store),
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<TestClient>>> {
        vec![Arc::new(Thing)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<TestClient>>> {
        vec![Arc::new(ThingInfo)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        // Registered out of order, so that sorted answers prove the server sorts.
        vec![
            Arc::new(Arithmetic("multiply")),
            Arc::new(Arithmetic("divide")),
            Arc::new(Arithmetic("add")),
        ]
    }
}

/// `test_thing`: a managed resource kept in the fake store.
struct Thing;

#[async_trait]
impl Resource<TestClient> for Thing {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 1,
            block: Block::new(vec![
                Attribute::required("name", Type::String).requires_replace(),
                Attribute::optional("size", Type::Number),
                Attribute::with_default("mode", Type::String, Value::from("fast")),
                Attribute::computed("id", Type::String).use_state_for_unknown(),
                Attribute::computed("revision", Type::Number),
                Attribute::computed("url", Type::String),
            ])
            .with_blocks(vec![NestedBlock::new(
                "rule",
                Nesting::List,
                Block::new(vec![
                    Attribute::required("port", Type::Number),
                    Attribute::with_default("protocol", Type::String, Value::from("tcp")),
                ]),
            )])
            .describe("A **thing** in the fake store."),
        }
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        for (i, rule) in config.get("rule").elements().iter().enumerate() {
            if let Some(port) = rule.get("port").as_i64()
                && !(1..=65535).contains(&port)
            {
                diags.error_at(
                    AttrPath::root("rule").index(i).attr("port"),
                    "Port out of range",
                    format!("{port} is not between 1 and 65535."),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        client: Option<&TestClient>,
        change: &mut PlannedChange,
        _diags: &mut Diagnostics,
    ) {
        if change.is_destroy() {
            return;
        }
        if let (Some(client), Some(name)) = (client, change.planned.get("name").as_str()) {
            let url = format!("{}/things/{name}", client.endpoint);
            change.planned.set("url", Value::from(url));
        }
    }

    async fn create(&self, client: &TestClient, planned: &Value, diags: &mut Diagnostics) -> Value {
        let name = planned.get("name").as_str().unwrap_or_default();
        let id = format!("id-{name}");
        let mut state = planned.clone();
        state.set("id", Value::from(id.as_str()));
        state.set("revision", Value::int(1));
        lock(&client.store).insert(id, state.clone());
        if name == HALF_MADE {
            diags.error(
                "Tagging failed",
                "The thing was created, then could not be tagged.",
            );
        }
        state
    }

    async fn read(&self, client: &TestClient, state: &Value, _diags: &mut Diagnostics) -> Value {
        let id = state.get("id").as_str().unwrap_or_default();
        lock(&client.store).get(id).cloned().unwrap_or(Value::Null)
    }

    async fn update(
        &self,
        client: &TestClient,
        prior: &Value,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Value {
        let mut state = planned.clone();
        let revision = prior.get("revision").as_i64().unwrap_or(0) + 1;
        state.set("revision", Value::int(revision));
        let id = state.get("id").as_str().unwrap_or_default().to_owned();
        lock(&client.store).insert(id, state.clone());
        state
    }

    async fn delete(&self, client: &TestClient, state: &Value, diags: &mut Diagnostics) {
        if state.get("name").as_str() == Some(UNDELETABLE) {
            diags.error("Thing is protected", "This thing cannot be deleted.");
            return;
        }
        let id = state.get("id").as_str().unwrap_or_default();
        lock(&client.store).remove(id);
    }

    async fn import(&self, client: &TestClient, id: &str, diags: &mut Diagnostics) -> Value {
        if lock(&client.store).contains_key(id) {
            Value::object([("id", Value::from(id))])
        } else {
            diags.error("Cannot import", format!("There is no thing {id:?}."));
            Value::Null
        }
    }
}

/// `test_thing_info`: a data source reading a thing by id.
struct ThingInfo;

#[async_trait]
impl DataSource<TestClient> for ThingInfo {
    fn type_name(&self) -> &'static str {
        "test_thing_info"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(vec![
            Attribute::required("id", Type::String),
            Attribute::computed("name", Type::String),
            Attribute::computed("revision", Type::Number),
        ]))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("id").as_str() == Some("") {
            diags.error_at(AttrPath::root("id"), "Empty id", "Name a thing.");
        }
    }

    async fn read(
        &self,
        client: Option<&TestClient>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(client) = client else {
            diags.error("Provider not configured", "Reading needs the API.");
            return Value::Null;
        };
        let id = config.get("id").as_str().unwrap_or_default();
        let Some(thing) = lock(&client.store).get(id).cloned() else {
            diags.error("Thing not found", format!("There is no thing {id:?}."));
            return Value::Null;
        };
        let mut out = config.clone();
        out.set("name", thing.get("name").clone());
        out.set("revision", thing.get("revision").clone());
        out
    }
}

/// `add`, `divide` and `multiply`: two numbers in, one out. Only `divide` can fail, and
/// then it blames its second argument.
struct Arithmetic(&'static str);

impl Function for Arithmetic {
    fn name(&self) -> &'static str {
        self.0
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("a", Type::Number, "The first operand."),
                Parameter::new("b", Type::Number, "The second operand."),
            ],
            returns: Type::Number,
            summary: format!("{} two numbers", self.0),
            description: format!("Returns `a` {} `b`.", self.0),
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let arg = |i: usize| {
            args.get(i)
                .and_then(Value::as_f64)
                .ok_or_else(|| FunctionError::argument(i, "must be a known number"))
        };
        let (a, b) = (arg(0)?, arg(1)?);
        match self.0 {
            "add" => Ok(Value::number(a + b)),
            "multiply" => Ok(Value::number(a * b)),
            _ if b == 0.0 => Err(FunctionError::argument(1, "cannot divide by zero")),
            _ => Ok(Value::number(a / b)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Serving over an in-process pipe
// ---------------------------------------------------------------------------------------

/// A connector that hands the client half of the pipe to the channel, once.
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
                .ok_or_else(|| std::io::Error::other("the in-process pipe is already in use")),
        )
    }
}

/// A running server, a client connected to it, and what the tests look at.
struct Harness {
    client: ProviderClient<Channel>,
    store: Store,
    stop: CancellationToken,
    server: ProviderServer<TestProvider>,
}

/// Serves a fresh [`TestProvider`] (not configured) and connects a client to it.
async fn serve() -> Harness {
    let store = Store::default();
    let server = ProviderServer::new(TestProvider {
        store: Arc::clone(&store),
    });
    let stop = server.stop_token();
    let handle = server.clone();
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        Server::builder()
            .add_service(pb::provider_server::ProviderServer::new(server))
            .serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server_io)))
            .await
    });
    let channel = Endpoint::from_static("http://in-process.test")
        .connect_with_connector(Pipe(Mutex::new(Some(client_io))))
        .await
        .expect("the client connects over the pipe");
    Harness {
        client: ProviderClient::new(channel),
        store,
        stop,
        server: handle,
    }
}

/// Serves a provider configured with [`ENDPOINT`].
async fn serve_configured() -> Harness {
    let mut h = serve().await;
    let resp = h
        .configure(provider_config(
            Value::from(ENDPOINT),
            Value::from("s3cret"),
        ))
        .await;
    assert_no_errors(&resp.diagnostics);
    h
}

impl Harness {
    async fn configure(&mut self, config: Value) -> pb::configure_provider::Response {
        self.client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.0.3".into(),
                config: Some(dv(&config, &provider_type())),
                client_capabilities: None,
            })
            .await
            .expect("ConfigureProvider answers")
            .into_inner()
    }

    /// Plans `test_thing` from `prior` towards `config`, proposing as Terraform does.
    async fn plan(&mut self, prior: &Value, config: &Value) -> pb::plan_resource_change::Response {
        self.plan_raw(
            thing_dv(prior),
            thing_dv(&propose(prior, config)),
            thing_dv(config),
        )
        .await
    }

    async fn plan_raw(
        &mut self,
        prior: pb::DynamicValue,
        proposed: pb::DynamicValue,
        config: pb::DynamicValue,
    ) -> pb::plan_resource_change::Response {
        self.client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: Some(prior),
                proposed_new_state: Some(proposed),
                config: Some(config),
                ..Default::default()
            })
            .await
            .expect("PlanResourceChange answers")
            .into_inner()
    }

    /// Applies a plan of `test_thing` (`planned` as PlanResourceChange answered it).
    async fn apply(
        &mut self,
        prior: &Value,
        planned: pb::DynamicValue,
    ) -> pb::apply_resource_change::Response {
        self.apply_raw(thing_dv(prior), planned).await
    }

    async fn apply_raw(
        &mut self,
        prior: pb::DynamicValue,
        planned: pb::DynamicValue,
    ) -> pb::apply_resource_change::Response {
        self.client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: Some(prior),
                planned_state: Some(planned),
                ..Default::default()
            })
            .await
            .expect("ApplyResourceChange answers")
            .into_inner()
    }

    async fn read(
        &mut self,
        type_name: &str,
        state: pb::DynamicValue,
    ) -> pb::read_resource::Response {
        self.client
            .read_resource(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: Some(state),
                ..Default::default()
            })
            .await
            .expect("ReadResource answers")
            .into_inner()
    }

    async fn upgrade(
        &mut self,
        type_name: &str,
        version: i64,
        json: &str,
    ) -> pb::upgrade_resource_state::Response {
        self.client
            .upgrade_resource_state(pb::upgrade_resource_state::Request {
                type_name: type_name.into(),
                version,
                raw_state: Some(pb::RawState {
                    json: json.as_bytes().to_vec(),
                    flatmap: Default::default(),
                }),
            })
            .await
            .expect("UpgradeResourceState answers")
            .into_inner()
    }

    async fn call(
        &mut self,
        name: &str,
        arguments: Vec<pb::DynamicValue>,
    ) -> pb::call_function::Response {
        self.client
            .call_function(pb::call_function::Request {
                name: name.into(),
                arguments,
            })
            .await
            .expect("CallFunction answers")
            .into_inner()
    }

    /// Puts a thing into the fake store, as if created earlier.
    fn remember(&self, state: &Value) {
        let id = state.get("id").as_str().expect("the thing has an id");
        lock(&self.store).insert(id.to_owned(), state.clone());
    }
}

// ---------------------------------------------------------------------------------------
// Values, DynamicValues and diagnostics
// ---------------------------------------------------------------------------------------

fn provider_type() -> Type {
    provider_schema().value_type()
}

fn thing_type() -> Type {
    Thing.schema().value_type()
}

fn info_type() -> Type {
    ThingInfo.schema().value_type()
}

fn provider_config(endpoint: Value, token: Value) -> Value {
    Value::object([("endpoint", endpoint), ("token", token)])
}

/// A `test_thing` object: every attribute null, no rules, then `attrs`.
fn thing(attrs: &[(&str, Value)]) -> Value {
    let Type::Object(types) = thing_type() else {
        unreachable!("a block's type is an object")
    };
    let mut v = Value::Object(types.into_keys().map(|k| (k, Value::Null)).collect());
    v.set("rule", Value::List(Vec::new()));
    for (name, value) in attrs {
        v.set(name, value.clone());
    }
    v
}

/// Configuration naming a thing.
fn thing_config(name: &str) -> Value {
    thing(&[("name", Value::from(name))])
}

/// The state of a thing created from [`thing_config`] by a provider using [`ENDPOINT`].
fn created(name: &str) -> Value {
    thing(&[
        ("name", Value::from(name)),
        ("mode", Value::from("fast")),
        ("id", Value::from(format!("id-{name}"))),
        ("revision", Value::int(1)),
        ("url", Value::from(format!("{ENDPOINT}/things/{name}"))),
    ])
}

fn rule(port: i64, protocol: Value) -> Value {
    Value::object([("port", Value::int(port)), ("protocol", protocol)])
}

/// Terraform's proposed new state (top-level attributes only): the configuration, with
/// the prior value wherever configuration leaves a computed attribute null.
fn propose(prior: &Value, config: &Value) -> Value {
    let mut proposed = config.clone();
    for attr in &Thing.schema().block.attributes {
        if attr.computed && config.get(&attr.name).is_null() {
            proposed.set(&attr.name, prior.get(&attr.name).clone());
        }
    }
    proposed
}

/// A value as msgpack DynamicValue of type `ty`.
fn dv(value: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: msgpack::encode(value, ty).expect("the value fits its type"),
        json: Vec::new(),
    }
}

fn thing_dv(value: &Value) -> pb::DynamicValue {
    dv(value, &thing_type())
}

/// A response value, decoded with the schema's type.
fn decoded(value: Option<&pb::DynamicValue>, ty: &Type) -> Value {
    let value = value.expect("the response carries a value");
    assert!(value.json.is_empty(), "responses are msgpack, never JSON");
    msgpack::decode(&value.msgpack, ty).expect("the response fits the schema")
}

fn decoded_thing(value: Option<&pb::DynamicValue>) -> Value {
    decoded(value, &thing_type())
}

/// One attribute of a msgpack object exactly as it is on the wire.
fn wire_attribute(value: Option<&pb::DynamicValue>, name: &str) -> rmpv::Value {
    let bytes = &value.expect("the response carries a value").msgpack;
    let rmpv::Value::Map(entries) =
        rmpv::decode::read_value(&mut bytes.as_slice()).expect("valid msgpack")
    else {
        panic!("the value is not a msgpack map");
    };
    entries
        .into_iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no attribute {name:?} on the wire"))
}

/// How Terraform's "unknown" looks on the wire.
fn wire_unknown() -> rmpv::Value {
    rmpv::Value::Ext(0, vec![0])
}

/// DynamicValues no object schema accepts, with what is wrong with each.
fn undecodable() -> Vec<(&'static str, pb::DynamicValue)> {
    let raw = |msgpack: Vec<u8>| pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    };
    vec![
        ("garbage msgpack", raw(vec![0xc1, 0xff, 0x00])),
        ("truncated msgpack", raw(vec![0x85, 0xa4, b'n'])),
        ("trailing bytes", raw(vec![0x80, 0xc0])),
        (
            "a string where an object belongs",
            dv(&Value::from("x"), &Type::String),
        ),
        (
            "an attribute the schema does not have",
            dv(
                &Value::object([("bogus", Value::Bool(true))]),
                &Type::object([("bogus", Type::Bool)]),
            ),
        ),
        (
            "garbage JSON",
            pb::DynamicValue {
                msgpack: Vec::new(),
                json: b"{not json".to_vec(),
            },
        ),
    ]
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .collect()
}

fn assert_no_errors(diags: &[pb::Diagnostic]) {
    let errors = errors(diags);
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
}

/// The one error diagnostic, which must have `summary`.
fn the_error<'a>(diags: &'a [pb::Diagnostic], summary: &str) -> &'a pb::Diagnostic {
    let errors = errors(diags);
    assert_eq!(errors.len(), 1, "expected one error, got {diags:#?}");
    assert_eq!(errors[0].summary, summary, "{diags:#?}");
    errors[0]
}

/// Asserts an error diagnostic reports an input Terraform sent that could not be decoded.
fn assert_decode_error(diags: &[pb::Diagnostic], case: &str) {
    assert!(
        errors(diags)
            .iter()
            .any(|d| d.summary.starts_with("Invalid ") && d.summary.ends_with("from Terraform")),
        "{case}: expected a decoding error, got {diags:#?}"
    );
}

fn wire_path(steps: Vec<Selector>) -> pb::AttributePath {
    pb::AttributePath {
        steps: steps
            .into_iter()
            .map(|s| pb::attribute_path::Step { selector: Some(s) })
            .collect(),
    }
}

fn attr(name: &str) -> Selector {
    Selector::AttributeName(name.into())
}

// ---------------------------------------------------------------------------------------
// GetMetadata, GetProviderSchema, GetFunctions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn get_metadata_lists_type_names_sorted_with_the_capabilities() {
    let mut h = serve().await;
    let resp = h
        .client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata answers")
        .into_inner();
    assert_no_errors(&resp.diagnostics);
    let resources: Vec<_> = resp
        .resources
        .iter()
        .map(|r| r.type_name.as_str())
        .collect();
    let data_sources: Vec<_> = resp
        .data_sources
        .iter()
        .map(|d| d.type_name.as_str())
        .collect();
    let functions: Vec<_> = resp.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(resources, ["test_thing"]);
    assert_eq!(data_sources, ["test_thing_info"]);
    assert_eq!(functions, ["add", "divide", "multiply"]);
    assert!(resp.ephemeral_resources.is_empty());
    let caps = resp.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy);
    assert!(caps.get_provider_schema_optional);
    assert!(!caps.move_resource_state);
}

async fn provider_schema_response(h: &mut Harness) -> pb::get_provider_schema::Response {
    h.client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers")
        .into_inner()
}

fn find_attribute<'a>(block: &'a pb::schema::Block, name: &str) -> &'a pb::schema::Attribute {
    block
        .attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no attribute {name:?}"))
}

fn attribute_type(a: &pb::schema::Attribute) -> Type {
    Type::from_json_bytes(&a.r#type).expect("type notation")
}

#[tokio::test]
async fn get_provider_schema_describes_the_provider_block_with_its_sensitive_attribute() {
    let mut h = serve().await;
    let resp = provider_schema_response(&mut h).await;
    assert_no_errors(&resp.diagnostics);
    let block = resp.provider.and_then(|s| s.block).expect("provider block");
    let endpoint = find_attribute(&block, "endpoint");
    assert!(endpoint.required && !endpoint.optional && !endpoint.sensitive);
    assert_eq!(attribute_type(endpoint), Type::String);
    let token = find_attribute(&block, "token");
    assert!(token.optional && !token.required && token.sensitive);
    assert_eq!(attribute_type(token), Type::String);
}

#[tokio::test]
async fn get_provider_schema_describes_resource_attributes_and_the_nested_block() {
    let mut h = serve().await;
    let resp = provider_schema_response(&mut h).await;
    let schema = &resp.resource_schemas["test_thing"];
    assert_eq!(schema.version, 1);
    let block = schema.block.as_ref().expect("resource block");
    assert_eq!(block.description, "A **thing** in the fake store.");
    let name = find_attribute(block, "name");
    assert!(name.required && !name.computed);
    assert_eq!(attribute_type(name), Type::String);
    assert_eq!(attribute_type(find_attribute(block, "size")), Type::Number);
    let mode = find_attribute(block, "mode");
    assert!(mode.optional && mode.computed && !mode.required);
    let id = find_attribute(block, "id");
    assert!(id.computed && !id.optional && !id.required);

    assert_eq!(block.block_types.len(), 1);
    let rule = &block.block_types[0];
    assert_eq!(rule.type_name, "rule");
    assert_eq!(rule.nesting(), pb::schema::nested_block::NestingMode::List);
    let rule_block = rule.block.as_ref().expect("nested block");
    let port = find_attribute(rule_block, "port");
    assert!(port.required);
    assert_eq!(attribute_type(port), Type::Number);
    assert!(find_attribute(rule_block, "protocol").computed);

    let info = resp.data_source_schemas["test_thing_info"]
        .block
        .as_ref()
        .expect("data source block");
    assert!(find_attribute(info, "id").required);
    assert!(find_attribute(info, "revision").computed);
}

#[tokio::test]
async fn get_provider_schema_marks_every_description_as_markdown() {
    fn all_markdown(block: &pb::schema::Block) -> bool {
        block.description_kind() == pb::StringKind::Markdown
            && block
                .attributes
                .iter()
                .all(|a| a.description_kind() == pb::StringKind::Markdown)
            && block
                .block_types
                .iter()
                .all(|nb| nb.block.as_ref().is_some_and(all_markdown))
    }
    let mut h = serve().await;
    let resp = provider_schema_response(&mut h).await;
    let schemas = std::iter::once(resp.provider.as_ref().expect("provider schema"))
        .chain(resp.resource_schemas.values())
        .chain(resp.data_source_schemas.values());
    for schema in schemas {
        assert!(
            all_markdown(schema.block.as_ref().expect("block")),
            "{schema:#?}"
        );
    }
    for f in resp.functions.values() {
        assert_eq!(f.description_kind(), pb::StringKind::Markdown);
        assert!(
            f.parameters
                .iter()
                .all(|p| p.description_kind() == pb::StringKind::Markdown)
        );
    }
}

#[tokio::test]
async fn get_provider_schema_includes_functions_and_capabilities() {
    let mut h = serve().await;
    let resp = provider_schema_response(&mut h).await;
    let mut names: Vec<_> = resp.functions.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "divide", "multiply"]);
    assert_eq!(resp.functions["divide"].parameters.len(), 2);
    let caps = resp.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    assert!(!caps.move_resource_state);
}

#[tokio::test]
async fn get_functions_returns_every_signature_with_number_types() {
    let mut h = serve().await;
    let resp = h
        .client
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("GetFunctions answers")
        .into_inner();
    assert_no_errors(&resp.diagnostics);
    assert_eq!(resp.functions.len(), 3);
    let divide = &resp.functions["divide"];
    let params: Vec<_> = divide
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                Type::from_json_bytes(&p.r#type).expect("type"),
            )
        })
        .collect();
    assert_eq!(params, [("a", Type::Number), ("b", Type::Number)]);
    assert!(divide.parameters.iter().all(|p| !p.allow_null_value));
    assert!(divide.variadic_parameter.is_none());
    let returns = divide.r#return.as_ref().expect("return type");
    assert_eq!(
        Type::from_json_bytes(&returns.r#type).expect("type"),
        Type::Number
    );
    assert_eq!(divide.summary, "divide two numbers");
}

// ---------------------------------------------------------------------------------------
// ValidateProviderConfig, ValidateResourceConfig, ValidateDataResourceConfig
// ---------------------------------------------------------------------------------------

async fn validate_provider(h: &mut Harness, config: pb::DynamicValue) -> Vec<pb::Diagnostic> {
    h.client
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(config),
        })
        .await
        .expect("ValidateProviderConfig answers")
        .into_inner()
        .diagnostics
}

#[tokio::test]
async fn validate_provider_config_accepts_known_and_unknown_values() {
    let mut h = serve().await;
    let known = provider_config(Value::from(ENDPOINT), Value::from("s3cret"));
    assert!(
        validate_provider(&mut h, dv(&known, &provider_type()))
            .await
            .is_empty()
    );
    let unknown = provider_config(Value::Unknown, Value::Unknown);
    assert!(
        validate_provider(&mut h, dv(&unknown, &provider_type()))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn validate_provider_config_reports_an_empty_token_at_its_attribute() {
    let mut h = serve().await;
    let config = provider_config(Value::from(ENDPOINT), Value::from(""));
    let diags = validate_provider(&mut h, dv(&config, &provider_type())).await;
    let error = the_error(&diags, "Empty token");
    assert_eq!(error.attribute, Some(wire_path(vec![attr("token")])));
}

#[tokio::test]
async fn validate_provider_config_answers_undecodable_config_with_an_error_diagnostic() {
    let mut h = serve().await;
    for (case, config) in undecodable() {
        let diags = validate_provider(&mut h, config).await;
        assert_decode_error(&diags, case);
    }
}

async fn validate_thing(
    h: &mut Harness,
    type_name: &str,
    config: pb::DynamicValue,
) -> Vec<pb::Diagnostic> {
    h.client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: type_name.into(),
            config: Some(config),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig answers")
        .into_inner()
        .diagnostics
}

#[tokio::test]
async fn validate_resource_config_reports_a_bad_port_at_its_exact_nested_path() {
    let mut h = serve().await;
    let mut config = thing_config("a");
    config.set(
        "rule",
        Value::List(vec![
            rule(443, Value::Null),
            rule(70000, Value::from("udp")),
        ]),
    );
    let diags = validate_thing(&mut h, "test_thing", thing_dv(&config)).await;
    let error = the_error(&diags, "Port out of range");
    assert_eq!(
        error.attribute,
        Some(wire_path(vec![
            attr("rule"),
            Selector::ElementKeyInt(1),
            attr("port"),
        ]))
    );
}

#[tokio::test]
async fn validate_resource_config_decodes_numbers_beyond_float64_as_numbers() {
    let mut h = serve().await;
    // What Terraform sends for `size = 1e400`: the decimal digits as a msgpack string.
    let huge = format!("1{}", "0".repeat(400));
    let config = thing(&[
        ("name", Value::from("a")),
        (
            "size",
            Value::Number(crate::tfplugin::Number::Decimal(huge)),
        ),
    ]);
    let diags = validate_thing(&mut h, "test_thing", thing_dv(&config)).await;
    assert!(diags.is_empty(), "{diags:#?}");
}

#[tokio::test]
async fn validate_resource_config_accepts_a_valid_config_with_unknown_values() {
    let mut h = serve().await;
    let mut config = thing(&[("name", Value::Unknown), ("size", Value::Unknown)]);
    config.set(
        "rule",
        Value::List(vec![Value::object([
            ("port", Value::Unknown),
            ("protocol", Value::Null),
        ])]),
    );
    let diags = validate_thing(&mut h, "test_thing", thing_dv(&config)).await;
    assert!(diags.is_empty(), "{diags:#?}");
}

#[tokio::test]
async fn validate_resource_config_answers_bad_input_with_error_diagnostics() {
    let mut h = serve().await;
    for (case, config) in undecodable() {
        let diags = validate_thing(&mut h, "test_thing", config).await;
        assert_decode_error(&diags, case);
    }
    let diags = validate_thing(&mut h, "test_nothing", thing_dv(&thing_config("a"))).await;
    the_error(&diags, "Unknown resource type");
}

async fn validate_info(
    h: &mut Harness,
    type_name: &str,
    config: pb::DynamicValue,
) -> Vec<pb::Diagnostic> {
    h.client
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: type_name.into(),
            config: Some(config),
        })
        .await
        .expect("ValidateDataResourceConfig answers")
        .into_inner()
        .diagnostics
}

fn info_config(id: Value) -> Value {
    Value::object([("id", id), ("name", Value::Null), ("revision", Value::Null)])
}

#[tokio::test]
async fn validate_data_resource_config_accepts_an_id_and_reports_an_empty_one() {
    let mut h = serve().await;
    let good = validate_info(
        &mut h,
        "test_thing_info",
        dv(&info_config("id-a".into()), &info_type()),
    )
    .await;
    assert!(good.is_empty(), "{good:#?}");
    let bad = validate_info(
        &mut h,
        "test_thing_info",
        dv(&info_config("".into()), &info_type()),
    )
    .await;
    let error = the_error(&bad, "Empty id");
    assert_eq!(error.attribute, Some(wire_path(vec![attr("id")])));
}

#[tokio::test]
async fn validate_data_resource_config_answers_bad_input_with_error_diagnostics() {
    let mut h = serve().await;
    for (case, config) in undecodable() {
        let diags = validate_info(&mut h, "test_thing_info", config).await;
        assert_decode_error(&diags, case);
    }
    let diags = validate_info(
        &mut h,
        "test_nothing",
        dv(&info_config("x".into()), &info_type()),
    )
    .await;
    the_error(&diags, "Unknown data source type");
}

// ---------------------------------------------------------------------------------------
// UpgradeResourceState
// ---------------------------------------------------------------------------------------

const STORED_JSON: &str = r#"{"id":"id-a","name":"a","size":3,"mode":"fast","revision":1,
    "url":"https://api.test/things/a","rule":[{"port":443,"protocol":"tcp"}]}"#;

#[tokio::test]
async fn upgrade_resource_state_decodes_json_state_at_the_current_version() {
    let mut h = serve().await;
    let resp = h.upgrade("test_thing", 1, STORED_JSON).await;
    assert_no_errors(&resp.diagnostics);
    let mut expected = created("a");
    expected.set("size", Value::int(3));
    expected.set("rule", Value::List(vec![rule(443, Value::from("tcp"))]));
    assert_eq!(decoded_thing(resp.upgraded_state.as_ref()), expected);
}

#[tokio::test]
async fn upgrade_resource_state_drops_attributes_the_schema_no_longer_has() {
    let mut h = serve().await;
    let resp = h
        .upgrade(
            "test_thing",
            1,
            r#"{"id":"id-a","name":"a","retired_flag":true}"#,
        )
        .await;
    assert_no_errors(&resp.diagnostics);
    let state = decoded_thing(resp.upgraded_state.as_ref());
    assert_eq!(state.get("id"), &Value::from("id-a"));
    assert!(
        state
            .entries()
            .is_some_and(|m| !m.contains_key("retired_flag"))
    );
}

#[tokio::test]
async fn upgrade_resource_state_answers_a_decimal_number_as_the_msgpack_string_it_was() {
    let mut h = serve().await;
    let resp = h
        .upgrade("test_thing", 1, r#"{"id":"id-a","name":"a","size":0.1}"#)
        .await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(
        wire_attribute(resp.upgraded_state.as_ref(), "size"),
        rmpv::Value::from("0.1")
    );
    let state = decoded_thing(resp.upgraded_state.as_ref());
    assert!(
        matches!(state.get("size"), Value::Number(Number::Decimal(s)) if s == "0.1"),
        "{state:?}"
    );
}

#[tokio::test]
async fn upgrade_resource_state_refuses_another_schema_version() {
    let mut h = serve().await;
    let resp = h.upgrade("test_thing", 0, STORED_JSON).await;
    the_error(&resp.diagnostics, "Unsupported state version");
    assert!(resp.upgraded_state.is_none());
}

#[tokio::test]
async fn upgrade_resource_state_refuses_legacy_flatmap_state() {
    let mut h = serve().await;
    let resp = h
        .client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: Vec::new(),
                flatmap: [("id".to_owned(), "id-a".to_owned())].into(),
            }),
        })
        .await
        .expect("UpgradeResourceState answers")
        .into_inner();
    the_error(&resp.diagnostics, "Legacy state format");
    assert!(resp.upgraded_state.is_none());
}

#[tokio::test]
async fn upgrade_resource_state_answers_bad_input_with_error_diagnostics() {
    let mut h = serve().await;
    for (case, json) in [
        ("garbage JSON", "{not json"),
        ("a list where an object belongs", "[1, 2]"),
        ("a word where a number belongs", r#"{"size":"many"}"#),
        ("an object where a list belongs", r#"{"rule":{"port":1}}"#),
    ] {
        let resp = h.upgrade("test_thing", 1, json).await;
        let error = the_error(&resp.diagnostics, "Stored state cannot be read");
        assert!(!error.detail.is_empty(), "{case}");
        assert!(resp.upgraded_state.is_none(), "{case}");
    }
    let resp = h.upgrade("test_nothing", 1, STORED_JSON).await;
    the_error(&resp.diagnostics, "Unknown resource type");
}

// ---------------------------------------------------------------------------------------
// ConfigureProvider
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn configure_provider_with_known_config_gives_plans_the_client() {
    let mut h = serve().await;
    let resp = h
        .configure(provider_config(Value::from(ENDPOINT), Value::Null))
        .await;
    assert!(resp.diagnostics.is_empty(), "{:#?}", resp.diagnostics);
    let plan = h.plan(&Value::Null, &thing_config("a")).await;
    assert_no_errors(&plan.diagnostics);
    let planned = decoded_thing(plan.planned_state.as_ref());
    assert_eq!(
        planned.get("url"),
        &Value::from("https://api.test/things/a")
    );
}

#[tokio::test]
async fn configure_provider_with_an_unknown_value_defers_and_later_plans_get_no_client() {
    let mut h = serve().await;
    let resp = h
        .configure(provider_config(Value::Unknown, Value::from("s3cret")))
        .await;
    assert!(resp.diagnostics.is_empty(), "{:#?}", resp.diagnostics);
    let plan = h.plan(&Value::Null, &thing_config("a")).await;
    assert_no_errors(&plan.diagnostics);
    assert_eq!(
        wire_attribute(plan.planned_state.as_ref(), "url"),
        wire_unknown()
    );
}

#[tokio::test]
async fn apply_after_a_deferred_configuration_says_the_provider_is_not_configured() {
    let mut h = serve().await;
    let configured = h
        .configure(provider_config(Value::Unknown, Value::Null))
        .await;
    assert!(configured.diagnostics.is_empty());
    let plan = h.plan(&Value::Null, &thing_config("a")).await;
    let resp = h
        .apply(&Value::Null, plan.planned_state.expect("a plan"))
        .await;
    let error = the_error(&resp.diagnostics, "Provider not configured");
    assert!(error.detail.contains("not known yet"), "{}", error.detail);
    assert!(lock(&h.store).is_empty());
}

#[tokio::test]
async fn configure_provider_reports_a_failure_and_leaves_the_provider_unconfigured() {
    let mut h = serve().await;
    let resp = h
        .configure(provider_config(Value::from(""), Value::Null))
        .await;
    let error = the_error(&resp.diagnostics, "Missing endpoint");
    assert_eq!(error.attribute, Some(wire_path(vec![attr("endpoint")])));
    let read = h.read("test_thing", thing_dv(&created("a"))).await;
    the_error(&read.diagnostics, "Provider not configured");
}

#[tokio::test]
async fn configure_provider_answers_undecodable_config_with_an_error_diagnostic() {
    let mut h = serve().await;
    for (case, config) in undecodable() {
        let resp = h
            .client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.0.3".into(),
                config: Some(config),
                client_capabilities: None,
            })
            .await
            .expect("ConfigureProvider answers")
            .into_inner();
        assert_decode_error(&resp.diagnostics, case);
    }
    let read = h.read("test_thing", thing_dv(&created("a"))).await;
    the_error(&read.diagnostics, "Provider not configured");
}

// ---------------------------------------------------------------------------------------
// ReadResource
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn read_resource_refreshes_state_from_the_remote_object() {
    let mut h = serve_configured().await;
    let mut remote = created("a");
    remote.set("size", Value::int(9));
    remote.set("revision", Value::int(4));
    h.remember(&remote);
    let resp = h.read("test_thing", thing_dv(&created("a"))).await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(decoded_thing(resp.new_state.as_ref()), remote);
}

#[tokio::test]
async fn read_resource_returns_null_when_the_object_is_gone() {
    let mut h = serve_configured().await;
    let resp = h.read("test_thing", thing_dv(&created("a"))).await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(decoded_thing(resp.new_state.as_ref()), Value::Null);
}

#[tokio::test]
async fn read_resource_echoes_the_private_bytes() {
    let mut h = serve_configured().await;
    h.remember(&created("a"));
    let resp = h
        .client
        .read_resource(pb::read_resource::Request {
            type_name: "test_thing".into(),
            current_state: Some(thing_dv(&created("a"))),
            private: b"opaque \x00 bytes".to_vec(),
            ..Default::default()
        })
        .await
        .expect("ReadResource answers")
        .into_inner();
    assert_no_errors(&resp.diagnostics);
    assert_eq!(resp.private, b"opaque \x00 bytes");
}

#[tokio::test]
async fn read_resource_answers_bad_input_with_error_diagnostics() {
    let mut h = serve_configured().await;
    for (case, state) in undecodable() {
        let resp = h.read("test_thing", state.clone()).await;
        assert_decode_error(&resp.diagnostics, case);
        assert_eq!(resp.new_state, Some(state), "{case}: the state is kept");
    }
    let resp = h.read("test_nothing", thing_dv(&created("a"))).await;
    the_error(&resp.diagnostics, "Unknown resource type");
}

// ---------------------------------------------------------------------------------------
// PlanResourceChange
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn plan_create_sends_computed_values_as_msgpack_unknowns_and_applies_defaults() {
    let mut h = serve_configured().await;
    let mut config = thing_config("a");
    config.set("rule", Value::List(vec![rule(443, Value::Null)]));
    let resp = h.plan(&Value::Null, &config).await;
    assert_no_errors(&resp.diagnostics);
    assert!(resp.requires_replace.is_empty());
    for computed in ["id", "revision"] {
        assert_eq!(
            wire_attribute(resp.planned_state.as_ref(), computed),
            wire_unknown(),
            "{computed}"
        );
    }
    let planned = decoded_thing(resp.planned_state.as_ref());
    assert!(planned.get("id").is_unknown());
    assert_eq!(planned.get("mode"), &Value::from("fast"));
    assert_eq!(planned.get("size"), &Value::Null);
    assert_eq!(
        planned.get("rule"),
        &Value::List(vec![rule(443, Value::from("tcp"))])
    );
}

#[tokio::test]
async fn plan_fills_the_value_modify_plan_knows_at_plan_time() {
    let mut h = serve_configured().await;
    let resp = h.plan(&Value::Null, &thing_config("a")).await;
    assert_no_errors(&resp.diagnostics);
    let planned = decoded_thing(resp.planned_state.as_ref());
    assert_eq!(
        planned.get("url"),
        &Value::from(format!("{ENDPOINT}/things/a"))
    );
}

#[tokio::test]
async fn plan_without_changes_is_exactly_the_prior_state() {
    let mut h = serve_configured().await;
    let mut prior = created("a");
    prior.set("rule", Value::List(vec![rule(443, Value::from("tcp"))]));
    let mut config = thing_config("a");
    config.set("rule", Value::List(vec![rule(443, Value::Null)]));
    let resp = h.plan(&prior, &config).await;
    assert_no_errors(&resp.diagnostics);
    assert!(resp.requires_replace.is_empty());
    assert_eq!(decoded_thing(resp.planned_state.as_ref()), prior);
    assert_eq!(
        resp.planned_state.expect("a plan").msgpack,
        thing_dv(&prior).msgpack
    );
}

#[tokio::test]
async fn plan_update_keeps_the_id_and_marks_the_revision_unknown() {
    let mut h = serve_configured().await;
    let prior = created("a");
    let mut config = thing_config("a");
    config.set("size", Value::int(4));
    let resp = h.plan(&prior, &config).await;
    assert_no_errors(&resp.diagnostics);
    assert!(resp.requires_replace.is_empty());
    let planned = decoded_thing(resp.planned_state.as_ref());
    assert_eq!(planned.get("id"), &Value::from("id-a"));
    assert_eq!(planned.get("size"), &Value::int(4));
    assert_eq!(
        wire_attribute(resp.planned_state.as_ref(), "revision"),
        wire_unknown()
    );
}

#[tokio::test]
async fn plan_renaming_the_thing_requires_replacement_at_the_name_path() {
    let mut h = serve_configured().await;
    let resp = h.plan(&created("a"), &thing_config("b")).await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(resp.requires_replace, [wire_path(vec![attr("name")])]);
}

#[tokio::test]
async fn plan_destroy_plans_null_and_passes_private_bytes_through() {
    let mut h = serve_configured().await;
    let null = thing_dv(&Value::Null);
    let resp = h
        .client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: Some(thing_dv(&created("a"))),
            proposed_new_state: Some(null.clone()),
            config: Some(null),
            prior_private: b"kept".to_vec(),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange answers")
        .into_inner();
    assert_no_errors(&resp.diagnostics);
    assert_eq!(decoded_thing(resp.planned_state.as_ref()), Value::Null);
    assert_eq!(resp.planned_private, b"kept");
    assert!(resp.requires_replace.is_empty());
}

#[tokio::test]
async fn plan_resource_change_answers_bad_input_with_error_diagnostics() {
    let mut h = serve_configured().await;
    let good = || thing_dv(&thing_config("a"));
    for (case, bad) in undecodable() {
        for (position, resp) in [
            ("prior", h.plan_raw(bad.clone(), good(), good()).await),
            (
                "proposed",
                h.plan_raw(thing_dv(&Value::Null), bad.clone(), good())
                    .await,
            ),
            (
                "config",
                h.plan_raw(thing_dv(&Value::Null), good(), bad.clone())
                    .await,
            ),
        ] {
            assert_decode_error(&resp.diagnostics, &format!("{case} as {position}"));
            assert!(resp.planned_state.is_none(), "{case} as {position}");
        }
    }
    let resp = h
        .client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "test_nothing".into(),
            proposed_new_state: Some(good()),
            config: Some(good()),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange answers")
        .into_inner();
    the_error(&resp.diagnostics, "Unknown resource type");
}

// ---------------------------------------------------------------------------------------
// ApplyResourceChange
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn apply_creates_the_object_and_returns_wholly_known_state() {
    let mut h = serve_configured().await;
    let plan = h.plan(&Value::Null, &thing_config("a")).await;
    let resp = h
        .apply(&Value::Null, plan.planned_state.expect("a plan"))
        .await;
    assert_no_errors(&resp.diagnostics);
    let state = decoded_thing(resp.new_state.as_ref());
    assert_eq!(state, created("a"));
    assert!(state.is_wholly_known());
    assert_eq!(lock(&h.store).get("id-a"), Some(&state));
}

#[tokio::test]
async fn apply_updates_in_place_and_bumps_the_revision() {
    let mut h = serve_configured().await;
    let prior = created("a");
    h.remember(&prior);
    let mut config = thing_config("a");
    config.set("size", Value::int(4));
    let plan = h.plan(&prior, &config).await;
    let resp = h.apply(&prior, plan.planned_state.expect("a plan")).await;
    assert_no_errors(&resp.diagnostics);
    let state = decoded_thing(resp.new_state.as_ref());
    assert_eq!(state.get("id"), &Value::from("id-a"));
    assert_eq!(state.get("size"), &Value::int(4));
    assert_eq!(state.get("revision"), &Value::int(2));
    assert_eq!(lock(&h.store).get("id-a"), Some(&state));
}

#[tokio::test]
async fn apply_of_a_null_plan_deletes_and_returns_null() {
    let mut h = serve_configured().await;
    let prior = created("a");
    h.remember(&prior);
    let resp = h.apply(&prior, thing_dv(&Value::Null)).await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(decoded_thing(resp.new_state.as_ref()), Value::Null);
    assert!(lock(&h.store).is_empty());
}

#[tokio::test]
async fn apply_keeps_the_prior_state_when_delete_fails() {
    let mut h = serve_configured().await;
    let prior = created(UNDELETABLE);
    h.remember(&prior);
    let resp = h.apply(&prior, thing_dv(&Value::Null)).await;
    the_error(&resp.diagnostics, "Thing is protected");
    assert_eq!(decoded_thing(resp.new_state.as_ref()), prior);
    assert!(lock(&h.store).contains_key("id-undeletable"));
}

#[tokio::test]
async fn apply_returns_the_partial_state_with_an_error_when_create_fails_half_way() {
    let mut h = serve_configured().await;
    let plan = h.plan(&Value::Null, &thing_config(HALF_MADE)).await;
    let resp = h
        .apply(&Value::Null, plan.planned_state.expect("a plan"))
        .await;
    the_error(&resp.diagnostics, "Tagging failed");
    let state = decoded_thing(resp.new_state.as_ref());
    assert_eq!(state.get("id"), &Value::from("id-half-made"));
    assert_eq!(lock(&h.store).get("id-half-made"), Some(&state));
}

#[tokio::test]
async fn apply_returns_planned_private_as_private() {
    let mut h = serve_configured().await;
    let plan = h.plan(&Value::Null, &thing_config("a")).await;
    let resp = h
        .client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: Some(thing_dv(&Value::Null)),
            planned_state: plan.planned_state,
            planned_private: b"from the plan".to_vec(),
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange answers")
        .into_inner();
    assert_no_errors(&resp.diagnostics);
    assert_eq!(resp.private, b"from the plan");
}

#[tokio::test]
async fn apply_before_configure_says_the_provider_is_not_configured() {
    let mut h = serve().await;
    let resp = h.apply(&Value::Null, thing_dv(&thing_config("a"))).await;
    the_error(&resp.diagnostics, "Provider not configured");
    assert_eq!(decoded_thing(resp.new_state.as_ref()), Value::Null);
    assert!(lock(&h.store).is_empty());
}

#[tokio::test]
async fn apply_resource_change_answers_bad_input_with_error_diagnostics() {
    let mut h = serve_configured().await;
    let prior = created("a");
    for (case, bad) in undecodable() {
        let resp = h.apply_raw(bad.clone(), thing_dv(&prior)).await;
        assert_decode_error(&resp.diagnostics, &format!("{case} as prior"));
        assert_eq!(
            resp.new_state,
            Some(bad.clone()),
            "{case}: the prior state is kept"
        );
        let resp = h.apply_raw(thing_dv(&prior), bad).await;
        assert_decode_error(&resp.diagnostics, &format!("{case} as planned"));
        assert_eq!(decoded_thing(resp.new_state.as_ref()), prior, "{case}");
    }
    let resp = h
        .client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "test_nothing".into(),
            prior_state: Some(thing_dv(&prior)),
            planned_state: Some(thing_dv(&prior)),
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange answers")
        .into_inner();
    the_error(&resp.diagnostics, "Unknown resource type");
    assert!(lock(&h.store).is_empty());
}

// ---------------------------------------------------------------------------------------
// ImportResourceState, MoveResourceState
// ---------------------------------------------------------------------------------------

async fn import(h: &mut Harness, type_name: &str, id: &str) -> pb::import_resource_state::Response {
    h.client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: type_name.into(),
            id: id.into(),
            client_capabilities: None,
        })
        .await
        .expect("ImportResourceState answers")
        .into_inner()
}

#[tokio::test]
async fn import_resource_state_returns_the_state_under_its_type_name() {
    let mut h = serve_configured().await;
    h.remember(&created("a"));
    let resp = import(&mut h, "test_thing", "id-a").await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(resp.imported_resources.len(), 1);
    let imported = &resp.imported_resources[0];
    assert_eq!(imported.type_name, "test_thing");
    let state = decoded_thing(imported.state.as_ref());
    assert_eq!(state.get("id"), &Value::from("id-a"));
    // ReadResource completes the imported state.
    let read = h
        .read("test_thing", imported.state.clone().expect("state"))
        .await;
    assert_eq!(decoded_thing(read.new_state.as_ref()), created("a"));
}

#[tokio::test]
async fn import_resource_state_reports_an_unknown_id_as_an_error() {
    let mut h = serve_configured().await;
    let resp = import(&mut h, "test_thing", "id-missing").await;
    the_error(&resp.diagnostics, "Cannot import");
    assert!(resp.imported_resources.is_empty());
}

#[tokio::test]
async fn import_resource_state_answers_an_unknown_type_name_with_an_error_diagnostic() {
    let mut h = serve_configured().await;
    let resp = import(&mut h, "test_nothing", "id-a").await;
    the_error(&resp.diagnostics, "Unknown resource type");
    assert!(resp.imported_resources.is_empty());
}

#[tokio::test]
async fn move_resource_state_is_refused_with_an_error_diagnostic() {
    let mut h = serve_configured().await;
    let resp = h
        .client
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/other/old".into(),
            source_type_name: "old_thing".into(),
            source_schema_version: 0,
            source_state: Some(pb::RawState {
                json: STORED_JSON.as_bytes().to_vec(),
                flatmap: Default::default(),
            }),
            target_type_name: "test_thing".into(),
            source_private: Vec::new(),
        })
        .await
        .expect("MoveResourceState answers")
        .into_inner();
    the_error(&resp.diagnostics, "Moving state is not supported");
    assert!(resp.target_state.is_none());
}

// ---------------------------------------------------------------------------------------
// ReadDataSource
// ---------------------------------------------------------------------------------------

async fn read_info(
    h: &mut Harness,
    type_name: &str,
    config: pb::DynamicValue,
) -> pb::read_data_source::Response {
    h.client
        .read_data_source(pb::read_data_source::Request {
            type_name: type_name.into(),
            config: Some(config),
            ..Default::default()
        })
        .await
        .expect("ReadDataSource answers")
        .into_inner()
}

#[tokio::test]
async fn read_data_source_returns_the_config_with_computed_values_filled_in() {
    let mut h = serve_configured().await;
    h.remember(&created("a"));
    let resp = read_info(
        &mut h,
        "test_thing_info",
        dv(&info_config("id-a".into()), &info_type()),
    )
    .await;
    assert_no_errors(&resp.diagnostics);
    assert_eq!(
        decoded(resp.state.as_ref(), &info_type()),
        Value::object([
            ("id", Value::from("id-a")),
            ("name", Value::from("a")),
            ("revision", Value::int(1)),
        ])
    );
}

#[tokio::test]
async fn read_data_source_reports_the_data_source_error_without_state() {
    let mut h = serve().await;
    let resp = read_info(
        &mut h,
        "test_thing_info",
        dv(&info_config("id-a".into()), &info_type()),
    )
    .await;
    the_error(&resp.diagnostics, "Provider not configured");
    assert!(resp.state.is_none());
}

#[tokio::test]
async fn read_data_source_answers_bad_input_with_error_diagnostics() {
    let mut h = serve_configured().await;
    for (case, config) in undecodable() {
        let resp = read_info(&mut h, "test_thing_info", config).await;
        assert_decode_error(&resp.diagnostics, case);
        assert!(resp.state.is_none(), "{case}");
    }
    let resp = read_info(
        &mut h,
        "test_nothing",
        dv(&info_config("id-a".into()), &info_type()),
    )
    .await;
    the_error(&resp.diagnostics, "Unknown data source type");
}

// ---------------------------------------------------------------------------------------
// Ephemeral resources
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_ephemeral_resource_rpc_answers_with_an_error_diagnostic() {
    let mut h = serve_configured().await;
    let c = &mut h.client;
    let name = || "test_secret".to_owned();
    let validate = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: name(),
            config: None,
        })
        .await
        .expect("ValidateEphemeralResourceConfig answers")
        .into_inner();
    let open = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: name(),
            ..Default::default()
        })
        .await
        .expect("OpenEphemeralResource answers")
        .into_inner();
    let renew = c
        .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
            type_name: name(),
            private: Some(b"p".to_vec()),
        })
        .await
        .expect("RenewEphemeralResource answers")
        .into_inner();
    let close = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: name(),
            private: None,
        })
        .await
        .expect("CloseEphemeralResource answers")
        .into_inner();
    for diags in [
        &validate.diagnostics,
        &open.diagnostics,
        &renew.diagnostics,
        &close.diagnostics,
    ] {
        let error = the_error(diags, "Unknown ephemeral resource type");
        assert!(error.detail.contains("test_secret"), "{}", error.detail);
    }
    assert!(open.result.is_none() && open.private.is_none());
}

// ---------------------------------------------------------------------------------------
// CallFunction
// ---------------------------------------------------------------------------------------

fn number(n: f64) -> pb::DynamicValue {
    dv(&Value::number(n), &Type::Number)
}

#[tokio::test]
async fn call_function_returns_the_result() {
    let mut h = serve().await;
    let resp = h.call("divide", vec![number(7.0), number(2.0)]).await;
    assert!(resp.error.is_none(), "{:?}", resp.error);
    assert_eq!(
        decoded(resp.result.as_ref(), &Type::Number),
        Value::number(3.5)
    );
}

#[tokio::test]
async fn call_function_blames_the_argument_at_fault() {
    let mut h = serve().await;
    let resp = h.call("divide", vec![number(1.0), number(0.0)]).await;
    assert!(resp.result.is_none());
    let error = resp.error.expect("an error");
    assert_eq!(error.function_argument, Some(1));
    assert_eq!(error.text, "cannot divide by zero");
}

#[tokio::test]
async fn call_function_rejects_a_wrong_number_of_arguments() {
    let mut h = serve().await;
    for args in [
        vec![],
        vec![number(1.0)],
        vec![number(1.0), number(2.0), number(3.0)],
    ] {
        let count = args.len();
        let resp = h.call("divide", args).await;
        assert!(resp.result.is_none());
        let error = resp.error.expect("an error");
        assert_eq!(error.function_argument, None, "{count} arguments");
        assert!(error.text.contains("takes 2 arguments"), "{}", error.text);
    }
}

#[tokio::test]
async fn call_function_reports_an_unknown_function() {
    let mut h = serve().await;
    let resp = h.call("subtract", vec![number(1.0), number(2.0)]).await;
    assert!(resp.result.is_none());
    let error = resp.error.expect("an error");
    assert_eq!(error.function_argument, None);
    assert!(error.text.contains("\"subtract\""), "{}", error.text);
}

#[tokio::test]
async fn call_function_names_the_argument_that_cannot_be_decoded() {
    let mut h = serve().await;
    for (case, bad) in undecodable() {
        for index in [0_usize, 1] {
            let mut args = vec![number(1.0), number(2.0)];
            args[index] = bad.clone();
            let resp = h.call("add", args).await;
            assert!(resp.result.is_none(), "{case}");
            let error = resp.error.expect("an error");
            assert_eq!(error.function_argument, Some(index as i64), "{case}");
            assert!(
                error.text.starts_with("Invalid value for"),
                "{}",
                error.text
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// StopProvider
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn stop_provider_cancels_the_stop_token() {
    let mut h = serve_configured().await;
    assert!(!h.stop.is_cancelled());
    let resp = h
        .client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider answers")
        .into_inner();
    assert_eq!(resp.error, "");
    assert!(h.stop.is_cancelled());
}

#[tokio::test]
async fn after_stop_provider_the_next_configuration_gets_a_fresh_token() {
    let mut h = serve_configured().await;
    h.client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider answers");
    assert!(h.stop.is_cancelled());
    let next = h.server.stop_token();
    assert!(!next.is_cancelled(), "a later run is not stopped already");
    h.server.stop();
    assert!(next.is_cancelled(), "stop cancels the current token");
}
