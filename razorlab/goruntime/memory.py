"""What goroutines cost in memory: stacks that start at 2 KiB and double, plus bookkeeping.

Scenario: "what happens with a million, a billion, a trillion goroutines?" The
answer is mostly arithmetic, done here with correct units, and checked against a
real Go runtime (``data/go/measurements.json``).

Facts used (Go 1.19+, linux/amd64):

* a goroutine's stack starts at ``_StackMin`` = 2048 bytes [runtime/stack.go];
* every function prologue compares the stack pointer with ``stackguard0``, which sits
  ``_StackGuard`` = 928 bytes above the stack's low end; when a call would cross it,
  ``newstack`` allocates a stack twice as large and *copies* the old one
  (``copystack``), adjusting pointers into it;
* a stack never grows past ``maxstacksize`` = 1,000,000,000 bytes on 64-bit
  platforms [runtime/proc.go: main]: ``newstack`` throws "stack overflow" after
  printing "goroutine stack exceeds 1000000000-byte limit", so the largest stack a
  goroutine can hold is 512 MiB (the next doubling, 1 GiB, is over the limit);
* during GC, ``shrinkstack`` halves a stack when what is in use *plus*
  ``_StackLimit`` = 800 bytes (``_StackGuard`` - ``_StackSmall``: the room kept for
  NOSPLIT functions, named ``stackNosplit`` in later releases) is under a quarter of
  it, and never below ``_FixedStack`` = 2 KiB [runtime/stack.go: shrinkstack]. A
  parked G (~700 B of runtime frames) therefore stops at 4 KiB, as measured;
* besides its stack, each goroutine has a ``runtime.g`` (a 392-byte struct in Go
  1.19 [runtime/sizeof_test.go: TestSizeof], allocated in the 416-byte size class;
  448 B in Go 1.23 as measured there; no 1.23 source is read here), a pointer in ``allgs`` (8 B) and, while blocked on a
  channel, a ``sudog`` (88 B in the 96-byte class). 416 + 96 + 8 = 520 heap bytes
  is what Go 1.19 measured per blocked goroutine, on top of exactly 2048 stack
  bytes; the OS-level footprint (``Sys``) was about 2.7 KB each;
* Go's heap (stacks included) lives in at most 2**48 bytes of virtual addresses
  (``heapAddrBits`` = 48 on linux/amd64 and most 64-bit platforms; ``maxAlloc``,
  the largest allocation, is ``1 << heapAddrBits`` = 256 TiB [runtime/malloc.go]);
  linux/amd64 gives user space only the lower half (2**47). So address space
  alone caps a process near 1.4e11 goroutines of 2 KiB, whatever the RAM.

Design note: sizes are ints of bytes; formatting into KiB…PiB happens only at the
edge (``format_bytes``), so no unit slips into the arithmetic.
"""

from __future__ import annotations

import pandas as pd

from razorlab.errors import ValidationError

__all__ = [
    "MIN_STACK_BYTES",
    "STACK_GUARD_BYTES",
    "STACK_NOSPLIT_BYTES",
    "MAX_STACK_BYTES",
    "BLOCKED_FRAMES_BYTES",
    "G_STRUCT_BYTES",
    "SUDOG_BYTES",
    "G_BOOKKEEPING_BYTES",
    "StackOverflowError",
    "g_bookkeeping_bytes",
    "stack_size_for",
    "stack_growth",
    "shrunk_stack",
    "stack_after_gcs",
    "goroutine_bytes",
    "max_goroutines",
    "ADDRESS_BITS",
    "address_space_ceiling",
    "format_bytes",
    "seed_claim",
    "memory_table",
]

