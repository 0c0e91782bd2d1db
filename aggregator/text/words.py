"""Language-aware text analysis for Russian, Kazakh and English news.

Shared by commentary (quote) matching and the related-articles index. The
pipeline is::

    text.html.plain_text(html) -> detect_language -> tokenize -> drop STOP_WORDS -> stem_tokens

``analyze(text)`` runs the last four steps; ``normalize_for_quote(text)`` is the
separate, lossless-by-word normalization used to find a quoted passage verbatim.

Tokens
    Lowercase, ``ё`` -> ``е``, stress marks and soft hyphens dropped, split on
    anything that is not a letter or a digit. Tokens of one character are dropped,
    so numbers survive only from two digits up ("2026", "15") -- years and figures
    are strong signals in news. A token that mixes Latin and Cyrillic letters
    ("Kазахстан" typed with a Latin K) has its Latin look-alikes turned Cyrillic.

Russian and English
    Snowball stemmers (PyStemmer, C). Snowball's Russian stemmer reads the
    nominative of nouns in ``-ан/-ал`` and of surnames in ``-ов/-ев`` as verb or
    genitive-plural endings, which splits one word over two stems::

        Казахстан -> казахста    Казахстана -> казахста    Казахстане -> казахстан
        Токаев    -> тока        Токаева    -> токаев

    Two post-rules merge them back (only inside Snowball's RV region, i.e. after
    the first vowel, and never below 3 letters): a final ``н``/``л`` after
    ``а``/``я`` is dropped (казахстан -> казахста, канал -> кана, астан -> аста),
    and a final ``ов``/``ев`` is dropped (токаев -> тока, назарбаев -> назарба).
    They only ever merge stems, never split them. Known limit: nouns in ``-ай``
    keep one odd form (Китая -> кит, but Китай/Китае/Китаем -> кита).

Kazakh
    Kazakh is agglutinative and has no Snowball stemmer, and a dictionary
    morphological analyser is a heavy dependency for a similarity index. So this is
    a deliberate *light stemmer*: strip the longest known ending (plural, possessive,
    case; see ``_KK_SUFFIXES``), repeat up to 3 times, never leave a stem shorter
    than 3 letters or without a vowel, then truncate to ``KK_STEM_MAX`` (6)
    letters as a final normalizer for what the rules miss::

        Қазақстанның, Қазақстанда, Қазақстанға, Қазақстандағы -> қазақс
        мектептерде -> мектептер -> мектеп
        балаларының -> балалары -> балалар -> бала
        бағасында  -> бағасы -> баға        (pronominal -нда only after -ы/-і)

    Guards: the pronominal endings ``-н/-на/-не/-нда/-нде/-ндағы/-ндегі`` are
    stripped only after the possessive ``ы``/``і`` (so "Астана" stays), ``-нан/-нен``
    only after ``ы і м н ң``, and a stem ending in ``-стан`` (Қазақстан, Өзбекстан,
    Түркістан) is never cut further (its ``-тан`` is not the ablative).
    Known limits: words that merely end like a suffix are over-stemmed
    (Алматы -> алма "apple", but consistently: Алматыда -> алма too;
    алтын "gold" and алты "six" -> алт); derivational endings (-лық, -шы, -сыз) and verb forms other than -ды/-ді/-ты/-ті are kept;
    truncation merges some related words (министр/министрлік -> минист) and, rarely,
    unrelated ones sharing 6 letters. Kazakh texts typed without Kazakh letters
    ("казакстан") are not recognised as Kazakh.

Mixed scripts
    Each token is stemmed by its own script: Latin -> English; Cyrillic -> the
    document's language when that is ``ru`` or ``kk``, otherwise Kazakh when the
    token has Kazakh letters and Russian when not; digits are kept as they are.

Speed
    Stems are memoized per (language, token); building an index of 100,000
    documents sees each distinct word once.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence

import Stemmer

__all__ = [
    "KK_STEM_MAX",
    "STOP_WORDS",
    "analyze",
    "detect_language",
    "normalize_for_quote",
    "stem_tokens",
    "stem_words",
    "tokenize",
]

# --- characters -------------------------------------------------------------

KAZAKH_LETTERS = "әғқңөұүһі"
_CYRILLIC_CLASS = "а-яё" + KAZAKH_LETTERS
_CYRILLIC = re.compile(f"[{_CYRILLIC_CLASS}]")
_LATIN = re.compile("[a-z]")
_KAZAKH = re.compile(f"[{KAZAKH_LETTERS}]")

# Removed outright: they sit inside words. Soft hyphen, zero-width space/joiners,
# word joiner, BOM, combining grave/acute (Russian stress marks: "за́мок").
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0300\u0301"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")

# Latin letters that look like Cyrillic ones (upper or lower case), for repairing
# tokens that mix the two scripts.
_HOMOGLYPHS = str.maketrans("abcehikmoptxy", "авсенікмортху")
# A token with letters of both scripts has one of each side by side somewhere.
_MIXED_PAIR = f"[a-z][{_CYRILLIC_CLASS}]|[{_CYRILLIC_CLASS}][a-z]"
_MIXED_TOKEN = re.compile(f"[^\\W_]*(?:{_MIXED_PAIR})[^\\W_]*")
_TOKENS = re.compile(r"\w{2,}")  # tokens of one character are dropped
_LATIN_CODES = frozenset(range(ord("a"), ord("z") + 1))
_CYRILLIC_LETTERS = frozenset(
    [chr(c) for c in range(ord("а"), ord("я") + 1)] + ["ё", *KAZAKH_LETTERS]
)


def _fold(text: str) -> str:
    """Lowercase, NFC, ``ё`` -> ``е``, invisible characters and stress marks removed."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = text.lower().replace("ё", "е")
    # str.translate is slow per character; these are rare, so look first.
    return _INVISIBLE_RE.sub("", text) if _INVISIBLE_RE.search(text) else text


