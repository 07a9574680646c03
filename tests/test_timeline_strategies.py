"""Push, pull and hybrid timelines are three caches of one truth: they must agree."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import NotFoundError, ValidationError
from razorlab.social.timelines.strategies import Timelines
from razorlab.social.timelines.tweets import NotAuthor, TweetTooLong

N_USERS = 6
DAY_S = 86_400


def _service(kind: str, cap: int = 5) -> Timelines:
    options = {"celebrity_followers": 2, "inactive_after_s": 3 * DAY_S} if kind == "hybrid" else {}
    return Timelines.create(kind, N_USERS, cap=cap, **options)


user = st.integers(0, N_USERS - 1)
action = st.one_of(
    st.tuples(st.just("follow"), user, user),
    st.tuples(st.just("unfollow"), user, user),
    st.tuples(st.just("post"), user, st.just(0)),
    st.tuples(st.just("retweet"), user, st.integers(1, 40)),
    st.tuples(st.just("delete"), user, st.integers(1, 40)),
    st.tuples(st.just("read"), user, st.integers(1, 5)),
    st.tuples(st.just("sleep"), st.integers(0, 2 * DAY_S), st.just(0)),
)


def _apply(service: Timelines, op: tuple) -> object:
    kind, a, b = op
    try:
        if kind == "follow":
            service.follow(a, b)
        elif kind == "unfollow":
            service.unfollow(a, b)
        elif kind == "post":
            return service.post(a, f"tweet by {a}").id
        elif kind == "retweet":
            return service.retweet(a, b).id
        elif kind == "delete":
            service.delete(a, b)
        elif kind == "read":
            return [t.id for t in service.home(a, b)]
        else:
            service.strategy.clock.advance(a)
    except (ValidationError, NotFoundError, NotAuthor) as err:
        return type(err).__name__
    return None


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(action, max_size=60))
def test_all_strategies_return_the_same_timelines(ops):
    services = {kind: _service(kind) for kind in ("pull", "push", "hybrid")}
    for op in ops:
        results = {kind: _apply(s, op) for kind, s in services.items()}
        assert results["push"] == results["pull"], (op, results)
        assert results["hybrid"] == results["pull"], (op, results)
    for reader in range(N_USERS):
        final = {kind: _apply(s, ("read", reader, 5)) for kind, s in services.items()}
        assert final["push"] == final["pull"] == final["hybrid"]


@pytest.mark.parametrize("kind", ["pull", "push", "hybrid"])
def test_deleted_tweets_and_their_retweets_disappear(kind):
    service = _service(kind)
    service.follow(1, 0)
    service.follow(1, 2)
    original = service.post(0, "soon gone")
    service.retweet(2, original.id)
    kept = service.post(2, "stays")
    service.delete(0, original.id)
    assert [t.id for t in service.home(1, 5)] == [kept.id]


@pytest.mark.parametrize("kind", ["pull", "push", "hybrid"])
def test_home_is_the_timeline_service_ids_hydrated(kind):
    service = _service(kind)
    service.follow(1, 0)
    service.home(1, 1)
    posted = [service.post(0, f"tweet {i}").id for i in range(3)]
    assert service.home_ids(1, 5) == posted[::-1]
    assert service.home(1, 5) == service.hydrate(posted[::-1])


@pytest.mark.parametrize("kind", ["push", "hybrid"])
def test_home_timelines_never_exceed_the_cap(kind):
    service = _service(kind, cap=3)
    service.follow(1, 0)
    service.home(1, 1)  # the hybrid pushes only to readers it has seen
    for i in range(10):
        service.post(0, f"tweet {i}")
    assert max(service.strategy.entries(u) for u in range(N_USERS)) == 3
    assert len(service.home(1, 3)) == 3


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda s: s.post(0, "x" * 281), TweetTooLong, "TWEET_TOO_LONG"),
        (lambda s: s.post(0, "   "), ValidationError, "BAD_REQUEST_ERROR"),
        (lambda s: s.follow(1, 1), ValidationError, "BAD_REQUEST_ERROR"),
        (lambda s: s.follow(1, 99), NotFoundError, "USER_NOT_FOUND"),
        (lambda s: s.post(99, "hi"), NotFoundError, "USER_NOT_FOUND"),
        (lambda s: s.home(99), NotFoundError, "USER_NOT_FOUND"),
        (lambda s: s.home(0, 0), ValidationError, "BAD_REQUEST_ERROR"),
        (lambda s: s.home_ids(99), NotFoundError, "USER_NOT_FOUND"),
        (lambda s: s.home_ids(0, 801), ValidationError, "BAD_REQUEST_ERROR"),
        (lambda s: s.retweet(0, 12345), NotFoundError, "TWEET_NOT_FOUND"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(call, error, code):
    service = _service("push")
    with pytest.raises(error) as err:
        call(service)
    assert err.value.code == code
    assert len(service.store) == 0
    assert service.graph.edge_count() == 0


def test_280_characters_fit_and_are_counted_after_normalisation():
    service = _service("pull")
    assert service.post(0, "é" * 280).text  # precomposed
    assert service.post(0, "e\u0301" * 280).text  # e + combining accent, NFC-composed to é


def test_only_the_author_can_delete():
    service = _service("pull")
    tweet = service.post(0, "mine")
    with pytest.raises(NotAuthor):
        service.delete(1, tweet.id)


@pytest.mark.parametrize("kind", ["push", "hybrid"])
def test_a_truncated_timeline_short_after_deletes_is_rebuilt(kind):
    service = _service(kind, cap=3)
    service.follow(1, 0)
    service.home(1, 1)
    tweets = [service.post(0, f"tweet {i}") for i in range(5)]
    for tweet in tweets[-2:]:
        service.delete(0, tweet.id)
    assert [t.id for t in service.home(1, 3)] == [t.id for t in reversed(tweets[:3])]
    assert service.strategy.counters.rebuilds >= 1


def test_a_backfill_into_a_full_timeline_counts_the_entries_it_wrote():
    service = _service("push", cap=3)
    for i in range(3):
        service.post(2, f"old {i}")
    service.follow(1, 2)
    newer = [service.post(0, f"new {i}") for i in range(2)]
    writes = service.strategy.counters.timeline_writes
    service.follow(1, 0)  # two newer tweets push two old ones out of the full timeline
    assert service.strategy.counters.timeline_writes - writes == 2
    assert [t.id for t in service.home(1, 2)] == [t.id for t in reversed(newer)]
