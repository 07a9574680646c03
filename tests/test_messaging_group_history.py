"""A member added to a group reads its history from the moment they joined, not before."""

from razorlab.social.messaging import ChatStore


async def test_history_of_a_new_member_starts_at_joining(clock):
    async with await ChatStore.open(":memory:", clock) as store:
        for user in ("asha", "ben", "chen"):
            await store.register(user, f"{user}-token")
        group = (await store.create_group("asha", "trip", ["ben"])).chat_id
        await store.send("asha", group, "c1", "before chen: the surprise party")
        await store.send("ben", group, "c2", "before chen: don't tell her")
        await store.add_member("asha", group, "chen")
        await store.send("asha", group, "c3", "welcome chen!")
        page = await store.history("chen", group)
        assert [m.text for m in page.messages] == ["welcome chen!"]
        assert page.next_before is None, "nothing older is visible to chen"
        assert len((await store.history("ben", group)).messages) == 3, "old members see it all"
        assert [m.seq for _, m in await store.pending("chen")] == [3]


async def test_a_file_from_before_joined_seq_existed_is_upgraded(tmp_path, clock):
    import sqlite3

    path = tmp_path / "old.db"
    async with await ChatStore.open(str(path), clock) as store:
        await store.register("asha", "asha-token")
    con = sqlite3.connect(path)  # the members table as it was before joined_seq
    con.executescript(
        "DROP TABLE members; CREATE TABLE members (chat_id TEXT NOT NULL, user_id TEXT NOT NULL,"
        " is_admin INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (chat_id, user_id)) WITHOUT ROWID;"
    )
    con.close()
    async with await ChatStore.open(str(path), clock) as store:
        await store.register("ben", "ben-token")
        group = (await store.create_group("asha", "g", ["ben"])).chat_id
        await store.send("asha", group, "c1", "hi")
        assert [m.text for m in (await store.history("ben", group)).messages] == ["hi"]