def _repair_mixed(match: re.Match[str]) -> str:
    return match.group().translate(_HOMOGLYPHS)


def tokenize(text: str) -> list[str]:
    """Split text into lowercase word tokens; see the module docstring for the rules.

    >>> tokenize("В 2026 году Ёлка-2 и «Қазақстан»!")
    ['2026', 'году', 'елка', 'қазақстан']
    """
    if not text:
        return []
    folded = _fold(text)
    if not folded.isascii() and _has_mixed_pair(folded):
        folded = _MIXED_TOKEN.sub(_repair_mixed, folded)
    # "_" separates words like any other non-word character; "\w" (then) is
    # faster to scan for than "[^\W_]".
    if "_" in folded:
        folded = folded.replace("_", " ")
    return _TOKENS.findall(folded)


def _has_mixed_pair(folded: str) -> bool:
    """Whether a Latin letter stands beside a Cyrillic one (``_MIXED_PAIR``), found
    from the Latin letters: few in Cyrillic text (often only the "n" of figure
    tokens), each found by ``str.find``, not by a pattern tried at every position."""
    latin = _LATIN_CODES.intersection(folded.encode("ascii", "ignore"))
    for code in latin:
        letter = chr(code)
        at = folded.find(letter)
        while at >= 0:
            if (at and folded[at - 1] in _CYRILLIC_LETTERS) or folded[at + 1 : at + 2] in (
                _CYRILLIC_LETTERS
            ):
                return True
            at = folded.find(letter, at + 1)
    return False


# --- stop words -------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(word.replace("ё", "е") for word in text.split())


