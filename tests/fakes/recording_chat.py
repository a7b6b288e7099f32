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

    def post(self, channel: str, text: str, key: str | None = None) -> str:
        self.posts.append((channel, text))
        if key:
            self.keys.setdefault(channel, set()).add(key)
        return str(len(self.posts))

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

    @property
    def last_reply(self) -> str:
        assert self.replies, "the bot said nothing to the user"
        return self.replies[-1][1]
