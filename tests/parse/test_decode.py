"""decode.py: the text comes out right whatever the encoding, declared or not, true or not."""

from __future__ import annotations

import pytest
from legacy_texts import DEV, TEST, legacy_feed

from aggregator.parse import parse_feed

# Every test runs on both parse paths (conftest.py), "auto" (lxml where it can) and "feedparser".
pytestmark = pytest.mark.usefixtures("both_parse_paths")

URL = "https://agency.example.kz/rss/news.xml"

RU = "Президент подписал закон о бюджете, Ёжик и съезд"
KK = "Қазақстан: әлем, ғылым, қала, өңір, өнер, ұлт, үміт, һәм, іс"


# --- encodings --------------------------------------------------------------------


def encoded_rss(text: str, encoding: str, *, declare: str | None = None) -> bytes:
    decl = f'<?xml version="1.0" encoding="{declare}"?>\n' if declare else ""
    doc = (
        f'{decl}<rss version="2.0"><channel><title>{text}</title>'
        f"<item><title>{text}</title><description>{text}</description></item></channel></rss>"
    )
    return doc.encode(encoding)


def assert_text(body: bytes, expected: str, headers=None):
    feed = parse_feed(body, URL, headers)
    assert feed.title == expected
    assert feed.items[0].title == expected
    assert feed.items[0].summary == expected


