"""Goroutine memory: 2 KiB stacks doubling by copy, shrinking in GC, honest unit arithmetic."""

import pytest

from razorlab.errors import ValidationError
from razorlab.goruntime import (
    G_BOOKKEEPING_BYTES,
    MIN_STACK_BYTES,
    format_bytes,
    goroutine_bytes,
    max_goroutines,
    memory_table,
    seed_claim,
    shrunk_stack,
    stack_growth,
    stack_size_for,
)
from razorlab.goruntime.memory import BLOCKED_FRAMES_BYTES, STACK_GUARD_BYTES


def test_a_fresh_goroutine_has_a_2_kib_stack():
    assert stack_size_for(0) == MIN_STACK_BYTES == 2048


@pytest.mark.parametrize("used", [0, 1, 500, 3000, 10_000, 1_000_000])
def test_stacks_are_power_of_two_multiples_of_2_kib_and_fit_frames_plus_guard(used):
    size = stack_size_for(used)
    assert size % MIN_STACK_BYTES == 0 and (size // MIN_STACK_BYTES).bit_count() == 1
    need = used + STACK_GUARD_BYTES + BLOCKED_FRAMES_BYTES
    assert size >= need > size // 2 or size == MIN_STACK_BYTES


def test_growth_copies_amortise_to_less_than_the_final_stack():
    steps = stack_growth(40_000)
    assert list(steps["to_bytes"]) == [4096, 8192, 16384, 32768, 65536]
    assert steps["copied_total_bytes"].iloc[-1] < stack_size_for(40_000)


def test_gc_halves_a_stack_used_below_a_quarter_but_never_below_2_kib():
    assert shrunk_stack(65536, 1000) == 32768
    assert shrunk_stack(65536, 65536 // 4) == 65536
    assert shrunk_stack(2048, 0) == 2048


def test_a_million_goroutines_need_about_2_4_gib_and_a_trillion_about_2_3_pib():
    assert goroutine_bytes(10**6) == 10**6 * (2048 + G_BOOKKEEPING_BYTES)
    assert format_bytes(goroutine_bytes(10**6)) == "2.39 GiB"
    assert format_bytes(goroutine_bytes(10**12)) == "2.28 PiB"
    assert max_goroutines(256 * 2**30) == 256 * 2**30 // (2048 + G_BOOKKEEPING_BYTES)


def test_seed_arithmetic_is_shown_off_by_its_own_code_and_by_a_factor_of_1000_in_units():
    claim = seed_claim(10**12)
    assert claim["code_prints_gb"] == 1_907_348, "2 KiB x 1e12 / 2**30"
    assert claim["comment_claims_gb"] == 1_862_645, "what the seed says it prints"
    assert claim["stack_only"] == "1.82 PiB", "petabytes, not the seed's 1.8 TB"


def test_format_bytes_uses_binary_units():
    assert format_bytes(0) == "0 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(2**41) == "2 TiB"


def test_memory_table_rows_grow_linearly():
    t = memory_table((10**3, 10**6))
    assert t["bytes"].iloc[1] == 1000 * t["bytes"].iloc[0]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_counts_raise(bad):
    with pytest.raises(ValidationError):
        goroutine_bytes(bad)


def test_a_48_bit_address_space_caps_a_process_near_1_4e11_minimum_stacks():
    from razorlab.goruntime import ADDRESS_BITS, address_space_ceiling, goroutine_bytes

    assert ADDRESS_BITS == 48
    assert address_space_ceiling() == 2**37 == 137_438_953_472, "2**48 / 2 KiB"
    assert address_space_ceiling() < 10**12, "a trillion goroutines cannot even be addressed"
    assert address_space_ceiling(47) == 2**36, "linux/amd64 user space: the lower half"
    with_g = address_space_ceiling(per_goroutine_bytes=goroutine_bytes(1))
    assert with_g == 2**48 // 2568 and with_g < address_space_ceiling()
    with pytest.raises(ValidationError):
        address_space_ceiling(per_goroutine_bytes=0)


def test_shrinking_keeps_room_for_nosplit_so_a_parked_g_stops_at_4_kib():
    from razorlab.goruntime import stack_after_gcs
    from razorlab.goruntime.memory import STACK_NOSPLIT_BYTES

    assert STACK_NOSPLIT_BYTES == 928 - 128, "stack.go: _StackLimit = _StackGuard - _StackSmall"
    assert shrunk_stack(4096, BLOCKED_FRAMES_BYTES) == 4096, "700 + 800 >= 4096 / 4"
    assert shrunk_stack(4096, 1024 - STACK_NOSPLIT_BYTES - 1) == 2048
    assert shrunk_stack(4096, 1024 - STACK_NOSPLIT_BYTES) == 4096
    assert stack_after_gcs(65536, BLOCKED_FRAMES_BYTES) == 4096, "measured: parked G keeps 4 KiB"
    assert stack_after_gcs(65536, 0) == 2048 == stack_after_gcs(2048, 0)


def test_a_stack_past_go_s_1_gb_limit_raises_stack_overflow():
    from razorlab.goruntime import MAX_STACK_BYTES, StackOverflowError

    assert MAX_STACK_BYTES == 1_000_000_000, "proc.go: maxstacksize on 64-bit"
    assert stack_size_for(400_000_000) == 2**29, "512 MiB is the largest stack"
    with pytest.raises(StackOverflowError, match="exceeds 1000000000-byte limit") as err:
        stack_size_for(2_000_000_000)
    assert err.value.code == "STACK_OVERFLOW" and err.value.field == "used_bytes"
    with pytest.raises(StackOverflowError):
        stack_size_for(2**29)  # frames + guard no longer fit in 512 MiB: 1 GiB > 1e9
    with pytest.raises(StackOverflowError):
        goroutine_bytes(1, stack_used_bytes=2_000_000_000)


def test_g_size_depends_on_the_go_version():
    from razorlab.goruntime import g_bookkeeping_bytes
    from razorlab.goruntime.memory import G_STRUCT_BYTES, SUDOG_BYTES

    assert G_STRUCT_BYTES == {"1.19": 416, "1.23": 448}
    assert g_bookkeeping_bytes("1.19") == G_BOOKKEEPING_BYTES == 416 + SUDOG_BYTES + 8 == 520
    assert g_bookkeeping_bytes("1.23") == 552
    assert goroutine_bytes(10, go_version="1.23") == 10 * (2048 + 552)
    assert max_goroutines(2600 * 100, go_version="1.23") == 100
    with pytest.raises(ValidationError):
        g_bookkeeping_bytes("1.7")
