"""`@mentions` in a comment's text: `@<email>` and `@<userId>` tokens, parsed without trusting the text.

A token starts with `@` at the start of the text or after a character that cannot be part of an address (space,
punctuation, markdown), so `bob@example.com` in a sentence is not a mention of `example.com`. `@<userId>` is a user
id as the API shows it (a UUID in its 8-4-4-4-12 form), not followed by more address characters; `@<email>` is an
ASCII address (local part up to 64 characters, dot-separated domain labels up to 63), a trailing sentence dot left
out. Both are lower-cased. Anything else (`@` alone, unicode look-alikes, the full-width at sign U+FF20) is just text.

Bounded work: every quantifier is bounded or separated by a literal, so one pass over the (at most 5,000-character)
text is linear, and parsing stops as soon as more than `limit` distinct tokens are seen. Which tokens name members
of the task's project is taskapp.domain.comments' business (a lookup per token, hence the limit).
"""

from __future__ import annotations

import re
from typing import NamedTuple

MENTION = re.compile(
    r"(?<![A-Za-z0-9._%+\-@])@"
    r"(?:(?P<email>[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+)"
    r"|(?P<user>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?![A-Za-z0-9_\-@]))",
    re.ASCII,
)


class Mentions(NamedTuple):
    user_ids: frozenset[str]
    emails: frozenset[str]


class TooManyMentions(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} mentions")
        self.limit = limit


def parse_mentions(text: str, limit: int) -> Mentions:
    """The distinct tokens of `text`; TooManyMentions as soon as there are more than `limit`."""
    user_ids: set[str] = set()
    emails: set[str] = set()
    for match in MENTION.finditer(text):
        email, user = match.group("email"), match.group("user")
        if email is not None:
            emails.add(email.lower())
        elif user is not None:
            user_ids.add(user.lower())
        if len(user_ids) + len(emails) > limit:
            raise TooManyMentions(limit)
    return Mentions(frozenset(user_ids), frozenset(emails))
