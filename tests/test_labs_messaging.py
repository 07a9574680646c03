"""The message-delivery lab: the reference passes, the seed's design loses a message in a few
steps, runs replay bit for bit, each invariant catches a hand-written state that breaks it, the
checker finds the seed's loss across a restart and its duplicates, known-buggy services are each
caught by the rule they break, and the command line exits 0, 1 or 2."""

import subprocess
import sys

import pytest

from razorlab.labs import (
    MESSAGING_INVARIANTS,
    AckResult,
    Delivery,
    Fault,
    Op,
    Plan,
    ReferenceMessages,
    SeedMessages,
    SendAck,
    check,
)
from razorlab.labs.check import judge
from razorlab.labs.harness import run_plan
from razorlab.labs.history import Event, History
from razorlab.labs.invariants import explain
from razorlab.labs.messaging import DIRECTORY, FAR_AHEAD, MESSAGING_LAB, MessagingFinal, generate
from razorlab.labs.messaging_invariants import (
    ack_only_what_was_delivered,
    acknowledged_send_reaches_every_device,
    conversation_order_per_device,
    no_redelivery_after_ack,
    retried_send_stored_once,
)


def test_the_reference_implementation_passes_many_seeds():
    for seed in (0, 1, 2):
        verdict = check(ReferenceMessages, lab="messaging", runs=150, seed=seed, shrink=False)
        assert verdict.passed, str(verdict)
    assert verdict.exit_code == 0 and "messaging lab" in str(verdict)


def test_the_seed_design_loses_a_message_in_a_handful_of_steps():
    verdict = check(SeedMessages, lab="messaging", runs=100, seed=0)
    assert verdict.status == "failed" and verdict.exit_code == 1
    assert verdict.invariant == "acknowledged_send_reaches_every_device"
    assert len(verdict.history) <= 10, verdict.timeline()
    assert verdict.original_events > len(verdict.history)
    assert len(verdict.plan.ops) == 1 and not verdict.plan.faults, verdict.plan.describe()
    text = str(verdict)
    assert "never received it" in text and " 1. t=" in text


def _first_broken(impl, ops, faults=(), seed=1):
    result = run_plan(MESSAGING_LAB, impl, Plan(seed, tuple(ops), tuple(faults)))
    assert result.error is None, result.error
    return judge(result, MESSAGING_INVARIANTS)


SEND = Op(2, 1, "send", "k2", ("asha", "asha-ravi", "hi"))
RAVI_ONLINE = Op(3, 2, "fetch", "k3", ("ravi", "phone"))


def test_the_checker_finds_the_seeds_loss_across_a_restart():
    """Ravi's phone is online, so the message goes to its socket buffer; the restart empties it."""
    ops = [Op(1, 1, "wait", "k1", (1_000,)), SEND, RAVI_ONLINE]
    rule, problems = _first_broken(SeedMessages, ops)
    assert rule == "acknowledged_send_reaches_every_device"
    assert problems == ["k2 (asha → asha-ravi) was acknowledged as stored; ravi/phone never "
                        "received it"]  # fmt: skip
    assert _first_broken(ReferenceMessages, ops) is None


def test_the_checker_finds_the_seeds_duplicates_and_deleted_deliveries():
    rule, problems = _first_broken(SeedMessages, [SEND], [Fault("lose_reply", 2, 0)])
    assert rule == "retried_send_stored_once" and "as asha-ravi #1, asha-ravi #2" in problems[0]
    late = [SEND, Op(1, 2, "wait", "k1", (1_000,)), RAVI_ONLINE]
    rule, _ = _first_broken(SeedMessages, late, [Fault("lose_reply", 3, 0)])
    assert rule == "acknowledged_send_reaches_every_device", "delivered means deleted"
    for faults in ([Fault("lose_reply", 2, 0)], [Fault("lose_reply", 3, 0)]):
        assert _first_broken(ReferenceMessages, late, faults) is None


def test_the_same_seed_replays_the_same_run_bit_for_bit():
    plan = generate(3, 5)
    assert plan == generate(3, 5) and plan != generate(3, 6)
    first = run_plan(MESSAGING_LAB, ReferenceMessages, plan)
    again = run_plan(MESSAGING_LAB, ReferenceMessages, plan)
    assert first.error is None and first.history.digest() == again.history.digest()
    one = check(SeedMessages, lab="messaging", runs=20, seed=4)
    assert str(one) == str(check(SeedMessages, lab="messaging", runs=20, seed=4))
    assert run_plan(MESSAGING_LAB, SeedMessages, one.plan).history == one.history


