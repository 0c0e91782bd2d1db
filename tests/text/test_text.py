"""Specification of aggregator.text: the shared language-aware text analysis."""

from __future__ import annotations

import random
import unicodedata

import pytest

from aggregator.text.html import lead, plain_text, shorten
from aggregator.text.words import (
    KK_STEM_MAX,
    STOP_WORDS,
    analyze,
    detect_language,
    normalize_for_quote,
    stem_tokens,
    stem_words,
    token_hashes,
    tokenize,
    tokenize_batch,
)


def stems(words: str, lang: str) -> set[str]:
    return set(stem_tokens(tokenize(words), lang))


# --- plain_text -------------------------------------------------------------


def test_plain_text_with_a_limit_is_the_head_of_the_whole_text():
    rng = random.Random(5)
    pieces = ["<p>", "</p>", "  ", "\n\t", "слово", "Word", "&nbsp;", "\u3000", "a", " "]
    for _ in range(300):
        html = "".join(rng.choices(pieces, k=rng.randint(0, 600)))
        whole = plain_text(html)
        for limit in (0, 1, 7, 100, 1500):
            assert plain_text(html, limit) == whole[:limit]


def test_plain_text_collapses_every_kind_of_whitespace_as_split_and_join_do():
    """Whitespace is collapsed without splitting the text into words where the only
    whitespace is spaces, tabs and line breaks, which holds because every other
    whitespace character is not printable; either way, as " ".join(text.split())."""
    assert all(not chr(c).isprintable() for c in range(0x110000) if chr(c).isspace() and c != 0x20)
    rng = random.Random(7)
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()]
    pieces = ["слово", "Word", "a", ".", "\u00ad", "\u200b", *spaces, "  ", "   ", "\r\n"]
    for _ in range(2000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 40)))
        assert plain_text(text) == " ".join(text.split()), repr(text)
        assert plain_text(text, 20) == " ".join(text.split())[:20], repr(text)


def test_plain_text_strips_tags_unescapes_entities_and_collapses_whitespace():
    html = "<p>Токаев &laquo;поручил&raquo;</p>\n<p>ускорить&nbsp;&nbsp;работу &amp; отчёт</p>"
    assert plain_text(html) == "Токаев «поручил» ускорить работу & отчёт"


def test_plain_text_drops_script_style_and_comments_with_their_contents():
    html = (
        "<style>p {color: red}</style><p>Текст</p><script>var a = '<b>x</b>';</script>"
        "<!-- реклама --><noscript>включите JS</noscript>"
    )
    assert plain_text(html) == "Текст"


def test_plain_text_joins_inline_markup_and_separates_blocks():
    assert plain_text("Ка<b>зах</b>стан<br>новости<p>дня</p>") == "Казахстан новости дня"


def test_plain_text_keeps_a_less_than_sign_in_text():
    assert plain_text("если a < b и c > d") == "если a < b и c > d"


@pytest.mark.parametrize("empty", [None, "", "<p> </p>"])
def test_plain_text_of_nothing_is_empty(empty):
    assert plain_text(empty) == ""


# --- tokenize ---------------------------------------------------------------


def test_tokenize_lowercases_folds_yo_and_splits_on_non_letters():
    assert tokenize("Ёлка-2026: «Қазақстан» и ЕАЭС!") == ["елка", "2026", "қазақстан", "еаэс"]


def test_tokenize_keeps_numbers_of_two_digits_or_more_and_drops_single_characters():
    assert tokenize("В 2026 году 5 из 15 и 7% — a b") == ["2026", "году", "из", "15"]


def test_tokenize_keeps_kazakh_letters():
    assert tokenize("Әділет, ғылым, қала, таңғы, өнер, ұлт, үй, һәм, ішкі") == [
        "әділет",
        "ғылым",
        "қала",
        "таңғы",
        "өнер",
        "ұлт",
        "үй",
        "һәм",
        "ішкі",
    ]


def test_tokenize_removes_soft_hyphens_and_stress_marks_inside_words():
    assert tokenize("Пре\u00adзидент за\u0301мок") == ["президент", "замок"]


def test_tokenize_repairs_latin_look_alikes_inside_cyrillic_words():
    # "Kазахстан" with a Latin K, "Aстана" with a Latin A.
    assert tokenize("Kазахстан Aстана iPhone") == ["казахстан", "астана", "iphone"]


