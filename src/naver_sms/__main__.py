"""`python -m naver_sms` is the same as the `naver-sms` command."""

from naver_sms.entrypoints.cli import main

main()
