"""Made-up phone numbers for tests, and the legacy 10-digit form of one.

Tests use the 010-0000-xxxx range only. A legacy 10-digit 010 number is
written here as the same made-up number one zero shorter, so no test holds a
number that could be someone's.
"""

from __future__ import annotations


def legacy_010(made_up: str) -> tuple[str, str]:
    """(the 10 digits, the stored 3-3-4 form) of the made-up number `made_up`
    (`010-0000-xxxx`) written as a legacy 10-digit 010 number."""
    digits = made_up.replace("-", "")
    if not (digits.startswith("0100000") and len(digits) == 11):
        raise ValueError(f"{made_up}: not a made-up 010-0000-xxxx number")
    ten = "010" + digits[4:]
    return ten, f"{ten[:3]}-{ten[3:6]}-{ten[6:]}"
