"""feedparser.py, the adapter: documents that are not well-formed (a feed cut short
by a dropped connection, a stray "&") are read as far as they hold complete items."""

from __future__ import annotations

import pytest

from aggregator.parse import parse_feed

# Every test runs on both parse paths (conftest.py): the fast path leaves documents
# that are not well-formed to feedparser, so the rule must hold on both.
pytestmark = pytest.mark.usefixtures("both_parse_paths")

URL = "https://inform.kz/rss"


def rss(items: int, *, guid: bool = True) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Казинформ</title><link>https://inform.kz/</link>\n"
        + "".join(
            f"<item>\n<title>Новость {n}</title>\n<description>Текст новости {n} о событиях дня"
            f"</description>\n<link>https://inform.kz/ru/{n}</link>\n"
            + (f"<guid>https://inform.kz/ru/{n}</guid>\n" if guid else "")
            + "</item>\n"
            for n in range(items)
        )
        + "</channel></rss>"
    ).encode()


def atom(entries: int) -> bytes:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Казинформ</title><id>urn:f</id>'
        "<updated>2024-01-01T00:00:00Z</updated>"
        + "".join(
            f"<entry><title>Новость {n}</title><id>urn:{n}</id>"
            f"<updated>2024-01-01T00:00:00Z</updated><content>Текст {n}</content>"
            f'<link href="https://inform.kz/ru/{n}"/></entry>'
            for n in range(entries)
        )
        + "</feed>"
    ).encode()


@pytest.mark.parametrize("make", [rss, lambda n: rss(n, guid=False), atom], ids=["rss", "rss-without-guid", "atom"])  # fmt: skip
def test_a_cut_feed_holds_only_complete_items_of_the_whole_feed(make):
    whole = parse_feed(make(3), URL)
    assert len(whole.items) == 3 and whole.problem is None
    body = make(3)
    start = body.index(b"<item>" if b"<item>" in body else b"<entry>")
    for cut in range(start, len(body) - len(b"</channel></rss>"), 3):
        try:
            part = parse_feed(body[:cut], URL)
        except Exception:  # noqa: S112 - ParseError: too little to be a feed is fine too
            continue
        assert part.items == whole.items[: len(part.items)], f"cut at byte {cut}"
        assert part.problem and part.problem.startswith("not well-formed XML"), cut


def test_the_first_400_bytes_of_a_feed_add_no_phantom_item():
    body = rss(5)[:400]
    part = parse_feed(body, URL)
    assert [item.title for item in part.items] == ["Новость 0"]
    assert part.items[0].id == "https://inform.kz/ru/0"
    assert (
        part.problem
        == "not well-formed XML: no element found at line 11; 1 incomplete item left out"
    )


def test_complete_items_after_a_stray_ampersand_are_kept():
    body = rss(3).replace("Текст новости 1".encode(), "Текст & новости 1".encode())
    feed = parse_feed(body, URL)
    assert [item.title for item in feed.items] == ["Новость 0", "Новость 1", "Новость 2"]
    assert feed.problem.startswith("not well-formed XML: not well-formed (invalid token) at line")
