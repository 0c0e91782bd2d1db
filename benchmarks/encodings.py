"""Which encoding detector reads undeclared legacy feeds right: a measurement.

    python benchmarks/encodings.py            # needs charset-normalizer; chardet and
                                              # chardetng-py are measured where installed

The cases are tests/parse/legacy_texts.py: RSS feeds in 14 legacy encodings that
declare none.  A detector is right on a case when the feed decoded with its answer
is the text that was written (so GB2312 read as GBK counts, the text is the same).
"Ours" is aggregator.parse.decode on this tree.  DEV is what we tuned on; report TEST.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "parse")]

from legacy_texts import DEV, TEST, legacy_feed  # noqa: E402


def _detectors() -> dict:
    found = {}
    from aggregator.parse.decode import decode

    found["ours (aggregator.parse.decode)"] = lambda body: decode(body, None).text
    try:
        import charset_normalizer

        def normalizer(body: bytes) -> str | None:
            best = charset_normalizer.from_bytes(body).best()
            return str(best) if best is not None else None

        found[f"charset-normalizer {charset_normalizer.__version__}"] = normalizer
    except ImportError:
        pass
    try:
        import chardet

        def by_chardet(body: bytes) -> str | None:
            encoding = chardet.detect(body)["encoding"]
            return body.decode(encoding, "replace") if encoding else None

        found[f"chardet {chardet.__version__}"] = by_chardet
    except ImportError:
        pass
    try:
        import chardetng_py

        found["chardetng-py"] = lambda body: body.decode(chardetng_py.detect(body), "replace")
    except ImportError:
        pass
    return found


# Real feeds in legacy encodings (../shared/realfeeds), their declaration removed.
REAL = {
    "miniflux/encoding-koi8r.xml": "koi8-r",
    "miniflux/encoding_WINDOWS-1251.xml": "windows-1251",
    "miniflux/encoding_ISO-8859-1.xml": "windows-1252",
    "miniflux/no_encoding_ISO-8859-1.xml": "windows-1252",
    "rss-parser/encoding.rss": "windows-1252",
}


def _real_cases() -> list[tuple[str, bytes, str]]:
    found = []
    for name, encoding in REAL.items():
        path = ROOT.parent / "shared" / "realfeeds" / name
        if path.is_file():
            body = re.sub(rb"""\sencoding=["'][^"']*["']""", b"", path.read_bytes(), count=1)
            found.append((name, body, body.decode(encoding)))
    return found


def main() -> int:
    detectors = _detectors()
    sets = []
    for split, cases in (("DEV", DEV), ("TEST", TEST)):
        for short in (False, True):
            shape = "one title only" if short else "three items"
            feeds = [(e, legacy_feed(e, lang, s, short=short), s) for e, lang, s in cases]
            sets.append((f"{split}, {shape}", feeds))
    sets.append(("real feeds, declaration removed", _real_cases()))
    for title, feeds in sets:
        print(f"{title}: {len(feeds)} feeds")
        for name, detect in detectors.items():
            right, wrong, elapsed = 0, [], 0.0
            for label, body, expected in feeds:
                start = time.perf_counter()
                text = detect(body)
                elapsed += time.perf_counter() - start
                if text is not None and expected.strip() in text:
                    right += 1
                else:
                    wrong.append(label)
            ms = elapsed / max(len(feeds), 1) * 1000
            print(
                f"  {name:34} {right:2}/{len(feeds)} right, {ms:6.2f} ms/feed; wrong: {', '.join(wrong) or '-'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
