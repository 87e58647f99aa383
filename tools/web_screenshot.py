"""The README's picture of the owner's page, made from the demo's sandbox day.

Plays the demo's day (sandbox Naver, fake SENS, a temporary SQLite file, the
real cycles), serves the owner's page on it, and has headless Chromium log in
and save the today page: `docs/web-today.png` at 1280x800, and with
`--phone` also `docs/web-today-phone.png` at 390x844. Nothing leaves
127.0.0.1 and every name and number is made up. Korean text needs a Korean
font on the machine (Debian: fonts-noto-cjk); pngquant, when installed,
shrinks the pictures.

    .venv/bin/python tools/web_screenshot.py [--phone] [--out docs]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

from naver_sms.demo import demo_config, played_day
from naver_sms.entrypoints.cli_web import day_page
from naver_sms.naver.auth import chromium_factory
from naver_sms.utils.logger import configure_logging
from naver_sms.web.server import start_in_thread

SIZES = {"web-today.png": (1280, 800), "web-today-phone.png": (390, 844)}


def _shrink(png: Path) -> None:
    """A page's few colours fit a palette: pngquant (Debian's package), when present,
    makes the committed picture a fifth of its size."""
    pngquant = shutil.which("pngquant")
    if pngquant is not None:
        subprocess.run(  # noqa: S603 - a fixed program on our own file
            [pngquant, "--force", "--strip", "--quality", "70-90", "--output", str(png), str(png)],
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder of the PNGs")
    parser.add_argument("--phone", action="store_true", help="also the phone-sized picture")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)  # Chrome writes no picture into a missing folder
    configure_logging("ERROR")
    config = demo_config()
    password = secrets.token_urlsafe(16)
    names = list(SIZES) if args.phone else ["web-today.png"]
    with ExitStack() as stack:
        world = stack.enter_context(played_day(config))
        # The page's clock is the last cycle's: the picture shows the day just played.
        handle = start_in_thread(day_page(stack, world, config, password=password), "127.0.0.1", 0)
        try:
            chrome = chromium_factory(
                os.environ.get("CHROME_BIN"), os.environ.get("CHROMEDRIVER_BIN")
            )
            with chrome(False) as driver:
                base = f"http://127.0.0.1:{handle.port}"
                driver.get(f"{base}/login")
                driver.find_element("id", "password").send_keys(password)
                driver.find_element("css selector", "#login-form button").click()
                for name in names:
                    width, height = SIZES[name]
                    driver.set_window_size(width, height)
                    driver.get(f"{base}/")
                    # The window's inner size is the page's, whatever the frame takes.
                    inner = driver.execute_script("return [innerWidth, innerHeight]")
                    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
                    target = args.out / name
                    driver.save_screenshot(str(target))
                    _shrink(target)
                    print(f"wrote {target} ({target.stat().st_size // 1024} KB)")
        finally:
            handle.stop()


if __name__ == "__main__":
    main()
