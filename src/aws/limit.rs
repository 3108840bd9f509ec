//! Client-side pacing of AWS requests: one token bucket per AWS request quota, shared by
//! every resource of the provider process, so that Terraform applying or refreshing many
//! resources at once stays under the account's quotas instead of being throttled by AWS
//! and retrying. Owns the quotas, their sources and what each operation costs; knows
//! nothing of Terraform. Throttling that still happens (other clients share the account's
//! quotas) is retried by the SDK's adaptive retry mode (see `provider/client.rs`).
//!
//! A request takes its tokens when it is about to be sent; when a bucket is short, the
//! request reserves the tokens anyway and waits until they have been refilled, so waiting
//! requests are served in arrival order and a burst is spread evenly at the bucket's rate.
//! A paginated read takes its tokens page by page ([`Paced::for_each_page`]).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_async::future::pagination_stream::PaginationStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;

/// An AWS request quota, per account and region: a bucket of tokens that requests take
/// from and that refills at a steady rate.
///
/// CloudWatch's alarm quotas are from *CloudWatch service quotas*
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>):
/// "N transactions per second (TPS) per Region … the maximum number of operation requests
/// you can make per second without being throttled". No burst is published, so none is
/// assumed: a bucket of one token refilled at N per second, which spaces requests 1/N s
/// apart and never puts more than N into any one second. ECS's quotas are from *Request
/// throttling for the Amazon ECS API*
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html>),
/// which gives each category's bucket size (burst) and refill rate. Where AWS publishes no
/// rate, the variant says what is assumed, with no burst either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quota {
    /// CloudWatch `DescribeAlarms`: 9 TPS per region (adjustable).
    DescribeAlarms,
    /// CloudWatch `PutMetricAlarm`: 3 TPS per region (adjustable).
    PutMetricAlarm,
    /// CloudWatch `DeleteAlarms`: 3 TPS per region (AWS: "cannot be changed").
    DeleteAlarms,
    /// CloudWatch `ListTagsForResource`. CloudWatch publishes no rate for its tagging
    /// operations; assumed: 9 TPS, the rate of the alarm reads it does publish
    /// (`DescribeAlarms`, `DescribeAlarmsForMetric`).
    CloudWatchTagReads,
    /// CloudWatch `TagResource` and `UntagResource` (one bucket). No published rate;
    /// assumed: 3 TPS, the rate of every alarm write it publishes (`PutMetricAlarm`,
    /// `DeleteAlarms`, `SetAlarmState`, `EnableAlarmActions`, `DisableAlarmActions`).
    CloudWatchTagWrites,
    /// Every Application Auto Scaling operation (one bucket). AWS publishes no rate; its
    /// knowledge-center article *Why are my Auto Scaling API calls throttled?*
    /// (<https://repost.aws/knowledge-center/autoscaling-api-calls-throttled>) says each of
    /// the auto scaling services has its own throttle bucket, shared by all of that
    /// service's calls. Assumed: 10 requests per second.
    ApplicationAutoScaling,
    /// ECS "Service read actions" (`DescribeServices`, `ListServices`): bucket 100,
    /// refill 20 per second.
    EcsServiceReads,
    /// ECS "Cluster read actions" (`DescribeClusters`, `ListClusters`): bucket 50, refill
    /// 20 per second.
    EcsClusterReads,
    /// SQS `GetQueueUrl`. The SQS quotas pages give rates only for messages (standard
    /// queues: "nearly unlimited") and tagging (5 TPS); assumed: 20 per second.
    SqsGetQueueUrl,
    /// EventBridge Scheduler `GetSchedule`, `CreateSchedule`, `UpdateSchedule`,
    /// `DeleteSchedule` (one bucket). Its quotas page gives each operation its own rate,
    /// 50 TPS in every region in one version and 250 to 5,000 in the current one; assumed:
    /// 50 per second for all of them together.
    Scheduler,
}

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Tokens added per second (the sustained rate).
    pub per_second: u32,
    /// Most tokens the bucket holds (the burst).
    pub burst: u32,
}

