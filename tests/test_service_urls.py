"""The rules that need no server: which Bot Connector the bot may call (teams.auth.allowed_service_url), how a token's
service URL is compared with an activity's, the TEAMS_SERVICE_URL_HOSTS setting, and JSON's nesting bound."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bot import json_depth
from samverkan.settings import Settings
from teams.auth import TEAMS_SERVICE_HOSTS, allowed_service_url, same_service_url, service_url_host

TESTING = ("*.botframework.com", "http://127.0.0.1:8080", "https://[::1]:9443")


@pytest.mark.parametrize("url", [
    "https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/teams", "https://SMBA.TrafficManager.net/amer/",
    "https://smba.trafficmanager.net:443/apac/", "https://smba.infra.gcc.teams.microsoft.com/teams",
    "https://smba.infra.gov.teams.microsoft.us/teams", "https://smba.infra.dod.teams.microsoft.us/teams",
])
def test_microsofts_connectors_for_teams_are_allowed_by_default(url: str) -> None:
    assert allowed_service_url(url, TEAMS_SERVICE_HOSTS)


@pytest.mark.parametrize("url", [
    "http://smba.trafficmanager.net/emea/",  # not https
    "https://smba.trafficmanager.net:8443/emea/",  # another port
    "https://evil.example/", "https://smba.trafficmanager.net.evil.example/", "https://evilsmba.trafficmanager.net/",
    "https://x.smba.trafficmanager.net/",  # no wildcard unless one is given
    "https://smba.trafficmanager.net@evil.example/", "https://user:pw@smba.trafficmanager.net/",
    "https://evil.example\\@smba.trafficmanager.net/", "https://evil.example\\.smba.trafficmanager.net/",
    "https://smba.trafficmanager.net /emea/", "https://smba.trafficmanager.net/emea/?next=https://evil.example",
    "https://smba.trafficmanager.net/emea/#x", "https://smba%2etrafficmanager.net/", "https://smba.trafficmanager.net:x/",
    "smba.trafficmanager.net/emea/", "//smba.trafficmanager.net/emea/", "ftp://smba.trafficmanager.net/", "",
    "https://smba.trafﬁcmanager.net/",  # a ligature that IDNA would fold into the allowed name
])
def test_anything_else_is_not(url: str) -> None:
    assert not allowed_service_url(url, TEAMS_SERVICE_HOSTS)


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://europe.botframework.com/", True), ("https://a.b.botframework.com/x", True),
    ("https://botframework.com/", False), ("http://europe.botframework.com/", False),
    ("http://127.0.0.1:8080/connector/", True), ("http://127.0.0.1:8081/connector/", False),
    ("https://127.0.0.1:8080/", False), ("http://localhost:8080/", False), ("https://[::1]:9443/x", True),
    ("https://smba.trafficmanager.net/emea/", False),  # only what the setting names
])
def test_entries_name_hosts_wildcards_and_a_loopback_with_its_scheme(url: str, allowed: bool) -> None:
    assert allowed_service_url(url, TESTING) is allowed


@pytest.mark.parametrize("entry", ["*.com", "*.", "http://evil.example:80", "http://*.example.com", "ftp://x.example",
                                   "*.127.0.0.1", "x.example:0", "x.example:99999", "bad host.example",
                                   "smba.trafficmanager.net/emea", "user@x.example", ""])
def test_a_wrong_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        service_url_host(entry)


def test_a_token_and_an_activity_name_the_same_connector_whatever_the_trailing_slash() -> None:
    assert same_service_url("https://smba.trafficmanager.net/emea", "https://smba.trafficmanager.net/emea/")
    assert same_service_url("HTTPS://SMBA.trafficmanager.net:443/emea/", "https://smba.trafficmanager.net/emea")
    assert not same_service_url("https://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net/amer/")
    assert not same_service_url("https://smba.trafficmanager.net/emea/", "http://smba.trafficmanager.net/emea/")
    assert not same_service_url("http://127.0.0.1:1/c/", "http://127.0.0.1:2/c/")
    assert not same_service_url("", "")


def test_the_setting_is_comma_separated_and_the_default_connector_must_be_on_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert Settings().teams_service_url_hosts == TEAMS_SERVICE_HOSTS
    monkeypatch.setenv("TEAMS_SERVICE_URL_HOSTS", " smba.trafficmanager.net, *.botframework.com ,")
    assert Settings().teams_service_url_hosts == ("smba.trafficmanager.net", "*.botframework.com")
    monkeypatch.setenv("TEAMS_SERVICE_URL", "https://evil.example/")
    with pytest.raises(ValidationError, match="TEAMS_SERVICE_URL https://evil.example/ is not on a host"):
        Settings()
    monkeypatch.setenv("TEAMS_SERVICE_URL_HOSTS", "http://evil.example")
    with pytest.raises(ValidationError, match="plain http is allowed only for a loopback host"):
        Settings()


@pytest.mark.parametrize("text", ["[" * 65 + "]" * 65, '{"a":' * 65 + "1" + "}" * 65, "[" * 10_000,
                                  '[{"a": [' * 30 + "[[[[[", '{"a": "x"} ' + "[" * 100])
def test_json_nested_deeper_than_the_bound_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        json_depth.loads(text)
    with pytest.raises(ValueError):
        json_depth.loads(text.encode())


@pytest.mark.parametrize("value", [
    [[[[[[[[[[]]]]]]]]]], {"text": "[" * 10_000}, {"text": "\\\"[[[[" * 100, "b": ["]"]}, "]]]]}}}}", {"a": "\\"},
    json.loads("[" * 64 + "]" * 64),
])
def test_json_as_slack_and_teams_nest_it_is_read(value: object) -> None:
    text = json.dumps(value)
    assert json_depth.loads(text) == value
    assert json_depth.loads(text.encode("utf-16")) == value