def test_tokenize_batch_gives_each_texts_tokens_as_tokenize_does():
    # Among them what the batch's tables cannot fold alone: İ and Σ (their lowercase
    # depends on more than the letter), a letter past the BMP, stress marks, texts
    # not in NFC, Latin beside Cyrillic; and NUL, the batch's own separator.
    texts = [
        "В 2026 году Ёлка-2 и «Қазақстан»!",
        "",
        "Kазахстан Aстана iPhone",
        "İstanbul ΣΟΦΙΑΣ σοφίας",
        "𝐀lpha 😀 word",
        "Пре\u00adзидент за\u0301мок",
        "e\u0301cole cafe\u0301",
        "\u212bngstr\u00f6m A\u030angstro\u0308m \u1100\u1161\u11a8",
        "foo_bar\x00baz Ⅻ ǅemal \u212aelvin",
    ]
    rng = random.Random(11)
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБЁЖЯәғқңөұүһіӘabcxyzABXYZ019 _.,-«»"
    alphabet += "\u00ad\u0301İΣσς😀é\x00"
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(3000)]
    batch = tokenize_batch(texts)
    words = batch.words(range(len(batch)))
    by_text: list[list[str]] = [[] for _ in texts]
    for text, word in zip(batch.text.tolist(), words, strict=True):
        by_text[text].append(word)
    assert by_text == [tokenize(text) for text in texts]
    # Equal tokens, equal hashes, whichever way they were found.
    assert token_hashes(words).tolist() == batch.hashes.tolist()
    assert len(set(batch.hashes.tolist())) == len(set(words))


def test_a_text_without_a_character_the_batch_tables_mark_is_in_nfc():
    """tokenize_batch asks no text whether it is in NFC (tokenize normalizes one that
    is not): its kind table marks every character by which a text may not be, and a
    text holding one goes to tokenize."""
    from aggregator.text.words import _IS_REMOVED, _IS_SPECIAL, _code_tables

    marked = (_code_tables()[1] & (_IS_SPECIAL | _IS_REMOVED)) != 0
    pairs = [
        d.split()
        for c in range(0x10000)
        if len((d := unicodedata.decomposition(chr(c))).split()) == 2 and not d.startswith("<")
    ]
    tricky = [chr(int(code, 16)) for pair in pairs for code in pair]
    tricky += [
        chr(c)
        for c in range(0x10000)
        if not 0xD800 <= c < 0xE000
        and (unicodedata.combining(chr(c)) or unicodedata.decomposition(chr(c)))
    ]
    tricky += [chr(c) for c in range(0x1100, 0x1200)] + list("аеиоуйAEIOUaeiou ")
    rng = random.Random(5)
    unmarked = 0
    for _ in range(30000):
        text = "".join(rng.choices(tricky, k=rng.randint(1, 4)))
        if not marked[[ord(c) for c in text]].any():
            unmarked += 1
            assert unicodedata.is_normalized("NFC", text), ascii(text)
    assert unmarked > 1000


