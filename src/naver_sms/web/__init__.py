"""The owner's web page: `naver-sms web` (issue 16)."""
