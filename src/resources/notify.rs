//! `alarm_actions` and `ok_actions`, which both policy resources take: whom their alarms
//! tell, beside invoking their scaling policies, when they go into ALARM and back to OK
//! (for the backlog policy: when the service wakes from zero and when it drains to zero).

use crate::scaling::model::{Alarm, Notify, is_scaling_policy_arn};
use crate::tfplugin::{AttrPath, Attribute, Diagnostics, Type, Value};

/// The two attributes; `alarms` names the alarms they go on.
pub fn attributes(alarms: &str) -> [Attribute; 2] {
    [
        Attribute::optional("alarm_actions", Type::list(Type::String)).describe(&format!(
            "ARNs (SNS topics, usually) notified when {alarms} go into ALARM, besides the \
             scaling policy each invokes; at most {}.",
            Notify::MAX_ALARM
        )),
        Attribute::optional("ok_actions", Type::list(Type::String)).describe(&format!(
            "ARNs notified when {alarms} return to OK; at most {}.",
            Notify::MAX_OK
        )),
    ]
}

fn list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::List(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// The notifications a configuration (or plan, or state) asks for; `None` while unknown.
pub fn from(v: &Value) -> Option<Notify> {
    Some(Notify {
        alarm: list(v.get("alarm_actions"))?,
        ok: list(v.get("ok_actions"))?,
    })
}

/// Checks each ARN's shape (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`, what PutMetricAlarm
/// accepts), that none is a scaling policy (the resource adds its own), no repeats, and
/// CloudWatch's count limits, each at its attribute.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    for (attr, max) in [
        ("alarm_actions", Notify::MAX_ALARM),
        ("ok_actions", Notify::MAX_OK),
    ] {
        let items = config.get(attr).elements();
        if items.len() > max {
            diags.error_at(
                AttrPath::root(attr),
                "Too many actions",
                format!(
                    "CloudWatch takes at most 5 actions per alarm state{}; {attr} has {}.",
                    if attr == "alarm_actions" {
                        ", and one is the scaling policy the alarm invokes, which leaves 4"
                    } else {
                        ""
                    },
                    items.len()
                ),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let Some(arn) = item.as_str() else {
                continue;
            };
            let at = AttrPath::root(attr).index(i);
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() {
                diags.error_at(
                    at,
                    "Not an ARN",
                    format!(
                        "{arn:?} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), \
                         e.g. an SNS topic's arn:aws:sns:us-east-1:123456789012:ops."
                    ),
                );
            } else if is_scaling_policy_arn(arn) {
                diags.error_at(
                    at,
                    "A scaling policy is not a notification",
                    "Each alarm already invokes the scaling policy this resource makes; list \
                     only whom to tell."
                        .to_owned(),
                );
            } else if items[..i].iter().any(|x| x.as_str() == Some(arn)) {
                diags.error_at(at, "Repeated action", format!("{arn} is listed twice."));
            }
        }
    }
}

/// On import: the notifications an alarm AWS holds sends (its scaling policy left out),
/// null when there are none, as a configuration without them reads.
pub fn set_from_alarm(out: &mut Value, alarm: &Alarm) {
    let to_value = |arns: Vec<&String>| {
        if arns.is_empty() {
            Value::Null
        } else {
            Value::List(arns.into_iter().map(|a| Value::from(a.as_str())).collect())
        }
    };
    out.set(
        "alarm_actions",
        to_value(
            alarm
                .actions
                .iter()
                .filter(|a| !is_scaling_policy_arn(a))
                .collect(),
        ),
    );
    out.set("ok_actions", to_value(alarm.ok_actions.iter().collect()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(alarm: &[&str], ok: &[&str]) -> Vec<String> {
        let list = |xs: &[&str]| Value::List(xs.iter().map(|x| Value::from(*x)).collect());
        let config = Value::object([("alarm_actions", list(alarm)), ("ok_actions", list(ok))]);
        let mut d = Diagnostics::new();
        validate(&config, &mut d);
        d.iter()
            .map(|x| format!("{:?}: {}", x.attribute, x.summary))
            .collect()
    }

    #[test]
    fn arns_are_checked_one_by_one_and_counted() {
        let topic = "arn:aws:sns:us-east-1:123456789012:ops";
        assert!(errors(&[topic], &[topic]).is_empty());
        let e = errors(&["ops", topic, topic], &[]);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].contains("Not an ARN") && e[0].contains("alarm_actions"),
            "{e:?}"
        );
        assert!(e[1].contains("Repeated action"), "{e:?}");
        let policy = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:resource/ecs/service/c/s:policyName/p";
        assert!(errors(&[policy], &[])[0].contains("not a notification"));
        let five: Vec<String> = (0..5).map(|i| format!("{topic}{i}")).collect();
        let five: Vec<&str> = five.iter().map(String::as_str).collect();
        assert!(errors(&five, &[])[0].contains("Too many actions"));
        assert!(errors(&[], &five).is_empty(), "OK takes five");
    }

    #[test]
    fn unknown_lists_are_not_yet_known_and_null_is_none() {
        let v = Value::object([
            ("alarm_actions", Value::Unknown),
            ("ok_actions", Value::Null),
        ]);
        assert_eq!(from(&v), None);
        let v = Value::object([("alarm_actions", Value::Null), ("ok_actions", Value::Null)]);
        assert_eq!(from(&v), Some(Notify::default()));
    }
}
