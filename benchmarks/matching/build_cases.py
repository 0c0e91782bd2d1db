"""Build the labelled matching evaluation set from the hand-written pool.

    .venv/bin/python benchmarks/matching/build_cases.py      # writes cases.json beside it

Deterministic: every choice draws from ``random.Random`` seeded with the case's id, so the
same pool gives the same bytes.  ``pool.yaml`` holds the source items (Russian, Kazakh and
English, original text) and, for most, an editor's retelling in other words.  This script
turns them into

- ``items``: what the store holds (the pool minus the items marked ``absent``), with
  realistic links and ids per outlet;
- ``cases``: commentary files (front matter + Markdown, as an editor writes them), each
  with the store keys it must match (``expected``: one list of acceptable keys per source
  it comments on; empty = its source was never fetched, so "no match" is right).

Commentary styles: the lead quoted whole in the published structure; a quote shortened
with "…", cut at the start or the end, lightly edited, re-punctuated, from a later
paragraph, inline in „…“ / “…” / "…", as a blockquote, attributed to another outlet;
two quotes of two items; an explicit ``source:`` (URL variants, item id); a link with
``utm_*`` parameters; a retelling with neither quote nor link; and all of these for
items never stored.

Honesty checks (the build fails if broken): a retelling never contains its item's title
nor shares a run of six words with the item's text; commentary titles are generic, never
the item's.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from aggregator.house import slugify  # noqa: E402
from aggregator.text.words import normalize_for_quote  # noqa: E402

ASTANA = timezone(timedelta(hours=5))
HOUSE = "Евразия24"

# id -> (name, language, link pattern, item id pattern: "link" or a pattern)
SOURCES: dict[str, tuple[str, str, str, str]] = {
    "kazinform-ru": ("Казинформ", "ru", "https://www.inform.kz/ru/{slug}-a{n}", "link"),
    "kazinform-kk": ("Қазақпарат", "kk", "https://www.inform.kz/kz/{slug}-a{n}", "link"),
    "kazinform-en": ("Kazinform", "en", "https://en.inform.kz/news/{slug}-a{n}/", "link"),
    "tengrinews": ("Tengrinews", "ru", "https://tengrinews.kz/kazakhstan_news/{slug}-{n}/", "tengri-{n}"),
    "zakon-kz": ("Zakon.kz", "ru", "https://www.zakon.kz/{n}-{slug}.html", "link"),
    "24kz": ("24KZ", "ru", "https://24.kz/ru/news/{n}-{slug}", "24kz-{n}"),
    "azattyq-ru": ("Азаттык", "ru", "https://rus.azattyq.org/a/{slug}/{n}.html", "link"),
    "azattyq-kk": ("Азаттық", "kk", "https://www.azattyq.org/a/{n}.html", "link"),
    "astana-times": ("The Astana Times", "en", "https://astanatimes.com/2024/10/{slug}/", "https://astanatimes.com/?p={n}"),
    "kapital-kz": ("Kapital.kz", "ru", "https://kapital.kz/economic/{n}/{slug}.html", "link"),
    "kursiv": ("Курсив", "ru", "https://kz.kursiv.media/2024-10-{day}/{slug}/", "https://kz.kursiv.media/?p={n}"),
    "kursiv-en": ("Kursiv", "en", "https://kz.kursiv.media/en/2024-10-{day}/{slug}/", "link"),
    "24kg": ("24.kg", "ru", "https://24.kg/obschestvo/{n}_{slug}/", "link"),
    "gazeta-uz": ("Газета.uz", "ru", "https://www.gazeta.uz/ru/2024/10/{day}/{slug}/", "link"),
}  # fmt: skip

TITLES = [
    "Стоп, снято!", "Вопрос цены", "Долгая дорога", "Есть над чем подумать", "Цифры дня",
    "Не все так просто", "Хорошая новость", "Тревожный сигнал", "Обещать не значит жениться",
    "Давно пора", "Ждем продолжения", "Снова здорово", "Кто заплатит?", "Проверим через год",
    "Маленький шаг", "Без паники", "Вспомнить все", "Неудобные вопросы", "Лед тронулся",
    "Планы на зиму", "Дело житейское", "Счет идет", "Опыт соседей", "Старые грабли",
]  # fmt: skip

COMMENTS = [
    "Редакция будет следить за тем, как эти обещания выполнят на деле.",
    "Мы уже не раз писали о том, что громкие заявления не всегда заканчиваются делом.",
    "Хочется верить, что на этот раз все пойдет по плану, но опыт подсказывает осторожность.",
    "Читатели пишут нам, что видят ситуацию иначе, и мы готовы дать им слово.",
    "Важно, чтобы за цифрами не потерялись люди, ради которых все это делается.",
    "Вопросов пока больше, чем ответов, и мы обязательно зададим их ответственным лицам.",
    "Похожие истории мы наблюдали и раньше, и далеко не все они закончились хорошо.",
    "Посмотрим, что изменится через полгода, когда первые итоги можно будет оценить честно.",
    "Это тот случай, когда новость стоит прочитать до конца, а не только заголовок.",
    "Как говорится, поживем - увидим, а мы расскажем, чем все закончилось.",
]

QUOTE_MARKS = [("«", "»"), ("„", "“"), ("“", "”"), ('"', '"')]
REATTRIBUTE = ["Zakon.kz", "Tengrinews", "Казинформ", "Курсив", "Vlast.kz", "Orda.kz"]
QUOTE_STYLES = [
    "lead", "shortened", "cut_start", "cut_end", "edited", "punct", "later", "inline",
    "blockquote", "reattributed", "front_matter",
]  # fmt: skip


def main() -> int:
    pool = yaml.safe_load((HERE / "pool.yaml").read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry for entry in pool}
    for entry in pool:
        if "reprint_of" in entry:
            original = by_id[entry["reprint_of"]]
            entry["text"] = _paragraphs(original)[0] + "\n\n" + entry["tail"]
        entry["paragraphs"] = _paragraphs(entry)
        entry["lang"] = SOURCES[entry["src"]][1]
        entry["published"] = _date(entry["date"])
        entry["link"], entry["guid"] = _link(entry)
    _check_honest(pool)

    items = [_item(entry) for entry in pool if not entry.get("absent")]
    cases: list[dict] = []
    present = [e for e in pool if not e.get("absent")]
    absent = [e for e in pool if e.get("absent")]
    same_lead = _same_lead(present)

    for number, entry in enumerate(present):
        style = QUOTE_STYLES[number % len(QUOTE_STYLES)]
        cases.append(_quote_case(entry, style, same_lead, present=True))
        if number % 3 == 0:  # a second style for a third of the items
            other = QUOTE_STYLES[(number * 7 + 3) % len(QUOTE_STYLES)]
            if other != style:
                cases.append(_quote_case(entry, other, same_lead, present=True, suffix="b"))
        if "reprint_of" in entry:
            cases.append(_quote_case(entry, "reprint_named", same_lead, present=True))
        if entry.get("para"):
            cases.append(_paraphrase_case(entry, same_lead, present=True))
    for number, entry in enumerate(present[::3]):
        cases.append(_link_case(entry, number))
    pairs = [(present[i], present[-1 - 2 * i]) for i in range(0, 24, 2)]
    for first, second in pairs:
        if first["event"] != second["event"]:
            cases.append(_two_quotes_case(first, second, same_lead))
    for number, entry in enumerate(absent):
        style = QUOTE_STYLES[number % len(QUOTE_STYLES)]
        cases.append(_quote_case(entry, style, same_lead, present=False))
        if entry.get("para"):
            cases.append(_paraphrase_case(entry, same_lead, present=False))
        if number % 4 == 0:
            cases.append(_link_case(entry, number))

    document = {
        "about": "Generated by benchmarks/matching/build_cases.py from pool.yaml; do not edit.",
        "house": HOUSE,
        "sources": {k: {"name": v[0], "language": v[1]} for k, v in SOURCES.items()},
        "items": items,
        "cases": cases,
    }
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    (HERE / "cases.json").write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["category"]] = counts.get(case["category"], 0) + 1
    languages = {}
    for case in cases:
        languages[case["source_language"]] = languages.get(case["source_language"], 0) + 1
    print(
        f"{len(items)} stored items, {len(cases)} cases: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + "; source languages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(languages.items()))
    )
    return 0


# --- items ------------------------------------------------------------------------------


def _paragraphs(entry: dict) -> list[str]:
    return [" ".join(p.split()) for p in entry["text"].strip().split("\n\n") if p.strip()]


def _date(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=ASTANA) if moment.tzinfo is None else moment


def _number(text: str) -> int:
    return 100_000 + int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 900_000


def _link(entry: dict) -> tuple[str, str]:
    _, _, pattern, guid = SOURCES[entry["src"]]
    n = _number(entry["id"])
    values = {"slug": slugify(entry["title"], limit=50), "n": n, "day": entry["published"].day}
    link = pattern.format(**values)
    return link, link if guid == "link" else guid.format(**values)


def _item(entry: dict) -> dict:
    paragraphs = entry["paragraphs"]
    return {
        "key": entry["id"],
        "source": entry["src"],
        "id": entry["guid"],
        "link": entry["link"],
        "title": " ".join(entry["title"].split()),
        "summary": paragraphs[0],
        "content": "".join(f"<p>{_escape(p)}</p>" for p in paragraphs),
        "published": entry["published"].isoformat(),
        "language": entry["lang"],
        "event": entry["event"],
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _same_lead(entries: list[dict]) -> dict[str, list[str]]:
    """Item -> every stored item whose lead paragraph is the same text (reprints)."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        groups.setdefault(normalize_for_quote(entry["paragraphs"][0]), []).append(entry["id"])
    return {e["id"]: groups[normalize_for_quote(e["paragraphs"][0])] for e in entries}


