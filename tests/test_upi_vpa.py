"""VPA parsing: handle@psp rules, length and character set, case-insensitive."""

import pytest

from razorlab.upi.vpa import VPA_PATTERN, InvalidVpa, Vpa, parse_vpa


@pytest.mark.parametrize(
    ("text", "vpa"),
    [
        ("alice@okaxis", Vpa("alice", "okaxis")),
        ("  Alice.Rao-1_x@OKAXIS ", Vpa("alice.rao-1_x", "okaxis")),
        ("98765432@ybl", Vpa("98765432", "ybl")),
        ("ab@cd", Vpa("ab", "cd")),
    ],
)
def test_valid_vpas_are_normalised_to_lower_case(text, vpa):
    assert parse_vpa(text) == vpa
    assert VPA_PATTERN.fullmatch(text.strip())


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("alice", "exactly one '@'"),
        ("a@b@c", "exactly one '@'"),
        ("a@okaxis", "2-256 characters"),
        ("x" * 257 + "@okaxis", "2-256 characters"),
        ("al ice@okaxis", "' ' is not allowed"),
        ("alicé@okaxis", "'é' is not allowed"),
        ("alice@ok1", "letters"),
        ("alice@o", "letters"),
        ("alice@", "letters"),
        (42, "text"),
    ],
)
def test_bad_vpas_say_what_is_wrong(text, hint):
    with pytest.raises(InvalidVpa, match=hint) as info:
        parse_vpa(text)
    assert info.value.code == "INVALID_VPA" and info.value.http_status == 400