_RU_STOP = _words(
    """
    а без более больше был была были было быть в вам вас весь во вот все всего всех вы
    где да даже для до его ее ей ему если есть еще же за здесь и из или им их к как
    какая какой когда кто ли между меня мне много может можно мой моя мы на над надо
    наш не него нее нет ни них ничего но ну о об один он она они оно опять от перед
    по под после потом потому почти при про раз с сам свою себе себя сейчас со совсем
    так также такой там тебя тем теперь то тогда того тоже только том тот три тут ты
    у уже хоть чего чем через что чтоб чтобы чуть эта эти этим этого этой этом этот
    эту это я всегда конечно впрочем разве иногда нельзя лучше хорошо наконец никогда
    зачем куда два другой вдруг будто будет будут ведь уж нибудь ним нам нас своей
    свой своих своим который которая которое которые которого которой котором которых
    которым которыми именно пока лишь однако поэтому кроме около вместе ряд всё её
    этих тех та те ту сообщает сообщил сообщила сообщили сообщило сообщается заявил
    заявила заявили заявляет отметил отметила отметили отмечается рассказал рассказала
    говорится пояснил пояснила добавил добавила напомним ранее словам данным
    информации год года году годом годы лет сегодня вчера завтра пресс фото видео
    источник читайте подробнее
    """
)

_KK_STOP = _words(
    """
    және мен бен пен бұл осы сол ол олар оны оның олардың біз біздің сіз сіздің сен
    менің мені маған оған бізге үшін деп туралы бойынша жылы жылғы жыл да де та те
    ғой ма ме ба бе па пе не немесе бірақ әрі яғни себебі сондай сондықтан сонымен
    ақ тағы әр барлық бәрі өз өзі өзінің бар жоқ емес еді екен болып болды болады
    болған болса бойы кейін дейін соң арқылы қарай басқа сияқты тек қана ғана әлі
    енді қазір бүгін кеше ертең мұнда онда сонда қайда қашан неге қалай кім нені
    неше алайда дегенмен бірге арасында атап айтқанда айтты айтқан деді деген
    делінген мәлім етті етіп ету хабарлады хабарлайды жазады жатыр жатқан тиіс керек
    мүмкін сәйкес қатысты байланысты ретінде шамамен сөзінше мәліметінше тұр
    """
)

_EN_STOP = _words(
    """
    a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing don down during
    each few for from further had has have having he her here hers herself him himself
    his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves also said says say told
    according reported reports year years mr mrs ms may might must shall us per via
    since yet still however already ago last new news photo video read more s t ve ll
    re d m get got one two image caption getty
    """
)

STOP_WORDS: dict[str, frozenset[str]] = {"ru": _RU_STOP, "kk": _KK_STOP, "en": _EN_STOP}

# --- detect_language --------------------------------------------------------

# Below this share of Kazakh letters among Cyrillic ones a text is Russian: a
# Russian article quoting «Қоркыт ата» has 1 in ~100. Kazakh prose runs at 8-12%,
# and a short Kazakh headline rarely below 4%.
_KK_SHARE_MIN = 0.03
# Function words that settle the borderline cases (3%+ Kazakh letters, e.g. a
# Russian headline about Қызылорда). Each is in one language only.
_RU_MARKERS = _words(
    "и в во что это как для по от из с к о об при на за но а или уже также был была "
    "были будет его ее их который которая которые"
)
_KK_MARKERS = _words(
    "және мен бен пен бұл осы үшін деп туралы бойынша жылы емес ол олар біз арқылы "
    "болып деген сәйкес"
)
_DETECT_CHARS = 3_000  # the head of a long text is enough (and this runs per document)
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """Return ``"kk"``, ``"ru"`` or ``"en"`` for a plain text; ``"ru"`` when unsure.

    Latin letters outnumbering Cyrillic ones mean English. Otherwise the text is
    Kazakh when Kazakh-only letters (ә ғ қ ң ө ұ ү һ і) are at least 3% of its
    Cyrillic letters and Russian function words do not outnumber Kazakh ones.
    """
    folded = _fold(text[:_DETECT_CHARS])
    cyrillic = len(_CYRILLIC.findall(folded))
    latin = len(_LATIN.findall(folded))
    if latin > cyrillic:
        return "en"
    if not cyrillic:
        return "ru"
    kazakh = sum(map(folded.count, KAZAKH_LETTERS))
    if kazakh / cyrillic < _KK_SHARE_MIN:
        return "ru"
    ru_hits = kk_hits = 0
    for word in _WORD.findall(folded):
        if word in _RU_MARKERS:
            ru_hits += 1
        elif word in _KK_MARKERS:
            kk_hits += 1
    return "ru" if ru_hits > kk_hits else "kk"


