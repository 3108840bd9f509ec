//! How compiled policies and alarms appear in state and plans, shared by the
//! scaling-policy resources: one `policies` map keyed by purpose, each entry a policy
//! with the alarm that invokes it, both shown on one line (`scaling::show`), and one
//! `metrics` map listing every metric those lines name. A plan reads in one screen and
//! state stays small, while every field that changes what AWS does is in the text.
//!
//! Inside the provider the objects travel as [`Lists`]: one entry per policy and per
//! alarm, each with its purpose, name, ARN (null: does not exist; unknown: to be
//! written), text and the metrics it reads. Two entries with the same text and metrics
//! describe objects that behave the same ([`same_config`]).
//!
//! What the text leaves out — metric labels, the alarm's description — is compared when
//! the objects are read ([`detail_differs`]): when AWS holds something else there, the
//! text read back says so, so the plan shows a change and apply rewrites the object.

use std::collections::BTreeMap;

use crate::scaling::model::{Alarm, AlarmMetric, MetricQuery, Policy, is_scaling_policy_arn};
use crate::scaling::show::{self, Shown};
use crate::tfplugin::{Attribute, Nesting, Schema, Type, Value};

/// The `policies` attribute: by purpose, each policy and the alarm that invokes it.
pub fn policies_attribute(text: &str) -> Attribute {
    Attribute::computed_nested(
        "policies",
        Nesting::Map,
        vec![
            Attribute::computed("name", Type::String)
                .describe("Name of the scaling policy and of its alarm."),
            Attribute::computed("arn", Type::String).describe("ARN of the scaling policy."),
            Attribute::computed("does", Type::String).describe(
                "What the policy does: `keeps EXPRESSION at TARGET` (target tracking) or \
                 `ADJUSTMENT by breach: [lower, upper] → n, …` (step scaling; bounds relative \
                 to the alarm threshold), with cooldowns.",
            ),
            Attribute::computed("alarm", Type::String).describe(
                "When the alarm that invokes the policy fires: `EXPRESSION >= THRESHOLD for D \
                 of N periods of P s`, over the metrics in `metrics`. Null for target \
                 tracking, whose alarms Application Auto Scaling creates.",
            ),
            Attribute::computed("alarm_arn", Type::String).describe("ARN of the alarm."),
        ],
    )
    .describe(text)
}

/// The `metrics` attribute: every metric the `policies` texts name, by id.
pub fn metrics_attribute() -> Attribute {
    Attribute::computed("metrics", Type::map(Type::String)).describe(
        "The metrics the expressions in `policies` read, by id: `NAMESPACE METRIC \
         DIMENSION=VALUE…, STATISTIC` (with the period when it is not 60 s).",
    )
}

/// The policies and alarms of a resource, one entry each (see the module doc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lists {
    /// Policy entries.
    pub policies: Vec<Value>,
    /// Alarm entries.
    pub alarms: Vec<Value>,
}

fn entry(purpose: &str, name: &str, arn: Value, shown: Shown) -> Value {
    Value::object([
        ("purpose", Value::from(purpose)),
        ("name", Value::from(name)),
        ("arn", arn),
        ("text", Value::from(shown.text)),
        ("metrics", Value::string_map(&shown.metrics)),
    ])
}

/// A policy entry, with its ARN (null: does not exist; unknown: to be written).
pub fn policy_value(purpose: &str, p: &Policy, arn: Value) -> Value {
    entry(purpose, &p.name, arn, show::policy(p))
}

/// An alarm entry, with its ARN. Its actions are not part of it (they are its policy).
pub fn alarm_value(purpose: &str, a: &Alarm, arn: Value) -> Value {
    entry(purpose, &a.name, arn, show::alarm(a))
}

