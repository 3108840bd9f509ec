#!/usr/bin/env python3
"""Embedded AWS emulator for the queuescale provider's tests and demo.

The emulator is moto's full server application (every service, exactly as
``moto_server`` serves it) wrapped in a thin WSGI layer that adds three things:

* **Fidelity patches.**  Where moto 5.2.5 departs from documented AWS
  behaviour that the provider relies on, moto is patched in-process at start-up
  so that it behaves as AWS documents.  Every patch is a small function in the
  "Patches" section whose docstring names the AWS behaviour it restores and the
  AWS reference it follows.  No patch makes the emulator more lenient than AWS.
* **Smithy RPC v2 CBOR.**  The Rust CloudWatch SDK speaks Smithy RPC v2 CBOR,
  which moto 5.2.5 does not understand.  Such requests are translated to the
  equivalent awsJson1_0 request, handled by moto, and the answer is encoded
  back into CBOR using the operation's output shape.
* **Fault injection** under the reserved path prefix ``/_queuescale/``.

Launcher contract (the Rust test harness and ``make demo`` depend on it)::

    python tests/emulator/queuescale_emulator.py [--port N] [--verbose]

* Binds 127.0.0.1 only.  ``--port 0`` (the default) lets the OS choose a free
  port; the socket is bound before the port is read, so there is no race.
* Once the server answers HTTP, exactly one line is written to stdout,
  ``QUEUESCALE_EMULATOR_READY http://127.0.0.1:PORT``, and flushed.  Nothing
  else is ever written to stdout; logs go to stderr (quiet unless
  ``--verbose``, which also turns on request logging).
* The process exits promptly when its stdin reaches EOF (the parent holds the
  pipe, so a parent that exits, panics or is killed closes it) and on
  SIGTERM or SIGINT.

Control endpoints (JSON in, JSON out)::

    GET    /_queuescale/health        -> 200 {"status": "ok"}
    POST   /_queuescale/faults        -> 200 <fault>   (body: a fault spec)
    GET    /_queuescale/faults        -> 200 {"faults": [<fault>, ...]}
    DELETE /_queuescale/faults        -> 200 {"deleted": N}
    DELETE /_queuescale/faults/<id>   -> 200 {"deleted": 1} or 404
    GET    /_queuescale/requests/<access key id>
                                      -> 200 {"requests": {"service:Operation": N, ...}}
    DELETE /_queuescale/requests/<access key id>  -> 200 {"deleted": 1}

Requests are counted per SigV4 access key id, so a caller using its own key sees
exactly the API calls it caused (the benchmarks count calls per operation so).

A fault spec is ``{"operation": "RegisterScalableTarget", "error":
"ThrottlingException", "status": 400, "message": "Rate exceeded", "count": 2}``.
Only ``operation`` and ``error`` (or ``delay_seconds``) are required; ``status``
defaults to 400 and ``message`` to the error code.  Optional: ``"count"`` (a positive int),
``"rate"`` (0 < rate <= 1), ``"seed"`` (int, makes ``rate`` reproducible),
``"match"`` (a substring the request body must contain), ``"access_key"`` (the
SigV4 access key id that must have signed the request) and ``"service"``
(the SigV4 signing name, e.g. ``application-autoscaling``, ``monitoring`` --
``cloudwatch`` is accepted for it -- ``sqs``, ``ecs``, ``sts``) and ``"after"``
(true: the request reaches moto and takes effect first, then the error is the
answer -- a reply lost after AWS acted) and ``"delay_seconds"`` (a number in
(0, 3600]: a slow endpoint).  With ``delay_seconds`` the request is held that long
*before* it takes effect, and then answered as usual (or with ``error``, if given,
without taking effect); a client that closes its connection during the hold has
abandoned the request, which then never takes effect (counted in
``"abandoned"``).  With ``"after": true`` as well, the request takes effect first
and only the answer is held (a slow reply after AWS acted).  A <fault>
is the spec with every field filled in plus ``"id"``, ``"fired"`` (how many
requests it has hit), ``"abandoned"`` and ``"remaining"`` (``count - fired``,
or null).
See :class:`FaultRegistry` for the exact firing rules and
:func:`aws_error_response` for how each wire protocol carries the error.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import logging
import math
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from moto.applicationautoscaling import models as aas_models
from moto.applicationautoscaling import responses as aas_responses
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.cloudwatch import models as cw_models
from moto.cloudwatch.exceptions import ResourceNotFoundException
from moto.core.exceptions import JsonRESTError
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

LOG = logging.getLogger("queuescale_emulator")

HOST = "127.0.0.1"
READY_PREFIX = "QUEUESCALE_EMULATOR_READY"
CONTROL_PREFIX = "/_queuescale/"

# A WSGI response as this module passes it around: status line, headers, body.
Response = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]


# ---------------------------------------------------------------------------
# CBOR (RFC 8949): the subset Smithy RPC v2 CBOR uses
# ---------------------------------------------------------------------------


class EpochSeconds(float):
    """A timestamp in seconds since the epoch, carried as CBOR tag 1."""


class CborDecodeError(ValueError):
    """The bytes are not a single well-formed CBOR data item."""


_CBOR_BREAK = object()  # marks the end of an indefinite-length item


def cbor_encode(value: Any) -> bytes:
    """Encode ``value`` as one CBOR data item with definite lengths.

    Supports None, bool, int, float (always as a 64-bit double),
    :class:`EpochSeconds` (tag 1), str, bytes, lists and dicts.
    """
    out = bytearray()
    _cbor_encode_into(value, out)
    return bytes(out)


def _cbor_head(major: int, argument: int, out: bytearray) -> None:
    """Append the initial byte(s) for a major type and its argument."""
    if argument < 24:
        out.append(major << 5 | argument)
    elif argument < 0x100:
        out += bytes((major << 5 | 24, argument))
    elif argument < 0x10000:
        out.append(major << 5 | 25)
        out += struct.pack(">H", argument)
    elif argument < 0x100000000:
        out.append(major << 5 | 26)
        out += struct.pack(">I", argument)
    else:
        out.append(major << 5 | 27)
        out += struct.pack(">Q", argument)


def _cbor_encode_into(value: Any, out: bytearray) -> None:
    """Append the encoding of ``value`` to ``out``."""
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, EpochSeconds):
        _cbor_head(6, 1, out)
        _cbor_encode_into(int(value) if value.is_integer() else float(value), out)
    elif isinstance(value, int):
        if value >= 0:
            _cbor_head(0, value, out)
        else:
            _cbor_head(1, -1 - value, out)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _cbor_head(3, len(data), out)
        out += data
    elif isinstance(value, (bytes, bytearray)):
        _cbor_head(2, len(value), out)
        out += value
    elif isinstance(value, (list, tuple)):
        _cbor_head(4, len(value), out)
        for item in value:
            _cbor_encode_into(item, out)
    elif isinstance(value, dict):
        _cbor_head(5, len(value), out)
        for key, item in value.items():
            _cbor_encode_into(key, out)
            _cbor_encode_into(item, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def cbor_decode(data: bytes) -> Any:
    """Decode exactly one CBOR data item (definite or indefinite lengths)."""
    try:
        value, position = _cbor_decode_at(data, 0)
    except (IndexError, struct.error, UnicodeDecodeError) as error:
        raise CborDecodeError(f"malformed CBOR: {error}") from error
    if value is _CBOR_BREAK or position != len(data):
        raise CborDecodeError("malformed CBOR: unexpected break or trailing bytes")
    return value


def _cbor_decode_at(data: bytes, position: int) -> tuple[Any, int]:
    """Decode the item starting at ``position``; return it and the next position."""
    initial = data[position]
    position += 1
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        return _cbor_decode_simple(info, data, position)
    if info == 31:
        return _cbor_decode_indefinite(major, data, position)
    if info < 24:
        argument = info
    elif info <= 27:
        size = 1 << (info - 24)
        argument = int.from_bytes(data[position : position + size], "big")
        if position + size > len(data):
            raise IndexError("truncated argument")
        position += size
    else:
        raise CborDecodeError(f"reserved additional information {info}")
    if major == 0:
        return argument, position
    if major == 1:
        return -1 - argument, position
    if major in (2, 3):
        if position + argument > len(data):
            raise IndexError("truncated string")
        raw = bytes(data[position : position + argument])
        return (raw if major == 2 else raw.decode("utf-8")), position + argument
    if major == 4:
        items = []
        for _ in range(argument):
            item, position = _cbor_decode_at(data, position)
            items.append(item)
        return items, position
    if major == 5:
        mapping = {}
        for _ in range(argument):
            key, position = _cbor_decode_at(data, position)
            mapping[key], position = _cbor_decode_at(data, position)
        return mapping, position
    # Major type 6: a tag.  Tag 1 is an epoch-seconds timestamp; other tags
    # are transparent to Smithy and yield their content.
    content, position = _cbor_decode_at(data, position)
    return (EpochSeconds(content) if argument == 1 else content), position


def _cbor_decode_simple(info: int, data: bytes, position: int) -> tuple[Any, int]:
    """Decode major type 7: simple values, floats and the break marker."""
    simple = {20: False, 21: True, 22: None, 23: None}
    if info in simple:
        return simple[info], position
    floats = {25: (">e", 2), 26: (">f", 4), 27: (">d", 8)}
    if info in floats:
        fmt, size = floats[info]
        return struct.unpack(fmt, data[position : position + size])[0], position + size
    if info == 31:
        return _CBOR_BREAK, position
    raise CborDecodeError(f"unsupported simple value {info}")


def _cbor_decode_indefinite(major: int, data: bytes, position: int) -> tuple[Any, int]:
    """Decode an indefinite-length string, array or map up to its break."""
    items: list[Any] = []
    while True:
        item, position = _cbor_decode_at(data, position)
        if item is _CBOR_BREAK:
            break
        items.append(item)
    if major == 2:
        return b"".join(items), position
    if major == 3:
        return "".join(items), position
    if major == 4:
        return items, position
    if major == 5:
        return dict(zip(items[::2], items[1::2], strict=True)), position
    raise CborDecodeError(f"major type {major} cannot have an indefinite length")


# ---------------------------------------------------------------------------
# Request classification (shared by fault injection and the CBOR bridge)
# ---------------------------------------------------------------------------

PROTOCOL_JSON = "json"
PROTOCOL_CBOR = "rpc-v2-cbor"
PROTOCOL_QUERY = "query"
PROTOCOL_OTHER = "other"

_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_SIGV4_SCOPE = re.compile(r"Credential=([^/,]+)/\d{8}/[^/,]+/([^/,]+)/aws4_request")


@dataclass(frozen=True)
class AwsRequest:
    """What the emulator needs to know about one incoming AWS API request."""

    protocol: str
    operation: str | None
    service_id: str | None  # X-Amz-Target prefix or the CBOR path's service
    signing_name: str | None  # from the SigV4 credential scope
    json_version: str  # "1.0" or "1.1"; meaningful for PROTOCOL_JSON only
    query_mode: bool  # the client sent x-amzn-query-mode: true
    body: bytes
    access_key: str | None = None  # the SigV4 access key id that signed the request

    def body_contains(self, needle: str) -> bool:
        """True if ``needle`` occurs in the body, raw or (for forms) decoded."""
        if needle.encode() in self.body:
            return True
        if self.protocol == PROTOCOL_QUERY:
            decoded = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            return any(needle in value for values in decoded.values() for value in values)
        return False


def classify_request(environ: dict[str, Any], body: bytes) -> AwsRequest:
    """Detect the wire protocol, operation and service of a request."""
    content_type = environ.get("CONTENT_TYPE", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    scope = _SIGV4_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    signing_name = scope.group(2).lower() if scope else None
    access_key = scope.group(1) if scope else None
    query_mode = environ.get("HTTP_X_AMZN_QUERY_MODE", "").lower() == "true"
    cbor_path = _CBOR_PATH.match(environ.get("PATH_INFO", ""))
    protocol, operation, service_id, json_version = PROTOCOL_OTHER, None, None, "1.0"
    if environ.get("HTTP_SMITHY_PROTOCOL", "").lower() == "rpc-v2-cbor" and cbor_path:
        protocol = PROTOCOL_CBOR
        service_id, operation = cbor_path.group(1), cbor_path.group(2)
    elif target:
        protocol = PROTOCOL_JSON
        service_id, _, operation = target.rpartition(".")
        if "1.1" in content_type:
            json_version = "1.1"
    else:
        form = parse_qs(environ.get("QUERY_STRING", ""))
        if content_type.startswith("application/x-www-form-urlencoded"):
            form.update(parse_qs(body.decode("utf-8", "replace")))
        if "Action" in form:
            protocol, operation = PROTOCOL_QUERY, form["Action"][0]
    return AwsRequest(
        protocol, operation, service_id, signing_name, json_version, query_mode, body, access_key
    )


def aws_error_response(request: AwsRequest, code: str, message: str, status: int) -> Response:
    """Encode an AWS error in the wire protocol ``request`` used.

    * awsJson1_0/1_1: ``{"__type": code, "message": ...}`` plus the
      ``x-amzn-ErrorType`` header.
    * Smithy RPC v2 CBOR: a CBOR map with ``__type`` and ``message``.
    * awsQuery (and anything unrecognised): an XML ``ErrorResponse``.

    When the client announced ``x-amzn-query-mode: true`` (services with the
    awsQueryCompatible trait) the code is also sent as
    ``x-amzn-query-error: Code;Sender`` (``Receiver`` for 5xx), which is
    where those SDKs read the error code from.
    """
    fault_type = "Receiver" if status >= 500 else "Sender"
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if request.protocol == PROTOCOL_JSON:
        headers += [
            ("Content-Type", f"application/x-amz-json-{request.json_version}"),
            ("x-amzn-ErrorType", code),
        ]
        body = json.dumps({"__type": code, "message": message}).encode("utf-8")
    elif request.protocol == PROTOCOL_CBOR:
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        body = cbor_encode({"__type": code, "message": message})
    else:
        headers.append(("Content-Type", "text/xml"))
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
            f"<Type>{fault_type}</Type><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode("utf-8")
    if request.query_mode:
        headers.append(("x-amzn-query-error", f"{code};{fault_type}"))
    return _status_line(status), headers, body


def _status_line(status: int) -> str:
    """Render an HTTP status line such as ``400 Bad Request``."""
    return f"{status} {http.client.responses.get(status, 'Error')}"


# ---------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------

# Accepted spellings of a service in a fault spec, mapped to signing names.
_SERVICE_ALIASES = {"cloudwatch": "monitoring"}


class FaultSpecError(ValueError):
    """A fault specification sent to ``POST /_queuescale/faults`` is invalid."""


@dataclass
class Fault:
    """One injected AWS error and its firing state."""

    id: str
    operation: str
    error: str | None
    status: int
    message: str
    count: int | None
    rate: float | None
    seed: int | None
    match: str | None
    service: str | None
    access_key: str | None = None
    after: bool = False
    delay_seconds: float | None = None
    fired: int = 0
    abandoned: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_spec(cls, spec: Any) -> Fault:
        """Validate a JSON fault specification and build the fault."""
        if not isinstance(spec, dict):
            raise FaultSpecError("the fault spec must be a JSON object")
        unknown = set(spec) - {
            "operation",
            "error",
            "status",
            "message",
            "count",
            "rate",
            "seed",
            "match",
            "service",
            "access_key",
            "after",
            "delay_seconds",
        }
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {sorted(unknown)}")
        operation, error = spec.get("operation"), spec.get("error")
        if not isinstance(operation, str) or not operation:
            raise FaultSpecError('"operation" must be a non-empty string')
        delay = spec.get("delay_seconds")
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 < delay <= 3600
        ):
            raise FaultSpecError('"delay_seconds" must be a number in (0, 3600]')
        if error is None and delay is None:
            raise FaultSpecError('a fault needs "error", "delay_seconds" or both')
        if error is not None and (not isinstance(error, str) or not error):
            raise FaultSpecError('"error" must be a non-empty string')
        status = spec.get("status", 400)
        if not _is_int(status) or not 400 <= status <= 599:
            raise FaultSpecError('"status" must be an integer from 400 to 599')
        message = spec.get("message", error or "")
        if not isinstance(message, str):
            raise FaultSpecError('"message" must be a string')
        count = spec.get("count")
        if count is not None and (not _is_int(count) or count < 1):
            raise FaultSpecError('"count" must be a positive integer')
        rate = spec.get("rate")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1
        ):
            raise FaultSpecError('"rate" must be a number in (0, 1]')
        seed = spec.get("seed")
        if seed is not None and not _is_int(seed):
            raise FaultSpecError('"seed" must be an integer')
        match, service = spec.get("match"), spec.get("service")
        access_key = spec.get("access_key")
        for name, value in (("match", match), ("service", service), ("access_key", access_key)):
            if value is not None and (not isinstance(value, str) or not value):
                raise FaultSpecError(f'"{name}" must be a non-empty string')
        if service is not None:
            service = _SERVICE_ALIASES.get(service.lower(), service.lower())
        after = spec.get("after", False)
        if not isinstance(after, bool):
            raise FaultSpecError('"after" must be true or false')
        return cls(
            id=uuid.uuid4().hex,
            operation=operation,
            error=error,
            status=status,
            message=message,
            count=count,
            rate=None if rate is None else float(rate),
            seed=seed,
            match=match,
            service=service,
            access_key=access_key,
            after=after,
            delay_seconds=None if delay is None else float(delay),
            rng=random.Random(seed),
        )

    def matches(self, request: AwsRequest) -> bool:
        """True if ``request`` is one this fault applies to."""
        return (
            request.operation == self.operation
            and (self.service is None or request.signing_name == self.service)
            and (self.match is None or request.body_contains(self.match))
            and (self.access_key is None or request.access_key == self.access_key)
        )

    @property
    def exhausted(self) -> bool:
        """True once a counted fault has fired ``count`` times."""
        return self.count is not None and self.fired >= self.count

    def describe(self) -> dict[str, Any]:
        """The fault as the control API reports it."""
        return {
            "id": self.id,
            "operation": self.operation,
            "service": self.service,
            "error": self.error,
            "status": self.status,
            "message": self.message,
            "count": self.count,
            "rate": self.rate,
            "seed": self.seed,
            "match": self.match,
            "access_key": self.access_key,
            "after": self.after,
            "delay_seconds": self.delay_seconds,
            "fired": self.fired,
            "abandoned": self.abandoned,
            "remaining": None if self.count is None else self.count - self.fired,
        }


def _is_int(value: Any) -> bool:
    """True for JSON integers (and not for booleans)."""
    return isinstance(value, int) and not isinstance(value, bool)


class FaultRegistry:
    """Thread-safe set of injected faults.

    Firing rules, checked in the order faults were added; the first fault that
    fires answers the request:

    * A fault applies to requests whose operation equals ``operation`` and,
      when given, whose SigV4 signing name equals ``service`` and whose body
      contains ``match``.
    * With only ``count``: the next ``count`` applicable requests fail.
    * With only ``rate``: each applicable request fails with that probability,
      drawn from the fault's own generator (seeded by ``seed`` if given).
    * With both: as with ``rate``, but the fault stops after firing ``count``
      times.
    * With neither: every applicable request fails until the fault is deleted.

    Exhausted faults stay listed (with ``remaining: 0``) until deleted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def add(self, fault: Fault) -> None:
        """Register a fault."""
        with self._lock:
            self._faults[fault.id] = fault

    def describe(self) -> list[dict[str, Any]]:
        """Every fault, as the control API reports it."""
        with self._lock:
            return [fault.describe() for fault in self._faults.values()]

    def delete(self, fault_id: str) -> bool:
        """Delete one fault; False if there is no fault with that id."""
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        """Delete every fault and return how many there were."""
        with self._lock:
            deleted = len(self._faults)
            self._faults.clear()
            return deleted

    def take(self, request: AwsRequest) -> Fault | None:
        """Return the fault that fires for ``request``, recording the firing."""
        if request.operation is None:
            return None
        with self._lock:
            for fault in self._faults.values():
                if fault.exhausted or not fault.matches(request):
                    continue
                if fault.rate is not None and fault.rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                return fault
        return None

    def record_abandoned(self, fault: Fault) -> None:
        """Count a delayed request whose client hung up before it took effect."""
        with self._lock:
            fault.abandoned += 1


