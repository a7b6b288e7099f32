"""The Slack side: payloads become core requests at this edge, and the core's ChatPort is served by the Web API."""
