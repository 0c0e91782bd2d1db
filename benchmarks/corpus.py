"""Deterministic benchmark corpus: N news feeds of 50 items each, in Russian, Kazakh and English.

    python benchmarks/corpus.py OUT_DIR --feeds 1000          # OUT_DIR/feeds/0000.xml ...
    python benchmarks/corpus.py OUT_DIR --mutate 0.1          # OUT_DIR/changed/: 10% with new items

The same seed always gives the same bytes: every feed and every item draws from its own
``random.Random`` seeded by strings (never the clock or hash randomization), so the corpus
needs no storing and a mutated feed shares its older items byte for byte with the original.

Half the feeds are RSS 2.0, half Atom 1.0; every 20th Russian RSS feed is windows-1251, as old
Russian sites still serve. Each feed is 30-80 KB with HTML descriptions (p, a, b, img),
categories, guids, dates and authors. ``manifest.json`` describes every feed (URL path, host,
format, content type) for the feed server and the runner.

Stdlib only, so it runs under any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape, unescape
from pathlib import Path

ITEMS_PER_FEED = 50
HOSTS = 50  # feeds are spread over 127.0.0.2 .. 127.0.0.51
MIN_FEED_BYTES = 30 * 1024
MAX_FEED_BYTES = 80 * 1024
NEW_ITEMS_WHEN_CHANGED = 5
# Items of generation 0 have serials FIRST_SERIAL .. FIRST_SERIAL + 49 (oldest first); a changed
# feed continues the sequence, so its old items keep their ids and text.
FIRST_SERIAL = 1000
BASE_TIME = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
ALMATY = timezone(timedelta(hours=5))

TAGS = ("politics", "economy", "sport", "culture", "world", "society", "tech", "regions")

# --- word lists and sentence templates (original text written for this benchmark) ----------

RU = {
    "city": [
        "Астане",
        "Алматы",
        "Шымкенте",
        "Караганде",
        "Актобе",
        "Павлодаре",
        "Костанае",
        "Усть-Каменогорске",
        "Семее",
        "Атырау",
        "Таразе",
        "Кызылорде",
        "Актау",
        "Туркестане",
    ],
    "org": [
        "министерства энергетики",
        "акимата города",
        "министерства здравоохранения",
        "Национального банка",
        "министерства просвещения",
        "комитета по водным ресурсам",
        "министерства транспорта",
        "агентства по статистике",
        "департамента полиции",
        "министерства культуры и информации",
        "палаты предпринимателей",
    ],
    "person": [
        "Айгерим Сапарова",
        "Ерлан Жумабеков",
        "Наталья Ковалёва",
        "Мурат Исмаилов",
        "Дина Ахметова",
        "Сергей Литвинов",
        "Асель Нурланова",
        "Тимур Бекмуханов",
    ],
    "subject": [
        "новая школа на 1200 мест",
        "участок объездной дороги",
        "модернизированная котельная",
        "центр обслуживания населения",
        "спортивный комплекс",
        "детская поликлиника",
        "мост через реку",
        "линия скоростного автобуса",
        "технопарк для стартапов",
    ],
    "event": [
        "форум молодых предпринимателей",
        "республиканская ярмарка",
        "турнир по борьбе",
        "фестиваль национальной музыки",
        "выставка современного искусства",
        "международная конференция по логистике",
        "благотворительный марафон",
    ],
    "title": [
        "В {city} стартовал проект: {subject}",
        "Цены на бензин в {city} выросли на {pct}%",
        "{Person}: «Мы завершим проект до конца года»",
        "В {city} построят {subject}",
        "Представители {org} подвели итоги полугодия",
        "Погода на выходные: в {city} ожидается до {temp} градусов",
        "Экспорт зерна вырос на {pct}% за первый квартал",
        "Сборная Казахстана вышла в финал турнира",
        "В {city} прошёл {event}",
        "В {city} жители пожаловались на перебои с водой",
    ],
    "sentence": [
        "В {city} состоялось торжественное открытие: {subject} начал работу в понедельник.",
        "Как сообщает пресс-служба {org}, на реализацию проекта направлено {money} млрд тенге.",
        "По словам {person_gen}, работы планируется завершить к {month_ru}.",
        "В мероприятии приняли участие более {n} человек из разных регионов страны.",
        "Специалисты {org} отмечают, что спрос на услуги вырос на {pct}% по сравнению с прошлым годом.",
        "Ранее сообщалось, что {subject} будет построен за счёт средств местного бюджета.",
        "Синоптики предупреждают о сильном ветре и гололёде на дорогах в ночные часы.",
        "Жителей просят заранее планировать поездки и следить за сообщениями служб.",
        "{event_cap} продлится три дня, вход для посетителей свободный.",
        "Эксперты считают, что рост цен связан с сезонным спросом и расходами на логистику.",
        "В ведомстве подчеркнули, что все работы ведутся по утверждённому графику.",
        "Подробности обещают сообщить на брифинге в {city} в ближайшие дни.",
    ],
}

KK = {
    "city": [
        "Астана",
        "Алматы",
        "Шымкент",
        "Қарағанды",
        "Ақтөбе",
        "Павлодар",
        "Қостанай",
        "Өскемен",
        "Семей",
        "Атырау",
        "Тараз",
        "Қызылорда",
        "Ақтау",
        "Түркістан",
    ],
    "org": [
        "Энергетика министрлігі",
        "қала әкімдігі",
        "Денсаулық сақтау министрлігі",
        "Ұлттық банк",
        "Оқу-ағарту министрлігі",
        "Су ресурстары комитеті",
        "Көлік министрлігі",
        "Статистика агенттігі",
        "Полиция департаменті",
        "Мәдениет және ақпарат министрлігі",
        "Кәсіпкерлер палатасы",
    ],
    "person": [
        "Әйгерім Сапарова",
        "Ерлан Жұмабеков",
        "Мұрат Исмаилов",
        "Дина Ахметова",
        "Асел Нұрланқызы",
        "Тимур Бекмұханов",
        "Ғалымжан Өмірзақов",
        "Құралай Сейітова",
    ],
    "subject": [
        "1200 орындық жаңа мектеп",
        "айналма жолдың бір бөлігі",
        "жаңартылған қазандық",
        "халыққа қызмет көрсету орталығы",
        "спорт кешені",
        "балалар емханасы",
        "өзен үстіндегі көпір",
        "технопарк",
        "шаһар орталығындағы саябақ",
    ],
    "event": [
        "жас кәсіпкерлер форумы",
        "республикалық жәрмеңке",
        "күрестен турнир",
        "ұлттық музыка фестивалі",
        "қазіргі өнер көрмесі",
        "логистика бойынша халықаралық конференция",
        "қайырымдылық марафоны",
        "жиһаз өндірушілердің көрмесі",
    ],
    "title": [
        "{city} қаласында {event} өтті",
        "{city} қаласында жанармай бағасы {pct} пайызға өсті",
        "{Person}: «Жобаны жыл соңына дейін аяқтаймыз»",
        "{city} қаласында {subject} салынады",
        "{org} жарты жылдың қорытындысын шығарды",
        "Демалыс күндері {city} қаласында {temp} градусқа дейін жылы болады",
        "Астық экспорты бірінші тоқсанда {pct} пайызға өсті",
        "Қазақстан құрамасы турнирдің финалына шықты",
        "Ауыл шаруашылығы қаһармандары марапатталды",
    ],
    "sentence": [
        "{city} қаласында салтанатты ашылу болды: {subject} дүйсенбіде жұмысын бастады.",
        "{org} баспасөз қызметінің хабарлауынша, жобаға {money} млрд теңге бөлінген.",
        "{Person} сөзінше, жұмыстар {month_kk} айына дейін аяқталады.",
        "Іс-шараға еліміздің әр өңірінен {n} адамнан астам қатысты.",
        "Мамандардың айтуынша, қызметтерге сұраныс былтырғы жылмен салыстырғанда {pct} пайызға өсті.",
        "Бұған дейін {subject} жергілікті бюджет есебінен салынатыны хабарланған.",
        "Синоптиктер түнгі уақытта қатты жел мен көктайғақ болатынын ескертеді.",
        "Тұрғындардан сапарларын алдын ала жоспарлап, қызметтердің хабарламаларын қадағалау сұралады.",
        "{event_cap} үш күнге созылады, келушілерге кіру тегін.",
        "Сарапшылар бағаның өсуін маусымдық сұраныспен және логистика шығындарымен байланыстырады.",
        "Ведомство барлық жұмыс бекітілген кесте бойынша жүргізіліп жатқанын атап өтті.",
        "Толық ақпарат алдағы күндері {city} қаласындағы брифингте айтылады.",
        "Өңірде жаңа мектеп пен емхана салу жұмыстары жалғасуда, құрылысшылар екі ауысыммен жұмыс істейді.",
    ],
}

EN = {
    "city": ["Astana", "Almaty", "Shymkent", "Karaganda", "Aktobe", "Pavlodar", "Atyrau", "Aktau"],
    "org": [
        "the Ministry of Energy",
        "the city administration",
        "the National Bank",
        "the Ministry of Transport",
        "the Bureau of National Statistics",
        "the Chamber of Entrepreneurs",
    ],
    "person": ["Aigerim Saparova", "Yerlan Zhumabekov", "Dina Akhmetova", "Murat Ismailov"],
    "subject": [
        "a new school for 1,200 pupils",
        "a section of the ring road",
        "a district heating plant",
        "a public service centre",
        "a sports complex",
        "a children's clinic",
        "a technology park",
    ],
    "event": [
        "a young entrepreneurs forum",
        "a national trade fair",
        "a wrestling tournament",
        "a festival of traditional music",
        "an international logistics conference",
    ],
    "title": [
        "{city} opens {subject}",
        "Fuel prices in {city} up {pct}% in a month",
        "{Person}: 'We will finish the project by year end'",
        "Grain exports grow {pct}% in the first quarter",
        "Kazakhstan reaches the tournament final",
        "{city} hosts {event}",
    ],
    "sentence": [
        "{subject_cap} opened in {city} on Monday, officials said.",
        "According to {org}, {money} billion tenge has been allocated to the project.",
        "{Person} said the work is expected to be completed by {month_en}.",
        "More than {n} people from across the country took part in the event.",
        "Demand for the service grew {pct}% compared with last year, analysts noted.",
        "Forecasters warn of strong wind and icy roads overnight.",
        "Residents are asked to plan trips in advance and follow official announcements.",
        "Experts link the price rise to seasonal demand and higher logistics costs.",
        "Further details are expected at a briefing in {city} later this week.",
    ],
}

WORDS = {"ru": RU, "kk": KK, "en": EN}
MONTHS_RU = ["концу июня", "сентябрю", "декабрю", "середине осени"]
MONTHS_KK = ["маусым", "қыркүйек", "желтоқсан", "қазан"]
MONTHS_EN = ["the end of June", "September", "December", "mid-autumn"]
CATEGORY_NAMES = {
    "ru": [
        "Политика",
        "Экономика",
        "Спорт",
        "Культура",
        "В мире",
        "Общество",
        "Технологии",
        "Регионы",
    ],
    "kk": ["Саясат", "Экономика", "Спорт", "Мәдениет", "Әлем", "Қоғам", "Технология", "Өңірлер"],
    "en": ["Politics", "Economy", "Sport", "Culture", "World", "Society", "Tech", "Regions"],
}
AUTHOR_POOL = {"ru": RU["person"], "kk": KK["person"], "en": EN["person"]}
SITE_TITLES = {
    "ru": ["Новости региона", "Деловой вестник", "Вечерний город", "Степные ведомости"],
    "kk": ["Өңір жаңалықтары", "Іскер хабаршы", "Кешкі қала", "Дала үні"],
    "en": ["Regional News", "Business Herald", "Steppe Times"],
}


@dataclass
class FeedInfo:
    """One feed in manifest.json."""

    index: int
    path: str  # URL path, e.g. /feeds/0007.xml
    file: str  # relative to the corpus directory
    host: str  # the loopback address serving it, e.g. 127.0.0.9
    format: str  # "rss20" or "atom10"
    language: str
    encoding: str
    content_type: str
    tags: list[str]
    title: str
    items: int
    bytes: int
    changed_file: str | None = None  # set by mutate()
    changed_bytes: int | None = None


@dataclass
class Manifest:
    seed: str
    feeds: list[FeedInfo] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)

    def write(self, directory: Path) -> None:
        data = {
            "seed": self.seed,
            "changed": self.changed,
            "feeds": [asdict(f) for f in self.feeds],
        }
        (directory / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / "manifest.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SystemExit(  # noqa: B904 - a message, not a traceback
                f"{path} not found: generate the corpus first (corpus.py DIR --feeds N)"
            )
        return cls(data["seed"], [FeedInfo(**f) for f in data["feeds"]], data["changed"])


def host_for(index: int) -> str:
    return f"127.0.0.{2 + index % HOSTS}"


# --- text -------------------------------------------------------------------------------------


def _fill(template: str, words: dict, lang: str, rng: random.Random) -> str:
    person = rng.choice(words["person"])
    event = rng.choice(words["event"])
    subject = rng.choice(words["subject"])
    values = {
        "city": rng.choice(words["city"]),
        "org": rng.choice(words["org"]),
        "Person": person,
        "person_gen": person,  # declension is beyond a benchmark; the bytes are what matter
        "subject": subject,
        "subject_cap": subject[:1].upper() + subject[1:],
        "event": event,
        "event_cap": event[:1].upper() + event[1:],
        "pct": rng.randint(2, 35),
        "temp": rng.randint(-25, 38),
        "money": f"{rng.randint(1, 480)},{rng.randint(0, 9)}"
        if lang != "en"
        else rng.randint(1, 480),
        "n": rng.randrange(50, 5000, 50),
        "month_ru": rng.choice(MONTHS_RU),
        "month_kk": rng.choice(MONTHS_KK),
        "month_en": rng.choice(MONTHS_EN),
    }
    return template.format(**values)


def _paragraph(words: dict, lang: str, rng: random.Random, site: str) -> str:
    sentences = [
        _fill(rng.choice(words["sentence"]), words, lang, rng) for _ in range(rng.randint(1, 4))
    ]
    # Mark up one sentence or phrase, as editors do: bold or a link.
    pick = rng.randrange(len(sentences))
    if rng.random() < 0.4:
        sentences[pick] = f"<b>{escape(sentences[pick], quote=False)}</b>"
    elif rng.random() < 0.5:
        slug = rng.randrange(10_000, 99_999)
        sentences[pick] = (
            f'<a href="https://{site}/{lang}/news/{slug}">{escape(sentences[pick], quote=False)}</a>'
        )
    else:
        sentences[pick] = escape(sentences[pick], quote=False)
    return (
        "<p>"
        + " ".join(s if s.startswith("<") else escape(s, quote=False) for s in sentences)
        + "</p>"
    )


@dataclass
class FeedPlan:
    index: int
    lang: str
    format: str
    encoding: str
    site: str
    title: str
    tags: list[str]
    target_bytes: int
    item_html_budget: int  # bytes of HTML per item; render_feed() calibrates it to target_bytes
    authors: list[str]
    categories: list[str]
    minutes_apart: int
    full_content: bool  # RSS: content:encoded beside a short description


def plan_feed(seed: str, index: int) -> FeedPlan:
    """Feed ``index``'s language, format, site and size, before its per-item budget is calibrated."""
    rng = random.Random(f"{seed}:feed:{index}")
    lang = rng.choices(["ru", "kk", "en"], weights=[55, 35, 10])[0]
    fmt = "rss20" if index % 2 == 0 else "atom10"
    encoding = "windows-1251" if lang == "ru" and fmt == "rss20" and index % 20 == 0 else "utf-8"
    host_no = 2 + index % HOSTS
    site = f"www.site{host_no:02d}-{index:04d}.example.com"
    target = rng.randint(MIN_FEED_BYTES + 3 * 1024, MAX_FEED_BYTES - 3 * 1024)
    # Cyrillic is two bytes a character in UTF-8 but one in windows-1251.
    overhead = 700 if fmt == "atom10" else 600
    budget = target // ITEMS_PER_FEED - overhead
    if encoding != "utf-8":
        budget = int(budget * 1.8)
    tag_ids = rng.sample(range(len(TAGS)), 2)
    return FeedPlan(
        index=index,
        lang=lang,
        format=fmt,
        encoding=encoding,
        site=site,
        title=f"{rng.choice(SITE_TITLES[lang])} {index:04d}",
        tags=[TAGS[t] for t in tag_ids],
        target_bytes=target,
        item_html_budget=max(budget, 300),
        authors=rng.sample(AUTHOR_POOL[lang], 3),
        categories=[CATEGORY_NAMES[lang][t] for t in tag_ids] + rng.sample(CATEGORY_NAMES[lang], 2),
        minutes_apart=rng.randint(15, 90),
        full_content=rng.random() < 0.3,
    )


