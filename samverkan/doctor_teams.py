"""`samverkan doctor`'s checks of a Teams deployment: its settings, that Entra ID gives the app its tokens (for the
Bot Connector and Graph), each Graph application permission the app needs, that the app is in the tenant's app
catalogue, that every channel the model names exists in the team, and that the bot may read its own messages there
(resource-specific consent). Read only."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import jwt

from bot.i18n import Texts
from bot.model import GovernanceModel
from samverkan.settings import Settings
from teams.auth import ClientCredentials
from teams.permissions import GRAPH_PERMISSIONS
from teams.rest import Refused, call


def teams_checks(settings: Settings, model: GovernanceModel | None, t: Texts, channels: list[str],
                 result: type, say) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    """`result` and `say` are the doctor's own (samverkan.doctor.Result and _say), so the lines read alike."""
    needed = {"TEAMS_APP_ID": settings.teams_app_id, "TEAMS_APP_PASSWORD": settings.teams_app_password,
              "TEAMS_TENANT_ID": settings.teams_tenant_id, "TEAMS_TEAM_ID": settings.teams_team_id}
    missing = [name for name, value in needed.items() if not value]
    if missing:
        yield result(False, t.text("doctor.teams.unset", missing=", ".join(missing)),
                     (say(t, "doctor.teams.fix_unset"),))
        yield result(None, t.text("doctor.teams.skipped"))
        return
    app, password, tenant = str(settings.teams_app_id), str(settings.teams_app_password), str(settings.teams_tenant_id)
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        graph = ClientCredentials(settings.teams_login_url, tenant, app, password,
                                  "https://graph.microsoft.com/.default", http)
        connector = ClientCredentials(settings.teams_login_url, tenant, app, password,
                                      "https://api.botframework.com/.default", http)
        try:
            graph.header()
            connector.header()
        except (httpx.HTTPError, ValueError, KeyError) as error:
            yield result(False, t.text("doctor.teams.token_failed", url=settings.teams_login_url,
                                       reason=str(error).splitlines()[0][:200]), (say(t, "doctor.teams.fix_token"),))
            yield result(None, t.text("doctor.teams.skipped"))
            return
        yield result(True, t.text("doctor.teams.token_ok", app=app))
        roles = yield from _permissions(graph, t, result, say)
        yield _catalogue(settings, http, graph, roles, t, result, say)
        if model is None:
            yield result(None, t.text("doctor.channels.skipped_model"))
            return
        if model.major_incidents:
            yield _owner(settings, http, graph, t, result, say)
        yield from _channels(settings, http, graph, channels, t, result, say)


# -- Graph application permissions ----------------------------------------------------------------------------------
def _permissions(graph: ClientCredentials, t: Texts, result: type, say) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    """A line for each application permission the app needs, from the `roles` claim of its Graph token, which lists
    the application permissions granted with admin consent:
    https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
    Returns the roles (None when the token could not be read) for the checks that need one of them."""
    token = graph.header()["Authorization"].removeprefix("Bearer ")
    try:
        # The signature is not verified, on purpose: this is our own token, just issued to us by Entra ID over TLS
        # for Graph, and it is read only to report what it carries. Nothing is allowed or refused on its strength:
        # Graph, the token's audience, verifies it and decides. Microsoft tells clients to treat access tokens as
        # opaque (https://learn.microsoft.com/entra/identity-platform/access-tokens), so a token that cannot be read
        # is a skipped line, not a failure.
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        yield result(None, t.text("doctor.teams.roles_unread", reason=str(error).splitlines()[0][:200]))
        return None
    roles = claims.get("roles")
    granted = {str(role) for role in roles} if isinstance(roles, list) else set()  # none granted: no claim at all
    for permission in GRAPH_PERMISSIONS:
        key = permission.name.replace(".", "_").lower()
        needed = t.text(f"doctor.teams.needs.{key}")
        if permission.name in granted:
            yield result(True, t.text("doctor.teams.permission_ok", permission=permission.name, needed=needed))
        elif permission.optional:
            yield result(True, t.text(f"doctor.teams.permission_optional.{key}", permission=permission.name),
                         (say(t, "doctor.teams.fix_permission", permission=permission.name),), warning=True)
        else:
            yield result(False, t.text("doctor.teams.permission_missing", permission=permission.name,
                                       needed=needed),
                         (say(t, "doctor.teams.fix_permission", permission=permission.name),))
    return granted


