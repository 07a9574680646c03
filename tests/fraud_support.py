"""What the fraud property tests share: small streams with ties and same-key bursts, as frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st


def payment_rows(max_gap_s: int, max_size: int) -> st.SearchStrategy[list[tuple]]:
    """Rows of (gap s, card, ip/device, merchant, amount, refund?, city): few keys, so bursts
    share them; a gap of 0 is a tie."""
    row = st.tuples(
        st.integers(0, max_gap_s),  # seconds since the previous payment
        st.integers(0, 3),  # card (customer = card)
        st.integers(0, 2),  # ip and device
        st.integers(0, 2),  # merchant
        st.integers(1, 2_000_000),  # amount
        st.booleans(),  # refund?
        st.integers(0, 11),  # city
    )
    return st.lists(row, min_size=1, max_size=max_size)


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    """The payments frame ``simulate`` would give for ``rows``, in stream order."""
    return pd.DataFrame(
        {
            "txn_id": np.arange(len(rows)),
            "ts": 1_767_225_600 + np.cumsum([r[0] for r in rows]),
            "customer_id": [r[1] for r in rows],
            "card_id": [r[1] for r in rows],
            "device_id": [r[2] for r in rows],
            "ip_id": [r[2] for r in rows],
            "merchant_id": [r[3] for r in rows],
            "city": [r[6] for r in rows],
            "amount_paise": [r[4] for r in rows],
            "currency": "INR",
            "kind": ["refund" if r[5] else "purchase" for r in rows],
        }
    )
