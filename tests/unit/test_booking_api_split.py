"""Parsing the API's entries is its own module: no HTTP library, the same names as before."""

from __future__ import annotations

import subprocess
import sys

from naver_sms.naver import booking_api, parsing


def test_parsing_bookings_needs_no_http_library() -> None:
    # A fresh interpreter: this one has httpx loaded by other tests already.
    probe = (
        "import sys, naver_sms.naver.parsing\n"
        "print(sorted(m for m in ('httpx', 'httpcore', 'naver_sms.naver.booking_api')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_the_parsing_names_callers_import_from_the_client_are_the_parsing_module_s() -> None:
    for name in ("MASKED_REASON", "UnusableEntry", "parse_booking", "parse_bookings"):
        assert getattr(booking_api, name) is getattr(parsing, name), name
        assert name in booking_api.__all__
