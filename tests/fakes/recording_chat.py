"""A ChatPort that remembers what was said: the core's tests read it like a transcript."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat import Command


@dataclass
class RecordingChat:
    replies: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    posts: list[tuple[str, str]] = field(default_factory=list)  # (channel, text)
    directs: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    emails: dict[str, str] = field(default_factory=dict)  # platform user id -> e-mail, as the platform knows it
    lookups: list[str] = field(default_factory=list)

    def reply(self, command: Command, text: str) -> None:
        self.replies.append((command.user_id, text))

    keys: dict[str, set[str]] = field(default_factory=dict)  # channel or user -> keys of what was posted there

    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, key) -> the message's reference

    def post(self, channel: str, text: str, key: str | None = None) -> str:
        self.posts.append((channel, text))
        ref = str(len(self.posts))
        if key:
            self.keys.setdefault(channel, set()).add(key)
            self.refs[(channel, key)] = ref
        return ref

    def direct(self, user_id: str, text: str, key: str | None = None) -> None:
        self.directs.append((user_id, text))
        if key:
            self.keys.setdefault(user_id, set()).add(key)

    def was_posted(self, channel_or_user: str, key: str) -> bool:
        return key in self.keys.get(channel_or_user, set())

    def find_user_by_email(self, email: str) -> str | None:
        self.lookups.append(email)
        return next((uid for uid, mail in self.emails.items() if mail == email), None)

    def email_of(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    # -- the war room (bot.incident.warroom.WarRoomChat) ----------------------------------------------------------
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
    forms: list[Command] = field(default_factory=list)
    invite_calls: list[list[str]] = field(default_factory=list)

    def create_channel(self, name: str, private: bool) -> str:
        from bot.incident.warroom import NameTaken

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

    def usergroup_members(self, usergroup: str) -> list[str]:
        return list(self.usergroups.get(usergroup, []))

    def find_posted(self, channel: str, key: str) -> str | None:
        return self.refs.get((channel, key))

    def pin(self, channel: str, ref: str) -> None:
        self.pins.setdefault(channel, []).append(ref)

    def archive(self, channel: str) -> None:
        self.archived.add(channel)

    def message_text(self, channel: str, ref: str) -> str | None:
        index = int(ref) - 1 if ref.isdigit() else -1
        return self.posts[index][1] if 0 <= index < len(self.posts) else None

    def open_declaration_form(self, command: Command, form: object) -> bool:
        self.forms.append(command)
        return True

    def posted_in(self, channel: str) -> list[str]:
        return [text for where, text in self.posts if where == channel]

    @property
    def last_reply(self) -> str:
        assert self.replies, "the bot said nothing to the user"
        return self.replies[-1][1]
