"""A database URL is shown without its password, and an error quoting what a parser made of it shows no part of the
password, however the URL is written (issue 18 item 10)."""

from __future__ import annotations

import pytest

from samverkan.logs import BLANKED, safe_url, scrub, settings_secrets, url_secrets
from samverkan.settings import Settings


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://user:p@ss@word@host/db", "postgresql+psycopg://user:***@host/db"),
    ("postgresql+psycopg://user:p%40ss%40word@host/db", "postgresql+psycopg://user:***@host/db"),
    ("postgresql+psycopg://user@host:5432/db", "postgresql+psycopg://user@host:5432/db"),
    ("postgresql+psycopg://user:pa:ss/wo@rd@host:5432/db", "postgresql+psycopg://user:***@host:5432/db"),
    ("postgresql+psycopg://:secret@host/db", "postgresql+psycopg://***@host/db"),
    ("postgresql+psycopg://p@ss:word@host/db", "postgresql+psycopg://***@host/db"),
    ("postgresql:user:secret@host/db", "postgresql:***@host/db"),
    ("sqlite:///samverkan.db", "sqlite:///samverkan.db"),
    ("sqlite:////srv/a@b/samverkan.db", "sqlite:////srv/a@b/samverkan.db"),
])
def test_a_url_is_shown_without_any_part_of_its_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_what_a_parser_took_for_the_host_is_blanked() -> None:
    url = "postgresql+psycopg://user:p@ss@word@127.0.0.1/db"
    reason = "failed to resolve host 'ss@word@127.0.0.1': [Errno -2] Name or service not known"
    assert scrub(reason, url_secrets(url)) == f"failed to resolve host '{BLANKED}@127.0.0.1': [Errno -2] Name or " \
                                              "service not known"
    short = "postgresql+psycopg://user:pa:ss/wo@rd@127.0.0.1/db"  # its tail is two letters
    assert "rd@" not in scrub("failed to resolve host 'rd@127.0.0.1'", url_secrets(short))


def test_a_secret_quoted_in_part_is_blanked_and_the_rest_kept() -> None:
    assert scrub("token Zq7kXw9m refused, user samverkan", ["abcZq7kXw9mKp3v"]) == \
        f"token {BLANKED} refused, user samverkan"
    assert scrub("nothing secret here", ["Zq7kXw9mKp3v"]) == "nothing secret here"


def test_the_whole_password_is_a_secret_to_the_logs() -> None:
    settings = Settings(database_url="postgresql+psycopg://user:long@pass@word@host/db",
                        teams_app_password="teams-password")
    secrets = settings_secrets(settings)
    assert "long@pass@word" in secrets and "pass@word" in secrets and "teams-password" in secrets
