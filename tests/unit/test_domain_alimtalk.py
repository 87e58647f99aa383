"""AlimTalk template rules: `#{variables}`, filling them in, and what Kakao would refuse."""

from __future__ import annotations

from naver_sms.domain.alimtalk import (
    fill,
    filled_problems,
    kind_problem,
    placeholders,
    template_problems,
)
from naver_sms.domain.messages import AlimTalkButton, MessageKind

CONTENT = "#{고객명}님, #{방문일시} 예약이 확정되었습니다. #{고객명}님 감사합니다."


def test_the_placeholders_of_a_text_are_its_names_once_each_in_order() -> None:
    assert placeholders(CONTENT) == ("고객명", "방문일시")
    assert placeholders("변수 없는 안내입니다.") == ()


def test_filling_replaces_every_placeholder_including_repeated_ones() -> None:
    filled = fill(CONTENT, {"고객명": "홍길동", "방문일시": "11월 24일 (화) 오후 2:00"})

    assert filled == (
        "홍길동님, 11월 24일 (화) 오후 2:00 예약이 확정되었습니다. 홍길동님 감사합니다."
    )


def test_a_customer_value_that_looks_like_a_placeholder_is_not_filled_again() -> None:
    filled = fill("#{고객명}님, #{방문일시}", {"고객명": "#{방문일시}", "방문일시": "오후 2:00"})

    assert filled == "#{방문일시}님, 오후 2:00"


def test_a_template_whose_placeholders_and_variables_match_has_no_problems() -> None:
    assert template_problems(CONTENT, {"고객명", "방문일시"}) == []


def test_a_placeholder_without_a_variable_is_named() -> None:
    [problem] = template_problems(CONTENT, {"고객명"})

    assert problem.startswith("#{방문일시} in the content has no variable")


def test_a_variable_missing_from_the_text_is_named_as_a_likely_misspelling() -> None:
    [problem] = template_problems(CONTENT, {"고객명", "방문일시", "방문시간"})

    assert "variable 방문시간 is not in the content" in problem
    assert "spelling" in problem


def test_a_text_over_a_thousand_characters_is_refused_as_kakao_would() -> None:
    [problem] = template_problems("가" * 1001, set())

    assert "1,001 characters" in problem
    assert template_problems("가" * 1000, set()) == []


def test_more_than_five_buttons_and_a_web_link_without_both_links_are_refused() -> None:
    buttons = [AlimTalkButton("DS", f"배송 {n}") for n in range(5)]
    buttons.append(AlimTalkButton("WL", "예약 확인", link_mobile="https://m.example.com"))

    problems = template_problems("안내", set(), buttons)

    assert "6 buttons" in problems[0]
    assert problems[1] == (
        "button 6 (예약 확인): a web link (WL) needs both link_mobile and link_pc"
    )


def test_an_unknown_button_type_names_the_types_sens_accepts() -> None:
    [problem] = template_problems("안내", set(), [AlimTalkButton("XX", "열기")])

    assert "type 'XX'" in problem
    assert "DS, WL, AL, BK, MD, AC" in problem


def test_only_the_advertising_kind_is_refused_and_the_reason_is_given() -> None:
    problem = kind_problem(MessageKind.EVENT)

    assert problem is not None
    assert "informational messages only" in problem
    assert "goes as SMS" in problem
    assert kind_problem(MessageKind.CONFIRMATION) is None
    assert kind_problem(MessageKind.REMINDER) is None


def test_a_filled_text_over_the_limit_is_a_problem_that_says_what_to_shorten() -> None:
    [problem] = filled_problems("가" * 1001)

    assert "shorten" in problem
    assert filled_problems("가" * 1000) == []