@dataclass
class ItemData:
    serial: int
    title: str
    link: str
    guid: str
    guid_is_link: bool
    published: datetime
    author: str
    categories: list[str]
    summary_text: str
    content_html: str


def make_item(seed: str, feed: FeedPlan, serial: int) -> ItemData:
    """Item ``serial`` of ``feed``: the same text whichever generation of the feed shows it."""
    rng = random.Random(f"{seed}:item:{feed.index}:{serial}")
    words = WORDS[feed.lang]
    title = _fill(rng.choice(words["title"]), words, feed.lang, rng)
    published = (
        BASE_TIME
        - timedelta(minutes=feed.index % 97)
        + timedelta(minutes=feed.minutes_apart * (serial - FIRST_SERIAL - ITEMS_PER_FEED))
    )
    day = published.strftime("%Y/%m/%d")
    link = f"https://{feed.site}/{feed.lang}/news/{day}/{serial}-{feed.index:04d}"
    if serial % 17 == 0:  # some feeds still emit site-relative links
        link = f"/{feed.lang}/news/{day}/{serial}-{feed.index:04d}"
    img = rng.randrange(100_000, 999_999)
    paragraphs = [
        f'<p><img src="https://cdn.{feed.site}/img/{day}/{img}.jpg" alt="" '
        f'width="{rng.choice([640, 800, 1024])}" height="{rng.choice([360, 450, 576])}"></p>'
    ]
    size = len(paragraphs[0])
    budget = feed.item_html_budget + rng.randint(-150, 150)
    while size < budget:
        p = _paragraph(words, feed.lang, rng, feed.site)
        paragraphs.append(p)
        size += len(p.encode("utf-8" if feed.encoding == "utf-8" else feed.encoding))
    content = "\n".join(paragraphs)
    # The summary is the lead: the first sentence of the first text paragraph, as plain text.
    lead = paragraphs[1] if len(paragraphs) > 1 else title
    lead = re.sub(r"<[^>]+>", "", lead)
    summary = unescape(lead.split(". ")[0].rstrip(".") + ".")
    n_cat = rng.randint(1, 3)
    return ItemData(
        serial=serial,
        title=title,
        link=link,
        guid=link if serial % 3 == 0 and not link.startswith("/") else f"{feed.site}:{serial}",
        guid_is_link=serial % 3 == 0 and not link.startswith("/"),
        published=published,
        author=rng.choice(feed.authors),
        categories=rng.sample(feed.categories, n_cat),
        summary_text=summary,
        content_html=content,
    )