impl Quota {
    /// Every quota, in documentation order.
    pub const ALL: [Quota; 10] = [
        Quota::DescribeAlarms,
        Quota::PutMetricAlarm,
        Quota::DeleteAlarms,
        Quota::CloudWatchTagReads,
        Quota::CloudWatchTagWrites,
        Quota::ApplicationAutoScaling,
        Quota::EcsServiceReads,
        Quota::EcsClusterReads,
        Quota::SqsGetQueueUrl,
        Quota::Scheduler,
    ];

    /// The attribute of the provider's `rate_limits` block that sets this quota.
    pub fn attribute(self) -> &'static str {
        match self {
            Quota::DescribeAlarms => "describe_alarms",
            Quota::PutMetricAlarm => "put_metric_alarm",
            Quota::DeleteAlarms => "delete_alarms",
            Quota::CloudWatchTagReads => "cloudwatch_tag_reads",
            Quota::CloudWatchTagWrites => "cloudwatch_tag_writes",
            Quota::ApplicationAutoScaling => "application_auto_scaling",
            Quota::EcsServiceReads => "ecs_service_reads",
            Quota::EcsClusterReads => "ecs_cluster_reads",
            Quota::SqsGetQueueUrl => "sqs_get_queue_url",
            Quota::Scheduler => "scheduler",
        }
    }

    /// What the quota covers and where its default comes from, for the schema.
    pub fn description(self) -> &'static str {
        match self {
            Quota::DescribeAlarms => {
                "CloudWatch `DescribeAlarms` requests per second (also taken by Application \
                 Auto Scaling `DescribeScalingPolicies`, which reads the policies' alarms on \
                 the account's behalf). Default 9, CloudWatch's published quota, which can be \
                 raised."
            }
            Quota::PutMetricAlarm => {
                "CloudWatch `PutMetricAlarm` requests per second (also taken twice by a \
                 target-tracking `PutScalingPolicy`, for the alarms Application Auto Scaling \
                 writes). Default 3, CloudWatch's published quota, which can be raised."
            }
            Quota::DeleteAlarms => {
                "CloudWatch `DeleteAlarms` requests per second (also taken by \
                 `DeleteScalingPolicy` and `DeregisterScalableTarget`). Default 3, \
                 CloudWatch's published quota, which AWS does not raise."
            }
            Quota::CloudWatchTagReads => {
                "CloudWatch `ListTagsForResource` requests per second. Default 9 (CloudWatch \
                 publishes no rate; assumed equal to `DescribeAlarms`)."
            }
            Quota::CloudWatchTagWrites => {
                "CloudWatch `TagResource` and `UntagResource` requests per second, together. \
                 Default 3 (CloudWatch publishes no rate; assumed equal to its alarm writes)."
            }
            Quota::ApplicationAutoScaling => {
                "Application Auto Scaling requests per second, all operations together. \
                 Default 10 (AWS publishes no rate)."
            }
            Quota::EcsServiceReads => {
                "ECS `DescribeServices` requests per second. Default 20 with bursts of 100, \
                 ECS's published quota for service reads."
            }
            Quota::EcsClusterReads => {
                "ECS `DescribeClusters` requests per second. Default 20 with bursts of 50, \
                 ECS's published quota for cluster reads."
            }
            Quota::SqsGetQueueUrl => {
                "SQS `GetQueueUrl` requests per second. Default 20 (SQS publishes no rate)."
            }
            Quota::Scheduler => {
                "EventBridge Scheduler requests per second (`keep_queue_active` schedules), \
                 all operations together. Default 50, the lowest rate its quotas page has \
                 published."
            }
        }
    }

    /// The default bucket: AWS's published quota, or the assumption named on the variant.
    pub fn default_rate(self) -> Rate {
        let (per_second, burst) = match self {
            Quota::DescribeAlarms | Quota::CloudWatchTagReads => (9, 1),
            Quota::PutMetricAlarm | Quota::DeleteAlarms | Quota::CloudWatchTagWrites => (3, 1),
            Quota::ApplicationAutoScaling => (10, 1),
            Quota::EcsServiceReads => (20, 100),
            Quota::EcsClusterReads => (20, 50),
            Quota::SqsGetQueueUrl => (20, 1),
            Quota::Scheduler => (50, 1),
        };
        Rate { per_second, burst }
    }

    /// The bucket for a configured rate: refilled at `per_second`, with the default burst.
    pub fn rate(self, per_second: u32) -> Rate {
        Rate {
            per_second,
            burst: self.default_rate().burst,
        }
    }
}

