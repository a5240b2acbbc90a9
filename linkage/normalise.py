"""Name normalisation that survives transliteration.

The same Arabic, Persian, Tigrinya or Ukrainian name reaches the hub in many Latin spellings
(Mohammed / Muhammad / Mohamad, Schewtschenko / Shevchenko, Nadschib / Najib, Öztürk / Oeztuerk).
Matching needs keys on which such spellings agree while different names still differ:

* ``fold``        Unicode → lower-case ASCII letters, Cyrillic transliterated, punctuation removed.
* ``canonical``   a spelling-habit-free form: German and English transliteration habits
                  (sch/sh, tsch/ch, dsch/j, w/v, kh/ch, y/j/i, oe/ö …) rewritten to one form.
* ``skeleton``    first letter plus the consonants of the canonical form: vowels are where
                  transliterations of Semitic and Slavic names disagree most.
* ``name_tokens`` name parts, tolerant of hyphens, joined compounds and articles (Al-, El-).

All functions are pure and idempotent on their own output; no keys, no database.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from importlib import resources

import cologne_phonetics

# Cyrillic → Latin (Ukrainian/Russian passport style); also turns homoglyphs (Cyrillic "о" in a
# Latin name) into the Latin letter they look like.
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    "ы": "y",
    "э": "e",
    "ё": "e",
    "ъ": "",
}
_SPECIAL_LETTERS = {
    "ß": "ss",
    "æ": "ae",
    "ø": "o",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ı": "i",
    "ð": "d",
    "þ": "th",
    # scholarly (Ševčenko) and Turkish (Şükran, Çelik, Doğan) letters spell sounds that other
    # transliterations write with two letters; NFKD would drop the diacritic and the sound
    "š": "sh",
    "č": "ch",
    "ž": "zh",
    "ş": "sh",
    "ç": "ch",
    "ğ": "",
    "ǧ": "g",
}
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue"}

# Ordered rewrite rules: longest German/English clusters first. Each pair maps spellings of one
# sound onto one form; the order matters (dsch before sch, tsch before ch).
_REWRITES: tuple[tuple[str, str], ...] = (
    ("dsch", "j"),
    ("tsch", "ch"),
    ("sch", "sh"),
    ("dzh", "j"),
    ("zh", "sh"),
    ("dj", "j"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("gh", "g"),
    ("kh", "h"),
    ("ch", "h"),
    ("ck", "k"),
    ("sh", "s"),
    ("ts", "z"),
    ("tz", "z"),
    ("ae", "a"),
    ("oe", "o"),
    ("ue", "u"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ei", "i"),
    ("w", "v"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
    ("y", "i"),
    ("j", "i"),
    ("e", "i"),
)
_VOWELS = frozenset("aeiou")
_ARTICLES = frozenset({"al", "el", "ul", "ed", "ad", "as", "ar", "an", "at", "az"})
_NON_LETTER = re.compile(r"[^a-z]+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case ASCII letters and single spaces; umlauts kept distinguishable as ae/oe/ue."""
    text = _CAMEL_SPLIT.sub(" ", text).lower()
    out: list[str] = []
    for char in text:
        if char in _UMLAUTS:
            out.append(_UMLAUTS[char])
        elif char in _SPECIAL_LETTERS:
            out.append(_SPECIAL_LETTERS[char])
        elif char in _CYRILLIC:
            out.append(_CYRILLIC[char])
        elif char in "'’`ʼʻ´":
            continue  # Wa'il = Wail: apostrophes mark a glottal stop, not a word break
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join(_NON_LETTER.split("".join(out))).strip()


@lru_cache(maxsize=200_000)
def canonical(token: str) -> str:
    """One spelling for the many transliterations of a single name part."""
    key = token
    for old, new in _REWRITES:
        if old in key:
            key = key.replace(old, new)
    # a silent or aspirated h after a letter (Ahmed/Ahmad/Achmed, Fatemeh/Fatima) carries
    # little: transliterations drop and add it freely
    key = key[:1] + key[1:].replace("h", "")
    return _squeeze(key)


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """First letter and consonants of the canonical form (Mohammed, Muhammad → mmd)."""
    key = canonical(token)
    if not key:
        return ""
    return _squeeze(key[0] + "".join(c for c in key[1:] if c not in _VOWELS))


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    """Kölner Phonetik of the folded token: how a German clerk hears a name they write down."""
    return "".join(code for _word, code in cologne_phonetics.encode(token)) if token else ""


def _squeeze(text: str) -> str:
    """Collapse doubled letters: transliterations double and undouble freely (Saadat, Sadat)."""
    out: list[str] = []
    for char in text:
        if not out or out[-1] != char:
            out.append(char)
    return "".join(out)


def name_tokens(name: str) -> list[str]:
    """Folded name parts; articles dropped, glued articles split off (Alkhatib → khatib)."""
    tokens: list[str] = []
    for part in fold(name).split():
        if part in _ARTICLES:
            continue
        tokens.append(part)
    return tokens


def article_free(token: str) -> str | None:
    """The token without a glued Arabic article (alkhatib → khatib), or None if it has none."""
    for article in ("al", "el"):
        rest = token[len(article) :]
        if token.startswith(article) and len(rest) >= 4 and rest[0] not in _VOWELS:
            return rest
    return None


@lru_cache(maxsize=1)
def _variant_groups() -> dict[str, str]:
    """Canonical form → group representative, from mappings/name_variants.csv (data, not code)."""
    groups: dict[str, str] = {}
    text = resources.files("kim_hub.mappings").joinpath("name_variants.csv").read_text(encoding="utf-8")
    for row in csv.reader(line for line in text.splitlines() if line and not line.startswith("#")):
        spellings = [canonical(fold(s)) for s in row if s.strip()]
        if not spellings:
            continue
        representative = spellings[0]
        for spelling in spellings:
            groups.setdefault(spelling, representative)
    return groups


def variant_group(canonical_token: str) -> str:
    """The name-variant group of a canonical token (itself when the dictionary has none)."""
    return _variant_groups().get(canonical_token, canonical_token)


@lru_cache(maxsize=1)
def _call_names() -> dict[str, tuple[str, ...]]:
    """Call name (folded, as spelt) → the formal given names it stands for, from
    mappings/call_names.csv (data, not code)."""
    formal_of: dict[str, list[str]] = {}
    text = resources.files("kim_hub.mappings").joinpath("call_names.csv").read_text(encoding="utf-8")
    for row in csv.reader(line for line in text.splitlines() if line and not line.startswith("#")):
        names = [fold(s) for s in row if s.strip()]
        if len(names) < 2:
            continue
        formal, calls = names[0], names[1:]
        for call in calls:
            formal_of.setdefault(call, []).append(formal)
    return {call: tuple(dict.fromkeys(formals)) for call, formals in formal_of.items()}


def formal_names(token: str) -> tuple[str, ...]:
    """The formal given names a folded given-name token is a call name of (Sasha → Oleksandr,
    Oleksandra; Mo → Mohammed), none for a name that is no call name.

    Matched as spelt (folded), not by the canonical form: canonical forms of short names collide
    (Lina and Lena are one canonical form, and Lina is a name of its own, not Olena's call name),
    so the list spells out the call names' usual spellings itself (Sasha, Sascha)."""
    return _call_names().get(token, ())