# -- the tenant's app catalogue -------------------------------------------------------------------------------------
def _catalogue(settings: Settings, http: httpx.Client, graph: ClientCredentials, roles: set[str] | None, t: Texts,
               result: type, say):  # type: ignore[no-untyped-def]
    """Samverkan installs itself into each war room's chat by the id Teams gave its uploaded package, found in the
    tenant's catalogue by the manifest's id (the catalogue's externalId), which AppCatalog.Read.All lets it read:
    https://learn.microsoft.com/graph/api/appcatalogs-list-teamsapps"""
    if roles is not None and "AppCatalog.Read.All" not in roles:
        return result(None, t.text("doctor.teams.catalog_skipped"))
    app = str(settings.teams_app_id)
    wanted = quote("externalId eq '{}'".format(app.replace("'", "''")))
    try:
        found = call(http, "GET", f"{settings.teams_graph_url.rstrip('/')}/appCatalogs/teamsApps?$filter={wanted}",
                     graph.header)
    except Exception as error:  # noqa: BLE001 - any failure is the line's reason
        return result(False, t.text("doctor.teams.catalog_unread", reason=str(error).splitlines()[0][:200]),
                      (say(t, "doctor.teams.fix_permission", permission="AppCatalog.Read.All"),))
    apps = found.get("value") or []
    if not apps:
        return result(False, t.text("doctor.teams.catalog_missing", app=app), (say(t, "doctor.teams.fix_catalog"),))
    return result(True, t.text("doctor.teams.catalog_ok", app=app, id=str(apps[0].get("id"))))


# -- the model's channels, and reading the bot's own messages in them -----------------------------------------------
def _channels(settings: Settings, http: httpx.Client, graph: ClientCredentials, channels: list[str], t: Texts,
              result: type, say) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    graph_url, team = settings.teams_graph_url.rstrip("/"), str(settings.teams_team_id)
    try:
        listed = call(http, "GET", f"{graph_url}/teams/{quote(team)}/channels", graph.header)
    except Exception as error:  # noqa: BLE001 - any failure is the line's reason
        yield result(False, t.text("doctor.teams.unlisted", reason=str(error).splitlines()[0][:200]),
                     (say(t, "doctor.teams.fix_unlisted"),))
        return
    found = {f"#{c.get('displayName')}".casefold(): c for c in listed.get("value", [])}
    named = {c: (c if c.startswith("#") else f"#{c}").casefold() for c in channels}
    absent = [c for c in channels if named[c] not in found]
    if not absent:
        yield result(True, t.text("doctor.teams.channels_ok", count=len(channels)))
    else:
        yield result(False, t.text("doctor.teams.channels_fail", count=len(absent), total=len(channels)),
                     (*(say(t, "doctor.teams.missing", channel=c, team=team) for c in absent),
                      say(t, "doctor.teams.fix_missing")))
    present = [(c, str(found[named[c]].get("id"))) for c in channels if named[c] in found]
    yield _reading(graph_url, http, graph, team, present, t, result, say)


def _reading(graph_url: str, http: httpx.Client, graph: ClientCredentials, team: str,
             present: list[tuple[str, str]], t: Texts, result: type, say):  # type: ignore[no-untyped-def]
    """After a crash, whoever takes a reminder over reads the channel's newest messages to see whether the bot
    already posted it. An app reads a team's channel messages with an application token through the team's
    resource-specific consent, ChannelMessage.Read.Group, given when the app is installed in the team from a package
    that asks for it; without it Graph answers 403.
    https://learn.microsoft.com/graph/api/channel-list-messages and
    https://learn.microsoft.com/microsoftteams/platform/graph-api/rsc/resource-specific-consent"""
    if not present:
        return result(None, t.text("doctor.teams.reading_skipped"))
    refused: list[str] = []
    failed: list[tuple[str, str]] = []
    for name, channel in present:
        try:
            call(http, "GET", f"{graph_url}/teams/{quote(team)}/channels/{quote(channel)}/messages?$top=1",
                 graph.header)
        except Refused as error:
            if error.status == 403:
                refused.append(name)
            else:
                failed.append((name, str(error).splitlines()[0][:200]))
        except Exception as error:  # noqa: BLE001 - any failure is the line's reason
            failed.append((name, str(error).splitlines()[0][:200]))
    if not refused and not failed:
        return result(True, t.text("doctor.teams.reading_ok", count=len(present)))
    details = [say(t, "doctor.teams.reading_refused", channel=name) for name in refused]
    details += [say(t, "doctor.teams.reading_failed", channel=name, reason=reason) for name, reason in failed]
    if refused:
        details.append(say(t, "doctor.teams.fix_reading", team=team))
    return result(False, t.text("doctor.teams.reading_fail", count=len(refused) + len(failed), total=len(present)),
                  tuple(details))


def _owner(settings: Settings, http: httpx.Client, graph: ClientCredentials, t: Texts, result: type, say):  # type: ignore[no-untyped-def]
    """A war room is a group chat the app creates with the City's owner account as its owner (every member of a
    chat Graph creates has the role owner or guest: https://learn.microsoft.com/graph/api/chat-post): the setting
    names that account, and the tenant knows it."""
    owner = settings.teams_war_room_owner
    if not owner:
        return result(False, t.text("doctor.teams.owner_unset"), (say(t, "doctor.teams.fix_owner"),))
    try:
        call(http, "GET", f"{settings.teams_graph_url.rstrip('/')}/users/{quote(owner)}?$select=id", graph.header)
    except Exception as error:  # noqa: BLE001 - any failure is the line's reason
        return result(False, t.text("doctor.teams.owner_unknown", owner=owner,
                                    reason=str(error).splitlines()[0][:200]), (say(t, "doctor.teams.fix_owner"),))
    return result(True, t.text("doctor.teams.owner_ok", owner=owner))