# --- stemming ---------------------------------------------------------------

KK_STEM_MAX = 6

_KK_SUFFIXES = _words(
    # plural
    "лар лер дар дер тар тер "
    # possessive
    "ым ім ың ің сы сі ы і мыз міз ымыз іміз ңыз ңіз ыңыз іңіз "
    # genitive, dative, accusative
    "ның нің дың дің тың тің ға ге қа ке на не ды ді ты ті ны ні н "
    # locative (+ attributive -ғы/-гі), ablative, instrumental
    "да де та те нда нде дағы дегі тағы тегі ндағы ндегі "
    "дан ден тан тен нан нен мен бен пен"
)
_KK_SUFFIX_LENGTHS = sorted({len(s) for s in _KK_SUFFIXES}, reverse=True)
# Pronominal endings follow the 3rd-person possessive -(с)ы/-(с)і only.
_KK_AFTER_POSSESSIVE = _words("н на не нда нде ндағы ндегі")
_KK_AFTER_NASAL = frozenset(("нан", "нен"))
_KK_MIN_STEM = 3
_VOWELS = frozenset("аәеёиоөуұүыіэюя")


def _kk_strip_once(word: str) -> str:
    if word.endswith("стан"):
        return word
    for length in _KK_SUFFIX_LENGTHS:
        if len(word) - length < _KK_MIN_STEM:
            continue
        suffix = word[-length:]
        if suffix not in _KK_SUFFIXES:
            continue
        stem = word[:-length]
        before = stem[-1]
        if suffix in _KK_AFTER_POSSESSIVE and before not in "ыі":
            continue
        if suffix in _KK_AFTER_NASAL and before not in "ыімнң":
            continue
        if not _VOWELS.intersection(stem):
            continue
        return stem
    return word


def _kk_stem(word: str) -> str:
    for _ in range(3):
        stripped = _kk_strip_once(word)
        if stripped == word:
            break
        word = stripped
    return word[:KK_STEM_MAX]


def _ru_fix(stem: str) -> str:
    """Merge the stems Snowball splits; see the module docstring."""
    if len(stem) <= 3 or not ((stem[-1] in "нл" and stem[-2] in "ая") or stem[-2:] in ("ов", "ев")):
        return stem  # neither rule can apply (most stems): skip looking for RV
    # RV: the part after the first vowel. Both rules act only inside it.
    rv = next((i + 1 for i, ch in enumerate(stem) if ch in _VOWELS), len(stem))
    if len(stem) > 3 and stem[-1] in "нл" and stem[-2] in "ая" and len(stem) - 2 >= rv:
        return stem[:-1]
    if len(stem) > 4 and stem[-2:] in ("ов", "ев") and len(stem) - 2 >= rv:
        return stem[:-2]
    return stem


_local = threading.local()  # PyStemmer objects must not be shared between threads


def _snowball(name: str) -> Stemmer.Stemmer:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stemmer = stemmers.get(name)
    if stemmer is None:
        # Our own cache sits in front of it; PyStemmer's would only cost time.
        stemmer = stemmers[name] = Stemmer.Stemmer(name, 0)
    return stemmer


# Language codes feeds write for another: "kz", Kazakhstan's country code, is what
# Kazakh CMSs write for Kazakh (kk).
LANGUAGE_ALIASES = {"kz": "kk"}


def primary_language(lang: str | None) -> str:
    """ "ru-RU" -> "ru"; "kz" (a common mistake for Kazakh) -> "kk"; "" for none."""
    if not lang:
        return ""
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return LANGUAGE_ALIASES.get(code, code)


def _stem_one(token: str, lang: str) -> str:
    if token.isdigit():
        return token
    if _CYRILLIC.search(token) is None:
        if _LATIN.search(token) is None:  # other scripts: keep as they are
            return token
        return _snowball("english").stemWord(token)
    if lang == "kk" or (lang != "ru" and _KAZAKH.search(token)):
        return _kk_stem(token)
    return _ru_fix(_snowball("russian").stemWord(token))


