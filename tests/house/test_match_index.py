"""The match index's language-independent evidence: word skeletons."""

from __future__ import annotations

import pytest

from aggregator.house.index import quantities, skeleton, spelled_in, spelled_numbers, words


@pytest.mark.parametrize(
    "spellings",
    [
        ("Токаев", "Тоқаев", "Токаева", "Tokayev"),
        ("Астана", "Astana", "Астане"),
        ("Актау", "Aktau"),
        ("КЕГОК", "KEGOC"),
        ("Джунгарский", "Жоңғар"),
        ("терминал", "terminal"),
        ("Чарын", "Шарын", "Charyn"),
        ("Чимкент", "Шымкент", "Shymkent"),
    ],
)
def test_a_name_has_one_skeleton_in_cyrillic_latin_and_kazakh_spellings(spellings):
    assert len({skeleton(word.lower()) for word in spellings}) == 1


def test_different_names_have_different_skeletons():
    assert skeleton("токаев") != skeleton("бектенов")
    assert skeleton("berlin") != skeleton("paris")
    assert skeleton("2029") != skeleton("2011")


def test_a_number_written_in_digit_groups_is_one_number():
    assert words("с 1 000 до 2\u00a0000 тенге, 12 000 000 кубов") == [
        "1000", "до", "2000", "тенге", "12000000", "кубов"
    ]  # fmt: skip
    assert words("в 2025 году 150 человек") == ["2025", "году", "150", "человек"]
    assert words("1,200 passengers, 3,500,000 tenge") == [
        "1200", "passengers", "3500000", "tenge"
    ]  # fmt: skip


def test_a_decimal_is_its_whole_part_and_the_decimal_in_either_notation():
    assert words("ставка 16,5") == ["ставка", "16", "16d5"]
    assert skeleton(words("2,3 миллиона")[0]) == skeleton(words("2.3 million")[0]) == "#2.3"
    assert words("07.03.2025") == ["07", "03", "2025"]  # a date is no decimal


@pytest.mark.parametrize(
    ("spelled", "figures"),
    [
        ("сорока двух", ["42"]),
        ("двести тысяч тенге", ["200", "200000"]),
        ("больше двух тысяч ста человек", ["2000", "2100"]),
        ("в две тысячи двадцать пятом году", ["2000", "2025"]),
        ("двадцать пятого марта", ["25"]),
        ("до восемнадцатого апреля", ["18"]),
        ("три десятка юрт", ["30"]),
        ("больше тысячи ста человек", ["1100"]),
        ("тысячи людей", []),
        ("от восемнадцати до двадцати пяти лет", ["18", "25"]),
        ("шесть сотен шахтеров", ["600"]),
        ("за полторы сотни миллионов", ["150"]),
    ],
)
def test_a_number_spelled_in_russian_words_is_its_figure(spelled, figures):
    """Thousands and what follows them make one number; an ordinal ends a spelled date."""
    assert spelled_numbers(words(spelled)) == figures


def test_a_one_digit_ordinal_alone_is_no_figure():
    assert spelled_numbers(words("во вторник, на второй день, в пятом ряду")) == []


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("заплачу десять тысяч. Двенадцать тысяч человек", ["10", "10000", "12", "12000"]),
        ("«заплачу десять тысяч»\nДвенадцать человек", ["10", "10000", "12"]),
        ("Тираж двести тысяч! Сто школ", ["200", "200000", "100"]),
        ("двести\nтысяч тенге", ["200", "200000"]),  # a wrapped line is no sentence's end
    ],
)
def test_a_spelled_number_never_runs_on_across_a_sentences_end(text, figures):
    assert spelled_in(text) == figures


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("около 1 200 гектаров, в 300 метрах", ["1200 гектар", "300 метр"]),
        ("около тысячи двухсот гектаров, в трехстах метрах", ["1200 гектар", "300 метр"]),
        ("446,8 тысячи человек", ["446800 человек"]),
        ("от миллиарда до миллиарда трехсот миллионов долларов", ["1300000000 доллар"]),
        ("тираж два миллиона сто тысяч экземпляров", ["2100000 экземпляр"]),
        ("шестнадцать с половиной процентов", ["16.5 процент"]),
        ("собрание двадцать третьего мая", ["23 ма"]),
        ("вместо нынешних 16–18 часов", ["16 час", "18 час"]),
        ("вырастет с 52 372 до 65 465 тенге", ["52372 тенг", "65465 тенг"]),
        ("закрыт с 19 по 214 км", ["19 километр", "214 километр"]),
        ("в Павлодарской и Карагандинской областях", ["павлодарск област", "карагандинск област"]),
        ("в 2025 году пять домов и четыре и семь десятых процента", []),
    ],
)
def test_a_figure_is_read_with_what_it_counts(text, found):
    """Scale words and halves are part of a figure; a year, a one-digit figure and a
    fraction in words are no quantity to compare; each place of a list is in the slot
    its last one names."""
    assert [str(q) for q in quantities(text)] == found


