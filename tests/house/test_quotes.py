"""Quotes in running text and in the published structure."""

from __future__ import annotations

import pytest

from aggregator.house.quotes import extract_quotes, split_structure


@pytest.mark.parametrize(
    ("fragment", "quotes"),
    [
        ("Как пишет агентство, «в Актау подписали меморандумы о сотрудничестве в кино».",
         ["в Актау подписали меморандумы о сотрудничестве в кино"]),
        ("«В Актау на фестивале «Қоркыт ата» подписали меморандумы». А «Қоркыт ата» идет.",
         ["В Актау на фестивале «Қоркыт ата» подписали меморандумы"]),
        ("Он сказал: „Мы будем снимать фильмы вместе с соседями“, и ушел.",
         ["Мы будем снимать фильмы вместе с соседями"]),
        ("The Astana Times: “Cargo volumes rose by 63 percent this year” — good.",
         ["Cargo volumes rose by 63 percent this year"]),
        ('Сказано: "ставка останется на уровне четырнадцати процентов" - так.',
         ["ставка останется на уровне четырнадцати процентов"]),
        ("<blockquote><p>Документы предусматривают совместное производство фильмов.</p></blockquote><p>Хорошо.</p>",
         ["Документы предусматривают совместное производство фильмов."]),
        ("Только имя: «Қоркыт ата» и «Болашақ», короткие слова в кавычках.", []),
        ('Пишут: "The acid problem will only be solved when our plant is built," — говорит он.',
         ["The acid problem will only be solved when our plant is built"]),
    ],
    ids=["guillemets", "nested guillemets", "German quotes", "English quotes", "straight quotes",
         "blockquote", "names are not quotes", "the sentence's comma inside the marks"],
)  # fmt: skip
def test_quotes_are_extracted_in_every_form(fragment, quotes):
    assert extract_quotes(fragment) == quotes


FEEDS = {
    "site": {"title": "Евразия24", "link": "https://eurasia24.media/", "house": "Евразия24"},
    "sources": [{"id": "kazinform", "name": "Kazinform", "url": "https://inform.kz/rss"}],
}


@pytest.fixture
def config(tmp_path):
    import yaml

    from aggregator.config import load_config

    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(FEEDS, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def test_a_retelling_before_the_heading_is_the_houses_intro_not_a_quote(config):
    parts = split_structure(
        "<p>Нацбанк сохранил базовую ставку, объяснив это ростом цен.</p>"
        "<p>Евразия24 комментирует:</p><p>Мнение.</p>",
        config,
    )
    assert parts.quotes == () and "Нацбанк сохранил" in parts.intro_html
    assert parts.comment_html == "<p>Мнение.</p>"


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        ("МИА «Казинформ» сообщает:", "МИА «Казинформ»"),
        ("Tengrinews со ссылкой на пресс-службу МВД сообщает:",
         "Tengrinews со ссылкой на пресс-службу МВД"),
        ("Kazinform (русская версия) сообщает:", "Kazinform (русская версия)"),
        ("Kazinform, рассказывая о фестивале, сообщает:", "Kazinform, рассказывая о фестивале"),
    ],
)  # fmt: skip
def test_the_attribution_phrase_is_kept_whole(config, line, phrase):
    parts = split_structure(
        f"<p>{line} «Фестиваль откроется в Актау в пятницу вечером.»</p>"
        "<p>Евразия24 комментирует:</p><p>Мнение.</p>",
        config,
    )
    assert parts.agency == phrase
    assert parts.quotes == ("Фестиваль откроется в Актау в пятницу вечером.",)


def test_inner_quote_marks_and_the_final_stop_are_kept(config):
    parts = split_structure(
        "<p>Kazinform сообщает: «Министр заявил: «Фестиваль «Қоркыт ата» пройдет в срок».»</p>"
        "<p>Евразия24 комментирует:</p><p>Мнение.</p>",
        config,
    )
    assert parts.quotes == ("Министр заявил: «Фестиваль «Қоркыт ата» пройдет в срок».",)


def test_who_said_the_quoted_words_stays_with_them(config):
    # Editors often leave the agency's "«…», – сказал <who>." unwrapped; the clause is the
    # agency's text too, and without it the official's words would be the agency's own.
    parts = split_structure(
        "<p>Теперь о железной дороге. Kazinform: «Единый тариф и единый оператор – ответ на "
        "этот запрос», – сказал заместитель председателя правления АО «НК «КТЖ» Канат "
        "Алдабергенов.</p><p>Евразия24 комментирует:</p><p>Мнение.</p>",
        config,
    )
    assert parts.quotes == (
        "«Единый тариф и единый оператор – ответ на этот запрос», – сказал заместитель "
        "председателя правления АО «НК «КТЖ» Канат Алдабергенов.",
    )


@pytest.mark.parametrize(
    ("fragment", "quotes"),
    [
        ("«Мы не оставим людей на улице, всё восстановим», – сказал А. Б. Бекбосынов. Потом ушел.",
         ["«Мы не оставим людей на улице, всё восстановим», – сказал А. Б. Бекбосынов."]),
        ("«Cargo volumes rose by 63 percent this year», - said the port's director",
         ["«Cargo volumes rose by 63 percent this year», - said the port's director"]),
        ("«Мы не оставим людей на улице, всё восстановим» – это слова акима, не агентства.",
         ["Мы не оставим людей на улице, всё восстановим"]),
    ],
    ids=["initials do not end the clause", "English", "no verb of saying: the quote alone"],
)  # fmt: skip
def test_the_speaker_clause_after_a_quote(fragment, quotes):
    assert extract_quotes(fragment) == quotes