_CACHE_MAX = 500_000  # distinct tokens per language before the memo starts over
_caches: dict[str, dict[str, str]] = {}


def stem_tokens(tokens: list[str], lang: str) -> list[str]:
    """Stem tokens from ``tokenize`` for a document in ``lang`` ("ru", "kk", "en").

    Order and duplicates are kept. Each token is stemmed by its own script (see the
    module docstring); an unknown ``lang`` stems Cyrillic as Russian, or as Kazakh
    when the token has Kazakh letters.
    """
    lang = primary_language(lang)
    cache = _caches.get(lang)
    if cache is None:
        cache = _caches[lang] = {}
    elif len(cache) > _CACHE_MAX:
        cache.clear()
    stems = []
    for token in tokens:
        stem = cache.get(token)
        if stem is None:
            stem = cache[token] = _stem_one(token, lang)
        stems.append(stem)
    return stems


def stem_words(words: Sequence[str], lang: str) -> list[str]:
    """:func:`stem_tokens` of distinct tokens, not memoized (for a caller that keeps
    its own table of word forms): the same stems, the Snowball ones stemmed in one
    call per language instead of one call per token."""
    lang = primary_language(lang)
    stems = list(words)
    russian: list[int] = []
    english: list[int] = []
    for i, token in enumerate(words):
        if token.isascii():
            if token.isdigit():
                continue
            if _LATIN.search(token) is None:
                stems[i] = _stem_one(token, lang)
            else:
                english.append(i)
        elif _CYRILLIC.search(token) is None:
            stems[i] = _stem_one(token, lang)
        elif lang == "kk" or (lang != "ru" and _KAZAKH.search(token)):
            stems[i] = _kk_stem(token)
        else:
            russian.append(i)
    for name, at, fix in (("russian", russian, _ru_fix), ("english", english, None)):
        if at:
            stemmed = _snowball(name).stemWords([words[i] for i in at])
            if fix is None:
                for i, stem in zip(at, stemmed, strict=True):
                    stems[i] = stem
                continue
            # _ru_fix changes only stems with these endings (most are left as they are).
            for i, stem in zip(at, stemmed, strict=True):
                stems[i] = fix(stem) if stem.endswith(_RU_FIX_ENDINGS) else stem
    return stems


_RU_FIX_ENDINGS = ("ан", "ал", "ян", "ял", "ов", "ев")


def analyze(text: str, lang: str | None = None) -> list[str]:
    """Tokenize, drop the stop words of ``lang`` (detected when None), stem.

    Returns the stems in text order, duplicates kept.
    """
    lang = primary_language(lang) or detect_language(text)
    stop = STOP_WORDS.get(lang, frozenset())
    return stem_tokens([t for t in tokenize(text) if t not in stop], lang)


# --- normalize_for_quote ----------------------------------------------------

_NOT_WORD = re.compile(r"[\W_]+")


def normalize_for_quote(text: str) -> str:
    """Normalize text for finding a quote verbatim: every word kept, in order.

    Lowercase, ``ё`` -> ``е``, invisible characters and stress marks removed, and
    every run of punctuation, quotes («» „“ "" ''), dashes, ellipses (… or ...)
    and whitespace made one space. So ``«Мы придём…» — сказал он`` and
    ``"Мы придем..." - сказал он`` both give ``мы придем сказал он``.
    """
    if not text:
        return ""
    return _NOT_WORD.sub(" ", _fold(text)).strip()


# --- many texts at once ---------------------------------------------------------