def test_a_figure_given_as_replaced_is_marked_so():
    replaced, new = quantities("вместо восьмидесяти трёх тенге будут брать девяносто восемь тенге")
    assert (replaced.value, replaced.replaced) == (83, True)
    assert (new.value, new.replaced) == (98, False)


def test_a_per_cent_sign_after_a_figure_is_the_word_per_cent():
    # "16,5%" and "шестнадцать с половиной процентов" count the same thing, and so do
    # the English and Kazakh words for it.
    assert quantities("ставка 16,5% годовых") == quantities("шестнадцать с половиной процентов")
    assert quantities("рост на 63 %") == quantities("up 63 percent") == quantities("63 пайыз")
    assert words("инфляция 9,4%") == ["инфляция", "9d4", "pct"]
    assert words("скидка в % от суммы") == ["скидка", "от", "суммы"]  # no figure: no sign


@pytest.mark.parametrize(
    "text",
    ["тираж 2,1 млн", "тираж два миллиона сто тысяч", "тираж 2 100 000", "2100 тыс. — тираж"],
)
def test_every_figure_is_read_by_its_value_with_or_without_a_word_after_it(text):
    assert [q.value for q in quantities(text, bare=True)] == [2_100_000]
    assert quantities("тираж 2,1 млн") == ()  # no word after it: no kind of quantity


def test_a_quarter_of_a_million_is_an_approximate_250_000():
    (quarter,) = quantities("однушка — четверть миллиона", bare=True)
    assert quarter.value == 250_000 and quarter.approximate


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("выделят 3 млн тенге", ["3000000 тенг"]),
        ("пропускать до 5 тысяч человек", ["5000 человек"]),
        ("на 2–3 тысячи тенге", ["2000 тенг", "3000 тенг"]),
        ("от 5 до 10 тысяч человек", ["5000 человек", "10000 человек"]),
        ("6–7 млрд долларов", ["6000000000 доллар", "7000000000 доллар"]),
        ("шығыным 6 миллион теңгеден асады", ["6000000 тең"]),
        ("полмиллиона тенге", ["500000 тенг"]),
        ("пол-миллиона тенге", ["500000 тенг"]),
        ("$1.2bn investment", ["1200000000 invest"]),
    ],
)
def test_a_one_digit_figure_with_its_scale_word_is_read_whole(text, found):
    """A one-digit word is dropped by tokenize: before its scale word it is written whole
    ("3000000"), as "3 000 000" would be, not lost (nor its scale word read as one)."""
    assert [str(q) for q in quantities(text)] == found


def test_a_one_digit_figure_with_its_scale_is_one_word_as_digit_groups_are():
    assert words("3 млн тенге") == words("3 000 000 тенге") == ["3000000", "тенге"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("подключат к 25-му числу", ["25 числ"]),
        ("собрание 25-го марта", ["25 март"]),
        ("25-ші наурызда", ["25 наурызд"]),
    ],
)
def test_an_ordinals_ending_after_a_figure_is_not_what_it_counts(text, found):
    assert [str(q) for q in quantities(text)] == found


def test_a_word_built_on_a_number_is_no_figure_unless_an_age():
    """ "одиннадцатиметровый" (a penalty), "трехсторонний" (three-sided), "Сорокин" (a
    name) give no figure; an age does: "шестнадцатилетний" is 16 years."""
    text = "с одиннадцатиметрового, трехсторонней комиссией, Сорокин сказал"
    assert spelled_numbers(words(text)) == []
    assert quantities(text) == ()
    assert spelled_numbers(words("у шестнадцатилетнего")) == ["16"]
    assert spelled_numbers(words("двадцатого марта, сороковой день")) == ["20", "40"]
    assert spelled_numbers(words("тысячелетие")) == []


