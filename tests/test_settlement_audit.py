"""The hash-chained audit log detects any edit, deletion, insertion or reordering."""

from dataclasses import replace

import pytest

from razorlab.clock import ManualClock
from razorlab.settlement import AuditLog, verify_chain


@pytest.fixture
def log():
    audit = AuditLog(ManualClock())
    for i in range(6):
        audit.append("switch", "SUCCESS" if i % 2 else "INITIATED", f"T{i // 2}", amount=100 * i)
    return audit


def test_untouched_log_verifies(log):
    assert log.verify().ok and log.verify().checked == 6


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e[:2] + [replace(e[2], data={"amount": 1})] + e[3:],  # edit the payload
        lambda e: e[:2] + e[3:],  # delete an entry
        lambda e: [e[1], e[0], *e[2:]],  # reorder
        lambda e: e[:3] + [replace(e[3], hash="f" * 64)] + e[4:],  # forge a hash
        lambda e: e[:2] + [replace(e[2], action="FAILURE")] + e[3:],  # rewrite a state
    ],
)
def test_tampering_is_detected_at_the_right_entry(log, tamper):
    result = verify_chain(tamper(log.entries()))
    assert not result.ok and result.reason
    assert result.first_bad_seq is not None and result.first_bad_seq <= 4


def test_rehashed_forgery_is_caught_by_the_published_head(log):
    anchor = log.head
    entries = log.entries()[:-1]  # drop the last entry: the rest still chains
    assert verify_chain(entries).ok
    assert not verify_chain(entries, anchor=anchor).ok


def test_log_offers_no_way_to_change_entries(log):
    log.entries().clear()
    assert len(log) == 6
    assert not any(hasattr(log, name) for name in ("update", "delete", "remove", "pop"))
