"""A generated population where evidence is partial: the phenomena the master index must survive
beyond the project's own generator (issue 23).

    .venv/bin/python benchmarks/partial_evidence.py OUT [--persons 5000] [--seed 1]

writes ``OUT/inbox/<source>/<source>.csv`` (the standard provider CSV, three charities) and
``OUT/truth.csv`` (source, record_id, person). Only names, birth date, birth place and sex are
filled, as in the public 50,000-record benchmark the issue names; its properties, not its values:

* **given-name diminutives and short forms** (Tom/Thomas, Sasha/Oleksandr, Mo/Mohammed): a record
  uses one of the person's call names with ``P_CALL_NAME``. The table below is this generator's
  own; it holds more forms than ``mappings/name_variants.csv``, so what the hub links beyond its
  list is learnt, not looked up (``covered_by_list`` in the output says how many uses the list knows);
* **missing birth dates** on ``P_NO_BIRTH_DATE`` of the records, and a few unknown days
  registered as 01.01.;
* **large clusters**: records per person drawn from a heavy-tailed distribution (mean about 9,
  up to ``MAX_RECORDS``), so many pairs are linked only through a third record;
* ordinary noise: typing errors, day and month swapped, a year mistyped, a missing family name,
  birth places spelled differently or left out;
* **households**: siblings share family name, birth place and often a birth year; a few twins
  share the birth date too. They are the false matches a linker must not make.

Names come from the project's synthetic name tables (several origins) plus the English and German
names of the call-name table: other people than the samples, same kind of population.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

P_CALL_NAME = 0.3
P_NO_BIRTH_DATE = 0.2
P_PLACEHOLDER_DATE = 0.03
P_TYPO = 0.08  # per name field
P_SWAP_DAY_MONTH = 0.02
P_YEAR_TYPO = 0.02
P_NO_FAMILY_NAME = 0.04
P_NO_PLACE = 0.15
P_PLACE_VARIANT = 0.15
P_FORMAL_NAME = 0.4  # a person's given name is one with call names in the table
P_SIBLING = 0.3  # a person has a sibling in the population
P_TWIN = 0.03  # a sibling is a twin (same birth date)
MAX_RECORDS = 40
SOURCES = ("caritas", "awo", "diakonie")

# formal name: call names a person may go by (the generator's own table, see the module docstring)
CALL_NAMES: dict[str, tuple[str, ...]] = {
    "thomas": ("tom", "tommy"),
    "william": ("bill", "will", "billy"),
    "robert": ("bob", "rob", "bobby"),
    "richard": ("rick", "dick", "richie"),
    "james": ("jim", "jimmy", "jamie"),
    "michael": ("mike", "micha"),
    "elizabeth": ("liz", "beth", "betty", "lisa"),
    "katharina": ("kathi", "katja", "kati"),
    "margarete": ("grete", "margit", "meta"),
    "johannes": ("hannes", "jo", "hans"),
    "alexander": ("alex", "sascha"),
    "christina": ("tina", "chris"),
    "oleksandr": ("sasha", "sanya", "oles"),
    "oleksandra": ("sasha", "lesia"),
    "mykhailo": ("misha", "mysha"),
    "dmytro": ("dima", "dimon"),
    "kateryna": ("katya", "katia"),
    "volodymyr": ("volodia", "vova"),
    "anastasiia": ("nastia", "nastya"),
    "yevhenii": ("zhenia", "zhenya"),
    "mohammed": ("mo", "hamoudi", "moe"),
    "abdullah": ("abdu", "abdo"),
    "abdulrahman": ("abed", "abdo"),
    "fatima": ("fati", "tima"),
    "mustafa": ("musti", "memo"),
    "ibrahim": ("ibo", "brahim"),
    "mehmet": ("memo", "memet"),
    "ahmad": ("hamada", "ahmed"),
    "khadija": ("dija", "khadi"),
    "yusuf": ("yusi", "jo"),
}
FEMALE_FORMAL = {"elizabeth", "katharina", "margarete", "christina", "oleksandra", "kateryna", "anastasiia", "fatima", "khadija"}


@dataclass
class Person:
    number: int
    sex: str
    given: str
    family: str
    birth: tuple[int, int, int]
    place: str  # its spellings, the usual one first, joined by /


def _name_tables() -> tuple[list[str], list[str], list[str], list[str]]:
    """Male and female given names, family names and birth places from the synthetic tables."""
    from kim_hub.synth import data

    male, female, family, places = set(), set(), set(), set()
    for name in dir(data):
        value = getattr(data, name)
        if not isinstance(value, tuple) or not value:
            continue
        if name.endswith(("_MALE", "_MALE_COMMON", "_MALE_EXTRA")):
            male.update(v.lower() for v in value if isinstance(v, str))
        elif name.endswith(("_FEMALE", "_FEMALE_COMMON", "_FEMALE_EXTRA")):
            female.update(v.lower() for v in value if isinstance(v, str))
        elif name.endswith("_FAMILY"):
            family.update(v.lower() for v in value if isinstance(v, str))
        elif name.endswith("_PLACES"):
            places.update("/".join(v) for v in value if isinstance(v, tuple) and v and isinstance(v[0], str))
    male.update(f for f in CALL_NAMES if f not in FEMALE_FORMAL)
    female.update(FEMALE_FORMAL)
    family.update(("smith", "miller", "schneider", "fischer", "weber", "wagner", "becker", "hoffmann"))
    return sorted(male), sorted(female), sorted(family), sorted(places)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.3:
        return text[:i] + text[i + 1 :]
    if kind < 0.6:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind < 0.8:
        return text[:i] + rng.choice("aeiounrstlm") + text[i + 1 :]
    return text[:i] + rng.choice("aeiounrstlm") + text[i:]


def _records_per_person(rng: random.Random) -> int:
    """Heavy-tailed: many with a few records, some with dozens (mean about 9)."""
    return min(MAX_RECORDS, 1 + int(rng.paretovariate(1.4) * 3.2) - 3 + rng.randrange(3))


def _given_name(rng: random.Random, sex: str, male: list[str], female: list[str]) -> str:
    if rng.random() < P_FORMAL_NAME:
        return rng.choice([f for f in CALL_NAMES if (f in FEMALE_FORMAL) == (sex == "F")])
    return rng.choice(male if sex == "M" else female)


def population(persons: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    male, female, family, places = _name_tables()
    people: list[Person] = []
    while len(people) < persons:
        sex = rng.choice("MF")
        given = _given_name(rng, sex, male, female)
        birth = (rng.randint(1950, 2015), rng.randint(1, 12), rng.randint(1, 28))
        person = Person(len(people), sex, given, rng.choice(family), birth, rng.choice(places))
        people.append(person)
        if rng.random() < P_SIBLING and len(people) < persons:
            sib_sex = rng.choice("MF")
            twin = rng.random() < P_TWIN / P_SIBLING
            year = birth[0] if twin or rng.random() < 0.3 else birth[0] + rng.choice((-3, -2, -1, 1, 2, 3))
            sib_birth = birth if twin else (year, rng.randint(1, 12), rng.randint(1, 28))
            sib_given = given
            while sib_given == given:
                sib_given = _given_name(rng, sib_sex, male, female)
            people.append(Person(len(people), sib_sex, sib_given, person.family, sib_birth, person.place))
    return people


def _record(rng: random.Random, person: Person, call_names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    given = person.given
    if call_names.get(given) and rng.random() < P_CALL_NAME:
        given = rng.choice(call_names[given])
    if rng.random() < P_TYPO:
        given = _typo(rng, given)
    family = "" if rng.random() < P_NO_FAMILY_NAME else person.family
    if family and rng.random() < P_TYPO:
        family = _typo(rng, family)
    year, month, day = person.birth
    birth = ""
    if rng.random() >= P_NO_BIRTH_DATE:
        if rng.random() < P_YEAR_TYPO:
            year += rng.choice((-1, 1, 10, -10))
        if rng.random() < P_PLACEHOLDER_DATE:
            month, day = 1, 1
        elif rng.random() < P_SWAP_DAY_MONTH and day <= 12:
            month, day = day, month
        birth = f"{day:02d}.{month:02d}.{year:04d}"
    spellings = person.place.split("/")  # the place's usual spelling, then its variants
    place = "" if rng.random() < P_NO_PLACE else spellings[0]
    if place and rng.random() < P_PLACE_VARIANT:
        place = rng.choice(spellings[1:]) if len(spellings) > 1 else _typo(rng, place)
    return {"given_names": given, "family_name": family, "birth_date": birth, "sex": person.sex, "birth_place": place}


def write(out: Path, persons: int, seed: int, unlisted: bool = False) -> dict[str, int]:
    """Write the inboxes and truth.csv; return counts (records, persons, call-name uses and how
    many of them mappings/call_names.csv knows). ``unlisted``: people use only the call names the
    list does not know for their formal name (what the hub links without the list)."""
    from kim_hub.linkage import normalise
    from kim_hub.linkage.normalise import canonical, fold, variant_group

    formal_names = getattr(normalise, "formal_names", lambda _token: ())  # a hub before the call-name list knows none

    def listed(formal: str, call: str) -> bool:
        return variant_group(canonical(fold(formal))) in {variant_group(canonical(f)) for f in formal_names(fold(call))}

    call_names = {f: tuple(c for c in calls if not (unlisted and listed(f, c))) for f, calls in CALL_NAMES.items()}

    rng = random.Random(seed + 1)
    rows: dict[str, list[dict[str, str]]] = {s: [] for s in SOURCES}
    truth: list[tuple[str, str, int]] = []
    call_uses = covered = 0
    for person in population(persons, seed):
        for _ in range(_records_per_person(rng)):
            source = rng.choice(SOURCES)
            record = _record(rng, person, call_names)
            record["record_id"] = f"{source[:2].upper()}-{len(truth) + 1:07d}"
            record["consent_recipients"] = "kim"
            if record["given_names"] in CALL_NAMES.get(person.given, ()):
                call_uses += 1
                covered += listed(person.given, record["given_names"])
            rows[source].append(record)
            truth.append((source, record["record_id"], person.number))
    columns = ["record_id", "family_name", "given_names", "birth_date", "sex", "birth_place", "consent_recipients"]
    for source, records in rows.items():
        folder = out / "inbox" / source
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{source}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(records)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "record_id", "person"])
        writer.writerows(truth)
    return {"records": len(truth), "persons": persons, "call_name_uses": call_uses, "covered_by_list": covered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unlisted", action="store_true", help="only call names mappings/call_names.csv does not know")
    args = parser.parse_args()
    print(write(args.out, args.persons, args.seed, args.unlisted))


if __name__ == "__main__":
    main()