def test_the_workload_mixes_sends_syncs_and_every_fault():
    plans = [generate(0, run) for run in range(80)]
    assert {"crash", "duplicate", "lose_reply"} <= {f.kind for p in plans for f in p.faults}
    methods = {op.method for p in plans for op in p.ops}
    assert methods == {"send", "fetch", "ack", "wait"}
    assert any(op.args[-1] == FAR_AHEAD for p in plans for op in p.ops if op.method == "ack")
    chats = {op.args[1] for p in plans for op in p.ops if op.method == "send"}
    assert chats == set(DIRECTORY.chats)


def test_the_counterexample_draws_with_a_lane_per_client():
    fig = check(SeedMessages, lab="messaging", runs=5, seed=0).figure()
    lanes = list(fig.layout.yaxis.ticktext)
    assert "client 1" in lanes and "service" in lanes


# -- each invariant against hand-written states --------------------------------------------
SENT = {"k1": ("asha", "trio", "hi"), "k2": ("meera", "trio", "ok")}
K1, K2 = Delivery("trio", 1, "k1", "asha", "hi"), Delivery("trio", 2, "k2", "meera", "ok")


def answered(op, t, args, result, attempt=0):
    key = f"k{op}"
    return [Event(t, f"client {op}", "invoke", "", key=key, op=op, attempt=attempt,
                  value=(("args", args),)),
            Event(t + 0.01, f"client {op}", "ok", str(result), key=key, op=op, attempt=attempt,
                  value=(("result", result),))]  # fmt: skip


def sent(op, seq, attempt=0, t=None):
    key = f"k{op}"
    return answered(op, op if t is None else t, SENT[key], SendAck(key, "trio", seq), attempt)


def ravi(op, t, result, *ack):
    return answered(op, t, ("ravi", "phone", *ack), result)


GOOD_EVENTS = (
    sent(1, 1) + sent(2, 2)
    + ravi(3, 3.0, (K1, K2))
    + ravi(4, 4.0, AckResult("acked"), "trio", 2)
    + ravi(5, 5.0, AckResult("refused", "no such message"), "trio", FAR_AHEAD)
)  # fmt: skip
EVERYONE = {f"{u}/{d}": ((K1, K2),) for u, d in DIRECTORY.all_devices() if u != "ravi"}
GOOD_DRAINS = {**EVERYONE, "asha/phone": ((K2,),), "asha/laptop": ((K2,),), "ravi/phone": ((),)}


def state(events=GOOD_EVENTS, drains=GOOD_DRAINS):
    return History(tuple(events)), MessagingFinal(drains, SENT)


def test_a_good_run_breaks_no_invariant():
    history, final = state()
    assert not any(inv(history, final) for inv in MESSAGING_INVARIANTS)


@pytest.mark.parametrize(
    ("invariant", "bad", "message"),
    [
        (acknowledged_send_reaches_every_device,
         state(drains={**GOOD_DRAINS, "meera/tablet": ((K2,),)}),
         "k1 (asha → trio) was acknowledged as stored; meera/tablet never received it"),
        (acknowledged_send_reaches_every_device,
         state(drains={**GOOD_DRAINS, "asha/laptop": ((),)}),
         "k2 (meera → trio) was acknowledged as stored; asha/laptop never received it"),
        (retried_send_stored_once, state(events=GOOD_EVENTS + sent(2, 3, attempt=1, t=9)),
         "k2 (meera → trio) was stored 2 times: as trio #2, trio #3"),
        (retried_send_stored_once,
         state(drains={**GOOD_DRAINS, "meera/phone": ((K1, Delivery("trio", 1, "k9", "x", "")),)}),
         "trio #1 holds 2 messages: k1, k9"),
        (no_redelivery_after_ack, state(drains={**GOOD_DRAINS, "ravi/phone": ((K2,),)}),
         "ravi/phone acked trio up to #2 (t=4.010s), then received trio #2 k2 again"),
        (conversation_order_per_device, state(events=sent(1, 2) + sent(2, 1, t=5)),
         "trio: k2 was sent after k1 was stored as #2, but got #1"),
        (conversation_order_per_device,
         state(drains={**GOOD_DRAINS, "meera/phone": ((K2,), (K1,))}),
         "meera/phone received trio #1 k1 (after the final restart) after trio #2 k2"),
        (ack_only_what_was_delivered,
         state(events=GOOD_EVENTS + ravi(6, 6.0, AckResult("acked"), "trio", FAR_AHEAD)),
         "ravi/phone: ack of trio up to #1000 was accepted; the chat's last message is #2"),
        (ack_only_what_was_delivered,
         state(events=GOOD_EVENTS + ravi(6, 6.0, AckResult("refused"), "trio", 1)),
         "ravi/phone: ack of trio up to #1 was refused; the device had received up to #2"),
    ],
)  # fmt: skip
def test_each_invariant_catches_a_state_that_breaks_it(invariant, bad, message):
    problems = invariant(*bad)
    assert problems and message in problems[0], problems
    assert explain(invariant).endswith(".")


