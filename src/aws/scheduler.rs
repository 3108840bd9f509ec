//! EventBridge Scheduler: the schedule that keeps a backlog policy's queue active.
//!
//! SQS treats a queue as active "for up to six hours if it contains any messages or if any
//! action accesses it"; an inactive queue stops publishing, and its metrics are up to
//! 15 minutes late once it is used again (SQS developer guide, "Available CloudWatch
//! metrics for Amazon SQS"). A schedule whose universal target calls
//! `sqs:GetQueueAttributes` on the queue every few hours is such an action, at no cost
//! beyond the invocations (EventBridge Scheduler user guide, "Using universal targets":
//! target ARN `arn:aws:scheduler:::aws-sdk:SERVICE:apiAction`, the action's parameters as
//! the JSON `Input`, called as the schedule's execution role).

use aws_sdk_scheduler::types as t;

use super::error::AwsError;
use super::limit::{Op, Paced};

/// EventBridge Scheduler, paced under the account's quotas.
pub type Client = Paced<aws_sdk_scheduler::Client>;

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// The universal target that reads a queue's attributes.
pub const GET_QUEUE_ATTRIBUTES: &str = "arn:aws:scheduler:::aws-sdk:sqs:getQueueAttributes";

/// A schedule as this provider writes it (in the `default` group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Schedule name.
    pub name: String,
    /// Its description: the owner of the schedule.
    pub description: String,
    /// `rate(N hours)`.
    pub expression: String,
    /// The universal target's ARN.
    pub target_arn: String,
    /// The role EventBridge Scheduler calls the target as.
    pub role_arn: String,
    /// The target's parameters (JSON).
    pub input: String,
}

/// A schedule AWS holds, with its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedSchedule {
    /// Its configuration.
    pub schedule: Schedule,
    /// Its ARN.
    pub arn: String,
    /// Whether it is enabled.
    pub enabled: bool,
}

/// The schedule `name` (one GetSchedule call).
///
/// # Errors
/// [`AwsError::NotFound`] when there is none; API errors.
pub async fn find_schedule(client: &Client, name: &str) -> Result<ObservedSchedule, AwsError> {
    client.pace(Op::GetSchedule).await?;
    let out = client
        .get_schedule()
        .name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("reading schedule", "schedule", name, e, NOT_FOUND))?;
    let target = out.target();
    Ok(ObservedSchedule {
        schedule: Schedule {
            name: name.to_owned(),
            description: out.description().unwrap_or_default().to_owned(),
            expression: out.schedule_expression().unwrap_or_default().to_owned(),
            target_arn: target.map(|t| t.arn().to_owned()).unwrap_or_default(),
            role_arn: target.map(|t| t.role_arn().to_owned()).unwrap_or_default(),
            input: target
                .and_then(|t| t.input())
                .unwrap_or_default()
                .to_owned(),
        },
        arn: out.arn().unwrap_or_default().to_owned(),
        enabled: out.state() != Some(&t::ScheduleState::Disabled),
    })
}

/// A request the SDK's builders refuse (a required field left out): a defect here.
fn built_badly(id: &str, e: &dyn std::fmt::Display) -> AwsError {
    AwsError::Api {
        action: "writing schedule",
        id: id.to_owned(),
        code: None,
        message: e.to_string(),
    }
}

fn target(s: &Schedule) -> Result<t::Target, AwsError> {
    t::Target::builder()
        .arn(&s.target_arn)
        .role_arn(&s.role_arn)
        .input(&s.input)
        .build()
        .map_err(|e| built_badly(&s.name, &e))
}

fn window() -> Result<t::FlexibleTimeWindow, AwsError> {
    t::FlexibleTimeWindow::builder()
        .mode(t::FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| built_badly("flexible time window", &e))
}

/// Creates the schedule, enabled, or — when it exists — replaces its configuration
/// (UpdateSchedule replaces every field). Returns its ARN.
///
/// # Errors
/// API errors.
pub async fn put_schedule(client: &Client, s: &Schedule, exists: bool) -> Result<String, AwsError> {
    if exists {
        client.pace(Op::UpdateSchedule).await?;
        let out = client
            .update_schedule()
            .name(&s.name)
            .description(&s.description)
            .schedule_expression(&s.expression)
            .flexible_time_window(window()?)
            .target(target(s)?)
            .state(t::ScheduleState::Enabled)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("updating schedule", "schedule", &s.name, e, NOT_FOUND)
            })?;
        return Ok(out.schedule_arn().to_owned());
    }
    client.pace(Op::CreateSchedule).await?;
    let out = client
        .create_schedule()
        .name(&s.name)
        .description(&s.description)
        .schedule_expression(&s.expression)
        .flexible_time_window(window()?)
        .target(target(s)?)
        .state(t::ScheduleState::Enabled)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("creating schedule", "schedule", &s.name, e, &[]))?;
    Ok(out.schedule_arn().to_owned())
}

/// Deletes the schedule `name`.
///
/// # Errors
/// [`AwsError::NotFound`] when there is none; API errors.
pub async fn delete_schedule(client: &Client, name: &str) -> Result<(), AwsError> {
    client.pace(Op::DeleteSchedule).await?;
    client
        .delete_schedule()
        .name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("deleting schedule", "schedule", name, e, NOT_FOUND))?;
    Ok(())
}