class TokenBatch:
    """The tokens of many texts (:func:`tokenize_batch`): for each, its hash
    (:func:`token_hashes`: equal tokens, equal hashes) and its text's number, the texts
    in order and each text's tokens in order; :meth:`words` gives tokens as strings."""

    def __init__(self, hashes, text, where, parts: list) -> None:
        self.hashes = hashes  # int64
        self.text = text  # int64, ascending
        # Where each token's string is: part << 40 | its number in that part; a part
        # is (folded code units, starts, lengths) or a list of strings.
        self._where = where
        self._parts = parts

    def __len__(self) -> int:
        return len(self.hashes)

    def words(self, at) -> list[str]:
        """The tokens at positions ``at`` (an integer array), as strings."""
        import numpy as np

        where = self._where[at]
        part = where >> 40
        words: list[str] = [""] * len(where)
        for p in np.unique(part).tolist():
            picked = np.flatnonzero(part == p)
            local = where[picked] & _LOW40
            source = self._parts[p]
            if isinstance(source, list):
                found = [source[i] for i in local.tolist()]
            else:
                found = _spans_text(*source, local)
            for i, word in zip(picked.tolist(), found, strict=True):
                words[i] = word
        return words


_LOW40 = (1 << 40) - 1


def _spans_text(units, starts, lengths, at) -> list[str]:
    """The tokens ``at`` (their numbers) of a slice's folded code units, as strings:
    their units gathered, a NUL after each (no token holds one), decoded at once; not
    the whole slice decoded for the few new words a later batch holds.  (A token holds
    no surrogate: those are never word characters here.)"""
    import numpy as np

    if not len(at):
        return []
    sizes = lengths[at]
    ends = np.cumsum(sizes + 1)  # each token's NUL's place, + 1
    gathered = np.zeros(int(ends[-1]), np.uint16)
    inside = np.arange(int(ends[-1])) - np.repeat(ends - sizes - 1, sizes + 1)
    take = inside < np.repeat(sizes, sizes + 1)  # not the NUL
    gathered[take] = units[(np.repeat(starts[at], sizes + 1) + inside)[take]]
    return gathered.tobytes().decode("utf-16-le").split("\0")[:-1]


def tokenize_batch(texts: Sequence[str]) -> TokenBatch:
    """:func:`tokenize` of each text, as one :class:`TokenBatch`: the same tokens (a
    test checks), found by numpy over the texts' code units (folded by a table, word
    characters told by a table) instead of by a pattern and a string each.  Texts the
    tables cannot fold alone (not in NFC; with a character past the BMP, İ or Σ,
    whose lowercase depends on more than itself, a character folding removes, or
    Latin and Cyrillic letters side by side) are tokenized by :func:`tokenize`."""
    import numpy as np

    n = len(texts)
    # Not in NFC (tokenize normalizes such a text first): only a text holding a code
    # unit the kind table marks (_code_tables) can be, so it is not asked of each.
    slow: set[int] = set()
    hashes: list = []
    numbers: list = []
    where: list = []
    parts: list = []
    first = 0
    while first < n:  # slices of ~1,000,000 characters: the arrays stay small
        last, size = first, 0
        while last < n and (last == first or size + len(texts[last]) < _SLICE_CHARS):
            size += len(texts[last]) + 1
            last += 1
        h, text, starts, lengths, units = _fast_tokens(texts, first, last, slow)
        hashes.append(h)
        numbers.append(text)
        where.append(len(parts) << 40 | np.arange(len(h), dtype=np.int64))
        parts.append((units, starts, lengths))
        first = last
    if slow:
        words: list[str] = []
        owners: list[int] = []
        for i in sorted(slow):
            tokens = tokenize(texts[i])
            words += tokens
            owners += [i] * len(tokens)
        hashes.append(token_hashes(words))
        numbers.append(np.array(owners, np.int64))
        where.append(len(parts) << 40 | np.arange(len(words), dtype=np.int64))
        parts.append(words)
    joined = [concatenated(a) for a in (hashes, numbers, where)]
    if slow:
        order = np.argsort(joined[1], kind="stable")
        joined = [a[order] for a in joined]
    return TokenBatch(*joined, parts)


def concatenated(arrays: list):
    import numpy as np

    return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)


_SLICE_CHARS = 1_000_000


