"""What Samverkan may do in the City's tenant: the Microsoft Graph application permissions an administrator grants
the app registration (with admin consent), and the resource-specific consent (RSC) permissions the Teams app package
asks for, consented where the app is installed (the team, and each war room's chat).

One list for the package (`teams.manifest`), for `samverkan doctor` (which reads the granted application permissions
from the `roles` claim of the app's Graph token) and for the README's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class GraphPermission:
    """A Graph application permission (an app role of Microsoft Graph): granted in the Entra admin centre, and
    listed in the `roles` claim of every token the app gets with client credentials."""

    name: str
    optional: bool = False  # without it a feature is degraded, not broken


# Each name is the one on the Graph API page of the call that needs it ("Permissions", "Application" row):
# https://learn.microsoft.com/graph/api/user-get (User.Read.All), .../channel-list (Channel.ReadBasic.All),
# .../chat-post (Chat.Create), .../chat-post-members (ChatMember.ReadWrite.All),
# .../chat-post-installedapps (TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All),
# .../appcatalogs-list-teamsapps (AppCatalog.Read.All), .../chat-post-pinnedmessages (Chat.ReadWrite.All: the only
# application permission the pin API takes), .../group-list-transitivemembers (GroupMember.Read.All: a rota's
# members, nested groups' included).
GRAPH_PERMISSIONS: tuple[GraphPermission, ...] = (
    GraphPermission("User.Read.All"),
    GraphPermission("Channel.ReadBasic.All"),
    GraphPermission("Chat.Create"),
    GraphPermission("ChatMember.ReadWrite.All"),
    GraphPermission("TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All"),
    GraphPermission("AppCatalog.Read.All"),
    GraphPermission("Chat.ReadWrite.All", optional=True),  # only to pin the brief in the war room
    GraphPermission("GroupMember.Read.All"),  # rotas: the members of a directory entry's Entra ID group
)


@dataclass(frozen=True)
class RscPermission:
    """A resource-specific permission: declared in the app package, consented for one team or one chat when the
    app is installed there, and never in the token's `roles` (Graph checks it against the installation)."""

    name: str
    resource: Literal["team", "chat"]


# https://learn.microsoft.com/microsoftteams/platform/graph-api/rsc/resource-specific-consent (the supported RSC
# permissions for a team and for a chat, application type).
RSC_PERMISSIONS: tuple[RscPermission, ...] = (
    RscPermission("ChannelMessage.Read.Group", "team"),  # reading back the bot's own posts in the forum channels
    RscPermission("ChatMessage.Read.Chat", "chat"),  # the same in a war room's chat
    RscPermission("ChatSettings.ReadWrite.Chat", "chat"),  # the war room's topic: title, severity, state
)
