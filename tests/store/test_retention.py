"""The retention rule, as a pure decision (store/retention.py): which stored items go."""

from datetime import UTC, datetime, timedelta

from aggregator.store.retention import Listing, expired, last_listed, unlisted_since

CUTOFF = datetime(2026, 9, 1, tzinfo=UTC)
OLD = CUTOFF - timedelta(days=30)
DAY = timedelta(days=1)


def listing(key="a", source="inform", *, published=OLD, seen=OLD, listed=OLD, confirmed=OLD):
    return Listing(key, source, published, seen, listed, confirmed)


def test_an_item_of_the_last_listing_was_listed_when_the_source_last_confirmed_it():
    assert last_listed(listing(seen=OLD, listed=OLD, confirmed=CUTOFF + DAY)) == CUTOFF + DAY


def test_an_item_the_source_dropped_was_listed_when_a_parsed_fetch_last_listed_it():
    dropped = listing(seen=OLD, listed=OLD + DAY, confirmed=CUTOFF + DAY)
    assert last_listed(dropped) == OLD


def test_a_source_without_a_recorded_listing_counts_parsed_fetches_only():
    assert last_listed(listing(listed=None, confirmed=CUTOFF + DAY)) == OLD
    assert last_listed(listing(confirmed=None)) == OLD


def test_old_items_no_source_listed_since_the_cutoff_are_unlisted_with_their_sources():
    listings = [
        listing("gone", "inform"),
        listing("gone", "tengri"),
        listing("recent", published=CUTOFF + DAY),
        listing("still listed", seen=CUTOFF),
        listing("listed by one", "inform"),
        listing("listed by one", "tengri", seen=CUTOFF + DAY, listed=CUTOFF + DAY),
        listing("confirmed", "inform", listed=OLD, confirmed=CUTOFF),
    ]
    assert unlisted_since(listings, CUTOFF) == {"gone": {"inform", "tengri"}}


def test_an_unlisted_item_among_the_newest_of_any_of_its_sources_is_kept():
    unlisted = {"a": {"inform"}, "b": {"inform", "tengri"}, "c": {"tengri"}, "d": {"kapital"}}
    newest = {"inform": {"x"}, "tengri": {"b"}}
    assert expired(unlisted, newest) == ["a", "c", "d"]
