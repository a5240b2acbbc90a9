"""How one name becomes many strings: transliteration variants, intake habits, typos.

Matching must survive what DOMAIN.md lists under "Names and birth dates": one original name
has several Latin spellings (international/English-French style vs German habits such as
sch, tsch, dsch, w for v), the authority writes capitals with umlauts spelled out, articles
are kept, dropped or joined, compound names are split or merged, and people type badly.

Variants of a name are derived once by rules per script family (and a few listed groups where
rules cannot reach, e.g. Ukrainian vs Russian forms) and cached, so rendering a record costs
a dictionary look-up and a random draw per name part.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

INTL = "intl"  # English/French/passport-style transliteration habits
DE = "de"  # German spelling habits (sch, tsch, dsch, ch for kh, w for v, j for y, ue for ü)

MAX_VARIANTS_PER_NAME = 16
_Rule = tuple[re.Pattern[str], tuple[str, ...], str]


def _rules(*specs: tuple[str, tuple[str, ...], str]) -> tuple[_Rule, ...]:
    """Compile (pattern, replacements, style) rule specs."""
    return tuple((re.compile(p), reps, style) for p, reps, style in specs)


_DOUBLE_TO_SINGLE = (r"([bdfklmnrst])\1", (r"\1",), INTL)

RULES: dict[str, tuple[_Rule, ...]] = {
    "arabic": _rules(
        (r"ou", ("u", "oo"), INTL),
        (r"oo", ("u", "ou"), INTL),
        (r"ee", ("i",), INTL),
        (r"(?<=m)a(?=d$)", ("e",), INTL),
        (r"(?<=m)e(?=d$)", ("a",), INTL),
        (r"(?<=[ljsw])i(?=d$)", ("e",), INTL),
        (r"(?<=[ljsw])e(?=d$)", ("i",), INTL),
        (r"(?<!^)ei", ("ai", "ey"), INTL),
        (r"ai", ("ei", "ay"), INTL),
        (r"q", ("k", "g"), INTL),
        (r"kh", ("h",), INTL),
        (r"kh", ("ch",), DE),
        (r"sh", ("ch",), INTL),
        (r"sh", ("sch",), DE),
        (r"j", ("dj", "g"), INTL),
        (r"j", ("dsch",), DE),
        (r"y(?=[aeiou])", ("j",), DE),
        (r"th", ("t", "s"), INTL),
        (r"dh", ("d", "z"), INTL),
        (r"gh", ("g",), INTL),
        (r"aa", ("a",), INTL),
        (r"ah$", ("a",), INTL),
        (r"(?<=[^aeiou])a$", ("ah",), INTL),
        (r"^o", ("u",), INTL),
        (r"^u", ("o",), INTL),
        (r"(?<=[aeiou])([ms])(?=[aeiou])", (r"\1\1",), INTL),
        _DOUBLE_TO_SINGLE,
        (r"^abdul ", ("abdel ", "abd al-", "abdul-", "abd el "), INTL),
        (r"w", ("ou",), INTL),
    ),
    "persian": _rules(
        (r"eh$", ("e", "a", "ah"), INTL),
        (r"ou", ("u",), INTL),
        (r"oo", ("u", "ou"), INTL),
        (r"ee", ("i",), INTL),
        (r"kh", ("x", "h"), INTL),
        (r"kh", ("ch",), DE),
        (r"gh", ("q", "g"), INTL),
        (r"q", ("gh", "k"), INTL),
        (r"sh", ("sch",), DE),
        (r"j", ("dj",), INTL),
        (r"j", ("dsch",), DE),
        (r"zh", ("j",), INTL),
        (r"zh", ("sch",), DE),
        (r"y(?=[aeiou])", ("j",), DE),
        (r"y", ("i",), INTL),
        (r"v", ("w",), DE),
        (r"w", ("v",), INTL),
        (r"ei", ("ey",), INTL),
        (r"ey", ("ei",), INTL),
        (r"(?<=[ljsw])i(?=d$)", ("e",), INTL),
        (r"(?<=[ljsw])e(?=d$)", ("i",), INTL),
        (r"a(?=d$)", ("e",), INTL),
        (r"ullah$", (" ullah", "-ullah", "ulla", "ollah"), INTL),
        (r"^abdul ", ("abdul", "abdol "), INTL),
        (r"^gul ", ("gul",), INTL),
        (r" shah$", ("shah", " schah"), INTL),
        _DOUBLE_TO_SINGLE,
        (r"^o", ("u",), INTL),
    ),
    "kurdish": _rules(
        (r"ê", ("e",), INTL),
        (r"î", ("i", "ee"), INTL),
        (r"û", ("u", "oo"), INTL),
        (r"x", ("kh",), INTL),
        (r"x", ("ch",), DE),
        (r"ş", ("sh",), INTL),
        (r"ş", ("sch",), DE),
        (r"ç", ("ch",), INTL),
        (r"ç", ("tsch",), DE),
        (r"c", ("j",), INTL),
        (r"c", ("dsch",), DE),
        (r"w", ("v",), INTL),
        (r"v", ("w",), DE),
        (r"sh", ("sch",), DE),
        (r"kh", ("ch",), DE),
        (r"^y", ("j",), DE),
        (r"e(?=[dm]$)", ("a",), INTL),
        (r"ou", ("u",), INTL),
        _DOUBLE_TO_SINGLE,
    ),
    "cyrillic": _rules(
        (r"shch", ("sch", "shtch"), INTL),
        (r"shch", ("schtsch",), DE),
        (r"sh(?!ch)", ("sch",), DE),
        (r"(?<![sx])ch", ("tsch",), DE),
        (r"kh", ("h",), INTL),
        (r"kh", ("ch",), DE),
        (r"zh", ("j", "z"), INTL),
        (r"zh", ("sch",), DE),
        (r"ts", ("c", "tz"), INTL),
        (r"ts", ("z",), DE),
        (r"v", ("w",), DE),
        (r"^y", ("j",), DE),
        (r"(?<=[aeiou])y(?=[aeiou])", ("j",), DE),
        (r"^y", ("i",), INTL),
        (r"iia$", ("ia", "iya"), INTL),
        (r"iia$", ("ija",), DE),
        (r"ii$", ("iy", "i", "y"), INTL),
        (r"ii$", ("ij",), DE),
        (r"(?<!i)ia", ("ya",), INTL),
        (r"(?<!i)ia", ("ja",), DE),
        (r"iu", ("yu",), INTL),
        (r"iu", ("ju",), DE),
        (r"(?<![kzscg])h", ("g",), INTL),
        (r"(?<=[^aeiou])y", ("i",), INTL),
        (r"ks", ("x",), INTL),
        (r"kyi$", ("ky", "kiy", "ki"), INTL),
        (r"kyi$", ("kij",), DE),
        (r"yi$", ("iy",), INTL),
        (r"([lnst])\1", (r"\1",), INTL),
    ),
    "turkish": _rules(
        (r"ş", ("s", "sh"), INTL),
        (r"ş", ("sch",), DE),
        (r"ç", ("c", "ch"), INTL),
        (r"ç", ("tsch",), DE),
        (r"ğ", ("g", ""), INTL),
        (r"ı", ("i",), INTL),
        (r"ö", ("o",), INTL),
        (r"ö", ("oe",), DE),
        (r"ü", ("u",), INTL),
        (r"ü", ("ue",), DE),
        (r"^y", ("j",), DE),
        (r"c(?=[aeiou])", ("dsch",), DE),
        (r"t$", ("d",), INTL),
        _DOUBLE_TO_SINGLE,
    ),
    "albanian": _rules(
        (r"ë$", ("", "e"), INTL),
        (r"ë(?!$)", ("e",), INTL),
        (r"ç", ("c", "ch"), INTL),
        (r"ç", ("tsch",), DE),
        (r"xh", ("dzh", "x", "dj"), INTL),
        (r"xh", ("dsch",), DE),
        (r"sh", ("sch",), DE),
        (r"zh", ("j",), INTL),
        (r"zh", ("sch",), DE),
        (r"q", ("c", "qu"), INTL),
        (r"q", ("tsch",), DE),
        (r"y", ("i",), INTL),
        (r"y", ("ü",), DE),
        (r"rr", ("r",), INTL),
        (r"ll", ("l",), INTL),
        (r"^j", ("y",), INTL),
    ),
    "tigrinya": _rules(
        (r"gh", ("g",), INTL),
        (r"ae", ("a", "e"), INTL),
        (r"ay$", ("ai", "aye", "ey"), INTL),
        (r"ai$", ("ay",), INTL),
        (r"ts", ("tz", "s"), INTL),
        (r"ts", ("z",), DE),
        (r"(?<!^)ie", ("i", "iye"), INTL),
        (r"^y", ("j",), DE),
        (r"o(?=m$)", ("u",), INTL),
        (r"e(?=r)", ("i",), INTL),
        (r"(?<=n)e$", ("",), INTL),
        (r"sh", ("sch",), DE),
        (r"ch", ("tsch",), DE),
        (r"q", ("k",), INTL),
        (r"ph", ("f",), INTL),
        _DOUBLE_TO_SINGLE,
        (r"w", ("u",), INTL),
    ),
    "somali": _rules(
        (r"^h(?=[aeiou])", ("x",), INTL),
        (r"aa", ("a",), INTL),
        (r"(?<=[^aeiou])o$", ("a",), INTL),
        (r"ii", ("i", "ee"), INTL),
        (r"uu", ("u", "oo"), INTL),
        (r"dh", ("d",), INTL),
        (r"sh", ("sch",), DE),
        (r"kh", ("ch",), DE),
        (r"j", ("dsch",), DE),
        (r"^abdi", ("abdul ", "abdi ", "cabdi"), INTL),
        (r"^y", ("j",), DE),
        _DOUBLE_TO_SINGLE,
    ),
    "westafrican": _rules(
        (r"ou", ("u",), INTL),
        (r"[éè]", ("e",), INTL),
        (r"ï", ("i",), INTL),
        (r"ee", ("e", "i"), INTL),
        (r"oo", ("o", "u"), INTL),
        (r"y", ("i",), INTL),
        (r"y(?=[aeiou])", ("j",), DE),
        (r"c(?=[aou])", ("k",), DE),
        (r"ch", ("tsch",), DE),
        (r"sh", ("sch",), DE),
        (r"^oluwa", ("olu",), INTL),
        _DOUBLE_TO_SINGLE,
    ),
    "georgian": _rules(
        (r"sh", ("sch",), DE),
        (r"dz", ("ds",), DE),
        (r"kh", ("h", "q"), INTL),
        (r"kh", ("ch",), DE),
        (r"ts", ("c",), INTL),
        (r"ts", ("z",), DE),
        (r"v", ("w",), DE),
        (r"j", ("dzh", "dj"), INTL),
        (r"j", ("dsch",), DE),
        (r"gh", ("g",), INTL),
        (r"zh", ("sch",), DE),
        (r"ch", ("tsch",), DE),
        (r"i$", ("y",), INTL),
        (r"ia$", ("iya",), INTL),
    ),
}

# Spellings that rules cannot reach (other-language forms of the same name), per rule set.
LISTED_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "arabic": {
        "mohammed": ("muhammad", "mohamad", "mohamed", "mohammad", "muhammed", "mouhamad", "mhd"),
        "youssef": ("yusuf", "yousef", "yosef", "jussuf", "yousif"),
        "hussein": ("husain", "hussain", "husein", "husayn", "houssein"),
        "abdul rahman": ("abdulrahman", "abdelrahman", "abdurrahman", "abd al-rahman", "abdul-rahman"),
        "abdul aziz": ("abdulaziz", "abdelaziz", "abd al-aziz"),
        "abdul karim": ("abdulkarim", "abdelkarim", "abd al-karim"),
        "abdul hadi": ("abdulhadi", "abdelhadi"),
        "nour eddin": ("nureddin", "nour al-din", "noureddine", "nuraddin"),
        "mustafa": ("mostafa", "moustafa", "mustapha"),
        "fatima": ("fatma", "fatema", "fatimah", "fatme"),
        "aisha": ("aicha", "aysha", "aischa", "ayesha"),
        "khadija": ("khadidja", "chadidscha", "khadeeja"),
        "zainab": ("zeinab", "zaynab", "sainab"),
        "osama": ("usama", "ossama", "oussama"),
        "ousama": ("osama", "usama"),
        "jaafar": ("jafar", "dschafar", "jaffar"),
        "qasim": ("kasim", "qassem", "kassem", "gasim"),
        "haider": ("hayder", "haidar", "heider"),
        "hayder": ("haider", "haidar"),
        "murtadha": ("murtada", "mortada", "murtaza"),
        "mohanad": ("muhannad", "mohannad"),
        "muhannad": ("mohanad", "mohannad"),
        "yaseen": ("yassin", "yasin", "jassin"),
    },
    "persian": {
        "mohammad": ("muhammad", "mohammed", "mohamad", "mohamed", "mahammad"),
        "hossein": ("hussein", "hosein", "husain", "hossain"),
        "fatemeh": ("fatima", "fateme", "fatemah"),
        "zahra": ("sahra", "zehra"),
        "mohammadreza": ("mohammad reza", "mohamadreza", "mohammad-reza"),
        "aliakbar": ("ali akbar", "ali-akbar"),
        "abdul wahid": ("abdulwahid", "abdul waheed", "abdolvahid"),
        "abdul qadir": ("abdulqadir", "abdul qader", "abdolghader", "abdulkadir"),
        "abdul ghafoor": ("abdulghafoor", "abdul ghafur", "abdul gafur"),
        "mahmood": ("mahmoud", "mahmud", "machmud"),
        "mansoor": ("mansour", "mansur"),
        "haroon": ("harun", "haroun"),
        "dawood": ("dawud", "davood", "dawoud"),
        "naweed": ("navid", "nawid"),
        "jawid": ("javid", "jawed", "dschawid"),
        "fereshta": ("freshta", "fereshteh", "ferishta"),
        "nilofar": ("nilufar", "niloofar", "nelofar"),
        "niloofar": ("nilofar", "nilufar"),
        "yalda": ("jalda",),
    },
    "cyrillic": {
        "oleksandr": ("aleksandr", "alexander", "olexandr", "oleksander", "alexandr"),
        "oleksandra": ("aleksandra", "alexandra", "olexandra"),
        "oleksii": ("aleksei", "alexei", "oleksiy", "aleksej", "alexey"),
        "olena": ("elena", "jelena", "olena", "alena", "yelena"),
        "dmytro": ("dmitry", "dmitrij", "dmitri", "dmytrii"),
        "mykola": ("nikolai", "nikolaj", "mikola", "mykolai"),
        "volodymyr": ("vladimir", "wladimir", "wolodymyr", "volodimir"),
        "mykhailo": ("mikhail", "michail", "mychajlo", "mykhaylo"),
        "yevhen": ("evgenii", "jewgeni", "yevgen", "evgeny", "jewhen"),
        "yevheniia": ("evgeniya", "jewgenija", "yevgeniya"),
        "yurii": ("yuri", "juri", "yuriy", "iurii"),
        "tetiana": ("tatiana", "tatjana", "tetyana", "tatyana"),
        "nataliia": ("natalia", "natalija", "natalya", "nataliya"),
        "iryna": ("irina", "iryna"),
        "liudmyla": ("ludmila", "lyudmila", "ljudmila", "liudmila"),
        "kateryna": ("ekaterina", "katerina", "jekaterina", "kateryna"),
        "anastasiia": ("anastasia", "anastasija", "anastasiya"),
        "hryhorii": ("grigorii", "grigori", "hryhoriy", "gregor"),
        "heorhii": ("georgii", "georgi", "heorhiy"),
        "svitlana": ("svetlana", "swetlana", "switlana"),
        "shevchenko": ("schewtschenko", "chevtchenko", "szewczenko", "shevtchenko"),
        "kovalenko": ("kowalenko",),
        "illia": ("ilya", "ilja", "illya"),
        "andrii": ("andrei", "andrey", "andriy", "andrij"),
        "serhii": ("sergei", "sergey", "serhiy", "serhij", "sergej"),
    },
    "turkish": {
        "mehmet": ("mehmed", "mehmat", "muhammet"),
        "ahmet": ("ahmed", "achmet"),
        "ayşe": ("ayse", "aische", "aysche", "ayshe"),
        "hüseyin": ("huseyin", "hueseyin", "hüsein", "hussein"),
        "öztürk": ("ozturk", "oeztuerk", "öztürck"),
    },
    "tigrinya": {
        "yohannes": ("johannes", "yohanes", "yohannis"),
        "tesfay": ("tesfai", "tesfaye", "tesfa"),
        "ghebremedhin": ("gebremedhin", "ghebremedin", "gebremedin", "gebre medhin"),
        "gebreselassie": ("gebre selassie", "ghebreselassie", "gebreslassie"),
        "woldemichael": ("wolde michael", "weldemichael", "woldemikael"),
        "mussie": ("musie", "mussa"),
        "yosief": ("yosef", "josef", "yoseph"),
    },
    "somali": {
        "mohamed": ("maxamed", "mohammed", "mohamud", "muhammad"),
        "ahmed": ("axmed", "ahmad"),
        "ali": ("cali",),
        "hassan": ("xasan", "hasan"),
        "hussein": ("xuseen", "husein", "hussain"),
        "omar": ("cumar", "umar"),
        "abdirahman": ("cabdiraxmaan", "abdurahman", "abdul rahman", "abdirahmaan"),
        "abdullahi": ("cabdullaahi", "abdullah", "abdulahi"),
        "fadumo": ("faadumo", "fatuma", "faduma", "fatima"),
        "halima": ("xaliimo", "halimo"),
        "hawa": ("xaawo", "hawo"),
    },
    "westafrican": {
        "mohamed": ("mohammed", "mouhamed", "muhammad", "mamadou"),
        "mamadou": ("mamadu", "mohamadou"),
        "chukwuemeka": ("emeka", "chukwu emeka"),
        "oluwaseun": ("seun", "oluseun"),
        "fatoumata": ("fatumata", "fatoumatta", "fatmata"),
        "aissatou": ("aishatu", "aïssatou", "aissata"),
    },
    "kurdish": {
        "mihemed": ("mohammed", "muhamad", "mihamad", "mhemed"),
        "ehmed": ("ahmad", "ahmed", "ehmet"),
        "xelîl": ("khalil", "xelil", "chalil", "halil"),
        "hêvî": ("hevi", "hevî", "hevee"),
    },
    "albanian": {
        "muhamet": ("mehmet", "muhamed", "mohamet"),
        "hoxha": ("hodscha", "hodza", "hoxa", "hodja"),
    },
}


class Variants(NamedTuple):
    """Spellings of one name: international-style and German-habit lists (canonical excluded)."""

    intl: tuple[str, ...]
    de: tuple[str, ...]


def lower_name(name: str) -> str:
    """Lower-case without the combining dot Python adds for Turkish 'İ'."""
    return name.replace("İ", "i").lower()


def capitalise(name: str) -> str:
    """Upper-case the first letter of each name part (after space, hyphen, apostrophe)."""
    out = []
    start = True
    for ch in name:
        out.append(ch.upper() if start else ch)
        start = ch in " -'"
    return "".join(out)


def _apply(rule: _Rule, text: str) -> list[str]:
    """All strings one rule makes from text (each replacement applied everywhere)."""
    pattern, reps, _ = rule
    if not pattern.search(text):
        return []
    return [v for v in (pattern.sub(rep, text) for rep in reps) if v != text]


def _compound_forms(base: str) -> list[str]:
    """Split/merged forms of a two-part name: 'abdul rahman' -> 'abdulrahman', 'abdul-rahman'."""
    if " " in base:
        return [base.replace(" ", ""), base.replace(" ", "-")]
    if "-" in base:
        return [base.replace("-", ""), base.replace("-", " ")]
    return []


def build_variants(name: str, rule_set: str) -> Variants:
    """Derive spelling variants of a canonical name: listed forms, single rules, pairs of
    different rules that both apply to the original, and the fully German-habit form
    (Shevchenko -> Schewtschenko); capped in number so that each stays plausible."""
    rules = RULES[rule_set]
    base = lower_name(name)
    found: dict[str, str] = {}
    for listed in LISTED_VARIANTS.get(rule_set, {}).get(base, ()):
        found.setdefault(listed, INTL)
    for form in _compound_forms(base):
        found.setdefault(form, INTL)
    applicable = [i for i, rule in enumerate(rules) if rule[0].search(base)]
    singles: list[tuple[str, int]] = []
    for i in applicable:
        for v in _apply(rules[i], base):
            singles.append((v, i))
            found.setdefault(v, rules[i][2])
    german = _german_form(base, [rules[i] for i in applicable])
    if german != base:
        found.setdefault(german, DE)
    _add_rule_pairs(found, singles, [rules[j] for j in applicable], rules)
    found.pop(base, None)
    items = list(found.items())[:MAX_VARIANTS_PER_NAME]
    if capitalise(base) != name:  # İbrahim -> Ibrahim: most software loses the capital dot
        items.insert(0, (base, INTL))
    intl = tuple(capitalise(v) for v, s in items if s == INTL)
    de = tuple(capitalise(v) for v, s in items if s == DE)
    return Variants(intl, de)


def _german_form(base: str, applicable: list[_Rule]) -> str:
    """The name under every German-habit rule that applies (Shevchenko -> Schewtschenko)."""
    german = base
    for pattern, replacements, style in applicable:
        if style == DE:
            german = pattern.sub(replacements[0], german)
    return german


def _add_rule_pairs(
    found: dict[str, str], singles: list[tuple[str, int]], applicable: list[_Rule], rules: tuple[_Rule, ...]
) -> None:
    """Add the forms of a second, different rule applied to each single-rule form until the cap
    (plus the name itself) is reached; German-habit if either rule is."""
    for v, first in singles:
        for second in applicable:
            if second[0] is rules[first][0] or second[0].pattern == rules[first][0].pattern:
                continue
            if len(found) >= MAX_VARIANTS_PER_NAME + 1:
                continue
            style = DE if DE in (rules[first][2], second[2]) else INTL
            for vv in _apply(second, v):
                found.setdefault(vv, style)


class SpellingCache:
    """Variants per (rule set, name), computed on first use: names repeat across millions of
    records, so the rule work is paid once per distinct name."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Variants] = {}

    def get(self, name: str, rule_set: str) -> Variants:
        """Variants of name under rule_set (cached)."""
        key = (rule_set, name)
        found = self._cache.get(key)
        if found is None:
            found = build_variants(name, rule_set)
            self._cache[key] = found
        return found

    def spell(self, name: str, rule_set: str, r: Callable[[], float], p_canonical: float, p_de: float) -> str:
        """One recorded spelling: the canonical name with p_canonical, else a variant, German-
        habit with p_de when the name has one."""
        if r() < p_canonical:
            return name
        v = self.get(name, rule_set)
        pool = v.de if (v.de and (r() < p_de or not v.intl)) else v.intl
        if not pool:
            return name
        return pool[int(r() * len(pool))]


