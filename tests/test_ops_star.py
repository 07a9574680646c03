"""The STAR reviewer asks for own actions, numbers and learning — and nothing else."""

import pytest

from razorlab.errors import ValidationError
from razorlab.ops import StarStory, review

GOOD = StarStory(
    situation="Our 12-person team ran a payment monolith at 3K TPS with weekly outages.",
    task="I had 6 months to move refunds and settlements out without downtime.",
    action=(
        "I mapped the dependency graph, chose to extract settlements first because nothing "
        "called it, and I set up shadow traffic with response diffing. When diffs hit 0.4% "
        "I paused the ramp and paired with the ledger team to fix rounding."
    ),
    result="Both services went live with zero customer-visible errors; p99 fell 180 to 90 ms.",
    learning="I learned to budget a week per phase for diff triage.",
)


def test_a_complete_story_passes():
    assert review(GOOD) == []
    assert GOOD.markdown().startswith("**Situation.**")


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"action": "We migrated it and we tested it carefully. " * 3}, "what *you* did"),
        ({"result": "It went well and everyone was happy."}, "quantify"),
        ({"situation": "A big system.", "task": "Migrate it."}, "scale"),
        ({"learning": ""}, "learned"),
    ],
)
def test_each_gap_gets_its_hint(change, hint):
    story = StarStory(**(GOOD.__dict__ | change))
    assert any(hint in note for note in review(story))


def test_empty_parts_are_refused():
    with pytest.raises(ValidationError, match="action"):
        StarStory("s", "t", "  ", "r")
