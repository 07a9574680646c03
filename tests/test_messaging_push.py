"""Push notifications only for recipients with no connected device; a second login is told it was replaced."""

from razorlab.social.messaging import ChatClient, start_chat_server
from razorlab.social.messaging.connection import CLOSE_REPLACED

USERS = {"asha": "asha-token", "ben": "ben-token", "chen": "chen-token"}


async def test_only_offline_recipients_need_a_wake_up_push(tmp_path):
    async with await start_chat_server(str(tmp_path / "chat.db"), users=USERS) as srv:
        asha = await ChatClient.connect(srv.url, USERS["asha"])
        ben = await ChatClient.connect(srv.url, USERS["ben"])
        chen = await ChatClient.connect(srv.url, USERS["chen"])
        await asha.group("trip", ["ben", "chen"], chat="trip")
        await asha.send("trip", "everyone online")
        await ben.wait_until(lambda c: len(c.messages) == 1)
        assert srv.server.stats["wake_pushes"] == 0, "online members get the socket, not a push"
        await chen.close()
        await asha.send("trip", "chen is offline", client_id="c-2")
        await asha.send("trip", "chen is offline", client_id="c-2")  # a retry: no second push
        await ben.wait_until(lambda c: len(c.messages) == 2)
        assert srv.server.stats["wake_pushes"] == 1, "one push, for the one offline member"
        for client in (asha, ben):
            await client.close()


async def test_a_second_login_closes_the_first_with_a_reason(tmp_path):
    async with await start_chat_server(str(tmp_path / "chat.db"), users=USERS) as srv:
        phone = await ChatClient.connect(srv.url, USERS["asha"])
        laptop = await ChatClient.connect(srv.url, USERS["asha"])
        assert await phone.wait_closed() == CLOSE_REPLACED, "never replaced silently"
        assert srv.server.connections["asha"] is not None
        await laptop.close()