/// An AWS operation this provider calls, with what it takes from which quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Application Auto Scaling `DescribeScalableTargets`.
    DescribeScalableTargets,
    /// Application Auto Scaling `RegisterScalableTarget`.
    RegisterScalableTarget,
    /// Application Auto Scaling `DeregisterScalableTarget`.
    DeregisterScalableTarget,
    /// Application Auto Scaling `DescribeScalingPolicies`.
    DescribeScalingPolicies,
    /// Application Auto Scaling `PutScalingPolicy` of a step scaling policy.
    PutStepScalingPolicy,
    /// Application Auto Scaling `PutScalingPolicy` of a target-tracking policy.
    PutTargetTrackingPolicy,
    /// Application Auto Scaling `DeleteScalingPolicy`.
    DeleteScalingPolicy,
    /// Application Auto Scaling `ListTagsForResource`.
    ListScalableTargetTags,
    /// Application Auto Scaling `TagResource` or `UntagResource`.
    TagScalableTarget,
    /// CloudWatch `DescribeAlarms`.
    DescribeAlarms,
    /// CloudWatch `PutMetricAlarm`.
    PutMetricAlarm,
    /// CloudWatch `DeleteAlarms`.
    DeleteAlarms,
    /// CloudWatch `ListTagsForResource`.
    ListAlarmTags,
    /// CloudWatch `TagResource` or `UntagResource`.
    TagAlarm,
    /// ECS `DescribeServices`.
    DescribeServices,
    /// ECS `DescribeClusters`.
    DescribeClusters,
    /// SQS `GetQueueUrl`.
    GetQueueUrl,
    /// EventBridge Scheduler `GetSchedule`.
    GetSchedule,
    /// EventBridge Scheduler `CreateSchedule`.
    CreateSchedule,
    /// EventBridge Scheduler `UpdateSchedule`.
    UpdateSchedule,
    /// EventBridge Scheduler `DeleteSchedule`.
    DeleteSchedule,
}

