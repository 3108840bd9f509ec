"""The worker against the embedded emulator's SQS and a fake ECS container agent.

The fake agent answers ``PUT /task-protection/v1/state`` as ECS's agent does and, while
the worker waits for its answer, reads the queue's counts from the emulator: so each
protection call is recorded with the state of the message it surrounds (received and in
flight when protection is set, deleted when it is cleared).

Run with ``python -m unittest`` from this folder (``make test`` does).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
EMULATOR = HERE.parent.parent / "tests" / "emulator" / "queuescale_emulator.py"
REGION = "us-east-1"
READY = re.compile(rb"^QUEUESCALE_EMULATOR_READY (http://127\.0\.0\.1:\d+)\s*$")


class Emulator:
    """The embedded emulator as a child process (its launcher contract: one ready line)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(EMULATOR), "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else b""
        match = READY.match(line)
        if match is None:
            self.close()
            raise AssertionError(f"the emulator did not start: {line!r}")
        self.url = match.group(1).decode()

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def sqs_client(url: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


class FakeAgent(http.server.ThreadingHTTPServer):
    """ECS's container agent, as far as task scale-in protection goes."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), AgentHandler)
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.queue_url: str | None = None
        self.sqs: Any = None
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/api/task-id"

    def counts(self) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def enabled_calls(self) -> list[bool]:
        with self.lock:
            return [c["body"]["ProtectionEnabled"] for c in self.calls]

    def reset(self, queue_url: str, sqs: Any) -> None:
        with self.lock:
            self.calls = []
            self.queue_url = queue_url
            self.sqs = sqs


class AgentHandler(http.server.BaseHTTPRequestHandler):
    server: FakeAgent

    def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "/api/task-id/task-protection/v1/state":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        visible, in_flight = self.server.counts()
        with self.server.lock:
            self.server.calls.append(
                {"body": body, "visible": visible, "in_flight": in_flight, "at": time.monotonic()}
            )
        answer = json.dumps(
            {
                "protection": {
                    "ProtectionEnabled": body["ProtectionEnabled"],
                    "ExpirationDate": "2026-12-01T00:10:00Z",
                    "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/main/test",
                }
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        """Quiet."""


EMU: Emulator
AGENT: FakeAgent


def setUpModule() -> None:
    global EMU, AGENT
    EMU = Emulator()
    AGENT = FakeAgent()


def tearDownModule() -> None:
    AGENT.shutdown()
    AGENT.server_close()
    EMU.close()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class WorkerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.sqs = sqs_client(EMU.url)
        name = f"worker-{uuid.uuid4().hex[:10]}"
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        AGENT.reset(self.queue_url, self.sqs)
        self.worker: subprocess.Popen[str] | None = None

    def tearDown(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.kill()
            self.worker.wait()
        if self.worker:
            self.reader.join(timeout=10)
            if self.worker.stdout:
                self.worker.stdout.close()
        self.sqs.delete_queue(QueueUrl=self.queue_url)

    def start(self, **env: str) -> None:
        environment = {
            **os.environ,
            "QUEUE_URL": self.queue_url,
            "ECS_AGENT_URI": AGENT.uri,
            "AWS_ENDPOINT_URL": EMU.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "WAIT_SECONDS": "1",
            **env,
        }
        self.worker = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py")],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(self.worker.stdout,))
        self.reader.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def log(self) -> str:
        return "".join(self.lines)

    def send(self, body: str) -> str:
        return self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"]

    def stop(self, timeout: float = 15) -> str:
        """SIGTERM; the worker's exit code must be 0. Returns its log."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGTERM)
        code = self.worker.wait(timeout=timeout)
        self.reader.join(timeout=10)
        log = self.log()
        self.assertEqual(code, 0, log)
        return log

    def test_protection_is_set_while_each_message_is_in_flight_and_cleared_after_its_delete(
        self,
    ) -> None:
        ids = [self.send(f"job {i}") for i in range(3)]
        self.start()
        wait_for(lambda: len(AGENT.calls) == 6, 30, "six protection calls")
        wait_for(lambda: AGENT.counts() == (0, 0), 10, "an empty queue")
        log = self.stop()
        calls = AGENT.calls
        self.assertEqual(AGENT.enabled_calls(), [True, False] * 3, log)
        for i, (on, off) in enumerate(zip(calls[0::2], calls[1::2])):
            # Set after the receive: this message in flight, the rest still waiting.
            self.assertEqual(on["body"], {"ProtectionEnabled": True, "ExpiresInMinutes": 10})
            self.assertEqual((on["visible"], on["in_flight"]), (2 - i, 1), log)
            # Cleared after the delete: nothing in flight.
            self.assertEqual(off["body"], {"ProtectionEnabled": False})
            self.assertEqual((off["visible"], off["in_flight"]), (2 - i, 0), log)
        for ident in ids:
            self.assertEqual(log.count(f"deleted {ident}"), 1, log)

    def test_a_long_message_renews_protection_and_visibility_until_it_is_done(self) -> None:
        ident = self.send(json.dumps({"seconds": 3}))
        # Visibility 2 s: without renewals the message would be visible again mid-way.
        self.start(VISIBILITY_SECONDS="2", HEARTBEAT_SECONDS="0.5", PROTECTION_MINUTES="1")
        wait_for(lambda: AGENT.enabled_calls()[-1:] == [False], 30, "the unprotect call")
        log = self.stop()
        enabled = AGENT.enabled_calls()
        self.assertGreaterEqual(enabled.count(True), 4, log)
        self.assertEqual(enabled[-1], False)
        self.assertNotIn(False, enabled[:-1], "protection held until the delete")
        for call in AGENT.calls[:-1]:
            self.assertEqual(call["body"]["ExpiresInMinutes"], 1)
            self.assertEqual((call["visible"], call["in_flight"]), (0, 1), log)
        self.assertEqual(log.count(f"protected for {ident}"), 1, "received once")
        self.assertEqual(AGENT.counts(), (0, 0))

    def test_sigterm_finishes_the_message_in_hand_and_receives_no_other(self) -> None:
        first = self.send(json.dumps({"seconds": 2}))
        self.start()
        wait_for(lambda: AGENT.enabled_calls() == [True], 30, "the first message in hand")
        second = self.send("after the signal")
        log = self.stop()
        self.assertEqual(AGENT.enabled_calls(), [True, False], log)
        signalled = log.index("signal 15")
        self.assertGreater(log.index(f"deleted {first}"), signalled, log)
        self.assertGreater(log.index(f"unprotected after {first}"), signalled, log)
        self.assertNotIn(second, log)
        self.assertEqual(AGENT.counts(), (1, 0), "the second message waits for another task")

    def test_sigterm_while_idle_stops_within_one_long_poll(self) -> None:
        self.start()
        wait_for(lambda: "consuming" in self.log(), 30, "the worker to start")
        started = time.monotonic()
        log = self.stop(timeout=10)
        self.assertLess(time.monotonic() - started, 5, log)
        self.assertEqual(AGENT.calls, [], "no message, no protection call")


if __name__ == "__main__":
    unittest.main()
