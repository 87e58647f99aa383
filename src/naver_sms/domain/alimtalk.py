"""KakaoTalk AlimTalk templates: the approved text, its `#{variables}`, and what Kakao refuses.

Pure. Kakao compares each AlimTalk's content with the template it approved,
so the only thing a shop may change is the value of each `#{name}`: the
config's check, the renderer and `naver-sms templates check` share these
rules, so what the check passes is what the renderer sends.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from naver_sms.domain.messages import ALIMTALK_MAX_CHARS, AlimTalkButton, MessageKind

# `#{고객명}`: Kakao's variable, any name without braces or a line break.
PLACEHOLDER: Final = re.compile(r"#\{([^{}\n]+)\}")
MAX_BUTTONS: Final = 5
# DS delivery tracking, WL web link, AL app link, BK bot keyword, MD message
# delivery, AC channel add: the button types SENS accepts.
BUTTON_TYPES: Final = ("DS", "WL", "AL", "BK", "MD", "AC")


def placeholders(content: str) -> tuple[str, ...]:
    """The `#{name}` names of `content`, each once, in the order they first appear."""
    return tuple(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(content)))


def fill(content: str, values: Mapping[str, str]) -> str:
    """`content` with every `#{name}` replaced by its value, in one pass.

    One pass: a customer's name that reads `#{방문일시}` stays text instead of
    being filled in again. A name without a value is a KeyError (the config
    check makes that impossible for a loaded config).
    """
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], content)


def kind_problem(kind: MessageKind) -> str | None:
    """Why `kind` may not go as AlimTalk, or None when it may."""
    if kind.is_advertising:
        return (
            f"{kind.value} cannot go as AlimTalk: AlimTalk carries informational "
            f"messages only and the {kind.value} message is advertising (it goes as SMS); "
            "remove it from alimtalk.templates"
        )
    return None


def template_problems(
    content: str,
    variables: Collection[str],
    buttons: Sequence[AlimTalkButton] = (),
) -> list[str]:
    """What Kakao or the renderer would refuse in an AlimTalk template; empty when none.

    `variables` are the names the config gives a value; every `#{name}` of the
    content needs one, and every one must be in the content (a variable that
    is not there is most likely a misspelt name).
    """
    problems = []
    if not content.strip():
        problems.append("content is empty: copy the approved template's text")
    if len(content) > ALIMTALK_MAX_CHARS:
        problems.append(
            f"content is {len(content):,} characters: AlimTalk allows at most "
            f"{ALIMTALK_MAX_CHARS:,}"
        )
    names = placeholders(content)
    problems += [
        f'#{{{name}}} in the content has no variable: add {name}: "{{{{ ... }}}}" under variables'
        for name in names
        if name not in variables
    ]
    problems += [
        f"variable {name} is not in the content as #{{{name}}}: remove it or check its spelling"
        for name in variables
        if name not in names
    ]
    if len(buttons) > MAX_BUTTONS:
        problems.append(f"{len(buttons)} buttons: AlimTalk allows at most {MAX_BUTTONS}")
    for number, button in enumerate(buttons, start=1):
        problems += button_problems(button, number)
    return problems


def button_problems(button: AlimTalkButton, number: int) -> list[str]:
    """What is wrong with the `number`th button (1-based), as approved with the template."""
    where = f"button {number} ({button.name or button.type})"
    problems = []
    if button.type not in BUTTON_TYPES:
        problems.append(f"{where}: type {button.type!r}: expected one of {', '.join(BUTTON_TYPES)}")
    if not button.name.strip():
        problems.append(f"{where}: name is empty: copy the approved button's name")
    if button.type == "WL" and not (button.link_mobile and button.link_pc):
        problems.append(f"{where}: a web link (WL) needs both link_mobile and link_pc")
    return problems


def filled_problems(content: str) -> list[str]:
    """What keeps a filled-in AlimTalk text from being sent; empty when it may go."""
    if len(content) > ALIMTALK_MAX_CHARS:
        return [
            f"filled in, the text is {len(content):,} characters: AlimTalk allows at most "
            f"{ALIMTALK_MAX_CHARS:,} (shorten the template or its variables)"
        ]
    return []
