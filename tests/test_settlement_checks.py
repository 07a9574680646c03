"""Self-checks of the ``settlement`` exercise set: right answers pass, wrong ones get a hint."""

from razorlab.grading import Checker
from razorlab.grading.checks import settlement as q
from razorlab.money import Money
from razorlab.settlement import reconcile, settlement_date

check = Checker("settlement")


def _fee_and_gst(amount: int, mdr: str) -> tuple[int, int]:
    fee = Money(amount).percent(mdr)
    return fee.paise, fee.percent("18").paise


def _multilateral(obligations) -> tuple[int, int]:
    position: dict[int, int] = {}
    for payer, payee, amount in obligations:
        position[payer] = position.get(payer, 0) - amount
        position[payee] = position.get(payee, 0) + amount
    return sum(p for p in position.values() if p > 0), sum(p != 0 for p in position.values())


def _payouts(nets: list[int]) -> list[int]:
    out, carry = [], 0
    for net in nets:
        out.append(max(net + carry, 0))
        carry = min(net + carry, 0)
    return out


def _exceptions(expected, statement) -> dict[str, set[str]]:
    r = reconcile(expected, statement)
    return {issue: r.refs(issue) for issue in ("missing", "unexpected", "duplicated")}


def test_right_answers_pass():
    assert check("q1", _fee_and_gst).passed
    assert check("q2", settlement_date).passed
    assert check("q3", _multilateral).passed
    assert check("q4", _payouts).passed
    assert check("q5", _exceptions).passed


def test_the_module_exports_no_answer_with_an_answers_signature():
    for name in ("fee_and_gst", "multilateral", "payouts", "exceptions", "settle_on"):
        assert not hasattr(q, name), name


def test_wrong_answers_fail_with_a_hint():
    wrong = {
        "q1": lambda amount, mdr: (amount * 199 // 10_000, 0),
        "q2": lambda day, n, holidays: day,
        "q3": lambda obligations: (sum(a for *_, a in obligations), len(obligations)),
        "q4": lambda nets: [max(n, 0) for n in nets],
        "q5": lambda expected, statement: {},
    }
    for qid, fn in wrong.items():
        fb = check(qid, fn)
        assert not fb.passed and fb.message, qid
        assert "15000" not in fb.message and "STL0008" not in fb.message
