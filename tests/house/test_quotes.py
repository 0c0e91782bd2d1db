"""Quotes in running text and in the published structure."""

from __future__ import annotations

import pytest

from aggregator.house.quotes import extract_quotes


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
    ],
    ids=["guillemets", "nested guillemets", "German quotes", "English quotes", "straight quotes",
         "blockquote", "names are not quotes"],
)  # fmt: skip
def test_quotes_are_extracted_in_every_form(fragment, quotes):
    assert extract_quotes(fragment) == quotes
