"""Groups hold at most 256 members, only admins change membership, errors say why."""

import pytest

from razorlab.errors import ConflictError, RazorlabError, ValidationError
from razorlab.social.messaging import (
    MAX_GROUP_MEMBERS,
    ChatClient,
    ChatStore,
    GroupFullError,
    NotAdminError,
    NotAMemberError,
    UnknownChatError,
    UnknownUserError,
    start_chat_server,
)


@pytest.fixture
async def store(clock):
    store = await ChatStore.open(":memory:", clock)
    for i in range(MAX_GROUP_MEMBERS + 1):
        await store.register(f"u{i}", f"token-{i:04d}")
    yield store
    await store.close()


async def test_a_group_of_257_is_refused_and_nothing_is_stored(store):
    with pytest.raises(GroupFullError, match="at most 256") as err:
        await store.create_group("u0", "too big", [f"u{i}" for i in range(1, 257)])
    assert err.value.code == "GROUP_FULL"
    with pytest.raises(UnknownChatError):
        await store.chat("group-1")


async def test_a_full_group_refuses_one_more_member(store):
    group = await store.create_group("u0", "full", [f"u{i}" for i in range(1, 256)])
    assert len(group.members) == MAX_GROUP_MEMBERS and group.admins == ("u0",)
    with pytest.raises(GroupFullError, match="already has 256"):
        await store.add_member("u0", group.chat_id, "u256")


async def test_only_admins_add_members_and_non_members_cannot_send(store):
    group = await store.create_group("u0", "club", ["u1"])
    with pytest.raises(NotAdminError):
        await store.add_member("u1", group.chat_id, "u2")
    with pytest.raises(NotAMemberError):
        await store.send("u2", group.chat_id, "c1", "let me in")
    await store.add_member("u0", group.chat_id, "u2")
    with pytest.raises(ConflictError, match="already in"):
        await store.add_member("u0", group.chat_id, "u2")
    assert (await store.send("u2", group.chat_id, "c1", "thanks")).recipients == ("u0", "u1")
    await store.remove_member("u2", group.chat_id, "u2")
    assert (await store.send("u0", group.chat_id, "c1", "bye")).recipients == ("u1",)


async def test_bad_group_input_gets_typed_errors(store):
    with pytest.raises(UnknownUserError):
        await store.create_group("u0", "ghosts", ["nobody"])
    with pytest.raises(ValidationError, match="name"):
        await store.create_group("u0", " ", ["u1"])
    with pytest.raises(ValidationError, match="user"):
        await store.create_group("u0", "bad id", ["not a valid id!"])


async def test_group_errors_reach_the_client_as_typed_error_frames(tmp_path, clock):
    users = {f"u{i}": f"token-{i:04d}" for i in range(3)}
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=users) as srv:
        async with (
            await ChatClient.connect(srv.url, "token-0000") as admin,
            await ChatClient.connect(srv.url, "token-0001") as member,
        ):
            group = (await admin.group("club", ["u1"]))["chat"]
            with pytest.raises(RazorlabError) as err:
                await member.add_member(group, "u2")
            assert err.value.code == "NOT_ADMIN"
            assert (await admin.add_member(group, "u2"))["members"] == ["u0", "u1", "u2"]
            with pytest.raises(RazorlabError) as err:
                await admin.group("huge", [f"u{i}" for i in range(300)])
            assert err.value.code == "GROUP_FULL"
