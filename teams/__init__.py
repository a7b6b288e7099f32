"""The Microsoft Teams side: Bot Framework activities become core requests at this edge (`endpoint`), and the
core's ChatPort is served by the Bot Connector and Microsoft Graph (`chat`). Imports no Slack."""
