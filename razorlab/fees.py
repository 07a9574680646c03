"""The gateway's fee on a payment — MDR plus GST on it — one rate table for every engine.

Scenario: Razorpay shows a captured payment's ``fee`` ("fee (including GST) charged by
Razorpay") and ``tax`` ("GST charged for the payment"), both in paise (Razorpay API
reference: Payments, the payment entity); settlement deducts the same two numbers from the
merchant's payout. So the gateway (:mod:`razorlab.payments.payment`) and settlement
(:mod:`razorlab.settlement.settlement`) read their rates here, and a payment's fee is the
fee its settlement deducts.

Design note: the fee is computed per payment in two roundings, each to a whole paisa
half-up by :meth:`~razorlab.money.Money.percent` (the only place razorlab rounds money):
``mdr = round(amount × MDR%)``, ``tax = round(mdr × GST%)``, ``fee = mdr + tax``. Rounding
the GST of the rounded MDR (not ``amount × MDR% × GST%`` in one go) is how an invoice
states it — the fee line, then 18% on that line — and it is what settlement does row by row.

Where we simplify: one flat MDR (2%) for every method and merchant. Razorpay's pricing
varies by method and plan (UPI and RuPay debit cards, for instance, carry no MDR under the
zero-MDR rule); GST on a gateway's fee is 18% (a service).
"""

from __future__ import annotations

from razorlab.money import Money

__all__ = ["MDR_PERCENT", "GST_ON_FEE_PERCENT", "fee_and_tax"]

MDR_PERCENT = "2"  # the merchant discount rate, in percent (ours: one flat rate)
GST_ON_FEE_PERCENT = "18"  # GST on the aggregator's fee (a service), in percent


def fee_and_tax(
    amount: Money, mdr_percent: str = MDR_PERCENT, gst_percent: str = GST_ON_FEE_PERCENT
) -> tuple[Money, Money]:
    """``(fee, tax)`` of a payment of ``amount``: ``fee`` includes ``tax``, the GST on the MDR.

    ``fee_and_tax(Money(10_000))`` is ₹2.36 and ₹0.36: 200 paise MDR + 36 paise GST.
    """
    mdr = amount.percent(mdr_percent)
    tax = mdr.percent(gst_percent)
    return mdr + tax, tax
