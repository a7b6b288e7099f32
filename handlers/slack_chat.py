"""bot.chat.ChatPort served by Slack's Web API."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.chat import Command

log = logging.getLogger(__name__)


def retry_handlers() -> list:
    # slack_sdk's own handlers: 429 waits for Retry-After, connection errors back off; both give up after a few.
    return [ConnectionErrorRetryHandler(max_retry_count=3), RateLimitErrorRetryHandler(max_retry_count=5)]


def web_client(token: str, base_url: str, timeout: int = 10) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers())


class SlackChat:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def reply(self, command: Command, text: str) -> None:
        if command.response_url:
            # The response URL works in every channel, also where the bot is not a member.
            webhook = WebhookClient(command.response_url, timeout=10, retry_handlers=retry_handlers())
            answer = webhook.send(text=text, response_type="ephemeral")
            if answer.status_code < 300:
                return
            log.warning("response_url answered %s; falling back to chat.postEphemeral", answer.status_code)
        self.client.chat_postEphemeral(channel=command.channel_id, user=command.user_id, text=text)

    def post(self, channel: str, text: str) -> str:
        answer = self.client.chat_postMessage(channel=channel, text=text)
        return str(answer.get("ts", ""))

    def direct(self, user_id: str, text: str) -> None:
        opened = self.client.conversations_open(users=user_id)
        self.client.chat_postMessage(channel=opened["channel"]["id"], text=text)

    def find_user_by_email(self, email: str) -> str | None:
        try:
            answer = self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        return str(answer["user"]["id"])

    def email_of(self, user_id: str) -> str | None:
        try:
            answer = self.client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        email = (answer.get("user") or {}).get("profile", {}).get("email")
        return str(email) if email else None
