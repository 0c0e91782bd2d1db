"""What bridges real variation in the region's news, for the related index: the
abbreviations news writers use for ministries, agencies, regions and units; numbers
in digits, with scale words (тыс., млн, млрд, трлн) and in words (ru/kk/en); and a
Latin/Cyrillic skeleton of names (Arctic Sunrise / Арктик Санрайз, Lexus / «Лексус»).

Pure functions over text and tokens; ``analyze`` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "ABBREVIATIONS",
    "expand_abbreviations",
    "figure_tokens",
    "figure_words",
    "is_figure",
    "mark_figures",
    "skeleton",
]

# Curated: abbreviation (as written, case-sensitive) -> its words.  Both spellings
# then analyze to the same stems.  Only abbreviations that are unambiguous in the
# region's news; a short one that is also a word (e.g. "ВС": court or armed forces)
# stays out.
ABBREVIATIONS: dict[str, str] = {
    # international bodies
    "ООН": "Организация Объединенных Наций",
    "ВБ": "Всемирный банк",
    "МВФ": "Международный валютный фонд",
    "ВОЗ": "Всемирная организация здравоохранения",
    "ВТО": "Всемирная торговая организация",
    "ЕАЭС": "Евразийский экономический союз",
    "ЕЭК": "Евразийская экономическая комиссия",
    "ШОС": "Шанхайская организация сотрудничества",
    "СНГ": "Содружество Независимых Государств",
    "ОДКБ": "Организация Договора о коллективной безопасности",
    "ОБСЕ": "Организация по безопасности и сотрудничеству в Европе",
    "ЕС": "Евросоюз",
    "ЕБРР": "Европейский банк реконструкции и развития",
    "АБР": "Азиатский банк развития",
    "ОПЕК": "Организация стран экспортеров нефти",
    "МКС": "Международная космическая станция",
    "МОК": "Международный олимпийский комитет",
    "НАТО": "Североатлантический альянс",
    # states
    "РК": "Республика Казахстан",
    "РФ": "Российская Федерация",
    "КНР": "Китай",
    "США": "Соединенные Штаты",
    "ОАЭ": "Объединенные Арабские Эмираты",
    "КР": "Кыргызская Республика",
    # Kazakhstan: state bodies
    "МИД": "министерство иностранных дел",
    "МВД": "министерство внутренних дел",
    "МЧС": "министерство по чрезвычайным ситуациям",
    "МО": "министерство обороны",
    "Минобороны": "министерство обороны",
    "Минздрав": "министерство здравоохранения",
    "МЗ": "министерство здравоохранения",
    "Минфин": "министерство финансов",
    "МФ": "министерство финансов",
    "Минэнерго": "министерство энергетики",
    "Минтруд": "министерство труда",
    "Минпросвещения": "министерство просвещения",
    "Минюст": "министерство юстиции",
    "Минсельхоз": "министерство сельского хозяйства",
    "МСХ": "министерство сельского хозяйства",
    "Минэкономики": "министерство экономики",
    "Минтранс": "министерство транспорта",
    "Минцифры": "министерство цифрового развития",
    "МЦРИАП": "министерство цифрового развития",
    "Минэкологии": "министерство экологии",
    "Минкультуры": "министерство культуры",
    "Минспорта": "министерство туризма и спорта",
    "Минобразования": "министерство образования",
    "МОН": "министерство образования и науки",
    "МНВО": "министерство науки и высшего образования",
    "Минпром": "министерство промышленности",
    "МИИР": "министерство индустрии и инфраструктурного развития",
    "КНБ": "Комитет национальной безопасности",
    "ГП": "Генеральная прокуратура",
    "Генпрокуратура": "Генеральная прокуратура",
    "АФМ": "Агентство по финансовому мониторингу",
    "АДГС": "Агентство по делам государственной службы",
    "АЗРК": "Агентство по защите и развитию конкуренции",
    "АРРФР": "Агентство по регулированию и развитию финансового рынка",
    "НБРК": "Национальный банк",
    "Нацбанк": "Национальный банк",
    "ЦБ": "Центральный банк",
    "ЦИК": "Центральная избирательная комиссия",
    "ВС": "Верховный суд",
    "КС": "Конституционный суд",
    "ЕНПФ": "Единый накопительный пенсионный фонд",
    "ФСМС": "Фонд социального медицинского страхования",
    "ОСМС": "обязательное социальное медицинское страхование",
    "ГФСС": "Государственный фонд социального страхования",
    "КГД": "Комитет государственных доходов",
    "ДВД": "департамент полиции",
    "ДП": "департамент полиции",
    "ДЧС": "департамент по чрезвычайным ситуациям",
    "ВКО": "Восточно-Казахстанская область",
    "ЗКО": "Западно-Казахстанская область",
    "СКО": "Северо-Казахстанская область",
    "ЮКО": "Южно-Казахстанская область",
    "ЮВО": "Южный военный округ",
    "ЗВО": "Западный военный округ",
    "ЦВО": "Центральный военный округ",
    "ВВО": "Восточный военный округ",
    "ЖКХ": "жилищно-коммунальное хозяйство",
    "ТЭЦ": "теплоэлектроцентраль",
    "ГРЭС": "электростанция",
    "АЭС": "атомная электростанция",
    "ДТП": "дорожно-транспортное происшествие",
    "ЧС": "чрезвычайная ситуация",
    "ВВП": "валовой внутренний продукт",
    "НДС": "налог на добавленную стоимость",
    "ИПН": "индивидуальный подоходный налог",
    "МРП": "месячный расчетный показатель",
    "МЗП": "минимальная заработная плата",
    "ЕНТ": "единое национальное тестирование",
    "ВУЗ": "высшее учебное заведение",
    "вуз": "высшее учебное заведение",
    "вузы": "высшие учебные заведения",
    "вузов": "высших учебных заведений",
    "ИИ": "искусственный интеллект",
    "БПЛА": "беспилотник",
    "КТЖ": "Қазақстан темір жолы",
    "КМГ": "КазМунайГаз",
    "НПЗ": "нефтеперерабатывающий завод",
    "СМИ": "средства массовой информации",
    "ТЦ": "торговый центр",
    "ТРЦ": "торговый центр",
    "СИЗО": "следственный изолятор",
    "UN": "United Nations",
    "WB": "World Bank",
    "IMF": "International Monetary Fund",
    "WHO": "World Health Organization",
    "EAEU": "Eurasian Economic Union",
    "SCO": "Shanghai Cooperation Organisation",
    "CIS": "Commonwealth of Independent States",
    "EU": "European Union",
    "ISS": "International Space Station",
    "MFA": "Ministry of Foreign Affairs",
    "GDP": "gross domestic product",
    "VAT": "value added tax",
    "US": "United States",
    "USA": "United States",
    "UAE": "United Arab Emirates",
    "AI": "artificial intelligence",
    "ҚР": "Қазақстан Республикасы",
    "БҰҰ": "Біріккен Ұлттар Ұйымы",
    "ІІМ": "Ішкі істер министрлігі",
    "СІМ": "Сыртқы істер министрлігі",
    "ТЖМ": "Төтенше жағдайлар министрлігі",
    "ДСМ": "Денсаулық сақтау министрлігі",
    "ҰҚК": "Ұлттық қауіпсіздік комитеті",
    "ЖОО": "жоғары оқу орны",
    "ҰБТ": "ұлттық бірыңғай тестілеу",
    "ЖІӨ": "жалпы ішкі өнім",
    "ЖКО": "жол-көлік оқиғасы",
    "ШҚО": "Шығыс Қазақстан облысы",
    "БҚО": "Батыс Қазақстан облысы",
    "СҚО": "Солтүстік Қазақстан облысы",
}

_ABBREVIATION = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?![^\W\d_])"
)


def expand_abbreviations(text: str) -> str:
    """``text`` with every listed abbreviation spelled out (ВБ -> Всемирный банк)."""
    if not text or (
        _CAPITAL_KEYS.isdisjoint(_CAPITAL_RUN.findall(text)) and not _holds_other_key(text)
    ):
        return text
    return _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)], text)


def _holds_other_key(text: str) -> bool:
    """Whether ``text`` holds one of the abbreviations not starting with a capital."""
    for first, keys in _OTHER_KEYS_BY_FIRST:
        if first in text:
            for key in keys:
                if key in text:
                    return True
    return False


# A quick look first (most texts hold none): an abbreviation is a whole run of
# letters; those starting with a capital are among the runs this finds (a scan for
# a capital is fast, the pattern above is not), the few others are looked for as is.
_CAPITAL_RUN = re.compile(r"[A-ZА-ЯЁ][^\W\d_]*")
_CAPITAL_KEYS = frozenset(a for a in ABBREVIATIONS if _CAPITAL_RUN.fullmatch(a))
_OTHER_KEYS = tuple(a for a in ABBREVIATIONS if a not in _CAPITAL_KEYS)
# Those holding no other one (вуз finds вузы and вузов too), by first character: a
# search for one character is several times faster than for two or three (Қ, І, Ұ,
# rare in Russian text, ~0.2 against ~1.3 us in 1,500 characters).
_OTHER_KEYS = tuple(a for a in _OTHER_KEYS if not any(b != a and b in a for b in _OTHER_KEYS))
_OTHER_KEYS_BY_FIRST = tuple(
    (first, tuple(a for a in _OTHER_KEYS if a[0] == first))
    for first in dict.fromkeys(a[0] for a in _OTHER_KEYS)
)


# --- numbers -------------------------------------------------------------------------

# A scale word after a figure: "1,5 млн", "35 тыс.", "2 billion", "3 млрд теңге".
_SCALES = {
    "тыс": 1e3,
    "тысяча": 1e3,
    "тысячи": 1e3,
    "тысяч": 1e3,
    "тысячу": 1e3,
    "тысячами": 1e3,
    "мың": 1e3,
    "thousand": 1e3,
    "млн": 1e6,
    "миллион": 1e6,
    "миллиона": 1e6,
    "миллионов": 1e6,
    "миллионами": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "млрд": 1e9,
    "миллиард": 1e9,
    "миллиарда": 1e9,
    "миллиардов": 1e9,
    "миллиардами": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "трлн": 1e12,
    "триллион": 1e12,
    "триллиона": 1e12,
    "триллионов": 1e12,
    "trillion": 1e12,
    "trn": 1e12,
}
# Starts with the digit, the look-behind after it: a pattern that starts with a
# character class is scanned for it fast (one that starts with a look-behind is
# tried at every position, ~3 times slower).
_DIGITS = re.compile(
    r"(\d(?<![\w.,]\d)(?:\d{0,2}(?:[\u00a0\u202f ,]\d{3})+(?![.,]?\d)|\d*))"
    r"(?:[.,](\d+))?(?!\w)"
    r"(?:[\s\u00a0]*(" + "|".join(sorted(_SCALES, key=len, reverse=True)) + r")\.?(?!\w))?",
    re.IGNORECASE,
)

# Number words per language: a word that is a numeral in one language can be a common
# word in another (Kazakh "он", ten, is the Russian pronoun "he"), so a text's words are
# read as figures only in its own language.
_RU_NUMBERS = {
    "ноль": 0, "один": 1, "одна": 1, "одно": 1, "одного": 1, "одной": 1, "одному": 1,
    "два": 2, "две": 2, "двух": 2, "двум": 2, "двумя": 2,
    "три": 3, "трех": 3, "трем": 3, "тремя": 3,
    "четыре": 4, "четырех": 4, "четырем": 4, "четырьмя": 4,
    "пять": 5, "пяти": 5, "пятью": 5, "шесть": 6, "шести": 6, "семь": 7, "семи": 7,
    "восемь": 8, "восьми": 8, "девять": 9, "девяти": 9, "десять": 10, "десяти": 10,
    "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19, "полтора": 1.5, "полторы": 1.5, "полутора": 1.5,
    "двадцать": 20, "двадцати": 20, "тридцать": 30, "тридцати": 30, "сорок": 40,
    "сорока": 40, "пятьдесят": 50, "пятидесяти": 50, "шестьдесят": 60, "шестидесяти": 60,
    "семьдесят": 70, "семидесяти": 70, "восемьдесят": 80, "восьмидесяти": 80,
    "девяносто": 90, "девяноста": 90,
    "сто": 100, "ста": 100, "двести": 200, "двухсот": 200, "триста": 300, "трехсот": 300,
    "четыреста": 400, "четырехсот": 400, "пятьсот": 500, "пятисот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}  # fmt: skip
# Oblique forms of the numerals in -ь: пятнадцати, двадцати.
_RU_NUMBERS.update({w[:-1] + "и": v for w, v in list(_RU_NUMBERS.items()) if w.endswith("ть")})
_KK_NUMBERS = {
    "бір": 1, "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7, "сегіз": 8,
    "тоғыз": 9, "он": 10,
    "жиырма": 20, "отыз": 30, "қырық": 40, "елу": 50, "алпыс": 60, "жетпіс": 70,
    "сексен": 80, "тоқсан": 90, "жүз": 100,
}  # fmt: skip
_EN_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_ALL_NUMBERS = {**_RU_NUMBERS, **_KK_NUMBERS, **_EN_NUMBERS}  # language unknown
_NUMBERS = {"ru": _RU_NUMBERS, "kk": _KK_NUMBERS, "en": _EN_NUMBERS}
_WORD_SCALES = {k: v for k, v in _SCALES.items() if k.isalpha() and len(k) > 1}


def _figure(value: float) -> str:
    """One spelling per value: n1500000, n1p5, n35."""
    if value == int(value):
        return f"n{int(value)}"
    return "n" + f"{value:.6f}".rstrip("0").replace(".", "p")  # one token: no "."


def mark_figures(text: str, digits: Iterable[int] | None = None) -> str:
    """Digits (with decimals, thousands spaces and a scale word) as one figure token:
    "1,5 млн" and "1 500 000" both become " n1500000 "; "8" stays (as " n8 ").
    ``digits``: where the text's digits (``\\d``) are, ascending, when known: the
    pattern is then tried only there (it starts with a digit), not scanned for
    over the whole text; the same result."""
    if not text:
        return text
    if digits is None:
        return _DIGITS.sub(_figure_of, text)
    parts: list[str] = []
    done = 0
    match = _DIGITS.match
    for at in digits:
        if at < done:
            continue
        m = match(text, at)  # its look-behind sees the text before ``at``
        if m is not None:
            parts += [text[done:at], _figure_of(m)]
            done = m.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _figure_of(m: re.Match[str]) -> str:
    whole = _THOUSANDS.sub("", m.group(1))
    value = float(f"{whole}.{m.group(2)}") if m.group(2) else float(whole)
    if m.group(3):
        value *= _SCALES[m.group(3).lower()]
    return f" {_figure(value)} "


_THOUSANDS = re.compile(r"[\u00a0\u202f ,]")


def figure_tokens(tokens: Iterable[str], language: str | None = None) -> list[str]:
    """Tokens with runs of number words made figures ("двадцать пять тысяч" -> n25000),
    and a scale word after a figure folded in ("n3", "миллиона" -> n3000000).
    ``language`` (ru, kk, en): read only that language's number words; any other or
    None: every language's."""
    tokens = list(tokens)
    numbers = _NUMBERS.get(language or "", _ALL_NUMBERS)
    if numbers.keys().isdisjoint(tokens) and _WORD_SCALES.keys().isdisjoint(tokens):
        return tokens
    out: list[str] = []
    value: float | None = None
    for token in tokens:
        number = numbers.get(token)
        scale = _WORD_SCALES.get(token)
        if number is not None:
            value = (value or 0) + number
            continue
        if scale is not None and (value is not None or (out and _is_figure(out[-1]))):
            if value is None:
                value = float(out.pop()[1:].replace("p", "."))
            out.append(_figure(value * scale))
            value = None
            continue
        if value is not None:
            out.append(_figure(value))
            value = None
        out.append(token)
    if value is not None:
        out.append(_figure(value))
    return out


