//! The provider block: endpoints, credentials and their errors, configuration unknown
//! at plan time, and secrets kept out of logs.

use serde_json::json;

use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::emulator::{Fault, backend};
use crate::support::terraform::{TerraformBin, Workspace, required_providers};
use crate::support::{Case, aws_workspace, provider_header};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "provider_endpoints_block_overrides_the_environment",
            endpoints_block,
        )
        .embedded_only(),
        Case::new(
            "provider_endpoints_sts_alone_moves_only_sts",
            sts_endpoint_alone,
        ),
        Case::new(
            "provider_rejected_credentials_are_named_without_secrets",
            rejected_credentials,
        )
        .embedded_only(),
        Case::new(
            "provider_without_credentials_says_what_it_tried",
            no_credentials,
        ),
        Case::new(
            "provider_configuration_unknown_at_plan_is_deferred",
            unknown_at_plan,
        ),
        Case::new(
            "provider_secrets_never_reach_the_provider_log",
            secrets_not_logged,
        ),
        Case::new(
            "provider_unreachable_sts_endpoint_is_named_not_blamed_on_the_credentials",
            unreachable_endpoint,
        ),
        Case::new(
            "provider_assume_role_external_id_never_reaches_the_provider_log",
            external_id_not_logged,
        ),
        Case::new(
            "provider_profile_from_shared_files_under_home_reaches_aws",
            shared_files_profile,
        )
        .embedded_only(),
        Case::new(
            "provider_shared_config_file_dev_zero_is_refused_at_its_index",
            shared_file_dev_zero,
        ),
        Case::new(
            "provider_shared_credentials_file_fifo_is_refused_without_hanging",
            shared_file_fifo,
        ),
    ]
}

fn target(name: &str, f: &ServiceFixture, provider: &str) -> String {
    format!(
        "resource \"queuescale_scalable_target\" \"{name}\" {{\n  {provider}cluster_name = \"{}\"\n  \
         service_name = \"{}\"\n  min_capacity = 0\n  max_capacity = 1\n}}\n",
        f.cluster, f.service
    )
}

fn endpoints_block(tf: &TerraformBin) {
    let url = backend().endpoint().expect("an endpoint URL").to_owned();
    let f = ServiceFixture::create(&unique_prefix("pc-endpoints"), false);
    let mut ws = aws_workspace(tf, "pc-endpoints");
    // The environment points nowhere; only the provider block can make this work.
    ws.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let endpoints: String = ["applicationautoscaling", "cloudwatch", "ecs", "sqs", "sts"]
        .iter()
        .map(|s| format!("    {s} = \"{url}\"\n"))
        .collect();
    ws.write_config(&format!(
        "{}provider \"queuescale\" {{\n  endpoints {{\n{endpoints}  }}\n}}\n{}",
        required_providers(),
        target("svc", &f, "")
    ));
    ws.init();
    ws.apply();
    assert!(aws::scalable_target(&f.resource_id()).is_some());
    ws.destroy();
}

/// `endpoints { sts }` alone moves STS and nothing else: the other services keep the
/// endpoint the environment gives them.
fn sts_endpoint_alone(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("pc-sts"), false);
    let ws = aws_workspace(tf, "pc-sts");
    // Nothing listens on port 9: a call sent there fails at once.
    let provider = |checks: &str| {
        format!(
            "{}provider \"queuescale\" {{\n  max_retries = 0\n{checks}  endpoints {{\n    \
             sts = \"http://127.0.0.1:9\"\n  }}\n}}\n{}",
            required_providers(),
            target("svc", &f, "")
        )
    };

    // The credentials check is an STS call: it goes to the sts endpoint.
    ws.write_config(&provider(""));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("cannot reach the STS endpoint")
            && r.stderr.contains("http://127.0.0.1:9")
            && r.stderr.contains("Connection refused"),
        "the STS call went to the sts endpoint:\n{}",
        r.text()
    );

    // So is assuming a role.
    ws.write_config(&provider(
        "  skip_credentials_validation = true\n  assume_role {\n    \
         role_arn = \"arn:aws:iam::123456789012:role/qsacc-sts\"\n  }\n",
    ));
    let r = ws.apply_fails();
    assert!(
        r.stderr.contains("Connection refused"),
        "AssumeRole went to the sts endpoint:\n{}",
        r.text()
    );

    // Without STS calls, every other service still reaches the backend.
    ws.write_config(&provider("  skip_credentials_validation = true\n"));
    ws.apply();
    assert!(aws::scalable_target(&f.resource_id()).is_some());
    ws.assert_plan_empty();
    ws.destroy();
    assert!(aws::scalable_target(&f.resource_id()).is_none());
}