def test_a_round_figure_like_a_year_is_a_year_only_before_a_years_word():
    assert [str(q) for q in quantities("около двух тысяч человек")] == ["2000 человек"]
    assert [str(q) for q in quantities("выпустил 2 тыс. тонн картофеля")] == ["2000 тон"]
    assert [str(q) for q in quantities("в 2000 году 150 человек")] == ["150 человек"]
    assert quantities("в 2025 году") == ()


def test_a_word_before_a_figure_names_it_only_when_short_and_no_unit():
    """ "АИ-92" is the figure of a name; "дома 25" (a stem "дом") and "214 км, двести"
    (a unit) are not."""
    assert [q.unit for q in quantities("бензин АИ-92 подорожал")] == ["а-", "подорожа"]
    assert [q.unit for q in quantities("в дома к 25 числу")] == ["числ"]
    assert [str(q) for q in quantities("протяженностью 214 км двести дорог")] == [
        "214 километр",
        "200 дорог",
    ]


def test_spelled_figures_as_editors_say_them():
    """ "с лишним" after a figure: at least it; "тысяч тридцать" (the plural first):
    about 30 000; "миллиарда ста": 1,1 млрд; "две трети миллиарда": no figure given."""
    (more,) = quantities("двести с лишним километров")
    assert (str(more), more.approximate, more.bound) == ("200 километр", True, 1)
    (about,) = quantities("тысяч тридцать туристов")
    assert (str(about), about.approximate) == ("30000 турист", True)
    assert spelled_numbers(words("тысяч тридцать туристов")) == ["30000"]
    assert [
        q.value for q in quantities("от миллиарда ста до миллиарда трёхсот миллионов", bare=True)
    ] == [1.1e9, 1.3e9]
    assert [q.value for q in quantities("миллион 200 человек", bare=True)] == [1_000_200]
    assert quantities("почти две трети миллиарда тенге", bare=True) == ()


def test_a_scaled_decimal_is_its_exact_value():
    (value,) = [q.value for q in quantities("4,1 млн", bare=True)]
    assert value == 4_100_000  # (not 4099999.9999999995, which no rounding reads)


def test_a_span_of_years_counts_years_though_the_word_is_a_stop_word():
    assert [str(q) for q in quantities("меняли девятнадцать лет назад, в 10 раз дороже")] == [
        "19 лет",
        "10 раз",
    ]


@pytest.mark.parametrize(
    ("spelled", "figures"),
    [
        ("впервые с пандемийного двадцатого года", ["2020"]),
        ("закончат в двадцать седьмом году", ["2027"]),
        ("котёл семьдесят первого года", ["1971"]),
        ("с четырнадцатого года", ["2014"]),
        ("как в сорок пятом году", ["1945"]),
        # (not a year: a cardinal's age, an ordinal's date, a one-digit ordinal)
        ("горняк сорока одного года", ["41"]),
        ("до двадцатого марта", ["20"]),
        ("уже второй год подряд", []),
    ],
)
def test_a_year_of_the_century_in_words_is_that_year(spelled, figures):
    """An ordinal before "года"/"году" names a year ("с пандемийного двадцатого года":
    2020), as an agency writes it, not the figure 20 no item has; a year is no quantity."""
    assert spelled_numbers(words(spelled)) == figures
    if figures[-1:] in (["2020"], ["2027"], ["1971"], ["2014"], ["1945"]):
        assert quantities(spelled, bare=True) == ()


def test_a_price_said_without_its_thousand_is_thousands():
    """ "стоит три восемьсот девяносто" is 3 890 tenge; two numbers side by side are
    otherwise apart ("два двадцать"), and an ordinal takes no hundreds after it."""
    assert spelled_numbers(words("кило стоит три восемьсот девяносто")) == ["3890"]
    assert [str(q) for q in quantities("за пять двести тенге")] == ["5200 тенг"]
    assert spelled_numbers(words("сто двадцать")) == ["120"]
    assert spelled_numbers(words("два двадцать")) == ["20"]
    assert spelled_numbers(words("с третьего восемьсот человек")) == ["800"]


def test_a_figure_without_another_is_their_difference():
    """ "три тысячи двести без двадцати" is 3 180, and the 20 is no figure of its own;
    "без" before no figure ("без малого", "без проблем") changes nothing."""
    for text, value, figures in (
        ("в три тысячи двести без двадцати", 3180, ["3000", "3180"]),
        ("билет от пятидесяти тысяч без десяти тенге", 49990, ["50", "49990"]),
        ("нарушений полтора десятка без одного", 14, ["14"]),
    ):
        assert [q.value for q in quantities(text, bare=True)] == [value]
        assert spelled_numbers(words(text)) == figures
    assert [q.value for q in quantities("двести без малого", bare=True)] == [200]
    assert [str(q) for q in quantities("сто без проблем, двадцать домов")] == ["20 дом"]


