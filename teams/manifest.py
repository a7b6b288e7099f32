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

MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
# What each command does, in the words Teams shows under the bot (at most 32 characters a title).
COMMANDS = (
    ("samverkan", "Katalogen: vem är vem", "whoami, directory [part], person/role/authority …"),
    ("forum", "Forumkalendern", "list, next, agenda <forum> [add <text>], move, cancel, extra …"),
    ("deploy", "Produktionssättningar", "announce <tjänst> <datum> <tid> <text>, list, cancel"),
    ("incident", "Större incidenter", "declare <titel> [tjänster] [allvar], update, role, invite, close …"),
    ("disagreement", "Oenigheter och eskalering", "open <motpart> <titel>, escalate, propose, accept …"),
)

# What the bot reads back through Graph to post a keyed message once (teams/chat.py, find_posted): a channel's
# messages in the team, a (group) chat's messages.
RSC_PERMISSIONS = ("ChannelMessage.Read.Group", "ChatMessage.Read.Chat")


def manifest(model: GovernanceModel, app_id: str, url: str) -> dict[str, Any]:
    host = urlparse(url).hostname or "samverkan.example.se"
    name = model.name.sv
    commands = [{"title": command, "description": f"{title}: {usage}"[:128]} for command, title, usage in COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA, "manifestVersion": "1.17", "version": "1.0.0", "id": app_id,
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
        "permissions": ["identity", "messageTeamMembers"], "validDomains": [host],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host}/{app_id}"},
        # Resource-specific consent, granted by a team's (or chat's) owner where the app is added (manifest 1.12
        # and later: `authorization.permissions.resourceSpecific`, beside webApplicationInfo):
        # https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/rsc/test-resource-specific-consent
        "authorization": {"permissions": {"resourceSpecific": [
            {"name": name, "type": "Application"} for name in RSC_PERMISSIONS]}},
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
