//! The acceptance harness: Terraform binaries, work dirs, and (for AWS-backed tests) the
//! emulator and AWS checks.

#![allow(dead_code)]

pub mod aws;
pub mod emulator;
pub mod terraform;

/// One acceptance scenario, run once per Terraform version.
pub struct Case {
    /// Name (read as a sentence; the Terraform version is appended).
    pub name: &'static str,
    /// The scenario.
    pub run: fn(&terraform::TerraformBin),
    /// Lowest Terraform version the scenario needs.
    pub min_version: (u32, u32, u32),
    /// Needs the embedded emulator (fault injection); listed as ignored, with the reason
    /// in its name, when tests run against an external endpoint.
    pub embedded_only: bool,
    /// Runs under every Terraform version in turn inside one trial (for scenarios whose
    /// fixed names would collide if the versions ran in parallel).
    pub one_trial: bool,
}

impl Case {
    /// A scenario for every supported Terraform version.
    pub const fn new(name: &'static str, run: fn(&terraform::TerraformBin)) -> Case {
        Case {
            name,
            run,
            min_version: (1, 0, 0),
            embedded_only: false,
            one_trial: false,
        }
    }

    /// A scenario that needs at least `version` (e.g. provider functions need 1.8).
    pub const fn since(mut self, version: (u32, u32, u32)) -> Case {
        self.min_version = version;
        self
    }
}

impl Case {
    /// Runs the versions one after another in a single trial.
    pub const fn one_trial(mut self) -> Case {
        self.one_trial = true;
        self
    }

    /// Marks the scenario as needing the embedded emulator.
    pub const fn embedded_only(mut self) -> Case {
        self.embedded_only = true;
        self
    }
}

/// A work dir for `label` whose Terraform runs reach the test AWS backend.
pub fn aws_workspace(tf: &terraform::TerraformBin, label: &str) -> terraform::Workspace {
    let mut ws = terraform::Workspace::new(tf, label);
    for (k, v) in aws::terraform_env() {
        ws.env(&k, &v);
    }
    ws
}

/// `terraform { required_providers … }` plus an empty provider block: the environment
/// supplies region, credentials and endpoint.
pub fn provider_header() -> String {
    format!(
        "{}provider \"queuescale\" {{}}\n",
        terraform::required_providers()
    )
}

/// The entries of a policy resource's `policies` map in state (`terraform show -json`
/// values), by key: each a policy and, for step policies, the alarm that invokes it.
pub fn state_entries(values: &serde_json::Value) -> Vec<(&str, &serde_json::Value)> {
    values["policies"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

/// The entry of `purpose` in state.
pub fn state_entry<'a>(values: &'a serde_json::Value, purpose: &str) -> &'a serde_json::Value {
    &values["policies"][purpose]
}

/// (name, ARN) of every policy state records as existing.
pub fn existing_policies(values: &serde_json::Value) -> Vec<(String, String)> {
    state_entries(values)
        .into_iter()
        .filter_map(|(_, e)| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["arn"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Names of every alarm state records as existing.
pub fn existing_alarms(values: &serde_json::Value) -> Vec<String> {
    state_entries(values)
        .into_iter()
        .filter(|(_, e)| e["alarm_arn"].is_string())
        .filter_map(|(_, e)| e["name"].as_str().map(str::to_owned))
        .collect()
}

/// How many lines `terraform plan` gives the resource at `address`: from its
/// `# ADDRESS will be …` line through the closing brace of its block.
pub fn plan_block_lines(stdout: &str, address: &str) -> usize {
    let header = format!("# {address} ");
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&header));
    let Some(first) = lines.next() else {
        panic!("the plan shows no {address}:\n{stdout}");
    };
    let indent = first.len() - first.trim_start().len();
    let closing = format!("{}}}", " ".repeat(indent + 2));
    let body = lines
        .position(|l| l == closing)
        .unwrap_or_else(|| panic!("the plan's block for {address} does not end:\n{stdout}"));
    body + 2
}
