"""Logging for the processes Samverkan runs: what the operators need to read, and nothing every second."""

from __future__ import annotations

import logging
import sys


class _BoltPrefersOurClient(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment by itself and warns, on every start, that it uses the client
    it was given instead; which is what we want, so that one line is not worth an operator's attention."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    # The scheduler says "running job" and "executed successfully" every second: 170,000 lines a day.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt.App").addFilter(_BoltPrefersOurClient())
