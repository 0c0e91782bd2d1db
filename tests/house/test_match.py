"""match: which stored item a house commentary comments on, by source, link, quote or similarity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.config import Config, SiteConfig, SourceConfig
from aggregator.house.load import Commentary
from aggregator.house.match import (
    CLEAR_SURE,
    CONFIDENT,
    REVIEW,
    MatchIndex,
    match_all,
    match_commentary,
    quantities,
    score_vetoed,
)
from aggregator.ingest.update import record_fetch
from aggregator.models import Item, StoredItem
from aggregator.store import open_storage

DAY = datetime(2024, 10, 3, 5, 0, tzinfo=UTC)

KORKYT = (
    "В Актау в рамках международного кинофестиваля стран тюркского мира «Қоркыт ата» "
    "Государственный центр поддержки национального кино Республики Казахстан заключил "
    "меморандумы о сотрудничестве с государственными организациями в сфере кинематографии "
    "Азербайджана, Кыргызстана, Туркменистана, Турции и Узбекистана."
)
KORKYT_2 = (
    "Документы предусматривают совместное производство фильмов, обмен опытом и проведение "
    "недель национального кино. По словам председателя правления центра, первые совместные "
    "проекты могут стартовать уже в будущем году."
)
# The same event told by another outlet, in its own words.
KORKYT_OTHER = (
    "Соглашения о партнерстве подписаны на фестивале «Қоркыт ата», который проходит в "
    "Мангистауской области. Со стороны Казахстана документы подписал центр поддержки "
    "отечественного кино, партнерами выступили киноведомства пяти тюркских государств."
)
RATE = (
    "Национальный банк Казахстана принял решение сохранить базовую ставку на уровне 14,25% "
    "с коридором плюс-минус один процентный пункт. Регулятор объяснил решение ускорением "
    "инфляции в сентябре и ростом инфляционных ожиданий населения."
)
TENGIZ = (
    "Проект будущего расширения на месторождении Тенгиз завершен, и добыча в ближайшие месяцы "
    "вырастет примерно на 260 тысяч баррелей в сутки, сообщили в компании."
)
KAZAKH = (
    "Көкарал бөгетінің арқасында Солтүстік Арал теңізінің су деңгейі биыл 42 метрге жетті. "
    "Теңізге балықтың 22 түрі оралды, Арал қаласына дейінгі қашықтық 12 шақырымға қысқарды."
)
ENGLISH = (
    "Cargo transported along the Trans-Caspian International Transport Route reached 4.1 "
    "million tonnes in the first nine months of the year, a 63 percent increase year on year."
)
NAMES = {"kazinform": "Kazinform", "24kz": "24KZ", "zakon": "Zakon.kz", "kapital": "Kapital.kz"}


def stored(key, source, title, *paragraphs, hours=0, link=None, item_id=None) -> StoredItem:
    when = DAY + timedelta(hours=hours)
    item = Item(
        id=item_id or f"{source}:{key}",
        title=title,
        link=link or f"https://{source}.example/news/{key}",
        summary=paragraphs[0],
        content="".join(f"<p>{p}</p>" for p in paragraphs),
        published=when,
    )
    return StoredItem(key, item, (source,), when, when, when)


def filler() -> list[StoredItem]:
    """A thousand earlier agency items, each with its own small figures: the store a
    similarity match has to stand out from."""
    return [
        stored(f"report-{n}", "zakon", f"Сводка {n}",
               f"Обзор {n}: {n + 100} событий недели, квартал {n % 40}.", hours=-240 - n)
        for n in range(1000)
    ]  # fmt: skip


def commentary(text="Редакция будет следить за тем, как это выполнят.", **fields) -> Commentary:
    fields.setdefault("title", "Стоп, снято!")
    fields.setdefault("published", DAY + timedelta(hours=5))
    return Commentary(
        id="file:test", slug="test", comment_html=f"<p>{text}</p>", where="test.md", **fields
    )


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    items = [
        stored("korkyt", "kazinform", "Казахстан подписал меморандумы о сотрудничестве в кино",
               KORKYT, KORKYT_2, link="https://www.inform.kz/ru/memorandumy-a4211"),
        stored("korkyt-other", "24kz", "Тюркские страны договорились о совместных съемках",
               KORKYT_OTHER, hours=2),
        stored("rate", "kapital", "Нацбанк сохранил базовую ставку на уровне 14,25%", RATE, hours=3),
        stored("tengiz", "zakon", "Добыча на Тенгизе вырастет", TENGIZ, hours=4),
        stored("aral", "kazinform", "Кіші Аралдағы су деңгейі көтерілді", KAZAKH, hours=5),
        stored("corridor", "kazinform", "Middle Corridor cargo volumes up 63 percent", ENGLISH, hours=6),
    ]  # fmt: skip
    return MatchIndex.build(items)


def match(index, c):
    return match_commentary(c, index, source_names=NAMES)


# --- quotes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quote",
    [
        pytest.param(KORKYT, id="whole lead"),
        pytest.param(KORKYT[:60] + " … " + KORKYT[-90:], id="shortened with an ellipsis"),
        pytest.param("…" + KORKYT[40:], id="cut at the start"),
        pytest.param(KORKYT[:150] + "…", id="cut at the end"),
        pytest.param(
            KORKYT.replace("заключил", "заключила").replace("Турции и ", "Турции, "),
            id="lightly edited",
        ),
        pytest.param(
            KORKYT.replace(",", "").replace("«", '"').replace("»", '"').upper(),
            id="differently punctuated",
        ),
        pytest.param(KORKYT_2, id="from a later paragraph"),
    ],
)
def test_a_quote_finds_its_item_however_it_was_trimmed(index, quote):
    found = match(index, commentary(quotes=(quote,), agency="Kazinform"))
    assert (found.keys, found.method, found.status) == (("korkyt",), "quote", "confident")
    assert found.confidence >= CONFIDENT


def test_a_quote_in_kazakh_or_english_finds_its_item(index):
    assert match(index, commentary(quotes=(KAZAKH[:120],))).keys == ("aral",)
    assert match(index, commentary(quotes=(ENGLISH,))).keys == ("corridor",)


def test_two_quotes_match_two_items_in_order(index):
    found = match(index, commentary(quotes=(RATE, TENGIZ)))
    assert found.keys == ("rate", "tengiz") and found.quotes == (0, 1)


def test_the_agency_named_need_not_be_the_items_source(index):
    # Zakon.kz is named, but the text is Kazinform's, and only Kazinform's item is stored.
    found = match(index, commentary(quotes=(KORKYT,), agency="Zakon.kz"))
    assert found.keys == ("korkyt",) and found.confident


def test_a_quote_found_in_part_with_words_its_item_lacks_is_not_sure():
    # The agency's sentence on a coal ban, in the store only the same ministry's sentence
    # on a grain ban: most of its word pairs are there, its subject is not.
    grain = (
        "Министерство сельского хозяйства продлило на шесть месяцев запрет на вывоз "
        "пшеницы из Казахстана железнодорожным транспортом. Ограничение касается и муки."
    )
    prices = "Министерство энергетики назвало цены угля на зиму."
    index = MatchIndex.build(
        [
            stored("grain", "kapital", "Запрет на вывоз пшеницы продлён", grain),
            stored("prices", "zakon", "Уголь к зиме", prices, hours=-30),
        ]
    )
    coal = (
        "Министерство энергетики продлило на шесть месяцев запрет на вывоз угля из "
        "Казахстана железнодорожным транспортом."
    )
    found = match(index, commentary(quotes=(coal,), agency="Kapital.kz"))
    assert not found.confident and found.candidates[0][0] == "grain"
    # Its own item, the sentence's words in another order, has every word of it.
    told = (
        "Запрет на вывоз угля из Казахстана железнодорожным транспортом Министерство "
        "энергетики продлило на шесть месяцев."
    )
    index = MatchIndex.build([stored("coal", "kapital", "Запрет на вывоз угля продлён", told)])
    found = match(index, commentary(quotes=(coal,), agency="Kapital.kz"))
    assert found.keys == ("coal",) and found.confident
    # Words misspelt in the post's copy are in no item: they tell nothing against one.
    misspelt = coal.replace("энергетики", "энергетикя").replace("транспортом", "транспортоа")
    found = match(index, commentary(quotes=(misspelt,), agency="Kapital.kz"))
    assert found.keys == ("coal",) and found.confident


def test_the_same_event_told_by_another_outlet_is_not_its_quote(index):
    other = match(index, commentary(quotes=(KORKYT_OTHER,)))
    assert other.keys == ("korkyt-other",)
    found = match(index, commentary(quotes=(KORKYT,)))
    assert found.keys == ("korkyt",)


def test_a_reprinted_text_goes_to_the_named_agency_else_to_the_first_published():
    original = stored("original", "kazinform", "Меморандумы в кино", KORKYT)
    reprint = stored("reprint", "zakon", "Тюркские страны и кино", KORKYT, "Иной хвост.", hours=3)
    index = MatchIndex.build([original, reprint])
    assert match(index, commentary(quotes=(KORKYT,), agency="Zakon.kz")).keys == ("reprint",)
    assert match(index, commentary(quotes=(KORKYT,), agency="Kazinform")).keys == ("original",)
    assert match(index, commentary(quotes=(KORKYT,))).keys == ("original",)


HOUSING = (
    "С 1 января по 1 марта 2025 года вкладчики ЕНПФ использовали {} млрд тенге пенсионных "
    "накоплений на улучшение жилищных условий, сообщили в пресс-службе фонда. Больше всего "
    "заявлений подали жители Астаны, Алматы и Шымкента."
)
PENSION = (
    "Пенсионный возраст женщин в Казахстане останется на уровне 61 года до 1 января 2028 "
    "года, сообщили в министерстве труда. Решение о продлении паузы затронет {} женщин."
)


@pytest.mark.parametrize(
    ("quoted", "stored_text"),
    [
        pytest.param(
            HOUSING.format("312,4").split(", сообщили")[0],
            HOUSING.format("187,4"),
            id="the same sentence with another period's sum",
        ),
        pytest.param(
            "Пенсионный возраст женщин в Казахстане останется на уровне 61 года до 1 января 2028 "
            "года… Решение о продлении паузы затронет около 98 тысяч женщин",
            PENSION.format("около 100 тысяч"),
            id="half word for word, another count",
        ),
    ],
)
def test_a_quote_whose_figures_the_item_does_not_give_is_not_its_words(quoted, stored_text):
    # A quote is the agency's words, figures and all: an item with the same sentence but
    # other figures (another period's statistic, another outlet's count) is another text
    # on the topic, shown for review at most.  The item with the quote's figures is its.
    other = stored("other", "kursiv", "ЕНПФ и пенсии", stored_text)
    found = match(MatchIndex.build([*filler(), other]), commentary(quotes=(quoted,)))
    assert not found.confident
    own = stored("own", "kapital", "ЕНПФ и пенсии", quoted.replace("…", "."), hours=1)
    found = match(MatchIndex.build([*filler(), other, own]), commentary(quotes=(quoted,)))
    assert found.confident and found.keys == ("own",)


def test_a_quote_of_an_item_never_fetched_is_never_published_as_the_nearest_item(index):
    # The same event, but a text no stored item has: its source was never fetched.
    absent = (
        "В первый день работы кинофестиваля «Қоркыт ата» в Актау зрители увидели двенадцать "
        "короткометражных фильмов молодых режиссеров из Казахстана и Узбекистана."
    )
    found = match(index, commentary(quotes=(absent,), agency="24KZ", separate_quote=True))
    assert not found.confident  # at most shown to an editor for review


def test_a_short_phrase_the_comment_cites_is_no_quote_the_posts_news_decides():
    # The comment cites the name of Almaty's programme, «тариф в обмен на инвестиции»; the
    # news the post tells before its heading is Shymkent's water tariff.
    earlier = filler()
    almaty = (
        "С 1 апреля в Алматы повышаются тарифы на отопление, холодную воду и водоотведение. "
        "Повышение тарифов предусмотрено программой «Тариф в обмен на инвестиции»."
    )
    shymkent = (
        "Тариф на холодную воду для жителей Шымкента с 1 мая составит 98,4 тенге за кубометр "
        "вместо 83,2 тенге. В ТОО «Водные ресурсы – Маркетинг» повышение объясняют "
        "инвестиционной программой: до 2029 года планируется заменить 88 км сетей."
    )
    items = [
        *earlier,
        stored("almaty", "tengri", "Тарифы в Алматы вырастут с 1 апреля", almaty, hours=-200),
        stored("shymkent", "informburo", "В Шымкенте вырастет тариф на воду", shymkent),
    ]
    news = (
        "Шымкентцам с мая придётся платить за холодную воду девяносто восемь тенге сорок "
        "тиынов за куб вместо восьмидесяти трёх двадцати. «Водные ресурсы – Маркетинг» "
        "обещает заменить восемьдесят восемь километров труб."
    )
    post = commentary(
        text="«тариф в обмен на инвестиции» мы уже видели в Алматы.",
        title="Кубометр за девяносто восемь",
        quotes=("тариф в обмен на инвестиции",),
        intro_html=f"<p>{news}</p>",
    )
    found = match(MatchIndex.build(items), post)
    assert found.method == "similarity" and found.keys == ("shymkent",) and found.confident


def test_a_short_phrase_in_quote_marks_is_not_a_quote_to_match_on(index):
    found = match(index, commentary(quotes=("Қоркыт ата",), text="Про кино и театр."))
    assert found.method != "quote"


# --- references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "https://www.inform.kz/ru/memorandumy-a4211",
        "http://inform.kz/ru/memorandumy-a4211/",
        "https://inform.kz/ru/memorandumy-a4211?utm_source=telegram&utm_medium=social",
        "inform.kz/ru/memorandumy-a4211",  # written without its scheme
        "www.inform.kz/ru/memorandumy-a4211/",
        "kazinform:korkyt",  # the id the source gave it
        "korkyt",  # the store key
    ],
)
def test_the_editors_source_is_found_by_url_id_or_key(index, reference):
    found = match(index, commentary(sources=(reference,)))
    assert (found.keys, found.method, found.confidence) == (("korkyt",), "source", 1.0)


def test_the_editors_source_wins_over_a_quote_of_another_item(index):
    found = match(index, commentary(sources=("rate",), quotes=(KORKYT,)))
    assert (found.keys, found.method) == (("rate",), "source")


def test_an_unknown_source_reference_is_an_error_not_a_guess(index):
    found = match(
        index, commentary(sources=("https://example.kz/never-fetched",), quotes=(KORKYT,))
    )
    assert found.status == "error" and found.keys == ()
    assert (
        "https://example.kz/never-fetched" in found.error and "is not a stored item" in found.error
    )


def test_a_link_to_a_stored_item_matches_it_with_tracking_parameters_ignored(index):
    link = "https://www.inform.kz/ru/memorandumy-a4211?utm_source=fb&fbclid=IwAR0"
    found = match(index, commentary(links=(link, "https://example.com/unrelated")))
    assert (found.keys, found.method, found.status) == (("korkyt",), "link", "confident")


# --- similarity ------------------------------------------------------------------------


def test_an_item_two_and_a_half_days_older_than_the_post_is_for_review(index):
    # On the 13 dev rounds no source was more than 1.9 days older than its post, and the
    # wrong best items held only by their age were from 3.1 days on: the limit sits
    # between them.  (The rate item is published 3 hours after DAY.)
    retold = (
        "Регулятор не стал трогать базовую ставку, сославшись на разгон инфляции в сентябре и "
        "на то, что население ждет дальнейшего подорожания. Ставка остается 14,25 процента."
    )
    late = match(index, commentary(text=retold, published=DAY + timedelta(hours=66)))
    assert late.status == "review" and late.keys == ("rate",)
    assert "days before the post: an editor decides" in late.evidence[-1]
    soon = match(index, commentary(text=retold, published=DAY + timedelta(hours=50)))
    assert soon.confident and soon.keys == ("rate",)


def test_a_retelling_without_quote_or_link_finds_its_item_by_similarity(index):
    retold = (
        "Регулятор не стал трогать базовую ставку, сославшись на разгон инфляции в сентябре и "
        "на то, что население ждет дальнейшего подорожания. Ставка остается 14,25 процента."
    )
    found = match(index, commentary(text=retold, title="Вопрос цены"))
    assert found.method == "similarity" and found.keys == ("rate",)


def test_similarity_only_looks_around_the_commentarys_date(index):
    retold = "Регулятор не стал трогать базовую ставку, сославшись на инфляцию в сентябре."
    late = commentary(text=retold, published=DAY + timedelta(days=10))
    assert match(index, late).keys == ()


def test_an_item_days_older_than_the_post_is_offered_for_review_never_published(index):
    # Editors comment on the week's news, so a five-day-old item is found; but a post that
    # late on a story more often reports its next stage, which the store may not hold.
    retold = (
        "Регулятор не стал трогать базовую ставку, сославшись на разгон инфляции в сентябре и "
        "на то, что население ждет дальнейшего подорожания. Ставка остается 14,25 процента."
    )
    found = match(index, commentary(text=retold, published=DAY + timedelta(days=5)))
    assert found.status == "review" and found.keys == ("rate",)
    assert "published 5 days before the post: an editor decides" in found.evidence[-1]


def test_a_week_old_item_the_post_is_about_keeps_a_same_day_neighbour_from_being_sure():
    # The post opens with the day's Tengiz news, then turns to what it is about: the repair
    # a five-day-old item announced from today.  The neighbour is no confident source.
    earlier = filler()
    repair = (
        "Оператор месторождения Кашаган North Caspian Operating Company сообщил, что с 10 по "
        "31 марта на морском комплексе пройдет плановый капитальный ремонт. Добыча в этот "
        "период будет частично остановлена. По итогам года на Кашагане добыто 17,9 млн тонн."
    )
    output = (
        "Добыча на Тенгизском месторождении в феврале достигла 1,02 млн баррелей в сутки, что "
        "на 32% больше, чем годом ранее. Рост добычи усложняет выполнение обязательств ОПЕК+."
    )
    items = [
        *earlier,
        stored("repair", "kursiv", "Кашаган остановят на плановый ремонт", repair),
        stored("tengiz", "kursiv", "Добыча нефти на Тенгизе выросла на треть", output, hours=120),
    ]
    told = (
        "Сегодня пришла хорошая новость с Тенгиза, где за февраль нефти добыли на треть "
        "больше. Но на соседнем морском месторождении с сегодняшнего дня большой плановый "
        "ремонт, и часть скважин NCOC остановит. В прошлом году Кашаган дал почти "
        "восемнадцать миллионов тонн. Три недели ремонта на Кашагане — минус к добыче."
    )
    post = commentary(text=told, title="Кашаган на ремонте", published=DAY + timedelta(hours=125))
    found = match(MatchIndex.build(items), post)
    assert not found.confident and first_ranked(found) == "repair"


def test_two_outlets_on_one_event_are_never_a_confident_similarity_match(index):
    retold = "Тюркские страны подписали в Актау документы о сотрудничестве в кино на фестивале."
    found = match(index, commentary(text=retold))
    assert found.status != "confident"


def test_a_retelling_of_something_never_stored_is_no_match(index):
    found = match(
        index, commentary(text="Футбольный клуб Кайрат выиграл кубок страны в серии пенальти.")
    )
    assert found.status == "none" and found.keys == ()


def test_a_retelling_is_confident_when_its_figures_are_in_its_item_and_not_in_a_same_day_rival():
    # A thousand earlier items, 4% of them with the same small figures: each figure alone
    # is too common to tell items apart, the three together in one item are not.
    earlier = [
        stored(f"report-{n}", "zakon", f"Сводка {n}",
               f"За неделю: 12 пожаров, 18 аварий и 25 вызовов скорой, выпуск {n}." if n % 25 == 0
               else f"Обзор {n}: {n + 100} событий недели.", hours=-240 - n)
        for n in range(1000)
    ]  # fmt: skip
    items = [
        *earlier,
        stored("fraud-national", "kapital", "С начала года выявлено 12 тысяч подставных держателей карт",
               "Банки с начала года выявили около 12 тысяч человек, передавших свои карты "
               "мошенникам, сообщил финансовый регулятор. Большинство из них студенты и "
               "безработные в возрасте от 18 до 25 лет; с июля за это грозит до 5 лет."),
        stored("fraud-region", "zakon", "В Караганде задержали 14 подставных держателей карт",
               "Полицейские Карагандинской области задержали 14 человек, которые за "
               "вознаграждение передавали свои банковские карты мошенникам; через их счета "
               "прошло 60 млн тенге.", hours=2),
        stored("rate", "kapital", "Нацбанк сохранил базовую ставку на уровне 14,25%", RATE, hours=3),
        stored("tengiz", "zakon", "Добыча на Тенгизе вырастет", TENGIZ, hours=4),
    ]  # fmt: skip
    retold = (
        "Двенадцать тысяч человек с начала года отдали свою карточку аферистам, чтобы через "
        "нее гоняли чужие деньги. В основном это молодежь от восемнадцати до двадцати пяти, "
        "студенты и те, кто без работы. Родителям стоит поговорить об этом с детьми прямо "
        "сегодня: объяснить, почему легкий заработок обернется судимостью, и проверить, не "
        "просил ли кто-нибудь из знакомых одолжить банковскую карточку на недельку."
    )
    found = match(MatchIndex.build(items), commentary(text=retold, title="Карта в чужих руках"))
    assert found.keys == ("fraud-national",) and found.confident


def test_a_retelling_that_rounds_its_items_figures_is_confident_over_a_same_day_rival():
    # "шестьсот двенадцать тысяч" for 612 340: the round figure is the exact one's, and
    # the rival on the same topic, the same day, has other figures.
    earlier = filler()
    resale = (
        "Средняя стоимость квадратного метра на вторичном рынке жилья Астаны в первом квартале "
        "составила 612 340 тенге, что на 9% больше, чем в конце прошлого года, следует из "
        "данных бюро статистики. Аналитики связывают рост с ожиданием повышения НДС."
    )
    new_build = (
        "Средняя стоимость квадратного метра в новостройках Астаны в первом квартале "
        "составила 548 260 тенге, что на 4% больше, чем в конце прошлого года, следует из "
        "данных бюро статистики. Застройщики объясняют рост ценами на стройматериалы."
    )
    items = [
        *earlier,
        stored("resale", "kapital", "Вторичное жилье в Астане подорожало за квартал", resale),
        stored("new-build", "zakon", "Новостройки в Астане подорожали за квартал", new_build,
               hours=2),
    ]  # fmt: skip
    retold = (
        "Квартира с рук в Астане за квартал прибавила в цене девять процентов: метр стоит "
        "в среднем шестьсот двенадцать тысяч. Аналитики кивают на будущий НДС. "
        "Кто ждал, что жилье подешевеет после ставки, ждите дальше."
    )
    found = match(
        MatchIndex.build(items), commentary(text=retold, title="Квадратный метр дорожает")
    )
    assert found.keys == ("resale",) and found.confident


def test_a_retelling_of_a_reprinted_item_is_confident_and_names_either_copy():
    # Another outlet reprinted the lead word for word: the two are one text, not rivals.
    earlier = filler()
    boxing = (
        "Казахстанский боксер Данияр Елеусинов нокаутировал американца Маркуса Брауна в "
        "девятом раунде и завоевал пояс чемпиона мира по версии WBA в полусреднем весе. Бой "
        "прошел в субботу вечером в Лас-Вегасе, на арене собрались около 12 тысяч зрителей."
    )
    items = [
        *earlier,
        stored("boxing", "kursiv", "Елеусинов стал чемпионом мира", boxing,
               "Это первый титул Елеусинова на профессиональном ринге."),
        stored("boxing-reprint", "zakon", "Данияр Елеусинов завоевал пояс WBA", boxing,
               "Ранее боксер выиграл золото Олимпиады в Рио.", hours=3),
        stored("wrestling", "kazinform", "Борцы из Казахстана взяли три медали",
               "Казахстанские борцы завоевали три медали на чемпионате Азии в Бишкеке.", hours=1),
    ]  # fmt: skip
    retold = (
        "Наш полусредневес отправил Брауна в нокаут в девятом раунде и забрал пояс WBA. "
        "Дюжина тысяч человек в Лас-Вегасе видела, как Данияр Елеусинов стал чемпионом мира. "
        "Теперь ждем защиты титула дома, в Астане."
    )
    found = match(MatchIndex.build(items), commentary(text=retold, title="Пояс едет домой"))
    assert found.confident and found.keys in (("boxing",), ("boxing-reprint",))


RESCUE = (
    "Спасатели эвакуировали группу туристов, застрявших на леднике Богдановича в горах "
    "Заилийского Алатау. Их спускали всю ночь, пострадавших нет, сообщили в ДЧС Алматы. "
    "Туристы поднялись на ледник без регистрации маршрута.",
    "В этом сезоне в горах уже зарегистрировано более двухсот выходов на маршруты, "
    "напомнили в департаменте. Инспекторы проверяют снаряжение групп на КПП у входа в "
    "национальный парк, а нарушителям выписывают предписания. В парке работают четыре "
    "поисково-спасательных отряда, дежурство ведется круглосуточно.",
)


@pytest.fixture(scope="module")
def rescue() -> MatchIndex:
    items = [
        *filler(),
        stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов", *RESCUE),
        stored("tariff", "kapital", "Тарифы на воду вырастут",
               "С апреля тарифы на холодную воду для жителей Шымкента вырастут, решение "
               "принял антимонопольный комитет.", hours=1),
    ]  # fmt: skip
    return MatchIndex.build(items)


RESCUE_RETOLD = (
    "Снова спасатели снимают со льда тех, кто пошел в поход, никого не предупредив. На то, "
    "чтобы всех вернуть, ушла ночь, к счастью, обошлось без травм. Сколько раз повторять: "
    "горы не прощают самонадеянности. Власти обещают поставить на тропах таблички и камеры, "
    "но пока это только обещания, а сезон в разгаре и желающих прогуляться меньше не становится."
)


CHARYN = (
    "Спасатели эвакуировали группу туристов, застрявших в ущелье реки Чарын. Туристов "
    "спускали всю ночь, пострадавших нет, сообщили в ДЧС области. Группа ушла в поход "
    "без регистрации маршрута, напомнили в департаменте."
)
RESCUE_AND_CHARYN = (
    stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов", *RESCUE),
    stored("charyn", "24kz", "В Чарынском каньоне спасли туристов", CHARYN, hours=1),
)


def test_a_retelling_far_ahead_of_every_rival_is_confident_with_a_fact_of_its_event(rescue):
    # Topic words alone ("спасатели", "поход", "горы") are what another rescue on another
    # glacier would share too: for review.  The glacier's name is the event's: confident.
    vague = match(rescue, commentary(text=RESCUE_RETOLD, title="Горы не прощают"))
    assert vague.status == "review" and first_ranked(vague) == "rescue"
    named = RESCUE_RETOLD.replace("со льда", "с ледника Богдановича")
    found = match(rescue, commentary(text=named, title="Горы не прощают"))
    assert found.keys == ("rescue",) and found.confident
    assert "sure: a clear winner with a name or figure of the post only it has" in found.evidence


def test_where_no_rule_is_sure_the_evidence_together_decides():
    # Another rescue on the topic the same day comes within 0.6 of the best item, too
    # close for any single rule; but the glacier is the post's and the item's alone, the
    # rare words of the post are the item's, the title is its and no figure is elsewhere:
    # together, the calibrated score (benchmarks/matching/fit.py, frozen since round 9)
    # is high, and it decides: on the rounds written after it was frozen it added right
    # sources and, with its guards, no wrong one.  The evidence says the score decided.
    # Topic words alone, the same rivals: not confident.
    items = [*filler(), *RESCUE_AND_CHARYN]
    index = MatchIndex.build(items)
    named = RESCUE_RETOLD.replace("со льда", "с ледника Богдановича")
    found = match(index, commentary(text=named, title="Горы не прощают"))
    assert found.keys == ("rescue",) and found.confident
    assert found.evidence[-1].startswith("sure: its evidence together (calibrated score")
    vague = match(index, commentary(text=RESCUE_RETOLD, title="Горы не прощают"))
    assert not vague.confident
    assert not any(line.startswith("sure:") for line in vague.evidence)


@pytest.mark.parametrize(
    ("named", "confident"),
    [
        pytest.param("Бауыржан Сапаров", True, id="the initial's name beside it"),
        pytest.param("Сапаров Бауыржан", True, id="surname first"),
        pytest.param("Ерлан Сапаров", False, id="another person of that name"),
    ],
)
def test_a_surname_after_an_initial_is_the_person_its_item_names_in_full(named, confident):
    # Editors write the person an item names in full with an initial ("Б. Сапаров" for
    # "Бауыржан Сапаров").  Here the surname's skeleton ("sprv") is a common word's
    # ("справка", in every earlier item), far too common to tell items apart as a name;
    # the surname beside a name with the initial is still the person, and with it the
    # post's evidence together decides, as a rare name would (the rival rescue of the
    # same day is too close for any single rule).  Another first name: another person.
    earlier = [
        stored(f"report-{n}", "zakon", f"Сводка {n}",
               f"Обзор {n}: {n + 100} событий недели, справка прилагается.", hours=-240 - n)
        for n in range(1000)
    ]  # fmt: skip
    said = f"Начальник департамента {named} призвал регистрировать маршруты заранее."
    items = [
        *earlier,
        stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов",
               *RESCUE, said),
        RESCUE_AND_CHARYN[1],
    ]  # fmt: skip
    retold = RESCUE_RETOLD + " Глава департамента Б. Сапаров просит регистрировать маршруты."
    found = match(MatchIndex.build(items), commentary(text=retold, title="Горы не прощают"))
    assert first_ranked(found) == "rescue"
    assert found.confident is confident
    assert any("сапаров" in line for line in found.evidence) is confident


# The rescue item with figures of its own, and the post's sentence giving one of them
# as an editor says it (each sentence ends the named retelling).
RESCUE_FIGURES = (
    "Туристы поднялись на ледник без регистрации маршрута, на высоту 3,8 километра. В этом "
    "сезоне в горах уже зарегистрировано 236 выходов на маршруты, год назад за то же время "
    "было 196, напомнили в департаменте."
)


@pytest.mark.parametrize(
    "said",
    [
        pytest.param("Выходов на маршруты в этом сезоне больше чем двести тридцать.", id="bound"),
        pytest.param("Выходов на маршруты на сорок больше, чем год назад.", id="difference"),
        pytest.param("Они забрались на три километра восемьсот метров.", id="smaller unit"),
        pytest.param(
            "Штраф за такой поход, если пересчитать по нынешнему курсу, около ста долларов.",
            id="converted by the house",
        ),
        pytest.param("В семидесятые в эти горы ходили без всякой регистрации.", id="a decade"),
    ],
)
def test_a_figure_said_as_editors_say_it_is_the_items_own(said):
    # "больше чем двести тридцать" is the item's 236; "на сорок больше" its 236 against
    # 196; "три километра восемьсот метров" its 3,8 km; a price the house converted and a
    # decade are no figure of the news.  Read so, no figure of the news is missing from
    # the item, and its evidence together decides (read as a figure the item lacks: a
    # follow-up's, which the score is never sure of: for review).
    items = [
        *filler(),
        stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов",
               RESCUE[0].rsplit(" Туристы", 1)[0], RESCUE_FIGURES),
        stored("charyn", "24kz", "В Чарынском каньоне спасли туристов", CHARYN, hours=1),
    ]  # fmt: skip
    named = RESCUE_RETOLD.replace("со льда", "с ледника Богдановича")
    found = match(
        MatchIndex.build(items), commentary(text=f"{named} {said}", title="Горы не прощают")
    )
    assert found.keys == ("rescue",) and found.confident, found.evidence


def test_a_count_done_again_is_no_converted_figure():
    # "пересчитать" is also to count again: "пересчитают все 42 маршрута" gives a figure of
    # the news the item lacks (a follow-up's: for review), where a price converted "по
    # нынешнему курсу" is the house's arithmetic and leaves the item sure.
    items = [
        *filler(),
        stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов",
               RESCUE[0].rsplit(" Туристы", 1)[0], RESCUE_FIGURES),
        stored("charyn", "24kz", "В Чарынском каньоне спасли туристов", CHARYN, hours=1),
    ]  # fmt: skip
    index = MatchIndex.build(items)
    named = RESCUE_RETOLD.replace("со льда", "с ледника Богдановича")
    for said, sure in (
        ("Теперь спасатели пересчитают все сорок два маршрута ущелья.", False),
        ("Штраф за такой поход около ста долларов по нынешнему курсу.", True),
    ):
        found = match(index, commentary(text=f"{named} {said}", title="Горы не прощают"))
        assert first_ranked(found) == "rescue" and found.confident is sure, found.evidence


def test_the_score_is_not_sure_of_an_item_published_after_the_post():
    # The same evidence, but the items came out half a day after the post: an editor
    # cannot have retold them (on the 17 dev rounds no source was published after its
    # post; 46 wrong best items were).  The window reaches a day past the post for feeds'
    # clocks, so the item is still shown, likely, and why it is not sure.
    later = (
        stored("rescue", "kazinform", "В горах Заилийского Алатау спасли туристов", *RESCUE,
               hours=17),
        stored("charyn", "24kz", "В Чарынском каньоне спасли туристов", CHARYN, hours=18),
    )  # fmt: skip
    index = MatchIndex.build([*filler(), *later])
    named = RESCUE_RETOLD.replace("со льда", "с ледника Богдановича")
    found = match(index, commentary(text=named, title="Горы не прощают"))
    assert found.keys == ("rescue",) and found.status == "review"
    assert found.evidence[-1].startswith("likely: its evidence together (calibrated score")
    assert found.evidence[-1].endswith("but published 12 hours after the post")


def test_a_post_with_figures_its_best_item_lacks_is_left_for_review(rescue):
    # A follow-up (the fine, days later) is about the same story, but its figure is not
    # in the stored item: the item may well not be its source.
    later = RESCUE_RETOLD.replace("без травм", "штрафом в 120 тысяч")
    found = match(rescue, commentary(text=later, title="Горы не прощают"))
    assert found.status == "review" and first_ranked(found) == "rescue"


FLOOD_KAZINFORM = (
    "Паводковые воды подтопили 312 жилых домов в Атбасарском районе Акмолинской области. "
    "Из зоны подтопления эвакуированы 1 140 человек, их разместили в школах Атбасара. "
    "Уровень воды в реке Жабай поднялся на 2,5 метра за сутки, сообщили в акимате района."
)
FLOOD_24KZ = (
    "В Акмолинской области из-за паводка подтоплены жилые дома в Атбасарском районе. "
    "Спасатели эвакуируют жителей, людей размещают в школах Атбасара. Уровень воды в реке "
    "Жабай продолжает расти, на место направлены 240 спасателей и вертолет МЧС."
)
FLOOD_RETOLD = (
    "В Акмолинской области паводок: спасатели эвакуируют жителей Атбасарского района, под "
    "водой триста двенадцать домов, больше тысячи ста человек размещают в школах. Каждую "
    "весну одно и то же: дамбы латают в последний момент."
)


@pytest.fixture(scope="module")
def flood() -> MatchIndex:
    earlier = filler()
    items = [
        *earlier,
        stored("flood-kazinform", "kazinform", "Паводок в Атбасарском районе: подтоплены 312 домов",
               FLOOD_KAZINFORM),
        stored("flood-24kz", "24kz", "Паводок в Акмолинской области: эвакуируют жителей",
               FLOOD_24KZ, hours=1),
    ]  # fmt: skip
    return MatchIndex.build(items)


def test_a_post_with_figures_of_both_outlets_reports_is_left_for_review(flood):
    # Two outlets told one event; the post has figures of each: no telling which it read.
    both = FLOOD_RETOLD.replace(
        "больше тысячи ста человек размещают в школах", "туда отправили двести сорок спасателей"
    )
    found = match(flood, commentary(text=both, title="Весна без сюрпризов"))
    assert not found.confident


def test_a_similarity_decision_hands_its_evidence_to_an_observer_as_numbers(flood):
    # benchmarks/matching/fit.py fits a score on what the rules weighed: the best item,
    # and the evidence on it as numbers, with what the rules decided.
    both = FLOOD_RETOLD.replace(
        "больше тысячи ста человек размещают в школах", "туда отправили двести сорок спасателей"
    )
    seen = []
    found = match_commentary(
        commentary(text=both, title="Весна без сюрпризов"),
        flood,
        source_names=NAMES,
        observe=lambda key, features: seen.append((key, features)),
    )
    [(key, features)] = seen
    assert key == first_ranked(found) == "flood-24kz"
    assert features["confident"] == 0.0 and not found.confident
    assert features["same"] == 1.0
    assert 0.5 < features["share"] < 1  # the other outlet's report close behind ...
    assert features["runner"] >= 1  # ... with names and figures of the post too
    assert features["unexplained"] >= 1  # "триста двенадцать домов" is not in the best
    assert features["days"] < 1 and features["old"] == 0.0


def test_an_observer_hears_nothing_where_a_quote_or_a_link_decided(index):
    seen = []

    def observe(key, features):
        seen.append(key)

    quoted = match_commentary(
        commentary(quotes=(RATE,)), index, source_names=NAMES, observe=observe
    )
    linked = match_commentary(
        commentary(links=("https://www.inform.kz/ru/memorandumy-a4211",)),
        index,
        source_names=NAMES,
        observe=observe,
    )
    assert quoted.method == "quote" and linked.method == "link" and seen == []


def test_a_retelling_little_similar_to_its_item_is_sure_when_every_figure_of_its_news_is_in_it():
    # The post retells three figures and the reservoir's name in a few words and spends
    # the rest on its own comment, whose words other items have (as a real store's do):
    # its item is below every rule's similarity, but the post's facts are in it and in no
    # other item.  One figure of the post, the twelve metres, is not in the item: neither
    # a rule nor the calibrated score is sure (a follow-up has a figure of its own).  Told
    # without it, every figure of its news is, and a rule is sure.
    dam = (
        "Объем воды в Бугуньском водохранилище достиг 370 млн кубометров, это 92% проектной "
        "емкости, сообщили в бассейновой инспекции. Сбросы в реку Бугунь увеличены до 140 "
        "кубометров в секунду. Жителей сел Ордабасинского района просят не пасти скот у русла."
    )
    comment = (
        "Главное, чтобы в этот раз всё согласовали заранее, а не по телефону в ночь пика, как "
        "бывало не раз за последние годы, когда каждый район спасал себя сам и никто ни за что "
        "не отвечал. Хлопкоробы Мактаарала довольны, бахчеводы тоже, рисоводы Кызылорды ждут "
        "своей очереди, а рыбаки жалуются на мутную воду. Старики вспоминают паводок, молодёжь "
        "снимает ролики с плотины, блогеры спорят, кто виноват в прошлогодних подтоплениях, "
        "чиновники молчат, синоптики обещают тёплый май."
    )
    told = (
        "Пока север считает подтопленные дворы, у юга другая забота. Бугунь налит почти "
        "доверху: девяносто два процента, триста семьдесят миллионов кубов, сброс сто сорок в "
        f"секунду, уровень за неделю поднялся на двенадцать метров. {comment}"
    )
    # (its common words: the names in it are no other item's)
    words = list(dict.fromkeys(w.strip(",.") for w in comment.split() if w[0].islower()))
    words = [w for w in words if len(w) >= 6]
    notes = [
        stored(
            f"note-{n}", "zakon", f"Заметка {n}", f"Заметка {n}: {' '.join(pair)}.", hours=-30 - n
        )
        for n, pair in enumerate(zip(words[::2], words[1::2], strict=False))
    ]
    items = [*filler(), *notes, stored("dam", "kazinform", "Бугунь наполнен", dam)]
    seen = []
    found = match_commentary(
        commentary(text=told, title="Юг ждёт большую воду"),
        MatchIndex.build(items),
        source_names=NAMES,
        observe=lambda key, features: seen.append(features),
    )
    assert seen[-1]["best"] < CLEAR_SURE and not seen[-1]["rules"]
    assert not found.confident
    every = commentary(
        text=told.replace(", уровень за неделю поднялся на двенадцать метров", ""),
        title="Юг ждёт большую воду",
    )
    found = match_commentary(every, MatchIndex.build(items), source_names=NAMES)
    assert found.confident and "sure: every figure of its news in it" in found.evidence


# --- similarity across languages ------------------------------------------------------

BERLIN = (
    "Kazakh and German companies signed 12 agreements worth about $4 billion at a business "
    "forum in Berlin attended by President Kassym-Jomart Tokayev. The deals cover chemicals, "
    "rare earth metals and logistics."
)
PARIS = (
    "Kazakh and French companies signed 7 agreements worth 850 million euros at an investment "
    "round table in Paris chaired by Prime Minister Olzhas Bektenov. The deals cover uranium, "
    "aviation and agriculture."
)


@pytest.fixture(scope="module")
def languages() -> MatchIndex:
    items = [
        stored("berlin", "astanatimes", "Kazakhstan and Germany sign business agreements", BERLIN),
        stored("paris", "astanatimes", "Kazakhstan and France sign investment deals", PARIS, hours=1),
        stored("forum", "kapital", "Инвесторы обсудили налоговую реформу",
               "Участники форума иностранных инвесторов обсудили новый Налоговый кодекс и "
               "льготы для обрабатывающей промышленности.", hours=2),
        stored("aral", "azattyq", "Кіші Аралдағы су деңгейі көтерілді", KAZAKH, hours=3),
        stored("corridor", "kazinform", "Middle Corridor cargo volumes up 63 percent", ENGLISH, hours=4),
    ]  # fmt: skip
    return MatchIndex.build(items)


KHORGOS_EN = (
    "The duty-free allowance at the Khorgos International Centre for Boundary Cooperation "
    "stays at 1,500 euros and 50 kg per person. Visitor numbers at Khorgos rose 35% in the "
    "first quarter, the centre's administration said."
)


def test_a_count_across_languages_is_not_the_items_percent_nor_what_was_replaced():
    # The post's news is the cut: "1 000 евро и 35 килограммов вместо нынешних 1 500 евро
    # и 50 килограммов".  The English item has the old allowance and visitors up 35%:
    # 35 kg is no 35% (another thing counted), and the figures said as replaced are the
    # earlier ones, not the news's; so most of its news is not in the item (its earlier
    # stage): not sure.  The allowance itself retold: sure across languages.
    items = [
        *filler(),
        stored("khorgos", "astanatimes", "Khorgos visitor numbers grow", KHORGOS_EN),
    ]
    index = MatchIndex.build(items)
    cut = (
        "Покупателей «Хоргоса» ждёт неприятный сюрприз: беспошлинно вынести из центра можно "
        "будет товары лишь на 1 000 евро и не тяжелее 35 килограммов вместо нынешних 1 500 "
        "евро и 50 килограммов. Челночники теряют главное."
    )
    found = match(index, commentary(text=cut, title="Лимит урезали"))
    assert found.keys == ("khorgos",) and not found.confident
    assert any("1000, 35 not in it" in line for line in found.evidence)
    kept = cut.replace("лишь на 1 000 евро и не тяжелее 35 килограммов вместо нынешних ", "")
    assert match(index, commentary(text=kept, title="Лимит урезали")).confident


def first_ranked(found):
    """The item a retelling ranks first: its match, or else its best candidate."""
    return (list(found.keys) or [key for key, _ in found.candidates])[0]


def test_a_russian_retelling_of_an_english_item_ranks_it_first_by_names_and_figures(languages):
    retold = (
        "В Берлине при участии Токаева казахстанские и немецкие компании подписали двенадцать "
        "соглашений, от химии до логистики."
    )
    found = match(languages, commentary(text=retold, title="Ждем продолжения"))
    assert first_ranked(found) == "berlin"


def test_a_same_topic_english_item_with_other_names_and_figures_is_not_ranked_first(languages):
    retold = (
        "В Париже на круглом столе под председательством Бектенова французские компании "
        "подписали семь соглашений на 850 миллионов евро: уран, авиация, сельское хозяйство."
    )
    found = match(languages, commentary(text=retold, title="Ждем продолжения"))
    assert first_ranked(found) == "paris"


def test_a_russian_retelling_of_a_kazakh_item_ranks_it_first(languages):
    retold = (
        "Благодаря Кокаральской плотине уровень Северного Арала дошел до сорока двух метров, "
        "а до города Аральска вода подступила на двенадцать километров ближе."
    )
    found = match(languages, commentary(text=retold, title="Счет идет"))
    assert first_ranked(found) == "aral"


def test_a_russian_retelling_of_an_english_only_item_is_confident_on_its_names_and_numbers(
    languages,
):
    retold = (
        "По Транскаспийскому маршруту за девять месяцев перевезли больше четырех миллионов "
        "тонн, на шестьдесят три процента больше, чем годом ранее, через Актау."
    )
    found = match(languages, commentary(text=retold, title="Счет идет"))
    assert found.keys == ("corridor",) and found.confident
    assert "63" in found.evidence[0]


def test_a_russian_item_on_another_event_does_not_keep_a_kazakh_source_from_being_likely():
    # The Russian item is about the same kind of news (a park's tickets) and worded close to
    # the post, but has none of its names and figures: it is not the event told in Russian.
    # (Every figure of the post's news is in the Kazakh item, and a name no rival has: a
    # rule is sure of it, round 16; before, only the score found it likely.)
    earlier = filler()
    charyn = (
        "Шарын ұлттық табиғи паркіне кіру ақысы 1 сәуірден бастап ересектер үшін 2000 теңгеге "
        "дейін өсті, деп хабарлады парк әкімшілігі. Қаражат Күл шатқалындағы жолдарды жөндеуге "
        "және туристерге арналған 12 жаңа демалыс орнын салуға жұмсалады."
    )
    ile = (
        "В Иле-Алатауском национальном парке с апреля билет для взрослых подорожал, сообщили "
        "в парке. Деньги от продажи билетов пустят на ремонт дорог и новые места отдыха, вход "
        "для детей по-прежнему бесплатный, билет можно купить онлайн."
    )
    items = [
        *earlier,
        stored("charyn", "kazinform", "Шарын паркіне кіру ақысы өсті", charyn),
        stored("ile", "zakon", "В Иле-Алатауском парке открыли новые тропы", ile, hours=1),
    ]
    retold = (
        "С первого апреля вход в Чарынский парк стоит две тысячи тенге для взрослых. На эти "
        "деньги обещают пустить на дороги в Долине замков и двенадцать новых мест отдыха для "
        "туристов. Платить, конечно, будут: парк того стоит, но билет в парк дорожает."
    )
    found = match(MatchIndex.build(items), commentary(text=retold, title="Чарын подорожал"))
    assert found.keys == ("charyn",) and found.confident
    assert found.evidence[-1] == "sure: every figure of its news in it alone, across languages"
    # The evidence is the event's names and figures, each once ("Чарын", "Чарынский": one
    # name); a word opening a sentence ("Напоминаем") is no name, the post's year no fact.
    reminded = "Напоминаем: в 2024 году Чарын подорожал уже дважды. " + retold
    found = match(MatchIndex.build(items), commentary(text=reminded, title="Чарын подорожал"))
    assert found.keys == ("charyn",) and found.confident
    assert found.evidence[0] == "shares чарын, 2000 with charyn"


def test_a_match_across_languages_is_only_for_review_when_a_russian_item_competes():
    russian = stored(
        "corridor-ru", "kazinform", "Грузы по Среднему коридору",
        "По Транскаспийскому международному транспортному маршруту за девять месяцев "
        "перевезли 4,1 млн тонн грузов, на 63% больше, чем год назад.", hours=1,
    )  # fmt: skip
    english = stored(
        "corridor", "kazinform", "Middle Corridor cargo volumes up 63 percent", ENGLISH
    )
    both = MatchIndex.build([english, russian])
    retold = (
        "По Транскаспийскому маршруту за девять месяцев перевезли больше четырех миллионов "
        "тонн, на шестьдесят три процента больше, чем годом ранее."
    )
    found = match(both, commentary(text=retold, title="Счет идет"))
    assert "corridor" not in (found.keys if found.confident else ())


def test_a_retelling_sharing_one_word_with_a_foreign_item_is_not_matched_to_it(languages):
    retold = "Футбольный клуб из Берлина выиграл кубок страны в серии пенальти."
    found = match(languages, commentary(text=retold))
    assert found.status == "none"


def test_confidence_levels_are_ordered():
    assert 0 < REVIEW < CONFIDENT < 1


CAMEL_MILK = (
    "Маңғыстау облысының Бейнеу ауданында тәулігіне 20 тонна түйе сүтін өңдейтін зауыт іске "
    "қосылды. Жобаның құны 3,2 млрд теңге, кәсіпорында 60 адам жұмыспен қамтылды. Сүтті 120 "
    "шаруа қожалығынан сатып аламыз, литріне 600 теңге төлейміз, деді зауыт директоры."
)


def test_two_facts_shared_across_languages_do_not_make_another_event_the_source():
    # A post on the country's milk prices names Mangystau's "почти шестьсот тенге"; the
    # Kazakh item on a camel-milk plant there pays 600 теңге a litre.  Two facts of five,
    # none of the post's other figures, a Russian item on the topic close behind: the
    # topic, not the event ("its names and figures are in it alone, across languages", a
    # rule that decided 3 dev runs, 2 of them wrong, is gone).
    items = [
        *filler(),
        stored("camel", "kazinform", "Маңғыстауда түйе сүтін өңдейтін зауыт ашылды", CAMEL_MILK),
        stored("milk-kk", "kazinform", "Сүт қымбаттады",
               "Сүт бағасы биыл қымбаттады: литр сүт пен айран дүкендерде қымбаттап, фермерлер "
               "жем-шөп бағасының өсуін себеп етеді.", hours=1),
        stored("dairy", "kapital", "Надои выросли",
               "Молочные фермы Костанайской области увеличили надои, закупочная цена литра "
               "пастеризованного молока и кефира за год выросла, самое дорогое молоко в магазинах "
               "области стоит в райцентрах.", hours=2),
    ]  # fmt: skip
    told = (
        "Литр пастеризованного молока стоит в среднем по стране пятьсот двенадцать тенге. За "
        "год молоко подорожало на тринадцать процентов, кефир почти на двенадцать процентов. "
        "Самое дорогое молоко в Мангистау, почти шестьсот тенге, самое дешёвое в СКО, где литр "
        "стоит 441."
    )
    found = match(MatchIndex.build(items), commentary(text=told, title="Молоко дорожает"))
    assert not found.confident
    assert not any(line.startswith("sure:") for line in found.evidence)


# --- against the store -------------------------------------------------------------------


def test_match_all_resolves_references_in_the_store_and_skips_the_house_feed(store_at, tmp_path):
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.media/", house="Евразия24"),
        sources=(
            SourceConfig(id="kazinform", name="Kazinform", url="https://inform.kz/rss"),
            SourceConfig(
                id="house", name="Евразия24", url="https://eurasia24.media/rss", house=True
            ),
        ),
    )
    storage = open_storage(store_at("store"))
    try:
        storage.sync_sources(config.sources)
        source = stored("a", "kazinform", "Меморандумы в кино", KORKYT).item
        # The house's own post quotes the same text: it must not match itself.
        post = stored("p", "house", "Стоп, снято!", f"Kazinform сообщает: «{KORKYT}»").item
        for source_id, item in (("kazinform", source), ("house", post)):
            state = storage.get_source_state(source_id)
            record_fetch(storage, state, [item], fetched_at=DAY + timedelta(hours=1))
        key = storage.item_by_link(source.link).key
        by_link = commentary(sources=(source.link + "?utm_source=x",))
        by_quote = Commentary(
            id="file:q",
            title="t",
            published=DAY,
            slug="q",
            comment_html="<p>c</p>",
            quotes=(KORKYT,),
        )
        bare = source.link.removeprefix("https://")  # "kazinform.example/news/a"
        by_bare_address = Commentary(
            id="file:b", title="t", published=DAY, slug="b", comment_html="", sources=(bare,)
        )
        matches = match_all([by_link, by_quote, by_bare_address], storage, config)
    finally:
        storage.close()
    assert matches["file:test"].keys == (key,) and matches["file:test"].method == "source"
    assert matches["file:b"].keys == (key,) and matches["file:b"].method == "source"
    assert matches["file:q"].keys == (key,) and matches["file:q"].method == "quote"


@pytest.mark.parametrize(
    ("quote", "as_the_agencys_words"),
    [
        pytest.param(KORKYT, True, id="word for word"),
        pytest.param(KORKYT[:70] + " … " + KORKYT[-80:], True, id="cut with an ellipsis"),
        pytest.param(
            KORKYT.replace("В Актау в рамках", "В рамках").replace(
                "кинофестиваля", "кинофестиваля в Актау"
            ),
            False,
            id="words moved",
        ),
        pytest.param(KORKYT.replace("«Қоркыт ата»", "„Қоркыт ата“"), False, id="marks changed"),
    ],
)
def test_a_quote_is_the_agencys_words_only_where_its_item_has_it_word_for_word(
    store_at, quote, as_the_agencys_words
):
    # Reworded, it still finds its item (the source is credited), but publishing it in «»
    # would put the house's words in the agency's mouth.
    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.media/", house="Евразия24"),
        sources=(SourceConfig(id="kazinform", name="Kazinform", url="https://inform.kz/rss"),),
    )
    storage = open_storage(store_at("store"))
    try:
        storage.sync_sources(config.sources)
        source = stored("a", "kazinform", "Меморандумы в кино", KORKYT, KORKYT_2).item
        state = storage.get_source_state("kazinform")
        record_fetch(storage, state, [source], fetched_at=DAY + timedelta(hours=1))
        key = storage.item_by_link(source.link).key
        quoting = commentary(quotes=(quote,), separate_quote=True)
        found = match_all([quoting], storage, config)["file:test"]
    finally:
        storage.close()
    assert found.keys == (key,) and found.confident
    assert (found.quote_of(key) == 0) is as_the_agencys_words


# --- several links, background, evidence ---------------------------------------------


def test_of_two_links_the_retold_item_is_the_source_and_the_background_link_is_related(index):
    c = commentary(
        text="Национальный банк сохранил ставку 14,25%: регулятор видит ускорение инфляции.",
        links=("https://kapital.example/news/rate", "https://zakon.example/news/tengiz"),
        background_links=("https://zakon.example/news/tengiz",),
    )
    found = match(index, c)
    assert (found.keys, found.related, found.confident) == (("rate",), ("tengiz",), True)


def test_a_link_given_only_as_background_is_not_the_source(index):
    c = commentary(
        text="Ранее сообщалось о Тенгизе. Погода в Караганде испортилась, снег идет.",
        links=("https://zakon.example/news/tengiz",),
        background_links=("https://zakon.example/news/tengiz",),
    )
    found = match(index, c)
    assert "tengiz" not in found.keys and found.related == ("tengiz",)


CORRIDOR_LINK = "https://kazinform.example/news/corridor"  # the English item
TENGIZ_LINK = "https://zakon.example/news/tengiz"  # a Russian item of another event


@pytest.mark.parametrize(
    "told",
    [
        pytest.param(
            'Грузы по Среднему коридору <a href="{news}">выросли на 63%</a> — всего через '
            'день после того, как <a href="{background}">объявили о расширении Тенгиза</a>.',
            id="a clause of time leads to it",
        ),
        pytest.param(
            'Грузы по Среднему коридору выросли на 63%, <a href="{background}">о расширении '
            "Тенгиза мы писали в начале месяца</a>. Подробности — в "
            '<a href="{news}">англоязычной ленте</a>.',
            id="its own words say it was reported",
        ),
        pytest.param(
            'Пока <a href="{background}">на Тенгизе завершали расширение</a>, грузы по '
            'Среднему коридору <a href="{news}">выросли на 63%</a>.',
            id="it is the scene the news is set against",
        ),
        pytest.param(
            'Не прошло и месяца с тех пор, как <a href="{background}">на Тенгизе завершили '
            'расширение</a>, а грузы по Среднему коридору уже <a href="{news}">выросли на '
            "63%</a>.",
            id="the news is what happened since it",
        ),
        pytest.param(
            'Компании, которые <a href="{background}">ещё в марте расширили Тенгиз</a>, '
            'теперь везут по Среднему коридору <a href="{news}">на 63% больше грузов</a>.',
            id="its own words give it an earlier month",
        ),
        pytest.param(
            'Девятого, когда на Тенгизе <a href="{background}">завершали расширение</a>, '
            "министр обещал новые маршруты. По Среднему коридору так и вышло: грузы "
            '<a href="{news}">выросли на 63%</a>.',
            id="its clause opens with when",
        ),
        pytest.param(
            'Грузы по Среднему коридору <a href="{news}">выросли на 63%</a>. О таком росте '
            '<a href="{background}">говорили на Тенгизе, завершая расширение</a> — тогда '
            "в него мало кто верил.",
            id="the sentence goes on with then",
        ),
        pytest.param(
            'Грузы по Среднему коридору <a href="{news}">выросли на 63%</a>. В прошлый раз, '
            '<a href="{background}">на Тенгизе</a>, рост обещали меньше.',
            id="set off by commas after its words",
        ),
        pytest.param(
            'На Тенгизе <a href="{background}">во вторник завершили расширение</a>, а уже в '
            'четверг <a href="{news}">грузы по Среднему коридору выросли на 63%</a>.',
            id="its sentence goes on to the news days later",
        ),
    ],
)
def test_of_two_links_one_told_as_what_came_before_the_news_is_background(index, told):
    # The source is in English, the background item in the post's own language: the
    # words the post shares say nothing of which link its news retells, its clauses do.
    text = told.format(news=CORRIDOR_LINK, background=TENGIZ_LINK)
    c = commentary(text=text, links=(CORRIDOR_LINK, TENGIZ_LINK))
    found = match(index, c)
    assert (found.keys, found.related, found.confident) == (("corridor",), ("tengiz",), True)
    # Its source not stored: the background link alone is no source.
    unstored = "https://kazinform.example/news/not-fetched"
    text = told.format(news=unstored, background=TENGIZ_LINK)
    found = match(index, commentary(text=text, links=(unstored, TENGIZ_LINK)))
    assert "tengiz" in found.related and not ("tengiz" in found.keys and found.confident)


def test_a_when_that_asks_what_the_news_tells_is_no_time_before_it(index):
    # "Рассказали, когда …" is the question the news answers, not the time it is set
    # against: the link after it is the source, the other the background.
    text = (
        f'На Тенгизе <a href="{TENGIZ_LINK}">завершили расширение</a>. В Минтрансе '
        f'рассказали, когда <a href="{CORRIDOR_LINK}">грузы по Среднему коридору вырастут '
        "на 63%</a>."
    )
    found = match(index, commentary(text=text, links=(TENGIZ_LINK, CORRIDOR_LINK)))
    assert (found.keys, found.related, found.confident) == (("corridor",), ("tengiz",), True)


def test_a_link_told_as_so_far_is_not_told_as_the_scene(index):
    # "Пока что" is "so far": the news itself, not what it is set against.
    text = (
        f'Пока что <a href="{CORRIDOR_LINK}">грузы по Среднему коридору выросли на 63%</a>, '
        f'а <a href="{TENGIZ_LINK}">расширение Тенгиза</a> завершено.'
    )
    found = match(index, commentary(text=text, links=(CORRIDOR_LINK, TENGIZ_LINK)))
    assert (found.keys, found.related, found.confident) == (("corridor",), ("tengiz",), True)


def test_of_two_links_told_alike_the_one_holding_the_news_figures_is_the_source(index):
    # No word tells either link as background; the post shares its words with the item
    # in its own language, and its figures (63%, 4,1 миллиона тонн) with the English one.
    text = (
        f'По <a href="{CORRIDOR_LINK}">Среднему коридору</a> за девять месяцев перевезли '
        "4,1 миллиона тонн грузов, на 63% больше, чем год назад, а расширение на "
        f'<a href="{TENGIZ_LINK}">месторождении Тенгиз</a> завершено.'
    )
    found = match(index, commentary(text=text, links=(CORRIDOR_LINK, TENGIZ_LINK)))
    assert (found.keys, found.related, found.confident) == (("corridor",), ("tengiz",), True)


EMIGRATION = (
    "За прошлый год из Казахстана на постоянное жительство уехали 143 тысячи человек, "
    "среди них 610 врачей и 1 200 учителей, сообщает бюро национальной статистики."
)
ANESTHETISTS = (
    "В Восточно-Казахстанской области за год из больниц уволились 23 анестезиолога, "
    "в семи районах некому давать наркоз, сообщили в облздраве."
)
EMIGRATION_LINK = "https://kursiv.example/news/emigration"
ANESTHETISTS_LINK = "https://azattyq.example/news/anesthetists"


@pytest.mark.parametrize(
    ("background_hours", "source"),
    [
        pytest.param(-70, "anesthetists", id="days older: the latest item is the news"),
        pytest.param(-22, "emigration", id="hours apart: the news's figures decide"),
    ],
)
def test_of_two_links_told_alike_an_item_days_older_than_the_other_is_what_came_before(
    background_hours, source
):
    # No word tells either link as background, and the statistic holds more of the post's
    # figures (143 тысячи, 610) than the regional news it explains (23).  Editors link the
    # statistic behind their news, or its earlier stage, to an item days older than the
    # news; two items hours apart may be two tellings, and the figures decide as before.
    index = MatchIndex.build(
        [
            stored("emigration", "kursiv", "Из Казахстана уехали 610 врачей", EMIGRATION,
                   hours=background_hours, link=EMIGRATION_LINK),
            stored("anesthetists", "azattyq", "Из больниц ВКО ушли 23 анестезиолога",
                   ANESTHETISTS, hours=-18, link=ANESTHETISTS_LINK),
        ]
    )  # fmt: skip
    text = (
        f'<a href="{EMIGRATION_LINK}">Статистика за прошлый год</a> насчитала среди 143 тысяч '
        "уехавших 610 врачей. Из чего складывается такая цифра, видно по одному региону: "
        f'<a href="{ANESTHETISTS_LINK}">в ВКО за год из больниц ушли 23 анестезиолога</a>.'
    )
    c = commentary(text=text, links=(EMIGRATION_LINK, ANESTHETISTS_LINK))
    found = match(index, c)
    other = ({"emigration", "anesthetists"} - {source}).pop()
    assert (found.keys, found.related, found.confident) == ((source,), (other,), True)


@pytest.mark.parametrize(
    ("text", "hours", "confident"),
    [
        pytest.param(
            '<a href="{stored}">Статистика за прошлый год</a> насчитала среди 143 тысяч '
            "уехавших 610 врачей. Из чего складывается такая цифра, видно по одному региону: "
            '<a href="{unstored}">в ВКО за год из больниц ушли 23 анестезиолога</a>.',
            -70,
            False,
            id="days older: the unfetched link may be the news",
        ),
        pytest.param(
            '<a href="{stored}">Статистика за прошлый год</a> насчитала среди 143 тысяч '
            "уехавших 610 врачей. Из чего складывается такая цифра, видно по одному региону: "
            '<a href="{unstored}">в ВКО за год из больниц ушли 23 анестезиолога</a>.',
            -20,
            True,
            id="as fresh as a source: it may be the news",
        ),
        pytest.param(
            'Ранее <a href="{unstored}">в ВКО из больниц ушли 23 анестезиолога</a>. Теперь '
            '<a href="{stored}">статистика за прошлый год</a> насчитала среди 143 тысяч '
            "уехавших 610 врачей.",
            -70,
            True,
            id="the unfetched link is told as background",
        ),
    ],
)
def test_a_link_days_old_beside_a_link_to_no_stored_item_is_not_sure(text, hours, confident):
    # Two links, one to a page never fetched: the stored one is published alone only if
    # it may be the news (within two days of the post, as every rule asks) or the other
    # is told as what came before.  An item days older beside an unfetched link is most
    # often the statistic or the earlier stage behind the news, linked without a word.
    index = MatchIndex.build(
        [stored("emigration", "kursiv", "Из Казахстана уехали 610 врачей", EMIGRATION,
                hours=hours, link=EMIGRATION_LINK)]
    )  # fmt: skip
    text = text.format(stored=EMIGRATION_LINK, unstored=ANESTHETISTS_LINK)
    c = commentary(text=text, links=(EMIGRATION_LINK, ANESTHETISTS_LINK))
    found = match(index, c)
    assert (found.keys, found.method, found.confident) == (("emigration",), "link", confident)
    assert found.status == ("confident" if confident else "review")


@pytest.mark.parametrize(
    "told",
    [
        pytest.param(
            'Нацбанк <a href="{link}">сохранил ставку 14,25%</a> через день после того, как '
            "инфляция ускорилась.",
            id="the clause of time is about something else",
        ),
        pytest.param(
            'Нацбанк сохранил ставку 14,25% через день после того, как <a href="{link}">'
            "регулятор объяснил решение инфляцией</a>.",
            id="the only link is in a clause of time",
        ),
    ],
)
def test_a_post_whose_only_link_is_its_source_matches_it_however_its_clauses_run(index, told):
    link = "https://kapital.example/news/rate"
    found = match(index, commentary(text=told.format(link=link), links=(link,)))
    assert (found.keys, found.method, found.confident) == (("rate",), "link", True)


def test_a_quote_in_no_item_falls_through_to_similarity_and_is_never_confident(index):
    c = commentary(
        text="Нацбанк сохранил базовую ставку 14,25% из-за инфляции и ожиданий населения.",
        quotes=("Мы продолжим внимательно следить за ценами на продовольствие и бензин",),
        separate_quote=True,  # presented as the agency's quote
    )
    found = match(index, c)
    assert found.method == "similarity" and found.keys == ("rate",) and not found.confident


def test_only_a_quote_found_in_the_item_is_verified_for_attribution(index):
    c = commentary(quotes=(KORKYT,), sources=("korkyt",))
    assert match(index, c).quote_of("korkyt") == 0
    c = commentary(quotes=("Это слова самой редакции, их нет ни в одной новости агентства",),
                   sources=("korkyt",))  # fmt: skip
    assert match(index, c).quote_of("korkyt") == -1


def test_a_long_attribution_phrase_names_the_source_it_contains(index):
    reprint = stored("reprint", "zakon", "Меморандумы в кино", KORKYT, hours=1)
    original = stored("original", "kazinform", "Меморандумы", KORKYT)
    two = MatchIndex.build([original, reprint])
    phrase = "Zakon.kz со ссылкой на пресс-службу Минкультуры"
    assert match(two, commentary(quotes=(KORKYT,), agency=phrase)).keys == ("reprint",)


# --- evidence against: the post reports its event otherwise than the item --------------

FIRE = (
    "В Аулиекольском районе Костанайской области потушен степной пожар на площади около "
    "1 200 гектаров. Огонь подошел на расстояние 300 метров к поселку Диевский, но жилые "
    "дома не пострадали, сообщили в ДЧС региона. С пожаром боролись 95 человек и 26 единиц "
    "техники, трактора местных хозяйств опахивали поселок. Виновнику грозит штраф до 100 МРП."
)


@pytest.fixture(scope="module")
def fire() -> MatchIndex:
    earlier = filler()
    items = [
        *earlier,
        stored("fire", "24kz", "В Костанайской области горело 1 200 гектаров степи", FIRE),
        stored("tariff", "kapital", "Тарифы на воду вырастут",
               "С апреля тарифы на холодную воду для жителей Шымкента вырастут, решение "
               "принял антимонопольный комитет.", hours=1),
    ]  # fmt: skip
    return MatchIndex.build(items)


FIRE_RETOLD = (
    "Под Аулиеколем Костанайской области потушили степной пожар: огонь прошел около тысячи "
    "двухсот гектаров и остановился в трехстах метрах от Диевского. Поселок отстояли "
    "трактора фермеров, которые опахали его, а виновнику грозит до ста МРП."
)


def test_a_retelling_with_its_items_figures_in_words_is_confident(fire):
    found = match(fire, commentary(text=FIRE_RETOLD, title="Опахали и отстояли"))
    assert found.keys == ("fire",) and found.confident
    assert not any(line.startswith("against:") for line in found.evidence)


def test_a_post_on_another_fire_with_the_same_places_is_not_confident(fire):
    # Another fire in the same district, days later: the same places and the same topic,
    # but the post's area and distance are not the stored fire's.
    other = FIRE_RETOLD.replace("тысячи двухсот", "восьмисот").replace("трехстах", "пятистах")
    found = match(fire, commentary(text=other, title="Опахали и отстояли"))
    assert not found.confident and first_ranked(found) == "fire"
    assert found.evidence[-1] == (
        "against: the post's 800 гектар, the item's 1200 гектар; "
        "the post's 500 метр, the item's 300 метр"
    )


def test_one_figure_of_another_event_beside_the_items_own_is_no_evidence_against(fire):
    # The post mentions another fire's area first, then tells the stored one with its figures.
    both = "Три дня назад в области Абай выгорело восемьсот гектаров степи. " + FIRE_RETOLD
    found = match(fire, commentary(text=both, title="Опахали и отстояли"))
    assert found.keys == ("fire",) and found.confident


def test_a_span_of_time_told_otherwise_is_no_evidence_against():
    # "за двенадцать часов" may be the item's "с 6 до 18 часов": spans of time are retold,
    # areas and distances are not.
    earlier = filler()
    timed = FIRE.replace("потушен", "с 6 до 18 часов тушили")
    items = [*earlier, stored("fire", "24kz", "В Костанайской области горела степь", timed)]
    retold = (
        "Под Аулиеколем Костанайской области за двенадцать часов потушили степной пожар, "
        "который подошел к поселку Диевский. Трактора фермеров опахали поселок, а "
        "виновнику пала сухой травы грозит штраф."
    )
    found = match(MatchIndex.build(items), commentary(text=retold, title="Опахали и отстояли"))
    assert found.keys == ("fire",) and found.confident


def test_a_post_on_a_fire_in_another_district_of_the_region_is_not_confident(fire):
    # The same region, the same kind of fire, no figures: the district is the event's.
    other = (
        "В Житикаринском районе Костанайской области потушили степной пожар, который "
        "подошел к поселку. Трактора фермеров опахали поселок, а виновнику пала сухой "
        "травы грозит штраф, его ищет полиция."
    )
    found = match(fire, commentary(text=other, title="Опахали и отстояли"))
    assert not found.confident
    assert "the post's житикаринск район, the item's аулиекольск район" in found.evidence[-1]


def test_a_post_on_another_grade_of_fuel_is_not_confident_on_the_first_grades_item():
    earlier = filler()
    ai92 = (
        "С 14 апреля на автозаправочных станциях Костанайской области бензин АИ-92 подорожал "
        "до 215 тенге за литр, сообщили в департаменте Агентства по защите и развитию "
        "конкуренции. Рост цен на АЗС связывают с ремонтом на Павлодарском НПЗ."
    )
    items = [*earlier, stored("ai92", "kapital", "Бензин АИ-92 подорожал в Костанае", ai92)]
    index = MatchIndex.build(items)
    told = (
        "Бензин АИ-92 на заправках Костанайской области теперь стоит двести пятнадцать тенге "
        "за литр: дорожает из-за ремонта Павлодарского НПЗ, объясняет антимонопольный "
        "департамент."
    )
    found = match(index, commentary(text=told, title="Бензин дорожает"))
    assert found.keys == ("ai92",) and found.confident
    other = told.replace("АИ-92", "АИ-95").replace("двести пятнадцать", "двести шестьдесят")
    found = match(index, commentary(text=other, title="Бензин дорожает"))
    assert not found.confident and "against: the post's а-95, the item's а-92" in found.evidence[-1]


def test_a_change_the_post_gives_between_two_of_the_items_figures_is_no_evidence_against():
    # "дороже на 17 тенге" is "с 98 до 115 тенге" told as the rise: the same figures.
    earlier = filler()
    lpg = (
        "С начала марта средняя цена сжиженного газа на автозаправках Костанайской области "
        "выросла с 98 до 115 тенге за литр, сообщили в департаменте Агентства по защите и "
        "развитию конкуренции. Департамент начал проверку 23 АЗС на признаки сговора."
    )
    items = [*earlier, stored("lpg", "kapital", "Автогаз в Костанае подорожал", lpg)]
    index = MatchIndex.build(items)
    told = (
        "Газ на заправках Костаная за март подорожал на семнадцать тенге, до "
        "ста пятнадцати тенге за литр, и антимонопольный департамент проверяет заправки на "
        "сговор."
    )
    found = match(index, commentary(text=told, title="Газ дорожает"))
    assert found.keys == ("lpg",) and found.confident
    assert not any(line.startswith("against:") for line in found.evidence)
    # A rise the item's figures do not make is still told otherwise.
    other = told.replace("семнадцать", "сорок").replace("ста пятнадцати", "ста тридцати восьми")
    found = match(index, commentary(text=other, title="Газ дорожает"))
    assert not found.confident and "against: the post's 40 тенг" in found.evidence[-1]


def test_a_figure_the_post_says_was_replaced_is_no_evidence_against():
    # "Вместо полутора сотен … сто пятнадцать": the post reports the item's 115 and names
    # the figure it replaced; that one is no figure of the event told otherwise.
    earlier = filler()
    cameras = (
        "До конца года на улицах Алматы установят 115 новых камер фиксации нарушений, "
        "сообщили в управлении городской мобильности. Большая часть появится на проспекте "
        "Рыскулова и улице Толе би. За прошлый год в ДТП в городе погибли 97 человек."
    )
    items = [*earlier, stored("cameras", "tengri", "В Алматы установят 115 камер", cameras)]
    told = (
        "Вместо обещанных утром полутора сотен новых камер Алматы в этом году повесит сто "
        "пятнадцать новых камер, прежде всего на Рыскулова и Толе би."
    )
    found = match(MatchIndex.build(items), commentary(text=told, title="Камер будет меньше"))
    assert found.keys == ("cameras",) and found.confident
    assert not any(line.startswith("against:") for line in found.evidence)


def test_a_figure_the_item_counts_by_another_word_is_no_evidence_against():
    # The post's "девятисот человек" are the item's "900 водителей"; the item's "300
    # человек" (whom its school will train) are another figure, not the post's 900 told
    # otherwise.
    index = MatchIndex.build([*filler(), stored("drivers", "tengri", "Нет водителей", DRIVERS)])
    found = match(index, commentary(text=DRIVERS_TOLD, title="Водителя нет"))
    assert found.keys == ("drivers",)
    assert not any(line.startswith("against:") for line in found.evidence)
    # A figure the item gives under no other word, only otherwise, is still against.
    seven_hundred = DRIVERS_TOLD.replace("девятисот", "семисот")
    found = match(index, commentary(text=seven_hundred, title="Водителя нет"))
    assert "against: the post's 700 человек, the item's 300 человек" in found.evidence[-1]


DRIVERS = (
    "Автопаркам Алматы не хватает около 900 водителей, из-за чего на 31 маршруте интервал "
    "движения превышает 25 минут, заявил заместитель акима Нурлан Сейтжанов. Городской "
    "учебный центр бесплатно обучит 300 человек управлению автобусом."
)
DRIVERS_TOLD = (
    "Замакима Алматы Нурлан Сейтжанов признал: в автопарках недобор порядка девятисот "
    "человек, и на тридцати одном маршруте автобус приходится ждать дольше двадцати пяти "
    "минут. Учебный центр бесплатно выучит три сотни новичков."
)


def test_a_ranges_scale_written_once_at_its_end_scales_each_of_its_figures():
    # "с 2,1 до 3,4 млн тонн" is 2,1 million to 3,4 million, as the post's "с двух
    # миллионов ста тысяч до трёх миллионов четырёхсот тысяч тонн" says; a figure far
    # smaller than the scaled end keeps its own ("с 800 до 1,2 млн тенге").
    assert [str(q) for q in quantities("выросли с 2,1 до 3,4 млн тонн")] == [
        "2100000 тон",
        "3400000 тон",
    ]
    assert [str(q) for q in quantities("с 800 до 1,2 млн тенге")] == ["800 тенг", "1200000 тенг"]
    seeds = (
        "Правительство продлило экспортную пошлину на семена подсолнечника в размере 20% до "
        "конца 2026 года. По данным Минсельхоза, с тех пор мощности переработки выросли с 2,1 "
        "до 3,4 млн тонн семян в год. Фермеры Восточно-Казахстанской области просили "
        "отменить пошлину."
    )
    index = MatchIndex.build([*filler(), stored("seeds", "zakon", "Пошлину сохранят", seeds)])
    told = (
        "Кабмин продлил пошлину на вывоз семян подсолнечника, и цель, если верить "
        "Минсельхозу, достигнута: переработка выросла с двух миллионов ста тысяч до трёх "
        "миллионов четырёхсот тысяч тонн в год. Фермеры востока недовольны."
    )
    found = match(index, commentary(text=told, title="Семечка остаётся дома"))
    assert found.keys == ("seeds",) and found.confident
    assert not any(line.startswith("against:") for line in found.evidence)


def test_a_figure_given_as_almost_or_over_stands_for_one_on_that_side_of_it():
    # "почти полтора миллиарда" is the item's 1,4 млрд (within the span of an approximate
    # figure, below it as "почти" says); 1,6 млрд is more than "almost" 1,5 and is told
    # otherwise.
    def pipeline(amount: str) -> str:
        return (
            f"Из резерва Улытауской области выделено {amount} млрд тенге на строительство "
            "нового водовода для поселка Жайрем. Трубу заменят на всем протяжении, 32 км, "
            "сообщил заместитель акима области Ержан Абильдаев."
        )

    told = (
        "Жайрем получит новую трубу, все тридцать два километра: область достала из резерва "
        "почти полтора миллиарда тенге, пообещал замакима Ержан Абильдаев."
    )
    for amount, against in (("1,4", False), ("1,6", True)):
        items = [*filler(), stored("pipe", "kazinform", "Водовод для Жайрема", pipeline(amount))]
        found = match(MatchIndex.build(items), commentary(text=told, title="Труба для Жайрема"))
        assert found.keys == ("pipe",)
        assert any(line.startswith("against:") for line in found.evidence) is against, amount
        assert found.confident is not against
    # The item's 560 гектаров are "более 500", not "почти 500".
    fire = (
        "Пожар в Баянаульском нацпарке охватил 560 гектаров, сообщили в ДЧС Павлодарской "
        "области. Огонь тушат 300 человек и 12 единиц техники."
    )
    index = MatchIndex.build([*filler(), stored("fire", "tengri", "Пожар в Баянауле", fire)])
    for word, against in (("более", False), ("почти", True)):
        told = f"В Баянаульском нацпарке огонь прошёл {word} 500 гектаров, тушат 300 человек."
        found = match(index, commentary(text=told, title="Баянаул горит"))
        assert found.keys == ("fire",)
        assert any(line.startswith("against:") for line in found.evidence) is against, word


def test_a_compound_number_ending_in_one_is_read_whole():
    # "тридцати одном маршруте" is 31 routes, "двадцать одну тысячу" 21 000.
    assert [str(q) for q in quantities("на тридцати одном маршруте")] == ["31 маршрут"]
    assert [str(q) for q in quantities("двадцать одну тысячу тенге")] == ["21000 тенг"]


def test_a_rival_as_similar_with_none_of_the_posts_facts_leaves_the_score_to_decide():
    # A same-day item on the topic is as similar in words, but has none of the post's
    # names and figures, while the best has three of them: the rival is no other telling
    # of the event.  One fact in the rival, or one alone in the best, and it is.
    evidence = {
        "share": 0.93, "runner": 0.0, "distinct": 3.0, "against": 0.0, "old": 0.0,
        "figures_missing": 0.0, "same": 1.0, "told_otherwise": 0.0, "shared_figures": 1.0,
        "shared": 3.0, "days": 0.2, "unexplained": 0.0,
    }  # fmt: skip
    assert not score_vetoed(evidence)
    assert score_vetoed({**evidence, "runner": 1.0, "distinct": 2.0})
    assert score_vetoed({**evidence, "distinct": 1.0})
    assert score_vetoed({**evidence, "share": 0.5, "old": 1.0})


def test_each_region_of_a_list_is_a_place_the_item_reports():
    # "в Восточно-Казахстанской, Павлодарской и Карагандинской областях": three regions,
    # so a post on the East Kazakhstan police's find is not told "otherwise" by its item.
    earlier = filler()
    drugs = (
        "Полицейские ликвидировали нарколабораторию в пригороде Усть-Каменогорска, изъято "
        "42,6 кг мефедрона. Наркотики распространялись через закладки в "
        "Восточно-Казахстанской, Павлодарской и Карагандинской областях."
    )
    items = [*earlier, stored("drugs", "kazinform", "В ВКО изъяли 40 кг наркотиков", drugs)]
    told = (
        "Полиция Восточно-Казахстанской области накрыла нарколабораторию под "
        "Усть-Каменогорском: почти сорок три килограмма мефедрона раскладывали закладками."
    )
    found = match(MatchIndex.build(items), commentary(text=told, title="Лаборатория"))
    assert found.keys == ("drugs",) and found.confident
    assert not any(line.startswith("against:") for line in found.evidence)


RETURN_HOME = (
    "Вода в реке Илек у села Хлебодаровка опустилась ниже критической отметки, и "
    "эвакуированные жители начали возвращаться домой, сообщили в ДЧС Актюбинской области. "
    "Комиссия обследовала 19 подтопленных домов, пять из них признаны непригодными для "
    "жилья. Семьи, чьи дома пострадали, уже получили единовременную выплату в 50 МРП."
)


@pytest.fixture(scope="module")
def return_home() -> MatchIndex:
    earlier = filler()
    items = [
        *earlier,
        stored("return", "zakon", "Жители Хлебодаровки возвращаются домой", RETURN_HOME),
    ]
    return MatchIndex.build(items)


def test_a_post_whose_background_is_the_stored_item_and_whose_news_is_not_is_not_confident(
    return_home,
):
    # The day after: the villagers find 50 MRP too little.  The post says the 50 MRP were
    # reported before; the stored item is that report, and lacks the post's new figure.
    later = (
        "Жители Хлебодаровки, чьи дома залил Илек, недовольны: пятьдесят МРП, около ста "
        "девяноста шести тысяч тенге на семью, не покроют ремонта подтопленных домов, и они "
        "требуют возместить ущерб полностью. Мы писали о пятидесяти МРП еще вчера."
    )
    c = commentary(text=later, title="Пятьдесят МРП на стену", published=DAY + timedelta(days=1))
    found = match(return_home, c)
    assert not found.confident and first_ranked(found) == "return"
    assert found.evidence[-1] == (
        "against: it has what the post says was reported before (50), not the post's 196000"
    )


def test_a_retelling_that_recalls_a_figure_of_its_own_item_stays_confident(return_home):
    # The same words about an earlier report, but the post's news is in the item too.
    retold = (
        "Вода в Илеке у Хлебодаровки спала, жители возвращаются домой; из девятнадцати "
        "обследованных домов пять жить нельзя. Как сообщалось, семьям выплатили по "
        "пятьдесят МРП."
    )
    c = commentary(text=retold, title="Домой", published=DAY + timedelta(days=1))
    found = match(return_home, c)
    assert found.keys == ("return",) and found.confident


def test_a_rival_the_post_reports_otherwise_is_another_event_not_a_competitor():
    # The post retells the Burabay fire, told in English only; the Russian item of the day
    # before is another fire (other hectares, other crews): it does not stand in the way.
    # (The post's 45 vehicles are not the English item's 48: no rule is sure of it by every
    # figure of its news, round 16; what decides is the rival set aside.)
    earlier = filler()
    burabay = (
        "Firefighters have contained a forest fire that burned 42 hectares of pine forest in "
        "the Burabay national park. More than 300 people, 48 vehicles and a Be-200 "
        "amphibious aircraft were involved. The fire started from an unattended campfire "
        "near Lake Bolshoye Chebachye."
    )
    items = [
        *earlier,
        stored("kostanay", "24kz", "В Костанайской области горело 1 200 гектаров степи", FIRE),
        stored("burabay", "astanatimes", "Forest fire in Burabay contained", burabay, hours=20),
    ]
    retold = (
        "Пожар в Бурабае потушен на площади сорок два гектара, огонь не подошел к поселкам, "
        "жилые дома не пострадали, сообщили в ДЧС. С пожаром боролись больше трехсот "
        "человек, 45 машин и самолет Бе-200, причиной стал костер у Большого Чебачьего."
    )
    c = commentary(text=retold, title="Бурабай", published=DAY + timedelta(hours=26))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("burabay",) and found.confident
    assert "the post tells kostanay otherwise: another event" in found.evidence


def test_rivals_told_otherwise_leave_no_best_sure_without_a_figure_of_the_post():
    # The post reports hail damage in Zhambyl region; the store holds the weather service's
    # warning of the day before (the region, the hail, no figure of the damage) and the
    # damage in Sayram district (its hectares and greenhouses, not the post's).  That the
    # post tells Sayram otherwise does not make the warning its source: a third telling of
    # the topic, the post's own report never stored.
    warning = (
        "Казгидромет предупредил: в субботу вечером в Жамбылской области ожидаются град и "
        "шквалистый ветер. Возможны повреждения теплиц, посевов сахарной свёклы и овощей, "
        "ветер может повалить деревья, синоптики просят не оставлять машины под деревьями."
    )
    sayram = (
        "В Сайрамском районе Туркестанской области в субботу вечером градом побило 640 "
        "гектаров садов, у 52 теплиц разбиты крыши, сообщили в акимате района. Ущерб "
        "понесли фермерские хозяйства."
    )
    items = [
        *filler(),
        stored("warning", "kazinform", "Казгидромет предупредил о граде в Жамбылской области",
               warning),
        stored("sayram", "24kz", "Град повредил сады и теплицы в Сайрамском районе", sayram,
               hours=45),
    ]  # fmt: skip
    damage = (
        "Непогода не обошла и Жамбылскую область. В Байзакском районе в субботу вечером "
        "градом побило около 120 гектаров сахарной свёклы и овощей, у 14 теплиц разбиты "
        "крыши, сообщили в акимате района. В Таразе ветер повалил 30 деревьев, два из них "
        "упали на машины."
    )
    c = commentary(text=damage, title="Град и в Жамбылской", published=DAY + timedelta(hours=51))
    found = match(MatchIndex.build(items), c)
    assert not found.confident
    # Nor does the calibrated score: with close rivals told otherwise set aside, an item
    # with none of the post's figures is no clear best; with one of them it may be.
    evidence = {
        "share": 0.2, "runner": 0.0, "distinct": 1.0, "against": 0.0, "old": 0.0,
        "figures_missing": 0.0, "same": 1.0, "told_otherwise": 1.0, "shared_figures": 1.0,
        "shared": 2.0, "days": 0.2, "unexplained": 0.0,
    }  # fmt: skip
    assert not score_vetoed(evidence)
    assert score_vetoed({**evidence, "shared_figures": 0.0})


ZHAIREM_OUTAGE = (
    "В поселке Жайрем Улытауской области третью неделю нет водоснабжения: на старом "
    "водоводе длиной 47,5 километра произошло несколько порывов подряд. Воду жителям "
    "привозят в цистернах раз в два дня, в акимате обещают восстановить подачу воды до "
    "конца апреля."
)


def zhairem_outage_store(outage: str) -> list:
    """A village's water outage (``outage``, Azattyq) beside another town's pipe repair
    of the same region: the store the Zhairem cases below build on."""
    return [
        *filler(),
        stored("satpayev", "kazinform", "Сатпаев: ремонт водовода",
               "В Сатпаеве заменят участки водовода.", hours=10),
        stored("outage", "azattyq", "Жители поселка Жайрем третью неделю живут без воды", outage),
    ]  # fmt: skip


def test_an_earlier_stage_of_the_story_with_few_of_the_posts_figures_is_not_its_source():
    # The post reports the new pipeline for Zhairem (its length, its cost, the flats it will
    # serve); the store holds the outage report of days before, which has the village and
    # the old pipe's length, not the cost or the flats.  Two facts only it has, but more
    # of the news's figures missing from it than in it: the story's earlier stage, the
    # post's own report never stored.  Once stored, that report is confidently the source.
    pipeline = (
        "На строительство нового водовода в поселок Жайрем длиной 47,5 километра из резерва "
        "области выделено 1,5 млрд тенге. Работы начнутся в мае, вода придет в 2 300 квартир."
    )
    items = zhairem_outage_store(ZHAIREM_OUTAGE)
    news = (
        "Жайрем получит новый водовод — целиком, все 47,5 километра. Область выделила из "
        "резерва 1,5 млрд тенге, стройка начнётся в мае, вода придёт в 2 300 квартир. Пока "
        "старую линию подлатают: 4 километра самых гнилых участков заменят, цистерны будут "
        "приезжать каждый день."
    )
    c = commentary(text=news, title="Новая труба для Жайрема", published=DAY + timedelta(hours=60))
    assert not match(MatchIndex.build(items), c).confident
    reported = stored("pipeline", "kazinform", "Жайрему построят новый водовод", pipeline,
                      hours=56)  # fmt: skip
    found = match(MatchIndex.build([*items, reported]), c)
    assert found.keys == ("pipeline",) and found.confident


def test_a_rival_that_is_the_earlier_report_the_post_recalls_does_not_compete():
    # The news is told in Kazakh only; the Russian item of the day before is the report
    # the post says it wrote about yesterday.
    earlier = filler()
    compensation = (
        "Ақтөбе облысы Хлебодаровка ауылында су басқан үйлердің иелері әкімдік берген 50 АЕК "
        "көмек тым аз екенін айтып, шығынды толық өтеуді талап етіп отыр. «Үйдің қабырғасы "
        "жарылды, пеш құлады. 196 мың теңгеге оны қалай жөндейміз?» – дейді ауыл тұрғыны."
    )
    items = [
        *earlier,
        stored("return", "zakon", "Жители Хлебодаровки возвращаются домой", RETURN_HOME),
        stored("compensation", "kazakh", "Хлебодаровка тұрғындары өтемақы талап етуде",
               compensation, hours=25),
    ]  # fmt: skip
    later = (
        "Жители Хлебодаровки, чьи подтопленные дома залил Илек, недовольны: единовременная "
        "выплата в пятьдесят МРП, около ста девяноста шести тысяч тенге на семью, не покроет "
        "ремонта. Комиссия обследовала дома, в ДЧС разводят руками. Мы писали о "
        "пятидесяти МРП еще вчера."
    )
    c = commentary(text=later, title="Пятьдесят МРП на стену", published=DAY + timedelta(hours=29))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("compensation",) and found.confident
    assert "the post tells return otherwise: another event" in found.evidence


def test_a_retelling_whose_common_figures_are_all_in_its_item_together_is_confident():
    # "12 тысяч", "18" and "25" are each in many items of the store: none tells items
    # apart alone.  All three in one item, and in no rival, are the post's event.
    earlier = [
        stored(f"report-{n}", "zakon", f"Сводка {n}",
               f"Обзор {n}: {(12, 18, 25)[n % 3]} событий недели, выпуск {n}."
               if n % 4 == 0 else f"Обзор {n}: {n + 100} событий недели.", hours=-240 - n)
        for n in range(1000)
    ]  # fmt: skip
    items = [
        *earlier,
        stored("droppers", "kapital", "С начала года выявлено 12 тысяч дропперов",
               "Банки с начала года выявили около 12 тысяч дропперов, передавших свои "
               "банковские карты мошенникам, сообщил финансовый регулятор. Большинство из них "
               "студенты и безработные в возрасте от 18 до 25 лет.",
               "Регулятор напоминает, что закон об уголовной ответственности одобрен "
               "парламентом и подписан главой государства. Банки обязаны блокировать "
               "подозрительные переводы, а клиенты могут установить лимиты на операции.",
               "Агентство также ведет реестр номеров телефонов, с которых звонят мошенники, и "
               "делится им с операторами связи, а полиция раскрыла сотни схем."),
        stored("arrests", "zakon", "В Караганде задержали дропперов",
               "Полицейские Карагандинской области задержали дропперов, которые передавали "
               "карты мошенникам за вознаграждение; среди них студенты.", hours=2),
    ]  # fmt: skip
    retold = (
        "Двенадцать тысяч человек с начала года отдали карточку аферистам. В основном это "
        "молодежь от восемнадцати до двадцати пяти, студенты и безработные."
    )
    found = match(MatchIndex.build(items), commentary(text=retold, title="Карта в чужих руках"))
    assert found.keys == ("droppers",) and found.confident
    assert found.evidence[-1] == "sure: the figures of its news together in it alone"


BREAD = (
    "С 17 марта цена социального хлеба в Костанайской области выросла со 150 до 170 тенге за "
    "буханку, сообщили в управлении предпринимательства. Повышение объясняют подорожанием "
    "муки первого сорта: за зиму она выросла в цене с 205 до 240 тенге за килограмм. Чтобы "
    "сдержать цены, акимат направит в стабилизационный фонд 500 млн тенге на закуп муки."
)


def test_a_post_on_the_next_regions_price_rise_is_not_confident_though_some_figures_agree():
    # The same old price and the same flour price, but another date, another new price
    # and another sum: more of the post's figures are otherwise than alike.
    index = MatchIndex.build([*filler(), stored("bread", "kapital", "Хлеб подорожал", BREAD)])
    told = (
        "С 17 марта социальный хлеб в Костанайской области стоит 170 тенге вместо 150: мука "
        "первого сорта за зиму подорожала до 240 тенге за килограмм, объясняют в управлении "
        "предпринимательства. Акимат добавит в стабилизационный фонд 500 млн тенге."
    )
    found = match(index, commentary(text=told, title="Хлеб дорожает"))
    assert found.keys == ("bread",) and found.confident
    other = (
        "Вслед за Костанайской областью дорожает хлеб в СКО: с 20 марта буханка стоит 165 "
        "тенге вместо 150, мука первого сорта за зиму подорожала до 240 тенге за килограмм, "
        "объясняют в управлении предпринимательства. Акимат добавит в стабилизационный фонд "
        "300 млн тенге."
    )
    found = match(
        index, commentary(text=other, title="Хлеб дорожает", published=DAY + timedelta(days=3))
    )
    assert not found.confident
    assert "the post's 20 март, the item's 17 март" in found.evidence[-1]


def test_a_name_the_post_sets_beside_its_news_is_no_evidence_for_that_items_event():
    # "Кроме Мюнхена, …": the post names the stored route only to set its own beside it.
    munich = (
        "Авиакомпания Air Astana со 2 июня запустит прямые рейсы по маршруту Алматы – Мюнхен. "
        "Полеты будут выполняться два раза в неделю, по понедельникам и пятницам, на "
        "самолетах Airbus A321LR. Стоимость билетов начинается от 189 тысяч тенге."
    )
    index = MatchIndex.build(
        [
            *filler(),
            stored("munich", "kursiv", "Air Astana полетит в Мюнхен", munich),
            stored(
                "istanbul",
                "zakon",
                "SCAT полетит в Стамбул",
                "Из Шымкента в Стамбул откроют рейсы.",
            ),
        ]
    )
    seoul = (
        "У Air Astana сегодня второй анонс за день. Кроме Мюнхена, авиакомпания собралась в "
        "Сеул: первый рейс двадцатого мая, летать будут по вторникам и субботам на тех же "
        "A321LR, в пути около шести с половиной часов. Корейских фирм в Казахстане больше семисот."
    )
    found = match(index, commentary(text=seoul, title="В Сеул без пересадки"))
    assert found.evidence[0] == "shares astana, a321lr with munich"
    assert not found.confident
    assert found.evidence[-1] == "against: the post sets мюнхена beside its news"


def test_a_retellings_two_figures_in_its_item_and_in_no_close_rival_make_it_sure():
    # "14" and "60" are each in many items; both in the Karaganda arrests, neither in the
    # national count of the same day, which is close in words: the arrests are the event.
    earlier = [
        stored(f"report-{n}", "zakon", f"Сводка {n}",
               f"Обзор {n}: {(14, 60)[n % 2]} событий недели, выпуск {n}."
               if n % 4 == 0 else f"Обзор {n}: {n + 100} событий недели.", hours=-240 - n)
        for n in range(1000)
    ]  # fmt: skip
    items = [
        *earlier,
        stored("national", "kapital", "С начала года выявлено 12 тысяч дропперов",
               "Банки с начала года выявили около 12 тысяч дропперов, передавших свои "
               "банковские карты мошенникам, сообщил финансовый регулятор. Большинство из них "
               "студенты и безработные в возрасте от 18 до 25 лет."),
        stored("arrests", "zakon", "В Караганде задержали 14 дропперов",
               "Полицейские Карагандинской области задержали 14 человек, которые за "
               "вознаграждение передавали свои банковские карты интернет-мошенникам. Через их "
               "счета прошло более 60 млн тенге, похищенных у жителей разных регионов.",
               hours=2),
    ]  # fmt: skip
    retold = (
        "Полиция отчиталась о четырнадцати задержанных, которые сдавали свои банковские карты "
        "мошенникам. Через их счета прошли больше шестидесяти миллионов тенге. Среди "
        "дропперов с начала года много студентов."
    )
    c = commentary(text=retold, title="Карточка внаём", published=DAY + timedelta(hours=8))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("arrests",) and found.confident
    assert found.evidence[-1] == "sure: the figures of its news together in it alone"


def test_an_item_in_another_language_with_the_posts_facts_keeps_an_own_language_best_unsure():
    # The post is worded like the Russian outage report, but its names and figures (14
    # substations by 2026, Кайтпас, Нурсат) are the Kazakh item's: that is what it retells.
    items = [
        *filler(),
        stored("outage", "kazinform", "В Шымкенте обесточены три микрорайона",
               "В Шымкенте после аварии на подстанции «Южная» без электричества остались жители "
               "трех микрорайонов, сообщили в энергокомпании города. Аварийные бригады "
               "восстановили подачу электроэнергии к вечеру, причины аварии выясняют."),
        stored("substations", "kazinform", "Шымкентте 14 жаңа қосалқы станция салынады",
               "Шымкентте 2026 жылға дейін 14 жаңа қосалқы станция салынады, оған 32 млрд теңге "
               "бөлінді, деп хабарлады «Оңтүстік Жарық Транзит» компаниясы. Алғашқы төрт станция "
               "Қайтпас және Нұрсат шағын аудандарында биыл іске қосылады.", hours=2),
    ]  # fmt: skip
    index = MatchIndex.build(items)
    when = DAY + timedelta(hours=6)
    told = (
        "В Шымкенте энергокомпания города после аварии на подстанции, когда без электричества "
        "остались жители трех микрорайонов, обещает: аварийные бригады больше не понадобятся, "
        "построят четырнадцать подстанций к 2026 году, первые в Кайтпасе и Нурсате."
    )
    found = match(index, commentary(text=told, title="Свет в Шымкенте", published=when))
    assert found.keys == ("outage",) and not found.confident
    assert found.evidence[-1] == "against: substations has more of its names and figures"
    # The same words without the Kazakh item's facts: the outage is what it retells.
    outage = (
        "В Шымкенте энергокомпания города после аварии на подстанции «Южная», когда без "
        "электричества остались жители трех микрорайонов, обещает: аварийные бригады "
        "разберутся, причины выясняют."
    )
    found = match(index, commentary(text=outage, title="Свет в Шымкенте", published=when))
    assert found.keys == ("outage",) and found.confident


def test_a_figure_is_one_fact_however_the_post_and_the_item_write_it():
    # "два миллиона сто тысяч" is the item's "2,1 млн", "шестидесяти" its "60": figures are
    # compared by value, in any of the forms an item writes them.
    books = (
        "К новому учебному году для учеников 5-х классов будут изданы обновленные учебники по 9 "
        "предметам общим тиражом 2,1 млн экземпляров, сообщили в Министерстве просвещения. "
        "Учебники прошли апробацию в 60 школах, основная часть тиража будет напечатана в "
        "издательствах «Атамұра» и «Мектеп»."
    )
    index = MatchIndex.build(
        [*filler(), stored("books", "kazinform", "Пятиклассники получат новые учебники", books)]
    )
    told = (
        "Пятиклашки в сентябре откроют новые книги: Минпросвещения переиздаёт учебники по "
        "девяти дисциплинам, тираж — два миллиона сто тысяч. Их уже опробовали в шестидесяти "
        "школах, печатать будут в основном Атамұра и Мектеп."
    )
    c = commentary(text=told, title="Меньше зубрить", published=DAY + timedelta(hours=6))
    found = match(index, c)
    assert found.keys == ("books",) and found.confident
    assert found.evidence[0] == "shares атамұра, мектеп, 60, 2d1 with books"


def test_across_languages_an_item_with_none_of_the_posts_figures_is_not_its_source():
    # The English report names the same rivers, regions and reservoir, but not the post's
    # 12 cm and 90 cubic metres: names meet whatever the event, figures tell which one.
    evacuated = (
        "ASTANA – A total of 1,538 people, including 612 children, have been evacuated since "
        "the start of the spring flood season in the Akmola, Kostanay and North Kazakhstan "
        "regions, the Ministry of Emergency Situations said. Water levels in the Yesil and "
        "Tobol rivers have started to fall near Kostanay, and the Karatomar reservoir "
        "discharge was cut."
    )
    title = "Over 1,500 people evacuated as floods hit Kostanay and Akmola"
    index = MatchIndex.build([*filler(), stored("evacuated", "kazinform", title, evacuated)])
    when = DAY + timedelta(hours=6)
    tobol = (
        "У Костаная вода в Тоболе пошла вниз: за сутки на двенадцать сантиметров, а с "
        "Каратомарского водохранилища сбрасывают девяносто кубов в секунду. Акмолинской "
        "области повезло меньше."
    )
    found = match(index, commentary(text=tobol, title="Тобол отступает", published=when))
    assert found.keys == ("evacuated",) and not found.confident
    assert found.evidence[-1] == "against: none of its figures (12, 90) is in it"
    told = (
        "Из подтопленных сёл Акмолинской, Костанайской и Северо-Казахстанской областей вывезли "
        "полторы тысячи человек, среди них шестьсот двенадцать детей. Вода в Тоболе и Есиле "
        "пошла вниз."
    )
    found = match(index, commentary(text=told, title="Тобол отступает", published=when))
    assert found.keys == ("evacuated",) and found.confident


def test_a_translation_with_none_of_the_posts_figures_does_not_outrank_its_own_language_telling():
    # An English round-up of the floods shares more of the post's names than the Russian
    # item on the Tobol, but none of its figures: it tells another event (the season's
    # evacuations), and the Russian item, with the post's 12 cm and 90 m³/s, is its source.
    earlier = filler()
    tobol = (
        "Уровень воды в реке Тобол у города Костанай за сутки снизился на 12 см, сообщили в "
        "ДЧС области. Подтопленных жилых домов в регионе нет. Сброс воды с Каратомарского "
        "водохранилища сокращен до 90 кубометров в секунду."
    )
    floods = (
        "A total of 1,538 people have been evacuated since the start of the spring flood "
        "season in Akmola, Kostanay and North Kazakhstan regions, the Ministry of Emergency "
        "Situations said. Water levels in the Tobol river near Kostanay have started to fall, "
        "no residential houses remain flooded, rescuers and equipment remain deployed."
    )
    items = [
        *earlier,
        stored("tobol", "kazinform", "Уровень воды в Тоболе начал снижаться у Костаная", tobol),
        stored("floods", "en", "Over 1,500 people evacuated as floods hit regions", floods),
    ]
    told = (
        "У Костаная вода в Тоболе наконец пошла вниз — за сутки на двенадцать сантиметров, "
        "а сбрасывают девяносто кубов в секунду. Костанаю повезло больше, чем Акмолинской и "
        "Северо-Казахстанской областям, где из подтопленных сёл в паводок эвакуировали сотни "
        "людей, а спасатели МЧС и техника дежурят до сих пор."
    )
    found = match(MatchIndex.build(items), commentary(text=told, title="Тобол отступает"))
    assert found.keys == ("tobol",) and found.confident


def test_the_calibrated_score_in_the_code_is_the_model_fit_py_froze():
    """match.SCORE / SCORE_INTERCEPT / SCORE_SURE are copied by hand from
    `benchmarks/matching/fit.py --freeze`'s calibrated_model.json (the record of what was
    fitted on which posts): a refit that is not copied, or a copy that is not refitted,
    would publish a decision nobody measured."""
    import json
    from pathlib import Path

    from aggregator.house import match

    frozen = Path(__file__).resolve().parents[2] / "benchmarks/matching/calibrated_model.json"
    model = json.loads(frozen.read_text(encoding="utf-8"))
    in_code = [name for name, *_ in match.SCORE]
    assert in_code == model["features"]
    for (name, mean, scale, weight), *fitted in zip(
        match.SCORE, model["mean"], model["scale"], model["weights"], strict=True
    ):
        assert (mean, scale, weight) == pytest.approx(fitted, rel=1e-5, abs=1e-6), name
    assert abs(match.SCORE_INTERCEPT - model["intercept"]) < 1e-4
    assert abs(match.SCORE_SURE - model["threshold"]) < 5e-4


def test_an_item_sharing_only_the_posts_place_and_none_of_its_figures_is_not_its_source():
    # Fresh rounds made posts confident on another item of the topic: the store holds the
    # village's water outage; the posts report other events there (a new boiler house, a
    # repair), sharing the village and the topic's words but none of their news's
    # figures.  One fact only the item has is the place, which another event there shares
    # too: neither a rule ("far more similar than any other item") nor the score is sure.
    # Once the post's own report is stored, it is confidently the source.
    items = zhairem_outage_store(ZHAIREM_OUTAGE)
    posts = {
        "boiler": (
            "Котельная для Жайрема",
            "В поселке Жайрем к зиме построят новую котельную: жители третью неделю ждут "
            "решения акимата, проект стоит 350 млн тенге.",
            "В поселке Жайрем построят котельную за 350 млн тенге. Проект одобрили в акимате, "
            "жители ждали решения третью неделю.",
        ),
        "repair": (
            "Жайрем снова с водой",
            "В Жайреме заменили участок водовода: подача воды восстановлена, цистерны больше "
            "не нужны. Ремонт обошелся в 86 млн тенге, работы вела подрядная организация из "
            "Караганды.",
            "В поселке Жайрем восстановили подачу воды: участок водовода заменили за 86 млн "
            "тенге, работы провела подрядная организация из Караганды.",
        ),
    }
    index = MatchIndex.build(items)
    for name, (title, news, report) in posts.items():
        c = commentary(text=news, title=title, published=DAY + timedelta(hours=60))
        assert not match(index, c).confident, name
        own = stored(name, "kazinform", title, report, hours=56)
        found = match(MatchIndex.build([*items, own]), c)
        assert found.keys == (name,) and found.confident, name


def test_across_languages_an_item_lacking_most_of_the_news_figures_is_not_its_source():
    # The Berlin item shares the post's names (Berlin, Tokayev) and one of its figures
    # (twelve agreements, a common one), but the post's news has two more (300
    # participants, 90 million euros) the item lacks: names and loanwords meet whatever
    # the event, and the news's own figures are not in it.  The rules are not sure (the
    # observer is told so), nor is the score: across languages, with no distinctive
    # figure of the post in it, it is no evidence of the event.
    items = [
        stored("berlin", "astanatimes", "Kazakhstan and Germany sign business agreements", BERLIN),
        stored("paris", "astanatimes", "Kazakhstan and France sign investment deals", PARIS,
               hours=1),
        *filler(),
    ]  # fmt: skip
    news = (
        "В Берлине Токаев открыл казахстанский павильон на выставке: двенадцать соглашений с "
        "немецкими компаниями, триста участников и контракты на девяносто миллионов евро в "
        "химии и логистике."
    )
    seen = []
    found = match_commentary(
        commentary(text=news, title="Берлинские сделки"),
        MatchIndex.build(items),
        source_names=NAMES,
        observe=lambda key, features: seen.append((key, features)),
    )
    key, features = seen[-1]
    assert key == "berlin" and features["rules"] == 0 and features["elsewhere"] == 1
    assert any("90000000 not in it" in e for e in found.evidence)
    assert not found.confident and first_ranked(found) == "berlin"


def test_a_retelling_whose_only_figure_is_a_time_of_day_told_otherwise_stays_confident():
    # "до 10 вечера" is the item's "до 22:00": a time of day (like a span of time) is told
    # from any figure, so its absence from the item says nothing against it.
    outage = (
        "В поселке Жайрем Улытауской области третью неделю нет водоснабжения: на старом "
        "водоводе произошло несколько порывов подряд. Воду жителям привозят в цистернах "
        "каждый день до 22:00, в акимате обещают восстановить подачу воды до конца апреля."
    )
    items = zhairem_outage_store(outage)
    news = (
        "Жайрем третью неделю живёт без воды: старый водовод рвётся раз за разом, воду возят "
        "цистернами до 10 вечера, а акимат обещает починить всё до конца апреля."
    )
    c = commentary(text=news, title="Поселок без воды", published=DAY + timedelta(hours=30))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("outage",) and found.confident


HOUSES = (
    "В Темиртау межведомственная комиссия признала аварийными 47 жилых домов в старой части "
    "города. Жильцов расселят в маневренный фонд, снос начнется после обследования "
    "фундаментов, сообщили в акимате Карагандинской области."
)


def test_a_figure_only_the_comment_recalls_is_no_evidence_the_item_is_the_posts_news():
    # The post's news (before its heading) is Karaganda's own unsafe houses; its comment
    # recalls the stored Temirtau item's 47 houses as background.  The figure is the
    # item's, but not the news's: no rule is sure of the item.  Told as the news, the
    # same figure makes it confidently the source.
    items = [
        *filler(),
        stored("temirtau", "kazinform", "В Темиртау 47 домов признали аварийными", HOUSES),
        stored("shakhtinsk", "zakon", "В Шахтинске снесут аварийные бараки",
               "В Шахтинске комиссия обследовала 12 бараков, жильцов расселят в новые дома.",
               hours=3),
    ]  # fmt: skip
    index = MatchIndex.build(items)
    news = (
        "Вслед за соседями аварийные дома нашли и в Караганде: межведомственная комиссия "
        "обследовала бараки на Юго-Востоке, жильцов обещают расселить до зимы."
    )
    comment = "Евразия24 напоминает: на прошлой неделе 47 домов признали аварийными в Темиртау."
    c = commentary(text=comment, title="Аварийные дома", intro_html=f"<p>{news}</p>",
                   published=DAY + timedelta(hours=30))  # fmt: skip
    found = match(index, c)
    assert not found.confident and first_ranked(found) == "temirtau"
    retold = commentary(
        text="Будем следить за расселением.",
        title="Аварийные дома",
        intro_html="<p>В Темиртау межведомственная комиссия признала аварийными 47 жилых "
        "домов, жильцов расселят в маневренный фонд.</p>",
        published=DAY + timedelta(hours=30),
    )
    assert match(index, retold).keys == ("temirtau",) and match(index, retold).confident


def test_a_ratio_of_the_news_missing_from_the_item_is_a_figure_it_lacks():
    # "превышение в 3,1 раза" is a figure of the post's news (no span of time): the
    # stored item, the neighbouring city's dust storm the post names, lacks it, and no
    # rule is sure of it.  The city's own report, once stored, ranks first, nothing
    # against it.
    dust = (
        "В Экибастузе ветер поднял золу с золоотвала ГРЭС, Казгидромет зафиксировал "
        "превышение предельно допустимой концентрации взвешенных частиц в 7,3 раза. Жителей "
        "попросили не открывать окна, экологи начали внеплановую проверку станции."
    )
    items = [
        *filler(),
        stored("ekibastuz", "zakon", "Пыльная буря в Экибастузе: ПДК превышена в 7,3 раза", dust),
        stored("shymkent", "kazinform", "В Шымкенте проверят выбросы заводов",
               "Экологи Шымкента проверят выбросы 14 предприятий.", hours=2),
    ]  # fmt: skip
    news = (
        "Пока обсуждают пыльную бурю в Экибастузе, золу с отвала ТЭЦ подняло и в Павлодаре: "
        "Казгидромет зафиксировал превышение по взвешенным частицам в 3,1 раза."
    )
    c = commentary(text=news, title="Павлодар в пыли", published=DAY + timedelta(hours=30))
    found = match(MatchIndex.build(items), c)
    assert not found.confident and first_ranked(found) == "ekibastuz"
    assert any("3.1 not in it" in e for e in found.evidence)
    own = stored("pavlodar", "kazinform", "Павлодар: превышение в 3,1 раза",
                 "В Павлодаре ветер поднял золу с отвала ТЭЦ, Казгидромет зафиксировал "
                 "превышение по взвешенным частицам в 3,1 раза.", hours=26)  # fmt: skip
    found = match(MatchIndex.build([*items, own]), c)
    assert first_ranked(found) == "pavlodar"
    assert not any(e.startswith("against:") for e in found.evidence)


# --- every figure of the news in the item (round 16) -----------------------------------

SOCIAL_BREAD = (
    "В Костанае с 1 апреля подорожает социальный хлеб: буханка будет стоить 185 тенге, "
    "сообщили в управлении предпринимательства акимата области. Причина — рост цен на муку "
    "и электроэнергию, пекарни предупреждали об этом ещё в феврале."
)
DAIRY = (
    "В Костанае с 1 апреля подорожают молоко, кефир и хлеб в частных пекарнях: рост цен на "
    "муку, корма и электроэнергию производители перекладывают на покупателей, сообщили в "
    "управлении предпринимательства акимата области. В магазинах цены вырастут на 12 процентов."
)


def test_an_item_with_every_figure_of_the_news_is_its_source_whatever_the_margin():
    # A retelling in the house's words with a long comment: the bread item is first, but a
    # neighbour on the topic (the same city, the same day, flour and electricity) is close
    # behind, and no rule of similarity is sure.  The news's figures (1 апреля, 185 тенге)
    # are all in the bread item, with its city: it is the source.  Without it, the
    # neighbour, which lacks the 185, is no one's source.
    items = [
        *filler(),
        stored("bread", "kazinform", "Социальный хлеб в Костанае подорожает", SOCIAL_BREAD),
        stored("dairy", "zakon", "В Костанае подорожают продукты", DAIRY, hours=2),
    ]
    post = (
        "Теперь и хлеб: с 1 апреля буханка в Костанае будет стоить 185 тенге. Чиновники "
        "объясняют это дорогой мукой и электроэнергией. Мы считаем, что без субсидий "
        "стабилизационного фонда цены будут расти каждый квартал, а зарплаты за ними не "
        "успевают. Куда смотрят депутаты маслихата и почему об этом молчит антимонопольное "
        "ведомство?"
    )
    c = commentary(text=post, title="Хлеб дорожает", published=DAY + timedelta(hours=6))
    found = match(MatchIndex.build(items), c)
    assert found.confident and found.keys == ("bread",)
    assert "sure: every figure of its news in it" in found.evidence
    withheld = match(MatchIndex.build([i for i in items if i.key != "bread"]), c)
    assert not withheld.confident and first_ranked(withheld) == "dairy"


def test_an_item_days_before_the_post_with_every_figure_of_the_news_is_not_sure_by_them():
    # The bread retelling of the test above, posted two and a half days after the item:
    # the story's earlier report has the figures its next stage repeats (on the dev
    # rounds such items were 3.2 days old and more, the sources at most 0.9), so "every
    # figure of its news" no longer makes it sure; a day and a half after it, it still
    # does (an editor's comment the day after next).
    items = [
        *filler(),
        stored("bread", "kazinform", "Социальный хлеб в Костанае подорожает", SOCIAL_BREAD),
        stored("dairy", "zakon", "В Костанае подорожают продукты", DAIRY, hours=2),
    ]
    post = (
        "Теперь и хлеб: с 1 апреля буханка в Костанае будет стоить 185 тенге. Чиновники "
        "объясняют это дорогой мукой и электроэнергией. Мы считаем, что без субсидий "
        "стабилизационного фонда цены будут расти каждый квартал, а зарплаты за ними не "
        "успевают. Куда смотрят депутаты маслихата и почему об этом молчит антимонопольное "
        "ведомство?"
    )
    index = MatchIndex.build(items)
    late = match(
        index, commentary(text=post, title="Хлеб дорожает", published=DAY + timedelta(hours=60))
    )
    assert not late.confident and first_ranked(late) == "bread"
    soon = match(
        index, commentary(text=post, title="Хлеб дорожает", published=DAY + timedelta(hours=36))
    )
    assert soon.confident and soon.keys == ("bread",)
    assert "sure: every figure of its news in it" in soon.evidence


STRIKE = (
    "На медном руднике в Жезказгане 200 горняков объявили забастовку: они требуют повысить "
    "зарплату на 30 процентов и заменить изношенное оборудование, сообщили в профсоюзе. "
    "Руководство компании заявило, что готово к переговорам."
)


def test_a_follow_up_with_a_figure_of_its_own_is_not_told_by_the_earlier_item():
    # The strike's end, not stored: its news repeats the strike's 200 miners and 30 per
    # cent, and gives its own 50 000 tenge for the idle days.  The strike item has two of
    # the news's three figures (none told otherwise): not every one, so no rule is sure.
    items = [
        *filler(),
        stored("strike", "kazinform", "Горняки Жезказгана объявили забастовку", STRIKE),
        stored("satpayev", "zakon", "Горняки Сатпаева грозят забастовкой",
               "В Сатпаеве горняки обогатительной фабрики тоже грозят забастовкой: профсоюз "
               "требует повысить зарплату и заменить изношенное оборудование, руководство "
               "компании обещает переговоры.", hours=2),
    ]  # fmt: skip
    post = (
        "Забастовка в Жезказгане закончилась: 200 горняков вернулись в забой, зарплату им "
        "поднимут на 30 процентов, как они требовали, и выплатят по 50 тысяч тенге за "
        "простой. Мы считаем, что компромисс "
        "хрупкий, а вопросы безопасности в шахтах так и остались без ответа: профсоюзам стоит "
        "добиваться большего."
    )
    c = commentary(text=post, title="Горняки и деньги", published=DAY + timedelta(hours=30))
    found = match(MatchIndex.build(items), c)
    assert not found.confident and first_ranked(found) == "strike"
    # Nor is the calibrated score, high as it is (the miners, the city, 200 and 30 per
    # cent, the rival far behind): it is shown likely, and why it is not sure.
    assert found.status == "review"
    assert found.evidence[-1].startswith("likely: its evidence together (calibrated score")
    assert found.evidence[-1].endswith("but a figure of its news is not in it")


WHEAT = (
    "Kazakhstan exported 1.2 million tonnes of wheat to China through Khorgos and Altynkol "
    "in the first quarter, the Ministry of Agriculture said. Exporters expect shipments in "
    "containers to grow in spring."
)
BARLEY = (
    "Barley from northern farms now travels east in containers: shipments via Khorgos and "
    "Altynkol doubled in the first quarter, the Ministry of Agriculture of Kazakhstan said, "
    "and China buys most of it."
)


def test_across_languages_the_one_item_with_every_figure_of_the_news_is_its_source():
    # A Russian post on an English item, another English item on the topic close behind
    # (the same border crossings): the post's one figure is in the wheat item alone, with
    # names the rival shares too.  Sure; and not where the rival has the figure as well
    # (two items agree: no one of them is).
    items = [
        *filler(),
        stored("wheat", "kazinform", "Wheat exports to China reach 1.2 million tonnes", WHEAT),
        stored("barley", "kazinform", "Barley exports to China grow", BARLEY, hours=2),
    ]
    post = (
        "Казахстан за первый квартал продал Китаю 1,2 млн тонн пшеницы: зерно идёт через "
        "Хоргос и Алтынколь в контейнерах. Мы считаем, что зависимость от одного покупателя "
        "опасна: фермерам нужны новые рынки, а не только железная дорога на восток."
    )
    c = commentary(text=post, title="Зерно на восток", published=DAY + timedelta(hours=8))
    found = match(MatchIndex.build(items), c)
    assert found.confident and found.keys == ("wheat",)
    assert "sure: every figure of its news in it alone, across languages" in found.evidence
    twice = stored("barley", "kazinform", "Barley exports to China grow",
                   BARLEY.replace("doubled", "reached 1.2 million tonnes"), hours=2)  # fmt: skip
    found = match(MatchIndex.build([*items[:-1], twice]), c)
    assert not any(e.startswith("sure: every figure") for e in found.evidence)


def test_an_items_round_figure_is_no_telling_of_the_posts_exact_one():
    # The post's gas prices in Pavlodar (102 and 118 tenge; its comment: "дороже 120"),
    # not stored; an English item on Pavlodar's universities has "from 120 to about 100":
    # round figures near them, of something else.  The item's round figure may not stand
    # for the post's exact one: not every figure of the news is in it, and no rule is sure
    # (a Russian item on the topic, with no figure, keeps the other rules from it).
    merger = (
        "Toraighyrov University and the Margulan Pedagogical University in Pavlodar will "
        "merge from September 1, the Ministry of Science and Higher Education announced. The "
        "merger is part of a plan to reduce the number of universities from 120 to about 100."
    )
    kostanay = (
        "В Костанае подорожал бензин: владельцы станций ссылаются на недопоставки, "
        "антимонопольное ведомство начало проверку."
    )
    items = [
        *filler(),
        stored("merger", "kazinform", "Pavlodar universities to merge", merger),
        stored("kostanay", "zakon", "Бензин в Костанае", kostanay, hours=-30),
    ]
    post = (
        "В Павлодаре на городских АГЗС литр сжиженного газа за последние дни подорожал со "
        "102 до 118 тенге. Владельцы станций объясняют это недопоставками с Жанажольского "
        "ГПЗ, антимонопольщики запросили расчёты себестоимости. Если так пойдёт и дальше, к "
        "посевной газ в Павлодаре будет стоить дороже 120 тенге."
    )
    c = commentary(text=post, title="Газ дорожает", published=DAY + timedelta(hours=8))
    found = match(MatchIndex.build(items), c)
    assert first_ranked(found) == "merger" and not found.confident


def test_news_whose_only_figures_are_dates_is_not_told_by_an_item_on_those_dates():
    # The hot water is off in Almaty for the summer repairs from 16 to 30 June, not stored;
    # the stored festival in Almaty runs on the same dates.  A day of the month is shared
    # by every event around it: the festival has every figure of the news (its dates) and
    # the city, and it is no telling of it, neither beside the roads item (every figure
    # of the news in it) nor beside the summer item (the figures together in it alone).
    festival = stored("festival", "kazinform", "Летом в Алматы пройдёт фестиваль",
                      "Летний фестиваль уличных театров пройдёт в Алматы с 16 по 30 июня: "
                      "спектакли покажут во дворах домов левобережья и на площадях, вход "
                      "свободный, сообщили в акимате.", hours=2)  # fmt: skip
    roads = stored("roads", "zakon", "В Алматы отремонтируют дороги левобережья",
                   "В Алматы с 1 по 15 июля пройдёт летний ремонт дорог левобережья, "
                   "сообщили в акимате.", hours=3)  # fmt: skip
    summer = stored("summer", "zakon", "Алматы готовится к лету",
                    "В Алматы к лету отремонтируют площади и дворы домов левобережья, "
                    "сообщили в акимате.", hours=3)  # fmt: skip
    post = (
        "В Алматы с 16 по 30 июня отключат горячую воду: в домах левобережья начинается "
        "летний ремонт теплосетей, сообщили в акимате. Мы считаем, что две недели без горячей "
        "воды посреди лета стали традицией, которую давно пора отменить: ремонт можно вести "
        "по участкам, не оставляя без воды весь район."
    )
    c = commentary(text=post, title="Без горячей воды", published=DAY + timedelta(hours=6))
    for rival in (roads, summer):
        found = match(MatchIndex.build([*filler(), festival, rival]), c)
        assert first_ranked(found) == "festival"
        assert not found.confident, found.evidence


def test_a_shared_date_does_not_outweigh_a_figure_of_the_news_the_item_lacks():
    # Karaganda's closures for a holiday, not stored; Temirtau's on the same day are, told
    # in nearly the same words.  The news's figures are the day (12 October), which every
    # closure of the holiday shares, and its 15 bus routes, which the item lacks: the item
    # lacks every figure of the news that is a quantity, and it is not its source.
    temirtau = stored("temirtau", "kazinform", "В Темиртау перекроют центр",
                      "В Темиртау 12 октября перекроют центр: с утра до вечера по проспекту "
                      "Металлургов не проехать, маршруты 20 автобусов изменят, сообщили в "
                      "полиции области.", hours=2)  # fmt: skip
    post = (
        "В Караганде 12 октября перекроют центр: с утра до вечера по проспекту Бухар-Жырау "
        "не проехать, а 15 автобусных маршрутов изменят схему, сообщили в полиции области. "
        "Мы считаем, что город снова забыл предупредить жителей заранее: объявление за два "
        "дня до праздника никому не помогает спланировать свой день."
    )
    c = commentary(text=post, title="Центр перекроют", published=DAY + timedelta(hours=6))
    found = match(MatchIndex.build([*filler(), temirtau]), c)
    assert first_ranked(found) == "temirtau"
    assert not found.confident
    assert "its news's 15 not in it" in " ".join(found.evidence)


def test_across_languages_a_figure_a_russian_item_has_too_is_no_fact_of_one_event():
    # A Russian post's name and figure (Almaty, 46 lots of a tender) are in an English item
    # on another event (46 teams at a championship in Almaty), and in a Russian item on a
    # third that ranks below three English items on tenders: an item in the post's own
    # language is a rival however many translations rank above it (p607 at 20,000
    # background, round 17).  Without it, the English item has them alone: sure.
    items = [
        *filler(),
        stored("teams", "astanatimes", "Almaty hosts programming championship",
               "Almaty hosted the Central Asian programming championship: 46 university teams "
               "solved twelve problems in five hours.", hours=1),
        *(
            stored(f"audit-{n}", "astanatimes", f"{topic} tender delayed",
                   f"The audit of the {topic} tender was delayed again, the city said.",
                   hours=1 + n)
            for n, topic in enumerate(("roads", "parks", "metro"))
        ),
    ]  # fmt: skip
    ticks = stored("ticks", "kazinform", "Клещи активизировались",
                   "В Алматы за неделю 46 человек обратились к врачам с укусами клещей.",
                   hours=2)  # fmt: skip
    post = (
        "Аудиторы в Алматы нашли нарушения в 46 лотах тендера на школьное питание, "
        "выигранных одной компанией. Итоги по этим лотам пересмотрят до мая."
    )
    c = commentary(text=post, title="Аудит нашёл нарушения", published=DAY + timedelta(hours=8))
    found = match(MatchIndex.build(items), c)
    assert found.confident and found.keys == ("teams",)
    found = match(MatchIndex.build([*items, ticks]), c)
    assert not found.confident


# --- one event, two tellings ------------------------------------------------------------

RIDDER_ZAKON = (
    "В ночь на вторник из-за обрыва на линии электропередачи 110 кВ без света остались "
    "Риддер и три села Глубоковского района. Отключение затронуло около 52 тысяч жителей.",
    "В Риддере из-за аварии остановилась котельная, которая отапливает 41 многоэтажный дом. "
    "Аварийные бригады ТОО «Шыгысэнерго» работают на месте.",
)
RIDDER_24KZ = (
    "Почти девять часов жители Риддера провели без электричества: ночью оборвалась линия "
    "на 110 киловольт, которая питает город.",
    "Аким Риддера Ержан Смагулов поручил выяснить, почему резервная подстанция не "
    "включилась сама. К обеду свет вернули во все дома, кроме нескольких улиц на окраине.",
)


def two_tellings() -> list[StoredItem]:
    """One night's outage told by two outlets three hours apart, in their own words: the
    same town and line, each with facts of its own."""
    return [
        *filler(),
        stored("ridder-zakon", "zakon", "Риддер и три села остались без света", *RIDDER_ZAKON),
        stored("ridder-24kz", "24kz", "Энергетики устраняют последствия аварии в Риддере",
               *RIDDER_24KZ, hours=3),
    ]  # fmt: skip


def test_of_two_tellings_of_one_event_the_post_follows_the_one_with_its_facts():
    # The post retells the night without a figure: the town (both tellings), the villages'
    # district and the energy company (Zakon.kz's alone); its words are as near 24KZ's
    # ("жители Риддера провели без электричества", "линия, которая питает город").  24KZ's
    # telling has none of the post's facts Zakon.kz's lacks: the same event, not a rival.
    post = (
        "Жители Риддера провели ночь без электричества: оборвалась линия, которая питает "
        "город. Без света остались и сёла Глубоковского района, бригады «Шыгысэнерго» "
        "чинят линию."
    )
    c = commentary(text=post, title="Ночь без света", published=DAY + timedelta(hours=6))
    found = match(MatchIndex.build(two_tellings()), c)
    assert found.confident and found.keys == ("ridder-zakon",)
    assert any("told by ridder-24kz too" in line for line in found.evidence)


def test_of_two_tellings_the_one_whose_outlet_the_post_names_is_its_source():
    # What the post retells, the town and the line's 110 kV, both tellings have, told in
    # Zakon.kz's words; it names 24KZ (as written or in lower case), and that telling is
    # its source: the figures both have tell nothing of which.
    for named in ("по данным 24KZ", "как пишет 24kz"):
        post = f"Ночью из-за обрыва на линии 110 кВ без света остался Риддер, {named}."
        c = commentary(text=post, title="Риддер без света", published=DAY + timedelta(hours=6))
        found = match(MatchIndex.build(two_tellings()), c)
        assert found.confident and found.keys == ("ridder-24kz",), named


def test_a_post_telling_what_two_tellings_share_is_sure_of_neither():
    # The town and the line's 110 kV are in both tellings: every figure of the news in
    # each, and nothing of the post in one that the other lacks.  Which it retells, an
    # editor decides; the two are listed.
    post = "Ночью в Риддере оборвалась линия на 110 киловольт, город остался без света."
    c = commentary(text=post, title="Риддер без света", published=DAY + timedelta(hours=6))
    found = match(MatchIndex.build(two_tellings()), c)
    assert not found.confident
    assert {"ridder-zakon", "ridder-24kz"} <= {key for key, _ in found.candidates}


def test_a_sibling_event_beside_two_tellings_of_another_is_not_their_event():
    # The regional ceremony of the same day, not stored: the post names the capital's
    # laureate from the region, which one telling of the capital's ceremony has with more
    # of the post's names; its own figure, 28 women, is in neither.  No telling is its
    # source.
    capital = [
        "В Акорде Глава государства вручил государственные награды женщинам. Медаль "
        "«Ерен еңбегі үшін» получила доярка из Северо-Казахстанской области Валентина "
        "Шульц, орден «Парасат» – хирург Айгерим Бекенова из Семея.",
        "Президент отметил, что женщины составляют более половины занятых в "
        "здравоохранении и образовании.",
    ]
    other = [
        "Касым-Жомарт Токаев вручил ордена и медали 26 женщинам. Среди них – Валентина "
        "Шульц, которая почти сорок лет работает дояркой.",
        "Еще 340 женщин наградили в регионах акимы областей.",
    ]
    items = [
        *filler(),
        stored("awards-kazinform", "kazinform", "Глава государства наградил женщин", *capital),
        stored("awards-24kz", "24kz", "Токаев наградил доярку и хирурга", *other, hours=4),
    ]
    post = (
        "В Петропавловске аким Северо-Казахстанской области вручил награды 28 женщинам "
        "региона — учителям, медсёстрам, работницам сельхозпредприятий. Утром в Акорде "
        "медаль получила доярка из этой же области Валентина Шульц."
    )
    c = commentary(text=post, title="Награды в Петропавловске", published=DAY + timedelta(hours=8))
    found = match(MatchIndex.build(items), c)
    assert not found.confident


KANDAS_QUOTA = (
    "Правительство утвердило региональную квоту приёма кандасов на 2025 год: 2 350 семей "
    "смогут переселиться в Северо-Казахстанскую, Костанайскую, Павлодарскую, "
    "Акмолинскую, Восточно-Казахстанскую, Абайскую и Карагандинскую области. Переселенцам "
    "выплатят единовременную субсидию в 70 МРП на каждого члена семьи и компенсируют "
    "аренду жилья в течение года, сообщили в Министерстве труда."
)


def test_news_told_as_following_an_event_with_a_figure_the_item_lacks_is_not_that_event():
    # "Вслед за квотой для кандасов — 2 350 семей — правительство утвердило и вторую":
    # the stored item is the quota the news follows, its 2 350 and 70 МРП repeated; the
    # second quota's 3 800 families are not in it.  No rule is sure of it (the score
    # finds it likely and says why).  Told as the kandas quota itself, it is.
    items = [
        *filler(),
        stored("kandas", "zakon", "Квота для кандасов: 2 350 семей", KANDAS_QUOTA),
        stored("saiga", "kazinform", "Фермеры просят компенсацию за сайгаков",
               "Фермеры Западно-Казахстанской области просят компенсацию за потраву "
               "посевов сайгаками.", hours=2),
    ]  # fmt: skip
    index = MatchIndex.build(items)
    follow = (
        "Вслед за квотой для кандасов — 2 350 семей в семь северных и восточных областей — "
        "правительство утвердило и вторую, для внутренних переселенцев из трудоизбыточных "
        "южных регионов: 3 800 семей. Условия те же, 70 МРП на человека на переезд и год "
        "компенсации аренды."
    )
    c = commentary(text=follow, title="Квота для своих", published=DAY + timedelta(hours=28))
    found = match(index, c)
    assert not found.confident and first_ranked(found) == "kandas"
    assert any("its news follows another event" in line for line in found.evidence)
    told = (
        "Квота для кандасов — 2 350 семей в семь северных и восточных областей — утверждена "
        "правительством. Условия: 70 МРП на человека на переезд и год компенсации аренды."
    )
    c = commentary(text=told, title="Квота для своих", published=DAY + timedelta(hours=28))
    assert match(index, c).keys == ("kandas",) and match(index, c).confident


LIBRARY = (
    "Городская библиотека на набережной снова открыла читальный зал после ремонта: заменили "
    "крышу, отопление и старые стеллажи, а детский отдел переехал на первый этаж, сообщили в "
    "управлении культуры."
)
LIBRARY_RETOLD = (
    "Читальный зал городской библиотеки на набережной снова открыт: после ремонта там новая "
    "крыша, отопление и стеллажи, а детский отдел теперь на первом этаже. Редакция считает, "
    "что читателям стоит вернуться."
)


@pytest.mark.parametrize(
    ("museum", "hours", "sure"),
    [
        pytest.param(
            "Областной музей на набережной закрыли на ремонт крыши и отопления: экспозицию "
            "перенесут в запасники, сообщили в управлении культуры.",
            20,
            False,
            id="a rival a third as similar: no clear winner",
        ),
        pytest.param(
            "Областной музей закрыли на ремонт: экспозицию перенесут в запасники до осени, "
            "сообщили в управлении.",
            20,
            True,
            id="a clear winner a day old",
        ),
        pytest.param(
            "Областной музей закрыли на ремонт: экспозицию перенесут в запасники до осени, "
            "сообщили в управлении.",
            52,
            False,
            id="a clear winner two days old: the story's next stage as likely",
        ),
    ],
)
def test_similarity_alone_is_sure_only_of_a_clear_winner_a_retelling_follows(museum, hours, sure):
    # The post has no name or figure of its own: nothing but its words says which item
    # it tells.  A follow-up of the library's story would be told in the same words.
    items = [
        *filler(),
        stored("library", "kazinform", "Библиотека на набережной открылась после ремонта", LIBRARY),
        stored("museum", "zakon", "Музей на набережной закрыли на ремонт", museum, hours=1),
    ]  # fmt: skip
    c = commentary(text=LIBRARY_RETOLD, title="Книги ждут", published=DAY + timedelta(hours=hours))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("library",) and found.confident is sure


FERRY = (
    "Паром из Курыка в Баку впервые за зиму вышел по расписанию: на борту 38 фур и 112 "
    "пассажиров, следующий рейс назначен на пятницу, сообщили в порту."
)


@pytest.mark.parametrize(("after", "sure"), [(2, True), (16, False)])
def test_no_rule_is_sure_of_an_item_published_well_after_the_post(after, sure):
    # The window reaches a day past the post for feeds' clocks; an item sixteen hours
    # later is a later report, however well its figures agree.
    items = [*filler(), stored("ferry", "kazinform", "Паром ушёл в Баку", FERRY, hours=after)]
    post = (
        "Из Курыка в Баку паром наконец ушёл вовремя: 38 фур, 112 пассажиров. Редакция "
        "надеется, что расписание продержится до весны."
    )
    c = commentary(text=post, title="Паром", published=DAY)
    found = match(MatchIndex.build(items), c)
    assert found.confident is sure
    assert not sure or found.keys == ("ferry",)


@pytest.mark.parametrize(("amount", "sure"), [("1,4", True), ("2,6", False)])
def test_more_than_a_billion_is_a_figure_short_of_two(amount, sure):
    # "больше миллиарда" bounds the item's 1,4 млрд from below, as an editor rounds it
    # down to its magnitude; 2,6 млрд would have been "больше двух миллиардов".
    item = (
        f"Казахстанцы за год вывели на нелицензированные криптобиржи около {amount} млрд "
        "долларов, сообщили в Агентстве по финмониторингу. С июля банки Шымкента и Караганды "
        "начнут блокировать переводы на такие площадки."
    )
    items = [*filler(), stored("crypto", "kapital", "Банки начнут блокировать криптобиржи", item)]
    post = (
        "Финмониторинг посчитал: больше миллиарда долларов ушло за год на криптобиржи без "
        "лицензии. Банки Шымкента и Караганды с июля будут такие переводы блокировать. "
        "Редакция считает, что одних блокировок мало."
    )
    c = commentary(text=post, title="Крипта", published=DAY + timedelta(hours=3))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("crypto",) and found.confident is sure


GOLD = (
    "Доля золота в резервах Национального банка к 1 марта превысила 55%: металл стоил "
    "26,3 млрд долларов из 46,9 млрд долларов золотовалютных резервов. Физический объём "
    "сократился до 284 тонн: за февраль регулятор продал 3,1 тонны, а купил у отечественных "
    "аффинажных заводов 2,4 тонны."
)


def test_a_figure_said_without_the_scale_and_unit_of_the_one_before_it_has_them():
    # "двадцать шесть миллиардов долларов с лишним из почти сорока семи": the editor says
    # the billions and the dollars once, so the 47 is $47 billion, the item's $46,9 млрд
    # (not a bare 47 no item has); "две с половиной без малого" is just under 2,5, the
    # item's 2,4 tonnes.  Every figure of the news is then the item's and no rival's.
    (share, whole) = quantities("на двадцать шесть миллиардов долларов из почти сорока семи")
    assert (str(share), str(whole), whole.approximate, whole.bound) == (
        "26000000000 доллар",
        "47000000000 доллар",
        True,
        -1,
    )
    # (only the figure right before "из" lends its scale: "девять из десяти" is a share,
    # however many thousands the sentence gave before it)
    assert [q.value for q in quantities("больше трёх тысяч ста случаев; восемь из десяти не "
                                        "привиты", bare=True)] == [3100, 10]  # fmt: skip
    # (a figure with a word of its own after it counts that: "5 млн тенге из 20 регионов")
    assert [str(q) for q in quantities("5 млн тенге из 20 регионов")] == [
        "5000000 тенг",
        "20 регион",
    ]
    (under,) = quantities("купили две с половиной без малого", bare=True)
    assert (under.value, under.approximate, under.bound) == (2.5, True, -1)
    items = [
        *filler(),
        stored("gold", "kursiv", "Доля золота в резервах Нацбанка превысила 55%", GOLD),
        stored("bars", "zakon", "Спрос на мерные слитки вырос вдвое",
               "Золото, которое Нацбанк покупает у отечественных аффинажных заводов, частично "
               "переплавляют в мерные слитки: спрос на них в феврале вырос, резервы металла "
               "регулятор пополняет и продаёт за рубежом.", hours=-30),
    ]  # fmt: skip
    post = (
        "В кубышке Нацбанка жёлтого металла теперь больше, чем всего остального: на двадцать "
        "шесть миллиардов долларов с лишним из почти сорока семи. Продали за месяц три тонны "
        "с небольшим, взяли у своих две с половиной без малого. Мы считаем, что это разумно."
    )
    c = commentary(text=post, title="Золото в резервах", published=DAY + timedelta(hours=4))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("gold",) and found.confident
    assert "sure: the figures of its news together in it alone" in found.evidence


AKTAU_WATER = (
    "В 11, 12 и 14 микрорайонах Актау до 20 апреля воду будут подавать по графику: с 6:00 "
    "до 9:00 и с 18:00 до 22:00, сообщили в МАЭК. Причина — ремонт опреснительной "
    "установки. Ограничения коснутся 27 тысяч жителей."
)


def test_hours_of_the_day_said_in_words_are_no_figure_of_the_news():
    # "вечером, с шести до десяти" is 18:00-22:00, a time the item writes on its clock,
    # not a figure 10 that no item has.
    assert quantities("вечером, с шести до десяти", bare=True) == ()
    # (a count after such a word is still a count: no hour is above 24, none without "до")
    assert [str(q) for q in quantities("утром со 150 до 200 человек")] == [
        "150 человек",
        "200 человек",
    ]
    assert [str(q) for q in quantities("вечером 15 человек пришли")] == ["15 человек"]
    items = [
        *filler(),
        stored("water", "kazinform", "В трёх микрорайонах Актау ввели график подачи воды",
               AKTAU_WATER),
        stored("heat", "zakon", "В Актау отключат горячую воду",
               "В микрорайонах Актау отключат горячую воду на время ремонта сетей, сообщили в "
               "МАЭК: жителей просят запастись водой.", hours=-20),
    ]  # fmt: skip
    post = (
        "Жителям одиннадцатого, двенадцатого и четырнадцатого микрорайонов Актау до двадцатого "
        "числа придётся набирать воду впрок: из крана она пойдёт утром, с шести до девяти, и "
        "вечером, с шести до десяти. Касается это двадцати семи тысяч человек. Мы считаем, что "
        "город у моря заслуживает большего."
    )
    c = commentary(text=post, title="Вода по часам", published=DAY + timedelta(hours=4))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("water",) and found.confident


SUGAR = (
    "Средняя цена сахара в Казахстане в марте составила 455 тенге за килограмм, сообщает "
    "Бюро национальной статистики. Самый дорогой сахар в Атырауской области – 530 тенге, "
    "самый дешёвый в Жамбылской – 395 тенге."
)


@pytest.mark.parametrize(("more", "sure"), [("сто тридцать", True), ("сто пятьдесят", False)])
def test_a_difference_said_as_more_than_a_figure_is_read_past_its_more(more, sure):
    # "на сто тридцать с лишним тенге больше, чем в Таразе" is a difference of at least
    # 130 tenge, the item's 530 against 395 (135), as "на 130 тенге больше" would be; "с
    # лишним" between the figure and its unit hid the comparative after them.  Not 150.
    (difference,) = quantities(f"просят на {more} с лишним тенге больше, чем в Таразе")
    assert (difference.change, difference.bound) == (True, 1)
    items = [
        *filler(),
        stored("sugar", "zakon", "Сахар подорожал", SUGAR),
        stored("salt", "kazinform", "Соль в магазинах Атырау подорожала",
               "В магазинах Атырау и Тараза выросли цены на соль и сахар, жалуются покупатели: "
               "торговцы ссылаются на дорогую доставку.", hours=-20),
    ]  # fmt: skip
    post = (
        f"Сахар в марте стоил в среднем четыреста пятьдесят пять тенге за кило. В Атырау за "
        f"него просят на {more} с лишним тенге больше, чем в Таразе. Мы считаем, что регионам "
        "нужен свой стабфонд."
    )
    c = commentary(text=post, title="Сладкая разница", published=DAY + timedelta(hours=4))
    found = match(MatchIndex.build(items), c)
    assert first_ranked(found) == "sugar" and found.confident is sure


def test_a_figure_without_a_hundred_is_that_much_less():
    # "полторы тысячи без сотни" is 1 400, the item's figure ("без сотни": one hundred
    # said by its scale word alone, as "без двадцати" says twenty), not a 1 500 no item has.
    (students,) = quantities("опросили полторы тысячи без сотни студентов")
    assert str(students) == "1400 студент"
    assert [q.value for q in quantities("три тысячи без сотни", bare=True)] == [2900]
    items = [
        *filler(),
        stored("snus", "kazinform", "Каждый шестой студент пробовал снюс",
               "Медики Караганды опросили 1 400 студентов колледжей из 36 учебных заведений: "
               "18% признались, что пробовали снюс, сообщили в управлении здравоохранения."),
        stored("vape", "zakon", "В Караганде проверили магазины",
               "В Караганде проверили магазины, торгующие снюсом и вейпами рядом с колледжами: "
               "студентам их продают без проверки возраста.", hours=-20),
    ]  # fmt: skip
    post = (
        "Карагандинские медики опросили полторы тысячи без сотни студентов из тридцати шести "
        "колледжей: почти каждый пятый пробовал снюс. Мы считаем, что родителям пора вмешаться."
    )
    c = commentary(text=post, title="Снюс в колледжах", published=DAY + timedelta(hours=4))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("snus",) and found.confident


@pytest.mark.parametrize(("growth", "sure"), [("40", True), ("10", False)])
def test_a_ratio_is_the_growth_an_item_gives_in_percent(growth, sure):
    # "почти в полтора раза больше" is the item's "на 40% больше" (1,4 times), told as
    # editors round it, not a ratio no item has; "на 10% больше" it is not.
    items = [
        *filler(),
        stored("roads", "kazinform", "На дороги Павлодарской области выделили 52 млрд",
               f"На ремонт дорог Павлодарской области в этом году выделено 52 млрд тенге – на "
               f"{growth}% больше, чем годом ранее, сообщили в акимате. Отремонтируют 31 "
               "участок, в том числе трассу Павлодар – Баянаул."),
        stored("districts", "zakon", "В Павлодаре закрыли мост",
               "Ремонт дорог в Павлодарской области: деньги на дороги и участки трассы в этом "
               "году распределили районы, сообщили в акимате, дорожники просят больше денег.",
               hours=-20),
    ]  # fmt: skip
    post = (
        "Денег на дороги области дали почти в полтора раза больше — пятьдесят два миллиарда. "
        "Мы считаем, что проверять надо качество, а не сумму."
    )
    c = commentary(text=post, title="Дорожные деньги", published=DAY + timedelta(hours=4))
    found = match(MatchIndex.build(items), c)
    assert found.confident is sure and (not sure or found.keys == ("roads",))


SAWMILL = (
    "В Каркаралинском нацпарке выявлена незаконная рубка 212 сосен у села Коктас, ущерб "
    "оценен в 37 млн тенге, сообщили в полиции Карагандинской области. По подозрению "
    "задержан 52-летний лесничий: он разрешал пилораме вывозить деревья под видом "
    "санитарной рубки. Решается вопрос об аресте."
)


@pytest.mark.parametrize(("hours", "sure"), [(20, True), (49, False)])
def test_no_rule_is_sure_of_an_item_two_days_older_than_the_post(hours, sure):
    # Two days on, a post in the item's names and figures more often tells the story's
    # next stage (the court's arrest after the detention), which the store may not hold.
    items = [
        *filler(),
        stored("felling", "tengri", "В Каркаралинском нацпарке задержали лесничего", SAWMILL),
    ]
    post = (
        "Суд арестовал 52-летнего лесничего Каркаралинского нацпарка, которого подозревают "
        "в незаконной рубке 212 сосен у села Коктас; ущерб полиция Карагандинской области "
        "оценила в 37 млн тенге. Редакция ждёт проверки остальных лесничеств."
    )
    c = commentary(text=post, title="Лесничего арестовали", published=DAY + timedelta(hours=hours))
    found = match(MatchIndex.build(items), c)
    assert found.keys == ("felling",) and found.confident is sure


STATION = (
    "В Петропавловске открыли новый железнодорожный вокзал пропускной способностью "
    "600 пассажиров в час. Старое здание вокзала, построенное в 1967 году, отдадут под "
    "музей. Первым поездом стал утренний состав из Астаны."
)
STATION_OTHER = (
    "Новый вокзал Петропавловска обошелся в 14 млрд тенге, сообщили в акимате Северо-"
    "Казахстанской области. В нем 12 касс и зал ожидания для семей с детьми. Старое "
    "здание отдадут под музей."
)


@pytest.mark.parametrize(
    ("post", "sure"),
    [
        pytest.param(
            "Старое здание вокзала в Петропавловске построили в 1967 году: в зале был буфет "
            "и часы с кукушкой. Бывший дежурный Ерлан Касымов вспоминает, как зимой "
            "пассажиры грелись у печки. Редакция рада, что здание отдадут под музей.",
            False,
            id="a memory of the place, its year the only figure",
        ),
        pytest.param(
            "Новый вокзал в Петропавловске пропускает 600 пассажиров в час, а старое здание "
            "1967 года отдадут под музей. Редакция рада, что его не снесли.",
            True,
            id="the news's own figure besides the year",
        ),
    ],
)
def test_a_year_alone_is_no_figure_of_the_news_an_item_tells(post, sure):
    # "Построенное в 1967 году" is the history every item on the place repeats: a post
    # whose only figure it is may tell no stored news at all (a memory piece the day
    # after the opening), so the item having it makes no rule sure.
    items = [
        *filler(),
        stored("station", "24kz", "Новый вокзал принял первый поезд", STATION),
        stored("station-cost", "kazinform", "В Петропавловске открыли вокзал", STATION_OTHER),
    ]
    c = commentary(text=post, title="Вокзал", published=DAY + timedelta(hours=20))
    found = match(MatchIndex.build(items), c)
    if sure:
        assert found.confident and found.keys == ("station",)
    else:
        assert not found.confident
        assert "sure: every figure of its news in it" not in found.evidence


def test_a_sentence_marked_as_reported_sets_aside_only_the_link_whose_clause_says_so(index):
    # "Ранее" belongs to the clause of the link it tells ("о котором [ранее писал
    # Zakon.kz]"); the other link of the sentence is the news, not what was reported.
    from aggregator.house.load import parse_markdown

    config = Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.media/", house="Евразия24"),
        sources=(SourceConfig(id="kazinform", name="Kazinform", url="https://inform.kz/rss"),),
    )
    c = parse_markdown(
        "---\ntitle: Коридор\ndate: 2024-10-03 15:00\n---\n"
        f"Грузы по Среднему коридору [выросли на 63%]({CORRIDOR_LINK}), а расширение "
        f"Тенгиза, о котором [ранее писал Zakon.kz]({TENGIZ_LINK}), ещё не завершено.\n",
        "commentary/corridor.md",
        config,
    )
    assert c.background_links == (TENGIZ_LINK,)
    found = match(index, c)
    assert (found.keys, found.related, found.confident) == (("corridor",), ("tengiz",), True)