def _fast_tokens(texts: Sequence[str], first: int, last: int, slow: set[int]):
    """(hashes, text numbers, starts, lengths, folded code units) of the tokens of
    ``texts[first:last]`` (see :func:`tokenize_batch`), but those of the texts in
    ``slow`` and of the texts it adds there (the tables cannot fold them alone)."""
    import numpy as np

    fold, kind = _code_tables()
    chosen = texts[first:last]
    joined = "\0".join(chosen)
    data = joined.encode("utf-16-le", "surrogatepass")
    sizes = np.fromiter(map(len, chosen), np.int64, len(chosen)) + 1
    offsets = np.cumsum(sizes) - sizes  # where each text starts
    flagged = {i for i in slow if first <= i < last}
    if len(data) == 2 * len(joined):
        codes = np.frombuffer(data, np.uint16)
    else:  # characters past the BMP: their texts are tokenize's
        wide = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).copy()
        past = np.flatnonzero(wide > 0xFFFF)
        flagged.update((first + np.searchsorted(offsets, past, "right") - 1).tolist())
        wide[past] = 0
        codes = wide.astype(np.uint16)
    # Looked up by intp indices: numpy gathers by a uint16 index array ~4 times slower
    # (it converts each index on the way), so they are converted once, for both.
    index = codes.astype(np.intp)
    kinds = np.take(kind, index)
    # The few code units to look at: those folding cannot do alone, and Latin letters
    # (few in Cyrillic text), which flag their text beside a Cyrillic letter.
    odd = np.flatnonzero(kinds & (_IS_SPECIAL | _IS_REMOVED | _IS_LATIN))
    if len(odd):
        latin = (kinds[odd] & _IS_LATIN) != 0
        at = odd[latin]
        beside = kinds[np.maximum(at - 1, 0)] | kinds[np.minimum(at + 1, len(kinds) - 1)]
        at = np.concatenate([odd[~latin], at[(beside & _IS_CYRILLIC) != 0]])
        if len(at):
            flagged.update((first + np.searchsorted(offsets, at, "right") - 1).tolist())
    # Tokens start and end where a word character follows another kind or the other
    # way round: ~3 times faster than a diff of the whole padded text.
    inside = (kinds & _IS_WORD).view(bool)
    edges = np.flatnonzero(inside[1:] != inside[:-1]) + 1
    if len(inside) and (inside[0] or inside[-1]):  # a token at either end
        head = np.zeros(int(inside[0]), edges.dtype)
        edges = np.concatenate([head, edges, np.full(int(inside[-1]), len(inside))])
    starts, lengths = edges[::2], edges[1::2] - edges[::2]
    long = lengths >= 2
    starts, lengths = starts[long], lengths[long]
    # Each token's text: how many tokens each text holds, from where the texts start
    # among the tokens' starts (a search for each of ~4,000 texts, not each of
    # ~1,000,000 tokens).
    in_text = np.diff(np.append(np.searchsorted(starts, offsets), len(starts)))
    text = np.repeat(np.arange(first, last, dtype=np.int64), in_text)
    if flagged:
        keep = ~np.isin(text, list(flagged))
        starts, lengths, text = starts[keep], lengths[keep], text[keep]
        slow.update(flagged)
    folded = np.take(fold, index)
    return _span_hashes(folded, starts, lengths), text, starts, lengths, folded


