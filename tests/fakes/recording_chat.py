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

    def post(self, channel: str, text: str) -> str:
        self.posts.append((channel, text))
        return str(len(self.posts))

    def direct(self, user_id: str, text: str) -> None:
        self.directs.append((user_id, text))

    def find_user_by_email(self, email: str) -> str | None:
        self.lookups.append(email)
        return next((uid for uid, mail in self.emails.items() if mail == email), None)

    def email_of(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    @property
    def last_reply(self) -> str:
        assert self.replies, "the bot said nothing to the user"
        return self.replies[-1][1]