fn rejected_credentials(tf: &TerraformBin) {
    let key = format!("AKIAQSACC{:011}", std::process::id());
    let _fault = Fault::inject(json!({
        "operation": "GetCallerIdentity",
        "error": "InvalidClientTokenId",
        "message": "The security token included in the request is invalid.",
        "status": 403,
        "access_key": key,
    }));
    let mut ws = aws_workspace(tf, "pc-rejected");
    ws.unset_env("AWS_ACCESS_KEY_ID")
        .unset_env("AWS_SECRET_ACCESS_KEY");
    ws.write_config(&format!(
        "{}provider \"queuescale\" {{\n  access_key = \"{key}\"\n  secret_key = \"qsacc-very-secret\"\n}}\n\
         resource \"queuescale_scalable_target\" \"svc\" {{\n  cluster_name = \"c\"\n  \
         service_name = \"s\"\n  min_capacity = 0\n  max_capacity = 1\n}}\n",
        required_providers()
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("AWS rejected the credentials"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("access_key AKIA…"),
        "names the source with a masked key:\n{}",
        r.text()
    );
    assert!(r.stderr.contains("InvalidClientTokenId"), "{}", r.text());
    assert!(
        !r.stderr.contains(&key) && !r.stderr.contains("qsacc-very-secret"),
        "{}",
        r.text()
    );
}

fn no_credentials(tf: &TerraformBin) {
    let mut ws = aws_workspace(tf, "pc-nocreds");
    ws.unset_env("AWS_ACCESS_KEY_ID")
        .unset_env("AWS_SECRET_ACCESS_KEY")
        .unset_env("AWS_SESSION_TOKEN")
        .unset_env("AWS_PROFILE")
        .unset_env("AWS_WEB_IDENTITY_TOKEN_FILE")
        .unset_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .unset_env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/qsacc/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/qsacc/credentials",
        )
        .env("AWS_REGION", "us-east-1");
    ws.write_config(&format!(
        "{}resource \"queuescale_scalable_target\" \"svc\" {{\n  cluster_name = \"c\"\n  \
         service_name = \"s\"\n  min_capacity = 0\n  max_capacity = 1\n}}\n",
        provider_header()
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("no usable AWS credentials"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("tried the default chain"),
        "says which sources were tried:\n{}",
        r.text()
    );
}

fn unknown_at_plan(tf: &TerraformBin) {
    let a = ServiceFixture::create(&unique_prefix("pc-late-a"), false);
    let b = ServiceFixture::create(&unique_prefix("pc-late-b"), false);
    let ws = aws_workspace(tf, "pc-late");
    ws.write_config(&format!(
        "{}
# Configured from another resource: unknown until that resource exists.
provider \"queuescale\" {{
  alias  = \"late\"
  region = element(split(\":\", queuescale_scalable_target.a.arn), 3)
}}
{}{}",
        provider_header(),
        target("a", &a, ""),
        target("b", &b, "provider = queuescale.late\n  ")
    ));
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        plan.stdout
            .contains("queuescale_scalable_target.b will be created"),
        "{}",
        plan.text()
    );
    ws.apply();
    assert!(aws::scalable_target(&b.resource_id()).is_some());
    ws.assert_plan_empty();
    ws.destroy();
}

fn secrets_not_logged(tf: &TerraformBin) {
    let ws = aws_workspace(tf, "pc-secrets");
    ws.write_config(&format!(
        "{}provider \"queuescale\" {{\n  access_key = \"AKIAQSACCSECRETTEST1\"\n  \
         secret_key = \"qsacc-secret-key-value\"\n  token = \"qsacc-session-token-value\"\n  \
         skip_credentials_validation = true\n}}\n\
         data \"queuescale_backlog_target\" \"t\" {{\n  acceptable_latency_seconds = 10\n  \
         average_processing_seconds = 1\n}}\n",
        required_providers()
    ));
    ws.init();
    let r = ws.run_with(
        &["plan", "-input=false", "-no-color"],
        &[("TF_LOG", "trace")],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-queuescale"))
        .collect();
    assert!(
        ours.iter().any(|l| l.contains("configuring")),
        "the provider logged its configuration step"
    );
    for secret in [
        "qsacc-secret-key-value",
        "qsacc-session-token-value",
        "AKIAQSACCSECRETTEST1",
    ] {
        assert!(
            !ours.iter().any(|l| l.contains(secret)),
            "{secret} appeared in the provider log"
        );
    }
}

/// A provider block that makes no AWS call, with `extra` lines, and a data source so that
/// `plan` configures the provider.
fn offline_with(extra: &str) -> String {
    format!(
        "{}provider \"queuescale\" {{\n  region = \"us-east-1\"\n  access_key = \"offline\"\n  \
         secret_key = \"offline\"\n  skip_credentials_validation = true\n{extra}}}\n\
         data \"queuescale_backlog_target\" \"t\" {{\n  acceptable_latency_seconds = 10\n  \
         average_processing_seconds = 1\n}}\n",
        required_providers()
    )
}

/// Terraform wraps diagnostic details at 78 columns: compare with single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shared_file_dev_zero(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "pc-dev-zero");
    ws.write_config(&offline_with("  shared_config_files = [\"/dev/zero\"]\n"));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Unusable file in shared_config_files"),
        "{}",
        r.text()
    );
    assert!(
        one_line(&r.stderr).contains("/dev/zero is a character device"),
        "{}",
        r.text()
    );
    // Terraform quotes the attribute's line under the error.
    assert!(
        r.stderr.contains("shared_config_files = [\"/dev/zero\"]"),
        "{}",
        r.text()
    );
}

fn shared_file_fifo(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "pc-fifo");
    let good = ws.dir.join("credentials");
    std::fs::write(&good, "[default]\n").expect("write a credentials file");
    let fifo = ws.dir.join("credentials.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    ws.write_config(&offline_with(&format!(
        "  shared_credentials_files = [\"{}\", \"{}\"]\n",
        good.display(),
        fifo.display()
    )));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr
            .contains("Unusable file in shared_credentials_files"),
        "{}",
        r.text()
    );
    assert!(
        one_line(&r.stderr).contains("is a FIFO (named pipe), not a regular file"),
        "{}",
        r.text()
    );
}

