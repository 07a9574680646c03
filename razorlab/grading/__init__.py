"""Exercises and grading: learner self-checks now, instructor tooling alongside."""

from razorlab.grading.selfcheck import Checker, Feedback, near, question

__all__ = ["Checker", "Feedback", "near", "question"]
