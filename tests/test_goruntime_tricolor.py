"""Tri-colour marking loses a reachable object without a write barrier, never with one."""

import pytest

from razorlab.errors import ValidationError
from razorlab.goruntime import BARRIERS, Write, lost_object_scenario, mark


def test_without_a_barrier_the_black_to_white_pointer_frees_a_live_object():
    heap, roots, writes = lost_object_scenario()
    result = mark(heap, roots, writes, barrier="none")
    assert result.lost == {"C"}


@pytest.mark.parametrize("barrier", [b for b in BARRIERS if b != "none"])
def test_every_barrier_keeps_reachable_objects_and_still_frees_garbage(barrier):
    heap, roots, writes = lost_object_scenario()
    result = mark(heap, roots, writes, barrier=barrier)
    assert result.lost == frozenset()
    assert "D" in result.freed


def test_without_mutation_marking_frees_exactly_the_unreachable():
    heap, roots, _ = lost_object_scenario()
    result = mark(heap, roots)
    assert result.freed == {"D"}
    assert result.history.iloc[-1].tolist() == ["black", "black", "black", "white"]


def test_the_callers_heap_is_not_mutated():
    heap, roots, writes = lost_object_scenario()
    mark(heap, roots, writes)
    assert heap["B"]["c"] == "C"


def test_bad_inputs_raise():
    heap, roots, _ = lost_object_scenario()
    with pytest.raises(ValidationError):
        mark(heap, roots, barrier="steele")
    with pytest.raises(ValidationError):
        mark(heap, roots, [Write(1, "Z", "x", None)])


def test_writes_given_as_a_generator_are_all_applied():
    heap, roots, writes = lost_object_scenario()
    assert mark(heap, roots, (w for w in writes), barrier="none").lost == {"C"}


@pytest.mark.parametrize("step", [0, -1])
def test_a_write_before_the_first_mark_step_is_refused_not_dropped(step):
    heap, roots, _ = lost_object_scenario()
    with pytest.raises(ValidationError, match="step 1"):
        mark(heap, roots, [Write(step, "A", "c", "C")])
