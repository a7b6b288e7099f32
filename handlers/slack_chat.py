"""bot.chat.ChatPort served by Slack's Web API."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.chat import Command
from bot.incident.warroom import DeclarationForm, NameTaken

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
        return self.find_posted(channel_or_user, key) is not None

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        channel = self._resolve(channel_or_user)
        if channel is None:
            return None
        # The last day is enough: a duty is recovered within minutes of its performer dying.
        pages = self.client.conversations_history(channel=channel, include_all_metadata=True, limit=200)
        for message in pages.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == ONCE_EVENT and metadata.get("event_payload", {}).get("key") == key:
                return str(message.get("ts", ""))
        return None

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

    # -- the war room (bot.incident.warroom.WarRoomChat) ----------------------------------------------------------
    def create_channel(self, name: str, private: bool) -> str:
        try:
            answer = self.client.conversations_create(name=name, is_private=private)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                raise NameTaken(name) from exc
            raise
        channel = str(answer["channel"]["id"])
        self._channel_ids[f"#{name}"] = channel
        return channel

    def find_channel(self, name: str) -> str | None:
        for page in self.client.conversations_list(types="public_channel,private_channel", limit=1000,
                                                   exclude_archived=True):
            for found in page.get("channels", []):
                if found.get("name") == name:
                    return str(found["id"])
        return None

    def set_topic(self, channel: str, topic: str) -> None:
        self.client.conversations_setTopic(channel=channel, topic=topic)

    def set_purpose(self, channel: str, purpose: str) -> None:
        self.client.conversations_setPurpose(channel=channel, purpose=purpose)

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        """With force, Slack invites the valid users and lists the others; someone already there is no failure."""
        try:
            answer = self.client.conversations_invite(channel=channel, users=",".join(user_ids), force=True)
        except SlackApiError as exc:
            answer = exc.response
            error = str(answer.get("error", ""))
            if error == "already_in_channel":
                return {}
            if not answer.get("errors") and error not in _PERMANENT:
                raise  # transient: the assembly is retried
            if not answer.get("errors"):
                return dict.fromkeys(user_ids, error)
        return {str(e.get("user")): str(e.get("error")) for e in answer.get("errors") or []
                if e.get("error") != "already_in_channel"}

    def invite_shared(self, channel: str, email: str) -> str | None:
        try:
            self.client.conversations_inviteShared(channel=channel, emails=[email], external_limited=True)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in ("already_in_channel", "already_invited"):
                return None
            if error in _PERMANENT:
                return error
            raise
        return None

    def usergroup_members(self, usergroup: str) -> list[str]:
        try:
            answer = self.client.usergroups_users_list(usergroup=usergroup)
        except SlackApiError as exc:
            if exc.response.get("error") in ("no_such_subteam", "subteam_not_found"):
                return []
            raise
        return [str(u) for u in answer.get("users") or []]

    def pin(self, channel: str, ref: str) -> None:
        try:
            self.client.pins_add(channel=channel, timestamp=ref)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":
                raise

    def archive(self, channel: str) -> None:
        try:
            self.client.conversations_archive(channel=channel)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_archived":
                raise

    def message_text(self, channel: str, ref: str) -> str | None:
        answer = self.client.conversations_history(channel=channel, latest=ref, inclusive=True, limit=1)
        messages = answer.get("messages") or []
        return str(messages[0].get("text", "")) if messages else None

    def open_declaration_form(self, command: Command, form: DeclarationForm) -> bool:
        if not command.trigger_id:
            return False
        self.client.views_open(trigger_id=command.trigger_id, view=declaration_view(form))
        return True


# Refusals that another try will not change: the person is listed as not reached, not retried five times.
_PERMANENT = {
    "user_not_found", "users_not_found", "user_is_restricted", "user_is_ultra_restricted", "cant_invite",
    "user_disabled", "not_allowed", "restricted_action", "invalid_email", "not_allowed_token_type",
    "cannot_invite_bot", "ura_max_channels", "missing_scope", "channel_not_found", "is_archived",
    "invalid_user_id", "no_user", "external_limited_invite_only", "team_not_found",
}

DECLARE_VIEW = "incident_declare"


def declaration_view(form: DeclarationForm) -> dict:
    def plain(text: str) -> dict:
        return {"type": "plain_text", "text": text[:75]}

    return {
        "type": "modal", "callback_id": DECLARE_VIEW, "private_metadata": form.channel,
        "title": plain(form.heading), "submit": plain(form.submit),
        "blocks": [
            {"type": "input", "block_id": "title", "label": plain(form.title_label),
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 150}},
            {"type": "input", "block_id": "services", "label": plain(form.services_label), "optional": True,
             "element": {"type": "multi_static_select", "action_id": "value",
                         "options": [{"text": plain(name), "value": key} for key, name in form.services]}},
            {"type": "input", "block_id": "severity", "label": plain(form.severity_label),
             "element": {"type": "static_select", "action_id": "value",
                         "options": [{"text": plain(str(n)), "value": str(n)} for n in form.severities]}},
            {"type": "input", "block_id": "description", "label": plain(form.description_label), "optional": True,
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True}},
        ],
    }
