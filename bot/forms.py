"""Forms as the core describes them: fields, choices and limits. A platform shows one (a Slack modal, a Teams
Adaptive Card) and sends back what was filled in; a platform without forms gets the command's usage instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# "person": someone on the platform (Slack's user picker), handed back as their platform user id.
FieldKind = Literal["text", "multiline", "select", "multiselect", "person"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    optional: bool = False
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    initial: str | None = None


@dataclass(frozen=True)
class Form:
    """`action` says what a submission does (an entry of the permission matrix); `context` travels with the form
    and comes back with the submission (the channel the command was typed in, a message it was raised from)."""

    action: str
    title: str
    submit: str
    close: str
    fields: tuple[FormField, ...]
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    """A filled-in form, as the platform delivered it: values by field name (a list for a multiselect)."""

    action: str
    user_id: str
    values: dict[str, str | list[str]]
    context: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return value.strip() if isinstance(value, str) else ""

    def choices(self, name: str) -> list[str]:
        value = self.values.get(name)
        if isinstance(value, list):
            return [v for v in value if v]
        return [value] if value else []
