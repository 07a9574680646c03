"""The messaging package's public names are pinned, and the CLI knows serve-chat."""

import pytest

import razorlab.social.messaging as messaging
from razorlab.cli import build_parser
from razorlab.errors import ValidationError
from razorlab.social.messaging.commands import parse_user

PUBLIC = {
    "start_chat_server", "RunningChatServer", "ChatServer", "ChatStore", "ChatClient",
    "Connection", "Presence", "Chat", "Message", "Receipt", "SendResult", "HistoryPage",
    "Status", "message_status", "AuthError", "GroupFullError", "NotAMemberError",
    "NotAdminError", "UnknownChatError", "UnknownUserError", "MAX_GROUP_MEMBERS",
    "SEND_BUFFER", "HEARTBEAT_TIMEOUT_S", "CLOSE_SLOW_CONSUMER", "CLOSE_HEARTBEAT_TIMEOUT",
    "CLOSE_REPLACED", "NotDeliveredError", "CLOSE_AUTH_TIMEOUT",
    "MAX_DEVICES", "TooManyDevicesError", "CLOSE_TOO_MANY_DEVICES",
    "DEVICE_IDLE_S", "LastDeviceError", "UnknownDeviceError", "CLOSE_UNLINKED",
}  # fmt: skip


def test_public_names_exist_and_are_pinned():
    assert set(messaging.__all__) == PUBLIC
    assert all(hasattr(messaging, name) for name in messaging.__all__)


def test_serve_chat_command_parses_its_options():
    args = build_parser().parse_args(
        ["serve-chat", "--port", "0", "--db", "x.db", "--user", "asha:secret-1"]
    )
    assert (args.port, args.db, args.user) == (0, "x.db", ["asha:secret-1"])
    assert parse_user("asha:secret-1") == ("asha", "secret-1")
    with pytest.raises(ValidationError):
        parse_user("asha")


def test_serve_chat_refuses_a_short_token_with_one_line(tmp_path, capsys):
    from razorlab.cli import main

    code = main(["serve-chat", "--port=0", f"--db={tmp_path / 'chat.db'}", "--user=asha:short"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("razorlab serve-chat: BAD_REQUEST_ERROR (token): ")
    assert "at least 8 characters" in err and "Traceback" not in err
