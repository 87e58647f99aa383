"""naver-sms: texts every Naver Smart Place booking exactly once."""

__version__ = "0.1.0"