/// An alarm read from AWS: as [`alarm_value`], and when the scaling policy it invokes is
/// not exactly `policy_arn` the text says what it invokes instead.
pub fn observed_alarm_value(
    purpose: &str,
    a: &Alarm,
    arn: &str,
    policy_arn: Option<&str>,
) -> Value {
    let mut v = alarm_value(purpose, a, Value::from(arn));
    let policies: Vec<&str> = a
        .actions
        .iter()
        .map(String::as_str)
        .filter(|x| is_scaling_policy_arn(x))
        .collect();
    let invokes_its_policy =
        matches!((policies.as_slice(), policy_arn), ([one], Some(p)) if *one == p);
    if !invokes_its_policy {
        let actions = if policies.is_empty() {
            "no scaling policy".to_owned()
        } else {
            policies.join(", ")
        };
        append(
            &mut v,
            &format!(" — but it invokes {actions}, not its policy"),
        );
    }
    v
}

/// Adds `note` to an entry's text (what AWS holds differs from what the text shows).
pub fn append(entry: &mut Value, note: &str) {
    if let Some(t) = entry.get("text").as_str() {
        let t = format!("{t}{note}");
        entry.set("text", Value::from(t));
    }
}

/// What of `found` differs from `wanted` outside the text: metric labels, the
/// description. Empty when nothing does.
pub fn detail_differs(found: &Detail<'_>, wanted: &Detail<'_>) -> Vec<&'static str> {
    let labels = |qs: &[MetricQuery]| -> Vec<(String, Option<String>)> {
        qs.iter().map(|q| (q.id.clone(), q.label.clone())).collect()
    };
    let mut out = Vec::new();
    match (found, wanted) {
        (Detail::Alarm(f), Detail::Alarm(w)) => {
            if f.description != w.description {
                out.push("description");
            }
            if let (AlarmMetric::Math(a), AlarmMetric::Math(b)) = (&f.metric, &w.metric)
                && labels(a) != labels(b)
            {
                out.push("metric labels");
            }
        }
        (Detail::Policy(f), Detail::Policy(w)) => {
            if let (
                crate::scaling::model::PolicyKind::TargetTracking(a),
                crate::scaling::model::PolicyKind::TargetTracking(b),
            ) = (&f.kind, &w.kind)
                && labels(&a.metrics) != labels(&b.metrics)
            {
                out.push("metric labels");
            }
        }
        _ => {}
    }
    out
}

/// An object for [`detail_differs`].
#[derive(Debug, Clone, Copy)]
pub enum Detail<'a> {
    /// A scaling policy.
    Policy(&'a Policy),
    /// An alarm.
    Alarm(&'a Alarm),
}

/// Whether two entries describe the same configuration (ARNs aside): same name, text and
/// metrics.
pub fn same_config(a: &Value, b: &Value) -> bool {
    ["name", "text", "metrics"]
        .iter()
        .all(|k| a.get(k).is_wholly_known() && a.get(k).semantically_equal(b.get(k)))
}

/// The entry of a list with this `purpose`.
pub fn by_purpose<'a>(list: &'a [Value], purpose: &str) -> Option<&'a Value> {
    list.iter()
        .find(|e| e.get("purpose").as_str() == Some(purpose))
}

/// The ARN of an entry, when it is a known, non-null string.
pub fn arn_of(entry: Option<&Value>) -> Option<&str> {
    entry.and_then(|e| e.get("arn").as_str())
}

/// The metrics a text names, from the `metrics` map of its resource.
fn metrics_named(text: &Value, legend: &Value) -> Value {
    let Some(t) = text.as_str() else {
        return Value::Unknown;
    };
    let Some(all) = legend.entries() else {
        return if legend.is_unknown() {
            Value::Unknown
        } else {
            Value::Map(BTreeMap::new())
        };
    };
    let words = show::words(t);
    Value::Map(
        all.iter()
            .filter(|(id, _)| words.iter().any(|w| w == *id))
            .map(|(id, v)| (id.clone(), v.clone()))
            .collect(),
    )
}

/// Separates the purpose from the name in the key of an object recorded beside another
/// of the same purpose (object names never hold a `:`).
const OTHER_NAME: &str = ":";

