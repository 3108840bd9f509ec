"""Tests for the AWS emulator launcher, tests/emulator/queuescale_emulator.py.

The launcher is started as a subprocess exactly as the Rust harness starts it:
stdin is a pipe this process holds, stdout is read for the one ready line.
One shared emulator serves most tests (as it will serve the provider's
parallel tests), so every test uses resource names of its own.

Run from the repository root:

    .tools/venv/bin/python -m unittest discover -s tests/emulator -v
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).with_name("queuescale_emulator.py")
READY_LINE = re.compile(rb"^QUEUESCALE_EMULATOR_READY (http://127\.0\.0\.1:(\d+))\n$")
REGION = "us-east-1"
ECS_DIMENSION = "ecs:service:DesiredCount"
# A SigV4 header with a real credential scope; moto routes on the scope and
# does not check signatures.
FAKE_SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
# Exiting "within ~1 s": the bound used for every lifecycle test.
EXIT_DEADLINE = 1.5


class Emulator:
    """One launcher subprocess, started as the Rust harness starts it."""

    def __init__(self, *args: str) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.ready_line = _read_line(self.process.stdout, timeout=60)
        match = READY_LINE.match(self.ready_line)
        if match is None:
            self.process.kill()
            self.process.wait()
            logs = self.logs()
            self.close()
            raise AssertionError(f"bad ready line {self.ready_line!r}; stderr: {logs}")
        self.url = match.group(1).decode()
        self.port = int(match.group(2))

    def close_stdin(self) -> float:
        """Close the stdin pipe and return how long the process took to exit."""
        started = time.monotonic()
        self.process.stdin.close()
        self.process.wait(timeout=10)
        return time.monotonic() - started

    def signal(self, signum: int) -> float:
        """Send ``signum`` and return how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(signum)
        self.process.wait(timeout=10)
        return time.monotonic() - started

    def remaining_stdout(self) -> bytes:
        """Whatever the process wrote to stdout after its ready line."""
        return self.process.stdout.read()

    def logs(self) -> str:
        """The process's stderr so far."""
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Stop the process if it still runs and release its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            if not stream.closed:
                stream.close()


def _read_line(stream: Any, timeout: float) -> bytes:
    """Read one line from a pipe, giving up after ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else b""


EMULATOR: Emulator
CBOR_MODEL_DIR: str


def setUpModule() -> None:
    """Start the shared emulator."""
    global EMULATOR, CBOR_MODEL_DIR
    EMULATOR = Emulator()
    CBOR_MODEL_DIR = tempfile.mkdtemp(prefix="cbor-models-")


def tearDownModule() -> None:
    """Stop the shared emulator by closing its stdin, as the harness does."""
    EMULATOR.close_stdin()
    EMULATOR.close()
    shutil.rmtree(CBOR_MODEL_DIR, ignore_errors=True)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def aws_client(service: str, session: Any = None, access_key: str = "test") -> Any:
    """A boto3 client for the shared emulator that never retries."""
    return (session or boto3.Session()).client(
        service,
        endpoint_url=EMULATOR.url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def cbor_cloudwatch_client() -> Any:
    """A CloudWatch client that speaks Smithy RPC v2 CBOR, as the Rust SDK does.

    botocore supports the protocol but prefers awsJson for CloudWatch, so the
    client gets a copy of the CloudWatch model that lists only CBOR.
    """
    loader = botocore.loaders.Loader()
    version = loader.determine_latest_version("cloudwatch", "service-2")
    model = loader.load_service_model("cloudwatch", "service-2", version)
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model_dir = Path(CBOR_MODEL_DIR, "cloudwatch", version)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, CBOR_MODEL_DIR)
    client = aws_client("cloudwatch", boto3.Session(botocore_session=session))
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    return client


def error_code(context: Any) -> str:
    """The AWS error code of a ClientError caught by assertRaises."""
    return context.exception.response["Error"]["Code"]


def http_request(
    method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request to the shared emulator."""
    connection = http.client.HTTPConnection("127.0.0.1", EMULATOR.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def control(method: str, path: str, document: Any = None) -> tuple[int, Any]:
    """Call the emulator's control API; return the status and decoded JSON."""
    body = None if document is None else json.dumps(document).encode()
    status, _, raw = http_request(
        method, "/_queuescale/" + path, body, {"Content-Type": "application/json"}
    )
    return status, json.loads(raw)


# ---------------------------------------------------------------------------
# A small independent CBOR codec for checking the wire format
# ---------------------------------------------------------------------------


class Tagged:
    """A CBOR tagged item as decoded here (so tests can see tag 1)."""

    def __init__(self, tag: int, value: Any) -> None:
        self.tag, self.value = tag, value


def cbor_dumps(value: Any) -> bytes:
    """Encode maps, lists, strings, non-negative ints and floats."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | info]) + struct.pack(fmt, n)
        raise ValueError(n)

    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return head(0, value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor_dumps(v) for v in value)
    return head(5, len(value)) + b"".join(cbor_dumps(k) + cbor_dumps(v) for k, v in value.items())


def cbor_loads(data: bytes) -> Any:
    """Decode one definite-length CBOR item; floats stay floats, tags are Tagged."""

    def item(i: int) -> tuple[Any, int]:
        major, info = data[i] >> 5, data[i] & 31
        i += 1
        if major == 7:
            sizes = {25: (">e", 2), 26: (">f", 4), 27: (">d", 8)}
            if info in sizes:
                fmt, size = sizes[info]
                return struct.unpack(fmt, data[i : i + size])[0], i + size
            return {20: False, 21: True, 22: None}[info], i
        if info < 24:
            n = info
        else:
            size = 1 << (info - 24)
            n, i = int.from_bytes(data[i : i + size], "big"), i + size
        if major == 0:
            return n, i
        if major == 1:
            return -1 - n, i
        if major == 2:
            return data[i : i + n], i + n
        if major == 3:
            return data[i : i + n].decode(), i + n
        if major == 4:
            out = []
            for _ in range(n):
                value, i = item(i)
                out.append(value)
            return out, i
        if major == 5:
            mapping = {}
            for _ in range(n):
                key, i = item(i)
                mapping[key], i = item(i)
            return mapping, i
        value, i = item(i)
        return Tagged(n, value), i

    value, end = item(0)
    assert end == len(data), "trailing bytes after the CBOR item"
    return value


def cbor_request(
    operation: str, document: dict[str, Any], query_mode: bool = True
) -> tuple[int, dict[str, str], Any]:
    """A hand-built Smithy RPC v2 CBOR CloudWatch request, as the Rust SDK sends it."""
    headers = {
        "smithy-protocol": "rpc-v2-cbor",
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
        "Authorization": FAKE_SIGV4.format(service="monitoring"),
        "X-Amz-Date": "20250101T000000Z",
    }
    if query_mode:
        headers["x-amzn-query-mode"] = "true"
    status, response_headers, body = http_request(
        "POST",
        f"/service/GraniteServiceVersion20100801/operation/{operation}",
        cbor_dumps(document),
        headers,
    )
    return status, response_headers, (cbor_loads(body) if body else None)


# ---------------------------------------------------------------------------
# ECS / Application Auto Scaling helpers
# ---------------------------------------------------------------------------


class AasTestCase(unittest.TestCase):
    """Base for tests that need ECS services registered as scalable targets."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.ecs = aws_client("ecs")
        cls.aas = aws_client("application-autoscaling")
        cls.cloudwatch = aws_client("cloudwatch")
        cls.cluster = unique("cluster")
        cls.ecs.create_cluster(clusterName=cls.cluster)

    def service(self, name: str | None = None) -> str:
        """Create an ECS service and return its AAS resource id."""
        name = name or unique("svc")
        self.ecs.create_service(cluster=self.cluster, serviceName=name, desiredCount=1)
        return f"service/{self.cluster}/{name}"

    def target(self, resource_id: str) -> dict[str, str]:
        """The identity arguments of an ECS scalable target."""
        return {
            "ServiceNamespace": "ecs",
            "ResourceId": resource_id,
            "ScalableDimension": ECS_DIMENSION,
        }

    def register(self, resource_id: str, **extra: Any) -> str:
        """Register a scalable target and return its ARN."""
        arguments = {"MinCapacity": 1, "MaxCapacity": 4, **extra}
        return self.aas.register_scalable_target(**self.target(resource_id), **arguments)[
            "ScalableTargetARN"
        ]

    def describe_target(self, resource_id: str) -> dict[str, Any]:
        """DescribeScalableTargets for one target."""
        (target,) = self.aas.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource_id], ScalableDimension=ECS_DIMENSION
        )["ScalableTargets"]
        return target

    def put_target_tracking(
        self, resource_id: str, name: str, target_value: float = 50.0
    ) -> dict[str, Any]:
        """Put a CPU target tracking policy; return the PutScalingPolicy response."""
        return self.aas.put_scaling_policy(
            PolicyName=name,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target_value,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
            },
            **self.target(resource_id),
        )

    def alarm_names(self, names: list[str]) -> list[str]:
        """Which of ``names`` exist as CloudWatch alarms."""
        if not names:
            return []
        alarms = self.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        return sorted(alarm["AlarmName"] for alarm in alarms)


