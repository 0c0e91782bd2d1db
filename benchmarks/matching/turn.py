"""A study (issue 10, round 23, second shift): the DEV posts whose text turns to another
story ("А вот", "А ведь", "А во/в ...", "Тем временем", "Между тем" opening a sentence
after the first 40 characters), matched as written and again with only the part from the
turn on (title kept, intro dropped), to see whether the part after the turn is the house's
news.

    .venv/bin/python benchmarks/matching/turn.py                  # 3,000 background items, as evaluate.py
    .venv/bin/python benchmarks/matching/turn.py --background 0

Per post: the category, the expected labels, then status:first item:R (right) or - for the
whole post -> the part after the turn. Reads no test post; changes nothing in the matcher.
"""

from __future__ import annotations

import argparse
import dataclasses
import re

from real_set import MatchingSetUp, real_store

from aggregator.house import match_commentary

TURN = re.compile(r"(?:^|(?<=[.!?…]\s)|(?<=>))\s*(А\s+(ведь|вот|во|в\s)|Тем временем|Между тем)")
PARA = re.compile(r"(?=<p\b)|\n\s*\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--background", type=int, default=3000)
    args = parser.parse_args()
    with real_store(args.background) as rs:
        setup = MatchingSetUp.of(rs.config, rs.storage, rs.items)
        for post in rs.posts:
            if post.get("split") != "dev":
                continue
            c = setup.commentary_of(post)
            if c is None:
                continue
            paras = [p for p in PARA.split(c.intro_html + "\n\n" + c.comment_html) if p.strip()]
            full = "\n\n".join(paras)
            turns = [t for t in TURN.finditer(full) if t.start() > 40]
            if not turns:
                continue
            part = dataclasses.replace(c, intro_html="", comment_html=full[turns[0].start() :])
            expected = {setup.key_of.get(label) for label in post["expected"] or ()}

            def show(m, expected=expected) -> str:
                keys = list(m.keys) or [k for k, _ in m.candidates]
                first = setup.label_of.get(keys[0]) if keys else None
                return f"{m.status}:{first}:{'R' if keys and keys[0] in expected else '-'}"

            whole = match_commentary(c, setup.index, source_names=setup.names)
            after = match_commentary(part, setup.index, source_names=setup.names)
            with setup.withheld(post):
                whole_w = match_commentary(c, setup.index, source_names=setup.names)
                after_w = match_commentary(part, setup.index, source_names=setup.names)
            print(
                post["id"],
                post["category"],
                post["expected"],
                "|",
                show(whole),
                "->",
                show(after),
                "| withheld",
                show(whole_w),
                "->",
                show(after_w),
                "|",
                turns[0].group(1),
            )


if __name__ == "__main__":
    main()
