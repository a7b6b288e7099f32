"""Slack's Web API clients as the bot uses them: slack_sdk's own retries, and every call counted (bot.telemetry)."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.telemetry import SILENT, Telemetry

RESPONSE_URL = "response_url"
# A method's name as a label: Slack's own shape, or nothing that could carry anything else.
_METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+){1,3}$")


def method_of(url_or_name: str) -> str:
    name = url_or_name.rsplit("/", 1)[-1].split("?", 1)[0]
    return name if _METHOD.match(name) else "other"


def retry_handlers(telemetry: Telemetry = SILENT, method: str | None = None) -> list[RetryHandler]:
    # slack_sdk's own handlers: 429 waits for Retry-After, connection errors and 5xx answers back off; all give up
    # after a few tries, and the duty that made the call is tried again within seconds.
    handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=3),
                                    RateLimitErrorRetryHandler(max_retry_count=5),
                                    ServerErrorRetryHandler(max_retry_count=2)]
    return [_Counted(h, telemetry, method) for h in handlers]


class _Counted(RetryHandler):
    """One of slack_sdk's retry handlers, unchanged, that also counts each retry it makes."""

    def __init__(self, inner: RetryHandler, telemetry: Telemetry, method: str | None) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self.inner = inner
        self.telemetry = telemetry
        self.method = method

    def can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                  error: Exception | None = None) -> bool:
        return self.inner.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        limited = response is not None and response.status_code == 429
        self.telemetry.slack_call(self.method or method_of(request.url), "ratelimited" if limited else "retry")
        self.inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class CountedWebClient(WebClient):
    """slack_sdk's WebClient, whose every call (they all go through `api_call`) is counted by method and outcome."""

    def __init__(self, *args: Any, telemetry: Telemetry = SILENT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.telemetry = telemetry

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        method = method_of(api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            self.telemetry.slack_call(method, "ratelimited" if error.response.status_code == 429 else "error")
            raise
        except Exception:
            self.telemetry.slack_call(method, "error")
            raise
        self.telemetry.slack_call(method, "ok")
        return response


def web_client(token: str, base_url: str, timeout: int = 10, telemetry: Telemetry = SILENT) -> CountedWebClient:
    return CountedWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers(telemetry),
                            telemetry=telemetry)


def send_to_response_url(url: str, telemetry: Telemetry, **message: Any) -> WebhookResponse:
    """Posts to a command's response URL (which needs no token), counted as the method `response_url`."""
    webhook = WebhookClient(url, timeout=10, retry_handlers=retry_handlers(telemetry, RESPONSE_URL))
    try:
        answer = webhook.send(**message)
    except Exception:
        telemetry.slack_call(RESPONSE_URL, "error")
        raise
    telemetry.slack_call(RESPONSE_URL, "ok" if answer.status_code < 300 else
                         "ratelimited" if answer.status_code == 429 else "error")
    return answer