impl Op {
    /// The tokens the operation takes, per quota.
    ///
    /// Application Auto Scaling calls CloudWatch on the account's behalf, and CloudWatch
    /// throttles those calls too: `DescribeScalingPolicies` fails with "Unable to retrieve
    /// alarms for scaling policy … Rate exceeded (Service: AmazonCloudWatch)"
    /// (hashicorp/terraform-provider-aws#1428, aws/aws-sdk-go#1472) and a target-tracking
    /// `PutScalingPolicy` with "Unable to create alarms for scaling policy … Rate exceeded"
    /// (hashicorp/terraform-provider-aws#2275). So those operations also take from the
    /// CloudWatch quotas. Assumed, as AWS does not say how many calls it makes: one
    /// `DescribeAlarms` per `DescribeScalingPolicies`; two `PutMetricAlarm` per
    /// target-tracking `PutScalingPolicy` (its high and low alarms); one `DeleteAlarms`
    /// per `DeleteScalingPolicy` and `DeregisterScalableTarget` (which delete a
    /// target-tracking policy's alarms).
    pub fn costs(self) -> &'static [(Quota, u32)] {
        use Quota as Q;
        const AAS: (Quota, u32) = (Q::ApplicationAutoScaling, 1);
        match self {
            Op::DescribeScalableTargets
            | Op::RegisterScalableTarget
            | Op::PutStepScalingPolicy
            | Op::ListScalableTargetTags
            | Op::TagScalableTarget => &[AAS],
            Op::DescribeScalingPolicies => &[AAS, (Q::DescribeAlarms, 1)],
            Op::PutTargetTrackingPolicy => &[AAS, (Q::PutMetricAlarm, 2)],
            Op::DeleteScalingPolicy | Op::DeregisterScalableTarget => &[AAS, (Q::DeleteAlarms, 1)],
            Op::DescribeAlarms => &[(Q::DescribeAlarms, 1)],
            Op::PutMetricAlarm => &[(Q::PutMetricAlarm, 1)],
            Op::DeleteAlarms => &[(Q::DeleteAlarms, 1)],
            Op::ListAlarmTags => &[(Q::CloudWatchTagReads, 1)],
            Op::TagAlarm => &[(Q::CloudWatchTagWrites, 1)],
            Op::DescribeServices => &[(Q::EcsServiceReads, 1)],
            Op::DescribeClusters => &[(Q::EcsClusterReads, 1)],
            Op::GetQueueUrl => &[(Q::SqsGetQueueUrl, 1)],
            Op::GetSchedule | Op::CreateSchedule | Op::UpdateSchedule | Op::DeleteSchedule => {
                &[(Q::Scheduler, 1)]
            }
        }
    }
}

/// One quota's bucket.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// Tokens now (negative: reserved by requests still waiting) and when that was.
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            rate,
            state: Mutex::new((f64::from(rate.burst), now)),
        }
    }

    /// Takes `n` tokens and says how long the request must wait for them to be refilled.
    fn reserve(&self, n: u32, now: Instant) -> Duration {
        let per_second = f64::from(self.rate.per_second.max(1));
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, at) = *state;
        let refilled = (tokens + now.saturating_duration_since(at).as_secs_f64() * per_second)
            .min(f64::from(self.rate.burst));
        let left = refilled - f64::from(n);
        *state = (left, now);
        if left >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-left / per_second)
        }
    }
}

/// The buckets of every quota, shared by all clients of one provider process.
#[derive(Debug)]
pub struct Limits {
    buckets: BTreeMap<Quota, Bucket>,
}

impl Limits {
    /// Buckets at AWS's quotas, with `configured` requests per second replacing the
    /// defaults of the quotas it names. Each bucket starts full.
    pub fn new(configured: &BTreeMap<Quota, u32>) -> Limits {
        let now = Instant::now();
        let buckets = Quota::ALL
            .iter()
            .map(|q| {
                let rate = configured
                    .get(q)
                    .map_or_else(|| q.default_rate(), |r| q.rate(*r));
                (*q, Bucket::new(rate, now))
            })
            .collect();
        Limits { buckets }
    }

    /// The bucket `quota` uses.
    pub fn rate(&self, quota: Quota) -> Option<Rate> {
        self.buckets.get(&quota).map(|b| b.rate)
    }