def _check_honest(pool: list[dict]) -> None:
    problems = []
    for entry in pool:
        para = entry.get("para")
        if not para:
            continue
        said = normalize_for_quote(para)
        title = normalize_for_quote(entry["title"])
        if title in said:
            problems.append(f"{entry['id']}: the retelling contains the title")
        words = normalize_for_quote(entry["title"] + " " + " ".join(entry["paragraphs"])).split()
        runs = {" ".join(words[i : i + 6]) for i in range(len(words) - 5)}
        own = said.split()
        for i in range(len(own) - 5):
            if " ".join(own[i : i + 6]) in runs:
                problems.append(f"{entry['id']}: the retelling copies '{' '.join(own[i : i + 6])}'")
                break
    if problems:
        raise SystemExit("dishonest retellings:\n  " + "\n  ".join(problems))


# --- commentary ---------------------------------------------------------------------------


def _markdown(front: dict, body: str) -> str:
    lines = ["---"]
    for key, value in front.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    lines += ["---", "", body.strip(), ""]
    return "\n".join(lines)


def _front(entry: dict, rng: random.Random, slug: str) -> dict:
    when = entry["published"] + timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
    return {
        "title": rng.choice(TITLES),
        "date": when.strftime("%Y-%m-%d %H:%M"),
        "slug": slug,
        "tags": [entry["event"]],
        "author": "Редакция",
    }


