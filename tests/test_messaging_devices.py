"""Several devices per user (WhatsApp's multi-device): each device gets every message once, in
order, from its own durable cursor; a sender's other devices see what she sent; ticks need any
one device; at most a primary and four linked devices; a device replaces only itself."""

import asyncio

import aiohttp
import pytest

from razorlab.errors import RazorlabError
from razorlab.social.messaging import (
    CLOSE_REPLACED,
    CLOSE_TOO_MANY_DEVICES,
    CLOSE_UNLINKED,
    DEVICE_IDLE_S,
    MAX_DEVICES,
    ChatClient,
    start_chat_server,
)

USERS = {"asha": "asha-token", "ben": "ben-token", "chen": "chen-token"}


async def _devices(url: str, names: list[str], token: str = "asha-token") -> list[ChatClient]:
    return [await ChatClient.connect(url, token, device=name) for name in names]


async def _close(*clients: ChatClient) -> None:
    for client in clients:
        await client.close()


@pytest.mark.parametrize("count", [2, 3])
async def test_every_device_gets_every_message_once_and_in_order(tmp_path, clock, count):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        devices = await _devices(srv.url, ["phone", "laptop", "tablet"][:count])
        ben = await ChatClient.connect(srv.url, "ben-token")
        try:
            dm = (await ben.direct("asha"))["chat"]
            group = (await ben.group("trip", ["asha", "chen"]))["chat"]
            sent = [f"m{i}" for i in range(12)]
            for i, text in enumerate(sent):
                await ben.send(group if i % 3 == 0 else dm, text)
            for device in devices:
                await device.wait_until(lambda c: len(c.messages) == len(sent))
                await device.ping()  # settles the acks; any duplicate would have arrived first
                assert device.texts() == sent, device.device
                assert device.redeliveries == 0, device.device
                seqs = [m["seq"] for m in device.messages if m["chat"] == dm]
                assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
            assert len(srv.server.devices["asha"]) == count
            assert await srv.store.pending_count("asha") == 0, "every device acknowledged"
        finally:
            await _close(*devices, ben)