def wait_for_client(environ: dict[str, Any], seconds: float) -> bool:
    """Wait ``seconds``; False as soon as the client closes its connection.

    The server's socket for the request is ``werkzeug.socket``; once the request
    has been read, a readable socket with nothing to peek at means the peer has
    closed it (or reset it).  Without the socket this is a plain sleep.
    """
    sock = environ.get("werkzeug.socket")
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        if sock is None:
            time.sleep(remaining)
            break
        slice_seconds = min(remaining, 0.05)
        try:
            readable, _, _ = select.select([sock], [], [], slice_seconds)
            if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                return False
        except (OSError, ValueError):  # reset, or closed under us
            return False
        if readable:
            # The client sent more (a pipelined request): it is still there.
            time.sleep(slice_seconds)
    return True


# ---------------------------------------------------------------------------
# Smithy RPC v2 CBOR bridge
# ---------------------------------------------------------------------------


class CborRequestError(ValueError):
    """A CBOR request body is not a well-formed CBOR map."""


class RpcV2CborBridge:
    """Serve Smithy RPC v2 CBOR requests through moto's awsJson1_0 handlers.

    AWS CloudWatch accepts the Smithy RPC v2 CBOR protocol (its service model
    lists ``smithy-rpc-v2-cbor`` first), and the Rust aws-sdk-cloudwatch uses
    it, but moto 5.2.5 only parses awsQuery and awsJson for CloudWatch.  A
    CBOR request ``POST /service/<Service>/operation/<Operation>`` is turned
    into the equivalent awsJson1_0 request (CBOR timestamps become epoch
    seconds, byte strings base64), and moto's JSON answer is encoded back into
    CBOR following the operation's output shape, so doubles stay doubles and
    timestamps carry tag 1 as the protocol requires.  Errors become a CBOR map
    with ``__type`` and the error members; moto's ``x-amzn-query-error``
    header is passed through for awsQueryCompatible clients.
    """

    # Smithy service shape name (the path segment) -> moto service name.
    SERVICES: ClassVar[dict[str, str]] = {"GraniteServiceVersion20100801": "cloudwatch"}

    def handles(self, request: AwsRequest) -> bool:
        """True if ``request`` is CBOR for a service this bridge translates."""
        return request.protocol == PROTOCOL_CBOR and request.service_id in self.SERVICES

    def to_json_environ(self, environ: dict[str, Any], request: AwsRequest) -> dict[str, Any]:
        """Build the awsJson1_0 WSGI environ equivalent to a CBOR request."""
        try:
            document = cbor_decode(request.body) if request.body else {}
        except CborDecodeError as error:
            raise CborRequestError(str(error)) from error
        if not isinstance(document, dict):
            raise CborRequestError("the request body must be a CBOR map")
        payload = json.dumps(_jsonable(document)).encode("utf-8")
        json_environ = dict(environ)
        for key in ("HTTP_SMITHY_PROTOCOL", "HTTP_TRANSFER_ENCODING"):
            json_environ.pop(key, None)
        json_environ.update(
            {
                "PATH_INFO": "/",
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "HTTP_ACCEPT": "application/json",
                "HTTP_X_AMZ_TARGET": f"{request.service_id}.{request.operation}",
                "CONTENT_LENGTH": str(len(payload)),
                "wsgi.input": io.BytesIO(payload),
            }
        )
        return json_environ

    def to_cbor_response(self, request: AwsRequest, response: Response) -> Response:
        """Re-encode moto's awsJson response to ``request`` as RPC v2 CBOR."""
        status, headers, body = response
        kept = [
            (name, value)
            for name, value in headers
            if name.lower() not in ("content-type", "content-length", "x-amzn-errortype", "status")
        ]
        kept.append(("smithy-protocol", "rpc-v2-cbor"))
        try:
            document = json.loads(body) if body.strip() else {}
        except ValueError:
            message = body.decode("utf-8", "replace")[:500]
            return aws_error_response(request, "InternalFailure", message, 500)
        if status.startswith("2"):
            shape = self._output_shape(request)
            if shape is None:
                return status, kept, b""
            cbor_body = cbor_encode(_shaped_cbor_value(document, shape))
        else:
            cbor_body = cbor_encode(_generic_cbor_value(document))
        return status, [*kept, ("Content-Type", "application/cbor")], cbor_body

    def _output_shape(self, request: AwsRequest) -> Any:
        """The operation's output shape from moto's service model, or None."""
        model = get_service_model(self.SERVICES[request.service_id or ""])
        if request.operation not in model.operation_names:
            return None
        return model.operation_model(request.operation).output_shape


