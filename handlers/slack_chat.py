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


# Messages that must appear once carry their key as Slack message metadata, which the history returns.
ONCE_EVENT = "samverkan_once"


def _metadata(key: str | None) -> dict | None:
    return {"event_type": ONCE_EVENT, "event_payload": {"key": key}} if key else None


class SlackChat:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._channel_ids: dict[str, str] = {}

    def reply(self, command: Command, text: str) -> None:
        if command.response_url:
            # The response URL works in every channel, also where the bot is not a member.
            webhook = WebhookClient(command.response_url, timeout=10, retry_handlers=retry_handlers())
            answer = webhook.send(text=text, response_type="ephemeral")
            if answer.status_code < 300:
                return
            log.warning("response_url answered %s; falling back to chat.postEphemeral", answer.status_code)
        self.client.chat_postEphemeral(channel=command.channel_id, user=command.user_id, text=text)

    def post(self, channel: str, text: str, key: str | None = None) -> str:
        answer = self.client.chat_postMessage(channel=channel, text=text, metadata=_metadata(key))
        if answer.get("channel"):
            self._channel_ids[channel] = str(answer["channel"])
        return str(answer.get("ts", ""))

    def direct(self, user_id: str, text: str, key: str | None = None) -> None:
        self.client.chat_postMessage(channel=self._direct_channel(user_id), text=text, metadata=_metadata(key))

    def _direct_channel(self, user_id: str) -> str:
        if user_id not in self._channel_ids:
            opened = self.client.conversations_open(users=user_id)
            self._channel_ids[user_id] = str(opened["channel"]["id"])
        return self._channel_ids[user_id]

    def was_posted(self, channel_or_user: str, key: str) -> bool:
        channel = self._resolve(channel_or_user)
        if channel is None:
            return False
        # The last day is enough: a duty is recovered within minutes of its performer dying.
        pages = self.client.conversations_history(channel=channel, include_all_metadata=True, limit=200)
        for message in pages.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == ONCE_EVENT and metadata.get("event_payload", {}).get("key") == key:
                return True
        return False

    def _resolve(self, channel_or_user: str) -> str | None:
        if channel_or_user in self._channel_ids:
            return self._channel_ids[channel_or_user]
        if channel_or_user.startswith(("U", "W")):
            return self._direct_channel(channel_or_user)
        if not channel_or_user.startswith("#"):
            return channel_or_user
        name = channel_or_user[1:]
        for page in self.client.conversations_list(types="public_channel,private_channel", limit=1000,
                                                   exclude_archived=True):
            for found in page.get("channels", []):
                self._channel_ids[f"#{found['name']}"] = found["id"]
        return self._channel_ids.get(f"#{name}")

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