# --- Intake habits -----------------------------------------------------------------------
# The authority's systems spell umlauts out and drop diacritics before upper-casing.
_ASCII_FOLD = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ş": "s",
        "Ş": "S",
        "ç": "c",
        "Ç": "C",
        "ğ": "g",
        "Ğ": "G",
        "ı": "i",
        "İ": "I",
        "ë": "e",
        "Ë": "E",
        "ê": "e",
        "Ê": "E",
        "î": "i",
        "Î": "I",
        "û": "u",
        "Û": "U",
        "é": "e",
        "É": "E",
        "è": "e",
        "ï": "i",
        "'": "",
    }
)


def ascii_fold(text: str) -> str:
    """Spell out umlauts (ö -> oe) and drop other diacritics, as register software does."""
    return text.translate(_ASCII_FOLD)


# How an Arabic article is written: (prefix, stem lower-cased?), weight. Al-Khatib, Al Khatib,
# Alkhatib, Khatib, El-Khatib, El Khatib, al-Khatib.
ARTICLE_FORMS: tuple[tuple[tuple[str, bool], float], ...] = (
    (("Al-", False), 0.50),
    (("Al ", False), 0.10),
    (("Al", True), 0.10),
    (("", False), 0.15),
    (("El-", False), 0.08),
    (("El ", False), 0.04),
    (("al-", False), 0.03),
)