def _jsonable(value: Any) -> Any:
    """Convert a decoded CBOR request value to its awsJson representation."""
    if isinstance(value, EpochSeconds):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _shaped_cbor_value(value: Any, shape: Any) -> Any:
    """Convert an awsJson response value to its CBOR form using ``shape``."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {
            key: _shaped_cbor_value(item, members[key])
            if key in members
            else _generic_cbor_value(item)
            for key, item in value.items()
            if item is not None
        }
    if kind == "list":
        return [_shaped_cbor_value(item, shape.member) for item in value]
    if kind == "map":
        return {key: _shaped_cbor_value(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            return EpochSeconds(datetime.fromisoformat(value).timestamp())
        return EpochSeconds(value)
    if kind in ("double", "float"):
        specials = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        return specials[value] if isinstance(value, str) else float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "blob":
        return base64.b64decode(value)
    return value


def _generic_cbor_value(value: Any) -> Any:
    """Convert a JSON value to CBOR without a shape (error bodies, extras)."""
    if isinstance(value, dict):
        return {key: _generic_cbor_value(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_generic_cbor_value(item) for item in value]
    return value


# ---------------------------------------------------------------------------
# Patches: moto 5.2.5 -> documented AWS behaviour
#
# "API_<Operation>" in a docstring names the operation's page in the AWS API
# reference: https://docs.aws.amazon.com/autoscaling/application/APIReference/
# for Application Auto Scaling and
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/ for
# CloudWatch.
# ---------------------------------------------------------------------------

_SUSPENDED_STATE_KEYS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)
_AAS_MAX_TAGS = 50
_AAS_POLICY_TYPES = ("StepScaling", "TargetTrackingScaling")


class AasError(JsonRESTError):
    """An Application Auto Scaling error with the members its shape defines."""

    def __init__(self, code: str, message: str, **members: str) -> None:
        super().__init__(code, message)
        self.description = json.dumps({"__type": code, "Message": message, **members})


def _object_not_found(message: str) -> AasError:
    """The ObjectNotFoundException AAS raises for a missing target or policy."""
    return AasError("ObjectNotFoundException", message)


def _find_scalable_target(backend: Any, namespace: str, resource_id: str, dimension: str) -> Any:
    """The registered scalable target with this identity, or None."""
    target = backend.targets.get(dimension, {}).get(resource_id)
    if target is None or target.service_namespace != namespace:
        return None
    return target


def _target_tags(target: Any) -> dict[str, str]:
    """The tag dict stored on a scalable target (created on first use)."""
    return target.__dict__.setdefault("tags", {})


def _target_by_arn(backend: Any, arn: str) -> Any:
    """The scalable target with ARN ``arn``; ResourceNotFoundException if none."""
    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    raise AasError(
        "ResourceNotFoundException",
        f"No scalable target found for ARN: {arn}",
        ResourceName=arn,
    )


def _check_tags(tags: dict[str, str], arn: str | None) -> None:
    """Apply the AWS tag restrictions to the tags a target would end up with."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise AWSValidationException(
                "Tag keys must be 1-128 characters and tag values at most 256 characters"
            )
        if key.lower().startswith("aws:"):
            raise AWSValidationException("Tag keys starting with 'aws:' are reserved for AWS use")
    if len(tags) > _AAS_MAX_TAGS:
        raise AasError(
            "TooManyTagsException",
            f"A scalable target can have at most {_AAS_MAX_TAGS} tags",
            **({"ResourceName": arn} if arn else {}),
        )


