"""The troubleshooting API: views a responder uses to narrow an outage down.

Scenario: paged at night, the responder asks in order *what changed?* (the change
log), *where?* (errors split by bank, release and error code; latency by bank) and
*why?* (log lines and failing traces). ``suspects`` writes the same reasoning down as
a table of candidate causes with the evidence for each.

Design note: these are read-only views over the signals an :class:`Incident` has
generated so far; none of them looks at the injected fault, so what they show is
exactly what a responder could see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.ops.faults import BANK_TIMEOUT_MS, ERROR_CODES

__all__ = ["Troubleshooting"]


class Troubleshooting:
    """Mixed into :class:`~razorlab.ops.incident.Incident`; needs its signal store."""

    _events: list[tuple[int, str, str]]
    _pool: list[float]

    @property
    def minute(self) -> int:  # provided by Incident
        raise NotImplementedError

    def cells(self) -> pd.DataFrame:  # provided by Incident
        raise NotImplementedError

    def what_changed(self) -> pd.DataFrame:
        """The change log: deploys, flags, jobs — everything someone did on purpose."""
        rows = [(t, text) for t, kind, text in self._events if kind == "change"]
        return pd.DataFrame(rows, columns=["minute", "change"])

    def errors_by(self, dimension: str, *, last: int = 15) -> pd.DataFrame:
        """Errors over the last ``last`` minutes split by bank, version or error code."""
        if dimension not in ("bank", "version", "error_code"):
            raise ValidationError(
                f"dimension must be bank, version or error_code, got {dimension!r}",
                field="dimension",
            )
        c = self.cells()
        c = c[c["minute"] >= self.minute - last]
        if dimension == "error_code":
            counts = c[list(ERROR_CODES)].sum()
            return counts.rename("errors").to_frame().sort_values("errors", ascending=False)
        out = c.groupby(dimension)[["requests", "errors"]].sum()
        out["error_rate"] = (out["errors"] / out["requests"]).round(4)
        out["share_of_errors"] = (out["errors"] / max(out["errors"].sum(), 1)).round(3)
        out["share_of_traffic"] = (out["requests"] / out["requests"].sum()).round(3)
        return out.sort_values("errors", ascending=False)

    def latency_by_bank(self, *, last: int = 15) -> pd.Series:
        c = self.cells()
        c = c[c["minute"] >= self.minute - last]
        return c.groupby("bank")["p99_ms"].median().sort_values(ascending=False)

    def logs(self, *, last: int = 5, level: str = "ERROR", limit: int = 8) -> list[str]:
        """Sample log lines from the last ``last`` minutes (deterministic per minute)."""
        c = self.cells()
        c = c[c["minute"] >= self.minute - last]
        lines = []
        for row in c.itertuples():
            for code in ERROR_CODES:
                if getattr(row, code) and level == "ERROR":
                    # background 500s on the old release are noise, not the deploy's bug
                    key = "background" if (code, row.version) == ("internal_error", "v41") else code
                    lines.append(
                        f"m{row.minute:03d} ERROR payment-api bank={row.bank} "
                        f"version={row.version} {_LOG_TEXT[key]}"
                    )
        if level == "INFO":
            lines = [f"m{t:03d} INFO {text}" for t, _, text in self._events]
        return lines[-limit:]

    def traces(self, *, last: int = 5, n: int = 6) -> pd.DataFrame:
        """A few sampled failing traces: one row per span with its duration and status."""
        c = self.cells()
        c = c[(c["minute"] >= self.minute - last) & (c["errors"] > 0)]
        rows = []
        for i, row in enumerate(c.tail(n).itertuples()):
            code = max(ERROR_CODES, key=lambda k: getattr(row, k))
            db_ms = 2_000.0 if code == "db_timeout" else 8.0
            bank_ms = {"bank_timeout": BANK_TIMEOUT_MS, "tls_handshake": 4.0}.get(code, 180.0)
            for span, ms, failed in (
                ("api", 5.0, code == "internal_error"),
                ("db.query", db_ms, code == "db_timeout"),
                (f"bank.{row.bank}", bank_ms, code in ("bank_timeout", "tls_handshake")),
            ):
                rows.append((f"t{row.minute:03d}-{i}", span, ms, "error" if failed else "ok"))
                if failed:
                    break
        return pd.DataFrame(rows, columns=["trace", "span", "duration_ms", "status"])

    def suspects(self, *, last: int = 15) -> pd.DataFrame:
        """Narrow down: each candidate cause with the evidence for it in the signals now.

        Scores are heuristics a responder would apply by eye: errors concentrated in one
        release or one bank far beyond its traffic share, a dominant error code, a
        saturated pool, a change shortly before the errors began.
        """
        codes = self.errors_by("error_code", last=last)["errors"]
        total = max(int(codes.sum()), 1)
        by_version = self.errors_by("version", last=last)
        by_bank = self.errors_by("bank", last=last)
        skew_v = float((by_version["share_of_errors"] - by_version["share_of_traffic"]).max())
        skew_b = float((by_bank["share_of_errors"] - by_bank["share_of_traffic"]).max())
        pool = float(np.max(self._pool[-last:]))
        recent = self.what_changed()
        recent = recent[recent["minute"] >= self.minute - 60]
        deployed = recent["change"].str.contains("deploy").any()
        top_bank = by_bank.index[0]
        rows = [
            (
                "bad_deploy",
                codes["internal_error"] / total * (0.5 + skew_v) * (1 + deployed),
                f"internal errors {codes['internal_error']}, version skew {skew_v:+.2f}, "
                f"deploy in last hour: {bool(deployed)}",
            ),
            (
                "db_saturation",
                codes["db_timeout"] / total * (pool > 0.85) * 2,
                f"db timeouts {codes['db_timeout']}, pool peak {pool:.0%}",
            ),
            (
                "bank_outage",
                codes["bank_timeout"] / total * (0.5 + skew_b) * 2,
                f"bank timeouts {codes['bank_timeout']}, {top_bank} skew {skew_b:+.2f}",
            ),
            (
                "cert_expiry",
                codes["tls_handshake"] / total * (0.5 + skew_b) * 2,
                f"TLS handshake failures {codes['tls_handshake']}, {top_bank} skew {skew_b:+.2f}",
            ),
        ]
        out = pd.DataFrame(rows, columns=["cause", "score", "evidence"])
        out["score"] = out["score"].astype(float).round(2)
        return out.sort_values("score", ascending=False, ignore_index=True)


_LOG_TEXT = {
    "background": "status=500 connection reset by peer while writing response",
    "internal_error": "status=500 NullPointerException in PaymentRequestMapper.customerRef",
    "db_timeout": "status=503 timeout acquiring DB connection after 2000 ms (pool exhausted)",
    "bank_timeout": "status=504 upstream bank did not answer within 15000 ms",
    "tls_handshake": "status=502 x509: certificate has expired or is not yet valid",
}
