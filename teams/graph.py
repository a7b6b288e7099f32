"""Microsoft Graph as the Teams adapter uses it: one call, JSON batching that waits each throttled request's own
Retry-After, and the people and groups of the City's tenant, kept for a while (a directory cache, as Slack's).

People are found as Graph finds them: by object id or user principal name (`GET /users/{id | userPrincipalName}`),
a guest of another organisation by `mail` or `otherMails`, since a guest's UPN is `name_domain#EXT#@tenant`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bot.chat import RoomRefused
from teams.auth import ClientCredentials
from teams.rest import RETRY_AFTER_CAP, Refused, call, retry_after

log = logging.getLogger(__name__)

OBJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Graph's JSON batching takes at most this many requests at once (https://learn.microsoft.com/en-us/graph/json-batching).
GRAPH_BATCH = 20
# How many times the requests of a batch that Graph throttled are sent again, each after its Retry-After.
BATCH_ROUNDS = 5
# `$top` of a directory object list: at most 999 a page.
GROUP_PAGE = 999
SELECT = "$select=id,mail,userPrincipalName,preferredLanguage,userType"



class Graph:
    def __init__(self, base_url: str, http: httpx.Client, token: ClientCredentials, cache_seconds: float = 300.0,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base_url.rstrip("/")
        self.http = http
        self.token = token
        self.sleep = sleep
        self.group_page = GROUP_PAGE
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._groups: dict[str, tuple[float, list[str]]] = {}  # Entra ID group -> (when read, its users)
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        auth = self.token.header if not headers else (lambda: {**self.token.header(), **headers})
        return call(self.http, method, f"{self.base}{path}", auth, body, sleep=self.sleep)

    def user(self, user: str) -> dict[str, Any]:
        """A person by object id or user principal name: the only keys `GET /users/{id | userPrincipalName}`
        takes (https://learn.microsoft.com/en-us/graph/api/user-get). Whoever it is not found is remembered as
        nobody for as long as anyone is."""
        with self._lock:
            hit = self._users.get(user.lower())
        if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        try:
            found = self.call("GET", f"/users/{quote(user)}?{SELECT}")
        except Refused as refused:
            if refused.status not in (400, 404):
                raise
            found = {}
        self.keep(user, found)
        return found

    def keep(self, key: str, found: dict[str, Any]) -> None:
        with self._lock:
            self._users[key.lower()] = (self._monotonic(), found)
            if found.get("id"):
                self._users[str(found["id"]).lower()] = (self._monotonic(), found)

    def find_user_by_email(self, email: str) -> str | None:
        """The City's own people are found by their user principal name; a guest's UPN is
        `name_domain#EXT#@tenant`, so a guest is found by `mail`, then by `otherMails`
        (https://learn.microsoft.com/en-us/graph/api/user-list, "Get a user account using a sign-in name" and the
        `mail`/`otherMails` filters in https://learn.microsoft.com/en-us/graph/aad-advanced-queries)."""
        email = email.strip()
        if not email or "@" not in email:
            return None
        found = self.user(email)
        if not found.get("id"):
            found = self._by_mail(email)
        return str(found["id"]).lower() if found.get("id") else None

    def _by_mail(self, email: str) -> dict[str, Any]:
        key = f"mail:{email.lower()}"
        with self._lock:
            hit = self._users.get(key)
        if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        quoted = email.replace("'", "''")
        found: dict[str, Any] = {}
        for condition, advanced in ((f"mail eq '{quoted}'", False), (f"otherMails/any(x:x eq '{quoted}')", True)):
            # `otherMails/any` is an advanced query: ConsistencyLevel eventual with $count.
            query = f"$filter={quote(condition)}&{SELECT}" + ("&$count=true" if advanced else "")
            answer = self.call("GET", f"/users?{query}", headers={"ConsistencyLevel": "eventual"} if advanced
                                 else None)
            values = answer.get("value") or []
            if values:
                found = values[0]
                break
        self.keep(key, found)
        return found

    def group_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        """The object ids of the users in an Entra ID group, nested groups' members included: List group
        transitive members cast to users (https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers:
        `GET /groups/{id}/transitiveMembers/microsoft.graph.user`, application permission GroupMember.Read.All, a
        flat list of all nested members, paged with `@odata.nextLink`). Kept for `cache_seconds` to recognise who
        is speaking, as Slack's user groups are; `fresh` (a war room's assembly) asks Graph and refreshes what is
        kept, so a rota changed at a shift handover invites the shift on duty now. A group Graph does not know
        has nobody in it. Without GroupMember.Read.All an assembly is refused (the declarer is told what to
        grant); recognising who speaks goes on without the group."""
        if not OBJECT_ID.match(usergroup):
            return []
        key = usergroup.lower()
        if not fresh:
            with self._lock:
                hit = self._groups.get(key)
            if hit is not None and self._monotonic() - hit[0] < self._cache_seconds:
                return list(hit[1])
        try:
            members = self._members_of(key)
        except Refused as refused:
            if refused.status in (401, 403):
                if fresh:
                    raise RoomRefused("permission", "GroupMember.Read.All") from refused
                log.error("the members of the Entra ID group %s cannot be read: Samverkan has no "
                          "GroupMember.Read.All (README, \"Running against Microsoft Teams\")", key)
                return []
            if refused.status not in (400, 404):
                raise
            members = []
        with self._lock:
            self._groups[key] = (self._monotonic(), members)
        return list(members)

    def _members_of(self, group: str) -> list[str]:
        url: str | None = (f"{self.base}/groups/{quote(group)}/transitiveMembers/"
                           f"microsoft.graph.user?$select=id&$top={self.group_page}")
        found: list[str] = []
        while url:
            page = call(self.http, "GET", url, self.token.header, sleep=self.sleep)
            for item in page.get("value") or []:
                if isinstance(item, dict) and item.get("id") and str(item["id"]).lower() not in found:
                    found.append(str(item["id"]).lower())
            following = page.get("@odata.nextLink")
            # The next page is Graph's own: the app's token goes to no other address a page names.
            url = following if isinstance(following, str) and following.startswith(
                self.base + "/") else None
        return found

    def people(self, user_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each person's user record (whether they are a guest decides their role in a chat), read through
        Graph's JSON batching, GRAPH_BATCH at a time, for those not already known. Nobody found: not in it."""
        known: dict[str, dict[str, Any]] = {}
        wanted: list[str] = []
        now = self._monotonic()
        with self._lock:
            for user in user_ids:
                hit = self._users.get(user.lower())
                if hit is not None and now - hit[0] < self._cache_seconds:
                    if hit[1].get("id"):
                        known[user] = hit[1]
                else:
                    wanted.append(user)
        for start in range(0, len(wanted), GRAPH_BATCH):
            chunk = wanted[start:start + GRAPH_BATCH]
            answers = self.batch([{"method": "GET", "url": f"/users/{quote(u)}?{SELECT}"} for u in chunk])
            for user, (status, body) in zip(chunk, answers, strict=True):
                if status == 200 and isinstance(body, dict) and body.get("id"):
                    known[user] = body
                    self.keep(user, body)
                elif status in (400, 404):
                    self.keep(user, {})
                elif status in (401, 403):
                    raise RoomRefused("permission", "User.Read.All")
                else:
                    raise RuntimeError(f"Graph could not read people now ({status})")  # transient: retried
        return known

    def batch(self, requests: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        """Sends up to GRAPH_BATCH requests in one `POST /$batch` and returns each one's (status, body), in order.
        A request the batch answers with 429 (or 503/504) is sent again after the Retry-After its own response
        gives (https://learn.microsoft.com/en-us/graph/json-batching, "Throttling and dependencies"), at most
        BATCH_ROUNDS times; then it is raised, and the duty is tried again later."""
        answers: dict[int, tuple[int, Any]] = {}
        waiting = list(range(len(requests)))
        for _ in range(BATCH_ROUNDS):
            body = {"requests": [{"id": str(n), **({"headers": {"Content-Type": "application/json"}}
                                                   if "body" in requests[n] else {}), **requests[n]}
                                 for n in waiting]}
            answer = self.call("POST", "/$batch", body)
            by_id = {str(r.get("id")): r for r in answer.get("responses", [])}
            again: list[int] = []
            pause = 0.0
            for n in waiting:
                response = by_id.get(str(n))
                status = int(response.get("status", 0)) if response else 0
                if response is None or status in (429, 503, 504):
                    again.append(n)
                    headers = {str(k).lower(): v for k, v in ((response or {}).get("headers") or {}).items()}
                    pause = max(pause, retry_after(headers.get("retry-after")))
                    continue
                answers[n] = (status, response.get("body"))
            if not again:
                return [answers[n] for n in range(len(requests))]
            waiting = again
            self.sleep(min(pause, RETRY_AFTER_CAP))
        raise RuntimeError(f"Graph kept throttling {len(waiting)} of a batch's requests")  # transient: retried

