"""No mojibake in the store: every real-world sample feed (../shared/realfeeds) and
every legacy-encoding case, fetched by the real CLI into a real store, comes out with
titles and summaries free of the sequences a wrong decoding leaves ("Ð¿", "Рµ",
"Ã©", "â€", "¤Ê¤"...), unless the feed's own text has them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from legacy_texts import DEV, TEST, legacy_feed

from aggregator.cli import cli
from aggregator.store import open_storage
from aggregator.text.html import plain_text

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realfeeds"

_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u0080-\u00bf"
MOJIBAKE = re.compile(
    "|".join(
        [
            f"[ÐÑ][{_CP1252_HIGH}]",  # UTF-8 Cyrillic read as windows-1252: "Ð¿"
            f"Ã[{_CP1252_HIGH}]",  # UTF-8 Latin read as windows-1252: "Ã©"
            "â€",  # UTF-8 punctuation read as windows-1252: "â€™"
            # UTF-8 Cyrillic read as windows-1251: "Р‘", "Рµ", "СЃ"
            "[РС][ЂЃѓЉЊЌЋЏђљњќћџЎўЈҐЁЄЇІіґёєјЅѕї°±µ¶·‘’“”•–—™†‡€‰‹›‚„¤¦§©¬®]",
            "¤[\u00a1-\u00fe].?¤",  # EUC-JP read as Latin-1: "¤Ê¤ÊÀ"
            "[\u00c0-\u00ff]{4,}",  # Cyrillic read as Latin-1: "Ïðèìåð"
        ]
    )
)

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding=["']([^"']+)["']""")


def true_text(body: bytes, encoding: str | None) -> str:
    """The feed's own text: in the encoding it was written in."""
    if encoding is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            declared = _DECLARED.match(body)
            encoding = declared.group(1).decode() if declared else "windows-1252"
            encoding = "windows-1252" if encoding.lower() == "iso-8859-1" else encoding
    return body.decode(encoding, "replace")


def test_no_stored_title_or_summary_has_mojibake_the_source_has_not(tmp_path):
    feeds: dict[str, tuple[bytes, str | None]] = {}
    for n, (encoding, language, sentence) in enumerate(DEV + TEST):
        body = legacy_feed(encoding, language, sentence)
        feeds[f"legacy{n}-{encoding}"] = (
            body.replace(b"https://news.example/", f"https://legacy{n}.example/".encode()),
            encoding,
        )
    samples = sorted(p for p in REALFEEDS.rglob("*") if p.suffix in (".xml", ".rss", ".atom"))
    if not samples:
        pytest.skip(f"{REALFEEDS} is absent (the shared sample feeds live next to the repository)")
    for path in samples:
        feeds[f"real-{path.stem.lower().replace('_', '-')}"] = (path.read_bytes(), None)

    lines = ["site: {title: T, link: 'https://eurasia24.media/'}", "sources:"]
    for source_id, (body, _) in feeds.items():
        (tmp_path / f"{source_id}.xml").write_bytes(body)
        lines.append(f"  - {{id: {source_id}, name: {source_id}, url: {source_id}.xml}}")
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "store.sqlite"

    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "feeds.yaml"), "--db", str(db), "fetch", "--all"]
    )
    assert result.exit_code == 0, result.output

    problems = []
    with open_storage(db) as storage:
        errors = {s.source_id: s.last_error for s in storage.source_states() if s.last_error}
        assert errors == {}
        stored = list(storage.iter_items())
    assert {source for s in stored for source in s.source_ids} == set(feeds)
    for stored_item in stored:
        source_id = stored_item.source_ids[0]
        own = html.unescape(true_text(*feeds[source_id]))
        for field in (stored_item.item.title, plain_text(stored_item.item.summary)):
            for match in MOJIBAKE.finditer(field):
                if match.group() not in own:
                    problems.append(f"{source_id}: {match.group()!r} in {field[:80]!r}")
    assert problems == []
