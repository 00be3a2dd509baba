"""The records the domain works with and the data layer stores: immutable, plain Python, no storage types.

One module per aggregate (`records.tasks`, `records.accounts`, `records.activity`), so a function defines only
the records it uses. Data modules (`taskapp.data.<aggregate>`) take and return them and own everything about how
they are stored (keys, attribute names, conditions, transactions); domain modules hold the rules. A new aggregate
adds `records/<aggregate>.py`, a `data/<aggregate>.py` (the table's model, its mapping to and from the record, the
operations) and a domain module.

NamedTuples rather than frozen dataclasses: every function defines its records at import time, and a NamedTuple
costs ~0.2 ms to define against ~0.7 ms for a frozen dataclass (Python 3.11 compiles each generated dataclass method
separately). They compare and hash as the tuples they are.
"""

from __future__ import annotations

from typing import Any, Generic, NamedTuple, TypeVar

_Item = TypeVar("_Item")


class Page(NamedTuple, Generic[_Item]):
    """One page of a query, newest first; `last_evaluated_key` is None on the last page."""

    items: tuple[_Item, ...]
    last_evaluated_key: dict[str, Any] | None
