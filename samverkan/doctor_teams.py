"""`samverkan doctor`'s checks of a Teams deployment: its settings, that Entra ID gives the app its tokens (for the
Bot Connector and Graph), and that every channel the model names exists in the team. Read only."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx

from bot.i18n import Texts
from bot.model import GovernanceModel
from samverkan.settings import Settings
from teams.auth import ClientCredentials
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
        if model is None:
            yield result(None, t.text("doctor.channels.skipped_model"))
            return
        if model.major_incidents:
            yield _owner(settings, http, graph, t, result, say)
        team = str(settings.teams_team_id)
        try:
            listed = call(http, "GET", f"{settings.teams_graph_url.rstrip('/')}/teams/{quote(team)}/channels",
                          graph.header)
        except Exception as error:  # noqa: BLE001 - any failure is the line's reason
            yield result(False, t.text("doctor.teams.unlisted", reason=str(error).splitlines()[0][:200]),
                         (say(t, "doctor.teams.fix_unlisted"),))
            return
        named = {(c if c.startswith("#") else f"#{c}").casefold() for c in channels}
        ours = [str(c["id"]) for c in listed.get("value", [])
                if f"#{c.get('displayName')}".casefold() in named and c.get("id")]
        readable = _read_back(settings, http, graph, team, ours[0], t, result, say) if ours else None
    names = {f"#{c.get('displayName')}".casefold() for c in listed.get("value", [])}
    absent = [c for c in channels if (c if c.startswith("#") else f"#{c}").casefold() not in names]
    if not absent:
        yield result(True, t.text("doctor.teams.channels_ok", count=len(channels)))
    else:
        yield result(False, t.text("doctor.teams.channels_fail", count=len(absent), total=len(channels)),
                     (*(say(t, "doctor.teams.missing", channel=c, team=team) for c in absent),
                      say(t, "doctor.teams.fix_missing")))
    if readable is not None:
        yield readable


def _read_back(settings: Settings, http: httpx.Client, graph: ClientCredentials, team: str, channel: str, t: Texts,
               result: type, say):  # type: ignore[no-untyped-def]
    """A keyed message whose poster died before the Connector's answer was kept is looked for by reading the
    channel back (teams/chat.py, find_posted), which needs the resource-specific consent permission
    ChannelMessage.Read.Group in the team (https://learn.microsoft.com/en-us/graph/api/channel-list-messages).
    One of the model's channels is read, a message at most: the consent is the team's, not a channel's."""
    url = f"{settings.teams_graph_url.rstrip('/')}/teams/{quote(team)}/channels/{quote(channel)}/messages?$top=1"
    try:
        call(http, "GET", url, graph.header)
    except Refused as refused:
        if refused.status == 403:
            return result(False, t.text("doctor.teams.read_back_refused", permission="ChannelMessage.Read.Group",
                                        team=team), (say(t, "doctor.teams.fix_read_back"),))
        return result(False, t.text("doctor.teams.read_back_failed", reason=str(refused).splitlines()[0][:200]),
                      (say(t, "doctor.teams.fix_read_back"),))
    except Exception as error:  # noqa: BLE001 - any failure is the line's reason
        return result(False, t.text("doctor.teams.read_back_failed", reason=str(error).splitlines()[0][:200]),
                      (say(t, "doctor.teams.fix_read_back"),))
    return result(True, t.text("doctor.teams.read_back_ok", permission="ChannelMessage.Read.Group"))


def _owner(settings: Settings, http: httpx.Client, graph: ClientCredentials, t: Texts, result: type, say):  # type: ignore[no-untyped-def]
    """War rooms are private channels, which Graph creates for an app only with an owner: the setting names one,
    and the tenant knows them."""
    owner = settings.teams_war_room_owner
    if not owner:
        return result(False, t.text("doctor.teams.owner_unset"), (say(t, "doctor.teams.fix_owner"),))
    try:
        call(http, "GET", f"{settings.teams_graph_url.rstrip('/')}/users/{quote(owner)}?$select=id", graph.header)
    except Exception as error:  # noqa: BLE001 - any failure is the line's reason
        return result(False, t.text("doctor.teams.owner_unknown", owner=owner,
                                    reason=str(error).splitlines()[0][:200]), (say(t, "doctor.teams.fix_owner"),))
    return result(True, t.text("doctor.teams.owner_ok", owner=owner))