ENCODING_CASES = {
    "windows-1251 declared": (encoded_rss(RU, "cp1251", declare="windows-1251"), RU, None),
    "koi8-r declared": (encoded_rss(RU, "koi8-r", declare="KOI8-R"), RU, None),
    "windows-1251 undeclared": (encoded_rss(RU, "cp1251"), RU, None),
    "koi8-r undeclared": (encoded_rss(RU, "koi8-r"), RU, None),
    "windows-1251 in the header only": (
        encoded_rss(RU, "cp1251"),
        RU,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "windows-1251 declared, header says utf-8": (
        encoded_rss(RU, "cp1251", declare="windows-1251"),
        RU,
        {"Content-Type": "application/rss+xml; charset=UTF-8"},
    ),
    "windows-1251 declared, header says ISO-8859-1": (
        encoded_rss(RU, "cp1251", declare="windows-1251"),
        RU,
        {"Content-Type": "text/xml; charset=ISO-8859-1"},
    ),
    "windows-1251 undeclared, header says ISO-8859-1": (
        encoded_rss(RU, "cp1251"),
        RU,
        {"Content-Type": "text/xml; charset=ISO-8859-1"},
    ),
    "koi8-r declared, header says windows-1251": (
        encoded_rss(RU, "koi8-r", declare="koi8-r"),
        RU,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "utf-8, header says windows-1251": (
        encoded_rss(KK, "utf-8", declare="utf-8"),
        KK,
        {"Content-Type": "text/xml; charset=windows-1251"},
    ),
    "utf-8 with BOM": (b"\xef\xbb\xbf" + encoded_rss(KK, "utf-8", declare="utf-8"), KK, None),
    "utf-16 with BOM": (encoded_rss(KK, "utf-16", declare="UTF-16"), KK, None),
    "utf-16-be with BOM": (b"\xfe\xff" + encoded_rss(KK, "utf-16-be", declare="UTF-16"), KK, None),
    "utf-16 declared, no BOM": (
        encoded_rss(KK, "utf-16-le", declare="UTF-16"),
        KK,
        {"Content-Type": "application/xml; charset=utf-16"},
    ),
    "kz-1048 declared": (encoded_rss(KK, "kz1048", declare="KZ-1048"), KK, None),
    "ISO-8859-1 undeclared": (encoded_rss("Thérapie, être à côté", "latin-1"), "Thérapie, être à côté", None),
    "ISO-8859-1, header says utf-8": (
        encoded_rss("Müller über Größe", "latin-1"),
        "Müller über Größe",
        {"Content-Type": "text/xml; charset=utf-8"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ENCODING_CASES)
def test_text_comes_out_right_whatever_the_encoding(case):
    body, expected, headers = ENCODING_CASES[case]
    assert_text(body, expected, headers)


def test_utf8_with_a_few_broken_bytes_is_still_read_as_utf8():
    body = encoded_rss(RU + " " + KK, "utf-8", declare="utf-8")
    broken = body.replace("Ёжик".encode(), "Ёжик".encode()[:-1], 1)  # cut "к" in half
    feed = parse_feed(broken, URL, {"Content-Type": "text/xml; charset=windows-1251"})
    assert feed.title.startswith("Президент подписал закон о бюджете, Ёжи\ufffd")
    assert feed.title.endswith(KK)


def test_kazakh_letters_survive_every_unicode_encoding():
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert_text(encoded_rss(KK, encoding, declare=encoding.upper()), KK)


# --- undeclared legacy encodings: detected, and said so -------------------------------

LEGACY = {f"{encoding} ({language})": (encoding, language, text) for encoding, language, text in DEV + TEST}  # fmt: skip


@pytest.mark.parametrize("case", LEGACY)
def test_undeclared_legacy_encodings_are_detected(case):
    encoding, language, sentence = LEGACY[case]
    feed = parse_feed(legacy_feed(encoding, language, sentence), URL)
    assert feed.items[0].summary == sentence
    assert feed.encoding.endswith(" (detected)")


@pytest.mark.parametrize("case", LEGACY)
def test_a_legacy_title_alone_is_enough_evidence(case):
    encoding, language, sentence = LEGACY[case]
    feed = parse_feed(legacy_feed(encoding, language, sentence, short=True), URL)
    assert feed.items[0].title == sentence


def test_short_cyrillic_text_is_read_as_cyrillic_not_western():
    for encoding in ("cp1251", "koi8-r"):
        assert_text(encoded_rss("Новости дня", encoding), "Новости дня")


def test_how_the_text_was_decoded_is_reported():
    assert parse_feed(encoded_rss(KK, "utf-8"), URL).encoding == "utf-8"
    declared = encoded_rss(RU, "cp1251", declare="windows-1251")
    assert parse_feed(declared, URL).encoding == "windows-1251 (declared)"
    bom = b"\xef\xbb\xbf" + encoded_rss(KK, "utf-8")
    assert parse_feed(bom, URL).encoding == "utf-8 (byte order mark)"


def test_kazakh_in_kz1048_declared_as_windows_1251_is_read_as_kz1048():
    # Read as windows-1251 its Kazakh letters come out Serbian and Macedonian ones
    # (Қазақстан as Ќазаќстан, ң as ѕ, ә as ј): the guess that has none of them wins.
    body = encoded_rss(KK, "kz1048", declare="windows-1251")
    feed = parse_feed(body, URL)
    assert (feed.title, feed.encoding) == (KK, "kz-1048 (detected)")
    # Russian reads the same in both: the declared windows-1251 stays.
    russian = parse_feed(encoded_rss(RU, "cp1251", declare="windows-1251"), URL)
    assert (russian.title, russian.encoding) == (RU, "windows-1251 (declared)")


@pytest.mark.parametrize("declare", [None, "windows-1251"])
def test_serbian_and_macedonian_in_windows_1251_are_not_read_as_kz1048(declare):
    # The bytes of ћ ќ ј ѕ are Kazakh letters in KZ-1048 (һ қ ә ң): read so, a Serbian
    # page loses fewer of the letters our score counts, yet it is not Kazakh.
    for text in (
        "Ђорђе и Љиљана: ћерка, њива, џем, Ѓорѓи ќе дојде, ѕвезда",
        "Влада је најавила да ће грађани добити нове личне карте до јесени",
        "Претседателот рече дека ќе има избори и дека ќе се гласа во недела",
    ):
        feed = parse_feed(encoded_rss(text, "cp1251", declare=declare), URL)
        assert feed.title == text
        assert feed.encoding.startswith("windows-1251")
    # Nor Ukrainian and Belarusian: their ї є ґ ў are KZ-1048's ү ғ ө ұ; nor a Russian
    # text quoting a Ukrainian name now and then.
    quoted = "В Киеве (укр. Київ) прошли переговоры; делегации вернутся в Київ и во Львов. " * 3
    for text in (
        "Її родина є в Україні, а ґанок їхнього будинку відремонтують",
        "Беларускі ўрад абвясціў, што ў горадзе адкрыюць новую школу",
        quoted + "Итоги подведут на следующей неделе в столице, сообщили в министерстве.",
    ):
        feed = parse_feed(encoded_rss(text, "cp1251", declare=declare), URL)
        assert (feed.title, feed.encoding[:12]) == (text, "windows-1251")
    # Kazakh in KZ-1048 is still read as Kazakh, declared windows-1251 or not at all,
    # with letters of one half of the table only, too.
    for text in (
        KK,
        "Қазақстан жаңа заң қабылдады",  # қ ң (ќ ѕ in windows-1251) and ы
        "Үкімет бүгін жиын өткізді",  # ү ө (ї ґ) with ы and и
    ):
        feed = parse_feed(encoded_rss(text, "kz1048", declare=declare), URL)
        assert (feed.title, feed.encoding) == (text, "kz-1048 (detected)")


def test_a_pinned_encoding_beats_the_declaration_and_the_detector():
    body = encoded_rss(KK, "kz1048", declare="windows-1251")
    feed = parse_feed(body, URL, encoding="kz-1048")
    assert (feed.title, feed.encoding) == (KK, "kz-1048 (pinned)")
    russian = encoded_rss(RU, "cp1251", declare="windows-1251")
    read = parse_feed(russian, URL, encoding="koi8-r")  # even a wrong pin: the editor's word
    assert (read.title, read.encoding) == (RU.encode("cp1251").decode("koi8-r"), "koi8-r (pinned)")


def test_a_stray_utf8_byte_order_mark_before_a_legacy_document_does_not_win():
    # A PHP include saved with a BOM, before a windows-1251 page: the BOM would read the
    # whole feed as broken UTF-8, and neither the declaration nor a pin could mend it.
    stray = b"\xef\xbb\xbf" + encoded_rss(RU, "cp1251", declare="windows-1251")
    feed = parse_feed(stray, URL)
    assert feed.title == RU
    assert feed.encoding == "windows-1251 (declared, after a stray UTF-8 byte order mark)"
    undeclared = b"\xef\xbb\xbf" + encoded_rss(KK, "kz1048")
    pinned = parse_feed(undeclared, URL, encoding="kz-1048")
    assert (pinned.title, pinned.encoding) == (
        KK,
        "kz-1048 (pinned, after a stray UTF-8 byte order mark)",
    )
    # A UTF-8 document with a BOM and a few broken bytes is still UTF-8.
    damaged = b"\xef\xbb\xbf" + encoded_rss(RU, "utf-8").replace(b"</desc", b"\xff</desc")
    feed = parse_feed(damaged, URL)
    assert (feed.title, feed.encoding) == (RU, "utf-8 (byte order mark, 1 invalid byte replaced)")


def test_declared_utf8_with_a_few_invalid_bytes_stays_utf8():
    # Issue 12, item 9: 5 bad bytes among ~14 non-ASCII characters were read whole as
    # windows-1251 ("Р‘РёС‚С‹Р№"): a declared encoding that reads with few errors wins.
    body = (
        (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Лента</title>'
            "<item><title>Битый файл</title><description>Текст: "
        ).encode()
        + b"\xff\xfe ok \xc3 \xfe\xfb"
        + b"</description></item></channel></rss>"
    )
    feed = parse_feed(body, URL)
    assert feed.items[0].title == "Битый файл"
    assert feed.items[0].summary.startswith("Текст: \ufffd\ufffd ok")
    assert feed.encoding == "utf-8 (declared, 5 invalid bytes replaced)"