MIN_STACK_BYTES = 2048  # stack.go: _StackMin
STACK_GUARD_BYTES = 928  # stack.go: _StackGuard on linux/amd64 (Go 1.19)
STACK_NOSPLIT_BYTES = 800  # stack.go: _StackLimit = _StackGuard - _StackSystem - _StackSmall
MAX_STACK_BYTES = 1_000_000_000  # proc.go: main sets maxstacksize on 64-bit platforms
BLOCKED_FRAMES_BYTES = 700  # runtime frames of a parked G (gopark, chanrecv...); calibrated
G_STRUCT_BYTES = {"1.19": 416, "1.23": 448}  # runtime.g as allocated (its size class)
SUDOG_BYTES = 96  # runtime2.go: sudog, 88 B in the 96-byte size class
ALLGS_SLOT_BYTES = 8  # proc.go: allgadd appends a *g to allgs
ADDRESS_BITS = 48  # malloc.go: heapAddrBits on 64-bit platforms (2**48 B = 256 TiB)
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def _non_negative_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{field} must be an int >= 0, got {value!r}", field=field)
    return value


class StackOverflowError(ValidationError):
    """A goroutine's stack would grow past ``maxstacksize``; Go throws "stack overflow"."""

    code = "STACK_OVERFLOW"


def g_bookkeeping_bytes(go_version: str = "1.19") -> int:
    """Heap bytes per blocked goroutine besides its stack: ``g`` + ``sudog`` + ``allgs`` slot.

    Go 1.19 gives 520 B, what ``data/go/measurements.json`` measured; Go 1.23's larger
    ``g`` gives 552 B (its ``sudog`` is assumed unchanged).
    """
    if go_version not in G_STRUCT_BYTES:
        known = ", ".join(G_STRUCT_BYTES)
        raise ValidationError(
            f"go_version must be one of {known}, got {go_version!r}", field="go_version"
        )
    return G_STRUCT_BYTES[go_version] + SUDOG_BYTES + ALLGS_SLOT_BYTES


G_BOOKKEEPING_BYTES = g_bookkeeping_bytes("1.19")


def stack_size_for(used_bytes: int, *, blocked: bool = True) -> int:
    """The stack a goroutine ends up with when its deepest call chain uses ``used_bytes``.

    The stack must hold the frames plus the guard area (and, for a goroutine
    parked in the runtime, the runtime's own frames); it doubles from 2 KiB until
    they fit. A doubling past ``MAX_STACK_BYTES`` raises ``StackOverflowError``, as
    ``newstack`` throws [runtime/stack.go: newstack], so 512 MiB is the largest result.
    """
    need = _non_negative_int(used_bytes, "used_bytes") + STACK_GUARD_BYTES
    need += BLOCKED_FRAMES_BYTES if blocked else 0
    size = MIN_STACK_BYTES
    while size < need:
        size *= 2
        if size > MAX_STACK_BYTES:
            raise StackOverflowError(
                f"goroutine stack exceeds {MAX_STACK_BYTES}-byte limit: {used_bytes:,} "
                f"bytes of frames, growing from {format_bytes(size // 2)} to {format_bytes(size)}",
                field="used_bytes",
            )
    return size


def stack_growth(used_bytes: int, *, blocked: bool = True) -> pd.DataFrame:
    """Each growth step (``newstack`` + ``copystack``) on the way to ``used_bytes``.

    Columns: the new size, the bytes copied (the old stack's used part, at most the
    old size) and the running total: growth is amortised O(final size), like a
    doubling array.
    """
    final = stack_size_for(used_bytes, blocked=blocked)
    rows, size, total = [], MIN_STACK_BYTES, 0
    while size < final:
        total += size
        rows.append({"from_bytes": size, "to_bytes": size * 2, "copied_total_bytes": total})
        size *= 2
    return pd.DataFrame(rows, columns=["from_bytes", "to_bytes", "copied_total_bytes"])


def shrunk_stack(size_bytes: int, used_bytes: int) -> int:
    """The stack after one GC [runtime/stack.go: shrinkstack].

    ``used_bytes`` is what the goroutine's frames occupy (``stack.hi - sched.sp``);
    the stack is halved only if that plus ``STACK_NOSPLIT_BYTES`` is under a quarter
    of it, and never below ``MIN_STACK_BYTES``.
    """
    size = _non_negative_int(size_bytes, "size_bytes")
    used = _non_negative_int(used_bytes, "used_bytes") + STACK_NOSPLIT_BYTES
    if size // 2 < MIN_STACK_BYTES or used >= size // 4:
        return size
    return size // 2


