"""What is due, and when to come back: the pure scheduling rules."""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.config import FetchConfig, SourceConfig
from aggregator.ingest import schedule
from aggregator.models import SourceState

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FETCH = FetchConfig(interval=1800, backoff_base=300, backoff_max=24 * 3600)


def source(sid="kazinform-ru", **kw):
    return SourceConfig(id=sid, name=sid, url=f"https://example.kz/{sid}.xml", **kw)


def state(sid="kazinform-ru", **kw):
    return SourceState(
        source_id=sid, url="https://example.kz/x", configured_url="https://example.kz/x", **kw
    )


class TestDue:
    def test_a_never_fetched_source_is_due(self):
        assert schedule.is_due(None, NOW)
        assert schedule.is_due(state(), NOW)

    def test_a_source_is_not_due_before_its_next_due_time(self):
        assert not schedule.is_due(state(next_due=NOW + timedelta(seconds=1)), NOW)
        assert schedule.is_due(state(next_due=NOW), NOW)

    def test_backoff_holds_a_source_even_when_its_schedule_says_due(self):
        s = state(next_due=NOW - timedelta(hours=1), backoff_until=NOW + timedelta(minutes=5))
        assert not schedule.is_due(s, NOW)

    def test_a_gone_source_is_never_due(self):
        assert not schedule.is_due(state(gone=True), NOW)

    def test_select_all_ignores_schedules_but_not_gone(self):
        sources = [source("a"), source("b"), source("c")]
        states = {
            "a": state("a", next_due=NOW + timedelta(hours=1)),
            "b": state("b", gone=True),
            "c": state("c", backoff_until=NOW + timedelta(hours=1)),
        }
        assert [s.id for s in schedule.select_due(sources, states, NOW)] == []
        chosen = schedule.select_due(sources, states, NOW, select_all=True)
        assert [s.id for s in chosen] == ["a", "c"]

    def test_naming_a_source_fetches_it_whatever_its_state(self):
        sources = [source("a"), source("b")]
        states = {"b": state("b", gone=True)}
        assert [s.id for s in schedule.select_due(sources, states, NOW, only=["b"])] == ["b"]

    def test_disabled_sources_are_skipped(self):
        assert schedule.select_due([source("a", enabled=False)], {}, NOW) == []


class TestIntervals:
    def test_the_configured_interval_applies(self):
        assert schedule.effective_interval(source(), FETCH, None) == 1800
        assert schedule.effective_interval(source(interval=600), FETCH, None) == 600

    def test_ttl_or_max_age_is_a_lower_bound(self):
        assert schedule.effective_interval(source(), FETCH, 3600) == 3600
        assert schedule.effective_interval(source(), FETCH, 60) == 1800

    def test_a_huge_ttl_cannot_silence_a_feed_for_more_than_a_day(self):
        assert schedule.effective_interval(source(), FETCH, 10**9) == 24 * 3600

    @pytest.mark.parametrize(
        "header, expected",
        [
            ("max-age=600", 600),
            ("public, max-age=3600, must-revalidate", 3600),
            ("s-maxage=10", None),
            ('max-age="120"', 120),
            ("no-cache", None),
            (None, None),
        ],
    )
    def test_max_age_is_read_from_cache_control(self, header, expected):
        assert schedule.parse_max_age(header) == expected


class TestRetryAfter:
    def test_seconds(self):
        assert schedule.parse_retry_after("120", NOW) == NOW + timedelta(seconds=120)

    def test_http_date(self):
        value = "Thu, 26 Nov 2026 13:00:00 GMT"
        assert schedule.parse_retry_after(value, NOW) == NOW + timedelta(hours=1)

    def test_a_date_in_the_past_means_now(self):
        assert schedule.parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", NOW) == NOW

    @pytest.mark.parametrize("value", [None, "", "soon", "-5"])
    def test_garbage_is_ignored(self, value):
        assert schedule.parse_retry_after(value, NOW) is None

    def test_an_absurd_delay_is_capped_at_a_week(self):
        assert schedule.parse_retry_after("99999999", NOW) == NOW + timedelta(days=7)


class TestBackoff:
    def test_backoff_doubles_with_each_failure_and_has_jitter(self):
        rng = random.Random(1)
        delays = [schedule.backoff_seconds(n, FETCH, rng) for n in range(1, 6)]
        for n, delay in enumerate(delays, start=1):
            ceiling = 300 * 2 ** (n - 1)
            assert ceiling / 2 <= delay <= ceiling

    def test_backoff_is_capped(self):
        assert schedule.backoff_seconds(50, FETCH, random.Random(1)) <= 24 * 3600

    def test_a_failure_is_counted_and_recorded_never_silent(self):
        after = schedule.after_failure(state(), source(), FETCH, NOW, error="HTTP 500 at x")
        assert after.consecutive_failures == 1
        assert after.last_error == "HTTP 500 at x"
        assert after.last_error_at == NOW
        assert after.backoff_until > NOW
        assert not schedule.is_due(after, NOW + timedelta(seconds=1))

    def test_retry_after_overrides_backoff(self):
        retry_at = NOW + timedelta(hours=3)
        after = schedule.after_failure(
            state(), source(), FETCH, NOW, error="429", retry_at=retry_at
        )
        assert after.backoff_until == retry_at
        assert not schedule.is_due(after, retry_at - timedelta(seconds=1))
        assert schedule.is_due(after, retry_at)

    def test_success_resets_failures_and_schedules_the_next_fetch(self):
        failing = state(consecutive_failures=4, backoff_until=NOW, last_error="x")
        after = schedule.after_success(failing, source(), FETCH, NOW, min_interval_seconds=None)
        assert after.consecutive_failures == 0
        assert after.backoff_until is None
        assert after.last_success == NOW
        assert after.next_due == NOW + timedelta(seconds=1800)

    def test_a_feed_ttl_is_remembered_for_later_304s(self):
        first = schedule.after_success(state(), source(), FETCH, NOW, min_interval_seconds=7200)
        later = schedule.after_success(first, source(), FETCH, NOW, min_interval_seconds=None)
        assert later.next_due == NOW + timedelta(seconds=7200)

    def test_gone_stops_fetching_visibly(self):
        after = schedule.after_gone(state(), NOW, error="410 Gone")
        assert after.gone and after.last_error == "410 Gone"
        assert schedule.health(after, NOW) == "gone"
        assert not schedule.is_due(after, NOW + timedelta(days=365))


def test_health_words():
    assert schedule.health(state(), NOW) == "new"
    ok = replace(state(), last_attempt=NOW)
    assert schedule.health(ok, NOW) == "ok"
    backing = replace(ok, consecutive_failures=2, backoff_until=NOW + timedelta(minutes=1))
    assert schedule.health(backing, NOW) == "backoff"
    assert schedule.health(replace(backing, backoff_until=NOW), NOW) == "failing"