def figure_words(language: str | None = None) -> frozenset[str]:
    """The words :func:`figure_tokens` reads for ``language`` (its number words and the
    scale words): tokens holding none of them come back from it unchanged."""
    numbers = _NUMBERS.get(language or "", _ALL_NUMBERS)
    return frozenset(numbers.keys() | _WORD_SCALES.keys())


def _is_figure(token: str) -> bool:
    return token[:1] == "n" and token[1:2].isdigit()


def is_figure(token: str) -> bool:
    """A token ``mark_figures`` or ``figure_tokens`` made."""
    return _is_figure(token)


# --- Latin / Cyrillic skeleton of names -------------------------------------------------

_CYRILLIC_TO_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
        "һ": "kh", "і": "i",
    }
)  # fmt: skip
# Consonant classes that transliteration mixes up: c/k/q, s/z, v/w, f/ph, x = ks...
_LATIN_FOLDS = [
    ("sch", "sh"), ("tch", "ch"), ("ph", "f"), ("kh", "h"), ("ck", "k"), ("dzh", "j"),
    ("zh", "j"), ("dj", "j"), ("x", "ks"), ("q", "k"), ("w", "v"), ("z", "s"), ("th", "t"),
]  # fmt: skip
_VOWELS_Y = re.compile(r"[aeiouy]+")
_REPEATS = re.compile(r"(.)\1+")


def skeleton(word: str) -> str:
    """A spelling-independent skeleton of a name: transliterated to Latin, consonant
    classes folded, vowels dropped, doubles collapsed (Sunrise, Санрайз -> "snrs")."""
    latin = word.lower().translate(_CYRILLIC_TO_LATIN)
    for a, b in _LATIN_FOLDS:
        latin = latin.replace(a, b)
    latin = latin.replace("c", "k")  # c before e/i reads as s in English, but as k
    # in most transliterated names; the rare loss costs less than the noise
    consonants = _VOWELS_Y.sub("", latin)
    consonants = consonants.replace("h", "")
    return _REPEATS.sub(r"\1", consonants)
