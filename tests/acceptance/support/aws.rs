//! AWS access for the tests themselves: clients, fixtures made through the SDK (a queue,
//! an ECS cluster, task definition and service — what a user's own stack would have),
//! checks that use the provider's own finders, and the sweeper.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use terraform_provider_queuescale::aws as qs;
use terraform_provider_queuescale::scaling::model::service_resource_id;

use super::emulator::{Backend, SERVICES, backend};

/// Prefix of every name a test creates (the sweeper deletes what carries it).
pub const PREFIX: &str = "qsacc-";

/// The region tests use against an emulator.
pub const REGION: &str = "us-east-1";

/// Runs a future to completion on a shared runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
    .block_on(f)
}

/// A unique name prefix for one test: `qsacc-<label>-<n>` (short enough for every AWS
/// name limit once suffixed).
pub fn unique_prefix(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let salt = std::process::id() % 10_000;
    format!("{PREFIX}{label}-{salt}{n:02}")
}

/// SDK clients for the backend, in the provider's paced form (so its finders take them),
/// at the highest rates it allows (10,000 requests per second): the tests' own calls are
/// not held back.
pub struct Clients {
    /// Application Auto Scaling.
    pub aas: qs::app_autoscaling::Client,
    /// CloudWatch.
    pub cloudwatch: qs::cloudwatch::Client,
    /// ECS.
    pub ecs: qs::ecs::Client,
    /// SQS.
    pub sqs: qs::sqs::Client,
    /// EventBridge Scheduler.
    pub scheduler: qs::scheduler::Client,
}

/// The access key id tests use against a local backend. In the split mode it is 12 digits:
/// LocalStack takes such a key as the account id, which then agrees with the emulator's
/// account (123456789012), so the alarm actions' policy ARNs belong to the alarms' account.
pub fn local_access_key() -> &'static str {
    match backend() {
        Backend::Split { .. } => "123456789012",
        _ => "testing",
    }
}

/// Shared clients.
pub fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let backend = backend();
        let sdk = block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if backend.is_local() {
                loader = loader
                    .region(Region::new(REGION))
                    .credentials_provider(Credentials::new(
                        local_access_key(),
                        "testing",
                        None,
                        None,
                        "tests",
                    ));
            }
            loader.load().await
        });
        let endpoint = |service| backend.endpoint_of(service).map(str::to_owned);
        let mut aas = aws_sdk_applicationautoscaling::config::Builder::from(&sdk);
        aas.set_endpoint_url(endpoint("APPLICATION_AUTO_SCALING"));
        let mut cloudwatch = aws_sdk_cloudwatch::config::Builder::from(&sdk);
        cloudwatch.set_endpoint_url(endpoint("CLOUDWATCH"));
        let mut ecs = aws_sdk_ecs::config::Builder::from(&sdk);
        ecs.set_endpoint_url(endpoint("ECS"));
        let mut sqs = aws_sdk_sqs::config::Builder::from(&sdk);
        sqs.set_endpoint_url(endpoint("SQS"));
        let mut scheduler = aws_sdk_scheduler::config::Builder::from(&sdk);
        scheduler.set_endpoint_url(endpoint("SCHEDULER"));
        let limits = std::sync::Arc::new(qs::limit::Limits::new(
            &qs::limit::Quota::ALL
                .iter()
                .map(|q| {
                    (
                        *q,
                        terraform_provider_queuescale::provider::config::MAX_RATE_LIMIT,
                    )
                })
                .collect(),
        ));
        let stop = tokio_util::sync::CancellationToken::new();
        Clients {
            aas: qs::limit::Paced::new(
                aws_sdk_applicationautoscaling::Client::from_conf(aas.build()),
                limits.clone(),
                stop.clone(),
            ),
            cloudwatch: qs::limit::Paced::new(
                aws_sdk_cloudwatch::Client::from_conf(cloudwatch.build()),
                limits.clone(),
                stop.clone(),
            ),
            ecs: qs::limit::Paced::new(
                aws_sdk_ecs::Client::from_conf(ecs.build()),
                limits.clone(),
                stop.clone(),
            ),
            sqs: qs::limit::Paced::new(
                aws_sdk_sqs::Client::from_conf(sqs.build()),
                limits.clone(),
                stop.clone(),
            ),
            scheduler: qs::limit::Paced::new(
                aws_sdk_scheduler::Client::from_conf(scheduler.build()),
                limits.clone(),
                stop.clone(),
            ),
        }
    })
}

