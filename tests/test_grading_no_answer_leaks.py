"""No self-check lets a learner read the answer off its message.

Every numeric (and date) question of every set gets a range of wrong answers: the right
answer times 0.5, 0.9, 1.1, 2, 10, 805 and 1/805, plus off-by-one for whole numbers and
dates. The feedback may say which way and roughly how far (within 10%, under double,
several times, orders of magnitude); it must never contain the expected value in its usual
renderings, nor the factor between the learner's answer and the right one.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from razorlab.grading.selfcheck import QUESTIONS, near

FACTORS = (0.5, 0.9, 1.1, 2.0, 10.0, 805.0, 1 / 805)
OFFSETS = (-1, 1)  # whole numbers are also tried one off (dates: -2, -1, +1, +2, +7 days)


def _mod(name: str):
    return importlib.import_module(f"razorlab.grading.checks.{name}")


@dataclass(frozen=True)
class Wrong:
    label: str
    answer: object
    expected: tuple[object, ...]  # values the message must not show
    factor: float | None = None  # answer / expected, when the wrong answer is a multiple
    gap: int | None = None  # |answer - expected|, when the wrong answer is off by a few units


def _scaled(v: float, f: float, whole: bool) -> float | int:
    return int(round(v * f)) if whole else v * f


def _numeric(
    expected: float, build: Callable[[Callable[[float], float]], object], *, whole: bool = False
) -> Iterator[Wrong]:
    """Wrong answers built by ``build(transform)``; ``transform`` maps a right value to a wrong one."""
    for f in FACTORS:
        if whole and int(round(expected * f)) == expected:
            continue
        yield Wrong(f"x{f:g}", build(lambda v, f=f: _scaled(v, f, whole)), (expected,), f)
    if whole:
        for d in OFFSETS:
            yield Wrong(f"{d:+d}", build(lambda v, d=d: int(v) + d), (expected,), gap=abs(d))


def _value(expected: float, *, whole: bool = False) -> Iterator[Wrong]:
    return _numeric(expected, lambda t: t(expected), whole=whole)


# ---- one generator per question: (set, qid) -> wrong answers --------------------------------
def _pg() -> dict[str, Callable[[], Iterator[Wrong]]]:
    pg = _mod("payment_gateway")
    q1, q2, q3 = pg.q1_expected(), pg.q2_expected(), pg.q3_expected()
    modulo, ring = pg.q4_expected()["modulo"], pg.q4_expected()["ring"]
    q5, q6 = pg.q5_expected(), pg.q6_expected()

    def q4() -> Iterator[Wrong]:
        for w in _numeric(modulo, lambda t: {"modulo": t(modulo), "ring": ring}):
            yield Wrong("modulo " + w.label, w.answer, (modulo, ring), w.factor)
        for w in _numeric(ring, lambda t: {"modulo": modulo, "ring": t(ring)}):
            yield Wrong("ring " + w.label, w.answer, (modulo, ring), w.factor)

    return {
        "q1": lambda: [
            *_value(q1),
            *_numeric(q1, lambda t: lambda avg, payload: t(q1)),
        ],
        "q2": lambda: _value(q2, whole=True),
        "q3": lambda: _value(q3, whole=True),
        "q4": q4,
        "q5": lambda: _value(q5),
        "q6": lambda: _numeric(q6, lambda t: lambda step, n: t(q6)),
    }


def _settlement() -> dict[str, Callable[[], Iterator[Wrong]]]:
    from razorlab.settlement import settlement_date

    st = _mod("settlement")
    right_fees = dict(zip(st.Q1_AMOUNTS, st.q1_expected(), strict=True))
    fees = [v for pair in right_fees.values() for v in pair]

    def q1() -> Iterator[Wrong]:
        for f in FACTORS:
            for which in (0, 1):

                def fn(amount, mdr, f=f, which=which):
                    right = list(right_fees[amount])
                    right[which] = int(round(right[which] * f))
                    return tuple(right)

                yield Wrong(f"{which} x{f:g}", fn, tuple(fees), f)
        for d in OFFSETS:
            yield Wrong(f"fee {d:+d}", lambda a, m, d=d: (right_fees[a][0] + d, 0), ())

    def q2() -> Iterator[Wrong]:
        wants = st.q2_expected()
        for d in (-2, -1, 1, 2, 7):
            fn = lambda day, n, hol, d=d: settlement_date(day, n, hol) + timedelta(days=d)  # noqa: E731
            yield Wrong(f"{d:+d} days", fn, wants)

    def q3() -> Iterator[Wrong]:
        value, count = st.q3_expected()
        yield from _numeric(value, lambda t: lambda obl: (t(value), count), whole=True)
        yield from _numeric(count, lambda t: lambda obl: (value, t(count)), whole=True)

    def q4() -> Iterator[Wrong]:
        want = st.q4_expected()
        big = max(range(len(want)), key=lambda i: want[i])
        for f in FACTORS:
            got = [*want]
            got[big] = int(round(got[big] * f))
            yield Wrong(f"x{f:g}", lambda nets, got=got: got, tuple(want), f)

    return {"q1": q1, "q2": q2, "q3": q3, "q4": q4}


def _start_here() -> dict[str, Callable[[], Iterator[Wrong]]]:
    from razorlab.money import Money

    sh = _mod("start_here")
    fee = sh.q2_expected()
    formatted = Money(sh.Q1_PAISE).format()

    def q1() -> Iterator[Wrong]:
        for wrong in (formatted.replace(",", ""), "₹1,234,567.89", formatted[1:], "₹0.00"):
            yield Wrong(repr(wrong), lambda p, w=wrong: w, (formatted,))

    def q2() -> Iterator[Wrong]:
        for w in _numeric(fee.paise, lambda t: lambda a: Money(t(fee.paise)), whole=True):
            yield Wrong(w.label, w.answer, (fee.paise, str(fee), fee.format()), w.factor, w.gap)
        for d in (-2, 2):
            yield Wrong(f"{d:+d}", lambda a, d=d: Money(fee.paise + d), (fee.paise,), gap=abs(d))

    return {"q1": q1, "q2": q2}


def _simple() -> dict[tuple[str, str], Callable[[], Iterator[Wrong]]]:
    """Questions whose answer is one number, or a function of the question's inputs."""
    msg, tl, tk = _mod("messaging"), _mod("timelines"), _mod("ticketing")
    upi, fd, mg, gs = (
        _mod("upi"),
        _mod("fraud_detection"),
        _mod("go_memory_gc"),
        _mod("go_scheduler"),
    )
    ir, it, mi = _mod("incident_response"), _mod("interview_toolkit"), _mod("migration")
    from razorlab.fraud.costs import Thresholds, decide, total_cost
    from razorlab.fraud.metrics import average_precision
    from razorlab.goruntime import (
        MIB,
        GCConfig,
        SchedulerConfig,
        goroutine_bytes,
        heap_goal,
        io_bound,
        simulate,
        simulate_gc,
        steady,
    )
    from razorlab.goruntime.processor import FORCE_PREEMPT_S, SYSMON_MAX_DELAY_S
    from razorlab.goruntime.scheduler import steal_count
    from razorlab.ops.incident import Incident, respond
    from razorlab.ops.migration import MigrationSimulator, demo_monolith
    from razorlab.ops.slo import SLO, WORKBOOK_ALERTS, alert_episodes, evaluate_alerts
    from razorlab.social.booking.simulation import run_now, rush, seats_held_at_once, simulate_hour
    from razorlab.upi.network import success_rates

    def fn(expected: float, whole: bool = False):
        return lambda: _numeric(expected, lambda t: lambda *a: t(expected), whole=whole)

    score, y, amount = fd.practice_scores()
    th = fd.Q3_THRESHOLDS
    fd_q3 = total_cost(decide(score, np.zeros(len(score), int), th), y, amount, fd.Q3_COST)
    ps, py, _ = fd.practice_scores(800, seed=9)

    def fd_q5() -> Iterator[Wrong]:
        ap = average_precision(py, ps)
        yield from _numeric(ap, lambda t: lambda yy, s: float(t(average_precision(yy, s))))

    def upi_q4() -> Iterator[Wrong]:
        wants = upi.q4_expected()
        want = dict(zip(upi.Q4_CASES, wants, strict=True))
        for f in FACTORS:
            yield Wrong(f"x{f:g}", lambda d, m, f=f: int(round(want[(d, m)] * f)), wants, f)
        for d in OFFSETS:
            yield Wrong(f"{d:+d}", lambda dd, m, d=d: want[(dd, m)] + d, wants)

    def ir_q1() -> Iterator[Wrong]:
        wants = ir.q1_expected()
        want = dict(zip(ir.Q1_CASES, wants, strict=True))
        for f in FACTORS:
            yield Wrong(f"x{f:g}", lambda r, t, f=f: want[(r, t)] * f, wants, f)

    def ir_q2() -> Iterator[Wrong]:
        episodes = alert_episodes(evaluate_alerts(*ir.q2_stream(), SLO(0.999)))
        fast = episodes[episodes["alert"] == WORKBOOK_ALERTS[0].name].iloc[0]
        fired, cleared = int(fast["fired"]), int(fast["cleared"])
        for d in (-5, -1, 1, 5):
            yield Wrong(f"fired {d:+d}", (fired + d, cleared), (fired, cleared))
            yield Wrong(f"cleared {d:+d}", (fired, cleared + d), (fired, cleared))

    slice_ms = (FORCE_PREEMPT_S + SYSMON_MAX_DELAY_S) * 1e3
    live, roots, gogc, limit, non_heap = mg.Q3_ARGS
    assert limit is None
    mg_q3 = (
        heap_goal(live * MIB, gogc=gogc, roots_bytes=roots * MIB, non_heap_bytes=non_heap * MIB)
        / MIB
    )
    wl = steady(mg.Q4_LIVE_MIB, mg.Q4_ALLOC_MIB_S, duration_s=2.0)
    c100, c200 = (simulate_gc(wl, GCConfig(gogc=g, gomaxprocs=4)).cycles for g in (100, 200))
    busy = simulate(
        io_bound(gs.Q3_N, cpu_s=gs.Q3_CPU_S, spawn_over_s=gs.Q3_OVER_S),
        SchedulerConfig(gomaxprocs=gs.Q3_PROCS),
    )
    polled = busy.netpoll_by_sysmon + busy.netpoll_by_p + busy.woken_idle
    mi_run = MigrationSimulator(demo_monolith(), mi.Q2_SERVICES, seed=mi.Q2_SEED).run()
    mi_q2 = int(mi_run.timeline[mi_run.timeline["event"] == "breach"]["minute"].iloc[0])

    def mi_failed(ramp) -> int:
        sim = MigrationSimulator(demo_monolith(), mi.Q3_SERVICES, ramp=ramp, seed=mi.Q3_SEED)
        return sim.run().failed_requests()

    mi_q3 = mi_failed(mi.Q3_RAMPS["hasty"]) / mi_failed(mi.Q3_RAMPS["cautious"])
    prompt, slow = (
        respond(Incident("bad_deploy", seed=ir.Q4_SEED), ack_minutes=a).summary()["mttr_min"]
        for a in ir.Q4_ACKS
    )
    return {
        ("messaging", "q1"): lambda: _value(msg.q1_expected(), whole=True),
        ("messaging", "q5"): lambda: _value(msg.q5_expected()),
        ("timelines", "q2"): fn(-(-100_000_000 // tl.FANOUT_BATCH), whole=True),
        ("timelines", "q5"): lambda: _value(tl.q5_expected_minutes()),
        ("ticketing", "q1"): lambda: _value(seats_held_at_once(**tk.Q1)),
        ("ticketing", "q2"): lambda: _value(
            run_now(rush("naive", users=tk.Q2_USERS, seed=tk.Q2_SEED)).double_booked, whole=True
        ),
        ("ticketing", "q4"): lambda: _value(
            run_now(simulate_hour(seed=tk.Q4_SEED, hold_ttl_s=tk.Q4_TTL_S)).refunded.paise,
            whole=True,
        ),
        ("upi", "q2"): lambda: _numeric(
            success_rates(upi.q2_outcomes())["technical"],
            lambda t: lambda o: t(success_rates(o)["technical"]),
        ),
        ("upi", "q3"): fn(upi.q3_expected()),
        ("upi", "q4"): upi_q4,
        ("fraud_detection", "q3"): fn(fd_q3, whole=True),
        ("fraud_detection", "q5"): fd_q5,
        ("go_memory_gc", "q1"): fn(goroutine_bytes(mg.Q1_N, stack_used_bytes=mg.Q1_FRAMES), True),
        ("go_memory_gc", "q2"): fn(2048 * mg.Q2_N / 2**50),
        ("go_memory_gc", "q3"): fn(mg_q3),
        ("go_memory_gc", "q4"): lambda: _value(c100 / c200),
        ("go_scheduler", "q1"): fn(gs.q1_expected(), whole=True),
        ("go_scheduler", "q2"): fn(gs.q2_expected()),
        ("go_scheduler", "q3"): lambda: _value(busy.netpoll_by_sysmon / polled),
        ("go_scheduler", "q4"): lambda: _value(slice_ms),
        ("go_scheduler", "q5"): fn(steal_count(gs.Q5_VICTIM_LEN), whole=True),
        ("incident_response", "q1"): ir_q1,
        ("incident_response", "q2"): ir_q2,
        ("incident_response", "q4"): lambda: _value(slow - prompt, whole=True),
        ("interview_toolkit", "q1"): fn(it.q1_expected()),
        ("interview_toolkit", "q2"): fn(it.q2_expected()),
        ("interview_toolkit", "q3"): fn(it.q3_expected()),
        ("interview_toolkit", "q4"): fn(it.q4_expected(), whole=True),
        ("migration", "q2"): lambda: _value(mi_q2, whole=True),
        ("migration", "q3"): lambda: _value(mi_q3),
    } | {("fraud_detection", "q4"): lambda: _fraud_q4(fd, Thresholds, decide, total_cost)}


def _fraud_q4(fd, Thresholds, decide, total_cost) -> Iterator[Wrong]:
    from razorlab.fraud.costs import choose_thresholds

    score, y, amount = fd.practice_scores()
    forced = np.zeros(len(score), int)
    pair, best = choose_thresholds(score, y, amount, forced, fd.Q4_COST)
    review, decline = pair.review, pair.decline
    for d in (-3.0, -1.0, 1.0, 3.0):
        r, c = min(review + d, decline + d), decline + d
        got = total_cost(decide(score, forced, Thresholds(r, c)), y, amount, fd.Q4_COST)
        yield Wrong(f"shift {d:+g}", (r, c), (review, decline, best), got / best)


def _all_cases() -> dict[tuple[str, str], Callable[[], Iterator[Wrong]]]:
    cases = {("payment_gateway", q): g for q, g in _pg().items()}
    cases |= {("settlement", q): g for q, g in _settlement().items()}
    cases |= {("start_here", q): g for q, g in _start_here().items()}
    return cases | _simple()


CASES = _all_cases()


# ---- what a leak looks like --------------------------------------------------------------
def _renderings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, date):
        return {
            str(value), value.isoformat(), f"{value:%d %b}", f"{value:%a %d %b}",
            f"{value:%b %d}", f"{value:%d/%m}", f"{value:%d %B}", f"{value:%A}",
        }  # fmt: skip
    v = float(value)
    out = {repr(value), str(value), f"{v:g}", f"{v:.3g}", f"{v:.2g}", f"{v:.4g}", f"{v:,.2f}"}
    out |= {f"{v:.1f}", f"{v:.2f}", f"{v:.3f}", f"{v:,.1f}"}
    if abs(v) >= 1:
        out |= {f"{v:,.0f}", f"{v:.0f}", f"{round(v):,}".replace(",", "_")}
    if abs(v) >= 1e6:
        out |= {f"{v / 1e6:.0f}M", f"{v / 1e6:.1f}M", f"{v / 1e9:.1f}B", f"{v / 1e3:.0f}K"}
    if abs(v) >= 1e3:
        out |= {f"{v / 1e3:.1f}K", f"{v / 1e3:.0f}K"}
    if 0 < abs(v) < 1:
        out |= {f"{v:.0%}", f"{v:.1%}", f"{v:.2%}"}
    return {s for s in out if s.strip("0.,-_%") != ""}


def _occurs(token: str, message: str) -> bool:
    """``token`` as a whole number in ``message`` (so 18 is not found in 1,180 or 2.18)."""
    if not any(ch.isdigit() for ch in token):
        return token in message
    # a plain number followed by % is a rate ("GST is 18%"); percent renderings end in % already
    pattern = r"(?<![\d.,])" + re.escape(token) + r"(?![\d%]|[.,]\d)"
    return re.search(pattern, message) is not None


def _factor_tokens(factor: float) -> set[str]:
    f = factor if factor >= 1 else 1 / factor
    tokens = {f"{f:.1f}x", f"{f:.0f}x", f"x{f:.0f}", f"{f:.0f} times", f"{f:.1f} times"}
    if f >= 3:  # a bare number this size in a message is the factor (2 and 1.1 are too common)
        tokens |= {f"{f:,.0f}", f"{f:.0f}", f"{f:.1f}"}
    if f >= 1.15:  # "costs 23% more" is a factor too ("within 10%" is a size class, allowed)
        tokens |= {f"{f - 1:.0%}", f"{f - 1:.1%}", f"{1 - 1 / f:.0%}"}
    return tokens


def _small_integer(value: object) -> bool:
    """Tiny whole numbers (0-9) show up in any hint ("T+2", "one of 4"); only larger ones leak."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and abs(value) < 10


def _leaks(message: str, wrong: Wrong) -> list[str]:
    found = []
    for value in wrong.expected:
        if _small_integer(value):
            continue
        found += [f"expected {t!r}" for t in _renderings(value) if _occurs(t, message)]
    if "factor of" in message.lower():
        found.append("'factor of'")
    if wrong.factor is not None:
        found += [f"factor {t!r}" for t in _factor_tokens(wrong.factor) if _occurs(t, message)]
    if wrong.gap is not None:  # "off by 1 paise" tells the learner exactly what to add
        found += [p for p in (f"by {wrong.gap} ", f"by {wrong.gap}.") if p in message]
    return found


# ---- the tests -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exercise_set", "qid"), [pytest.param(*k, id="-".join(k)) for k in sorted(CASES)]
)
def test_wrong_answers_never_reveal_the_expected_value_or_the_factor(exercise_set, qid):
    _mod(exercise_set)
    check = QUESTIONS[(exercise_set, qid)].fn
    rejected = 0
    for wrong in CASES[(exercise_set, qid)]():
        message = check(wrong.answer)
        if message is None:  # inside the stated tolerance (e.g. x0.9 against ±10%)
            continue
        rejected += 1
        assert not _leaks(message, wrong), (
            f"{wrong.label}: {message!r} leaks {_leaks(message, wrong)}"
        )
    assert rejected >= 3, "the wrong answers should mostly be rejected"


def test_every_numeric_question_of_every_set_is_covered():
    """A new estimate question must join CASES (sets of labels and written answers are exempt)."""
    for name in {s for s, _ in CASES} | {"messaging", "timelines", "ticketing", "upi"}:
        _mod(name)
    numeric = {k for k, q in QUESTIONS.items() if k[0] in {s for s, _ in CASES}}
    not_numeric = {
        ("payment_gateway", "q7"), ("payment_gateway", "q11"), ("payment_gateway", "q12"),
        ("payment_gateway", "q13"), ("settlement", "q5"), ("start_here", "q3"),
        ("messaging", "q2"), ("messaging", "q3"), ("messaging", "q4"), ("timelines", "q1"),
        ("timelines", "q3"), ("timelines", "q4"), ("ticketing", "q3"), ("upi", "q1"),
        ("fraud_detection", "q1"), ("fraud_detection", "q2"), ("fraud_detection", "q6"),
        ("go_memory_gc", "q5"), ("incident_response", "q3"), ("interview_toolkit", "q5"),
        ("migration", "q1"), ("migration", "q4"),
    }  # fmt: skip
    assert numeric - not_numeric == set(CASES)


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("target", [123.456, 80_500.0, 0.0371, 91_000_000.0])
def test_near_shows_neither_the_target_nor_the_factor(target, factor):
    message = near(target * factor, target, rel=0.02, what="the estimate")
    if message is None:
        return
    wrong = Wrong("near", target * factor, (target,), factor)
    assert not _leaks(message, wrong), message
    assert ("too high" if factor > 1 else "too low") in message


# ---- hidden tests: the labels of their observations reach the learner's feedback ----------
SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
#: Names that hold, or modules that compute, an expected result.
_EXPECTED_NAMES = {"want", "measured", "expected", "best"}
_REFERENCE_MODULES = {"pg", "ex", "gs", "mg", "fd", "sh"}
#: Phrases that quoted an answer before (kept out for good).
_LEAKY_PHRASES = re.compile(
    r"\bwant\b|\babout \d|\bengine \{|model says|the runtime takes|91M|24,415|43\.2|11\.6K|1\.16M"
    r"|696\.5|2 paise|50 h|roughly halves|half the keys|the fraud rate"
)


def _labels() -> Iterator[tuple[str, ast.expr]]:
    from razorlab.grading.build import read_notebook
    from razorlab.grading.notebook_tags import cell_source, is_hidden_tests

    for path in sorted(SOLUTIONS.rglob("*.ipynb")):
        for cell in read_notebook(path)["cells"]:
            if not is_hidden_tests(cell):
                continue
            for node in ast.walk(ast.parse(cell_source(cell).replace("await ", ""))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "observe":
                    yield path.name, node.args[0]


def _reveals(label: ast.expr) -> list[str]:
    found = [n.id for n in ast.walk(label) if isinstance(n, ast.Name) and n.id in _EXPECTED_NAMES]
    found += [
        n.value.id
        for n in ast.walk(label)
        if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") in _REFERENCE_MODULES
    ]
    texts = [n.value for n in ast.walk(label) if isinstance(n, ast.Constant)]
    return found + [t for t in texts if isinstance(t, str) and _LEAKY_PHRASES.search(t)]


def test_observation_labels_never_carry_the_expected_value():
    labels = list(_labels())
    assert len(labels) > 50
    leaks = [f"{where}: {ast.unparse(label)}" for where, label in labels if _reveals(label)]
    assert not leaks, "\n".join(leaks)


def test_the_label_scan_catches_the_old_leaks():
    for old in ('f"T+{n} from {day}: want {want}"', 'f"N={n} vs {pg.moved(n)}"', '"about 91M"'):
        assert _reveals(ast.parse(old, mode="eval").body), old
    assert not _reveals(ast.parse('f"rate {rate}/s, {n} requests"', mode="eval").body)
