"""Faults at random (seeded) for the sandbox services, and a proxy that kills its client.

- `ChaosProxy`: the DynamoDB fault proxy, but each request draws a fault:
  throttling, HTTP 500, or (for writes) the answer dropped after the server
  applied the request.
- `ChaosNaver`: the sandbox Naver, its random faults half 5xx and half late
  answers (the request hangs, then a 504).
- `ChaosSens`: the fake SENS with random 500s and requests left unanswered
  (the connection closes after a wait; nothing is accepted). The sender
  cannot know that, so these are unclear outcomes: their claims are kept and
  a later cycle asks SENS before sending them (`test_lost_answers.py` loses
  answers of requests SENS did accept).
- `KillProxy`: in front of the DynamoDB-API server for one victim process;
  it SIGKILLs that process at a chosen point of its exactly-once protocol
  (after its Nth claim, after its send before the mark, after its Nth mark).
  The point is read off the requests the process makes, so nothing in src/
  needs a test hook.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from collections import Counter
from typing import Any, Literal

from naver_sms.sandbox.naver import NaverSandbox, _Fault
from naver_sms.sandbox.sens import _HANG, Answer, FakeSens
from tests.fault_proxy import Fault, FaultProxy

KillPoint = Literal["claim", "send", "mark"]


class ChaosProxy(FaultProxy):
    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.3,
        throttle_share: float = 1 / 3,
        drop_rate: float = 0.03,
        seed: int = 7,
    ) -> None:
        super().__init__(upstream)
        self.rate = rate
        # Throttles back off for up to seconds (botocore's throttling scale is
        # 1 s, other errors 25 ms): a third of the faults keeps a run inside CI's budget.
        self.throttle_share = throttle_share
        self.drop_rate = drop_rate
        self.enabled = True
        self._random = random.Random(seed)

    def _next_fault(self, target: str) -> Fault | None:
        queued = super()._next_fault(target)
        if queued is not None or not self.enabled:
            return queued
        fault: Fault | None = None
        with self._lock:
            draw = self._random.random()
            if draw < self.rate * self.throttle_share:
                fault = "throttle"
            elif draw < self.rate:
                fault = "error500"
            elif draw < self.rate + self.drop_rate and target in ("UpdateItem", "PutItem"):
                fault = "drop"
            if fault is not None:
                self.faults[fault] += 1
        return fault


class ChaosNaver(NaverSandbox):
    """`fault_rate` of the API requests fail: half answer `fault_status`, half answer late."""

    def __init__(self, *, hang_seconds: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hang_seconds = hang_seconds
        self.injected: Counter[str] = Counter()

    def _take_fault(self, endpoint: str) -> _Fault | None:
        fault = super()._take_fault(endpoint)
        if fault is None:
            return None
        with self._lock:
            late = self._random.random() < 0.5
            kind = "late" if late else str(fault.status)
            self.injected[kind] += 1
        return _Fault("hang", endpoint, seconds=self.hang_seconds) if late else fault


class ChaosSens(FakeSens):
    """`rate` of the requests fail (half HTTP 500, half unanswered), drawn with a seed."""

    def __init__(self, *, rate: float = 0.2, seed: int = 11, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate
        self.hang_seconds = 0.3
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)

    def _next_fault(self) -> Answer | None:
        queued = super()._next_fault()
        if queued is not None or not self.rate:
            return queued
        with self._lock:
            draw = self._random.random()
            if draw >= self.rate:
                return None
            if draw < self.rate / 2:
                self.injected["500"] += 1
                return (500, {"status": 500, "statusName": "fail", "errorMessage": "injected"})
            self.injected["no answer"] += 1
        return _HANG


def _write_kind(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    update = str(data.get("UpdateExpression", "")) if isinstance(data, dict) else ""
    if update.startswith("SET #claim = :owner"):
        return "claim"
    item = data.get("Item") if isinstance(data, dict) else None
    if isinstance(item, dict) and any(str(name).endswith("_claim") for name in item):
        return "claim"  # a new record stored with its first claim
    if update.startswith("SET #flag = :true, #rid"):
        return "mark"
    return None


class KillProxy(FaultProxy):
    """Forwards a victim's requests; SIGKILLs `pid` at `point` (see the module doc)."""

    def __init__(self, upstream: str, point: KillPoint, nth: int = 3) -> None:
        super().__init__(upstream)
        self.point = point
        self.nth = nth
        self.pid: int | None = None
        self.killed = threading.Event()
        self._done = Counter[str]()
        # Any claim this victim won, whatever its kill point: the harness waits
        # for one before it starts the next process (see `claimed`).
        self.claimed = threading.Event()

    def _kill(self) -> None:
        if self.pid is not None and not self.killed.is_set():
            os.kill(self.pid, signal.SIGKILL)
            self.killed.set()

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        kind = _write_kind(body)
        if self.killed.is_set():
            return 503, [], b""
        if self.point == "send" and kind == "mark":
            # Its SENS request was accepted (a mark only follows an accepted send)
            # and nothing is recorded yet: the documented post-accept window.
            with self._lock:
                self._kill()
            return 503, [], b""
        status, response_headers, response_body = super()._forward(method, path, headers, body)
        if kind == "claim" and status == 200:
            self.claimed.set()
        if kind == self.point and status == 200:
            with self._lock:
                self._done[kind] += 1
                if self._done[kind] >= self.nth:
                    self._kill()
        return status, response_headers, response_body
