"""Sockets must authenticate in time, and a full server refuses new ones clearly."""

import aiohttp

from razorlab.social.messaging import start_chat_server
from razorlab.social.messaging.connection import CLOSE_AUTH_TIMEOUT
from razorlab.social.messaging.server import (
    AUTH_TIMEOUT_S,
    CLOSE_TRY_AGAIN_LATER,
    MAX_CONNECTIONS,
    default_max_connections,
)

USERS = {"asha": "asha-token", "ben": "ben-token"}


async def test_a_socket_that_never_authenticates_is_closed_with_a_reason(clock):
    async with await start_chat_server(":memory:", clock=clock, users=USERS) as srv:
        async with aiohttp.ClientSession() as session:
            idle = await session.ws_connect(srv.url)
            trying = await session.ws_connect(srv.url)
            await trying.send_json({"op": "auth", "token": "wrong-guess", "ref": 1})
            assert (await trying.receive_json())["error"]["code"] == "UNAUTHORIZED"
            authed = await session.ws_connect(srv.url)
            await authed.send_json({"op": "auth", "token": "asha-token", "ref": 1})
            assert (await authed.receive_json())["op"] == "welcome"
            await clock.run_for(AUTH_TIMEOUT_S + 1)
            for ws in (idle, trying):
                closing = await ws.receive(timeout=10)
                assert closing.type == aiohttp.WSMsgType.CLOSE, closing
                assert ws.close_code == CLOSE_AUTH_TIMEOUT
                assert "authenticate within" in closing.extra
            await authed.send_json({"op": "ping", "ref": 2})
            assert (await authed.receive_json())["op"] == "pong", "authenticated sockets stay"
            await authed.close()
        assert srv.server.stats["auth_timeouts"] == 2


async def test_beyond_the_connection_cap_new_sockets_are_refused_and_old_ones_keep_working(clock):
    async with await start_chat_server(
        ":memory:", clock=clock, users=USERS, max_connections=2
    ) as srv:
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(srv.url)
            second = await session.ws_connect(srv.url)
            third = await session.ws_connect(srv.url)
            refused = await third.receive(timeout=10)
            assert refused.type == aiohttp.WSMsgType.CLOSE
            assert third.close_code == CLOSE_TRY_AGAIN_LATER and "try again later" in refused.extra
            await first.send_json({"op": "auth", "token": "asha-token", "ref": 1})
            assert (await first.receive_json())["op"] == "welcome"
            await second.close()
            again = await session.ws_connect(srv.url)  # a freed slot is usable again
            await again.send_json({"op": "auth", "token": "ben-token", "ref": 1})
            assert (await again.receive_json())["op"] == "welcome"
            await first.close()
            await again.close()
        assert srv.server.stats["refused:max_connections"] == 1


def test_the_default_cap_stays_below_the_file_limit():
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = default_max_connections()
    assert 1 <= cap <= MAX_CONNECTIONS
    assert soft == resource.RLIM_INFINITY or cap < soft, "accepting must not exhaust descriptors"
