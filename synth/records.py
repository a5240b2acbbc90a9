"""Render one person as one source's record: the noise that record linkage has to survive.

Every field of a record is the person's truth passed through the habits of the source and
of the moment of intake (DOMAIN.md, "Names and birth dates"): spelling variants, swapped name
fields, dropped articles, one of several given names, typos, placeholder and partial birth
dates, swapped day and month, moved addresses, stale residence status, missing values.
Probabilities are module constants so tuning is a one-line change.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from kim_hub.synth import data
from kim_hub.synth.population import Person, Picker
from kim_hub.synth.sources import SourceProfile
from kim_hub.synth.spelling import ARTICLE_FORMS, SpellingCache, ascii_fold, homoglyph, typo

Rand = Callable[[], float]

# --- names ----------------------------------------------------------------------------------
P_SWAP_NAMES = 0.03  # given and family name swapped at intake
P_TYPO = 0.05  # one keyboard slip in a name
P_TYPO_DUPLICATE = 0.15  # ... in a hurried duplicate intake
P_HOMOGLYPH = 0.002  # a Cyrillic look-alike letter pasted into a name
P_HOMOGLYPH_CYRILLIC = 0.01  # ... for names copied from Cyrillic documents
P_SECOND_GIVEN_ONLY = 0.08  # the person goes by their second given name
P_PATRONYMIC_GRANDFATHER = 0.15  # Eritrean/Somali: own + father's name as given, grandfather as family
P_NO_FAMILY_REPEAT = 0.55  # no family name on paper: the name is written in both fields
P_NO_FAMILY_FATHER = 0.25  # ... or the father's name is used as family name (else: split a compound)
P_LOWER_CASE = 0.005  # typed in lower case
DUPLICATE_CANONICAL_FACTOR = 0.5  # a duplicate intake is usually a different spelling
# --- birth dates ------------------------------------------------------------------------------
P_BIRTH_MISSING = 0.03
P_PLACEHOLDER_CONSISTENT = 0.85  # unknown day written as 01.01.YYYY (as registered)
P_PLACEHOLDER_PARTIAL = 0.08  # ... or as 00.00.YYYY / YYYY (else the true date, documents came later)
P_PARTIAL_YEAR_ONLY = 0.3  # German-style partial date written as YYYY instead of 00.00.YYYY
P_DAY_MONTH_SWAP = 0.03
P_YEAR_TYPO = 0.02
# --- other identifying fields -------------------------------------------------------------
P_NATIONALITY_MISSING = 0.04
P_NATIONALITY_UNCLEAR = 0.01  # XXX / 998 / ungeklärt
P_ADDRESS_MISSING = 0.03
P_OLD_ADDRESS = 0.15  # the record still has the address before the household moved
P_STREET_ABBREVIATED = 0.15  # "Str." for "Straße"
P_STREET_SS = 0.08  # "Strasse" for "Straße"
P_PLACE_CANONICAL = 0.6
P_AZR_TYPO = 0.01
P_SEX_UNKNOWN_CODE = 0.3  # a missing sex written as "U" by sources that have the code
# --- case fields ------------------------------------------------------------------------------
MAX_CASE_AGE_DAYS = 1500
CONSENT_MIN_DAYS, CONSENT_EXTRA_DAYS = 365, 730
P_CONSENT_WITHDRAWN = 0.03
P_SGB_VIII_YOUNG = 0.12  # young adults in youth-office care
P_SGB_III = 0.08
P_NO_BENEFITS = 0.05
MAX_GOALS = 3
CHILD_WITHOUT_GOALS_AGE = 15
UPDATED_WITHIN_DAYS = 10
# Case fields carry no identity, so after this many fresh draws per source a record reuses a
# random earlier draw: same distribution, a fraction of the cost on large runs.
CASE_POOL_SIZE = 8192
_DATE_PAST_DAYS = MAX_CASE_AGE_DAYS + 10
_DATE_FUTURE_DAYS = CONSENT_MIN_DAYS + CONSENT_EXTRA_DAYS + 10

_SEX_CODES = {"MF": {"M": "M", "F": "F", "X": "X"}, "mwd": {"M": "m", "F": "w", "X": "d"}}
_NATIONALITY_RENDER: dict[str, dict[str, str] | None] = {
    "iso3": None,
    "destatis": data.NATIONALITY_DESTATIS,
    "name_de": data.NATIONALITY_NAME_DE,
    "adjective_de": data.NATIONALITY_ADJECTIVE_DE,
}


class DateTable:
    """Pre-formatted dates around the export day, by days before it (negative = after)."""

    def __init__(self, day: datetime.date) -> None:
        first = day - datetime.timedelta(days=_DATE_PAST_DAYS)
        n = _DATE_PAST_DAYS + _DATE_FUTURE_DAYS + 1
        dates = [first + datetime.timedelta(days=i) for i in range(n)]
        self.iso = [d.isoformat() for d in dates]
        self.de = [d.strftime("%d.%m.%Y") for d in dates]
        self._zero = _DATE_PAST_DAYS

    def get(self, days_before: int, style: str) -> str:
        """The date days_before the export day, formatted for the style."""
        table = self.iso if style == "iso" else self.de
        return table[self._zero - days_before]


def rechtskreis(status: str, age: int, u: float) -> str:
    """Legal framework consistent with the residence status and age; u is a stable per-person
    uniform number so that one person's records agree."""
    if status in data.ASYLBLG_STATUSES:
        return "AsylbLG"
    if status in data.OWN_INCOME_STATUSES:
        return "SGB III" if u < 0.2 else "none"
    if status == "EINGEBUERGERT":
        return "none" if u < 0.5 else "SGB II"
    if age >= 65:
        return "SGB XII"
    if 16 <= age < 21 and u < P_SGB_VIII_YOUNG:
        return "SGB VIII"
    if u > 1 - P_SGB_III:
        return "SGB III"
    if u > 1 - P_SGB_III - P_NO_BENEFITS:
        return "none"
    return "SGB II"