    /// Takes `op`'s tokens from each of its quotas and returns how long to wait before
    /// sending it (the longest wait of its quotas).
    fn reserve(&self, op: Op) -> Duration {
        let now = Instant::now();
        op.costs()
            .iter()
            .filter_map(|(q, n)| self.buckets.get(q).map(|b| b.reserve(*n, now)))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Waits until `op` may be sent without exceeding its quotas, or until `stop` is
    /// cancelled.
    ///
    /// # Errors
    /// [`AwsError::Stopped`] when Terraform asks the provider to stop while it waits.
    pub async fn until_ready(&self, op: Op, stop: &CancellationToken) -> Result<(), AwsError> {
        let wait = self.reserve(op);
        if wait.is_zero() {
            return Ok(());
        }
        tracing::trace!(?op, ?wait, "pacing request to stay under the AWS quota");
        tokio::select! {
            () = stop.cancelled() => Err(AwsError::Stopped {
                action: "waiting for the request rate quota",
                id: format!("{op:?}"),
            }),
            () = tokio::time::sleep(wait) => Ok(()),
        }
    }
}

/// An SDK client paced by the process's [`Limits`]: dereferences to the client; call
/// [`Paced::pace`] before each request.
#[derive(Debug, Clone)]
pub struct Paced<C> {
    client: C,
    limits: Arc<Limits>,
    stop: CancellationToken,
}

impl<C> Paced<C> {
    /// `client` paced by `limits`; waits end early when `stop` is cancelled.
    pub fn new(client: C, limits: Arc<Limits>, stop: CancellationToken) -> Paced<C> {
        Paced {
            client,
            limits,
            stop,
        }
    }

    /// Waits until `op` may be sent (see [`Limits::until_ready`]).
    ///
    /// # Errors
    /// [`AwsError::Stopped`] when Terraform asks the provider to stop while it waits.
    pub async fn pace(&self, op: Op) -> Result<(), AwsError> {
        self.limits.until_ready(op, &self.stop).await
    }

