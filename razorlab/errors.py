"""Typed errors shared by every engine.

Every error a learner or an API client can cause carries a stable machine-readable
``code``, a human ``description`` and, when one input is to blame, the ``field``.
The HTTP layers turn them into JSON bodies shaped like Razorpay's
``{"error": {"code", "description", "field"}}`` without a lookup table per engine:
the status code travels with the error class.
"""

from __future__ import annotations

__all__ = [
    "RazorlabError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "StateError",
]


class RazorlabError(Exception):
    """Base of all errors razorlab raises on purpose."""

    code = "BAD_REQUEST_ERROR"
    http_status = 400

    def __init__(self, description: str, *, field: str | None = None, code: str | None = None):
        super().__init__(description)
        self.description = description
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        """The JSON error body an API returns for this error."""
        return {"code": self.code, "description": self.description, "field": self.field}


class ValidationError(RazorlabError, ValueError):
    """Input that can never be valid, whatever the state: fix the request."""


class NotFoundError(RazorlabError, LookupError):
    """A referenced entity does not exist (or is not visible to the caller)."""

    code = "NOT_FOUND"
    http_status = 404


class ConflictError(RazorlabError):
    """The request is valid but collides with concurrent or earlier work."""

    code = "CONFLICT"
    http_status = 409


class StateError(RazorlabError):
    """The entity exists but its current state does not allow the operation."""

    code = "INVALID_STATE"
    http_status = 422
