"""Tokens, both ways.

Inbound: every activity the Bot Connector posts carries a JWT, signed with a key published through OpenID metadata.
It is checked before anything of the request is read: signature (RS256, a key the metadata lists), issuer, audience
(our app id), expiry, and that it was issued for the service URL the activity says it comes from: the token must name
one (`serviceurl`), the activity's must be the same, and it must be on the allow-list of Bot Connector hosts
(`allowed_service_url`), so that a valid token cannot make the bot send its own bearer token anywhere else.

Outbound: the Bot Connector and Graph each want a bearer token of ours, from the Entra ID token endpoint with the app's
client credentials; kept until shortly before it expires.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

log = logging.getLogger(__name__)

# Clocks of two machines disagree a little; Microsoft's own SDKs allow five minutes.
LEEWAY = 300
# The signing keys roll over; a key we have not seen makes us read them again, but not more often than this.
KEYS_REFRESH = 60.0
KEYS_MAX_AGE = 24 * 3600.0


# The Bot Connector's hosts for Teams: the public cloud and the US government clouds (GCC, GCC High, DoD). Every
# serviceUrl Teams gives is under one of them (/emea/, /amer/, /teams/...).
# https://learn.microsoft.com/dotnet/api/microsoft.agents.extensions.msteams.teamsproactiveserviceendpoints
# https://microsoft.github.io/Agents-for-js/variables/_microsoft_agents-hosting.TeamsServiceEndpoints.html
TEAMS_SERVICE_HOSTS = ("smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com",
                       "smba.infra.gov.teams.microsoft.us", "smba.infra.dod.teams.microsoft.us")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_DEFAULT_PORT = {"https": 443, "http": 80}


@dataclass(frozen=True)
class _Allowed:
    scheme: str
    host: str  # lower case; "*.example.com" for any host under example.com (not example.com itself)
    port: int

    def admits(self, scheme: str, host: str, port: int) -> bool:
        if scheme != self.scheme or port != self.port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


def _hostname(host: str) -> str | None:
    """A DNS name of labels, or an IP address literal; lower case, without a trailing dot. None for anything else."""
    host = host.lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if (ip := _ip(host)) is not None:
        return str(ip)
    if host == "localhost":
        return host
    labels = host.split(".")
    return host if len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) else None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    return host == "localhost" or bool((ip := _ip(host)) and ip.is_loopback)


@lru_cache(maxsize=256)  # read once: allowed_service_url is asked before every Connector call
def service_url_host(entry: str) -> _Allowed:
    """One entry of TEAMS_SERVICE_URL_HOSTS, or ValueError saying what is wrong with it.

    `smba.trafficmanager.net`: that host, https on port 443. `*.example.com`: any host under example.com (at least
    two labels after the `*.`), https on 443. `https://host:8443`: https on that port. `http://127.0.0.1:8080`: plain
    http, which only a loopback host may be given (a test's fake; never a host across a network)."""
    text = entry.strip()
    scheme = "https"
    if "://" in text:
        scheme, _, text = text.partition("://")
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORT:
            raise ValueError(f"{entry!r}: only https (or http on a loopback host) is allowed")
    host, port_text = text, ""
    if (colon := text.rfind(":")) > text.rfind("]"):
        host, port_text = text[:colon], text[colon + 1:]
    wildcard = host.startswith("*.")
    name = _hostname(host[2:] if wildcard else host)
    if name is None or (wildcard and _ip(name)):
        raise ValueError(f"{entry!r}: not a host name (a leading *. may stand for any host under a domain)")
    if port_text and not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise ValueError(f"{entry!r}: the port is not a number from 1 to 65535")
    if scheme == "http" and (wildcard or not _loopback(name)):
        raise ValueError(f"{entry!r}: plain http is allowed only for a loopback host (127.0.0.1, ::1, localhost)")
    return _Allowed(scheme, f"*.{name}" if wildcard else name, int(port_text) if port_text else _DEFAULT_PORT[scheme])


def _split(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an absolute http(s) URL with nothing ambiguous in it, else None."""
    if not url or not url.isascii() or any(c.isspace() or c == "\\" or not c.isprintable() for c in url):
        return None  # no whitespace, control characters or backslashes, which URL parsers read differently
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT or "@" in parts.netloc or parts.query or parts.fragment or not parts.hostname:
        return None  # credentials in a service URL are a trick, not a Bot Connector
    host = _hostname(parts.hostname)
    if host is None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORT[scheme], parts.path


def allowed_service_url(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether `url` is a Bot Connector the bot may call: https (or http where an entry names a loopback host with
    its scheme) to a host on `hosts` (TEAMS_SERVICE_URL_HOSTS). The bot sends its own bearer token to a service URL,
    so one that is not Microsoft's is never called: an activity naming another is refused, and the chat port asks
    this before every Connector call."""
    split = _split(url)
    if split is None:
        return False
    scheme, host, port, _ = split
    for entry in hosts:
        try:
            allowed = service_url_host(entry)
        except ValueError:
            continue  # the settings refuse such an entry at the start; here it admits nothing
        if allowed.admits(scheme, host, port):
            return True
    return False


def same_service_url(a: str, b: str) -> bool:
    """The token's serviceurl claim and the activity's serviceUrl name the same Connector: scheme, host, port and
    path compared (host and scheme in any case; a trailing slash ignored). Microsoft's SDKs compare the two strings
    ignoring case; this is as strict but not put off by `/emea` against `/emea/`."""
    left, right = _split(a), _split(b)
    if left is None or right is None:
        return False
    return left[:3] == right[:3] and left[3].rstrip("/") == right[3].rstrip("/")


def check_service_url_hosts(hosts: Iterable[str]) -> tuple[str, ...]:
    """The entries, each checked (ValueError naming the first that is wrong)."""
    entries = tuple(h.strip() for h in hosts if h.strip())
    for entry in entries:
        service_url_host(entry)
    return entries


class Unauthorized(Exception):
    """The request is not from the Bot Connector for this app."""


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    # The channels (msteams, webchat...) the signing key is endorsed for: an activity from another is not believed.
    endorsements: frozenset[str]

    def endorses(self, channel: str | None) -> bool:
        return not self.endorsements or (channel or "") in self.endorsements


def service_url_claim(claims: dict[str, Any]) -> str | None:
    """The token's `serviceurl` claim (Microsoft's SDKs name it so; `serviceUrl` read too), or None."""
    claimed = claims.get("serviceurl", claims.get("serviceUrl"))
    return claimed if isinstance(claimed, str) and claimed.strip() else None


class InboundVerifier:
    def __init__(self, app_id: str, metadata_url: str, issuer: str, http: httpx.Client,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.app_id = app_id
        self.metadata_url = metadata_url
        self.issuer = issuer
        self.http = http
        self._now = now
        self._keys: dict[str, tuple[Any, frozenset[str]]] = {}
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def verify(self, authorization: str | None, service_url: str | None = None) -> Verified:
        """The token's claims and its key's endorsements, or Unauthorized."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("not a JWT") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("not signed with RS256")  # never "none", never a shared secret
        key, endorsements = self._key(str(header.get("kid") or ""))
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self.app_id, issuer=self.issuer,
                                leeway=LEEWAY, options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        # The token names the service it was issued for, and a token that names none is refused, as Microsoft's
        # own validators refuse it ("The token contains a serviceUrl claim with value that matches the serviceUrl
        # property at the root of the Activity", Authenticate requests from the Bot Connector service to your bot:
        # https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication).
        claimed = service_url_claim(claims)
        if claimed is None:
            raise Unauthorized("the token names no service URL")
        if service_url is not None and not same_service_url(claimed, service_url):
            raise Unauthorized("service URL does not match the token")
        return Verified(claims, endorsements)

    def _key(self, kid: str) -> tuple[Any, frozenset[str]]:
        with self._lock:
            fresh = self._read_at is not None and self._now() - self._read_at < KEYS_MAX_AGE
            if kid in self._keys and fresh:
                return self._keys[kid]
            if self._read_at is None or self._now() - self._read_at >= KEYS_REFRESH or not fresh:
                self._keys = self._read_keys()
                self._read_at = self._now()
            if kid not in self._keys:
                raise Unauthorized("signed with a key the Bot Connector does not publish")
            return self._keys[kid]

    def _read_keys(self) -> dict[str, Any]:
        try:
            metadata = self.http.get(self.metadata_url).raise_for_status().json()
            jwks = self.http.get(metadata["jwks_uri"]).raise_for_status().json()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("could not read the Bot Connector's signing keys: %s", exc)
            return self._keys  # the ones we had; a request signed with another is refused
        keys: dict[str, tuple[Any, frozenset[str]]] = {}
        for entry in jwks.get("keys", []):
            try:
                endorsed = frozenset(str(e) for e in entry.get("endorsements") or [])
                keys[str(entry["kid"])] = (jwt.PyJWK.from_dict(entry, algorithm="RS256").key, endorsed)
            except (jwt.PyJWTError, KeyError, TypeError):
                continue
        return keys


class ClientCredentials:
    """The app's own bearer token for one audience (the Bot Connector, or Graph)."""

    def __init__(self, login_url: str, tenant: str, app_id: str, password: str, scope: str, http: httpx.Client,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.url = f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        self.form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": password,
                     "scope": scope}
        self.http = http
        self._now = now
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def header(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._now() >= self._token[1]:
                answer = self.http.post(self.url, data=self.form).raise_for_status().json()
                # Renewed a minute early: a token must not expire on its way.
                self._token = (str(answer["access_token"]), self._now() + float(answer.get("expires_in", 3600)) - 60)
            return {"Authorization": f"Bearer {self._token[0]}"}