    /// Reads every page of a paginated `op` from an SDK paginator
    /// (`.into_paginator().send()` on a fluent builder), pacing each page's request as
    /// [`Paced::pace`] paces a single call.
    ///
    /// The paginator sends its next request only when the next page is asked for, so
    /// pacing before each ask paces each request. `more` tells from a page whether the
    /// paginator will send another request (the page has a non-empty next token); without
    /// it, the wait for a further request that never comes would take a token from the
    /// bucket. `map_err` maps a failed page as the caller maps a failed single call;
    /// `page` receives each answer in order. The first error ends the read.
    ///
    /// # Errors
    /// [`AwsError::Stopped`] when Terraform asks the provider to stop while a request
    /// waits for its quota; a failed page, as `map_err` maps it.
    pub async fn for_each_page<T, E>(
        &self,
        op: Op,
        mut pages: PaginationStream<Result<T, E>>,
        more: impl Fn(&T) -> bool,
        map_err: impl Fn(E) -> AwsError,
        mut page: impl FnMut(T),
    ) -> Result<(), AwsError> {
        loop {
            self.pace(op).await?;
            let Some(answer) = pages.next().await else {
                return Ok(());
            };
            let out = answer.map_err(&map_err)?;
            let again = more(&out);
            page(out);
            if !again {
                return Ok(());
            }
        }
    }
}

/// Whether a paginated answer's next token asks for another page (the SDK's paginators
/// stop at a missing or empty token).
#[must_use]
pub fn has_next_token(token: Option<&str>) -> bool {
    token.is_some_and(|t| !t.is_empty())
}

impl<C> Deref for Paced<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each of `n` requests of `op`, started together, may be sent (milliseconds
    /// from the start, sorted).
    async fn send_times(limits: Arc<Limits>, op: Op, n: usize) -> Vec<u128> {
        let start = Instant::now();
        let stop = CancellationToken::new();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (limits, stop) = (limits.clone(), stop.clone());
                tokio::spawn(async move {
                    limits
                        .until_ready(op, &stop)
                        .await
                        .map(|()| start.elapsed())
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            let took = t.await.expect("task").expect("not stopped");
            out.push(took.as_millis());
        }
        out.sort_unstable();
        out
    }

    /// Whether `got` is `want` to the timer's millisecond.
    fn near(got: u128, want: f64) -> bool {
        (got as f64 - want).abs() <= 1.0
    }

    fn defaults() -> Arc<Limits> {
        Arc::new(Limits::new(&BTreeMap::new()))
    }

    #[tokio::test(start_paused = true)]
    async fn requests_started_together_leave_at_the_quota_rate() {
        let times = send_times(defaults(), Op::PutMetricAlarm, 9).await;
        // PutMetricAlarm: 3 per second, one every 1/3 s.
        for (k, t) in times.iter().enumerate() {
            assert!(near(*t, k as f64 * 1000.0 / 3.0), "{times:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_second_holds_more_requests_than_the_quota() {
        let times = send_times(defaults(), Op::DescribeAlarms, 100).await;
        // DescribeAlarms: 9 per second. Any 10 requests span a second or more.
        for w in times.windows(10) {
            assert!(w[9] - w[0] >= 999, "10 requests within a second: {w:?}");
        }
        assert!(near(times[99], 99.0 * 1000.0 / 9.0), "{}", times[99]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_published_burst_goes_at_once() {
        // ECS service reads: bucket 100, refill 20 per second.
        let times = send_times(defaults(), Op::DescribeServices, 120).await;
        assert_eq!(times[99], 0, "the first 100 at once");
        for (k, t) in times[100..].iter().enumerate() {
            assert!(near(*t, (k + 1) as f64 * 50.0), "{:?}", &times[100..]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_up_to_its_burst_only() {
        let limits = defaults();
        let stop = CancellationToken::new();
        for _ in 0..20 {
            limits
                .until_ready(Op::DescribeClusters, &stop)
                .await
                .expect("ready");
        }
        tokio::time::advance(Duration::from_secs(600)).await;
        // Ten idle minutes refill 50 tokens (the burst), not 12,000.
        for _ in 0..50 {
            assert_eq!(limits.reserve(Op::DescribeClusters), Duration::ZERO);
        }
        assert_eq!(limits.reserve(Op::DescribeClusters).as_millis(), 50);
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_waits_for_the_slowest_of_its_quotas() {
        let limits = defaults();
        assert_eq!(limits.reserve(Op::DescribeAlarms), Duration::ZERO);
        assert_eq!(limits.reserve(Op::DescribeScalableTargets), Duration::ZERO);
        // DescribeScalingPolicies takes from Application Auto Scaling (next token in
        // 1/10 s) and from DescribeAlarms (next token in 1/9 s).
        assert_eq!(limits.reserve(Op::DescribeScalingPolicies).as_millis(), 111);
        // A target-tracking policy takes two PutMetricAlarm tokens, so the next alarm
        // waits for two refills.
        assert_eq!(limits.reserve(Op::PutTargetTrackingPolicy).as_millis(), 333);
        assert_eq!(limits.reserve(Op::PutMetricAlarm).as_millis(), 666);
    }

    #[tokio::test(start_paused = true)]
    async fn a_configured_rate_replaces_the_default() {
        let limits = Arc::new(Limits::new(&BTreeMap::from([(Quota::PutMetricAlarm, 10)])));
        assert_eq!(
            limits.rate(Quota::PutMetricAlarm),
            Some(Quota::PutMetricAlarm.rate(10))
        );
        assert_eq!(
            limits.rate(Quota::DeleteAlarms),
            Some(Quota::DeleteAlarms.default_rate())
        );
        let times = send_times(limits, Op::PutMetricAlarm, 12).await;
        for (k, t) in times.iter().enumerate() {
            assert!(near(*t, k as f64 * 100.0), "{times:?}");
        }
    }

    #[test]
    fn a_configured_rate_keeps_the_published_burst() {
        assert_eq!(
            Quota::EcsServiceReads.rate(40),
            Rate {
                per_second: 40,
                burst: 100
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_request_ends_the_wait() {
        let limits = defaults();
        let stop = CancellationToken::new();
        limits
            .until_ready(Op::TagAlarm, &stop)
            .await
            .expect("ready");
        stop.cancel();
        let out = limits.until_ready(Op::TagAlarm, &stop).await;
        assert!(matches!(out, Err(AwsError::Stopped { .. })), "{out:?}");
    }

    /// A paginator over `pages` that counts the requests it sends, as the SDK's do: the
    /// next request goes out only when the next page is asked for.
    fn paginator(
        pages: Vec<Result<(u32, Option<&'static str>), &'static str>>,
        sent: Arc<Mutex<u32>>,
    ) -> PaginationStream<Result<(u32, Option<&'static str>), &'static str>> {
        use aws_smithy_async::future::pagination_stream::fn_stream::FnStream;
        PaginationStream::new(FnStream::new(move |tx| {
            Box::pin(async move {
                for page in pages {
                    *sent.lock().expect("count") += 1;
                    let done = page.is_err();
                    if tx.send(page).await.is_err() || done {
                        return;
                    }
                }
            })
        }))
    }

    fn paced(limits: Arc<Limits>) -> Paced<()> {
        Paced::new((), limits, CancellationToken::new())
    }

    fn stopped_read(e: &'static str) -> AwsError {
        AwsError::Stopped {
            action: "test",
            id: e.to_owned(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_page_is_read_in_order_and_each_request_is_paced() {
        let sent = Arc::new(Mutex::new(0));
        let pages = paginator(
            vec![Ok((1, Some("a"))), Ok((2, Some("b"))), Ok((3, None))],
            sent.clone(),
        );
        let client = paced(defaults());
        let start = Instant::now();
        let mut seen = Vec::new();
        client
            .for_each_page(
                Op::PutMetricAlarm,
                pages,
                |p| has_next_token(p.1),
                stopped_read,
                |p| seen.push((p.0, start.elapsed().as_millis())),
            )
            .await
            .expect("read");
        assert_eq!(*sent.lock().expect("count"), 3);
        // PutMetricAlarm has a burst of 3 at 3 per second: three requests go at once, and a
        // fourth reservation after the last page would make the next call wait 1/3 s.
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3]);
        let next = send_times(client.limits.clone(), Op::PutMetricAlarm, 1).await;
        assert!(near(next[0], 1000.0 / 3.0), "{next:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_page_ends_the_read_with_the_mapped_error() {
        let sent = Arc::new(Mutex::new(0));
        let pages = paginator(
            vec![Ok((1, Some("a"))), Err("throttled"), Ok((3, None))],
            sent.clone(),
        );
        let mut seen = Vec::new();
        let out = paced(defaults())
            .for_each_page(
                Op::DescribeAlarms,
                pages,
                |p| has_next_token(p.1),
                stopped_read,
                |p| seen.push(p.0),
            )
            .await;
        assert!(
            matches!(&out, Err(AwsError::Stopped { id, .. }) if id == "throttled"),
            "{out:?}"
        );
        assert_eq!(seen, [1]);
        assert_eq!(*sent.lock().expect("count"), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_request_ends_a_paged_read_while_it_waits_for_its_quota() {
        let sent = Arc::new(Mutex::new(0));
        let pages = paginator(
            (0..5).map(|i| Ok((i, Some("more")))).collect(),
            sent.clone(),
        );
        let stop = CancellationToken::new();
        let client = Paced::new((), defaults(), stop.clone());
        let mut seen = 0;
        let out = client
            .for_each_page(
                Op::PutMetricAlarm,
                pages,
                |p| has_next_token(p.1),
                stopped_read,
                |_| {
                    seen += 1;
                    // The burst of 3 is spent after the third page: the fourth waits.
                    if seen == 3 {
                        stop.cancel();
                    }
                },
            )
            .await;
        assert!(
            matches!(&out, Err(AwsError::Stopped { action, .. }) if action.contains("quota")),
            "{out:?}"
        );
        assert_eq!(*sent.lock().expect("count"), 3);
    }

    #[test]
    fn an_empty_or_missing_next_token_ends_the_pages() {
        assert!(has_next_token(Some("t")));
        assert!(!has_next_token(Some("")));
        assert!(!has_next_token(None));
    }

    #[test]
    fn every_quota_has_its_own_attribute() {
        let mut names: Vec<&str> = Quota::ALL.iter().map(|q| q.attribute()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Quota::ALL.len());
    }
}
