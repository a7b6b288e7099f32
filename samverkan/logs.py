"""Logging for the processes Samverkan runs: what the operators need to read, and nothing every second.

`SAMVERKAN_LOG_FORMAT=json` gives one JSON object a line (python-json-logger) for a log pipeline; every line carries
the request id of the command it belongs to (bot.telemetry), from the acknowledgement in the web process to the
last delivery in the worker. Whatever the format, a token or signing secret never reaches the output: the known
secrets and anything shaped like a Slack token are blanked in the finished line, so a library logging a request
(or an exception quoting a URL) cannot leak one.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from bot.telemetry import request_id

# Slack's token shapes: bot, user, app-level, configuration and refresh tokens.
_SLACK_TOKEN = re.compile(r"\bx(?:ox[a-z]|app|oxe\.xox[a-z])-[A-Za-z0-9-]+")
BLANKED = "[redacted]"
_HANDLER = "samverkan"


class _BoltPrefersOurClient(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment by itself and warns, on every start, that it uses the client
    it was given instead; which is what we want, so that one line is not worth an operator's attention."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class _Redacting(logging.Formatter):
    """Wraps a formatter and blanks secrets in what it produces."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so that a secret containing another is blanked whole. Short values are not secrets worth
        # the false matches (a test's "s").
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def redact(line: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        line = line.replace(secret, BLANKED)
    return _SLACK_TOKEN.sub(BLANKED, line)


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    # Fields named as the log pipeline expects; the `extra` a line was logged with (command, user, outcome,
    # duration_ms, entry) becomes fields of its own.
    return JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s",
                         rename_fields={"levelname": "level", "name": "logger"}, timestamp="time")


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    inner = _json_formatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(inner, secrets))
    handler.addFilter(_RequestId())
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:
        root.removeHandler(old)  # configured again (a test, the worker): one line per record, not two
    root.addHandler(handler)
    root.setLevel(level)
    # The scheduler says "running job" and "executed successfully" every second: 170,000 lines a day.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt.App").addFilter(_BoltPrefersOurClient())


def settings_secrets(settings: object) -> list[str]:
    """The settings' values that must never be logged: tokens, the signing secret, the database's password."""
    values = [getattr(settings, name, None) for name in
              ("slack_bot_token", "slack_app_token", "slack_signing_secret", "samverkan_metrics_token",
               "teams_app_password")]
    url = getattr(settings, "database_url", "") or ""
    if match := re.search(r"//[^:/@]*:([^@]+)@", url):
        values.append(match.group(1))
    return [v for v in values if v]
