"""The dry-run sender: each message becomes a JSON line in a file; nothing leaves the machine.

Used with `--dry-run`, in the demo, and whenever no SENS keys are configured.
The outbox is a preview, so the recipient is masked like in the logs: no file
this system writes holds a full phone number.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from naver_sms.config import Settings
from naver_sms.domain.booking import KST, mask_phone
from naver_sms.domain.messages import Message
from naver_sms.messaging.base import SendResult, mask_phones_in
from naver_sms.messaging.sens import content_type_of
from naver_sms.utils.logger import get_logger, logged_operation

log = get_logger(__name__)


def _now_kst() -> datetime:
    return datetime.now(KST)


class OutboxSender:
    """Appends one JSON line per message to `path`; every message is "accepted"."""

    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] = _now_kst) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxSender:
        return cls(settings.outbox_path)

    def __repr__(self) -> str:
        return f"OutboxSender(path={str(self.path)!r})"

    def send(self, messages: Sequence[Message]) -> list[SendResult]:
        if not messages:
            return []
        request_id = f"outbox-{uuid.uuid4().hex}"
        at = self._clock().astimezone(KST).isoformat(timespec="seconds")
        lines = [json.dumps(self.entry(m, request_id, at), ensure_ascii=False) for m in messages]
        with logged_operation(
            "outbox_send",
            "Messages written to the outbox",
            logger=log,
            count=len(messages),
            path=str(self.path),
            request_id=request_id,
        ):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as outbox:
                outbox.write("".join(line + "\n" for line in lines))
        return [SendResult(message, request_id=request_id) for message in messages]

    @staticmethod
    def entry(message: Message, request_id: str, at: str) -> dict[str, Any]:
        return {
            "request_id": request_id,
            "at": at,
            "booking_num": message.booking_num,
            "store_id": message.store_id,
            "kind": message.kind.value,
            "from": message.sender,
            "to_masked": mask_phone(message.to),
            "type": message.type.value,
            "content_type": content_type_of(message),
            "bytes": message.size,
            # The subject is the store's name, which may hold a number too.
            "subject": mask_phones_in(message.subject),
            "content": mask_phones_in(message.text),
        }
