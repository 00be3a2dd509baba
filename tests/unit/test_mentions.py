"""The @mention parser: what counts as a mention, and hostile text (huge, all '@', unicode look-alikes)."""

from __future__ import annotations

import pytest

from taskapp.domain.mentions import Mentions, TooManyMentions, parse_mentions

USER = "3f0c9a52-8d1e-4b7a-9c61-2f4e5a6b7c8d"


def _parse(text: str, limit: int = 20) -> Mentions:
    return parse_mentions(text, limit)


@pytest.mark.parametrize(
    ("text", "emails", "user_ids"),
    [
        ("@bob@example.com", {"bob@example.com"}, set()),
        (f"@{USER}", set(), {USER}),
        (f"@{USER.upper()}", set(), {USER}),
        ("@Bob.Smith+tasks@Example.CO.uk", {"bob.smith+tasks@example.co.uk"}, set()),
        ("thanks @bob@example.com.", {"bob@example.com"}, set()),  # the sentence's dot is not the domain's
        ("(@bob@example.com), **@ann@example.org**", {"bob@example.com", "ann@example.org"}, set()),
        (f"[@{USER}](link) `@eve@example.com`", {"eve@example.com"}, {USER}),
        ("line one\n@bob@example.com\tand @bob@EXAMPLE.com", {"bob@example.com"}, set()),
        (f"@{USER}@example.com", {f"{USER}@example.com"}, set()),  # an address whose local part looks like an id
    ],
)
def test_mentions_are_found_normalised_and_deduplicated(text: str, emails: set[str], user_ids: set[str]) -> None:
    assert _parse(text) == Mentions(frozenset(user_ids), frozenset(emails))


@pytest.mark.parametrize(
    "text",
    [
        "mail bob@example.com about it",  # an address in a sentence is not a mention of its domain
        "@",
        "@ @ @",
        "@@bob@example.com",
        "@bob",  # a bare name is no address
        "@bob@localhost",  # no dotted domain
        "@bob@.com",
        f"@{USER}abc",  # an id continued by more characters is not that id
        f"@{USER[:-1]}",
        f"x@{USER}",
        "@bøb@example.com",  # non-ASCII local part
        "@bob@exämple.com",
        "\uff20bob@example.com",  # FULLWIDTH COMMERCIAL AT is not '@'
        "@" + "a" * 65 + "@example.com",  # local part over 64 characters
        "",
    ],
)
def test_text_that_is_no_mention(text: str) -> None:
    assert _parse(text) == Mentions(frozenset(), frozenset())


def test_the_limit_counts_distinct_tokens_and_stops_parsing_past_it() -> None:
    twenty = " ".join(f"@u{n}@example.com" for n in range(20))
    assert len(_parse(twenty * 50).emails) == 20
    with pytest.raises(TooManyMentions) as refused:
        _parse(twenty + f" @{USER}")
    assert refused.value.limit == 20
    with pytest.raises(TooManyMentions):
        _parse(" ".join(f"@u{n}@example.com" for n in range(100_000)))  # stops at the 21st, not the 100,000th


@pytest.mark.parametrize(
    "text",
    [
        "@" * 10_000,
        "@a" * 10_000,
        "@a@" * 10_000,
        "@" + "a" * 100_000,
        "@a@" + "b" * 100_000,
        "@a@b" + ".c" * 50_000,
        "@" + "a." * 50_000 + "@",
        ("@" + "a" * 64) * 2_000,
        "😀@" * 10_000,
    ],
)
def test_hostile_text_is_parsed_in_one_pass_without_mentions(text: str) -> None:
    """Longer than any body the API accepts (5,000 characters); bounded quantifiers keep each a single pass."""
    result = _parse(text)
    assert len(result.user_ids) + len(result.emails) <= 1