/// The entries a state (or plan) records.
pub fn lists(state: &Value) -> Lists {
    let legend = state.get("metrics");
    let mut out = Lists::default();
    let Some(map) = state.get("policies").entries() else {
        return out;
    };
    for (key, e) in map {
        let purpose = key.split(OTHER_NAME).next().unwrap_or(key);
        let name = e.get("name").clone();
        let policy_text = e.get("does");
        if !e.get("arn").is_null() || !policy_text.is_null() {
            out.policies.push(Value::object([
                ("purpose", Value::from(purpose)),
                ("name", name.clone()),
                ("arn", e.get("arn").clone()),
                ("text", policy_text.clone()),
                ("metrics", metrics_named(policy_text, legend)),
            ]));
        }
        let alarm_text = e.get("alarm");
        if !e.get("alarm_arn").is_null() || !alarm_text.is_null() {
            out.alarms.push(Value::object([
                ("purpose", Value::from(purpose)),
                ("name", name),
                ("arn", e.get("alarm_arn").clone()),
                ("text", alarm_text.clone()),
                ("metrics", metrics_named(alarm_text, legend)),
            ]));
        }
    }
    out
}

/// Whether a state records no object at all.
pub fn is_empty(state: &Value) -> bool {
    let l = lists(state);
    l.policies.is_empty() && l.alarms.is_empty()
}

/// Records `lists` in `out`'s `policies` and `metrics`. A metric id two entries define
/// differently (only possible in objects changed outside Terraform) is listed with the
/// first definition, and the text of the other says what it reads there.
pub fn store(out: &mut Value, lists: &Lists) {
    let mut legend: BTreeMap<String, Value> = BTreeMap::new();
    let mut legend_unknown = false;
    let mut with_notes = |e: &Value| -> Value {
        let mut e = e.clone();
        match e.get("metrics").entries() {
            Some(m) => {
                let mut notes = String::new();
                for (id, def) in m {
                    match legend.get(id) {
                        Some(have) if !have.semantically_equal(def) => {
                            notes.push_str(&format!(
                                " — where {id} is {}",
                                def.as_str().unwrap_or("(not known yet)")
                            ));
                        }
                        Some(_) => {}
                        None => {
                            legend.insert(id.clone(), def.clone());
                        }
                    }
                }
                append(&mut e, &notes);
            }
            None => legend_unknown |= e.get("metrics").is_unknown(),
        }
        e
    };
    let policies: Vec<Value> = lists.policies.iter().map(&mut with_notes).collect();
    let alarms: Vec<Value> = lists.alarms.iter().map(&mut with_notes).collect();
    // One key per (purpose, name): the purpose alone for the first name seen (the wanted
    // object: wanted entries come first), `PURPOSE:NAME` for another, such as the object
    // under an old name a rename has not removed yet.
    let mut keys: Vec<((String, String), String)> = Vec::new();
    let mut key_of = |e: &Value| -> Option<String> {
        let purpose = e.get("purpose").as_str()?.to_owned();
        let name = e.get("name").as_str().unwrap_or_default().to_owned();
        if let Some((_, k)) = keys.iter().find(|(pn, _)| pn.0 == purpose && pn.1 == name) {
            return Some(k.clone());
        }
        let taken = keys.iter().any(|(pn, _)| pn.0 == purpose);
        let k = if taken {
            format!("{purpose}{OTHER_NAME}{name}")
        } else {
            purpose.clone()
        };
        keys.push(((purpose, name), k.clone()));
        Some(k)
    };
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    let blank = || {
        Value::object([
            ("name", Value::Null),
            ("arn", Value::Null),
            ("does", Value::Null),
            ("alarm", Value::Null),
            ("alarm_arn", Value::Null),
        ])
    };
    for p in &policies {
        let Some(key) = key_of(p) else { continue };
        let slot = map.entry(key).or_insert_with(blank);
        slot.set("name", p.get("name").clone());
        slot.set("arn", p.get("arn").clone());
        slot.set("does", p.get("text").clone());
    }
    for a in &alarms {
        let Some(key) = key_of(a) else { continue };
        let slot = map.entry(key).or_insert_with(blank);
        slot.set("name", a.get("name").clone());
        slot.set("alarm_arn", a.get("arn").clone());
        slot.set("alarm", a.get("text").clone());
    }
    out.set("policies", Value::Map(map));
    out.set(
        "metrics",
        if legend_unknown {
            Value::Unknown
        } else {
            Value::Map(legend)
        },
    );
}

