"""Tokens, both ways.

Inbound: every activity the Bot Connector posts carries a JWT, signed with a key published through OpenID metadata.
It is checked before anything of the request is read: signature (RS256, a key the metadata lists), issuer, audience
(our app id), expiry, and that it was issued for the service URL the activity says it comes from.

Outbound: the Bot Connector and Graph each want a bearer token of ours, from the Entra ID token endpoint with the app's
client credentials; kept until shortly before it expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

# Clocks of two machines disagree a little; Microsoft's own SDKs allow five minutes.
LEEWAY = 300
# The signing keys roll over; a key we have not seen makes us read them again, but not more often than this.
KEYS_REFRESH = 60.0
KEYS_MAX_AGE = 24 * 3600.0


class Unauthorized(Exception):
    """The request is not from the Bot Connector for this app."""


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    # The channels (msteams, webchat...) the signing key is endorsed for: an activity from another is not believed.
    endorsements: frozenset[str]

    def endorses(self, channel: str | None) -> bool:
        return not self.endorsements or (channel or "") in self.endorsements


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
        # The token names the service it was issued for; an activity claiming another is not believed.
        claimed = claims.get("serviceurl") or claims.get("serviceUrl")
        if service_url and claimed and claimed.rstrip("/") != service_url.rstrip("/"):
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
