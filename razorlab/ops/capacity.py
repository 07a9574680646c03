"""Back-of-the-envelope capacity planning, with the units carried for you.

Scenario: the interviewer says "1 million payments per second, 1 KB each, keep them
seven years" and waits. A planner turns those requirements into storage per day and
in total, network bandwidth, cache size and cores/servers, and shows the formula
behind every number so it can be defended (or caught being wrong).

Design note: rates are *write* rates — requests that each store one record of
``payload_bytes`` (payments, messages, tweets); reads come on top as
``read_write_ratio`` reads per write. Storage uses the *average* rate (a day of data
is the integral of the rate), compute and bandwidth the *peak* rate (you must survive
the busiest second). When no average is given the planner assumes the peak lasts all
day — the conservative, and usually wildly pessimistic, reading. Cores are sized so
that the peak runs at ``target_utilisation`` (default 70%), leaving headroom for bursts
and queueing (latency climbs steeply as utilisation nears 100%). That default does *not*
by itself survive losing a zone: the survivors of ``zones`` zones take the lost one's
traffic, so each runs at ``utilisation × zones / (zones − lost)`` — 70% across three zones
becomes 105% on two. :func:`max_utilisation` gives the ceiling (≤ 2/3 with three zones,
0.75 with four) and :func:`after_zone_loss` the load the survivors see. Every
number is a :class:`~razorlab.ops.units.Quantity`, so a rate can never be written
where an amount belongs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from razorlab.errors import ValidationError
from razorlab.ops.availability import downtime, from_nines, nines, redundant, serial
from razorlab.ops.units import SECONDS_PER_DAY, Quantity, UnitError, q

__all__ = [
    "Requirements",
    "CapacityPlan",
    "plan",
    "compare",
    "Quantity",
    "UnitError",
    "q",
    "downtime",
    "nines",
    "from_nines",
    "serial",
    "redundant",
    "DEFAULT_PER_CORE_QPS",
    "DEFAULT_TARGET_UTILISATION",
    "after_zone_loss",
    "max_utilisation",
]

DEFAULT_PER_CORE_QPS = 1_000.0  # requests/s one core serves for a simple JSON API call
DEFAULT_TARGET_UTILISATION = 0.7  # cores at <= 70% at peak: burst and queueing headroom
DEFAULT_CORES_PER_SERVER = 32


def _number(name: str, value: object, *, minimum: float = 0.0, strict: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{name} must be a finite number, got {value!r}", field=name)
    if value < minimum or (strict and value == minimum):
        op = ">" if strict else ">="
        raise ValidationError(f"{name} must be {op} {minimum:g}, got {value!r}", field=name)
    return float(value)


@dataclass(frozen=True)
class Requirements:
    """What the system must do. Rates count writes (records stored) per second."""

    peak_qps: float
    payload_bytes: float
    avg_qps: float | None = None  # None: assume the peak lasts all day (worst case)
    read_write_ratio: float = 0.0  # reads per write
    response_bytes: float | None = None  # bytes returned per read; None: payload_bytes
    retention_days: float = 365.0
    replication: int = 3
    per_core_qps: float = DEFAULT_PER_CORE_QPS
    target_utilisation: float = DEFAULT_TARGET_UTILISATION
    cores_per_server: int = DEFAULT_CORES_PER_SERVER
    cache_fraction: float = 0.2  # keep the hottest 20% of a day's data in memory
    name: str = "service"

    def __post_init__(self) -> None:
        _number("peak_qps", self.peak_qps)
        _number("payload_bytes", self.payload_bytes)
        if self.avg_qps is not None and _number("avg_qps", self.avg_qps) > self.peak_qps:
            raise ValidationError(
                f"avg_qps ({self.avg_qps:g}) cannot exceed peak_qps ({self.peak_qps:g}): "
                "an average above the peak means one of them is wrong",
                field="avg_qps",
            )
        _number("read_write_ratio", self.read_write_ratio, strict=False)
        if self.response_bytes is not None:
            _number("response_bytes", self.response_bytes, strict=False)
        _number("retention_days", self.retention_days)
        _number("per_core_qps", self.per_core_qps)
        if not 0 < _number("target_utilisation", self.target_utilisation) <= 1:
            raise ValidationError(
                f"target_utilisation must be in (0, 1], got {self.target_utilisation!r}",
                field="target_utilisation",
            )
        if not 0 <= _number("cache_fraction", self.cache_fraction, strict=False) <= 1:
            raise ValidationError(
                f"cache_fraction must be in [0, 1], got {self.cache_fraction!r}",
                field="cache_fraction",
            )
        for name in ("replication", "cores_per_server"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"{name} must be an int >= 1, got {value!r}", field=name)

    @classmethod
    def from_daily(
        cls, per_day: float, payload_bytes: float, *, peak_to_avg: float = 3.0, **kwargs: object
    ) -> Requirements:
        """Requirements given a daily count (e.g. "10M UPI payments a day").

        The peak is ``peak_to_avg`` times the average; traffic bunches into busy
        hours (evenings, salary days, sales), so 2–5x is typical.
        """
        avg = _number("per_day", per_day) / SECONDS_PER_DAY
        factor = _number("peak_to_avg", peak_to_avg, minimum=1.0, strict=False)
        return cls(peak_qps=avg * factor, payload_bytes=payload_bytes, avg_qps=avg, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CapacityPlan:
    """The sized system; every field a Quantity (or an int count) with its formula in ``table``."""

    requirements: Requirements
    peak_write_rate: Quantity
    avg_write_rate: Quantity
    peak_read_rate: Quantity
    peak_request_rate: Quantity
    writes_per_day: Quantity
    storage_per_day: Quantity
    storage_total: Quantity
    ingress: Quantity
    egress: Quantity
    replication_traffic: Quantity
    cache: Quantity
    cores: int
    servers: int

    def table(self) -> pd.DataFrame:
        """One row per figure: readable value and the formula that produced it."""
        r = self.requirements
        rows = [
            ("peak writes", self.peak_write_rate, "given"),
            (
                "average writes",
                self.avg_write_rate,
                "given" if r.avg_qps else "= peak (worst case)",
            ),
            ("peak reads", self.peak_read_rate, f"peak writes × {r.read_write_ratio:g}"),
            ("writes per day", self.writes_per_day, "average writes × 86,400 s"),
            ("storage per day", self.storage_per_day, f"writes per day × {r.payload_bytes:g} B"),
            (
                "storage total",
                self.storage_total,
                f"per day × {r.retention_days:g} days × {r.replication} replicas",
            ),
            ("ingress at peak", self.ingress, f"peak writes × {r.payload_bytes:g} B"),
            ("egress at peak", self.egress, "peak reads × response size"),
            ("replication traffic", self.replication_traffic, f"ingress × {r.replication - 1}"),
            ("cache", self.cache, f"{r.cache_fraction:.0%} of a day's data"),
            (
                "cores",
                self.cores,
                f"peak requests / ({r.per_core_qps:g}/s per core × {r.target_utilisation:.0%})",
            ),
            ("servers", self.servers, f"cores / {r.cores_per_server} per server, rounded up"),
        ]
        return pd.DataFrame(
            [(m, v if isinstance(v, int) else v.format(), how) for m, v, how in rows],
            columns=["metric", "value", "how"],
        ).set_index("metric")

    def bandwidth_gbps(self) -> float:
        """Total network at peak in Gbit/s (links are sold in bits)."""
        return (self.ingress + self.egress + self.replication_traffic).to("Gbit/s")


def plan(req: Requirements) -> CapacityPlan:
    """Size storage, bandwidth, cache and compute for ``req``."""
    if not isinstance(req, Requirements):
        raise ValidationError(f"plan() needs Requirements, got {type(req).__name__}")
    payload = q(req.payload_bytes, "B/req")
    response = q(req.payload_bytes if req.response_bytes is None else req.response_bytes, "B/req")
    peak = q(req.peak_qps, "req/s")
    avg = q(req.peak_qps if req.avg_qps is None else req.avg_qps, "req/s")
    reads = peak * req.read_write_ratio
    day = q(1, "day")
    per_day = avg * day * payload
    total_rate = peak + reads
    core_rate = req.per_core_qps * req.target_utilisation
    # a hair under 1 so 1000.0000000001 cores (float noise) rounds to 1000, not 1001
    cores = math.ceil(total_rate.to("req/s") / core_rate * (1 - 1e-12))
    ingress = peak * payload
    return CapacityPlan(
        requirements=req,
        peak_write_rate=peak,
        avg_write_rate=avg,
        peak_read_rate=reads,
        peak_request_rate=total_rate,
        writes_per_day=avg * day,
        storage_per_day=per_day,
        storage_total=per_day * (req.retention_days * req.replication),
        ingress=ingress,
        egress=reads * response,
        replication_traffic=ingress * (req.replication - 1),
        cache=per_day * req.cache_fraction,
        cores=cores,
        servers=math.ceil(cores / req.cores_per_server),
    )


def _zones(zones: object, lost: object) -> tuple[int, int]:
    for name, value in (("zones", zones), ("lost", lost)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{name} must be an int >= 0, got {value!r}", field=name)
    if not 0 <= lost < zones:  # type: ignore[operator]
        raise ValidationError(
            f"lost ({lost}) must be below zones ({zones}): someone has to survive", field="lost"
        )
    return zones, lost  # type: ignore[return-value]


def max_utilisation(zones: int, lost: int = 1) -> float:
    """Highest per-zone utilisation at peak that still fits after losing ``lost`` zones.

    Traffic is spread evenly over ``zones`` zones; when ``lost`` fail, the survivors carry it
    all, so ``u × zones / (zones − lost)`` must stay ≤ 1: u ≤ (zones − lost) / zones. Three
    zones give 2/3 (66.7%), four give 75%, and two zones only 50%.
    """
    zones, lost = _zones(zones, lost)
    return (zones - lost) / zones


def after_zone_loss(utilisation: float, zones: int, lost: int = 1) -> float:
    """Per-zone utilisation of the survivors once ``lost`` of ``zones`` zones are gone.

    Above 1.0 the survivors cannot keep up: queues grow without bound until load is shed.
    """
    zones, lost = _zones(zones, lost)
    u = _number("utilisation", utilisation)
    return u * zones / (zones - lost)


def compare(requirements: dict[str, Requirements]) -> pd.DataFrame:
    """Key figures of several plans side by side, in fixed units (one row per plan)."""
    rows = {}
    for name, req in requirements.items():
        p = plan(req)
        rows[name] = {
            "peak writes/s": round(p.peak_write_rate.to("req/s")),
            "peak reads/s": round(p.peak_read_rate.to("req/s")),
            "storage/day (TiB)": round(p.storage_per_day.to("TiB"), 2),
            "storage total (PiB)": round(p.storage_total.to("PiB"), 3),
            "network (Gbit/s)": round(p.bandwidth_gbps(), 2),
            "cache (GiB)": round(p.cache.to("GiB"), 1),
            "cores": p.cores,
            "servers": p.servers,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
