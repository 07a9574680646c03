"""UPI: virtual payment addresses, the pay/collect switch, and the network as a probability model.

* :mod:`~razorlab.upi.vpa` — ``handle@psp`` addresses, parsed and validated;
* :mod:`~razorlab.upi.switch` — a simulated switch: limits, status checks, deemed
  transactions and reversals, with NPCI-style response codes;
* :mod:`~razorlab.upi.network` — a day of traffic across PSP, NPCI and banks, where a payment
  can fail, stall or be reversed;
* :mod:`~razorlab.upi.plots` — the chapter's figures (imported on demand: plotly).
"""

from razorlab.upi.network import BUSINESS_DECLINES, RESPONSE_CODES, NetworkModel, simulate
from razorlab.upi.switch import UPI_STATES, UpiSwitch, UpiTransaction
from razorlab.upi.vpa import InvalidVpa, Vpa, parse_vpa

__all__ = [
    "BUSINESS_DECLINES",
    "RESPONSE_CODES",
    "NetworkModel",
    "simulate",
    "UPI_STATES",
    "UpiSwitch",
    "UpiTransaction",
    "InvalidVpa",
    "Vpa",
    "parse_vpa",
]
