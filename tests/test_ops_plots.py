"""Figure helpers build deterministic, compact figures from engine output."""

from razorlab.ops import Incident, MigrationSimulator, NewService, demo_monolith, respond
from razorlab.ops.plots import burn_rate_figure, downtime_figure, migration_figure, signals_figure


def test_migration_figure_marks_each_rollback():
    run = MigrationSimulator(demo_monolith(), {"payments": NewService(capacity_pct=20)}).run()
    fig = migration_figure(run)
    assert len(fig.data) == 4  # three phases that ran + the error-rate markers
    rollback_lines = [s for s in fig.layout.shapes if s.line.color == "#D55E00"]
    assert len(rollback_lines) == 2 * len(run.rollbacks)  # one per panel


def test_incident_figures_are_repeatable():
    a = respond(Incident("bank_outage", seed=1))
    b = respond(Incident("bank_outage", seed=1))
    assert signals_figure(a).to_json() == signals_figure(b).to_json()
    fig = burn_rate_figure(a)
    assert [t.name for t in fig.data][:2] == ["long window (60 min)", "short window (5 min)"]
    assert {ann.text for ann in fig.layout.annotations} >= {"impact", "detected", "resolved"}


def test_downtime_figure_has_a_bar_per_level_and_period():
    fig = downtime_figure((0.999, 0.9999))
    assert [list(t.y) for t in fig.data] == [[525.6, 52.56], [43.2, 4.32]]
    assert list(fig.data[0].x) == ["99.9%", "99.99%"], "levels labelled without trailing zeros"
