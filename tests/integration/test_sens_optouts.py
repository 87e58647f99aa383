"""The SENS 080 opt-out list, read and changed by `SensSender` against the fake SENS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from naver_sms.domain.booking import KST
from naver_sms.messaging.base import SendFailed, SendRejected
from naver_sms.messaging.sens import SensSender, register_time
from naver_sms.sandbox.sens import FakeSens

ACCESS = "optout-access-key"
SECRET = "optout-secret-CANARY-91c2"
SERVICE = "ncp:sms:kr:000000000000:optouts"
PHONE = "010-0000-1234"


@pytest.fixture
def fake() -> Iterator[FakeSens]:
    with FakeSens(access_key=ACCESS, secret_key=SECRET, service_id=SERVICE) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def sender_for(fake: FakeSens, client: httpx.Client, *, secret: str = SECRET) -> SensSender:
    return SensSender(
        access_key=ACCESS,
        secret_key=secret,
        service_id=SERVICE,
        base_url=fake.url,
        client=client,
        timeout=2.0,
    )


def test_every_page_of_a_230_number_opt_out_list_is_read(
    fake: FakeSens, client: httpx.Client
) -> None:
    start = datetime(2026, 5, 1, 9, 0, tzinfo=KST)
    for index in range(230):
        fake.opt_out(f"010-0000-{index:04d}", at=start + timedelta(minutes=index))

    listed = sender_for(fake, client).opted_out()

    assert len(listed) == 230
    assert listed["010-0000-0000"] == start
    assert listed["010-0000-0229"] == start + timedelta(minutes=229)
    assert fake.optout_requests == 3  # 100 + 100 + 30


def test_a_full_last_page_costs_one_empty_page_and_nothing_is_lost(
    fake: FakeSens, client: httpx.Client
) -> None:
    for index in range(200):
        fake.opt_out(f"010-0000-{index:04d}")

    assert len(sender_for(fake, client).opted_out()) == 200
    assert fake.optout_requests == 3


def test_a_number_added_through_the_api_is_listed_in_its_stored_form(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)

    sender.add_opt_outs(["01000001234", "010 0000 5678"])

    assert set(fake.opted_out) == {"01000001234", "01000005678"}
    listed = sender.opted_out()
    assert set(listed) == {PHONE, "010-0000-5678"}
    assert all(moment is not None and moment.tzinfo is not None for moment in listed.values())


def test_a_removed_number_is_no_longer_listed(fake: FakeSens, client: httpx.Client) -> None:
    fake.opt_out(PHONE)
    fake.opt_out("010-0000-5678")
    sender = sender_for(fake, client)

    sender.remove_opt_outs([PHONE])

    assert set(sender.opted_out()) == {"010-0000-5678"}


def test_a_landline_on_the_list_is_skipped(fake: FakeSens, client: httpx.Client) -> None:
    fake.opt_out("02-0000-0000")
    fake.opt_out(PHONE)

    assert set(sender_for(fake, client).opted_out()) == {PHONE}


def test_a_list_that_cannot_be_read_raises_send_failed(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.opt_out(PHONE)
    fake.fail_optouts = True

    with pytest.raises(SendFailed) as raised:
        sender_for(fake, client).opted_out()

    assert raised.value.status == 500
    assert "\n" not in str(raised.value)


def test_a_failure_on_a_later_page_fails_the_whole_list(
    fake: FakeSens, client: httpx.Client
) -> None:
    for index in range(150):
        fake.opt_out(f"010-0000-{index:04d}")
    fake.fail_optouts = True
    fake.fail_optouts_from_page = 1

    with pytest.raises(SendFailed):
        sender_for(fake, client).opted_out()

    assert fake.optout_requests == 2


def test_an_unreachable_sens_raises_send_failed_for_every_opt_out_call(
    client: httpx.Client,
) -> None:
    with FakeSens(access_key=ACCESS, secret_key=SECRET, service_id=SERVICE) as server:
        url = server.url
    sender = SensSender(
        access_key=ACCESS, secret_key=SECRET, service_id=SERVICE, base_url=url, client=client
    )

    with pytest.raises(SendFailed):
        sender.opted_out()
    with pytest.raises(SendFailed):
        sender.add_opt_outs([PHONE])
    with pytest.raises(SendFailed):
        sender.remove_opt_outs([PHONE])


def test_a_bad_signature_is_refused_and_changes_nothing(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.opt_out(PHONE)
    sender = sender_for(fake, client, secret="another-secret-value")

    with pytest.raises(SendFailed) as listing:
        sender.opted_out()
    with pytest.raises(SendRejected) as adding:
        sender.add_opt_outs(["010-0000-5678"])
    with pytest.raises(SendRejected):
        sender.remove_opt_outs([PHONE])

    assert listing.value.status == 401
    assert "signature mismatch" in adding.value.reason
    assert set(fake.opted_out) == {"01000001234"}


def test_a_server_error_on_adding_raises_send_failed(fake: FakeSens, client: httpx.Client) -> None:
    fake.fail_next(1, status=503)

    with pytest.raises(SendFailed) as raised:
        sender_for(fake, client).add_opt_outs([PHONE])

    assert not isinstance(raised.value, SendRejected)
    assert fake.opted_out == {}


def test_a_number_that_is_not_a_mobile_is_refused_before_any_request(
    fake: FakeSens, client: httpx.Client
) -> None:
    with pytest.raises(ValueError, match="opt-out number"):
        sender_for(fake, client).add_opt_outs(["not a number"])

    assert fake.optout_requests == 0


def test_opt_out_calls_log_one_line_each_with_masked_numbers_only(
    fake: FakeSens, client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = sender_for(fake, client)
    sender.add_opt_outs([PHONE])
    sender.opted_out()
    sender.remove_opt_outs([PHONE])
    fake.fail_optouts = True
    with pytest.raises(SendFailed):
        sender.opted_out()

    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["operation"] for line in lines] == [
        "sens_add_opt_outs",
        "sens_opted_out",
        "sens_remove_opt_outs",
        "sens_opted_out",
    ]
    assert lines[-1]["level"] == "ERROR"
    assert "0000-1234" not in err
    assert "00001234" not in err
    assert "010-****-1234" in err
    assert SECRET not in err


def test_opt_outs_do_not_count_as_sends_or_message_lists(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    sender.add_opt_outs([PHONE])
    sender.opted_out()

    assert (fake.send_requests, fake.list_requests, fake.optout_requests) == (0, 0, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_777_593_600_000, datetime(2026, 5, 1, tzinfo=UTC)),
        ("1777593600000", datetime(2026, 5, 1, tzinfo=UTC)),
        (1_777_593_600, datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01 09:00:00", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T09:00:00.000", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T00:00:00Z", datetime(2026, 5, 1, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
        (True, None),
        ({"at": 1}, None),
    ],
)
def test_the_register_time_is_read_in_every_form_sens_may_use(
    value: object, expected: datetime | None
) -> None:
    assert register_time(value) == expected