def test_a_little_more_than_a_figure_is_at_least_it_and_years_are_a_span():
    """ "с небольшим" after a figure, as "с лишним": at least it, and the word after it
    is what it counts; "пятьдесят четыре года", as "девятнадцать лет", is a span."""
    (more,) = quantities("одиннадцать с небольшим процентов")
    assert (str(more), more.approximate, more.bound) == ("11 процент", True, 1)
    (bn,) = quantities("четырнадцать с половиной миллиардов с небольшим из бюджета", bare=True)
    assert (bn.value, bn.approximate, bn.bound) == (14.5e9, True, 1)
    assert [str(q) for q in quantities("греет город пятьдесят четыре года")] == ["54 год"]


def test_a_figure_said_as_more_than_its_thousands_or_hundreds_is_at_least_them():
    """ "шестьдесят с лишним тысяч" is at least 60 000 (the scale after "с лишним" still
    scales it), and hundreds count after a one-digit figure as thousands do: "три с
    половиной сотни без десяти" is 340, "шесть с лишним сотен" at least 600."""
    (people,) = quantities("шестьдесят с лишним тысяч человек")
    assert (str(people), people.approximate, people.bound) == ("60000 человек", True, 1)
    (bn,) = quantities("сорок с лишним миллиардов тенге")
    assert (bn.value, bn.unit, bn.bound) == (40e9, "тенг", 1)
    (awards,) = quantities("три с половиной сотни без десяти наград вручили акимы")
    assert (str(awards), awards.bound) == ("340 наград", 0)
    (homes,) = quantities("шесть с лишним сотен домов")
    assert (str(homes), homes.bound) == ("600 дом", 1)
    (operations,) = quantities("три с лишним тысячи операций")
    assert (operations.value, operations.bound) == (3000, 1)


def test_a_figure_after_a_comparative_and_than_is_a_bound():
    """ "больше чем двух миллионов" is at least two million, as "больше двух миллионов" is
    (the comparative before "чем"); "меньше чем сто" at most 100."""
    (people,) = quantities("анализы больше чем двух миллионов человек")
    assert (str(people), people.approximate, people.bound) == ("2000000 человек", True, 1)
    (homes,) = quantities("осталось меньше чем сто домов")
    assert (str(homes), homes.bound) == ("100 дом", -1)
    (plain,) = quantities("знают лучше, чем сто экспертов")
    assert not plain.approximate


def test_a_figure_said_as_a_difference_is_marked_so():
    """ "на три сотни больше", "на 12% дороже": a difference (an item may give the two
    figures it lies between); "на 300 мест" alone is no difference."""
    for text in ("мест стало на три сотни больше", "на 300 мест больше", "на 12 тенге дороже"):
        (difference,) = quantities(text, bare=True)
        assert difference.change, text
    (places,) = quantities("рассчитан на 300 мест", bare=True)
    assert not places.change


def test_a_figure_with_its_smaller_unit_is_one_figure():
    """ "сорока двух метров с сорока сантиметрами" is 42,4 m; "сорок тенге девяносто один
    тиын" 40,91 tenge; "два километра четыреста метров" 2,4 km; a smaller unit's figure
    that makes a whole one is no part ("два метра сто сантиметров" stays apart)."""
    assert [str(q) for q in quantities("поднялся до сорока двух метров с сорока сантиметрами")] == [
        "42.4 метр"
    ]
    assert [str(q) for q in quantities("сорок тенге девяносто один тиын")] == ["40.91 тенг"]
    assert [q.value for q in quantities("прошли двенадцать километров четыреста метров")] == [12.4]
    assert [str(q) for q in quantities("высота 12 метров 150 сантиметров")] == [
        "12 метр",
        "150 сантиметр",
    ]


def test_a_decade_is_no_figure():
    """ "в шестидесятые", "в девяностых": a time, no count (the item writes "1960s");
    "шестьдесят плескалось" would be one."""
    assert quantities("у причала в шестидесятые плескалось море", bare=True) == ()
    assert quantities("в девяностых годах закрыли", bare=True) == ()
    assert [q.value for q in quantities("шестьдесят человек", bare=True)] == [60]
