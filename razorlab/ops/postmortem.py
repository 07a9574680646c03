"""The blameless post-mortem, written from an incident's timeline.

Scenario: the incident is over; the team writes up what happened so it does not
happen again. Blameless means the write-up explains how the *system* (tools,
processes, defaults) let a reasonable action cause harm, never who to blame — people
hide mistakes from a process that punishes them, and hidden mistakes repeat
(Google SRE book, ch. 15 "Postmortem Culture").

Design note: every number in the document comes from the simulated incident —
durations from the timeline, impact from the metrics, budget from the SLO — so the
post-mortem cannot drift from what happened. Wrong actions taken during the
response appear as lessons, phrased about the signals that misled, not the person.
"""

from __future__ import annotations

from razorlab.errors import StateError
from razorlab.ops.incident import Incident

__all__ = ["postmortem"]


def postmortem(inc: Incident) -> str:
    """A blameless post-mortem in Markdown, written from a resolved incident's timeline."""
    if inc.resolved_at() is None:
        raise StateError("the incident is not resolved yet; keep going before writing it up")
    s = inc.summary()
    tl = inc.timeline()
    wrong = [d for e, d in zip(tl["event"], tl["detail"], strict=True) if e == "action"]
    lines = [
        f"## Post-mortem: {s['fault'].replace('_', ' ')} ({s['severity']})",
        "",
        "*Blameless: this document is about how our systems and processes allowed the "
        "failure, not about who was on the keyboard.*",
        "",
        "### Impact",
        f"- About {s['failed_payments']:,} payments failed; at the worst five minutes "
        f"{s['peak_failing_share']:.1%} of payments failed.",
        f"- {s['budget_spent']:.0%} of the {inc.slo.window_days}-day error budget "
        f"({inc.slo.target:.2%} SLO) was spent.",
        f"- Detected {s['mttd_min']} min after impact began and acknowledged "
        f"{s['mtta_min']} min after the page; resolved after {s['mttr_min']} min.",
        "",
        "### Timeline",
        "| time | minute | event | detail |",
        "|---|---|---|---|",
        *[f"| {r.time} | {r.minute} | {r.event} | {r.detail} |" for r in tl.itertuples()],
        "",
        "### Root cause",
        inc.fault.root_cause,
        "",
        "### What went well",
        "- Burn-rate alerting paged on user impact, not on a machine metric.",
        "- The mitigation was reversible and restored service before a full fix.",
        "",
        "### What we can improve",
    ]
    if wrong:
        lines.append(
            "- The signals available first pointed responders to "
            + ", ".join(w.replace(" (no effect)", "") for w in wrong)
            + "; dashboards should show error breakdowns by release, bank and error code "
            "on the first screen."
        )
    if s["mttd_min"] is not None and s["mttd_min"] > 5:
        lines.append(f"- Detection took {s['mttd_min']} min; a faster symptom alert would help.")
    if s["mtta_min"] is not None and s["mtta_min"] > 5:
        lines.append(
            f"- The page waited {s['mtta_min']} min for acknowledgement; "
            "check paging routes and escalation after 5 min."
        )
    lines += ["", "### Action items", *[f"- [ ] {item}" for item in inc.fault.action_items]]
    return "\n".join(lines)