STEP_CONFIG = {
    "AdjustmentType": "ChangeInCapacity",
    "StepAdjustments": [
        {"MetricIntervalUpperBound": 0.0, "ScalingAdjustment": -1},
        {
            "MetricIntervalLowerBound": 0.0,
            "MetricIntervalUpperBound": 100.0,
            "ScalingAdjustment": 1,
        },
        {"MetricIntervalLowerBound": 100.0, "ScalingAdjustment": 3},
    ],
    "Cooldown": 60,
    "MetricAggregationType": "Maximum",
    "MinAdjustmentMagnitude": 1,
}

BACKLOG_METRICS = [
    {
        "Id": "visible",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": "jobs"}],
            },
            "Stat": "Sum",
        },
        "ReturnData": False,
    },
    {
        "Id": "tasks",
        "MetricStat": {
            "Metric": {
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": "c"},
                    {"Name": "ServiceName", "Value": "s"},
                ],
            },
            "Stat": "Average",
        },
        "ReturnData": False,
    },
    {
        "Id": "backlog",
        "Expression": "visible / tasks",
        "Label": "Backlog per task",
        "ReturnData": True,
    },
]

ALARM_METRICS = [
    {**query, "MetricStat": {**query["MetricStat"], "Period": 60}}
    if "MetricStat" in query
    else query
    for query in BACKLOG_METRICS
]

TARGET_TRACKING_CUSTOM = {
    "TargetValue": 10.0,
    "CustomizedMetricSpecification": {"Metrics": BACKLOG_METRICS},
    "ScaleInCooldown": 120,
    "ScaleOutCooldown": 30,
    "DisableScaleIn": False,
}


# ---------------------------------------------------------------------------
# Launcher contract
# ---------------------------------------------------------------------------


