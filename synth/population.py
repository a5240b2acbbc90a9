"""The synthetic people: households with shared names, addresses, birth places and papers.

Households are what make linkage hard (DOMAIN.md): siblings and cousins share family name,
address, birth place and often a 01.01. birth year. So people are drawn household by
household, and now and then a household is "related" to the previous one (cousins: same
family name and birth place, different address, sometimes the same given name and a close
placeholder birth year). Only the previous household is remembered: generation streams.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from kim_hub.synth import data
from kim_hub.synth.data import Origin
from kim_hub.synth.spelling import split_article

T = TypeVar("T")
Rand = Callable[[], float]

# --- Household composition ----------------------------------------------------------------
HOUSEHOLD_SIZES = ((1, 0.42), (2, 0.20), (3, 0.14), (4, 0.12), (5, 0.07), (6, 0.05))
P_SPOUSE = 0.75  # a multi-person household has a couple at its head
P_SIBLING_GROUP = 0.5  # otherwise: grown-up siblings living together (else a single parent)
P_TWINS = 0.04  # next child is born in the same year
P_RELATED_HOUSEHOLD = 0.10  # cousins: same family name, birth place, origin; other address
P_COUSIN_SAME_GIVEN = 0.35  # ... and the head is named like a cousin, born within two years
P_OLDER_HEAD = 0.12  # head 15-25 years older than the young-adult default
P_SAME_BIRTH_PLACE = 0.80  # a member was born where the household comes from
P_PLACEHOLDER_MEMBER = 0.90  # in a placeholder household, member registered with 01.01.
P_PLACEHOLDER_INDIVIDUAL = 0.04  # outside such households
P_SHELTER = 0.35  # asylum seekers and tolerated persons living in collective accommodation
P_SECOND_GIVEN_IS_FATHER = 0.7  # Arabic-style second given name is the father's name
P_SEX_X = 0.001
SPOUSE_KEEPS_NAME: dict[str, float] = {"arabic": 0.75, "persian": 0.7, "kurdish": 0.6}
FAMILY_NAME_ZIPF = 0.9  # exponent of the rank weight: common names collide across families
GIVEN_NAME_ZIPF = 0.8
MAX_HOUSE_NUMBER = 160
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Picker(Generic[T]):
    """Draw from a fixed list with fixed weights using one uniform number (bisect on the
    cumulative weights): much cheaper than random.choices per call."""

    __slots__ = ("_cum", "_total", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]

    @classmethod
    def zipf(cls, items: Sequence[T], exponent: float) -> Picker[T]:
        """Rank-weighted picker: the first items are the common ones."""
        unique = tuple(dict.fromkeys(items))
        return cls(unique, [1.0 / (rank + 1) ** exponent for rank in range(len(unique))])

    @classmethod
    def weighted(cls, pairs: Sequence[tuple[T, float]]) -> Picker[T]:
        """Picker from (item, weight) pairs."""
        return cls([p[0] for p in pairs], [p[1] for p in pairs])

    def pick(self, r: Rand) -> T:
        """One item."""
        return self.items[bisect.bisect(self._cum, r() * self._total)]


class OriginTables:
    """Pickers for one origin, built once per generation run."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.male = Picker.zipf(origin.given_male, GIVEN_NAME_ZIPF)
        self.female = Picker.zipf(origin.given_female, GIVEN_NAME_ZIPF)
        self.family = Picker.zipf(origin.family, FAMILY_NAME_ZIPF) if origin.family else None
        self.places = Picker.zipf(origin.places, 0.7)
        self.statuses = Picker.weighted(origin.statuses)
        self.nationalities = Picker.weighted(origin.nationalities)

    def given(self, sex: str, r: Rand) -> str:
        """A given name for sex ('X' draws from either list)."""
        if sex == "F" or (sex == "X" and r() < 0.5):
            return self.female.pick(r)
        return self.male.pick(r)


class Person:
    """One synthetic person: the truth that every record of them is a rendering of."""

    __slots__ = (
        "age",
        "alt_family",
        "article",
        "azr",
        "bd",
        "bm",
        "by",
        "family",
        "given",
        "index",
        "nat",
        "origin",
        "pid",
        "place",
        "postcode",
        "prev_postcode",
        "prev_status",
        "prev_street",
        "sex",
        "status",
        "stem",
        "street",
        "unknown_day",
    )
    age: int
    alt_family: str
    article: str
    azr: str
    bd: int  # birth day, month and year
    bm: int
    by: int
    family: str
    given: tuple[str, ...]
    index: int
    nat: str
    origin: Origin
    pid: str
    place: tuple[str, ...]  # canonical birth place and its spellings
    postcode: str
    prev_postcode: str
    prev_status: str
    prev_street: str
    sex: str
    status: str
    stem: str
    street: str
    unknown_day: bool

    def __init__(self) -> None:
        self.alt_family = ""
        self.article = ""
        self.stem = ""

    def set_family(self, family: str) -> None:
        """Family name plus its article split (Al-Khatib -> 'Al', 'Khatib')."""
        self.family = family
        self.article, self.stem = split_article(family) if family else ("", "")


