"""A template that goes wrong fails its own messages with a clear line, and nothing else.

Before, `{{ 1/0 }}`, `{% include %}` or `range(10**9)` escaped as a Python
exception (ZeroDivisionError, TypeError, OverflowError) that stopped
`templates check` and the whole cycle.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.config import AppConfig
from naver_sms.domain.booking import Booking
from naver_sms.domain.messages import MessageError, MessageKind
from naver_sms.entrypoints.cli import cli
from naver_sms.messaging.templates import TemplateError, TemplateRenderer, check_templates

# Each of these raised something other than MessageError before, or ran
# without bound (time or memory).
BROKEN = {
    "division by zero": "{{ 1/0 }}",
    "include": "{% include 'door.txt' %}",
    "import": "{% import 'macros.txt' as m %}",
    "extends": "{% extends 'base.txt' %}",
    "huge range": "{% for i in range(10**9) %}x{% endfor %}",
    "huge range as a list": "{{ range(10**9)|list|length }}",
    "text repeated a billion times": "{{ 'x' * 10**9 }}",
    "format width": "{{ '{:>999999999}'.format(customer) }}",
    "percent width": "{{ '%999999999s' % customer }}",
    "padding filter": "{{ customer|center(999999999) }}",
    "nested loops": (
        "{% for a in range(2000) %}{% for b in range(2000) %}{% for c in range(2000) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "exponential macro": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
    "doubling text": (
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s }}{% endif %}"
        "{% endmacro %}{{ d('x', 60) }}"
    ),
    "endless recursion": "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}",
    "replace that multiplies": "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
    "type error": "{{ customer + 1 }}",
    "lorem ipsum": "{{ lipsum(10**6) }}",
}


def app(template: str, kind: str = "confirm") -> AppConfig:
    store: dict[str, Any] = {
        "id": "5000001",
        "name": "샘플 스튜디오",
        "sender": "02-0000-0000",
        "opt_out": "080-000-0000",
        "templates": {kind: template},
    }
    return AppConfig.model_validate({"stores": [store]})


def booking() -> Booking:
    return Booking(
        booking_num="5000001_1000000001",
        phone="010-0000-1111",
        name="홍길동",
        booking_time="2025-11-25 14:00:00",
    )


@pytest.mark.parametrize("template", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_template_fails_its_message_with_a_template_error_quickly(template: str) -> None:
    config = app(template)
    started = time.monotonic()

    with pytest.raises(TemplateError, match="template confirmation \\(store\\) of store"):
        TemplateRenderer(config).message(config.stores[0], MessageKind.CONFIRMATION, booking())

    assert time.monotonic() - started < 5


def test_include_is_refused_with_a_line_saying_what_to_do() -> None:
    config = app("안내\n{% include 'door.txt' %}")

    with pytest.raises(TemplateError) as caught:
        TemplateRenderer(config).message(config.stores[0], MessageKind.CONFIRMATION, booking())

    assert "line 2: {% include %} is not allowed" in str(caught.value)


def test_a_huge_range_names_the_limit() -> None:
    config = app("{% for i in range(10**9) %}x{% endfor %}")

    with pytest.raises(TemplateError, match="1000000000 is over 2,000"):
        TemplateRenderer(config).message(config.stores[0], MessageKind.CONFIRMATION, booking())


def test_an_error_that_quotes_a_value_masks_the_phone_number() -> None:
    # str.format raises KeyError('010-0000-1111'), quoting the "field name".
    config = app("{{ '{010-0000-1111}'.format() }}")

    with pytest.raises(MessageError) as caught:
        TemplateRenderer(config).message(config.stores[0], MessageKind.CONFIRMATION, booking())

    assert "KeyError: '010-****-1111'" in str(caught.value)


def test_a_template_with_loops_and_filters_within_limits_still_renders() -> None:
    config = app(
        "{{ customer }}님 예약 {{ visit_time }}\n"
        "{% for option in options %}{{ loop.index }}. {{ option|upper }}\n{% endfor %}"
        "{{ '%-6s|' % item }}{{ '{:>4}'.format(booking_id[-4:]) }}"
        "{% for i in range(3) %}*{% endfor %}",
        kind="guide",
    )
    bk = Booking.from_dict(
        {**booking().to_item(), "option_names": ["원본 추가", "review"], "item_name": "촬영"}
    )

    text = TemplateRenderer(config).render(config.stores[0], MessageKind.REMINDER, bk).text

    assert text.startswith("홍길동님 예약 11월 25일 (화) 오후 2:00\n1. 원본 추가\n2. REVIEW\n")
    assert text.endswith("촬영    |0001***")


def test_check_templates_reports_every_broken_template_as_a_problem_row() -> None:
    stores = [
        {
            "id": str(number),
            "name": f"가게 {name}",
            "sender": "0200000000",
            "opt_out": "080-000-0000",
            "templates": {"confirm": template, "guide": "{{ 1/0 }}"},
        }
        for number, (name, template) in enumerate(BROKEN.items(), start=1)
    ]
    config = AppConfig.model_validate({"stores": stores})

    rows = check_templates(config)

    assert len(rows) == 3 * len(BROKEN)
    confirmations = [row for row in rows if row.kind is MessageKind.CONFIRMATION]
    reminders = [row for row in rows if row.kind is MessageKind.REMINDER]
    assert all(row.problems for row in confirmations), [r.store.name for r in confirmations]
    assert all("ZeroDivisionError" in row.problems[0] for row in reminders)
    assert not any(row.problems for row in rows if row.kind is MessageKind.EVENT)


def test_templates_check_prints_a_problem_line_and_exits_2_for_a_crashing_template(
    tmp_path: Path,
) -> None:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(
        'stores:\n  - id: "1"\n    name: 샘플 가게\n    sender: "0200000000"\n'
        "    templates: {confirm: '{{ 1/0 }}', guide: \"{% include 'x' %}\"}\n",
        encoding="utf-8",
    )

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "ZeroDivisionError" in result.output
    assert "include" in result.output
    assert "2 problem(s)" in result.output
