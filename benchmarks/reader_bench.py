"""One update of lemon24/reader over the benchmark corpus, run by run.py in reader's own venv.

    venv-reader/bin/python benchmarks/reader_bench.py --db DB --urls URLS.json --workers 20

On a new database it adds every URL first (not timed), then calls
``update_feeds(scheduled=False, workers=W)`` once, so every feed is requested whatever its
schedule: the first call is the cold run, later ones are warm (conditional requests) runs.
Prints one JSON object: the update's wall time, entry and error counts, reader's version.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--urls", required=True, type=Path, help="JSON list of feed URLs")
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()

    logging.basicConfig(level=logging.CRITICAL)  # reader logs every failed feed; we count them
    import reader

    urls = json.loads(args.urls.read_text())
    started = time.perf_counter()
    r = reader.make_reader(args.db)
    added = 0
    for url in urls:
        try:
            r.add_feed(url)
            added += 1
        except reader.FeedExistsError:
            pass
    setup = time.perf_counter() - started

    started = time.perf_counter()
    r.update_feeds(scheduled=False, workers=args.workers)
    update = time.perf_counter() - started

    errors = [f.url for f in r.get_feeds() if f.last_exception is not None]
    counts = r.get_entry_counts()
    result = {
        "reader_version": reader.__version__,
        "feeds_added": added,
        "setup_seconds": round(setup, 3),
        "update_seconds": round(update, 3),
        "entries_total": counts.total,
        "feeds_with_errors": len(errors),
        "first_errors": errors[:3],
    }
    r.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