/// Environment for Terraform (and so the provider) to reach the backend. Against a local
/// backend: fixed test credentials, no shared files, no instance metadata.
pub fn terraform_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let backend = backend();
    if backend.is_local() {
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", local_access_key()),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/queuescale-tests/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/queuescale-tests/credentials",
            ),
        ] {
            env.push((k.to_owned(), v.to_owned()));
        }
    }
    match backend {
        Backend::Split { .. } => {
            for service in SERVICES {
                if let Some(url) = backend.endpoint_of(service) {
                    env.push((format!("AWS_ENDPOINT_URL_{service}"), url.to_owned()));
                }
            }
        }
        other => {
            if let Some(url) = other.endpoint() {
                env.push(("AWS_ENDPOINT_URL".into(), url.to_owned()));
            }
        }
    }
    env
}

/// A queue and an ECS service to scale, deleted (best effort) when dropped.
pub struct ServiceFixture {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// Queue name.
    pub queue: String,
}

impl ServiceFixture {
    /// Creates a standard queue `<prefix>-jobs` (or FIFO with `.fifo`) and service
    /// `<prefix>-worker` in cluster `<prefix>` with desired count 0.
    pub fn create(prefix: &str, fifo: bool) -> ServiceFixture {
        let queue = if fifo {
            format!("{prefix}-jobs.fifo")
        } else {
            format!("{prefix}-jobs")
        };
        ServiceFixture::create_named(prefix, &format!("{prefix}-worker"), &queue)
    }

    /// Creates the queue (FIFO when the name ends in `.fifo`) and service with these names,
    /// in a cluster with Container Insights on.
    pub fn create_named(cluster: &str, service: &str, queue: &str) -> ServiceFixture {
        ServiceFixture::create_in(cluster, service, queue, true)
    }

    /// As [`ServiceFixture::create`], in a cluster with Container Insights off.
    pub fn create_without_insights(prefix: &str) -> ServiceFixture {
        let q = format!("{prefix}-jobs");
        ServiceFixture::create_in(prefix, &format!("{prefix}-worker"), &q, false)
    }