# --- detect_language ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Президент Казахстана провел встречу с министром энергетики.", "ru"),
        ("Президент Қасым-Жомарт Тоқаев Астанада министрлермен кездесу өткізді.", "kk"),
        ("Тоқаев Алматыға барды", "kk"),
        ("The president met the energy minister in Astana on Monday.", "en"),
        ("", "ru"),
        ("2026 — 15 %", "ru"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_a_russian_sentence_quoting_a_kazakh_name_is_russian():
    text = "Туристы посетили мемориальный комплекс «Қоркыт ата» в Кызылординской области."
    assert detect_language(text) == "ru"


def test_a_short_russian_headline_with_a_kazakh_place_name_is_russian():
    assert detect_language("В Қызылорде открыли памятник") == "ru"


def test_english_text_with_a_cyrillic_name_is_english():
    assert detect_language("Kazakhstan's capital, Астана, hosted the summit.") == "en"


# --- stemming: Russian ------------------------------------------------------


@pytest.mark.parametrize(
    "forms",
    [
        "Казахстан Казахстана Казахстане Казахстаном Казахстану",
        "встреча встречи встрече встречу встречей",
        "Астана Астаны Астане Астану Астаной",
        "Токаев Токаева Токаеву Токаевым",
        "канал канала каналом",
        "Иран Ирана Иране",
        "президент президента президенту президентом",
    ],
)
def test_russian_word_forms_share_one_stem(forms):
    assert len(stems(forms, "ru")) == 1


def test_russian_stems_keep_different_words_apart():
    assert len(stems("Казахстан Узбекистан Россия Китай", "ru")) == 4


# --- stemming: Kazakh -------------------------------------------------------


@pytest.mark.parametrize(
    "forms",
    [
        "Қазақстан Қазақстанның Қазақстанда Қазақстанға Қазақстаннан Қазақстандағы Қазақстанмен",
        "мектеп мектептер мектептерде мектептің мектепке",
        "бала балалар балаларының балаға",
        "Астана Астанада Астананың Астанаға",
        "баға бағасы бағасында бағасын",
    ],
)
def test_kazakh_word_forms_share_one_stem(forms):
    assert len(stems(forms, "kk")) == 1


@pytest.mark.parametrize(
    "word, stem",
    [
        ("мектептерде", "мектеп"),
        ("балаларының", "бала"),
        ("бағасында", "баға"),
        ("жылдары", "жыл"),
        ("Астанада", "астана"),  # "-нда" is stripped only after a possessive -ы/-і
        ("Қазақстанның", "қазақс"),  # "-стан" is kept, then truncated to 6 letters
    ],
)
def test_kazakh_suffix_stripping(word, stem):
    assert stem_tokens(tokenize(word), "kk") == [stem]


def test_kazakh_stems_never_get_shorter_than_three_letters():
    # "мың" (thousand) looks like stem "м" + possessive "-ың".
    assert stem_tokens(["мың", "орда", "үйде"], "kk") == ["мың", "орда", "үйде"]


def test_kazakh_stems_are_at_most_kk_stem_max_letters():
    assert all(len(s) <= KK_STEM_MAX for s in stems("министрліктерінің президенттің", "kk"))


# --- stemming: English and mixed scripts ---------------------------------------


def test_english_word_forms_share_one_stem():
    assert len(stems("meeting meetings", "en")) == 1
    assert len(stems("running runs run", "en")) == 1


def test_each_token_is_stemmed_by_its_own_script():
    russian = stem_tokens(["казахстана"], "ru")
    english = stem_tokens(["meetings"], "en")
    assert stem_tokens(["meetings", "казахстана", "2026"], "ru") == [*english, *russian, "2026"]
    assert stem_tokens(["meetings", "казахстана", "2026"], "en") == [*english, *russian, "2026"]
    # a Kazakh word inside English text gets the Kazakh stemmer
    assert stem_tokens(["қазақстанда"], "en") == stem_tokens(["қазақстанда"], "kk")


def test_stem_tokens_keeps_order_and_duplicates():
    assert stem_tokens(["встреча", "2026", "встречи"], "ru") == ["встреч", "2026", "встреч"]


@pytest.mark.parametrize("lang", ["ru", "kk", "en", "kz", "fr", ""])
def test_stem_words_gives_the_stems_stem_tokens_gives(lang):
    words = tokenize(
        "Казахстана Токаев Токаева канал мектептерде қазақстанда meetings running 2026 "
        "n1500 café 東京 Kазахстан iPhone ёлка элементов изолятор"
    )
    assert stem_words(words, lang) == stem_tokens(words, lang)


def test_stem_tokens_accepts_region_tags_and_the_common_kz_code():
    assert stem_tokens(["мектептерде"], "kz") == ["мектеп"]
    assert stem_tokens(["встречи"], "ru-RU") == ["встреч"]


# --- stop words and analyze ---------------------------------------------------


def test_stop_word_lists_cover_news_boilerplate():
    assert {"сообщает", "сообщил", "заявил", "также", "году", "года"} <= STOP_WORDS["ru"]
    assert {"және", "мен", "бұл", "үшін", "деп", "туралы", "бойынша", "жылы"} <= STOP_WORDS["kk"]
    assert {"the", "and", "said"} <= STOP_WORDS["en"]
    assert len(STOP_WORDS["ru"]) >= 150
    assert len(STOP_WORDS["kk"]) >= 100
    assert len(STOP_WORDS["en"]) >= 150


def test_analyze_removes_stop_words_before_stemming():
    text = "Токаев заявил, что в 2026 году встреча также состоится в Астане, сообщает Акорда."
    assert analyze(text) == stem_tokens(
        ["токаев", "2026", "встреча", "состоится", "астане", "акорда"], "ru"
    )


def test_analyze_kazakh():
    text = "Бұл туралы Тоқаев 2026 жылы Астанада мектептер үшін айтты."
    assert analyze(text) == ["тоқаев", "2026", "астана", "мектеп"]


def test_analyze_english():
    assert analyze("The minister said the meetings were held in 2026.") == [
        "minist",
        "meet",
        "held",
        "2026",
    ]


def test_analyze_uses_the_given_language_instead_of_detecting():
    # "мен" is a Kazakh stop word, not a Russian one
    assert "мен" in analyze("мен", "ru")
    assert analyze("мен", "kk") == []


def test_analyze_of_empty_text_is_empty():
    assert analyze("") == []


# --- normalize_for_quote --------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "«Мы придём…» — сказал он",
        '"Мы придем..." - сказал он',
        "„Мы ПРИДЁМ…“ – сказал он",
        "“Мы придем ...” ― сказал   он.",
        "'Мы при\u0301дем…' −сказал он",
    ],
)
def test_normalize_for_quote_ignores_quotes_dashes_ellipses_case_and_yo(variant):
    assert normalize_for_quote(variant) == "мы придем сказал он"


def test_normalize_for_quote_keeps_every_word_unstemmed():
    text = "И в 2026 году Казахстан и Қазақстан"
    assert normalize_for_quote(text) == "и в 2026 году казахстан и қазақстан"


# --- the one lead rule -------------------------------------------------------------


def test_lead_cuts_at_a_word_and_marks_the_cut():
    text = "Национальный банк сохранил базовую ставку на уровне 14,25 процента годовых"
    assert lead(f"<p>{text}</p>", 40) == "Национальный банк сохранил базовую…"
    assert lead(f"<p>{text}</p>", 200) == text


def test_shorten_never_exceeds_the_limit():
    for limit in (5, 17, 40):
        assert len(shorten("слово " * 20, limit)) <= limit