def _comment(rng: random.Random, entry: dict | None = None) -> str:
    sentences = rng.sample(COMMENTS, 2)
    if entry is not None and entry.get("para") and rng.random() < 0.4:
        sentences.insert(0, entry["para"].strip())
    return " ".join(sentences)


def _words(text: str) -> list[str]:
    return text.split()


def _quote_text(entry: dict, style: str, rng: random.Random) -> tuple[str, bool]:
    """(the quoted text, whether it is the lead paragraph)."""
    paragraphs = entry["paragraphs"]
    lead = paragraphs[0]
    words = _words(lead)
    if style in ("lead", "reattributed", "blockquote", "reprint_named", "front_matter", "two"):
        return lead, True
    if style == "shortened":
        n = len(words)
        a = max(4, n // 3)
        b = min(n - 4, a + max(3, n // 4))
        return " ".join(words[:a]) + " … " + " ".join(words[b:]), True
    if style == "cut_start":
        k = max(2, len(words) // 4)
        return "…" + " ".join(words[k:]), True
    if style == "cut_end":
        k = max(8, int(len(words) * rng.uniform(0.55, 0.75)))
        return " ".join(words[:k]).rstrip(",;:") + "…", True
    if style == "edited":
        return _edit(lead, rng), True
    if style == "punct":
        return _repunctuate(lead, rng), True
    if style == "later":
        later = paragraphs[1:] or paragraphs
        return rng.choice(later), len(paragraphs) == 1
    if style == "inline":
        sentence = re.split(r"(?<=[.!?])\s+", lead)[0]
        if len(_words(sentence)) < 8:
            sentence = lead
        return sentence, True
    raise ValueError(style)


def _edit(text: str, rng: random.Random) -> str:
    """A light edit: one word dropped, two word endings changed, a figure re-spelled."""
    words = text.split()
    positions = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    for i in rng.sample(positions, min(2, len(positions))):
        word = words[i]
        words[i] = word[:-2] + rng.choice(["ого", "ой", "ия", "ые", "ая", "ом"])
    if len(words) > 10:
        del words[rng.randrange(1, len(words) - 1)]
    edited = " ".join(words)
    return re.sub(r"(\d),(\d)", r"\1.\2", edited)


def _repunctuate(text: str, rng: random.Random) -> str:
    text = text.replace("«", '"').replace("»", '"').replace(" - ", " — ")
    text = re.sub(r",\s*", " ", text) if rng.random() < 0.5 else text.replace(", ", " , ")
    text = text.replace(". ", "; ").replace("е", "ё", 1) if rng.random() < 0.5 else text
    return text.rstrip(".") + "!"


def _agency(entry: dict) -> str:
    return SOURCES[entry["src"]][0]


def _expected_for_quote(entry: dict, from_lead: bool, same_lead: dict) -> list[str]:
    if from_lead and entry["id"] in same_lead:
        return same_lead[entry["id"]]
    return [entry["id"]]


def _quote_case(
    entry: dict, style: str, same_lead: dict, *, present: bool, suffix: str = ""
) -> dict:
    case_id = f"quote-{style}-{entry['id']}{suffix}"
    rng = random.Random(case_id)
    quote, from_lead = _quote_text(entry, style, rng)
    agency = _agency(entry)
    if style == "reattributed":
        agency = rng.choice([a for a in REATTRIBUTE if a != agency])
    opening, closing = (
        ("«", "»")
        if style in ("lead", "later", "reattributed", "reprint_named")
        else rng.choice(QUOTE_MARKS)
    )
    front = _front(entry, rng, case_id)
    comment = _comment(rng, entry)
    if style == "front_matter":
        front["quote"] = quote
        body = comment
    elif style == "blockquote":
        body = f"{agency} сообщает:\n\n> {quote}\n\n{comment}"
    elif style == "inline":
        body = f"Как пишет {agency}, {opening}{quote}{closing} {comment}"
    elif style in ("shortened", "cut_start", "cut_end", "edited", "punct"):
        if rng.random() < 0.5:
            front["quote"] = f"{opening}{quote}{closing}"
            body = comment
        else:
            body = f"{agency} сообщает: {opening}{quote}{closing}.\n\n{HOUSE} комментирует:\n\n{comment}"
    else:  # lead, later, reattributed, reprint_named: the published structure
        body = f"{agency} сообщает: «{quote}».\n\n{HOUSE} комментирует:\n\n{comment}"
    expected = [_expected_for_quote(entry, from_lead, same_lead)] if present else []
    if present and style == "reprint_named":
        expected = [[entry["id"]] + [k for k in same_lead[entry["id"]] if k != entry["id"]]]
    return _case(
        case_id, "quote" if present else "absent-quote", style, front, body, expected, entry
    )


def _paraphrase_case(entry: dict, same_lead: dict, *, present: bool) -> dict:
    case_id = f"retold-{entry['id']}"
    rng = random.Random(case_id)
    front = _front(entry, rng, case_id)
    body = entry["para"].strip() + " " + rng.choice(COMMENTS)
    # A verbatim reprint of the item's lead tells the same facts: naming it is right too.
    expected = [same_lead.get(entry["id"], [entry["id"]])] if present else []
    category = "paraphrase" if present else "absent-paraphrase"
    return _case(case_id, category, "retold", front, body, expected, entry)


def _link_case(entry: dict, number: int) -> dict:
    variants = ["https", "www", "slash", "utm", "id", "body"]
    style = variants[number % len(variants)]
    case_id = f"link-{style}-{entry['id']}"
    rng = random.Random(case_id)
    front = _front(entry, rng, case_id)
    link = entry["link"]
    body = _comment(rng)
    if style == "https":
        front["source"] = link.replace("https://", "http://", 1)
    elif style == "www":
        front["source"] = (
            link.replace("://www.", "://", 1)
            if "://www." in link
            else link.replace("://", "://www.", 1)
        )
    elif style == "slash":
        front["source"] = link[:-1] if link.endswith("/") else link + "/"
    elif style == "utm":
        front["source"] = link + "?utm_source=telegram&utm_medium=social&utm_campaign=news"
    elif style == "id":
        front["source"] = entry["guid"]
    else:
        body = f"Подробнее у [{_agency(entry)}]({link}?utm_source=facebook&fbclid=IwAR0x). {body}"
    present = not entry.get("absent")
    expected = [[entry["id"]]] if present else []
    category = "link" if present else "absent-link"
    return _case(case_id, category, style, front, body, expected, entry)


def _two_quotes_case(first: dict, second: dict, same_lead: dict) -> dict:
    case_id = f"two-{first['id']}-{second['id']}"
    rng = random.Random(case_id)
    q1, lead1 = _quote_text(first, "two", rng)
    q2 = (
        second["paragraphs"][-1]
        if len(_words(second["paragraphs"][-1])) >= 8
        else second["paragraphs"][0]
    )
    lead2 = q2 == second["paragraphs"][0]
    front = _front(first, rng, case_id)
    body = (
        f"{_agency(first)} сообщает: «{q1}»\n\n"
        f"В тот же день {_agency(second)} пишет: «{q2}»\n\n"
        f"{HOUSE} комментирует:\n\n{_comment(rng)}"
    )
    expected = [
        _expected_for_quote(first, lead1, same_lead),
        _expected_for_quote(second, lead2, same_lead),
    ]
    return _case(case_id, "quote", "two", front, body, expected, first)


def _case(case_id, category, style, front, body, expected, entry) -> dict:
    return {
        "id": case_id,
        "category": category,
        "style": style,
        "source_language": entry["lang"],
        "markdown": _markdown(front, body),
        "expected": expected,
    }


if __name__ == "__main__":
    sys.exit(main())