    fn create_in(cluster: &str, service: &str, queue: &str, insights: bool) -> ServiceFixture {
        let fifo = queue.ends_with(".fifo");
        let f = ServiceFixture {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
            queue: queue.to_owned(),
        };
        let c = clients();
        block_on(async {
            let mut q = c.sqs.create_queue().queue_name(&f.queue);
            if fifo {
                q = q.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
            }
            q.send().await.expect("create queue");
            c.ecs
                .create_cluster()
                .cluster_name(&f.cluster)
                .settings(
                    aws_sdk_ecs::types::ClusterSetting::builder()
                        .name(aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                        .value(if insights { "enabled" } else { "disabled" })
                        .build(),
                )
                .send()
                .await
                .expect("create cluster");
            let container = aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("worker")
                .image("public.ecr.aws/docker/library/busybox:latest")
                .memory(128)
                .essential(true)
                .build();
            c.ecs
                .register_task_definition()
                .family(&f.service)
                .container_definitions(container)
                .send()
                .await
                .expect("register task definition");
            c.ecs
                .create_service()
                .cluster(&f.cluster)
                .service_name(&f.service)
                .task_definition(&f.service)
                .desired_count(0)
                .send()
                .await
                .expect("create service");
        });
        f
    }

    /// The AAS resource id of the service.
    pub fn resource_id(&self) -> String {
        service_resource_id(&self.cluster, &self.service)
    }
}

impl Drop for ServiceFixture {
    fn drop(&mut self) {
        let c = clients();
        block_on(async {
            let _ = c
                .ecs
                .delete_service()
                .cluster(&self.cluster)
                .service(&self.service)
                .force(true)
                .send()
                .await;
            let _ = c.ecs.delete_cluster().cluster(&self.cluster).send().await;
        });
        delete_queue(&self.queue);
    }
}

/// Creates a standard queue.
pub fn create_queue(name: &str) {
    block_on(clients().sqs.create_queue().queue_name(name).send()).expect("create queue");
}

/// Deletes a queue if it exists (best effort, for clean-up).
pub fn delete_queue(name: &str) {
    let c = clients();
    block_on(async {
        if let Ok(url) = c.sqs.get_queue_url().queue_name(name).send().await
            && let Some(u) = url.queue_url()
        {
            let _ = c.sqs.delete_queue().queue_url(u).send().await;
        }
    });
}

/// The scalable target of a service, if registered (through the provider's finder).
pub fn scalable_target(resource_id: &str) -> Option<qs::app_autoscaling::ObservedTarget> {
    // Clients are made (with their own block_on) before entering the runtime.
    let c = clients();
    block_on(async {
        qs::optional(qs::app_autoscaling::find_scalable_target(&c.aas, resource_id).await)
    })
    .expect("describe scalable targets")
}

/// Tags on a scalable target.
pub fn target_tags(arn: &str) -> BTreeMap<String, String> {
    block_on(qs::app_autoscaling::list_tags(&clients().aas, arn)).expect("list tags")
}

/// Every scaling policy of a target.
pub fn policies(resource_id: &str) -> Vec<qs::app_autoscaling::ObservedPolicy> {
    block_on(qs::app_autoscaling::list_scaling_policies(
        &clients().aas,
        resource_id,
    ))
    .expect("describe policies")
}

/// Alarms whose names start with `prefix`.
pub fn alarms_with_prefix(prefix: &str) -> Vec<String> {
    let c = clients();
    block_on(alarm_names_with_prefix(&c.cloudwatch, prefix))
}

/// Changes a target's capacities behind Terraform's back.
pub fn set_capacities(resource_id: &str, min: i32, max: i32) {
    let c = clients();
    block_on(async {
        c.aas
            .register_scalable_target()
            .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
            .scalable_dimension(
                aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount,
            )
            .resource_id(resource_id)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .expect("register scalable target");
    });
}

/// Deregisters a target behind Terraform's back.
pub fn deregister(resource_id: &str) {
    block_on(qs::app_autoscaling::deregister_scalable_target(
        &clients().aas,
        resource_id,
    ))
    .expect("deregister");
}

/// Deletes everything carrying [`PREFIX`]: scalable targets (and so their policies),
/// alarms, ECS services and clusters, queues. Returns how many objects it deleted.
pub fn sweep() -> usize {
    let c = clients();
    block_on(async {
        let mut deleted = 0;
        let targets = c
            .aas
            .describe_scalable_targets()
            .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap_or_default();
        for t in targets.iter().filter(|t| t.resource_id().contains(PREFIX)) {
            if qs::app_autoscaling::deregister_scalable_target(&c.aas, t.resource_id())
                .await
                .is_ok()
            {
                deleted += 1;
            }
        }
        let alarms = alarm_names_with_prefix(&c.cloudwatch, PREFIX).await;
        deleted += alarms.len();
        let _ = qs::cloudwatch::delete_alarms(&c.cloudwatch, &alarms).await;
        if let Ok(list) = c.ecs.list_clusters().send().await {
            for arn in list.cluster_arns().iter().filter(|a| a.contains(PREFIX)) {
                if let Ok(svcs) = c.ecs.list_services().cluster(arn).send().await {
                    for s in svcs.service_arns() {
                        let _ = c
                            .ecs
                            .delete_service()
                            .cluster(arn)
                            .service(s)
                            .force(true)
                            .send()
                            .await;
                        deleted += 1;
                    }
                }
                let _ = c.ecs.delete_cluster().cluster(arn).send().await;
                deleted += 1;
            }
        }
        if let Ok(qs_) = c.sqs.list_queues().queue_name_prefix(PREFIX).send().await {
            for u in qs_.queue_urls() {
                let _ = c.sqs.delete_queue().queue_url(u).send().await;
                deleted += 1;
            }
        }
        deleted
    })
}

async fn alarm_names_with_prefix(cw: &aws_sdk_cloudwatch::Client, prefix: &str) -> Vec<String> {
    cw.describe_alarms()
        .alarm_name_prefix(prefix)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("describe alarms")
        .iter()
        .flat_map(|page| page.metric_alarms())
        .filter_map(|a| a.alarm_name().map(str::to_owned))
        .collect()
}