def person_uniform(p: Person) -> float:
    """A fixed pseudo-random number in [0, 1) per person (Knuth multiplicative hash)."""
    return ((p.index * 2654435761) & 0xFFFFFFFF) / 4294967296.0


class RecordRenderer:
    """Turns (person, source) into a CSV row. Holds the random source and caches."""

    def __init__(self, r: Rand, day: datetime.date) -> None:
        self.r = r
        self.spelling = SpellingCache()
        self._spell = self.spelling.spell
        self.dates = DateTable(day)
        self.articles = Picker.weighted(ARTICLE_FORMS)
        self.case_statuses = Picker.weighted(data.CASE_STATUSES)
        self.goal_statuses = Picker.weighted(data.GOAL_STATUSES)
        self.consents = Picker.weighted(data.CONSENT_RECIPIENTS)
        self._nat_cache: dict[str, Picker[str]] = {}
        self._case_pools: dict[str, list[tuple[str, ...]]] = {}

    def row(self, p: Person, src: SourceProfile, record_id: str, duplicate: bool) -> list[str]:
        """All columns of src for person p, in src.columns() order."""
        family, given, upper = self.names(p, src, duplicate)
        street, postcode = self.address(p)
        status = p.prev_status if self.r() < src.p_status_stale else p.status
        row = [
            record_id,
            family,
            given,
            self.birth_date(p, src),
            self.sex(p, src),
            self.nationality(p, src),
            self.birth_place(p, src, upper),
            street,
            postcode,
            self.azr(p, src),
        ]
        if src.has_customer_no:
            row.append(record_id)
        row.append(rechtskreis(status, p.age, person_uniform(p)))
        row.append(status)
        status_, opened, closed, goals, consent, valid_until, withdrawn, updated = self._case(src)
        if p.age < CHILD_WITHOUT_GOALS_AGE:
            goals = ""  # children's cases carry no goals
        row += (status_, opened, closed, self.district(src, postcode), goals, consent, valid_until, withdrawn, updated)
        return row

    def _case(self, src: SourceProfile) -> tuple[str, ...]:
        """Case fields (without district): fresh while the source's pool fills, then reused."""
        pool = self._case_pools.get(src.name)
        if pool is None:
            pool = self._case_pools[src.name] = []
        if len(pool) < CASE_POOL_SIZE:
            case = self.case_fields(src)
            pool.append(case)
            return case
        return pool[int(self.r() * CASE_POOL_SIZE)]

    # --- names ------------------------------------------------------------------------------
    def names(self, p: Person, src: SourceProfile, duplicate: bool) -> tuple[str, str, bool]:
        """(family_name, given_names, written_upper) as this intake recorded them."""
        r = self.r
        p_canon = src.p_canonical * (DUPLICATE_CANONICAL_FACTOR if duplicate else 1.0)
        rules = p.origin.rules
        given = self._given(p.given, rules, p_canon, src)
        family, given = self._family(p, rules, p_canon, src.p_de, given)
        if r() < P_SWAP_NAMES:
            family, given = given, family
        if r() < (P_TYPO_DUPLICATE if duplicate else P_TYPO):
            if r() < 0.5:
                family = typo(family, r)
            else:
                given = typo(given, r)
        if r() < (P_HOMOGLYPH_CYRILLIC if rules == "cyrillic" else P_HOMOGLYPH):
            family = homoglyph(family, r)
        x = r()
        if x < src.p_upper:
            return ascii_fold(family).upper(), ascii_fold(given).upper(), True
        if x < src.p_upper + P_LOWER_CASE:
            return family.lower(), given.lower(), False
        if r() < src.p_fold:
            return ascii_fold(family), ascii_fold(given), False
        return family, given, False

    def _given(self, names: tuple[str, ...], rules: str, p_canon: float, src: SourceProfile) -> str:
        """All given names, or the first, or the second (the one the person goes by)."""
        spell, r, p_de = self._spell, self.r, src.p_de
        if len(names) > 1:
            x = r()
            if x < src.p_all_given:
                return " ".join([spell(t, rules, r, p_canon, p_de) for t in names])
            if x < src.p_all_given + P_SECOND_GIVEN_ONLY:
                return spell(names[1], rules, r, p_canon, p_de)
        return spell(names[0], rules, r, p_canon, p_de)

    def _family(self, p: Person, rules: str, p_canon: float, p_de: float, given: str) -> tuple[str, str]:
        """Family name by naming system: article forms, patronymics, or no family name."""
        spell, r = self._spell, self.r
        if not p.family:  # nobody in this family has a family name on paper
            x = r()
            if x < P_NO_FAMILY_REPEAT:
                return given, given
            if x < P_NO_FAMILY_REPEAT + P_NO_FAMILY_FATHER:
                return spell(p.alt_family, rules, r, p_canon, p_de), given
            head, _, tail = given.rpartition(" ")
            return (tail, head) if head else (given, given)
        if p.alt_family and r() < P_PATRONYMIC_GRANDFATHER and p.origin.family_mode == "patronymic":
            return (spell(p.alt_family, rules, r, p_canon, p_de), given + " " + spell(p.family, rules, r, p_canon, p_de))
        if p.article:
            prefix, lower = self.articles.pick(r)
            stem = spell(p.stem, rules, r, p_canon, p_de)
            return prefix + (stem.lower() if lower else stem), given
        return spell(p.family, rules, r, p_canon, p_de), given

    # --- other identifying fields ---------------------------------------------------------
    def birth_date(self, p: Person, src: SourceProfile) -> str:
        """Registered birth date with placeholders, partial dates, swaps and year typos."""
        r = self.r
        if r() < P_BIRTH_MISSING:
            return ""
        y, m, d = p.by, p.bm, p.bd
        if p.unknown_day:
            x = r()
            if x < P_PLACEHOLDER_CONSISTENT:
                m = d = 1
            elif x < P_PLACEHOLDER_CONSISTENT + P_PLACEHOLDER_PARTIAL:
                if src.date_style == "iso" or r() < P_PARTIAL_YEAR_ONLY:
                    return str(y)
                return f"00.00.{y}"
        x = r()
        if x < P_DAY_MONTH_SWAP:
            if d <= 12:
                m, d = d, m
        elif x < P_DAY_MONTH_SWAP + P_YEAR_TYPO:
            y += 1 if r() < 0.5 else -1
        if src.date_style == "iso":
            return f"{y:04d}-{m:02d}-{d:02d}"
        return f"{d:02d}.{m:02d}.{y:04d}"

    def sex(self, p: Person, src: SourceProfile) -> str:
        """Sex in the source's code; sometimes missing."""
        if self.r() < src.p_sex_missing:
            return "U" if src.sex_style == "MF" and self.r() < P_SEX_UNKNOWN_CODE else ""
        return _SEX_CODES[src.sex_style][p.sex]

    def nationality(self, p: Person, src: SourceProfile) -> str:
        """Nationality as ISO-3, Destatis code, German name or adjective; sometimes missing."""
        r = self.r
        x = r()
        if x < P_NATIONALITY_MISSING:
            return ""
        code = "XXX" if x < P_NATIONALITY_MISSING + P_NATIONALITY_UNCLEAR else p.nat
        picker = self._nat_cache.get(src.name)
        if picker is None:
            picker = self._nat_cache[src.name] = Picker.weighted(src.nationality_styles)
        table = _NATIONALITY_RENDER[picker.pick(r)]
        return code if table is None else table[code]

    def birth_place(self, p: Person, src: SourceProfile, upper: bool) -> str:
        """A spelling of the birth place, or nothing (often not asked)."""
        r = self.r
        if r() >= src.p_birth_place:
            return ""
        place = p.place
        name = place[0] if len(place) == 1 or r() < P_PLACE_CANONICAL else place[1 + int(r() * (len(place) - 1))]
        return ascii_fold(name).upper() if upper else name

    def address(self, p: Person) -> tuple[str, str]:
        """Current or previous address, written with the usual street-name shortcuts."""
        r = self.r
        x = r()
        if x < P_ADDRESS_MISSING:
            return "", ""
        if x < P_ADDRESS_MISSING + P_OLD_ADDRESS:
            street, postcode = p.prev_street, p.prev_postcode
        else:
            street, postcode = p.street, p.postcode
        x = r()
        if x < P_STREET_ABBREVIATED:
            street = street.replace("straße", "str.").replace("Straße", "Str.")
        elif x < P_STREET_ABBREVIATED + P_STREET_SS:
            street = street.replace("ß", "ss")
        return street, postcode

    def azr(self, p: Person, src: SourceProfile) -> str:
        """The AZR number where the source has it; rarely with one digit wrong."""
        r = self.r
        if r() >= src.p_azr:
            return ""
        azr = p.azr
        if r() < P_AZR_TYPO:
            i = int(r() * len(azr))
            wrong = str((int(azr[i]) + 1 + int(r() * 9)) % 10)
            azr = azr[:i] + wrong + azr[i + 1 :]
        return azr

    # --- case fields ----------------------------------------------------------------------
    def case_fields(self, src: SourceProfile) -> tuple[str, ...]:
        """case_status, case_opened, case_closed, goals, consent (3 fields), updated_at."""
        r = self.r
        dates = self.dates
        style = src.date_style
        case_status = self.case_statuses.pick(r)
        opened = int(r() * r() * MAX_CASE_AGE_DAYS)
        closed = ""
        updated = min(opened, int(r() * UPDATED_WITHIN_DAYS))
        if case_status == "closed":
            closed_days = int(r() * opened)
            closed = dates.get(closed_days, style)
            updated = max(0, closed_days - int(r() * UPDATED_WITHIN_DAYS))
        goals = self._goals(src) if src.has_goals and case_status != "intake" else ""
        consent = "" if r() < src.p_consent_empty else self.consents.pick(r)
        valid_until = withdrawn = ""
        if consent:
            valid_until = dates.get(opened - CONSENT_MIN_DAYS - int(r() * CONSENT_EXTRA_DAYS), style)
            if r() < P_CONSENT_WITHDRAWN:
                withdrawn = dates.get(int(r() * opened), style)
        return (case_status, dates.get(opened, style), closed, goals, consent, valid_until, withdrawn, dates.get(updated, style))

    def district(self, src: SourceProfile, postcode: str) -> str:
        """The responsible district as this source names it (from the record's postcode)."""
        if not src.district_style or not postcode:
            return ""
        if src.district_style == "stadtbezirk":
            return data.STADTBEZIRK_BY_POSTCODE.get(postcode, "")
        parts = data.DISTRICTS_BY_POSTCODE.get(postcode, ("",))
        return parts[int(self.r() * len(parts))]

    def _goals(self, src: SourceProfile) -> str:
        """`field:status` pairs; the job centre always has a work goal first."""
        r = self.r
        n = int(r() * (MAX_GOALS + 1))
        fields = data.GOAL_FIELDS
        chosen = ["arbeit"] if src.name == "jobcenter" else []
        for _ in range(n):
            f = fields[int(r() * len(fields))]
            if f not in chosen:
                chosen.append(f)
        return "|".join(f"{f}:{self.goal_statuses.pick(r)}" for f in chosen)