def _cdata(html: str) -> str:
    return "<![CDATA[" + html.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rss(feed: FeedPlan, items: list[ItemData]) -> str:
    out = [
        f'<?xml version="1.0" encoding="{feed.encoding}"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"<title>{escape(feed.title)}</title>",
        f"<link>https://{feed.site}/{feed.lang}/</link>",
        f"<description>{escape(feed.title)}: {len(items)} последних материалов</description>",
        f"<language>{feed.lang}</language>",
        f"<lastBuildDate>{format_datetime(items[0].published.astimezone(ALMATY))}</lastBuildDate>",
        "<ttl>15</ttl>",
        "<generator>benchmark corpus</generator>",
    ]
    for n, it in enumerate(items):
        # Alternate the two ways CMSs put HTML into RSS: CDATA and entity-escaped.
        body = _cdata if (feed.index + n) % 2 == 0 else escape
        date = it.published.astimezone(ALMATY) if n % 2 else it.published
        out.append("<item>")
        out.append(f"<title>{escape(it.title)}</title>")
        out.append(f"<link>{escape(it.link)}</link>")
        perma = "true" if it.guid_is_link else "false"
        out.append(f'<guid isPermaLink="{perma}">{escape(it.guid)}</guid>')
        out.append(f"<pubDate>{format_datetime(date, usegmt=date.tzinfo is UTC)}</pubDate>")
        if n % 2:
            out.append(f"<dc:creator>{escape(it.author)}</dc:creator>")
        else:
            out.append(f"<author>news@{feed.site} ({escape(it.author)})</author>")
        out.extend(f"<category>{escape(c)}</category>" for c in it.categories)
        if feed.full_content:
            out.append(f"<description>{escape(it.summary_text)}</description>")
            out.append(f"<content:encoded>{_cdata(it.content_html)}</content:encoded>")
        else:
            out.append(f"<description>{body(it.content_html)}</description>")
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def _atom(feed: FeedPlan, items: list[ItemData]) -> str:
    def stamp(d: datetime) -> str:
        return d.astimezone(ALMATY).isoformat()

    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed.lang}">',
        f"<title>{escape(feed.title)}</title>",
        f'<link rel="alternate" type="text/html" href="https://{feed.site}/{feed.lang}/"/>',
        f'<link rel="self" href="https://{feed.site}/{feed.lang}/atom.xml"/>',
        f"<id>tag:{feed.site},2024:/{feed.lang}/feed</id>",
        f"<updated>{stamp(items[0].published)}</updated>",
        f"<subtitle>{escape(feed.title)}</subtitle>",
    ]
    for it in items:
        out.append("<entry>")
        out.append(f'<title type="text">{escape(it.title)}</title>')
        out.append(f'<link rel="alternate" type="text/html" href="{escape(it.link)}"/>')
        out.append(f"<id>tag:{feed.site},2024:{it.serial}</id>")
        out.append(f"<published>{stamp(it.published)}</published>")
        out.append(f"<updated>{stamp(it.published + timedelta(minutes=it.serial % 7))}</updated>")
        out.append(f"<author><name>{escape(it.author)}</name></author>")
        scheme = f"https://{feed.site}/{feed.lang}/rubric"
        out.extend(f'<category term="{escape(c)}" scheme="{scheme}"/>' for c in it.categories)
        out.append(f'<summary type="text">{escape(it.summary_text)}</summary>')
        out.append(f'<content type="html">{escape(it.content_html)}</content>')
        out.append("</entry>")
    out += ["</feed>", ""]
    return "\n".join(out)