def stack_after_gcs(size_bytes: int, used_bytes: int) -> int:
    """The stack once repeated GCs stop shrinking it (``shrunk_stack`` to a fixed point).

    A G parked on a channel (``used_bytes=BLOCKED_FRAMES_BYTES``) that once grew
    keeps 4 KiB, not 2 KiB: 700 + 800 bytes are more than a quarter of 4 KiB.
    """
    size = shrunk_stack(size_bytes, used_bytes)
    while size != size_bytes:
        size_bytes, size = size, shrunk_stack(size, used_bytes)
    return size


def goroutine_bytes(n: int, *, stack_used_bytes: int = 0, go_version: str = "1.19") -> int:
    """Runtime memory for ``n`` goroutines parked with ``stack_used_bytes`` of frames each."""
    n = _non_negative_int(n, "n")
    return n * (stack_size_for(stack_used_bytes) + g_bookkeeping_bytes(go_version))


def max_goroutines(ram_bytes: int, *, stack_used_bytes: int = 0, go_version: str = "1.19") -> int:
    """How many parked goroutines fit in ``ram_bytes`` (ignoring everything else)."""
    ram = _non_negative_int(ram_bytes, "ram_bytes")
    return ram // (stack_size_for(stack_used_bytes) + g_bookkeeping_bytes(go_version))


def address_space_ceiling(
    address_bits: int = ADDRESS_BITS, *, per_goroutine_bytes: int = MIN_STACK_BYTES
) -> int:
    """Most goroutines whose ``per_goroutine_bytes`` fit in ``2**address_bits`` bytes.

    With the defaults, 2**48 / 2048 = 2**37 ≈ 1.37e11: no process can hold a trillion
    goroutines even with unlimited RAM, because there are not enough addresses.
    Pass ``address_bits=47`` for linux/amd64's user half, or
    ``per_goroutine_bytes=goroutine_bytes(1)`` to count the ``g`` and ``sudog`` too.
    """
    bits = _non_negative_int(address_bits, "address_bits")
    each = _non_negative_int(per_goroutine_bytes, "per_goroutine_bytes")
    if each == 0:
        raise ValidationError("per_goroutine_bytes must be > 0", field="per_goroutine_bytes")
    return 2**bits // each


def format_bytes(n_bytes: float) -> str:
    """Binary units, three significant digits: ``format_bytes(2**41) == '2 TiB'``."""
    value, unit = float(n_bytes), 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.0f} B" if unit == 0 else f"{value:.3g} {UNITS[unit]}"


def seed_claim(n: int) -> dict[str, object]:
    """What the seed's snippet computes for ``n`` goroutines, next to what it says it prints.

    Its code multiplies 2 KiB by ``n`` and integer-divides by 2**30 ("GB"); its comment
    claims ``1862645 GB (1.8 TB)`` for a trillion, which is neither what that code
    prints (2,048 vs 2,000 bytes) nor in TB (a million GB is a PB).
    """
    n = _non_negative_int(n, "n")
    code_prints_gib = 2 * 1024 * n // 2**30
    return {
        "code_prints_gb": code_prints_gib,
        "comment_claims_gb": 1_862_645 if n == 10**12 else None,
        "comment_claims": "1.8 TB" if n == 10**12 else None,
        "stack_only": format_bytes(2 * 1024 * n),
        "with_bookkeeping": format_bytes(goroutine_bytes(n)),
    }


def memory_table(ns: tuple[int, ...] = (10**3, 10**6, 10**9, 10**12)) -> pd.DataFrame:
    """Memory for each goroutine count: stacks only, and stacks plus bookkeeping."""
    rows = []
    for n in ns:
        total = goroutine_bytes(n)
        rows.append(
            {
                "goroutines": f"{n:.0e}",
                "stacks_only": format_bytes(n * MIN_STACK_BYTES),
                "stacks_and_g": format_bytes(total),
                "bytes": total,
                "servers_with_256_GiB": -(-total // (256 * 2**30)),
            }
        )
    return pd.DataFrame(rows).set_index("goroutines")
