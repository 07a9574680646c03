"""Interning tables: a plain map, a bounded map, and weak handles like Go's ``unique``.

Scenario: a service interns the strings it sees so equal values share one copy.
That pays off when the set of values is small and repeats (currencies, statuses,
merchant ids); it is a leak when the set is unbounded (order ids, request ids),
because a plain map keeps every value it was ever given. Three tables, fed the
same stream, show the difference:

* ``MapInterner()``: a map from value to value, as in a hand-written Go interner
  (``map[string]string`` behind a mutex). Nothing ever leaves it. (In Go the map must
  also be created with ``make``: writing to a nil map panics.)
* ``MapInterner(max_entries=n)``: the same map with least-recently-used eviction;
  bounded, but a value evicted while still in use gets a second copy later.
* ``WeakInterner``: the table holds its entries *weakly*, so an entry disappears as
  soon as nobody holds its handle. Go 1.23's ``unique.Make`` works this way: the
  runtime keeps weak pointers to the canonical values and drops an entry once the GC
  finds its handle unreachable (proposal golang/go#62483; the ``weak`` package,
  Go 1.24, exposes the same mechanism). Python's ``weakref`` gives the same
  semantics; CPython frees the entry as soon as the last reference goes.

Design note: tables count entries rather than bytes, so results do not depend on the
interpreter's allocator; every entry holds at least one string.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict, deque

import pandas as pd

from razorlab.errors import ValidationError

__all__ = ["MapInterner", "Handle", "WeakInterner", "interner_growth"]


class MapInterner:
    """A value-to-value map that returns the first copy of each value it has seen.

    ``max_entries=None`` is the unbounded interner: it only grows. With a bound, the
    least recently used entry is evicted when a new value would exceed it.
    """

    def __init__(self, max_entries: int | None = None) -> None:
        if max_entries is not None and (isinstance(max_entries, bool) or max_entries < 1):
            raise ValidationError("max_entries must be >= 1 or None", field="max_entries")
        self.max_entries = max_entries
        self._table: OrderedDict[str, str] = OrderedDict()
        self.evicted = 0

    def intern(self, value: str) -> str:
        found = self._table.get(value)
        if found is not None:
            self._table.move_to_end(value)
            return found
        self._table[value] = value
        if self.max_entries is not None and len(self._table) > self.max_entries:
            self._table.popitem(last=False)
            self.evicted += 1
        return value

    def __len__(self) -> int:
        return len(self._table)


class Handle:
    """A canonical value, held weakly by a ``WeakInterner`` (Go: ``unique.Handle[T]``)."""

    __slots__ = ("value", "__weakref__")

    def __init__(self, value: str) -> None:
        self.value = value


class WeakInterner:
    """Returns the same ``Handle`` for equal values while anyone still holds it.

    ``make`` is ``unique.Make``: equal values give the same handle (compare handles
    with ``is``, as Go compares handles with ``==``). The table keeps only weak
    references, so an entry whose handle nobody holds is gone.
    """

    def __init__(self) -> None:
        self._table: weakref.WeakValueDictionary[str, Handle] = weakref.WeakValueDictionary()

    def make(self, value: str) -> Handle:
        handle = self._table.get(value)
        if handle is None:
            handle = Handle(value)
            self._table[value] = handle
        return handle

    def __len__(self) -> int:
        return len(self._table)


def interner_growth(
    requests: int = 100_000, *, in_flight: int = 100, max_entries: int = 1_000, rows: int = 5
) -> pd.DataFrame:
    """Table sizes while interning one new key per request (an order id, say).

    The caller keeps the interned keys of the last ``in_flight`` requests (those still
    being served) and drops the rest. One row per checkpoint: entries held by the
    unbounded map, the LRU-bounded map and the weak table.
    """
    for name, value in (("requests", requests), ("in_flight", in_flight), ("rows", rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be an int >= 1, got {value!r}", field=name)
    plain, bounded, weak = MapInterner(), MapInterner(max_entries), WeakInterner()
    held: deque[tuple[str, str, Handle]] = deque(maxlen=in_flight)
    marks = {round(requests * (i + 1) / rows) for i in range(rows)}
    out = []
    for i in range(1, requests + 1):
        key = f"order_{i:09d}"
        held.append((plain.intern(key), bounded.intern(key), weak.make(key)))
        if i in marks:
            out.append(
                {
                    "requests": i,
                    "map": len(plain),
                    "bounded_map": len(bounded),
                    "weak_handles": len(weak),
                }
            )
    return pd.DataFrame(out).set_index("requests")
