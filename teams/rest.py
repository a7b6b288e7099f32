"""One JSON call to the Bot Connector or Graph, with the retries that keep a short outage from failing a duty: a
429 waits its Retry-After (at most RETRY_AFTER_CAP), a 5xx or a dropped connection is tried again twice. Anything
still failing is raised, and the duty that made the call is given back and tried later (bot.duties)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)

RETRIES = 2
RATE_LIMITS = 5
RETRY_AFTER_CAP = 10.0


class Refused(Exception):
    """A 4xx other than 429: another try will not change it."""

    def __init__(self, status: int, code: str, detail: str = "") -> None:
        super().__init__(f"{status} {code} {detail}".strip())
        self.status = status
        self.code = code


def call(http: httpx.Client, method: str, url: str, auth: Callable[[], dict[str, str]],
         body: Any = None, sleep: Callable[[float], None] = time.sleep) -> Any:
    errors = limited = 0
    while True:
        try:
            response = http.request(method, url, json=body, headers=auth())
        except httpx.TransportError as error:
            errors += 1
            # A POST whose request may have arrived (the answer timed out or the connection broke after sending)
            # is not sent again here: it may have been done. The duty that made it is given back, and the process
            # that tries it again reads back what was posted first (teams.chat.find_posted).
            sent = not isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
            if errors > RETRIES or (method == "POST" and sent):
                raise
            sleep(0.2 * errors)
            continue
        if response.status_code == 429 and limited < RATE_LIMITS:
            limited += 1
            wait = retry_after(response.headers.get("Retry-After"))
            if wait > RETRY_AFTER_CAP:
                # Honoured, not shortened: the duty is given back and tried again after it, not in this thread.
                raise Throttled(wait)
            sleep(wait)
            continue
        if response.status_code >= 500 and errors < RETRIES:
            errors += 1
            sleep(0.2 * errors)
            continue
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise Refused(response.status_code, _code(response), response.text[:200])
        response.raise_for_status()
        return response.json() if response.content else {}


class Throttled(Exception):
    """Throttled for longer than a thread should wait: transient, tried again later."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"throttled for {retry_after:.0f} s")
        self.retry_after = retry_after


def retry_after(value: object) -> float:
    """Seconds a Retry-After asks for (a header, or a $batch response's header); 1 when it says nothing readable."""
    try:
        return max(0.0, float(str(value))) if value else 1.0
    except ValueError:
        return 1.0


def _code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return f"http_{response.status_code}"
    return str(error.get("code") or f"http_{response.status_code}") if isinstance(error, dict) else str(error)
