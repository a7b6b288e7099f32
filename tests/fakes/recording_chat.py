"""A ChatPort that remembers what was said: the core's tests read it like a transcript. Messages are kept as the
core made them and as plain text (with the catalogue's light markup, mentions as @names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.chat import Command, NameTaken
from bot.forms import Form
from bot.message import Message, Page


@dataclass
class RecordingChat:
    seats_at_creation = False  # a channel is created empty; its people are invited afterwards

    replies: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    posts: list[tuple[str, str]] = field(default_factory=list)  # (channel, text)
    directs: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    messages: list[tuple[str, Message]] = field(default_factory=list)  # (where, message), everything said
    emails: dict[str, str] = field(default_factory=dict)  # platform user id -> e-mail, as the platform knows it
    lookups: list[str] = field(default_factory=list)
    keys: dict[str, set[str]] = field(default_factory=dict)  # channel or user -> keys of what was posted there
    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel or user, key) -> the reference
    updates: list[tuple[str, str, Message]] = field(default_factory=list)  # (channel or user, reference, message)
    homes: dict[str, list[Page]] = field(default_factory=dict)  # user id -> every Home published to them
    locales: dict[str, str] = field(default_factory=dict)  # user id -> locale, as the platform knows it

    def reply(self, to: Command, message: Message) -> None:
        self.replies.append((to.user_id, message.plain()))
        self.messages.append((f"reply:{to.user_id}", message))

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        self.posts.append((channel, message.plain()))
        self.messages.append((channel, message))
        return self._keep(channel, key, str(len(self.posts)))

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        self.directs.append((user_id, message.plain()))
        self.messages.append((f"dm:{user_id}", message))
        return self._keep(user_id, key, f"dm-{len(self.directs)}")

    def _keep(self, where: str, key: str | None, ref: str) -> str:
        if key:
            self.keys.setdefault(where, set()).add(key)
            self.refs[(where, key)] = ref
        return ref

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        return self.refs.get((channel_or_user, key))

    def update(self, channel_or_user: str, ref: str, message: Message) -> bool:
        self.updates.append((channel_or_user, ref, message))
        return True

    def publish_home(self, user_id: str, page: Page) -> None:
        self.homes.setdefault(user_id, []).append(page)

    def locale_of(self, user_id: str) -> str | None:
        return self.locales.get(user_id)

    def was_posted(self, channel_or_user: str, key: str) -> bool:
        return self.find_posted(channel_or_user, key) is not None

    def find_user_by_email(self, email: str) -> str | None:
        self.lookups.append(email)
        return next((uid for uid, mail in self.emails.items() if mail == email), None)

    def email_of(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    # -- war rooms ------------------------------------------------------------------------------------------------
    channels: dict[str, str] = field(default_factory=dict)  # name -> id
    private: dict[str, bool] = field(default_factory=dict)  # id -> private
    topics: dict[str, str] = field(default_factory=dict)
    purposes: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)  # channel id -> user ids
    shared: dict[str, set[str]] = field(default_factory=dict)  # channel id -> e-mail addresses invited
    pins: dict[str, list[str]] = field(default_factory=dict)
    archived: set[str] = field(default_factory=set)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # user id or e-mail -> the platform's refusal
    forms: list[Form] = field(default_factory=list)
    invite_calls: list[list[str]] = field(default_factory=list)

    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
        if name in self.channels:
            raise NameTaken(name)
        channel = f"C{len(self.channels) + 1:08d}"
        self.channels[name] = channel
        self.private[channel] = private
        return channel

    def find_channel(self, name: str) -> str | None:
        return self.channels.get(name)

    def set_topic(self, channel: str, topic: str) -> None:
        self.topics[channel] = topic

    def set_purpose(self, channel: str, purpose: str) -> None:
        self.purposes[channel] = purpose

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        assert len(user_ids) <= 100, "a batch is at most 100"
        self.invite_calls.append(list(user_ids))
        failed = {u: self.refused[u] for u in user_ids if u in self.refused}
        self.members.setdefault(channel, set()).update(u for u in user_ids if u not in failed)
        return failed

    def invite_shared(self, channel: str, email: str) -> str | None:
        if email in self.refused:
            return self.refused[email]
        self.shared.setdefault(channel, set()).add(email)
        return None

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        return list(self.usergroups.get(usergroup, []))

    def pin(self, channel: str, ref: str) -> None:
        self.pins.setdefault(channel, []).append(ref)

    def archive(self, channel: str) -> None:
        self.archived.add(channel)

    def message_text(self, channel: str, ref: str) -> str | None:
        index = int(ref) - 1 if ref.isdigit() else -1
        return self.posts[index][1] if 0 <= index < len(self.posts) else None

    def open_form(self, command: Command, form: Form) -> bool:
        self.forms.append(form)
        return True

    # -- reading the transcript -----------------------------------------------------------------------------------
    def posted_in(self, channel: str) -> list[str]:
        return [text for where, text in self.posts if where == channel]

    def said_to(self, where: str) -> list[Message]:
        return [message for to, message in self.messages if to == where]

    @property
    def last_reply(self) -> str:
        assert self.replies, "the bot said nothing to the user"
        return self.replies[-1][1]
