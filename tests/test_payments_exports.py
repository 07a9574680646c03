"""The payments package's public API is curated, importable, and pinned here."""

import json
import subprocess
import sys

import razorlab.payments as payments


def test_every_exported_name_exists_and_is_listed_once():
    assert len(payments.__all__) == len(set(payments.__all__))
    for name in payments.__all__:
        assert hasattr(payments, name), name


def test_the_learner_facing_core_is_exported():
    core = {"Gateway", "SimulatedBank", "BankProfile", "Reconciler", "AutoRefundSweeper",
            "WebhookDispatcher", "verify_signature", "PaymentStatus", "create_app"}  # fmt: skip
    assert core <= set(payments.__all__)


def test_generic_blocks_live_in_infra_not_payments():
    import razorlab.infra as infra

    blocks = {"RateLimiter", "BreakerRegistry", "MultiLevelCache", "HashRing", "LatencyBudget"}
    assert blocks <= set(infra.__all__)
    assert not blocks & set(payments.__all__), "one import path per name"


def test_merchants_create_prints_keys_as_json(tmp_path):
    db = tmp_path / "pay.db"
    out = subprocess.run(
        [sys.executable, "-m", "razorlab.cli", "merchants", "create", "--name", "Acme",
         "--db", str(db)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    keys = json.loads(out.stdout)
    assert set(keys) >= {"merchant_id", "key_id", "key_secret"}
    assert keys["merchant_id"].startswith("mer_") and db.exists()