class LauncherContractTest(unittest.TestCase):
    """The command line, ready line, loopback binding and lifecycle."""

    def start(self, *args: str) -> Emulator:
        emulator = Emulator(*args)
        self.addCleanup(emulator.close)
        return emulator

    def test_ready_line_names_a_serving_loopback_url(self) -> None:
        self.assertRegex(EMULATOR.ready_line, READY_LINE)
        self.assertEqual(control("GET", "health"), (200, {"status": "ok"}))

    def test_binds_127_0_0_1_only(self) -> None:
        # Every 127/8 address reaches loopback, so a 0.0.0.0 bind would accept here.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", EMULATOR.port), timeout=5).close()

    def test_fixed_port_verbose_and_exit_on_stdin_eof(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        emulator = self.start("--port", str(port), "--verbose")
        self.assertEqual(emulator.port, port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/_queuescale/health")
        self.assertEqual(connection.getresponse().status, 200)
        connection.close()
        self.assertLess(emulator.close_stdin(), EXIT_DEADLINE)
        self.assertEqual(emulator.process.returncode, 0)
        self.assertEqual(emulator.remaining_stdout(), b"")
        self.assertIn("GET /_queuescale/health", emulator.logs())

    def test_exits_on_sigterm_and_sigint(self) -> None:
        signals = (signal.SIGTERM, signal.SIGINT)
        with ThreadPoolExecutor(max_workers=len(signals)) as pool:
            emulators = list(pool.map(lambda _: Emulator(), signals))
        for emulator in emulators:
            self.addCleanup(emulator.close)
        for signum, emulator in zip(signals, emulators, strict=True):
            with self.subTest(signal=signum.name):
                self.assertLess(emulator.signal(signum), EXIT_DEADLINE)
                self.assertEqual(emulator.process.returncode, 0)

    def test_exits_when_its_parent_is_killed(self) -> None:
        parent_code = (
            "import subprocess, sys\n"
            f"child = subprocess.Popen([sys.executable, {str(LAUNCHER)!r}],"
            " stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
            "print(child.pid, child.stdout.readline().decode().strip(), flush=True)\n"
            "sys.stdin.read()\n"
        )
        parent = subprocess.Popen(
            [sys.executable, "-c", parent_code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.addCleanup(parent.stdout.close)
        self.addCleanup(parent.stdin.close)
        self.addCleanup(parent.wait)
        self.addCleanup(parent.kill)
        pid_text, ready = _read_line(parent.stdout, timeout=60).decode().split(" ", 1)
        child_pid = int(pid_text)
        self.assertTrue(ready.startswith("QUEUESCALE_EMULATOR_READY http://127.0.0.1:"))
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + EXIT_DEADLINE
        while _process_alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = _process_alive(child_pid)
        if alive:
            os.kill(child_pid, signal.SIGKILL)
        self.assertFalse(alive, "the emulator outlived its killed parent")

    def test_port_in_use_fails_without_ready_line(self) -> None:
        process = subprocess.run(
            [sys.executable, str(LAUNCHER), "--port", str(EMULATOR.port)],
            stdin=subprocess.PIPE,
            capture_output=True,
            timeout=60,
            check=False,
        )
        self.assertNotEqual(process.returncode, 0)
        self.assertEqual(process.stdout, b"")
        self.assertIn(b"cannot bind", process.stderr)

    def test_quiet_by_default(self) -> None:
        aws_client("sts").get_caller_identity()
        self.assertNotIn("POST /", EMULATOR.logs())


def _process_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


# ---------------------------------------------------------------------------
# Application Auto Scaling patches
# ---------------------------------------------------------------------------


class ScalableTargetTaggingTest(AasTestCase):
    """Gap (a): tags on scalable targets, keyed by ScalableTargetARN."""

    def test_register_tags_are_listed_by_target_arn(self) -> None:
        resource_id = self.service()
        arn = self.register(resource_id, Tags={"team": "core", "env": "test"})
        self.assertRegex(
            arn, r"^arn:aws:application-autoscaling:us-east-1:\d{12}:scalable-target/[a-zA-Z0-9-]+$"
        )
        self.assertEqual(self.describe_target(resource_id)["ScalableTargetARN"], arn)
        self.assertEqual(
            self.aas.list_tags_for_resource(ResourceARN=arn)["Tags"],
            {"team": "core", "env": "test"},
        )

    def test_update_keeps_arn_and_ignores_tags(self) -> None:
        resource_id = self.service()
        arn = self.register(resource_id, Tags={"team": "core"})
        updated = self.register(resource_id, MinCapacity=2, MaxCapacity=9, Tags={"other": "x"})
        self.assertEqual(updated, arn)
        target = self.describe_target(resource_id)
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (2, 9))
        self.assertEqual(target["ScalableTargetARN"], arn)
        self.assertEqual(self.aas.list_tags_for_resource(ResourceARN=arn)["Tags"], {"team": "core"})

    def test_tag_and_untag_resource(self) -> None:
        arn = self.register(self.service(), Tags={"a": "1"})
        self.aas.tag_resource(ResourceARN=arn, Tags={"a": "2", "b": "3"})
        self.assertEqual(
            self.aas.list_tags_for_resource(ResourceARN=arn)["Tags"], {"a": "2", "b": "3"}
        )
        self.aas.untag_resource(ResourceARN=arn, TagKeys=["a", "missing"])
        self.assertEqual(self.aas.list_tags_for_resource(ResourceARN=arn)["Tags"], {"b": "3"})

    def test_unknown_arn_is_resource_not_found(self) -> None:
        arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0000unknown"
        calls = {
            "ListTagsForResource": lambda: self.aas.list_tags_for_resource(ResourceARN=arn),
            "TagResource": lambda: self.aas.tag_resource(ResourceARN=arn, Tags={"a": "b"}),
            "UntagResource": lambda: self.aas.untag_resource(ResourceARN=arn, TagKeys=["a"]),
        }
        for operation, call in calls.items():
            with self.subTest(operation=operation), self.assertRaises(ClientError) as caught:
                call()
            self.assertEqual(error_code(caught), "ResourceNotFoundException")

    def test_tags_go_with_the_deregistered_target(self) -> None:
        resource_id = self.service()
        arn = self.register(resource_id, Tags={"a": "b"})
        self.aas.deregister_scalable_target(**self.target(resource_id))
        with self.assertRaises(ClientError) as caught:
            self.aas.list_tags_for_resource(ResourceARN=arn)
        self.assertEqual(error_code(caught), "ResourceNotFoundException")
        new_arn = self.register(resource_id)
        self.assertNotEqual(new_arn, arn)
        self.assertEqual(self.aas.list_tags_for_resource(ResourceARN=new_arn)["Tags"], {})

    def test_more_than_50_tags_is_too_many(self) -> None:
        arn = self.register(self.service(), Tags={f"k{i}": "v" for i in range(50)})
        with self.assertRaises(ClientError) as caught:
            self.aas.tag_resource(ResourceARN=arn, Tags={"one-more": "v"})
        self.assertEqual(error_code(caught), "TooManyTagsException")


class RegisterScalableTargetTest(AasTestCase):
    """RegisterScalableTarget fields AWS documents and moto 5.2.5 omitted."""

    def test_ecs_target_reports_service_linked_role_and_full_suspended_state(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        target = self.describe_target(resource_id)
        self.assertEqual(
            target["RoleARN"],
            "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        )
        self.assertEqual(
            target["SuspendedState"],
            {
                "DynamicScalingInSuspended": False,
                "DynamicScalingOutSuspended": False,
                "ScheduledScalingSuspended": False,
            },
        )

    def test_suspended_state_round_trip_and_partial_update(self) -> None:
        resource_id = self.service()
        self.register(
            resource_id,
            SuspendedState={"DynamicScalingInSuspended": True, "ScheduledScalingSuspended": True},
        )
        self.register(resource_id, SuspendedState={"ScheduledScalingSuspended": False})
        self.assertEqual(
            self.describe_target(resource_id)["SuspendedState"],
            {
                "DynamicScalingInSuspended": True,
                "DynamicScalingOutSuspended": False,
                "ScheduledScalingSuspended": False,
            },
        )

    def test_new_target_needs_min_and_max_capacity(self) -> None:
        with self.assertRaises(ClientError) as caught:
            self.aas.register_scalable_target(**self.target(self.service()), MaxCapacity=3)
        self.assertEqual(error_code(caught), "ValidationException")

    def test_min_capacity_above_max_is_rejected(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        with self.assertRaises(ClientError) as caught:
            self.register(resource_id, MinCapacity=5, MaxCapacity=4)
        self.assertEqual(error_code(caught), "ValidationException")


class DescribeScalableTargetsTest(AasTestCase):
    """DescribeScalableTargets pagination."""

    def test_next_token_walks_every_target_once(self) -> None:
        resource_ids = [self.service() for _ in range(3)]
        for resource_id in resource_ids:
            self.register(resource_id)
        seen, token = [], None
        for _ in range(5):
            page = self.aas.describe_scalable_targets(
                ServiceNamespace="ecs",
                ResourceIds=resource_ids,
                MaxResults=1,
                **({"NextToken": token} if token else {}),
            )
            seen += [target["ResourceId"] for target in page["ScalableTargets"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(seen), sorted(resource_ids))
        self.assertIsNone(token)

    def test_max_results_above_50_is_rejected(self) -> None:
        with self.assertRaises(ClientError) as caught:
            self.aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=51)
        self.assertEqual(error_code(caught), "ValidationException")


class DescribeScalingPoliciesTest(AasTestCase):
    """Gap (b): DescribeScalingPolicies filters."""

    def setUp(self) -> None:
        self.web = self.service()
        self.web2 = self.web + "2"  # moto matched ResourceId as a substring
        self.service(self.web2.rsplit("/", 1)[1])
        for resource_id in (self.web, self.web2):
            self.register(resource_id)
        self.put_target_tracking(self.web, "cpu")
        self.aas.put_scaling_policy(
            PolicyName="steps",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=STEP_CONFIG,
            **self.target(self.web),
        )
        self.put_target_tracking(self.web2, "cpu")

    def names(self, **filters: Any) -> list[tuple[str, str]]:
        policies = self.aas.describe_scaling_policies(ServiceNamespace="ecs", **filters)[
            "ScalingPolicies"
        ]
        return sorted((p["ResourceId"], p["PolicyName"]) for p in policies)

    def test_policy_names_filter(self) -> None:
        self.assertEqual(
            self.names(PolicyNames=["steps"], ResourceId=self.web), [(self.web, "steps")]
        )
        self.assertEqual(
            self.names(PolicyNames=["cpu"], ResourceId=self.web, ScalableDimension=ECS_DIMENSION),
            [(self.web, "cpu")],
        )

    def test_resource_id_must_match_exactly(self) -> None:
        self.assertEqual(self.names(ResourceId=self.web2), [(self.web2, "cpu")])
        self.assertEqual(self.names(ResourceId=self.web), [(self.web, "cpu"), (self.web, "steps")])

    def test_pagination_and_page_size_limit(self) -> None:
        first = self.aas.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=self.web, MaxResults=1
        )
        second = self.aas.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=self.web, MaxResults=1, NextToken=first["NextToken"]
        )
        self.assertNotIn("NextToken", second)
        names = {
            first["ScalingPolicies"][0]["PolicyName"],
            second["ScalingPolicies"][0]["PolicyName"],
        }
        self.assertEqual(names, {"cpu", "steps"})
        with self.assertRaises(ClientError) as caught:
            self.aas.describe_scaling_policies(ServiceNamespace="ecs", MaxResults=11)
        self.assertEqual(error_code(caught), "ValidationException")


class PutScalingPolicyTest(AasTestCase):
    """Gaps (c) and (d): upsert semantics and the registered-target requirement."""

    def test_update_keeps_policy_arn_and_replaces_alarms(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        first = self.put_target_tracking(resource_id, "cpu", 50.0)
        second = self.put_target_tracking(resource_id, "cpu", 70.0)
        self.assertEqual(second["PolicyARN"], first["PolicyARN"])
        old = [alarm["AlarmName"] for alarm in first["Alarms"]]
        new = [alarm["AlarmName"] for alarm in second["Alarms"]]
        self.assertEqual(len(new), 2)
        self.assertEqual(self.alarm_names(old + new), sorted(set(new) - set(old)))
        (policy,) = self.aas.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=resource_id
        )["ScalingPolicies"]
        self.assertEqual(policy["PolicyARN"], first["PolicyARN"])
        self.assertEqual(policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"], 70.0)
        self.assertEqual(sorted(a["AlarmName"] for a in policy["Alarms"]), sorted(new))

    def test_switching_to_step_scaling_removes_managed_alarms(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        tracking = self.put_target_tracking(resource_id, "p")
        step = self.aas.put_scaling_policy(
            PolicyName="p",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=STEP_CONFIG,
            **self.target(resource_id),
        )
        self.assertEqual(step["PolicyARN"], tracking["PolicyARN"])
        self.assertEqual(self.alarm_names([a["AlarmName"] for a in tracking["Alarms"]]), [])

    def test_configurations_round_trip_exactly(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        self.aas.put_scaling_policy(
            PolicyName="steps",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=STEP_CONFIG,
            **self.target(resource_id),
        )
        self.aas.put_scaling_policy(
            PolicyName="backlog",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=TARGET_TRACKING_CUSTOM,
            **self.target(resource_id),
        )
        policies = {
            p["PolicyName"]: p
            for p in self.aas.describe_scaling_policies(
                ServiceNamespace="ecs", ResourceId=resource_id
            )["ScalingPolicies"]
        }
        self.assertEqual(policies["steps"]["StepScalingPolicyConfiguration"], STEP_CONFIG)
        self.assertEqual(
            policies["backlog"]["TargetTrackingScalingPolicyConfiguration"], TARGET_TRACKING_CUSTOM
        )

    def test_unregistered_target_is_object_not_found(self) -> None:
        with self.assertRaises(ClientError) as caught:
            self.put_target_tracking(self.service(), "cpu")
        self.assertEqual(error_code(caught), "ObjectNotFoundException")


class DeleteAndDeregisterTest(AasTestCase):
    """Gap (d): ObjectNotFoundException and the deregistration cascade."""

    def test_delete_missing_policy_is_object_not_found(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        with self.assertRaises(ClientError) as caught:
            self.aas.delete_scaling_policy(PolicyName="absent", **self.target(resource_id))
        self.assertEqual(error_code(caught), "ObjectNotFoundException")

    def test_deregister_missing_target_is_object_not_found(self) -> None:
        with self.assertRaises(ClientError) as caught:
            self.aas.deregister_scalable_target(**self.target(self.service()))
        self.assertEqual(error_code(caught), "ObjectNotFoundException")

    def test_delete_policy_deletes_its_alarms(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        alarms = [a["AlarmName"] for a in self.put_target_tracking(resource_id, "cpu")["Alarms"]]
        self.assertEqual(self.alarm_names(alarms), sorted(alarms))
        self.aas.delete_scaling_policy(PolicyName="cpu", **self.target(resource_id))
        self.assertEqual(self.alarm_names(alarms), [])

    def test_deregister_deletes_policies_alarms_and_scheduled_actions(self) -> None:
        resource_id = self.service()
        self.register(resource_id)
        alarms = [a["AlarmName"] for a in self.put_target_tracking(resource_id, "cpu")["Alarms"]]
        self.aas.put_scaling_policy(
            PolicyName="steps",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=STEP_CONFIG,
            **self.target(resource_id),
        )
        self.aas.put_scheduled_action(
            ScheduledActionName="nightly",
            Schedule="cron(0 0 * * ? *)",
            ScalableTargetAction={"MinCapacity": 0},
            **self.target(resource_id),
        )
        self.aas.deregister_scalable_target(**self.target(resource_id))
        policies = self.aas.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=resource_id
        )["ScalingPolicies"]
        actions = self.aas.describe_scheduled_actions(
            ServiceNamespace="ecs", ResourceId=resource_id
        )["ScheduledActions"]
        self.assertEqual((policies, actions), ([], []))
        self.assertEqual(self.alarm_names(alarms), [])


class StepScalingAlarmsTest(AasTestCase):
    """Alarms that invoke a step scaling policy: listed, and unhooked on delete."""

    def setUp(self) -> None:
        self.resource_id = self.service()
        self.register(self.resource_id)
        self.policy_arn = self.aas.put_scaling_policy(
            PolicyName="steps",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=STEP_CONFIG,
            **self.target(self.resource_id),
        )["PolicyARN"]
        self.alarm = unique("backlog-high")
        self.other_action = "arn:aws:sns:us-east-1:123456789012:ops"
        self.cloudwatch.put_metric_alarm(
            AlarmName=self.alarm,
            ComparisonOperator="GreaterThanThreshold",
            EvaluationPeriods=1,
            Threshold=5.0,
            Metrics=ALARM_METRICS,
            AlarmActions=[self.policy_arn, self.other_action],
        )

    def alarm_actions(self) -> list[str]:
        (alarm,) = self.cloudwatch.describe_alarms(AlarmNames=[self.alarm])["MetricAlarms"]
        return alarm["AlarmActions"]

    def test_step_policy_lists_the_alarms_that_invoke_it(self) -> None:
        (policy,) = self.aas.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=self.resource_id
        )["ScalingPolicies"]
        self.assertEqual([alarm["AlarmName"] for alarm in policy["Alarms"]], [self.alarm])

    def test_deleting_the_policy_keeps_the_alarm_but_drops_the_action(self) -> None:
        self.aas.delete_scaling_policy(PolicyName="steps", **self.target(self.resource_id))
        self.assertEqual(self.alarm_actions(), [self.other_action])

    def test_deregistering_the_target_drops_the_action(self) -> None:
        self.aas.deregister_scalable_target(**self.target(self.resource_id))
        self.assertEqual(self.alarm_actions(), [self.other_action])


class ParallelClientsTest(AasTestCase):
    """Many clients at once, as the provider's parallel tests will be."""

    def test_concurrent_registrations_and_listings(self) -> None:
        resource_ids = [self.service() for _ in range(8)]

        def work(resource_id: str) -> int:
            aas = aws_client("application-autoscaling")
            aas.register_scalable_target(**self.target(resource_id), MinCapacity=1, MaxCapacity=3)
            self.put_target_tracking(resource_id, "cpu")
            listed = 0
            for _ in range(5):
                paginator = aas.get_paginator("describe_scalable_targets")
                listed = sum(
                    len(page["ScalableTargets"])
                    for page in paginator.paginate(ServiceNamespace="ecs")
                )
            return listed

        with ThreadPoolExecutor(max_workers=8) as pool:
            listed = list(pool.map(work, resource_ids))
        self.assertTrue(all(count >= len(resource_ids) for count in listed), listed)
        policies = self.aas.describe_scaling_policies(ServiceNamespace="ecs", PolicyNames=["cpu"])
        self.assertTrue(policies["ScalingPolicies"])


# ---------------------------------------------------------------------------
# CloudWatch, over awsJson (boto3's choice) and Smithy RPC v2 CBOR (Rust's)
# ---------------------------------------------------------------------------


class CloudWatchBehaviour:
    """Gap (e) and alarm round trips; mixed into one TestCase per protocol."""

    cloudwatch: Any

    def put_alarm(self, name: str, **extra: Any) -> str:
        """Put a metric-math alarm and return its ARN."""
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=10.0,
            TreatMissingData="notBreaching",
            Metrics=ALARM_METRICS,
            AlarmActions=[
                "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:resource/ecs/service/c/s:policyName/p"
            ],
            **extra,
        )
        (alarm,) = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return alarm["AlarmArn"]

    def tags(self, arn: str) -> dict[str, str]:
        return {
            t["Key"]: t["Value"]
            for t in self.cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]
        }

    def test_metric_math_alarm_round_trips_with_tags(self) -> None:
        name = unique("backlog")
        arn = self.put_alarm(name, Tags=[{"Key": "team", "Value": "core"}])
        (alarm,) = self.cloudwatch.describe_alarms(AlarmNames=[name, unique("absent")])[
            "MetricAlarms"
        ]
        self.assertEqual(arn, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")
        self.assertEqual(alarm["Threshold"], 10.0)
        self.assertEqual((alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]), (3, 2))
        self.assertEqual(alarm["TreatMissingData"], "notBreaching")
        self.assertEqual(alarm["Metrics"], ALARM_METRICS)
        self.assertEqual(self.tags(arn), {"team": "core"})

    def put_stat_alarm(self, name: str, extended_statistic: str) -> None:
        """Put a single-metric alarm on ``extended_statistic``."""
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            EvaluationPeriods=1,
            Threshold=1.0,
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": "jobs"}],
            Period=300,
            ExtendedStatistic=extended_statistic,
        )

    def test_trimmed_means_and_other_extended_statistics_are_accepted(self) -> None:
        accepted = ("tm90", "wm98", "tc90", "ts99.5", "IQM", "TM(10%:90%)", "TC(:0.5)")
        for stat in (*accepted, "PR(100:2000)", "p99"):
            with self.subTest(stat=stat):
                name = unique("stat")
                self.put_stat_alarm(name, stat)
                (alarm,) = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
                self.assertEqual(alarm["ExtendedStatistic"], stat)
                self.assertNotIn("Statistic", alarm)

    def test_statistics_cloudwatch_does_not_know_are_still_refused(self) -> None:
        for stat in ("Median", "TM90", "tm101", "PR(10%:20%)", "TM(90%:10%)", "TM(:)"):
            with self.subTest(stat=stat):
                with self.assertRaises(ClientError) as caught:
                    self.put_stat_alarm(unique("stat"), stat)
                self.assertEqual(error_code(caught), "InvalidParameterValue")

    def test_list_tags_of_missing_alarm_is_resource_not_found(self) -> None:
        with self.assertRaises(ClientError) as caught:
            self.cloudwatch.list_tags_for_resource(
                ResourceARN=f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{unique('x')}"
            )
        self.assertEqual(error_code(caught), "ResourceNotFoundException")

    def test_delete_alarms_skips_missing_names_as_documented(self) -> None:
        name = unique("a")
        self.put_alarm(name)
        self.cloudwatch.delete_alarms(AlarmNames=[name, unique("absent")])
        self.assertEqual(self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"], [])

    def test_tags_on_update_are_ignored(self) -> None:
        name = unique("a")
        arn = self.put_alarm(name, Tags=[{"Key": "a", "Value": "1"}])
        self.put_alarm(name, Tags=[{"Key": "b", "Value": "2"}])
        self.assertEqual(self.tags(arn), {"a": "1"})

    def test_tags_die_with_the_alarm(self) -> None:
        name = unique("a")
        arn = self.put_alarm(name, Tags=[{"Key": "a", "Value": "1"}])
        self.cloudwatch.delete_alarms(AlarmNames=[name])
        self.put_alarm(name)
        self.assertEqual(self.tags(arn), {})

    def test_tag_and_untag_alarm(self) -> None:
        arn = self.put_alarm(unique("a"))
        self.cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["never-set"])
        self.cloudwatch.tag_resource(
            ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        )
        self.cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["a"])
        self.assertEqual(self.tags(arn), {"b": "2"})
        with self.assertRaises(ClientError) as caught:
            self.cloudwatch.tag_resource(
                ResourceARN=arn + "-absent", Tags=[{"Key": "a", "Value": "1"}]
            )
        self.assertEqual(error_code(caught), "ResourceNotFoundException")


class CloudWatchJsonTest(CloudWatchBehaviour, unittest.TestCase):
    """CloudWatch behaviour over awsJson1_0."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.cloudwatch = aws_client("cloudwatch")
        assert cls.cloudwatch.meta.service_model.resolved_protocol == "json"


class CloudWatchCborTest(CloudWatchBehaviour, unittest.TestCase):
    """CloudWatch behaviour over Smithy RPC v2 CBOR, through the bridge."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.cloudwatch = cbor_cloudwatch_client()

    def test_wire_format_uses_doubles_and_tagged_timestamps(self) -> None:
        name = unique("wire")
        self.put_alarm(name)
        status, headers, document = cbor_request("DescribeAlarms", {"AlarmNames": [name]})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        (alarm,) = document["MetricAlarms"]
        self.assertIsInstance(alarm["Threshold"], float)
        self.assertIsInstance(alarm["EvaluationPeriods"], int)
        self.assertIsInstance(alarm["StateUpdatedTimestamp"], Tagged)
        self.assertEqual(alarm["StateUpdatedTimestamp"].tag, 1)

    def test_wire_format_of_errors(self) -> None:
        arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{unique('x')}"
        status, headers, document = cbor_request("ListTagsForResource", {"ResourceARN": arn})
        self.assertEqual(status, 404)
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(headers["x-amzn-query-error"], "ResourceNotFoundException;Sender")
        self.assertEqual(document["__type"].rsplit("#", 1)[-1], "ResourceNotFoundException")

    def test_operation_without_output_has_empty_body(self) -> None:
        status, headers, document = cbor_request("DeleteAlarms", {"AlarmNames": [unique("absent")]})
        self.assertEqual((status, document), (200, None))
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")

    def test_aas_managed_alarm_thresholds_are_doubles(self) -> None:
        # moto stores these thresholds as ints; the output shape makes them doubles.
        ecs, aas = aws_client("ecs"), aws_client("application-autoscaling")
        cluster, service = unique("cluster"), unique("svc")
        ecs.create_cluster(clusterName=cluster)
        ecs.create_service(cluster=cluster, serviceName=service, desiredCount=1)
        target = {
            "ServiceNamespace": "ecs",
            "ResourceId": f"service/{cluster}/{service}",
            "ScalableDimension": ECS_DIMENSION,
        }
        aas.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
        policy = aas.put_scaling_policy(
            PolicyName="cpu",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=TARGET_TRACKING_CUSTOM,
            **target,
        )
        _, _, document = cbor_request(
            "DescribeAlarms", {"AlarmNames": [policy["Alarms"][0]["AlarmName"]]}
        )
        self.assertIsInstance(document["MetricAlarms"][0]["Threshold"], float)

    def test_malformed_cbor_is_a_serialization_error(self) -> None:
        status, _, raw = http_request(
            "POST",
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            b"\xa1\x63",
            {
                "smithy-protocol": "rpc-v2-cbor",
                "Content-Type": "application/cbor",
                "Authorization": FAKE_SIGV4.format(service="monitoring"),
            },
        )
        self.assertEqual(status, 400)
        self.assertEqual(cbor_loads(raw)["__type"], "SerializationException")


# ---------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------


class FaultInjectionTest(AasTestCase):
    """The /_queuescale/faults control API and the injected errors per protocol."""

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        status, fault = control("POST", "faults", spec)
        self.assertEqual(status, 200, fault)
        self.addCleanup(control, "DELETE", f"faults/{fault['id']}")
        return fault

    def fault_state(self, fault_id: str) -> dict[str, Any]:
        _, listing = control("GET", "faults")
        (fault,) = [f for f in listing["faults"] if f["id"] == fault_id]
        return fault

    def test_json_throttling_for_count_requests_then_pass_through(self) -> None:
        resource_id = self.service()
        fault = self.add_fault(
            operation="RegisterScalableTarget",
            error="ThrottlingException",
            status=400,
            message="Rate exceeded",
            count=2,
            match=resource_id,
        )
        self.assertEqual((fault["fired"], fault["remaining"]), (0, 2))
        for _ in range(2):
            with self.assertRaises(ClientError) as caught:
                self.register(resource_id)
            response = caught.exception.response
            self.assertEqual(error_code(caught), "ThrottlingException")
            self.assertEqual(response["Error"]["Message"], "Rate exceeded")
            self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 400)
            headers = response["ResponseMetadata"]["HTTPHeaders"]
            self.assertEqual(headers["x-amzn-errortype"], "ThrottlingException")
            self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
        self.register(resource_id)
        self.assertEqual(self.fault_state(fault["id"])["fired"], 2)
        self.assertEqual(self.fault_state(fault["id"])["remaining"], 0)

    def test_internal_failure_is_a_5xx(self) -> None:
        resource_id = self.service()
        self.add_fault(
            operation="RegisterScalableTarget",
            error="InternalFailure",
            status=500,
            count=1,
            match=resource_id,
        )
        with self.assertRaises(ClientError) as caught:
            self.register(resource_id)
        self.assertEqual(error_code(caught), "InternalFailure")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)

    def test_match_only_hits_requests_containing_the_substring(self) -> None:
        hit, miss = self.service(), self.service()
        fault = self.add_fault(
            operation="RegisterScalableTarget", error="ThrottlingException", match=hit
        )
        self.register(miss)
        with self.assertRaises(ClientError):
            self.register(hit)
        self.assertEqual(self.fault_state(fault["id"])["fired"], 1)

    def test_access_key_filter_hits_only_requests_signed_with_that_key(self) -> None:
        self.add_fault(
            operation="GetCallerIdentity",
            error="InvalidClientTokenId",
            status=403,
            access_key="AKIAQSREJECTED000001",
        )
        self.assertIn("Account", aws_client("sts").get_caller_identity())
        rejected = aws_client("sts", access_key="AKIAQSREJECTED000001")
        with self.assertRaises(ClientError) as caught:
            rejected.get_caller_identity()
        self.assertEqual(error_code(caught), "InvalidClientTokenId")

    def test_requests_are_counted_per_access_key(self) -> None:
        key = "AKIAQSCOUNTED0000001"
        self.addCleanup(control, "DELETE", f"requests/{key}")
        sts = aws_client("sts", access_key=key)
        sts.get_caller_identity()
        sts.get_caller_identity()
        aws_client("sqs", access_key=key).list_queues()
        status, counts = control("GET", f"requests/{key}")
        self.assertEqual(status, 200)
        self.assertEqual(counts["requests"], {"sts:GetCallerIdentity": 2, "sqs:ListQueues": 1})
        control("DELETE", f"requests/{key}")
        self.assertEqual(control("GET", f"requests/{key}")[1]["requests"], {})

    def test_service_filter_uses_the_signing_name(self) -> None:
        resource_id = self.service()
        arn = self.register(resource_id)
        self.add_fault(
            operation="ListTagsForResource",
            error="ThrottlingException",
            service="cloudwatch",
            match=arn,
        )
        self.assertEqual(self.aas.list_tags_for_resource(ResourceARN=arn)["Tags"], {})
        self.add_fault(
            operation="ListTagsForResource",
            error="ThrottlingException",
            service="application-autoscaling",
            match=arn,
        )
        with self.assertRaises(ClientError):
            self.aas.list_tags_for_resource(ResourceARN=arn)

    def test_query_protocol_error_is_xml(self) -> None:
        self.add_fault(
            operation="GetCallerIdentity", error="Throttling", message="slow down", count=1
        )
        sts = aws_client("sts")
        with self.assertRaises(ClientError) as caught:
            sts.get_caller_identity()
        self.assertEqual(
            caught.exception.response["Error"],
            {"Type": "Sender", "Code": "Throttling", "Message": "slow down"},
        )
        self.assertIn(
            "text/xml", caught.exception.response["ResponseMetadata"]["HTTPHeaders"]["content-type"]
        )
        sts.get_caller_identity()

    def test_query_compatible_json_error_carries_x_amzn_query_error(self) -> None:
        queue = unique("queue")
        sqs = aws_client("sqs")
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        self.add_fault(
            operation="GetQueueAttributes",
            error="AWS.SimpleQueueService.NonExistentQueue",
            message="gone",
            count=1,
            match=queue,
            service="sqs",
        )
        with self.assertRaises(ClientError) as caught:
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        headers = caught.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(
            headers["x-amzn-query-error"], "AWS.SimpleQueueService.NonExistentQueue;Sender"
        )
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        self.assertEqual(error_code(caught), "AWS.SimpleQueueService.NonExistentQueue")
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])

    def test_cbor_error_body_and_headers(self) -> None:
        name = unique("alarm")
        self.add_fault(
            operation="DescribeAlarms",
            error="ThrottlingException",
            message="Rate exceeded",
            count=1,
            match=name,
        )
        status, headers, document = cbor_request("DescribeAlarms", {"AlarmNames": [name]})
        self.assertEqual(status, 400)
        self.assertEqual(document, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["x-amzn-query-error"], "ThrottlingException;Sender")
        status, _, _ = cbor_request("DescribeAlarms", {"AlarmNames": [name]})
        self.assertEqual(status, 200)

    def test_cbor_error_without_query_mode_has_no_query_header(self) -> None:
        name = unique("alarm")
        self.add_fault(
            operation="DescribeAlarms", error="InternalFailure", status=503, count=1, match=name
        )
        status, headers, document = cbor_request(
            "DescribeAlarms", {"AlarmNames": [name]}, query_mode=False
        )
        self.assertEqual((status, document["__type"]), (503, "InternalFailure"))
        self.assertNotIn("x-amzn-query-error", headers)

    def test_cbor_error_parsed_by_botocore(self) -> None:
        name = unique("alarm")
        self.add_fault(
            operation="DeleteAlarms", error="ThrottlingException", status=400, count=1, match=name
        )
        cloudwatch = cbor_cloudwatch_client()
        with self.assertRaises(ClientError) as caught:
            cloudwatch.delete_alarms(AlarmNames=[name])
        self.assertEqual(error_code(caught), "ThrottlingException")
        cloudwatch.delete_alarms(AlarmNames=[name])

    def test_seeded_rate_is_reproducible(self) -> None:
        marker = unique("rate")

        def pattern() -> list[bool]:
            fault = self.add_fault(
                operation="DescribeAlarms",
                error="ThrottlingException",
                rate=0.5,
                seed=42,
                match=marker,
            )
            outcomes = [
                cbor_request("DescribeAlarms", {"AlarmNames": [marker]})[0] == 400
                for _ in range(20)
            ]
            self.assertEqual(self.fault_state(fault["id"])["fired"], sum(outcomes))
            control("DELETE", f"faults/{fault['id']}")
            return outcomes

        first = pattern()
        self.assertEqual(pattern(), first)
        self.assertTrue(0 < sum(first) < 20, first)

    def test_rate_with_count_stops_after_count(self) -> None:
        marker = unique("both")
        fault = self.add_fault(
            operation="DescribeAlarms", error="ThrottlingException", rate=1.0, count=3, match=marker
        )
        statuses = [cbor_request("DescribeAlarms", {"AlarmNames": [marker]})[0] for _ in range(5)]
        self.assertEqual(statuses, [400, 400, 400, 200, 200])
        self.assertEqual(self.fault_state(fault["id"])["remaining"], 0)

    def test_fault_without_count_or_rate_fires_until_deleted(self) -> None:
        marker = unique("outage")
        spec = {
            "operation": "DescribeAlarms",
            "error": "InternalFailure",
            "status": 500,
            "match": marker,
        }
        _, fault = control("POST", "faults", spec)
        for _ in range(3):
            self.assertEqual(cbor_request("DescribeAlarms", {"AlarmNames": [marker]})[0], 500)
        self.assertEqual(control("DELETE", f"faults/{fault['id']}"), (200, {"deleted": 1}))
        self.assertEqual(cbor_request("DescribeAlarms", {"AlarmNames": [marker]})[0], 200)
        self.assertEqual(control("DELETE", f"faults/{fault['id']}")[0], 404)

    def test_after_fault_acts_first_and_loses_the_reply(self) -> None:
        queue = unique("lost-reply")
        fault = self.add_fault(
            operation="CreateQueue", error="InternalFailure", status=500, count=1,
            match=queue, after=True,
        )
        sqs = aws_client("sqs")
        with self.assertRaises(ClientError) as caught:
            sqs.create_queue(QueueName=queue)
        self.assertEqual(caught.exception.response["Error"]["Code"], "InternalFailure")
        self.assertEqual(self.fault_state(fault["id"])["fired"], 1)
        # AWS acted although the caller saw an error.
        self.assertTrue(sqs.get_queue_url(QueueName=queue)["QueueUrl"].endswith(queue))
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])

    def test_after_must_be_a_boolean(self) -> None:
        status, _ = control(
            "POST", "faults", {"operation": "CreateQueue", "error": "X", "after": "yes"}
        )
        self.assertEqual(status, 400)

    def queue_exists(self, queue: str) -> bool:
        try:
            aws_client("sqs").get_queue_url(QueueName=queue)
        except ClientError as error:
            self.assertEqual(
                error.response["Error"]["Code"], "AWS.SimpleQueueService.NonExistentQueue"
            )
            return False
        return True

    def impatient_sqs(self, read_timeout: float) -> Any:
        """An SQS client that gives up on a reply after ``read_timeout`` seconds."""
        return boto3.Session().client(
            "sqs",
            endpoint_url=EMULATOR.url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                read_timeout=read_timeout,
            ),
        )

    def wait_until(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"{what} did not happen within {timeout} s")
            time.sleep(0.05)

    def test_delay_holds_the_request_then_answers_as_usual(self) -> None:
        queue = unique("slow")
        fault = self.add_fault(operation="CreateQueue", delay_seconds=1.0, count=1, match=queue)
        self.assertEqual((fault["error"], fault["delay_seconds"]), (None, 1.0))
        sqs = aws_client("sqs")
        started = time.monotonic()
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.assertTrue(url.endswith(queue))
        self.assertEqual(self.fault_state(fault["id"])["fired"], 1)
        self.assertEqual(self.fault_state(fault["id"])["abandoned"], 0)
        # Counted: the next request is not held.
        started = time.monotonic()
        sqs.get_queue_url(QueueName=queue)
        sqs.delete_queue(QueueUrl=url)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_a_held_request_abandoned_by_its_client_never_takes_effect(self) -> None:
        queue = unique("abandoned")
        fault = self.add_fault(operation="CreateQueue", delay_seconds=2.0, count=1, match=queue)
        started = time.monotonic()
        with self.assertRaises(botocore.exceptions.ReadTimeoutError):
            self.impatient_sqs(0.3).create_queue(QueueName=queue)
        self.wait_until(
            lambda: self.fault_state(fault["id"])["abandoned"] == 1, 1.5, "the abandonment"
        )
        # Noticed during the hold, not at its end.
        self.assertLess(time.monotonic() - started, 2.0)
        time.sleep(max(0.0, started + 2.5 - time.monotonic()))
        self.assertFalse(self.queue_exists(queue))

    def test_delay_after_acts_first_and_answers_late(self) -> None:
        queue = unique("slow-reply")
        fault = self.add_fault(
            operation="CreateQueue", delay_seconds=1.5, count=1, match=queue, after=True
        )
        started = time.monotonic()
        with self.assertRaises(botocore.exceptions.ReadTimeoutError):
            self.impatient_sqs(0.3).create_queue(QueueName=queue)
        # AWS acted although the caller is still waiting for the reply.
        self.assertTrue(self.queue_exists(queue))
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertEqual(self.fault_state(fault["id"])["abandoned"], 0)
        sqs = aws_client("sqs")
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])

    def test_delay_with_an_error_answers_the_error_late_without_acting(self) -> None:
        queue = unique("slow-error")
        self.add_fault(
            operation="CreateQueue",
            error="ServiceUnavailable",
            status=503,
            delay_seconds=0.5,
            count=1,
            match=queue,
        )
        started = time.monotonic()
        with self.assertRaises(ClientError) as caught:
            aws_client("sqs").create_queue(QueueName=queue)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.assertEqual(error_code(caught), "ServiceUnavailable")
        self.assertFalse(self.queue_exists(queue))

    def test_delay_must_be_a_positive_number_of_at_most_an_hour(self) -> None:
        for delay in (0, -1, "1", True, 3601, None):
            with self.subTest(delay=delay):
                status, answer = control(
                    "POST", "faults", {"operation": "CreateQueue", "delay_seconds": delay}
                )
                self.assertEqual(status, 400)
                self.assertIn("error", answer)

    def test_count_is_exact_under_concurrency(self) -> None:
        marker = unique("parallel")
        fault = self.add_fault(
            operation="DescribeAlarms", error="ThrottlingException", count=5, match=marker
        )
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(
                pool.map(
                    lambda _: cbor_request("DescribeAlarms", {"AlarmNames": [marker]})[0], range(20)
                )
            )
        self.assertEqual((statuses.count(400), statuses.count(200)), (5, 15))
        self.assertEqual(self.fault_state(fault["id"])["fired"], 5)

    def test_invalid_specs_are_rejected(self) -> None:
        for spec in (
            {"error": "ThrottlingException"},
            {"operation": "DescribeAlarms"},
            {"operation": "DescribeAlarms", "error": "X", "status": 200},
            {"operation": "DescribeAlarms", "error": "X", "rate": 1.5},
            {"operation": "DescribeAlarms", "error": "X", "count": 0},
            {"operation": "DescribeAlarms", "error": "X", "colour": "red"},
            [],
        ):
            with self.subTest(spec=spec):
                status, answer = control("POST", "faults", spec)
                self.assertEqual(status, 400)
                self.assertIn("error", answer)

    def test_list_and_clear(self) -> None:
        # Every other test deletes its own faults, so clearing disturbs none of them.
        ids = {self.add_fault(operation=op, error="X")["id"] for op in ("A", "B")}
        _, listing = control("GET", "faults")
        self.assertLessEqual(ids, {fault["id"] for fault in listing["faults"]})
        status, cleared = control("DELETE", "faults")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(cleared["deleted"], 2)
        self.assertEqual(control("GET", "faults"), (200, {"faults": []}))


if __name__ == "__main__":
    unittest.main()