async def test_a_device_that_was_offline_gets_its_own_backlog(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        phone, laptop = await _devices(srv.url, ["phone", "laptop"])
        ben = await ChatClient.connect(srv.url, "ben-token")
        try:
            dm = (await ben.direct("asha"))["chat"]
            await ben.send(dm, "both see this")
            for device in (phone, laptop):
                await device.wait_until(lambda c: len(c.messages) == 1)
                await device.ping()
            await laptop.close()
            for i in range(3):
                await ben.send(dm, f"while the laptop is shut {i}")
            await phone.wait_until(lambda c: len(c.messages) == 4)
            await phone.ping()
            assert await srv.store.pending_count("asha", "phone") == 0
            assert await srv.store.pending_count("asha", "laptop") == 3, "kept for the laptop"
            assert srv.server.stats["wake_pushes"] == 0, "asha still had a device online"
            welcome = await laptop.reconnect()
            assert welcome["pending"] == 3
            await laptop.wait_until(lambda c: len(c.messages) == 4)
            await laptop.ping()
            assert laptop.texts() == phone.texts()
            assert laptop.redeliveries == 0, "what the laptop acknowledged does not come again"
            assert await srv.store.pending_count("asha") == 0, "dequeued once both have it"
        finally:
            await _close(phone, laptop, ben)


async def test_what_one_device_sends_appears_on_the_users_other_devices(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        phone, laptop, tablet = await _devices(srv.url, ["phone", "laptop", "tablet"])
        ben = await ChatClient.connect(srv.url, "ben-token")
        try:
            await tablet.close()  # offline: gets the sync on reconnect
            dm = (await phone.direct("ben"))["chat"]
            await phone.send(dm, "sent from my phone")
            await laptop.send(dm, "and this from the laptop")
            await ben.wait_until(lambda c: len(c.messages) == 2)
            await laptop.wait_until(lambda c: c.texts() == ["sent from my phone"])
            await phone.wait_until(lambda c: c.texts() == ["and this from the laptop"])
            assert phone.messages[0]["sender"] == "asha", "her own message, from her other device"
            await tablet.reconnect()
            await tablet.wait_until(lambda c: len(c.messages) == 2)
            assert tablet.texts() == ["sent from my phone", "and this from the laptop"]
            for device in (phone, laptop, tablet):
                await device.ping()
                assert device.redeliveries == 0
            assert await srv.store.pending_count("asha") == 0
        finally:
            await _close(phone, laptop, tablet, ben)


async def test_ticks_need_one_device_and_a_device_acks_only_what_it_got(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        ben = await ChatClient.connect(srv.url, "ben-token")
        (phone,) = await _devices(srv.url, ["phone"])
        try:
            dm = (await ben.direct("asha"))["chat"]
            await ben.send(dm, "before the laptop was linked")
            await ben.wait_until(lambda c: c.message_status.get((dm, 1)) == "delivered")
            (laptop,) = await _devices(srv.url, ["laptop"])
            with pytest.raises(RazorlabError) as err:
                await laptop.read(dm, 1)  # the phone got it; this device never did
            assert err.value.code == "NOT_DELIVERED"
            await ben.send(dm, "after")
            await laptop.wait_until(lambda c: len(c.messages) == 1)
            assert laptop.texts() == ["after"], "a linked device starts from its linking"
            assert [m["text"] for m in (await laptop.history(dm))["messages"]] == [
                "before the laptop was linked",
                "after",
            ], "the past is there to page through"
            await laptop.read(dm, 2)  # read on any device: blue ticks
            await ben.wait_until(lambda c: c.message_status.get((dm, 2)) == "read")
            assert ben.message_status[(dm, 1)] == "read", "a read covers the chat up to seq"
        finally:
            await _close(ben, phone, laptop)


async def test_the_sixth_device_is_refused_with_a_typed_error_and_close_code(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        names = ["phone", *(f"linked-{i}" for i in range(1, MAX_DEVICES))]
        devices = await _devices(srv.url, names)
        try:
            assert MAX_DEVICES == 5, "WhatsApp: the phone and four linked devices"
            with pytest.raises(RazorlabError) as err:
                await ChatClient.connect(srv.url, "asha-token", device="one-too-many")
            assert (err.value.code, err.value.field) == ("TOO_MANY_DEVICES", "device")
            async with aiohttp.ClientSession() as session, session.ws_connect(srv.url) as ws:
                await ws.send_json({"op": "auth", "token": "asha-token", "device": "six"})
                assert (await ws.receive_json())["error"]["code"] == "TOO_MANY_DEVICES"
                closing = await ws.receive(timeout=10)
                assert closing.type == aiohttp.WSMsgType.CLOSE
                assert (
                    ws.close_code == CLOSE_TOO_MANY_DEVICES and "too many devices" in closing.extra
                )
            assert len(srv.server.devices["asha"]) == MAX_DEVICES, "nobody was kicked"
            assert all([(await d.ping())["op"] == "pong" for d in devices])
            await devices[0].close()
            await devices[0].reconnect()  # a known device may always come back
            assert (await devices[0].ping())["op"] == "pong"
        finally:
            await _close(*devices)


async def test_a_device_reconnecting_replaces_only_its_own_old_connection(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        phone, laptop = await _devices(srv.url, ["phone", "laptop"])
        ben = await ChatClient.connect(srv.url, "ben-token")
        (phone_again,) = await _devices(srv.url, ["phone"])
        try:
            assert await phone.wait_closed() == CLOSE_REPLACED
            assert laptop.connected and (await laptop.ping())["op"] == "pong"
            assert set(srv.server.devices["asha"]) == {"phone", "laptop"}
            dm = (await ben.direct("asha"))["chat"]
            await ben.send(dm, "hello both")
            for device in (phone_again, laptop):
                await device.wait_until(lambda c: c.texts() == ["hello both"])
        finally:
            await _close(phone, laptop, ben, phone_again)


async def test_per_device_cursors_survive_a_server_restart(tmp_path, clock):
    db = str(tmp_path / "chat.db")
    srv = await start_chat_server(db, clock=clock, users=USERS)
    phone, laptop = await _devices(srv.url, ["phone", "laptop"])
    ben = await ChatClient.connect(srv.url, "ben-token")
    try:
        dm = (await ben.direct("asha"))["chat"]
        await ben.send(dm, "m1")
        for device in (phone, laptop):
            await device.wait_until(lambda c: len(c.messages) == 1)
            await device.ping()
        await laptop.close()
        await ben.send(dm, "m2")
        await phone.wait_until(lambda c: len(c.messages) == 2)
        await phone.ping()
        await srv.stop()
        assert await phone.wait_closed() == 1001

        srv = await start_chat_server(db, clock=clock)
        fresh_phone, fresh_laptop = await _devices(srv.url, ["phone", "laptop"])
        await _close(phone, laptop)
        phone, laptop = fresh_phone, fresh_laptop  # new processes: nothing remembered locally
        await ben.reconnect(srv.url)
        await ben.send(dm, "m3")
        await laptop.wait_until(lambda c: len(c.messages) == 2)
        await phone.wait_until(lambda c: len(c.messages) == 1)
        assert laptop.texts() == ["m2", "m3"], "the laptop's cursor was at m1"
        assert phone.texts() == ["m3"], "the phone's cursor was at m2"
    finally:
        await _close(phone, laptop, ben)
        await srv.stop()


async def test_unlinking_a_device_frees_what_only_it_was_owed_and_closes_it(tmp_path, clock):
    async with await start_chat_server(str(tmp_path / "c.db"), clock=clock, users=USERS) as srv:
        phone, laptop = await _devices(srv.url, ["phone", "laptop"])
        ben = await ChatClient.connect(srv.url, "ben-token")
        try:
            dm = (await ben.direct("asha"))["chat"]
            await laptop.close()
            for i in range(3):
                await ben.send(dm, f"m{i}")
            await phone.wait_until(lambda c: len(c.messages) == 3)
            await phone.ping()  # the phone's acks are in
            assert await srv.store.pending_count("asha") == 3, "kept for the absent laptop"
            assert (await phone.unlink("laptop"))["device"] == "laptop"
            assert await srv.store.pending_count("asha") == 0, "nobody else was owed them"
            assert list(await srv.store.devices("asha")) == ["phone"]
            with pytest.raises(RazorlabError, match="only device") as err:
                await phone.unlink("phone")
            assert err.value.code == "LAST_DEVICE"
            with pytest.raises(RazorlabError) as err:
                await phone.unlink("tablet")
            assert err.value.code == "UNKNOWN_DEVICE"
            tablet = await ChatClient.connect(srv.url, "asha-token", device="tablet")
            assert (await phone.unlink("tablet"))["op"] == "unlinked"
            assert await tablet.wait_closed() == CLOSE_UNLINKED
            await ben.send(dm, "after")
            await phone.wait_until(lambda c: len(c.messages) == 4)
        finally:
            await _close(phone, ben)


async def test_a_device_idle_for_30_days_is_unlinked_but_never_the_last(tmp_path, clock):
    # the jump of 30 days must not also drop the silent phone for a missed heartbeat (the
    # sweeper wakes on the same clock): that is another test's subject
    async with await start_chat_server(
        str(tmp_path / "c.db"), clock=clock, users=USERS, heartbeat_timeout_s=10 * DEVICE_IDLE_S
    ) as srv:
        phone, laptop = await _devices(srv.url, ["phone", "laptop"])
        chen = await ChatClient.connect(srv.url, "chen-token")
        clock.advance(1)
        await _close(laptop, chen)  # chen's only device: idle, but it owns her inbox
        while (await srv.store.devices("asha"))["laptop"] < 1 or (await srv.store.devices("chen"))[
            "primary"
        ] < 1:
            await asyncio.sleep(0.01)  # the server has recorded both leaving (at t = 1)
        clock.advance(DEVICE_IDLE_S - 1)
        assert await srv.server.unlink_idle_devices() == []
        clock.advance(2)
        try:
            assert await srv.server.unlink_idle_devices() == [("asha", "laptop")]
            assert list(await srv.store.devices("asha")) == ["phone"], "connected: kept"
            assert list(await srv.store.devices("chen")) == ["primary"]
        finally:
            await phone.close()