def token_hashes(words: Sequence[str]):
    """The hash of each token (none holding a NUL character), as an int64 array: a
    polynomial of its code points modulo 2**64, its length and MurmurHash3's
    finalizer mixed in; what :class:`TokenBatch` gives for the same token."""
    import numpy as np

    if not words:
        return np.zeros(0, np.int64)
    codes = np.frombuffer(("\0".join(words)).encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter(map(len, words), np.int64, len(words))
    starts = np.cumsum(lengths + 1) - lengths - 1
    return _span_hashes(codes, starts, lengths)


def hash_powers(size: int) -> tuple:
    """``M**i`` and ``M**-i`` modulo 2**64 (numpy uint64) for every ``i`` up to at least
    ``size``: the weights of the running sums that hash spans of code units (here and
    in ``related``'s term hashes), grown by doubling and kept for the next call."""
    import numpy as np

    if len(_POWERS[0]) <= size:
        grown = max(size + 1, 2 * len(_POWERS[0]))
        for i, base in enumerate((_MULTIPLIER, _INVERSE)):
            powers = np.full(grown, base, np.uint64)
            powers[0] = 1
            _POWERS[i] = np.cumprod(powers)  # wraps modulo 2**64, as it should
    return _POWERS[0], _POWERS[1]


def _span_hashes(codes, starts, lengths):
    """The hashes of the spans (starts, lengths) of code units: sum of c * M**i over a
    span's units, by differences of one running sum over all of them (each weighed
    by M**position) brought down by M**-start."""
    import numpy as np

    if not len(starts):
        return np.zeros(0, np.int64)
    size = len(codes)
    power, inverse = hash_powers(size)
    running = np.zeros(size + 1, np.uint64)
    np.multiply(codes, power[:size], out=running[1:])
    np.cumsum(running, out=running)
    h = running[starts + lengths] - running[starts]
    h *= inverse[starts]
    h ^= lengths.astype(np.uint64)
    shift = np.uint64(33)
    h ^= h >> shift
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> shift
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> shift
    return h.view(np.int64)


_MULTIPLIER = 0x9E3779B97F4A7C15
_INVERSE = pow(_MULTIPLIER, -1, 1 << 64)
_POWERS: list = [[], []]  # _MULTIPLIER**i, _INVERSE**i
# A code unit's kind, bits: a word character (\w but "_") once folded, a Latin
# letter a-z once folded, a Cyrillic one, removed by folding, folded differently in
# its text than alone or by which a text may not be in NFC.
_IS_WORD, _IS_LATIN, _IS_CYRILLIC, _IS_REMOVED, _IS_SPECIAL = 1, 2, 4, 8, 16


def _code_tables():
    """By code unit (of the BMP): its folded one (lowercase, ``ё`` -> ``е``), and its
    kind (bits above).  Made when first needed (~0.03 s)."""
    if _TABLES:
        return _TABLES
    import numpy as np

    size = 0x10000
    fold = np.arange(size, dtype=np.uint16)
    kind = np.zeros(size, np.uint8)
    for code in range(size):
        char = chr(code)
        lower = char.lower()
        if len(lower) != 1 or 0xD800 <= code < 0xE000:
            kind[code] = _IS_SPECIAL
            continue
        folded = lower.replace("ё", "е")
        fold[code] = ord(folded)
        if folded.isalnum():  # what \w matches, but "_" (a separator here)
            kind[code] |= _IS_WORD
        if "a" <= folded <= "z":
            kind[code] |= _IS_LATIN
        elif folded in _CYRILLIC_LETTERS:
            kind[code] |= _IS_CYRILLIC
    kind[ord("Σ")] = _IS_SPECIAL  # final or not: its lowercase depends on the next letter
    # A text is in NFC when none of its characters is one NFC changes, a combining
    # mark (which may be out of canonical order) or one that may compose with the
    # character before it (the second of a canonical pair, Hangul's vowels and final
    # consonants): NFC's quick check then says yes.  Such texts are rare and go to
    # tokenize, instead of asking unicodedata.is_normalized of every text (~1 ns a
    # character).  No pair past the BMP ends in a BMP character (those texts go to
    # tokenize anyway).
    for code in range(0x80, size):
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
            kind[code] |= _IS_SPECIAL
        parts = unicodedata.decomposition(char).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            kind[int(parts[1], 16)] |= _IS_SPECIAL
    kind[0x1161:0x1176] |= _IS_SPECIAL  # Hangul vowels (jungseong)
    kind[0x11A8:0x11C3] |= _IS_SPECIAL  # Hangul final consonants (jongseong)
    for char in _INVISIBLE:
        kind[ord(char)] = _IS_REMOVED
    _TABLES.extend([fold, kind])
    return _TABLES


_TABLES: list = []
