"""STAR stories for behavioural interviews, with a reviewer that says what is missing.

Scenario: "tell me about a time you led a risky migration." Good answers follow
Situation, Task, Action, Result, and interviewers listen for three things the seed's
tips only name: the candidate's *own* actions ("I", not only "we"), concrete
numbers, and what was learned. The reviewer checks for exactly those, by simple
text rules a learner can read and argue with — it is a checklist, not a judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from razorlab.errors import ValidationError

__all__ = ["StarStory", "review"]

MAX_WORDS = 350  # about two and a half minutes spoken
_NUMBER = re.compile(r"\d")
_I = re.compile(r"\b(I|I'm|I've|my)\b")
_WE = re.compile(r"\b(we|our|us)\b", re.IGNORECASE)
_LEARNING = re.compile(r"\b(learn\w*|next time|would now|changed how|lesson)\b", re.IGNORECASE)


@dataclass(frozen=True)
class StarStory:
    situation: str
    task: str
    action: str
    result: str
    learning: str = ""

    def __post_init__(self) -> None:
        for part in ("situation", "task", "action", "result"):
            text = getattr(self, part)
            if not isinstance(text, str) or not text.strip():
                raise ValidationError(f"the {part} of a STAR story cannot be empty", field=part)

    @property
    def words(self) -> int:
        return sum(
            len(p.split())
            for p in (self.situation, self.task, self.action, self.result, self.learning)
        )

    def markdown(self) -> str:
        parts = [
            ("Situation", self.situation),
            ("Task", self.task),
            ("Action", self.action),
            ("Result", self.result),
            ("Learning", self.learning),
        ]
        return "\n\n".join(f"**{name}.** {text.strip()}" for name, text in parts if text.strip())


def review(story: StarStory) -> list[str]:
    """Concrete improvements, empty when the story passes every check."""
    notes = []
    if not _I.search(story.action):
        notes.append("Action: say what *you* did (use 'I'), not only what the team did.")
    elif len(_WE.findall(story.action)) > 2 * len(_I.findall(story.action)):
        notes.append("Action: mostly 'we'; make your own decisions and trade-offs visible.")
    if not _NUMBER.search(story.result):
        notes.append("Result: quantify it (latency, error rate, money, time saved).")
    if not _NUMBER.search(story.situation + story.task):
        notes.append("Situation/Task: give the scale (users, TPS, team size, deadline).")
    if not _LEARNING.search(story.learning + " " + story.result):
        notes.append("Add what you learned or would do differently next time.")
    if story.words > MAX_WORDS:
        notes.append(f"Too long ({story.words} words); aim for under {MAX_WORDS}.")
    if len(story.action.split()) < len(story.situation.split()):
        notes.append("Action is shorter than Situation; spend most of the time on Action.")
    return notes