def _page_size(requested: int | None, limit: int) -> int:
    """Validate a MaxResults value against its documented range."""
    if requested is None:
        return limit
    if not 1 <= requested <= limit:
        raise AWSValidationException(
            f"1 validation error detected: Value '{requested}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value between 1 and {limit}"
        )
    return requested


def _paginate(
    items: list[Any], next_token: str | None, page_size: int
) -> tuple[list[Any], str | None]:
    """Return one page of ``items`` and the token for the next page, if any."""
    start = 0
    if next_token:
        if not next_token.isdigit() or int(next_token) > len(items):
            raise AasError("InvalidNextTokenException", "The NextToken value is invalid")
        start = int(next_token)
    end = start + page_size
    return items[start:end], (str(end) if end < len(items) else None)


def _service_linked_role_arn(backend: Any, namespace: str) -> str | None:
    """The service-linked role AAS uses for ``namespace`` when given no RoleARN."""
    if namespace != "ecs":
        return None
    partition = aas_models.get_partition(backend.region_name)
    return (
        f"arn:{partition}:iam::{backend.account_id}:role/aws-service-role/"
        "ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    )


def patch_aas_register_scalable_target() -> None:
    """RegisterScalableTarget creates or updates a target as AWS documents.

    AWS (API_RegisterScalableTarget, and the DescribeScalableTargets example
    in the same reference):

    * ``Tags`` tag the target when it is created; they are ignored when an
      existing target is updated (moto dropped them always).
    * ``MinCapacity`` and ``MaxCapacity`` are required when registering a new
      target, and the minimum may not exceed the maximum.
    * Without ``RoleARN``, an ECS target uses the service-linked role
      ``AWSServiceRoleForApplicationAutoScaling_ECSService``; ``RoleARN`` is
      always returned (moto returned null).
    * ``SuspendedState`` always holds all three flags (default false); an
      update changes only the flags it names and keeps the ARN.
    """
    response_cls = aas_responses.ApplicationAutoScalingResponse

    def register_scalable_target(self: Any) -> str:
        self._validate_params()
        backend = self.applicationautoscaling_backend
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        min_capacity = self._get_int_param("MinCapacity")
        max_capacity = self._get_int_param("MaxCapacity")
        existing = _find_scalable_target(backend, namespace, resource_id, dimension)
        if existing is None and (min_capacity is None or max_capacity is None):
            raise AWSValidationException(
                "MinCapacity and MaxCapacity are required when registering a new scalable target"
            )
        low = min_capacity if min_capacity is not None else existing.min_capacity
        high = max_capacity if max_capacity is not None else existing.max_capacity
        if low > high:
            raise AWSValidationException("Minimum capacity cannot be greater than maximum capacity")
        tags = self._get_param("Tags") or {}
        if existing is None:
            _check_tags(tags, None)
        suspended = dict.fromkeys(_SUSPENDED_STATE_KEYS, False)
        suspended.update((existing.suspended_state or {}) if existing else {})
        suspended.update(self._get_param("SuspendedState") or {})
        target = backend.register_scalable_target(
            namespace,
            resource_id,
            dimension,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            role_arn=self._get_param("RoleARN"),
            suspended_state=suspended,
        )
        if existing is None:
            _target_tags(target).update(tags)
            target.role_arn = target.role_arn or _service_linked_role_arn(backend, namespace)
        return json.dumps({"ScalableTargetARN": target.arn})

    response_cls.register_scalable_target = register_scalable_target


def patch_aas_tagging() -> None:
    """TagResource, UntagResource and ListTagsForResource work on targets.

    AWS (API_TagResource, API_UntagResource, API_ListTagsForResource): tags
    live on the scalable target identified by its ``ScalableTargetARN``; tag
    values for existing keys are replaced; an unknown ARN fails with
    ResourceNotFoundException; more than 50 tags fail with
    TooManyTagsException.  The tags go when the target is deregistered,
    because they are stored on the target itself.  moto 5.2.5 answered all
    three operations with HTTP 500 (not implemented).
    """
    response_cls = aas_responses.ApplicationAutoScalingResponse

    def tag_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        target = _target_by_arn(self.applicationautoscaling_backend, arn)
        merged = {**_target_tags(target), **(self._get_param("Tags") or {})}
        _check_tags(merged, arn)
        _target_tags(target).update(merged)
        return "{}"

    def untag_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        tags = _target_tags(_target_by_arn(self.applicationautoscaling_backend, arn))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        target = _target_by_arn(self.applicationautoscaling_backend, arn)
        return json.dumps({"Tags": dict(_target_tags(target))})

    response_cls.tag_resource = tag_resource
    response_cls.untag_resource = untag_resource
    response_cls.list_tags_for_resource = list_tags_for_resource


def patch_aas_describe_scalable_targets() -> None:
    """DescribeScalableTargets pages correctly with MaxResults 1-50.

    AWS (API_DescribeScalableTargets): MaxResults is between 1 and 50
    (default 50) and NextToken continues where the previous page ended.
    moto 5.2.5 computed NextToken from the page length, so a client following
    it saw the same target again and again and never finished.
    """
    response_cls = aas_responses.ApplicationAutoScalingResponse

    def describe_scalable_targets(self: Any) -> str:
        self._validate_params()
        targets = self.applicationautoscaling_backend.describe_scalable_targets(
            self._get_param("ServiceNamespace"),
            self._get_param("ResourceIds"),
            self._get_param("ScalableDimension"),
        )
        page, next_token = _paginate(
            targets, self._get_param("NextToken"), _page_size(self._get_int_param("MaxResults"), 50)
        )
        result: dict[str, Any] = {"ScalableTargets": [aas_responses._build_target(t) for t in page]}
        if next_token:
            result["NextToken"] = next_token
        return json.dumps(result)

    response_cls.describe_scalable_targets = describe_scalable_targets


def patch_aas_describe_scaling_policies() -> None:
    """DescribeScalingPolicies filters by PolicyNames, ResourceId and dimension.

    AWS (API_DescribeScalingPolicies): results are filtered by
    ``PolicyNames`` and by exact ``ResourceId`` and ``ScalableDimension``;
    MaxResults is between 1 and 10 (default 10).  moto 5.2.5 ignored
    PolicyNames, matched ResourceId and ScalableDimension as substrings of
    the filter (so ``service/c/web`` matched a filter of ``service/c/web2``),
    and paged by 100.
    """
    response_cls = aas_responses.ApplicationAutoScalingResponse

    def describe_scaling_policies(self: Any) -> str:
        self._validate_params()
        namespace = self._get_param("ServiceNamespace")
        names = self._get_param("PolicyNames") or []
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        policies = [
            policy
            for policy in self.applicationautoscaling_backend.policies.values()
            if policy.service_namespace == namespace
            and (not names or policy.policy_name in names)
            and (not resource_id or policy.resource_id == resource_id)
            and (not dimension or policy.scalable_dimension == dimension)
        ]
        page, next_token = _paginate(
            policies,
            self._get_param("NextToken"),
            _page_size(self._get_int_param("MaxResults"), 10),
        )
        result: dict[str, Any] = {"ScalingPolicies": [aas_responses._build_policy(p) for p in page]}
        if next_token:
            result["NextToken"] = next_token
        return json.dumps(result)

    response_cls.describe_scaling_policies = describe_scaling_policies


def patch_aas_put_scaling_policy() -> None:
    """PutScalingPolicy needs a registered target and updates in place.

    AWS (API_PutScalingPolicy): "You cannot create a scaling policy until you
    have registered the resource as a scalable target" -- otherwise
    ObjectNotFoundException.  The operation "creates or updates": putting an
    existing (name, resource, dimension) keeps its PolicyARN, and the
    CloudWatch alarms AAS manages for a target tracking policy are replaced,
    not duplicated.  moto 5.2.5 accepted a missing target, and on update
    minted a new PolicyARN and left the old alarms behind.
    """
    backend_cls = aas_models.ApplicationAutoscalingBackend
    policy_cls = aas_models.FakeApplicationAutoscalingPolicy

    def put_scaling_policy(
        self: Any,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_body: dict[str, Any],
        policy_type: str | None,
    ) -> Any:
        if _find_scalable_target(self, service_namespace, resource_id, scalable_dimension) is None:
            raise _object_not_found(
                f"No scalable target registered for service namespace: {service_namespace}, "
                f"resource ID: {resource_id}, scalable dimension: {scalable_dimension}"
            )
        key = policy_cls.formulate_key(
            service_namespace, resource_id, scalable_dimension, policy_name
        )
        policy = self.policies.get(key)
        if policy is None:
            policy = policy_cls(
                account_id=self.account_id,
                region_name=self.region_name,
                policy_name=policy_name,
                service_namespace=service_namespace,
                resource_id=resource_id,
                scalable_dimension=scalable_dimension,
                policy_type=policy_type,
                policy_body=policy_body,
            )
            self.policies[key] = policy
        else:
            _reconfigure_policy(
                policy, policy_type or policy.policy_type, policy_body or policy._policy_body
            )
        return policy

    backend_cls.put_scaling_policy = put_scaling_policy


def _reconfigure_policy(policy: Any, policy_type: str, policy_body: dict[str, Any]) -> None:
    """Update an existing policy in place, replacing the alarms it manages."""
    if policy_type not in _AAS_POLICY_TYPES:
        raise AWSValidationException(
            f"1 validation error detected: Value '{policy_type}' at 'policyType' failed to "
            "satisfy constraint: Member must satisfy enum value set: "
            "[PredictiveScaling, StepScaling, TargetTrackingScaling]"
        )
    policy.delete_alarms(policy.account_id, policy.region_name)
    policy.alarms = []
    policy.policy_type = policy_type
    policy._policy_body = policy_body
    step = policy_type == "StepScaling"
    policy.step_scaling_policy_configuration = policy_body if step else None
    policy.target_tracking_scaling_policy_configuration = None if step else policy_body
    policy.create_alarms()


def _alarms_invoking(policy: Any) -> list[Any]:
    """The CloudWatch alarms that have ``policy`` among their actions."""
    alarms = cw_models.cloudwatch_backends[policy.account_id][policy.region_name].alarms
    return [
        alarm
        for alarm in alarms.values()
        if policy.policy_arn
        in (*alarm.alarm_actions, *alarm.ok_actions, *alarm.insufficient_data_actions)
    ]


def _retire_policy(policy: Any) -> None:
    """Delete the alarms a policy manages and drop it from other alarms' actions."""
    policy.delete_alarms(policy.account_id, policy.region_name)
    for alarm in _alarms_invoking(policy):
        alarm.alarm_actions = [a for a in alarm.alarm_actions if a != policy.policy_arn]
        alarm.ok_actions = [a for a in alarm.ok_actions if a != policy.policy_arn]
        alarm.insufficient_data_actions = [
            a for a in alarm.insufficient_data_actions if a != policy.policy_arn
        ]


def patch_aas_step_scaling_alarms() -> None:
    """A step scaling policy lists the CloudWatch alarms that invoke it.

    AWS (API_DescribeScalingPolicies, ScalingPolicy ``Alarms``: "The
    CloudWatch alarms associated with the scaling policy"; the reference's
    example shows a StepScaling policy with the alarm whose action runs it).
    moto 5.2.5 listed only alarms it had created itself, so step scaling
    policies always showed none.
    """
    build_policy = aas_responses._build_policy

    def build_policy_with_invoking_alarms(policy: Any) -> dict[str, Any]:
        described = build_policy(policy)
        if policy.policy_type == "StepScaling":
            described["Alarms"] = [
                {"AlarmName": alarm.name, "AlarmARN": alarm.alarm_arn}
                for alarm in _alarms_invoking(policy)
            ]
        return described

    aas_responses._build_policy = build_policy_with_invoking_alarms


def patch_aas_delete_scaling_policy() -> None:
    """DeleteScalingPolicy unhooks alarms and fails for a missing policy.

    AWS (API_DeleteScalingPolicy): "Deleting a step scaling policy deletes
    the underlying alarm action, but does not delete the CloudWatch alarm";
    the alarms AAS created for a target tracking policy are deleted; a policy
    that does not exist raises ObjectNotFoundException (thrown "for any
    operation that deletes or deregisters a resource ... if the resource
    cannot be found").  moto 5.2.5 left the policy ARN in the alarms'
    actions and raised ValidationException.
    """
    backend_cls = aas_models.ApplicationAutoscalingBackend
    policy_cls = aas_models.FakeApplicationAutoscalingPolicy

    def delete_scaling_policy(
        self: Any,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
    ) -> None:
        key = policy_cls.formulate_key(
            service_namespace, resource_id, scalable_dimension, policy_name
        )
        policy = self.policies.pop(key, None)
        if policy is None:
            raise _object_not_found(
                f"No scaling policy found for service namespace: {service_namespace}, "
                f"resource ID: {resource_id}, scalable dimension: {scalable_dimension}, "
                f"policy name: {policy_name}"
            )
        _retire_policy(policy)

    backend_cls.delete_scaling_policy = delete_scaling_policy


def patch_aas_deregister_scalable_target() -> None:
    """DeregisterScalableTarget cascades, and fails for a missing target.

    AWS (API_DeregisterScalableTarget): "Deregistering a scalable target
    deletes the scaling policies and the scheduled actions that are
    associated with it" -- each policy goes as DeleteScalingPolicy removes
    it (the alarms AAS created for target tracking are deleted, step scaling
    alarms lose the policy action).  A target that is not registered raises
    ObjectNotFoundException.  moto 5.2.5 left policies, alarms and scheduled
    actions behind and raised ValidationException.
    """
    backend_cls = aas_models.ApplicationAutoscalingBackend

    def deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        if _find_scalable_target(self, namespace, r_id, dimension) is None:
            raise _object_not_found(
                f"No scalable target found for service namespace: {namespace}, "
                f"resource ID: {r_id}, scalable dimension: {dimension}"
            )
        identity = (namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (
                policy.service_namespace,
                policy.resource_id,
                policy.scalable_dimension,
            ) == identity:
                _retire_policy(policy)
                del self.policies[key]
        self.scheduled_actions = [
            action
            for action in self.scheduled_actions
            if (action.service_namespace, action.resource_id, action.scalable_dimension) != identity
        ]
        del self.targets[dimension][r_id]

    backend_cls.deregister_scalable_target = deregister_scalable_target


def _cloudwatch_taggable_arns(backend: Any) -> set[str]:
    """ARNs of the CloudWatch resources that exist and can carry tags."""
    arns = {alarm.alarm_arn for alarm in backend.alarms.values()}
    arns.update(rule.rule_arn for rule in backend.insight_rules.values())
    arns.update(dashboard.arn for dashboard in backend.dashboards.values())
    return arns


def patch_cloudwatch_tags_need_resource() -> None:
    """CloudWatch ListTagsForResource/UntagResource need an existing resource.

    AWS (API_ListTagsForResource, API_UntagResource): an ARN that names no
    existing resource fails with ResourceNotFoundException; an existing alarm
    without tags lists ``[]`` and can be untagged.  moto 5.2.5 listed ``[]``
    for missing alarms and, conversely, refused to untag an existing alarm
    that had never been tagged.
    """
    backend_cls = cw_models.CloudWatchBackend
    list_tags = backend_cls.list_tags_for_resource

    def list_tags_for_resource(self: Any, arn: str) -> dict[str, str]:
        if arn not in _cloudwatch_taggable_arns(self):
            raise ResourceNotFoundException
        return list_tags(self, arn)

    def untag_resource(self: Any, arn: str, tag_keys: list[str]) -> None:
        if arn not in _cloudwatch_taggable_arns(self):
            raise ResourceNotFoundException
        self.tagger.untag_resource_using_names(arn, tag_keys)

    backend_cls.list_tags_for_resource = list_tags_for_resource
    backend_cls.untag_resource = untag_resource


def patch_cloudwatch_put_metric_alarm_tags() -> None:
    """PutMetricAlarm ignores Tags when it updates an existing alarm.

    AWS (API_PutMetricAlarm, ``Tags``): "If you are using this operation to
    update an existing alarm, any tags you specify in this parameter are
    ignored. To change the tags of an existing alarm, use TagResource or
    UntagResource."  moto 5.2.5 merged them into the alarm's tags.
    """
    backend_cls = cw_models.CloudWatchBackend
    put_metric_alarm = backend_cls.put_metric_alarm

    def put_metric_alarm_ignoring_update_tags(
        self: Any, name: str, *args: Any, **kwargs: Any
    ) -> Any:
        if name in self.alarms:
            kwargs["tags"] = None
        return put_metric_alarm(self, name, *args, **kwargs)

    backend_cls.put_metric_alarm = put_metric_alarm_ignoring_update_tags


def patch_cloudwatch_delete_alarms_tags() -> None:
    """Deleting an alarm deletes its tags.

    AWS (API_DeleteAlarms, API_ListTagsForResource): tags belong to the
    alarm; a new alarm created later under the same name starts without
    them.  moto 5.2.5 kept the tags keyed by ARN, so they resurfaced on the
    re-created alarm.  (Names that do not exist are skipped without error,
    which is what the DeleteAlarms reference documents, so that part of
    moto's behaviour is kept.)
    """
    backend_cls = cw_models.CloudWatchBackend
    delete_alarms = backend_cls.delete_alarms

    def delete_alarms_and_tags(self: Any, alarm_names: list[str]) -> None:
        for name in alarm_names:
            alarm = self.alarms.get(name)
            if alarm is not None:
                self.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
        delete_alarms(self, alarm_names)

    backend_cls.delete_alarms = delete_alarms_and_tags


# A statistic bound as CloudWatch writes it: up to 10 decimal places.
_STAT_NUMBER = r"\d+(?:\.\d{1,10})?"
_STAT_SINGLE = re.compile(rf"(?:tm|wm|tc|ts)({_STAT_NUMBER})")
_STAT_RANGE = re.compile(
    rf"(TM|WM|TC|TS|PR)\(({_STAT_NUMBER})?(%?):({_STAT_NUMBER})?(%?)\)"
)


def is_extended_statistic(stat: str) -> bool:
    """Whether ``stat`` is a non-percentile extended statistic CloudWatch accepts.

    The grammar of the CloudWatch user guide, "CloudWatch statistics
    definitions" (Syntax): ``IQM``; ``tmN``, ``wmN``, ``tcN``, ``tsN`` with N a
    percentage; ``TM(a:b)``, ``WM(a:b)``, ``TC(a:b)``, ``TS(a:b)`` whose bounds
    are both percentages or both values, either one left out; ``PR(a:b)`` with
    values.  Percentiles (``pN``) are left to moto, which accepts them.
    """
    if stat == "IQM":
        return True
    single = _STAT_SINGLE.fullmatch(stat)
    if single:
        return float(single.group(1)) <= 100
    ranged = _STAT_RANGE.fullmatch(stat)
    if not ranged:
        return False
    kind, low, low_pct, high, high_pct = ranged.groups()
    if low is None and high is None:
        return False
    if low is not None and high is not None:
        if low_pct != high_pct or float(low) >= float(high):
            return False
    percent = bool(low_pct or high_pct)
    if percent and kind == "PR":
        return False
    if (low is None and low_pct) or (high is None and high_pct):
        return False
    return not percent or all(float(b) <= 100 for b in (low, high) if b is not None)


def patch_cloudwatch_extended_statistics() -> None:
    """PutMetricAlarm accepts every extended statistic, not only percentiles.

    AWS (API_PutMetricAlarm, ``ExtendedStatistic``): valid values include
    ``p90``, ``tm90``, ``tc90``, ``ts90``, ``wm90``, ``IQM``, ``PR(n:m)``,
    ``TC(X%:X%)``, ``TM(X%:X%)``, ``TS(X%:X%)`` and ``WM(X%:X%)``, with the
    grammar of "CloudWatch statistics definitions".  moto 5.2.5 refused every
    value not starting with ``p`` (InvalidParameterValue).  Values outside
    that grammar still get moto's refusal.
    """
    backend_cls = cw_models.CloudWatchBackend
    put_metric_alarm = backend_cls.put_metric_alarm

    def put_metric_alarm_with_extended_statistics(
        self: Any, name: str, *args: Any, **kwargs: Any
    ) -> Any:
        stat = kwargs.get("extended_statistic")
        if stat is None or not is_extended_statistic(stat):
            return put_metric_alarm(self, name, *args, **kwargs)
        kwargs["extended_statistic"] = None
        alarm = put_metric_alarm(self, name, *args, **kwargs)
        alarm.extended_statistic = stat
        return alarm

    backend_cls.put_metric_alarm = put_metric_alarm_with_extended_statistics


PATCHES = (
    patch_aas_register_scalable_target,
    patch_aas_tagging,
    patch_aas_describe_scalable_targets,
    patch_aas_describe_scaling_policies,
    patch_aas_put_scaling_policy,
    patch_aas_step_scaling_alarms,
    patch_aas_delete_scaling_policy,
    patch_aas_deregister_scalable_target,
    patch_cloudwatch_tags_need_resource,
    patch_cloudwatch_put_metric_alarm_tags,
    patch_cloudwatch_delete_alarms_tags,
    patch_cloudwatch_extended_statistics,
)


def apply_patches() -> None:
    """Apply every patch in :data:`PATCHES` (once, before serving)."""
    for patch in PATCHES:
        patch()
        LOG.debug("applied %s", patch.__name__)


# ---------------------------------------------------------------------------
# The WSGI application
# ---------------------------------------------------------------------------

# Operations that may block for a long time (long polling) and therefore run
# outside the backend lock: (SigV4 signing name, operation).
_LONG_POLL_OPERATIONS = {("sqs", "ReceiveMessage")}


class EmulatorApp:
    """moto's server app plus the control API, fault injection and CBOR bridge.

    moto's in-memory backends are not thread-safe, while the provider's tests
    run in parallel against one emulator, so calls into moto are serialised
    by a lock (long-polling operations excepted).
    """

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], faults: FaultRegistry) -> None:
        self._moto_app = moto_app
        self._faults = faults
        self._bridge = RpcV2CborBridge()
        self._backend_lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}
        self._counts_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            response = self._control(environ)
        else:
            response = self._aws(environ)
        status, headers, body = response
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    def _aws(self, environ: dict[str, Any]) -> Response:
        """Serve an AWS API request: inject a fault or pass it on to moto."""
        body = _read_body(environ)
        request = classify_request(environ, body)
        self._count(request)
        fault = self._faults.take(request)
        if fault is None:
            return self._serve(environ, request)
        if fault.delay_seconds is not None and not fault.after:
            LOG.info(
                "holding %s for %s s (fault %s)", request.operation, fault.delay_seconds, fault.id
            )
            if not wait_for_client(environ, fault.delay_seconds):
                self._faults.record_abandoned(fault)
                LOG.info(
                    "client abandoned %s; not applied (fault %s)", request.operation, fault.id
                )
                # Nobody reads this answer.
                return aws_error_response(request, "RequestAbandoned", "client went away", 500)
        if fault.error is not None and not fault.after:
            LOG.info("injected %s into %s (fault %s)", fault.error, request.operation, fault.id)
            return aws_error_response(request, fault.error, fault.message, fault.status)
        response = self._serve(environ, request)
        if fault.delay_seconds is not None and fault.after:
            LOG.info(
                "holding the reply of %s for %s s (fault %s)",
                request.operation,
                fault.delay_seconds,
                fault.id,
            )
            wait_for_client(environ, fault.delay_seconds)
        if fault.error is not None:
            LOG.info("lost the reply of %s: %s (fault %s)", request.operation, fault.error, fault.id)
            return aws_error_response(request, fault.error, fault.message, fault.status)
        return response

    def _serve(self, environ: dict[str, Any], request: AwsRequest) -> Response:
        """Pass a request on to moto, through the CBOR bridge where it needs one."""
        if not self._bridge.handles(request):
            return self._call_moto(environ, request)
        try:
            json_environ = self._bridge.to_json_environ(environ, request)
        except CborRequestError as error:
            return aws_error_response(request, "SerializationException", str(error), 400)
        return self._bridge.to_cbor_response(request, self._call_moto(json_environ, request))

    def _count(self, request: AwsRequest) -> None:
        """Count the request under its access key, as ``service:Operation``."""
        if request.access_key is None or request.operation is None:
            return
        key = f"{request.signing_name}:{request.operation}"
        with self._counts_lock:
            per_key = self._counts.setdefault(request.access_key, {})
            per_key[key] = per_key.get(key, 0) + 1

    def _call_moto(self, environ: dict[str, Any], request: AwsRequest) -> Response:
        """Run moto's app on ``environ`` and collect its complete response."""
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured[:] = [status, list(headers)]

        if (request.signing_name, request.operation) in _LONG_POLL_OPERATIONS:
            body = _drain(self._moto_app(environ, start_response))
        else:
            with self._backend_lock:
                body = _drain(self._moto_app(environ, start_response))
        return captured[0], captured[1], body

    def _control(self, environ: dict[str, Any]) -> Response:
        """Serve the ``/_queuescale/`` control API."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ["PATH_INFO"][len(CONTROL_PREFIX) :].rstrip("/")
        if path == "health" and method in ("GET", "HEAD"):
            return _json_response(200, {"status": "ok"})
        if path == "faults":
            if method == "GET":
                return _json_response(200, {"faults": self._faults.describe()})
            if method == "DELETE":
                return _json_response(200, {"deleted": self._faults.clear()})
            if method == "POST":
                try:
                    fault = Fault.from_spec(json.loads(_read_body(environ) or b"null"))
                except ValueError as error:  # includes FaultSpecError
                    return _json_response(400, {"error": str(error)})
                self._faults.add(fault)
                return _json_response(200, fault.describe())
            return _json_response(405, {"error": f"{method} is not allowed on {path}"})
        if path.startswith("requests/"):
            access_key = path[len("requests/") :]
            with self._counts_lock:
                if method == "GET":
                    return _json_response(200, {"requests": dict(self._counts.get(access_key, {}))})
                if method == "DELETE":
                    self._counts.pop(access_key, None)
                    return _json_response(200, {"deleted": 1})
            return _json_response(405, {"error": f"{method} is not allowed on {path}"})
        if path.startswith("faults/") and method == "DELETE":
            fault_id = path[len("faults/") :]
            if self._faults.delete(fault_id):
                return _json_response(200, {"deleted": 1})
            return _json_response(404, {"error": f"no fault with id {fault_id}"})
        return _json_response(
            404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{path}"}
        )


def _drain(chunks: Iterable[bytes]) -> bytes:
    """Collect a WSGI response body, closing the iterable as WSGI requires."""
    try:
        return b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and leave a re-readable copy in ``environ``."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _json_response(status: int, document: Any) -> Response:
    """A control-API response."""
    body = json.dumps(document).encode("utf-8")
    return _status_line(status), [("Content-Type", "application/json")], body


# ---------------------------------------------------------------------------
# Process lifecycle
# ---------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind on 127.0.0.1 (0: a free port)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log requests and emulator activity to stderr"
    )
    return parser.parse_args(argv)


def _configure_logging(verbose: bool) -> None:
    """Send logs to stderr: warnings only, or everything with ``--verbose``."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # werkzeug logs one line per request at INFO and failures at ERROR.
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.ERROR)


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` once stdin reaches EOF (or cannot be read)."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    stop.set()


def _wait_until_serving(port: int, timeout: float = 30.0) -> None:
    """Block until the server answers its health endpoint over HTTP."""
    deadline = time.monotonic() + timeout
    while True:
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", CONTROL_PREFIX + "health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer from {HOST}:{port} within {timeout} s")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until stdin closes or a termination signal arrives.

    Returns (status 1) only if the port cannot be bound; once serving, the
    process ends directly through ``os._exit``.
    """
    args = _parse_args(argv)
    # Only the ready line may reach stdout; anything moto prints goes to stderr.
    ready_stream, sys.stdout = sys.stdout, sys.stderr
    _configure_logging(args.verbose)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, args.port))
    except OSError as error:
        LOG.error("cannot bind %s:%s: %s", HOST, args.port, error)
        return 1
    listener.listen(128)
    port = listener.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)  # moto builds some self-referencing URLs from it

    apply_patches()
    app = EmulatorApp(DomainDispatcherApplication(create_backend_app), FaultRegistry())
    server = make_server(
        HOST, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
    )
    listener.close()  # the server holds its own duplicate of the descriptor

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=_watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
    )
    serving.start()

    exit_status = 0
    try:
        _wait_until_serving(port)
        ready_stream.write(f"{READY_PREFIX} http://{HOST}:{port}\n")
        ready_stream.flush()
    except OSError as error:  # includes a parent that already closed our stdout
        LOG.error("emulator did not become ready: %s", error)
        exit_status = 1
        stop.set()

    while not stop.wait(0.1):
        pass
    LOG.info("shutting down")
    server.shutdown()
    server.server_close()
    logging.shutdown()
    sys.stderr.flush()
    # Skip interpreter teardown: with moto's thousands of modules loaded it
    # takes a second or more, and an in-memory emulator has nothing to tidy.
    os._exit(exit_status)


if __name__ == "__main__":
    sys.exit(main())
