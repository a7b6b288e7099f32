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
    """The settings' values that must never be logged: tokens, the signing secret, the database's password (and
    the pieces of it a URL parser may take for the host, when an @ in it is not encoded)."""
    values = [getattr(settings, name, None) for name in
              ("slack_bot_token", "slack_app_token", "slack_signing_secret", "samverkan_metrics_token",
               "teams_app_password")]
    values += url_secrets(getattr(settings, "database_url", "") or "")
    return [v for v in values if v]


# A user name shown as it is; anything else in front of the password is hidden with it.
_PLAIN_USER = re.compile(r"[A-Za-z0-9._-]+")


def url_credentials(url: str) -> tuple[int, int] | None:
    """Where a URL's credentials are, as (start, end): everything between `://` and the *last* `@`, however the
    password is written (an @, : or / in it unencoded included), so that no parser's reading of it can show a piece.
    None when there are none (`sqlite:///a@b.db` names a file). Without `://`, everything before the last `@`."""
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    if url.startswith("/", start):
        return None  # an empty authority: a path follows, not a user
    end = url.rfind("@")
    return (start, end) if end > start else None


def safe_url(url: str) -> str:
    """The URL to show: the user name when it is a plain one, never the password or any part of it."""
    found = url_credentials(url)
    if found is None:
        return url
    start, end = found
    user, colon, _ = url[start:end].partition(":")
    if not _PLAIN_USER.fullmatch(user):
        shown = "***"
    else:
        shown = f"{user}:***" if colon else user  # `user@host`: a user name and no password
    return f"{url[:start]}{shown}{url[end:]}"


def url_secrets(url: str) -> list[str]:
    """The password of a URL's credentials, and what follows each @ in it (where a parser that stops at the first @
    would say the host is), longest first."""
    found = url_credentials(url)
    if found is None:
        return []
    credentials = url[found[0]:found[1]]
    user, _, password = credentials.partition(":")
    pieces = {password} | {credentials[at + 1:] for at in range(len(credentials)) if credentials[at] == "@"}
    if not _PLAIN_USER.fullmatch(user):
        pieces |= {credentials, user}  # not a plain user name: perhaps the password, or part of it
    return sorted((p for p in pieces if p), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str], shortest: int = 4) -> str:
    """`text` with every run of `shortest` or more characters that is also part of a secret blanked: for a start-up
    error quoting what a parser made of a URL or a setting (a host that is the tail of a password), where a secret
    may appear only in pieces. (Shorter runs are letters any message shares with any password.)"""
    secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
    for secret in secrets:  # a piece however short where a parser took it for a host: just before an @
        text = text.replace(f"{secret}@", f"{BLANKED}@")
    out: list[str] = []
    i = 0
    while i < len(text):
        longest = 0
        for secret in secrets:
            length = shortest
            while i + length <= len(text) and text[i:i + length] in secret:
                length += 1
            longest = max(longest, length - 1)
        if longest >= shortest:
            out.append(BLANKED)
            i += longest
        else:
            out.append(text[i])
            i += 1
    return _SLACK_TOKEN.sub(BLANKED, "".join(out))