fn shared_files_profile(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("pc-profile"), false);
    let mut ws = aws_workspace(tf, "pc-profile");
    let home = ws.dir.join("home");
    std::fs::create_dir_all(home.join(".qsacc")).expect("create a home directory");
    std::fs::write(
        home.join(".qsacc/config"),
        format!("[profile qsacc]\nregion = {}\n", aws::REGION),
    )
    .expect("write the config file");
    std::fs::write(
        home.join(".qsacc/credentials"),
        "[qsacc]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .expect("write the credentials file");
    let home = home.display().to_string();
    // Only the named files can supply the region and the keys.
    ws.unset_env("AWS_ACCESS_KEY_ID")
        .unset_env("AWS_SECRET_ACCESS_KEY")
        .unset_env("AWS_REGION")
        .unset_env("AWS_DEFAULT_REGION")
        .unset_env("AWS_PROFILE")
        .env("HOME", &home);
    ws.write_config(&format!(
        "{}provider \"queuescale\" {{\n  profile = \"qsacc\"\n  \
         shared_config_files = [\"~/.qsacc/config\"]\n  \
         shared_credentials_files = [\"~/.qsacc/credentials\"]\n}}\n{}",
        required_providers(),
        target("svc", &f, "")
    ));
    ws.init();
    ws.apply();
    assert!(aws::scalable_target(&f.resource_id()).is_some());
    ws.destroy();
}

fn unreachable_endpoint(tf: &TerraformBin) {
    let mut ws = Workspace::new(tf, "pc-unreachable");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    ws.env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .unset_env("AWS_ENDPOINT_URL");
    ws.write_config(&format!(
        "{}provider \"queuescale\" {{\n  region = \"us-east-1\"\n  access_key = \"AKIAQSACCUNREACHABLE\"\n  \
         secret_key = \"qsacc-unreachable\"\n  max_retries = 0\n}}\n\
         data \"queuescale_backlog_target\" \"t\" {{\n  acceptable_latency_seconds = 10\n  \
         average_processing_seconds = 1\n}}\n",
        required_providers()
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    let text = one_line(&r.stderr);
    assert!(
        text.contains("cannot reach the STS endpoint http://127.0.0.1:9"),
        "{}",
        r.text()
    );
    assert!(!text.contains("rejected the credentials"), "{}", r.text());
}

fn external_id_not_logged(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "pc-external-id");
    ws.write_config(&offline_with(
        "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/qsacc\"\n    \
         external_id = \"qsacc-external-id-value\"\n  }\n",
    ));
    ws.init();
    let r = ws.run_with(
        &["plan", "-input=false", "-no-color"],
        &[("TF_LOG", "trace")],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-queuescale"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.contains("configuring") && l.contains("role/qsacc")),
        "the provider logged its configuration, role included:\n{}",
        ours.join("\n")
    );
    assert!(
        !ours.iter().any(|l| l.contains("qsacc-external-id-value")),
        "the external id appeared in the provider log"
    );
}
