"""Entity tags and conditional requests (RFC 9110 section 8.8.3 and 13) for the resources that carry a version.

An entity tag here is strong and derived from the resource id and its version: every write bumps the version, so
the tag changes exactly when the stored representation does, and two resources never share one. The tag is opaque
to clients (a digest, not `id:version`), so nobody builds a precondition from guessed parts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

# IMF-fixdate's names, fixed by RFC 9110 5.6.7 (not the locale's): email.utils would cost every function's cold
# start ~20 ms of imports for one format.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def entity_tag(resource_id: str, version: int) -> str:
    """The strong ETag of one version of one resource, quoted as the header carries it."""
    digest = hashlib.sha256(f"{resource_id}:{version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def http_date(moment: datetime) -> str:
    """`Last-Modified` form (IMF-fixdate, always GMT) of a stored timestamp."""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
    )


class EntityTagCondition:
    """An If-Match or If-None-Match header: `*`, or a list of entity tags (weak ones flagged `W/`).

    A plain class with __slots__, like the edge's records (taskapp.api): a dataclass costs its definition on
    every cold start, and nothing here needs the generated methods.
    """

    __slots__ = ("any", "strong", "weak")

    def __init__(self, *, any: bool, strong: frozenset[str], weak: frozenset[str]) -> None:  # noqa: A002
        self.any = any
        self.strong = strong
        self.weak = weak

    @classmethod
    def parse(cls, header: str | None) -> EntityTagCondition | None:
        """None when the header is absent or empty; unquoted tags are taken as if quoted (a common client slip)."""
        if header is None or not header.strip():
            return None
        strong: set[str] = set()
        weak: set[str] = set()
        for raw in header.split(","):
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                return cls(any=True, strong=frozenset(), weak=frozenset())
            target = weak if item[:2].upper() == "W/" else strong
            opaque = item[2:].strip() if target is weak else item
            target.add(opaque if opaque.startswith('"') and opaque.endswith('"') else f'"{opaque.strip(chr(34))}"')
        return cls(any=False, strong=frozenset(strong), weak=frozenset(weak))

    def matches_strongly(self, current: str) -> bool:
        """If-Match: strong comparison, a weak tag never matches (RFC 9110 13.1.1)."""
        return self.any or current in self.strong

    def matches_weakly(self, current: str) -> bool:
        """If-None-Match: weak comparison, `W/"x"` matches `"x"` (RFC 9110 13.1.2)."""
        return self.any or current in self.strong or current in self.weak
