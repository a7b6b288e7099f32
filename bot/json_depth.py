"""JSON from a request, with its nesting bounded.

Python's json parser recurses once for each level of `[` or `{`: ten thousand levels end in a RecursionError, which
is not a ValueError, so a signed request (or an activity with a valid token) made of brackets would get a traceback
instead of a 400. Slack's and Teams' own payloads nest a dozen levels at most (a modal's blocks, an Adaptive Card's
body), so anything deeper than MAX_DEPTH is refused before it is parsed, by a scan that counts the brackets outside
strings and stops at the first one too many.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
# What the scan looks at: quotes and backslashes (to know what is inside a string) and brackets. Everything else is
# skipped by the regular expression engine, so a body of a megabyte costs a fraction of a millisecond per thousand
# brackets and quotes it holds.
_SIGNIFICANT = re.compile(r'["\\\[\]{}]')


class TooDeep(ValueError):
    """The JSON nests more than MAX_DEPTH levels."""


def depth_within(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether `text`'s brackets outside strings nest at most `max_depth` levels (malformed JSON is left to the
    parser: only the depth is judged here)."""
    depth = 0
    in_string = False
    escaped_at = -1  # the position of the character a backslash escapes
    for found in _SIGNIFICANT.finditer(text):
        at = found.start()
        char = found.group()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return False
        elif char in "]}":
            depth -= 1
    return True


def loads(data: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, raising ValueError (TooDeep) rather than RecursionError for JSON nested too deeply."""
    text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes | bytearray) else data
    if not depth_within(text, max_depth):
        raise TooDeep(f"JSON nested more than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError as exc:  # a smaller stack than the scan expects: refused all the same
        raise TooDeep("JSON nested too deeply") from exc