def split_article(family: str) -> tuple[str, str]:
    """('Al', 'Khatib') for 'Al-Khatib'; ('', name) when there is no Arabic article."""
    if family[:3] in ("Al-", "El-") and len(family) > 3:
        return family[:2], family[3:]
    return "", family


# QWERTZ neighbours: substitutions and insertions come from the keys next to the intended one.
_QWERTZ_ROWS = ("qwertzuiopü", "asdfghjklöä", "yxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _row_i, _row in enumerate(_QWERTZ_ROWS):
    for _i, _ch in enumerate(_row):
        near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        for _other in (_row_i - 1, _row_i + 1):
            if 0 <= _other < len(_QWERTZ_ROWS):
                near += _QWERTZ_ROWS[_other][_i : _i + 1]
        _NEIGHBOURS[_ch] = near


def _neighbour(ch: str, r: Callable[[], float]) -> str:
    """A key next to ch on a German keyboard (case kept); ch's own letter if none."""
    near = _NEIGHBOURS.get(ch.lower())
    if not near:
        return ch
    out = near[int(r() * len(near))]
    return out.upper() if ch.isupper() else out


def typo(text: str, r: Callable[[], float]) -> str:
    """One keyboard slip: insert, delete, substitute (neighbour key) or transpose."""
    n = len(text)
    if n < 3:
        return text
    i = 1 + int(r() * (n - 2))  # first letter is usually typed right
    op = r()
    if op < 0.25:
        return text[:i] + _neighbour(text[i], r) + text[i:]
    if op < 0.5:
        return text[:i] + text[i + 1 :]
    if op < 0.8:
        return text[:i] + _neighbour(text[i], r) + text[i + 1 :]
    if i + 1 < n:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[: i - 1] + text[i] + text[i - 1]


# Copy-paste from Cyrillic documents leaves look-alike letters in Latin names.
_HOMOGLYPHS = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "x": "х",
    "i": "і",
    "A": "А",
    "E": "Е",
    "O": "О",
    "P": "Р",
    "C": "С",
    "K": "К",
    "M": "М",
    "H": "Н",
    "T": "Т",
    "B": "В",
    "X": "Х",
}


def homoglyph(text: str, r: Callable[[], float]) -> str:
    """Replace one Latin letter that has a Cyrillic look-alike by that look-alike."""
    spots = [i for i, ch in enumerate(text) if ch in _HOMOGLYPHS]
    if not spots:
        return text
    i = spots[int(r() * len(spots))]
    return text[:i] + _HOMOGLYPHS[text[i]] + text[i + 1 :]
