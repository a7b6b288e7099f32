"""The platform-neutral core of Samverkan: the governance model, the rules and the use cases.

Nothing here imports Slack or SQLAlchemy; adapters in handlers/ and storage/ plug into the ports defined here.
"""