/// Records that nothing is known yet of the objects.
pub fn store_unknown(out: &mut Value) {
    out.set("policies", Value::Unknown);
    out.set("metrics", Value::Unknown);
}

/// Records that no object exists.
pub fn store_none(out: &mut Value) {
    store(out, &Lists::default());
}

/// Plans the objects of a configuration some of whose inputs are unknown: `plan_of` runs
/// with each unknown string, number or boolean input set to two different values (and to
/// null, when that plans at all), and what comes out the same every time is known.
/// `None` when the objects themselves depend on the unknowns, or `plan_of` cannot plan.
pub fn plan_with_unknowns(
    schema: &Schema,
    planned: &Value,
    plan_of: impl Fn(&Value) -> Option<Lists>,
) -> Option<Lists> {
    let unknown: Vec<(&str, Type)> = schema
        .block
        .attributes
        .iter()
        .filter(|a| planned.get(&a.name).is_unknown())
        .map(|a| (a.name.as_str(), a.value_type()))
        .filter(|(_, t)| matches!(t, Type::String | Type::Number | Type::Bool))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let variant = |pick: usize| {
        let mut v = planned.clone();
        for (name, ty) in &unknown {
            let x = match (ty, pick) {
                (_, 2) => Value::Null,
                (Type::String, 0) => Value::from("a"),
                (Type::String, _) => Value::from("b"),
                (Type::Number, 0) => Value::int(2),
                (Type::Number, _) => Value::int(3),
                (_, 0) => Value::Bool(false),
                _ => Value::Bool(true),
            };
            v.set(name, x);
        }
        v
    };
    let first = plan_of(&variant(0))?;
    let second = plan_of(&variant(1))?;
    let mut merged = merge_unknowns(&first, &second)?;
    if let Some(third) = plan_of(&variant(2)) {
        merged = merge_unknowns(&merged, &third)?;
    }
    Some(merged)
}

