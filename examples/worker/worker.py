#!/usr/bin/env python3
"""An SQS consumer for an ECS service scaled by queuescale: it never loses a message to
a scale-in.

For each message: receive, protect the task (ECS task scale-in protection), process,
delete, unprotect. While a long message is processed, a heartbeat renews both the
protection and the message's visibility. SIGTERM (a deployment, a scale-in that caught
the task between messages, a drain) finishes the message in hand, then exits.

Why protection: Application Auto Scaling decides on CloudWatch datapoints that are at
least a minute old, and ECS picks which task to stop without knowing which are busy. A
protected task is not stopped by a scale-in until its protection ends.

Configuration (environment):

    QUEUE_URL             the queue to consume (required)
    ECS_AGENT_URI         set by ECS in every task; without it (local runs) protection
                          calls are skipped
    PROTECTION_MINUTES    ExpiresInMinutes of each protection, 1-2880 (default 10)
    VISIBILITY_SECONDS    visibility each heartbeat gives the message (default 120)
    HEARTBEAT_SECONDS     seconds between renewals (default: a third of the shorter of
                          the two above, so two renewals can fail before either lapses)
    WAIT_SECONDS          long-poll wait, 0-20 (default 20)

The task role needs ``ecs:UpdateTaskProtection`` on its own task (the agent calls ECS
with the task's credentials) and ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and
``sqs:ChangeMessageVisibility`` on the queue.

Only ``handle`` is specific to an application; replace it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import boto3

LOG = logging.getLogger("worker")


def handle(body: str) -> None:
    """Process one message. This example sleeps for ``{"seconds": N}`` and prints the rest."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("seconds"), (int, float)):
        time.sleep(float(document["seconds"]))
    else:
        print(f"message: {body}", flush=True)


class Protection:
    """ECS task scale-in protection through the container agent's endpoint.

    ``PUT $ECS_AGENT_URI/task-protection/v1/state`` with ``ProtectionEnabled`` and
    ``ExpiresInMinutes`` (ECS developer guide, "Amazon ECS task scale-in protection
    endpoint"). A failed call is logged, never raised: a worker that cannot protect
    itself still processes its message, it is only exposed to a scale-in as it would be
    without protection.
    """

    def __init__(self, agent_uri: str | None, minutes: int) -> None:
        self.url = agent_uri.rstrip("/") + "/task-protection/v1/state" if agent_uri else None
        self.minutes = minutes

    def set(self, enabled: bool) -> bool:
        """Enable (for ``minutes``) or clear protection; True when the agent confirms it."""
        if self.url is None:
            return False
        document: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled:
            document["ExpiresInMinutes"] = self.minutes
        request = urllib.request.Request(
            self.url,
            data=json.dumps(document).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as error:
            LOG.warning("task protection %s failed: %s", enabled, error)
            return False
        if "protection" not in answer:
            LOG.warning("task protection %s refused: %s", enabled, answer)
            return False
        return True


class Heartbeat:
    """Renews protection and visibility every ``every`` seconds until stopped."""

    def __init__(self, every: float, renew: Callable[[], None]) -> None:
        self.every = every
        self.renew = renew
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.done.wait(self.every):
            try:
                self.renew()
            except Exception:  # the next beat tries again; processing goes on
                LOG.exception("renewal failed")

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


class Worker:
    """The receive → protect → process → delete → unprotect loop."""

    def __init__(self, env: dict[str, str], sqs: Any = None) -> None:
        self.queue_url = env["QUEUE_URL"]
        minutes = int(env.get("PROTECTION_MINUTES", "10"))
        if not 1 <= minutes <= 2880:
            raise ValueError(f"PROTECTION_MINUTES must be 1 to 2880, not {minutes}")
        self.visibility = int(env.get("VISIBILITY_SECONDS", "120"))
        default_heartbeat = min(minutes * 60, self.visibility) / 3
        self.heartbeat = float(env.get("HEARTBEAT_SECONDS", default_heartbeat))
        self.wait = int(env.get("WAIT_SECONDS", "20"))
        self.protection = Protection(env.get("ECS_AGENT_URI"), minutes)
        self.sqs = sqs or boto3.client("sqs")
        self.stopping = threading.Event()

    def stop(self, signum: int = signal.SIGTERM, _frame: object = None) -> None:
        """Finish the message in hand, then return from ``run``."""
        LOG.info("signal %d: finishing the message in hand, then stopping", signum)
        self.stopping.set()

    def run(self) -> None:
        LOG.info("consuming %s", self.queue_url)
        while not self.stopping.is_set():
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=self.wait,
                VisibilityTimeout=self.visibility,
            )
            for message in answer.get("Messages", []):
                if self.stopping.is_set():
                    # Received after SIGTERM: give it back at once instead of starting it.
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                    LOG.info("returned %s unprocessed", message["MessageId"])
                    continue
                self.process(message)
        LOG.info("stopped")

    def process(self, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]
        ident = message["MessageId"]
        self.protection.set(True)
        LOG.info("protected for %s", ident)

        def renew() -> None:
            self.protection.set(True)
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=self.visibility
            )
            LOG.info("renewed %s", ident)

        try:
            with Heartbeat(self.heartbeat, renew):
                handle(message["Body"])
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
            LOG.info("deleted %s", ident)
        except Exception:
            # Not deleted: the message becomes visible again after its visibility timeout
            # (and goes to the dead-letter queue after maxReceiveCount, if one is set).
            LOG.exception("processing %s failed", ident)
        finally:
            self.protection.set(False)
            LOG.info("unprotected after %s", ident)


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s"
    )
    worker = Worker(dict(os.environ))
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
