"""The error a person is told about, apart from bot.commands so that what needs only it (bot.rate, read by the
settings before `samverkan run` listens) does not import the commands, the permissions and the model."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action: the person is told why, in their language, and nothing is saved."""

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