def test_redelivery_before_an_ack_and_a_senders_own_device_are_allowed():
    again = ravi(6, 6.0, (K1, K2))  # ravi's phone fetched again before acking: at least once
    events = sent(1, 1) + sent(2, 2) + ravi(3, 3.0, (K1, K2)) + again
    drains = {**GOOD_DRAINS, "ravi/phone": ((K1, K2),), "meera/phone": ((K1,),)}
    history, final = state(events, drains)
    assert not any(inv(history, final) for inv in MESSAGING_INVARIANTS)


# -- known-buggy services, each caught by the rule it breaks -------------------------------
class NoIdLookup(ReferenceMessages):
    """Atomic and ordered, but never looks the message id up: a retry is a second message."""

    async def send(self, message_id, sender, chat, text):
        async with self.store.transaction() as tx:
            await tx.put(f"id/{message_id}", None)
        return await super().send(message_id, sender, chat, text)


class CursorInMemory(ReferenceMessages):
    """Acks move a cursor kept in ``self``: a restart forgets them and resends what was acked."""

    def __init__(self, store, directory):
        super().__init__(store, directory)
        self.cursors = {}

    async def fetch(self, user, device):
        got = await super().fetch(user, device)
        return [d for d in got if d.seq > self.cursors.get((user, device, d.chat), 0)]

    async def ack(self, user, device, chat, upto):
        key = (user, device, chat)
        self.cursors[key] = max(self.cursors.get(key, 0), upto)
        return AckResult("acked")


class CursorPerUser(ReferenceMessages):
    """One cursor per user: the phone's ack makes the laptop skip what it never got."""

    async def fetch(self, user, device):
        return await super().fetch(user, DIRECTORY.devices[user][0])

    async def ack(self, user, device, chat, upto):
        return await super().ack(user, DIRECTORY.devices[user][0], chat, upto)


def test_each_known_bug_is_caught_by_the_rule_it_breaks():
    expected = {NoIdLookup: "retried_send_stored_once",
                CursorInMemory: "no_redelivery_after_ack",
                CursorPerUser: "acknowledged_send_reaches_every_device"}  # fmt: skip
    for impl, rule in expected.items():
        verdict = check(impl, lab="messaging", runs=200, seed=1)
        assert verdict.invariant == rule, str(verdict)
        assert len(verdict.history) <= 16, verdict.timeline()


def test_accepting_an_ack_beyond_the_chat_is_caught():
    class AcceptsAnyAck(ReferenceMessages):
        async def ack(self, user, device, chat, upto):
            await self.store.put(f"cursor/{user}/{device}/{chat}", upto)
            return AckResult("acked")

    verdict = check(AcceptsAnyAck, lab="messaging", runs=200, seed=1)
    assert verdict.invariant == "ack_only_what_was_delivered", str(verdict)


def test_a_class_that_does_not_fit_the_interface_is_bad_input():
    verdict = check(type("Empty", (), {}), lab="messaging", runs=1)
    assert verdict.status == "bad_input" and verdict.exit_code == 2
    assert "Empty has no method `send`" in str(verdict)

    class TakesAClock(ReferenceMessages):
        def __init__(self, store, directory, clock): ...

    verdict = check(TakesAClock, lab="messaging", runs=1)
    assert "(store, directory) must accept exactly those two arguments" in str(verdict)

    class FetchesAString(ReferenceMessages):
        async def fetch(self, user, device):
            return "k1"

    verdict = check(FetchesAString, lab="messaging", runs=1)
    assert verdict.status == "bad_input" and "fetch must return a list of Delivery" in str(verdict)


# -- the command line ------------------------------------------------------------------------
def _cli(tmp_path, source, *args):
    path = tmp_path / "mine.py"
    path.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "razorlab", "lab", "check", "messaging", str(path), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _subclass(module, base):
    return f"from razorlab.labs.{module} import {base} as _R\n\nclass MyMessages(_R):\n    pass\n"


def test_the_command_line_exits_0_1_or_2(tmp_path):
    ran = _cli(tmp_path, _subclass("messaging_reference", "ReferenceMessages"), "--runs", "20")
    assert ran.returncode == 0 and "PASSED" in ran.stdout, ran.stdout + ran.stderr
    ran = _cli(tmp_path, _subclass("messaging_seed", "SeedMessages"), "--runs", "20")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "acknowledged_send_reaches_every_device" in ran.stdout and " 1. t=" in ran.stdout
    broken = _subclass("messaging_reference", "ReferenceMessages").replace(
        "    pass\n", "    async def send(self, *args):\n        raise ValueError('no')\n"
    )
    ran = _cli(tmp_path, broken, "--runs", "1")
    assert ran.returncode == 2 and "ValueError: no" in ran.stdout, ran.stdout + ran.stderr
