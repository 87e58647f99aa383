"""The dry-run sender: each message becomes a JSON line in a file; nothing leaves the machine.

Used only in a rehearsal: `--dry-run`, a replay far from the real clock, the
demo's previews. A real run without SENS keys is refused, never sent here.
The outbox is a preview, so everything written passes the scrubber like the
logs do: no file this system writes holds a full phone number or a secret.
The file is the owner's alone (0600): it holds customers' names.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from naver_sms.domain.booking import KST, mask_phone
from naver_sms.domain.messages import Message
from naver_sms.messaging.base import SenderBase, SendFailed, SendResult, SmsSender
from naver_sms.utils.clock import now_kst
from naver_sms.utils.logger import get_logger, logged_operation
from naver_sms.utils.scrub import scrub_data

log = get_logger(__name__)

_PRIVATE_MODE: Final = 0o600


class OutboxSender(SenderBase):
    """Appends one JSON line per message to `path`; every message is "accepted".

    `reaches_phones` is False: the cycle never records an outbox line as a
    text sent to a customer.
    """

    reaches_phones = False

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = now_kst,
        opt_outs_from: SmsSender | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        # The provider whose 080 list a rehearsal honours like the real cycle does,
        # so it never shows "would send" for advertising a real run would hold.
        self._opt_outs_from = opt_outs_from

    def opted_out(self) -> dict[str, datetime | None]:
        if self._opt_outs_from is None:
            return {}
        return self._opt_outs_from.opted_out()

    def close(self) -> None:
        close = getattr(self._opt_outs_from, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"OutboxSender(path={str(self.path)!r})"

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        """One "request" for all the messages: one append to the file.

        Raises `SendFailed` naming the path when the file cannot be written,
        so the cycle releases the claims and a later cycle tries again.
        """
        if not messages:
            return
        request_id = f"outbox-{uuid.uuid4().hex}"
        at = self._clock().astimezone(KST).isoformat(timespec="seconds")
        lines = [
            json.dumps(scrub_data(self.entry(m, request_id, at)), ensure_ascii=False)
            for m in messages
        ]
        with logged_operation(
            "outbox_send",
            "Messages written to the outbox",
            logger=log,
            count=len(messages),
            path=str(self.path),
            request_id=request_id,
        ):
            try:
                self._append("".join(line + "\n" for line in lines))
            except OSError as exc:
                raise SendFailed(
                    f"cannot write the outbox file {str(self.path)!r}: "
                    f"{exc.strerror or type(exc).__name__} (check that its directory exists "
                    "or can be made and is writable, or set NAVER_SMS_OUTBOX)"
                ) from None
        yield [SendResult(message, request_id=request_id) for message in messages]

    def _append(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            # 0600 from the start (os.open's mode, then fchmod against the umask).
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _PRIVATE_MODE)
            with os.fdopen(descriptor, "a", encoding="utf-8") as outbox:
                self._keep_private(descriptor)
                outbox.write(text)

    def _keep_private(self, descriptor: int) -> None:
        if os.name != "posix":
            return
        mode = stat.S_IMODE(os.fstat(descriptor).st_mode)
        if mode & 0o077:
            os.fchmod(descriptor, mode & 0o700)
            log.warning(
                "Tightened the mode of the outbox file other users could read: it holds "
                "customers' names and message texts",
                operation="outbox_send",
                context={"path": str(self.path), "mode": f"{mode:04o}"},
            )

    @staticmethod
    def entry(message: Message, request_id: str, at: str) -> dict[str, Any]:
        """The message's line, before scrubbing (the store's name may hold a number too)."""
        line: dict[str, Any] = {
            "request_id": request_id,
            "at": at,
            "booking_num": message.booking_num,
            "store_id": message.store_id,
            "kind": message.kind,
            "from": message.sender,
            "to_masked": mask_phone(message.to),
            "type": message.type.value,
            "content_type": message.content_type,
            "bytes": message.size,
            "subject": message.subject,
            "content": message.text,
            "adjusted": list(message.adjusted),
            "channel": message.channel.value,
        }
        if message.alimtalk is not None:
            # The AlimTalk the customer would get; `content` above is its SMS failover.
            line["alimtalk"] = {
                "plus_friend_id": message.alimtalk.plus_friend_id,
                "template_code": message.alimtalk.template_code,
                "content": message.alimtalk.content,
                "buttons": [button.name for button in message.alimtalk.buttons],
                "failover": message.alimtalk.failover,
            }
        return line
