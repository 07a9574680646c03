"""Messaging (WhatsApp scenario): the vocabulary — users, chats, messages, receipts, errors.

Scenario: two billion people send about 100 billion messages a day (WhatsApp, 2020), each
shown once, in order, with one tick when the server has it, two when it reached the phone,
blue when it was read. This module holds the rules that need no I/O; the durable store
(``store``) and the WebSocket server (``server``) enforce them.

Design note — the invariants:

* **Order is per chat.** Every message gets ``seq`` = the chat's previous ``seq`` + 1, assigned
  by the store in the same transaction that saves it. Wall-clock timestamps cannot order
  messages (two in one millisecond, clocks that jump); a counter per chat can, and it is all
  a conversation needs — there is no global order to pay for.
* **Retries are idempotent.** The phone names each message with its own ``client_id`` before
  sending. A retry after a lost acknowledgement carries the same id, and the store returns the
  message it already has instead of saving a second copy.
* **Receipts only move forward**: sent → delivered → read. A late "delivered" after "read"
  changes nothing. In a group each recipient has their own status, and the message as a whole
  is delivered (read) only when every recipient's is — the lowest status wins (WhatsApp's rule,
  see ``/work/shared/references.md``).
* **A user has devices, not a device**: one primary (the phone) and up to
  :data:`MAX_LINKED_DEVICES` linked ones (WhatsApp Help Center, "About linked devices": "up to
  four linked devices at a time" besides the primary phone; each device has its own keys and
  its own copy of every message). Each device gets every message once, in order, from its own
  cursor; a tick turns grey-double when *any* of the recipient's devices has the message and
  blue when any has read it (``/work/shared/references.md``: "delivered (to any device)").
* **Groups are bounded**: at most :data:`MAX_GROUP_MEMBERS` members (the seed's 256; WhatsApp
  raised it to 512 in 2022 and later 1,024), because every message is stored once per member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum

from razorlab.errors import NotFoundError, RazorlabError, StateError, ValidationError

__all__ = [
    "MAX_GROUP_MEMBERS",
    "MAX_TEXT_CHARS",
    "MAX_CLIENT_ID_CHARS",
    "MAX_SEQ",
    "MAX_LINKED_DEVICES",
    "MAX_DEVICES",
    "DEFAULT_DEVICE",
    "Status",
    "Chat",
    "Message",
    "AuthError",
    "GroupFullError",
    "NotAMemberError",
    "NotAdminError",
    "NotDeliveredError",
    "TooManyDevicesError",
    "UnknownChatError",
    "UnknownUserError",
    "direct_chat_id",
    "message_status",
    "DEVICE_IDLE_S",
    "LastDeviceError",
    "UnknownDeviceError",
    "validate_user_id",
    "validate_chat_id",
    "validate_device_id",
    "validate_text",
    "validate_client_id",
    "validate_seq",
]

MAX_GROUP_MEMBERS = 256  # members per group, creator included (the seed's figure)
MAX_TEXT_CHARS = 4_096  # characters per message: our limit, keeps one frame small
MAX_CLIENT_ID_CHARS = 64  # characters in a client-generated message id
MAX_SEQ = 2**62  # largest seq a request may name (SQLite integers are 64-bit signed)
MAX_LINKED_DEVICES = 4  # WhatsApp: up to four linked devices besides the phone
MAX_DEVICES = 1 + MAX_LINKED_DEVICES  # the primary device (the first one) and the linked ones
DEFAULT_DEVICE = "primary"  # the device id of a client that names none (one device per user)
#: A device not connected for this long is unlinked (WhatsApp Help Center, "About linked
#: devices": a linked device is logged out after about 30 days of inactivity); never the user's
#: last device, which keeps her inbox.
DEVICE_IDLE_S = 30 * 86_400
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Status(IntEnum):
    """Where a message is for one recipient. Integer order is the only allowed direction."""

    SENT = 1  # stored by the server (one tick)
    DELIVERED = 2  # the recipient's device acknowledged it (two ticks)
    READ = 3  # the recipient opened the chat (blue ticks)

    @property
    def label(self) -> str:
        return self.name.lower()


class AuthError(RazorlabError):
    """No valid token: the connection may do nothing but authenticate."""

    code = "UNAUTHORIZED"
    http_status = 401


class GroupFullError(StateError):
    """The group already holds :data:`MAX_GROUP_MEMBERS` members."""

    code = "GROUP_FULL"


class NotAMemberError(StateError):
    """The user is not in this chat, so may not send to it, read it or acknowledge it."""

    code = "NOT_A_MEMBER"
    http_status = 403


class NotAdminError(StateError):
    """Only a group admin may change its membership."""

    code = "NOT_ADMIN"
    http_status = 403


class NotDeliveredError(StateError):
    """An ack or read names a message this device was never given: no tick for it."""

    code = "NOT_DELIVERED"
    http_status = 409


class TooManyDevicesError(StateError):
    """The user already has :data:`MAX_DEVICES` devices; a new device id is refused."""

    code = "TOO_MANY_DEVICES"


class UnknownDeviceError(NotFoundError):
    """The user has no device by that id (never linked, or already unlinked)."""

    code = "UNKNOWN_DEVICE"


class LastDeviceError(StateError):
    """Unlinking it would leave the user with no device, and her inbox with no owner."""

    code = "LAST_DEVICE"


class UnknownChatError(NotFoundError):
    code = "UNKNOWN_CHAT"


class UnknownUserError(NotFoundError):
    code = "UNKNOWN_USER"


@dataclass(frozen=True)
class Chat:
    """A 1:1 chat (``kind="direct"``) or a group, with its members and admins."""

    chat_id: str
    kind: str
    name: str
    members: tuple[str, ...]
    admins: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "chat": self.chat_id,
            "kind": self.kind,
            "name": self.name,
            "members": list(self.members),
            "admins": list(self.admins),
        }


@dataclass(frozen=True)
class Message:
    """One stored message; ``(chat_id, seq)`` is its identity and its place in the chat."""

    chat_id: str
    seq: int
    sender: str
    client_id: str
    text: str
    sent_at: float
    status: Status = Status.SENT  # for the whole message: the lowest recipient status
    statuses: dict[str, Status] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "chat": self.chat_id,
            "seq": self.seq,
            "sender": self.sender,
            "client_id": self.client_id,
            "text": self.text,
            "sent_at": self.sent_at,
            "status": self.status.label,
        }


def message_status(statuses: dict[str, Status] | list[Status]) -> Status:
    """A message's overall status: the lowest of its recipients' (all must have read it)."""
    values = list(statuses.values()) if isinstance(statuses, dict) else list(statuses)
    return min(values, default=Status.SENT)


def direct_chat_id(a: str, b: str) -> str:
    """The one chat id two users share, whoever starts it: ``dm:<lower>:<higher>``."""
    a, b = validate_user_id(a), validate_user_id(b)
    if a == b:
        raise ValidationError("a direct chat needs two different users", field="user")
    low, high = sorted((a, b))
    return f"dm:{low}:{high}"


def _identifier(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(
            f"{field_name} must be 1-64 letters, digits, '_', '.' or '-', got {value!r}",
            field=field_name,
        )
    return value


def validate_user_id(value: object) -> str:
    return _identifier(value, "user")


def validate_chat_id(value: object) -> str:
    return _identifier(value, "chat")


def validate_device_id(value: object) -> str:
    return _identifier(value, "device")


def validate_client_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLIENT_ID_CHARS:
        raise ValidationError(
            f"client_id must be a string of 1-{MAX_CLIENT_ID_CHARS} characters, got {value!r}",
            field="client_id",
        )
    return value


def validate_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("text must be a non-empty string", field="text")
    if len(value) > MAX_TEXT_CHARS:
        raise ValidationError(
            f"text has {len(value):,} characters; at most {MAX_TEXT_CHARS:,} allowed",
            field="text",
        )
    return value


def validate_seq(value: object, field_name: str = "seq") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEQ:
        raise ValidationError(
            f"{field_name} must be an integer in 1..2**62, got {value!r}", field=field_name
        )
    return value
