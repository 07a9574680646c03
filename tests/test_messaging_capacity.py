"""The fan-out model matches what the engine does; the seed's WhatsApp numbers are planned with units."""

import pytest

from razorlab.errors import ValidationError
from razorlab.social.messaging.capacity import (
    connection_servers,
    fanout_cost,
    fanout_table,
    whatsapp_estimates,
)
from razorlab.social.messaging.measure import measure_fanout


async def test_fanout_model_matches_frames_and_rows_counted_on_a_live_server():
    measured = await measure_fanout([2, 3, 6])
    model = fanout_table(measured.index)
    assert measured["frames"].tolist() == model["frames"].tolist()
    assert measured["rows"].tolist() == model["rows"].tolist()


def test_group_cost_grows_linearly_and_the_limit_is_enforced():
    assert fanout_cost(2)["frames"] == 7 and fanout_cost(256)["deliveries"] == 255
    with pytest.raises(ValidationError):
        fanout_cost(257)
    with pytest.raises(ValidationError):
        fanout_cost(1)


def test_seed_numbers_planned():
    table = whatsapp_estimates()
    assert table.loc["average messages/s", "value"] == "1,157,407"
    assert table.loc["storage per day (TB)", "value"] == "100"
    assert table.loc["chat servers for connections", "value"] == "450"
    assert connection_servers(2_280_001, per_server=2_280_000) == 2


def test_fanout_plot_has_model_lines_and_engine_dots():
    from razorlab.social.messaging.plots import fanout_cost_plot

    model = fanout_table(range(2, 10))
    fig = fanout_cost_plot(model, model.loc[[2, 4], ["frames", "rows"]])
    assert [t.mode for t in fig.data] == ["lines", "markers", "lines", "markers"]


def test_daily_fanout_mixes_one_to_one_and_group_costs():
    from razorlab.social.messaging.capacity import daily_fanout

    only_dm = daily_fanout(20, 0, messages_per_day=86_400e6)
    assert only_dm.iloc[0, 0] == "7M", "1M msgs/s of 1:1 chats: 7 frames each"
    assert only_dm.iloc[2, 0] == "7.0"
    half = daily_fanout(3, 50, messages_per_day=1e12)
    assert half.iloc[1, 0] == "4.0T", "(3 + 5) / 2 rows per message"
    with pytest.raises(ValidationError):
        daily_fanout(20, 101)