def feed_items(seed: str, feed: FeedPlan, new_items: int = 0) -> list[ItemData]:
    """The items a generation of the feed shows, newest first."""
    last = FIRST_SERIAL + ITEMS_PER_FEED - 1 + new_items
    return [make_item(seed, feed, s) for s in range(last, last - ITEMS_PER_FEED, -1)]


def _render(seed: str, feed: FeedPlan, new_items: int) -> bytes:
    items = feed_items(seed, feed, new_items)
    text = _rss(feed, items) if feed.format == "rss20" else _atom(feed, items)
    return text.encode(feed.encoding)


def render_feed(seed: str, index: int, *, new_items: int = 0) -> tuple[bytes, FeedPlan]:
    """The bytes of feed ``index``; ``new_items`` newer items push out as many old ones."""
    feed = plan_feed(seed, index)
    # Escaping and markup make the size hard to predict: scale the per-item budget to the
    # generation-0 feed's size a few times (deterministic, so changed feeds calibrate alike).
    body = _render(seed, feed, 0)
    for _ in range(8):
        if abs(len(body) - feed.target_bytes) < 2048:
            break
        scale = feed.target_bytes / len(body)
        # The overshoot is in whole paragraphs: step a little further than proportional.
        scale = scale * 0.97 if scale < 1 else scale * 1.03
        feed.item_html_budget = max(100, int(feed.item_html_budget * scale))
        body = _render(seed, feed, 0)
    return (body if new_items == 0 else _render(seed, feed, new_items)), feed


