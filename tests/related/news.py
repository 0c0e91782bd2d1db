"""Shared test data for the related tests: news items in ru/kk/en, documents, a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.config import (
    Config,
    OutputConfig,
    PublishConfig,
    RelatedConfig,
    SiteConfig,
    SourceConfig,
)
from aggregator.ingest.update import record_fetch
from aggregator.models import Item
from aggregator.related import (
    Document,
    RelatedIndex,
)
from aggregator.store import Storage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = RelatedConfig()
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<img src=x onerror="alert(1)"> & '

# (key, hours after T0, title, text, tags, language)
NEWS = [
    (
        "school-a",
        0,
        "В Караганде открыли новую школу на 1200 мест",
        "Здание на улице Абая построила компания «Сарыарка Строй». Аким Ерлан Жумабеков "
        "сообщил, что в школе есть бассейн и 12 кабинетов робототехники.",
        ("общество",),
        "ru",
    ),
    (
        "school-b",
        5,
        "Карагандинские школьники пошли в новую школу на 1200 учеников",
        "Учебный корпус на улице Абая возвели строители «Сарыарка Строй». По словам "
        "Ерлана Жумабекова, там оборудованы бассейн и 12 классов робототехники.",
        ("общество",),
        "ru",
    ),
    (
        "school-other",
        30,
        "В Павлодаре открыли новую школу на 600 мест",
        "Здание на улице Ленина построила компания «Ертіс Құрылыс». Аким Мурат Исмаилов "
        "сообщил, что в школе есть спортзал и 4 компьютерных класса.",
        ("общество",),
        "ru",
    ),
    (
        "fuel-a",
        10,
        "Бензин в Шымкенте подорожал до 245 тенге за литр",
        "Сеть заправок «Оңтүстік Ойл» подняла цену АИ-92 на 7 тенге. Дина Ахметова из "
        "управления предпринимательства обещает проверить обоснованность роста.",
        ("экономика",),
        "ru",
    ),
    (
        "fuel-b",
        12,
        "Шымкентские АЗС продают АИ-92 по 245 тенге",
        "Автомобилисты заметили, что на станциях «Оңтүстік Ойл» топливо стало дороже на "
        "7 тенге. Дина Ахметова пообещала проверку ценообразования.",
        ("экономика",),
        "ru",
    ),
    (
        "bridge-kk-a",
        20,
        "Семейде Ертіс өзені арқылы жаңа көпір ашылды",
        "Ұзындығы 1400 метр көпірді «Ертіс Құрылыс» компаниясы салды. Ашылу салтанатына "
        "Бауыржан Оспанов қатысты.",
        ("қоғам",),
        "kk",
    ),
    (
        "bridge-kk-b",
        22,
        "Семейдегі 1400 метрлік жаңа көпірде қозғалыс басталды",
        "Ертіс үстіндегі көпірдің құрылысын «Ертіс Құрылыс» жүргізді. Бауыржан Оспановтың "
        "айтуынша, көпір қаланың екі бөлігін жалғайды.",
        ("қоғам",),
        "kk",
    ),
    (
        "quake-en-a",
        40,
        "Magnitude 5.1 earthquake shakes Almaty, no damage reported",
        "The tremor was centred 180 kilometres south-east of the city, emergency officials "
        "said. Residents of Almaty felt the shaking at 03:40.",
        ("world",),
        "en",
    ),
    (
        "quake-en-b",
        41,
        "Almaty residents woken by 5.1 quake",
        "Seismologists placed the epicentre 180 km from Almaty. The emergencies ministry "
        "said there were no reports of damage after the 03:40 tremor.",
        ("world",),
        "en",
    ),
    (
        "weather",
        50,
        "Синоптики обещают в Актау жару до 41 градуса",
        "Горячий воздух из Туркменистана задержится на побережье Каспия до конца недели.",
        ("погода",),
        "ru",
    ),
]


def doc(key: str, hours: float, title: str, text: str, tags=(), lang="ru", **kw) -> Document:
    return Document(
        key=key,
        published=T0 + timedelta(hours=hours),
        title=title,
        text=text,
        tags=tuple(tags),
        language=lang,
        version=kw.pop("version", "1"),
        **kw,
    )


def corpus() -> list[Document]:
    return [doc(*row) for row in NEWS]


def keys(index: RelatedIndex, key: str) -> list[str]:
    return [k for k, _ in index.related(key)]


def site_config(tmp_path: Path) -> Config:
    sources = (
        SourceConfig(id="tengri", name="Tengrinews", url="t.xml", language="ru", tags=("kz",)),
        SourceConfig(id="vlast", name="Власть <Vlast>", url="v.xml", language="ru"),
        SourceConfig(id="kaz", name="Қазақпарат", url="k.xml", language="kk"),
        SourceConfig(id="wire", name="Steppe Wire", url="w.xml", language="en"),
    )
    return Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.kz/"),
        sources=sources,
        outputs=(OutputConfig(name="all"),),
        publish=PublishConfig(dir=str(tmp_path / "output")),
        path=str(tmp_path / "feeds.yaml"),
    )


SOURCE_OF = {
    "school-a": "tengri",
    "school-b": "vlast",
    "school-other": "tengri",
    "fuel-a": "tengri",
    "fuel-b": "vlast",
    "bridge-kk-a": "kaz",
    "bridge-kk-b": "kaz",
    "quake-en-a": "wire",
    "quake-en-b": "wire",
    "weather": "vlast",
    "school-b-reprint": "wire",
    "school-c": "kaz",
}

# The same text as school-b, reprinted by another outlet; and a retelling whose feed
# gives its headline as its only text.
REPRINT = ("school-b-reprint", 7, NEWS[1][2], NEWS[1][3], NEWS[1][4], "ru")
HEADLINE_ONLY = (
    "school-c",
    9,
    "В Караганде открылась школа на 1200 мест для учеников",
    "",
    (),
    "ru",
)


def store_items(storage: Storage, config: Config, rows=NEWS, title_of=None, query_of=None) -> None:
    storage.sync_sources(config.sources)
    by_source: dict[str, list[Item]] = {}
    for key, hours, title, text, tags, lang in rows:
        published = T0 + timedelta(hours=hours)
        item = Item(
            id=key,
            title=(title_of or {}).get(key, title),
            link=f"https://{SOURCE_OF[key]}.example.kz/news/{key}{(query_of or {}).get(key, '')}",
            summary=f"<p>{text or title}</p>",
            published=published,
            updated=published,
            categories=tags,
            language=lang,
        )
        by_source.setdefault(SOURCE_OF[key], []).append(item)
    for source_id, items in by_source.items():
        state = storage.get_source_state(source_id)
        record_fetch(storage, state, items, fetched_at=T0 + timedelta(days=3))


def key_of(storage: Storage, item_id: str) -> str:
    return next(s.key for s in storage.iter_items() if s.item.id == item_id)
