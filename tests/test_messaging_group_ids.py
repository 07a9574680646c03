"""Server-generated group ids cannot be squatted by a client naming one itself."""

import pytest

from razorlab.errors import ValidationError
from razorlab.social.messaging import ChatStore


async def test_a_client_cannot_take_a_server_group_id_and_ids_keep_coming(clock):
    async with await ChatStore.open(":memory:", clock) as store:
        for user in ("asha", "ben"):
            await store.register(user, f"{user}-token")
        with pytest.raises(ValidationError, match="server's to give") as err:
            await store.create_group("asha", "squat", ["ben"], chat_id="group-2")
        assert err.value.field == "chat"
        assert (await store.create_group("asha", "named", ["ben"], chat_id="goa-trip")).chat_id
        ids = [(await store.create_group("asha", f"g{i}", ["ben"])).chat_id for i in range(3)]
        assert len(set(ids)) == 3 and all(i.startswith("group-") for i in ids)