def _content_type(feed: FeedPlan) -> str:
    kind = "application/rss+xml" if feed.format == "rss20" else "application/atom+xml"
    return f"{kind}; charset={feed.encoding}"


def generate(directory: str | Path, feeds: int, *, seed: str = "aggregator-bench-1") -> Manifest:
    """Write ``feeds`` feeds into ``directory``/feeds and a manifest; return the manifest."""
    directory = Path(directory)
    (directory / "feeds").mkdir(parents=True, exist_ok=True)
    manifest = Manifest(seed)
    for i in range(feeds):
        body, feed = render_feed(seed, i)
        name = f"feeds/{i:04d}.xml"
        (directory / name).write_bytes(body)
        manifest.feeds.append(
            FeedInfo(
                index=i,
                path="/" + name,
                file=name,
                host=host_for(i),
                format=feed.format,
                language=feed.lang,
                encoding=feed.encoding,
                content_type=_content_type(feed),
                tags=feed.tags,
                title=feed.title,
                items=ITEMS_PER_FEED,
                bytes=len(body),
            )
        )
    manifest.write(directory)
    return manifest


def mutate(directory: str | Path, fraction: float = 0.1) -> Manifest:
    """Write changed versions of ``fraction`` of the feeds into ``directory``/changed.

    Each changed feed gets NEW_ITEMS_WHEN_CHANGED new items at the top (its oldest ones drop
    off), as a news site's feed does between two polls. The choice of feeds is seeded too.
    """
    directory = Path(directory)
    manifest = Manifest.read(directory)
    count = round(len(manifest.feeds) * fraction)
    chosen = sorted(
        random.Random(f"{manifest.seed}:mutate").sample(range(len(manifest.feeds)), count)
    )
    (directory / "changed").mkdir(exist_ok=True)
    for info in manifest.feeds:
        info.changed_file = info.changed_bytes = None
    for i in chosen:
        body, _ = render_feed(manifest.seed, i, new_items=NEW_ITEMS_WHEN_CHANGED)
        name = f"changed/{i:04d}.xml"
        (directory / name).write_bytes(body)
        manifest.feeds[i].changed_file = name
        manifest.feeds[i].changed_bytes = len(body)
    manifest.changed = chosen
    manifest.write(directory)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--feeds", type=int, help="generate this many feeds")
    parser.add_argument("--seed", default="aggregator-bench-1")
    parser.add_argument(
        "--mutate", type=float, metavar="FRACTION", help="write changed versions of this fraction"
    )
    args = parser.parse_args(argv)
    if args.feeds is None and args.mutate is None:
        parser.error("give --feeds N to generate, --mutate FRACTION to change, or both")
    if args.feeds is not None:
        m = generate(args.directory, args.feeds, seed=args.seed)
        sizes = [f.bytes for f in m.feeds]
        print(
            f"{len(sizes)} feeds, {sum(sizes) / 1e6:.1f} MB, {min(sizes)}..{max(sizes)} bytes each"
        )
    if args.mutate is not None:
        m = mutate(args.directory, args.mutate)
        print(f"{len(m.changed)} feeds changed ({NEW_ITEMS_WHEN_CHANGED} new items each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
