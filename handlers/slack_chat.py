"""bot.chat.ChatPort served by Slack's Web API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat import Command, NameTaken, Undeliverable
from bot.forms import Form
from bot.message import Message, Page
from bot.telemetry import SILENT, Telemetry
from handlers.slack_client import retry_handlers, send_to_response_url, web_client
from handlers.slack_limits import LAST_RESORT, TOO_LONG, fit
from handlers.slack_render import home_view, modal, neutralise

log = logging.getLogger(__name__)


__all__ = ["SlackChat", "retry_handlers", "web_client"]


# Messages that must appear once carry their key as Slack message metadata, which the history returns.
ONCE_EVENT = "samverkan_once"


def _metadata(key: str | None) -> dict | None:
    return {"event_type": ONCE_EVENT, "event_payload": {"key": key}} if key else None


class SlackChat:
    """The core's ChatPort on Slack's Web API. Lookups that every command may need (a user's e-mail, a user
    group's members) are kept for a short while: a command must not wait for Slack twice for the same answer."""
    seats_at_creation = False  # a channel is created empty; its people are invited afterwards


    def __init__(self, client: WebClient, cache_seconds: float = 300.0,
                 now: Callable[[], float] = time.monotonic, telemetry: Telemetry = SILENT) -> None:
        self.client = client
        self.telemetry = telemetry
        self._channel_ids: dict[str, str] = {}
        self._cache_seconds = cache_seconds
        self._now = now
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, kind: str, key: str, fetch: Callable[[], Any], fresh: bool = False) -> Any:
        """The cached answer while it is young, else (or when `fresh`) Slack's, which is then kept."""
        now = self._now()
        with self._lock:
            hit = self._cache.get((kind, key))
        if not fresh and hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        value = fetch()
        with self._lock:
            self._cache[(kind, key)] = (now, value)
        return value

    def _fitted(self, message: Message, send: Callable[[str, list | None], Any], always: bool = False) -> Any:
        """Sends the message cut to Slack's limits (handlers.slack_limits). Should Slack still refuse it as too
        long, it is sent once more cut to a screenful; refused again, it is Undeliverable: a permanent refusal,
        which the duty runner does not retry as if it were a passing failure."""
        text, shown = fit(message, always)
        try:
            return send(text, shown)
        except SlackApiError as exc:
            if exc.response.get("error") not in TOO_LONG:
                raise
            log.warning("Slack refused a message as too long (%s); sending it shortened", exc.response.get("error"))
        text, shown = fit(message, always, budget=LAST_RESORT)
        try:
            return send(text, shown)
        except SlackApiError as exc:
            if exc.response.get("error") in TOO_LONG:
                raise Undeliverable(str(exc.response.get("error"))) from exc
            raise

    def reply(self, to: Command, message: Message) -> None:
        text, shown = fit(message)
        if to.response_url:
            # The response URL works in every channel, also where the bot is not a member.
            answer = send_to_response_url(to.response_url, self.telemetry, text=text, blocks=shown,
                                          response_type="ephemeral")
            if answer.status_code < 300:
                return
            log.warning("response_url answered %s; falling back to chat.postEphemeral", answer.status_code)
        # A click on a Home, or a form sent from one, has no channel: the answer goes to the app's own conversation.
        channel = self._direct_channel(to.channel_id) if to.channel_id.startswith(("U", "W")) else to.channel_id
        self._fitted(message, lambda text, shown: self.client.chat_postEphemeral(
            channel=channel, user=to.user_id, text=text, blocks=shown))

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        answer = self._fitted(message, lambda text, shown: self.client.chat_postMessage(
            channel=channel, text=text, blocks=shown, metadata=_metadata(key), unfurl_links=False))
        if answer.get("channel"):
            self._channel_ids[channel] = str(answer["channel"])
        return str(answer.get("ts", ""))

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        channel = self._direct_channel(user_id)
        answer = self._fitted(message, lambda text, shown: self.client.chat_postMessage(
            channel=channel, text=text, blocks=shown, metadata=_metadata(key), unfurl_links=False))
        return str(answer.get("ts", ""))

    def _direct_channel(self, user_id: str) -> str:
        if user_id not in self._channel_ids:
            opened = self.client.conversations_open(users=user_id)
            self._channel_ids[user_id] = str(opened["channel"]["id"])
        return self._channel_ids[user_id]

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

    def update(self, channel_or_user: str, ref: str, message: Message) -> bool:
        channel = self._resolve(channel_or_user)
        if channel is None:
            return False
        try:
            # Blocks always: without them Slack would keep the buttons the message had.
            self._fitted(message, lambda text, shown: self.client.chat_update(
                channel=channel, ts=ref, text=text, blocks=shown), always=True)
        except SlackApiError as exc:
            if exc.response.get("error") in _GONE:
                return False
            raise
        return True

    def publish_home(self, user_id: str, page: Page) -> None:
        self.client.views_publish(user_id=user_id, view=home_view(page))

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

    def _user(self, user_id: str) -> dict[str, Any]:
        """users.info, with the locale: one call tells both a person's e-mail address and their language."""
        def fetch() -> dict[str, Any]:
            try:
                answer = self.client.users_info(user=user_id, include_locale=True)
            except SlackApiError as exc:
                if exc.response.get("error") == "user_not_found":
                    return {}
                raise
            return dict(answer.get("user") or {})

        return dict(self._cached("user", user_id, fetch))

    def email_of(self, user_id: str) -> str | None:
        email = (self._user(user_id).get("profile") or {}).get("email")
        return str(email) if email else None

    def locale_of(self, user_id: str) -> str | None:
        locale = self._user(user_id).get("locale")
        return str(locale) if locale else None

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        def fetch() -> list[str]:
            try:
                answer = self.client.usergroups_users_list(usergroup=usergroup)
            except SlackApiError as exc:
                if exc.response.get("error") in ("no_such_subteam", "subteam_not_found"):
                    return []
                raise
            return [str(u) for u in answer.get("users") or []]

        # A fresh answer also refreshes the cache: who speaks next is recognised by the current members too.
        return list(self._cached("usergroup", usergroup, fetch, fresh=fresh))

    # -- war rooms ------------------------------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
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
        # A topic carries a war room's title, typed by a person: it notifies nobody either.
        self.client.conversations_setTopic(channel=channel, topic=neutralise(topic)[:250])

    def set_purpose(self, channel: str, purpose: str) -> None:
        self.client.conversations_setPurpose(channel=channel, purpose=neutralise(purpose)[:250])

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

    def open_form(self, command: Command, form: Form) -> bool:
        if not command.trigger_id:
            return False
        self.client.views_open(trigger_id=command.trigger_id, view=modal(form))
        return True


# Refusals that another try will not change: the person is listed as not reached, not retried five times.
_PERMANENT = {
    "user_not_found", "users_not_found", "user_is_restricted", "user_is_ultra_restricted", "cant_invite",
    "user_disabled", "not_allowed", "restricted_action", "invalid_email", "not_allowed_token_type",
    "cannot_invite_bot", "ura_max_channels", "missing_scope", "channel_not_found", "is_archived",
    "invalid_user_id", "no_user", "external_limited_invite_only", "team_not_found",
}

# A message that can no longer be updated: kept current no more, not retried.
_GONE = {"message_not_found", "channel_not_found", "cant_update_message", "is_archived", "edit_window_closed"}