def feminine_family(name: str) -> str:
    """East Slavic adjectival surnames change with sex: Kovalskyi -> Kovalska, Chornyi -> Chorna."""
    if name.endswith(("skyi", "tskyi")):
        return name[:-2] + "a"
    if name.endswith(("yi", "ii")):
        return name[:-2] + "a"
    return name


class HouseholdFactory:
    """Makes households one at a time; remembers only the previous one (for cousins)."""

    def __init__(self, r: Rand, ref_day: datetime.date, azr_of: Callable[[int], str], pid_width: int) -> None:
        self.r = r
        self.ref_year = ref_day.year
        self.ref_date = (ref_day.year, ref_day.month, ref_day.day)
        self.azr_of = azr_of
        self.pid_width = pid_width
        self.tables = [OriginTables(o) for o in data.ORIGINS]
        self.origin_picker = Picker(list(self.tables), [t.origin.weight for t in self.tables])
        self.sizes = Picker.weighted(HOUSEHOLD_SIZES)
        self.streets = data.STREETS
        self.next_index = 0
        self.previous: list[Person] = []
        self.previous_base = ""  # the previous household's (masculine) family name

    # --- small draws --------------------------------------------------------------------
    def _address(self) -> tuple[str, str]:
        """A street address in the city; the street decides the postcode."""
        r = self.r
        i = int(r() * len(self.streets))
        return f"{self.streets[i]} {1 + int(r() * MAX_HOUSE_NUMBER)}", data.POSTCODES[i % len(data.POSTCODES)]

    def _birth(self, person: Person, age: int, unknown_day: bool) -> None:
        """True birth date for an age at the reference year; unknown_day marks 01.01. registration."""
        r = self.r
        person.age = age
        person.by = self.ref_year - age - (1 if r() < 0.5 else 0)
        person.bm = 1 + int(r() * 12)
        person.bd = 1 + int(r() * _DAYS_IN_MONTH[person.bm - 1])
        if (person.by, person.bm, person.bd) > self.ref_date:  # not born yet: a year earlier
            person.by -= 1
        person.unknown_day = unknown_day

    def _sex(self, p_male: float) -> str:
        """M/F with the given male share, X very rarely."""
        x = self.r()
        if x < P_SEX_X:
            return "X"
        return "M" if x < p_male else "F"

    # --- the household ------------------------------------------------------------------
    def household(self, limit: int) -> list[Person]:
        """Next household, at most limit people."""
        r = self.r
        related = bool(self.previous) and r() < P_RELATED_HOUSEHOLD
        tables = self._tables_of(self.previous[0]) if related else self.origin_picker.pick(r)
        origin = tables.origin
        size = min(limit, self.sizes.pick(r))
        status = tables.statuses.pick(r)
        nat = self.previous[0].nat if related else tables.nationalities.pick(r)
        place = self.previous[0].place if related else tables.places.pick(r)
        placeholder = self.previous[0].unknown_day if related else r() < origin.p_placeholder_household
        if status in data.ASYLBLG_STATUSES and r() < P_SHELTER:
            street, postcode = data.SHELTER_ADDRESSES[int(r() * len(data.SHELTER_ADDRESSES))]
        else:
            street, postcode = self._address()
        prev_street, prev_postcode = self._address()
        base_family = self._base_family(tables, related)
        members = self._members(tables, size, related, placeholder, base_family)
        prev_status = data.PREVIOUS_STATUS.get(status, status)
        for p in members:
            p.nat = nat
            p.place = (
                place
                if r() < P_SAME_BIRTH_PLACE
                else (data.HOST_BIRTH_PLACES[int(r() * len(data.HOST_BIRTH_PLACES))] if p.age < 8 else tables.places.pick(r))
            )
            p.street, p.postcode = street, postcode
            p.prev_street, p.prev_postcode = prev_street, prev_postcode
            p.status, p.prev_status = status, prev_status
        self.previous = members
        self.previous_base = base_family
        return members

    def _tables_of(self, person: Person) -> OriginTables:
        """The origin tables of a person of the previous household."""
        for t in self.tables:
            if t.origin is person.origin:
                return t
        raise LookupError(person.origin.key)

    def _base_family(self, tables: OriginTables, related: bool) -> str:
        """The household's family name ('' when the household has none on paper)."""
        origin = tables.origin
        if origin.family_mode == "patronymic":
            return ""
        if related:
            return self.previous_base
        if origin.family_mode == "optional" and self.r() < origin.p_no_family_name:
            return ""
        assert tables.family is not None
        return tables.family.pick(self.r)

    def _new_person(self, tables: OriginTables, sex: str) -> Person:
        """A person with id, origin, sex, AZR number and one given name (more added later)."""
        p = Person()
        p.index = self.next_index
        self.next_index += 1
        p.pid = f"P{p.index + 1:0{self.pid_width}d}"
        p.origin = tables.origin
        p.sex = sex
        p.azr = self.azr_of(p.index)
        p.given = (tables.given(sex, self.r),)
        return p

    def _unknown_day(self, placeholder_household: bool) -> bool:
        """Registered with an unknown birth day?"""
        return self.r() < (P_PLACEHOLDER_MEMBER if placeholder_household else P_PLACEHOLDER_INDIVIDUAL)

    def _members(self, tables: OriginTables, size: int, related: bool, placeholder: bool, base_family: str) -> list[Person]:
        """Head, spouse and children (or siblings), with ages, names and placeholder flags."""
        r = self.r
        origin = tables.origin
        head = self._new_person(tables, self._sex(origin.p_male_head))
        head_age = 18 + int((r() + r()) * 17) + (15 + int(r() * 11) if r() < P_OLDER_HEAD else 0)
        cousin = self._cousin_to_copy() if related and r() < P_COUSIN_SAME_GIVEN else None
        if cousin is not None:
            head.sex = cousin.sex
            head.given = cousin.given[:1]
            head_age = max(16, cousin.age + int(r() * 5) - 2)
        self._birth(head, head_age, self._unknown_day(placeholder))
        members = [head]
        roles = ["head"]
        siblings = size > 1 and r() >= P_SPOUSE and r() < P_SIBLING_GROUP
        if size > 1 and not siblings and r() < P_SPOUSE:
            spouse = self._new_person(tables, "F" if head.sex == "M" else "M")
            spouse_age = max(18, head_age + (-int(r() * 8) if head.sex == "M" else int(r() * 8)))
            self._birth(spouse, spouse_age, self._unknown_day(placeholder))
            members.append(spouse)
            roles.append("spouse")
        age = head_age - 20 - int(r() * 10) if not siblings else head_age
        while len(members) < size:
            child = self._new_person(tables, self._sex(0.5))
            if siblings:
                age = max(16, age + int(r() * 7) - 3)
            elif r() >= P_TWINS:
                age -= 1 + int(r() * 3)
            self._birth(child, max(0, age), self._unknown_day(placeholder))
            members.append(child)
            roles.append("sibling" if siblings else "child")
        if siblings:
            roles[0] = "sibling"
        self._name_members(tables, members, roles, base_family)
        return members

    def _cousin_to_copy(self) -> Person | None:
        """An adult of the previous household whose given name a cousin shares."""
        adults = [p for p in self.previous if p.age >= 16]
        return adults[int(self.r() * len(adults))] if adults else None

    def _name_members(self, tables: OriginTables, members: list[Person], roles: list[str], base_family: str) -> None:
        """Family names by the origin's naming system; second given names where customary.

        Children's father is the head (or an absent man for a single mother); grown-up
        siblings share one absent father. Patronymic origins name a person after the father
        (family name) and keep the grandfather as the alternative family name."""
        r = self.r
        origin = tables.origin
        head = members[0]
        children_father = head.given[0] if head.sex == "M" else tables.male.pick(r)
        siblings_father = tables.male.pick(r) if "sibling" in roles else ""
        grandfather = ""  # the head's father: known once the head is named
        shared_grandfather = siblings_father and tables.male.pick(r)
        for p, role in zip(members, roles):
            # the father's given name, drawn only where the naming system needs it
            dad = children_father if role == "child" else siblings_father if role == "sibling" else ""
            if origin.family_mode == "patronymic":
                p.set_family(dad or tables.male.pick(r))
                p.alt_family = (
                    grandfather
                    if role == "child" and head.sex == "M"
                    else shared_grandfather
                    if role == "sibling"
                    else tables.male.pick(r)
                )
            elif base_family:
                own = role == "spouse" and tables.family is not None and r() < SPOUSE_KEEPS_NAME.get(origin.rules, 0.15)
                family = tables.family.pick(r) if own and tables.family else base_family
                p.set_family(feminine_family(family) if origin.feminine and p.sex == "F" else family)
            else:
                p.set_family("")
                p.alt_family = dad or tables.male.pick(r)
            if role == "head" and origin.family_mode == "patronymic":
                grandfather = p.family
            if origin.p_second_given and r() < origin.p_second_given:
                second = (dad or tables.male.pick(r)) if r() < P_SECOND_GIVEN_IS_FATHER else tables.given(p.sex, r)
                if second != p.given[0]:
                    p.given = (p.given[0], second)