/// Two plans of the same objects, from inputs that differ only where the configuration
/// is unknown, made into one: what is equal in both is known, the rest unknown. `None`
/// when they do not even plan the same objects.
pub fn merge_unknowns(a: &Lists, b: &Lists) -> Option<Lists> {
    let merge = |x: &[Value], y: &[Value]| -> Option<Vec<Value>> {
        if x.len() != y.len() {
            return None;
        }
        x.iter()
            .zip(y)
            .map(|(e, f)| {
                if e.get("purpose") != f.get("purpose") {
                    return None;
                }
                let mut m = e.clone();
                for k in ["name", "arn", "text"] {
                    if !e.get(k).semantically_equal(f.get(k)) {
                        m.set(k, Value::Unknown);
                    }
                }
                let metrics = match (e.get("metrics").entries(), f.get("metrics").entries()) {
                    (Some(p), Some(q)) if p.keys().eq(q.keys()) => Value::Map(
                        p.iter()
                            .map(|(id, v)| {
                                let same = q.get(id).is_some_and(|w| w.semantically_equal(v));
                                (id.clone(), if same { v.clone() } else { Value::Unknown })
                            })
                            .collect(),
                    ),
                    _ => Value::Unknown,
                };
                m.set("metrics", metrics);
                if !m.get("name").is_wholly_known() {
                    m.set("arn", Value::Unknown);
                }
                Some(m)
            })
            .collect()
    };
    Some(Lists {
        policies: merge(&a.policies, &b.policies)?,
        alarms: merge(&a.alarms, &b.alarms)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::backlog_policy::{compile, example_spec};
    use crate::tfplugin::msgpack;

    fn example_lists(arn: &Value) -> Lists {
        let c = compile(&example_spec());
        Lists {
            policies: c
                .policies
                .iter()
                .map(|(p, x)| policy_value(p.as_str(), x, arn.clone()))
                .collect(),
            alarms: c
                .alarms
                .iter()
                .map(|(p, x)| alarm_value(p.as_str(), x, arn.clone()))
                .collect(),
        }
    }

    fn state_type() -> Type {
        Type::object([
            ("policies", policies_attribute("").value_type()),
            ("metrics", metrics_attribute().value_type()),
        ])
    }

    #[test]
    fn stored_lists_fit_the_schema_and_read_back_the_same() {
        for arn in [Value::from("arn:1"), Value::Unknown, Value::Null] {
            let lists = example_lists(&arn);
            let mut state = Value::object([("policies", Value::Null), ("metrics", Value::Null)]);
            store(&mut state, &lists);
            assert!(msgpack::encode(&state, &state_type()).is_ok());
            let back = super::lists(&state);
            let key = |l: &Lists| {
                let mut k: Vec<String> = l
                    .policies
                    .iter()
                    .chain(&l.alarms)
                    .map(|e| format!("{e:?}"))
                    .collect();
                k.sort();
                k
            };
            if arn.is_null() {
                // Entries that neither exist nor are planned still show their text.
                assert_eq!(back.policies.len(), 3);
            }
            assert_eq!(key(&back), key(&lists), "arn {arn:?}");
        }
    }

    #[test]
    fn same_config_ignores_only_the_arn() {
        let a = example_lists(&Value::from("arn:1"));
        let b = example_lists(&Value::Unknown);
        assert!(same_config(&a.alarms[0], &b.alarms[0]));
        let mut c = b.alarms[0].clone();
        append(
            &mut c,
            " — but it invokes no scaling policy, not its policy",
        );
        assert!(!same_config(&a.alarms[0], &c));
        let mut d = b.alarms[0].clone();
        d.set("metrics", Value::Map(BTreeMap::new()));
        assert!(!same_config(&a.alarms[0], &d));
    }

    #[test]
    fn a_metric_defined_twice_differently_shows_in_the_text() {
        let mut lists = example_lists(&Value::from("arn:1"));
        let mut m = lists.alarms[1]
            .get("metrics")
            .entries()
            .cloned()
            .unwrap_or_default();
        m.insert("visible".into(), Value::from("AWS/SQS Other, Maximum"));
        lists.alarms[1].set("metrics", Value::Map(m));
        let mut state = Value::object([("policies", Value::Null), ("metrics", Value::Null)]);
        store(&mut state, &lists);
        let texts: Vec<&str> = state
            .get("policies")
            .entries()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|e| e.get("alarm").as_str())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.ends_with(" — where visible is AWS/SQS Other, Maximum")),
            "{texts:?}"
        );
    }

    #[test]
    fn merged_plans_are_unknown_only_where_they_differ() {
        let a = example_lists(&Value::from("arn:1"));
        let mut spec = example_spec();
        spec.owned_capacity = Some((0, 7));
        let c = compile(&spec);
        let b = Lists {
            policies: c
                .policies
                .iter()
                .map(|(p, x)| policy_value(p.as_str(), x, Value::from("arn:1")))
                .collect(),
            alarms: c
                .alarms
                .iter()
                .map(|(p, x)| alarm_value(p.as_str(), x, Value::from("arn:1")))
                .collect(),
        };
        let m = merge_unknowns(&a, &b).expect("the same objects");
        assert_eq!(
            m, a,
            "the capacity range is the scalable target's, not the objects'"
        );
        let mut spec = example_spec();
        spec.idle_minutes = 30;
        let c = compile(&spec);
        let b = Lists {
            policies: a.policies.clone(),
            alarms: c
                .alarms
                .iter()
                .map(|(p, x)| alarm_value(p.as_str(), x, Value::from("arn:1")))
                .collect(),
        };
        let m = merge_unknowns(&a, &b).expect("the same objects");
        let drain = by_purpose(&m.alarms, "drain-to-zero").expect("a drain alarm");
        assert!(drain.get("text").is_unknown());
        assert_eq!(
            drain.get("arn"),
            &Value::from("arn:1"),
            "it keeps its name, so its ARN"
        );
        let wake = by_purpose(&m.alarms, "wake-from-zero").expect("a wake alarm");
        assert!(wake.get("text").is_wholly_known());
    }
}
