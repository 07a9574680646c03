"""The seed's interview scenarios as capacity requirements, plus the figures it claims.

Each scenario names the numbers the interview question gives (rates, payload sizes)
and, where the question is silent, our stated assumption (peak-to-average factor,
read ratio). ``SEED_CLAIMS`` records what the seed asserts so notebooks can check
those claims against :func:`razorlab.ops.capacity.plan` ("## Check the seed").

Two seed scenarios give a "peak" rate *below* their own daily average (WhatsApp:
100B messages/day is 1.16M/s on average, "peak 1M/s"; Twitter: 1B tweets/day is
11.6K/s, "peak 10K/s"). :class:`Requirements` rejects such pairs, so the presets
below derive the peak from the daily count with an explicit peak-to-average factor.
Real figures for comparison: Twitter's "Timelines at Scale" talk (2013) gave ~4.6K
tweets/s on average and ~12K at peak; WhatsApp reported ~100B messages/day in 2020.
"""

from __future__ import annotations

from razorlab.ops.capacity import Requirements

__all__ = ["seed_scenarios", "SEED_CLAIMS"]

KB = 1_000  # the seed's "1KB" payloads are decimal kilobytes


def seed_scenarios() -> dict[str, Requirements]:
    """Every scenario of the seed with a number in it, as planner input."""
    return {
        # "1M TPS" taken as a peak the gateway must hold all day, as the seed's 86 TB/day does
        "payment_gateway": Requirements(
            name="payment gateway", peak_qps=1_000_000, payload_bytes=KB, retention_days=7 * 365
        ),
        "fraud_detection": Requirements(
            name="fraud scoring",
            peak_qps=100_000,
            payload_bytes=KB,
            read_write_ratio=20,  # feature look-ups per scored transaction (our assumption)
            response_bytes=200,
            retention_days=365,
        ),
        "upi": Requirements.from_daily(
            10_000_000, KB, peak_to_avg=3.0, name="UPI payments", retention_days=10 * 365
        ),
        "bookmyshow": Requirements(
            name="BookMyShow bookings",
            peak_qps=10_000 / 60,  # 10K bookings per minute at peak
            avg_qps=10_000 / 60 / 5,  # our assumption: evenings are 5x the daily average
            payload_bytes=2 * KB,
            read_write_ratio=100,  # searches and seat-map views per booking (assumption)
            response_bytes=10 * KB,
            retention_days=3 * 365,
        ),
        "whatsapp": Requirements.from_daily(
            100_000_000_000,
            KB,
            peak_to_avg=2.0,
            name="WhatsApp messages",
            read_write_ratio=1,  # each message delivered once (more in groups)
            retention_days=30,  # undelivered messages are kept up to 30 days
        ),
        "twitter": Requirements.from_daily(
            1_000_000_000,
            300,  # 280 characters of mostly ASCII text plus ids and timestamps
            peak_to_avg=2.6,  # Twitter 2013: ~12K peak / ~4.6K average
            name="Twitter tweets",
            read_write_ratio=100,
            retention_days=5 * 365,
        ),
    }


#: What the seed asserts, in base units, for notebooks to check.
SEED_CLAIMS: dict[str, dict[str, float]] = {
    "payment_gateway": {
        "availability": 0.9999,
        "downtime_min_per_year": 52.56,
        "ingress_bytes_per_s": 1e9,
        "storage_bytes_per_day": 86e12,
        "network_gbit_per_s": 10,
        "cores": 1_000,
        "memory_bytes": 100e9,
    },
    "whatsapp": {"per_day": 100e9, "peak_per_s": 1e6},
    "twitter": {"per_day": 1e9, "peak_per_s": 10e3},
    "bookmyshow": {"peak_per_min": 10e3, "availability": 0.999},
    "upi": {"per_day": 10e6, "success_rate": 0.999},
}
