"""`samverkan teams-manifest`: the Teams app package (manifest.json and the two icons, zipped) from the model, as
manifest.yml is Slack's. The commands Teams lists under the bot are the model's command sets."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.model import GovernanceModel
from teams.permissions import RSC_PERMISSIONS

# v1.17: manifest versions 1.12 and later declare resource-specific consent (RSC) permissions, delegated or
# application, under authorization.permissions.resourceSpecific, each {"name", "type"}, beside webApplicationInfo,
# whose id is the app registration's:
# https://learn.microsoft.com/microsoftteams/platform/graph-api/rsc/grant-resource-specific-consent and
# https://learn.microsoft.com/microsoftteams/platform/resources/schema/manifest-schema#authorization
MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/"
                   "MicrosoftTeams.schema.json")
# What each command does, in the words Teams shows under the bot (at most 32 characters a title).
COMMANDS = (
    ("samverkan", "Katalogen: vem är vem", "whoami, directory [part], person/role/authority …"),
    ("forum", "Forumkalendern", "list, next, agenda <forum> [add <text>], move, cancel, extra …"),
    ("deploy", "Produktionssättningar", "announce <tjänst> <datum> <tid> <text>, list, cancel"),
    ("incident", "Större incidenter", "declare <titel> [tjänster] [allvar], update, role, invite, close …"),
    ("disagreement", "Oenigheter och eskalering", "open <motpart> <titel>, escalate, propose, accept …"),
)


# Each shortcut's id (bot.native.shortcuts), its title on a message's menu (at most 32 characters) and description.
MESSAGE_ACTIONS = (
    ("disagreement.raise", "Ta upp som oenighet", "Registrera en oenighet utifrån meddelandet, med länk till det"),
    ("forum.agenda_item", "Lägg på dagordning", "Lägg meddelandet som punkt på ett forums nästa dagordning"),
    ("incident.timeline", "Lägg i tidslinjen", "Lägg meddelandet i ett krisrums tidslinje"),
)


def manifest(model: GovernanceModel, app_id: str, url: str) -> dict[str, Any]:
    host = urlparse(url).hostname or "samverkan.example.se"
    name = model.name.sv
    commands = [{"title": command, "description": f"{title}: {usage}"[:128]} for command, title, usage in COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA, "manifestVersion": MANIFEST_VERSION, "version": "1.0.0", "id": app_id,
        "developer": {"name": "Stockholms stad", "websiteUrl": url, "privacyUrl": f"{url}/privacy",
                      "termsOfUseUrl": f"{url}/terms"},
        "name": {"short": "Samverkan", "full": f"Samverkan – {name}"[:100]},
        "description": {"short": "Samverkan enligt avtalet: forum, krisrum och oenigheter",
                        "full": "Vem är vem enligt avtalet, forumkalendern med påminnelser och dagordningar, "
                                "produktionssättningar, krisrum vid större incidenter och eskaleringstrappan för "
                                "oenigheter mellan Staden och dess leverantörer."},
        "icons": {"color": "color.png", "outline": "outline.png"}, "accentColor": "#0A5C8C",
        "bots": [{"botId": app_id, "scopes": ["personal", "team", "groupChat"], "supportsFiles": False,
                  "isNotificationOnly": False,
                  "commandLists": [{"scopes": ["personal", "team", "groupChat"], "commands": commands}]}],
        # The three message actions, Slack's message shortcuts (manifest.yml): each opens its form as a dialog
        # fetched from the bot (https://learn.microsoft.com/en-us/microsoftteams/platform/messaging-extensions/
        # how-to/action-commands/define-action-command, "fetchTask": true, "context": ["message"]).
        "composeExtensions": [{"botId": app_id, "commands": [
            {"id": callback, "type": "action", "title": title[:32], "description": description[:128],
             "context": ["message"], "fetchTask": True} for callback, title, description in MESSAGE_ACTIONS]}],
        "permissions": ["identity", "messageTeamMembers"], "validDomains": [host],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host}/{app_id}"},
        # Consented by the team's owner when the app is added to the team, and in each war room's chat when the
        # app installs itself there (teams.permissions says what each is for).
        "authorization": {"permissions": {"resourceSpecific": [
            {"name": permission.name, "type": "Application"} for permission in RSC_PERMISSIONS]}},
    }


def _png(size: int, rgba: tuple[int, int, int, int]) -> bytes:
    """A plain square of one colour: the icons Teams requires, until the City's own replace them."""
    row = b"\x00" + bytes(rgba) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def write_package(out: Path, model: GovernanceModel, app_id: str, url: str) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(model, app_id, url), indent=2, ensure_ascii=False))
        package.writestr("color.png", _png(192, (10, 92, 140, 255)))
        package.writestr("outline.png", _png(32, (255, 255, 255, 255)))
