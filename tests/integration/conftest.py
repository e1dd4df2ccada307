"""Fixtures for the integration tests: `smtp`, a real SMTP server on 127.0.0.1 (tests/smtp.py)."""

from tests.smtp import smtp

__all__ = ["smtp"]
