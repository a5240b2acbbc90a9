"""Comparison vectors: how two encoded records agree, field by field, in graded levels.

Each field gets an agreement level (higher = stronger agreement, ``MISSING`` = no evidence either
way). The levels are what the Fellegi–Sunter model weighs; their order and meaning are fixed here,
their weights are learnt from the data (``linkage.estimate``). Names are compared in both
orientations (given/family swapped at intake) and over every recorded spelling of each record.
"""

from __future__ import annotations

from dataclasses import dataclass

from kim_hub.linkage.encode import DateCode, NameCode, NamePart, RecordEncoding
from kim_hub.linkage.keyed import bloom_similarity
from kim_hub.mappings.identifier_policy import identifier_policy

MISSING = -1

# field name → human meaning of each level (index = level). Used by EM, review and reports.
LEVELS: dict[str, tuple[str, ...]] = {
    "family_name": ("different", "similar spelling", "close spelling", "transliteration variant", "same"),
    "given_names": ("different", "similar spelling", "transliteration variant", "one name shared", "same"),
    "birth_date": (
        "different",
        "same year, day/month differ",
        "same year, one date imprecise",
        "one part differs",
        "day and month swapped",
        "same placeholder date",
        "same",
    ),
    "sex": ("different", "same"),
    "nationality": ("different", "shared"),
    "birth_place": ("different", "similar spelling", "same"),
    "address": (
        "different",
        "postcode one typo apart, or street spelled alike",
        "same postcode, or same street and number",
        "same street and number",
    ),
    "azr": ("different", "one typo apart", "same"),
    "jobcenter_no": ("different", "same"),
}
FIELDS: tuple[str, ...] = tuple(LEVELS)
FAMILY, GIVEN, DATE = 0, 1, 2

# May agreement on the identifier be the only evidence of a link? Not for the AZR number (§ 10
# Abs. 4 AZRG: only together with the basic personal data) nor the job centre's numbers: the
# identifier policy says so (mappings/identifier_policy.toml, ``alone``).
AZR_ALONE = identifier_policy().rules["azr_number"].alone
JOBCENTER_NO_ALONE = identifier_policy().rules["jobcenter_customer_no"].alone

NAME_BLOOM_CLOSE = 0.75
NAME_BLOOM_SIMILAR = 0.55
PLACE_BLOOM_SIMILAR = 0.6


@dataclass(frozen=True, slots=True)
class Comparison:
    """The levels of one record pair plus the tokens that term-frequency adjustment needs."""

    levels: tuple[int, ...]
    family_token: int | None  # the shared canonical family-name token (for frequency weights)
    given_token: int | None
    date_token: int | None
    swapped: bool


def compare(a: RecordEncoding, b: RecordEncoding) -> Comparison:
    """Compare two records on every field."""
    family, given, family_token, given_token, swapped = _compare_names(a.names, b.names)
    date_level, date_token = _compare_dates(a.birth_date, b.birth_date)
    return Comparison(
        levels=(
            family,
            given,
            date_level,
            _equal_level(a.sex, b.sex),
            _nationality_level(a.nationalities, b.nationalities),
            _place_level(a, b),
            _address_level(a, b),
            _identifier_level(a.azr, b.azr, a.azr_neighbours, b.azr_neighbours),
            _equal_level(a.jobcenter_no, b.jobcenter_no),
        ),
        family_token=family_token,
        given_token=given_token,
        date_token=date_token,
        swapped=swapped,
    )


def _compare_names(a_names: tuple[NameCode, ...], b_names: tuple[NameCode, ...]) -> tuple[int, int, int | None, int | None, bool]:
    """The best (family, given) levels over every spelling pair and both orientations.

    Symmetric: compare(a, b) equals compare(b, a), so a pair scores the same whichever record was
    stored first (row order follows the order of imports, which concurrent runs change). Either
    record's intake may have swapped the names, so a swapped spelling pair is graded both ways
    (each cross pair once on the family-name scale); and the best is chosen by its levels, then
    the smaller token, never by which candidate came first.
    """
    best: tuple[int, int, int | None, int | None, bool] = (MISSING, MISSING, None, None, False)
    best_rank: tuple[int, ...] = (-10,)
    for a in a_names:
        for b in b_names:
            for candidate in _orientations(a.parts, b.parts):
                rank = _name_rank(candidate)
                if rank > best_rank:
                    best, best_rank = candidate, rank
    return best


def _orientations(
    a: tuple[NamePart, NamePart], b: tuple[NamePart, NamePart]
) -> list[tuple[int, int, int | None, int | None, bool]]:
    """(family, given, family token, given token, swapped) of one spelling pair: as recorded,
    swapped at b's intake, swapped at a's intake."""
    (a_family, a_given), (b_family, b_given) = a, b
    graded = (
        (_family_level(a_family, b_family), _given_level(a_given, b_given), False),
        (_family_level(a_family, b_given), _given_level(a_given, b_family), True),
        (_family_level(a_given, b_family), _given_level(a_family, b_given), True),
    )
    return [(fam, giv, fam_token, giv_token, swapped) for (fam, fam_token), (giv, giv_token), swapped in graded]


def _name_rank(candidate: tuple[int, int, int | None, int | None, bool]) -> tuple[int, ...]:
    """Higher is better: the levels' total (a swap must explain both parts better, so it costs a
    point, and at an equal total the names as recorded win), then the family level, the given
    level, and the smaller tokens (as within one spelling pair)."""
    fam, giv, fam_token, giv_token, swapped = candidate
    none = -1  # columnar.NONE: tokens are non-negative
    return (
        fam + giv - (1 if swapped else 0),
        not swapped,
        fam,
        giv,
        -(none if fam_token is None else fam_token),
        -(none if giv_token is None else giv_token),
    )


def _family_level(a: NamePart, b: NamePart) -> tuple[int, int | None]:
    if a.empty or b.empty:
        return MISSING, None
    shared = a.canonical & b.canonical
    if shared:
        return 4, min(shared)
    if a.joined is not None and a.joined == b.joined:
        return 4, a.joined
    if a.skeletons & b.skeletons:
        return 3, None
    similarity = bloom_similarity(a.bloom, a.bloom_bits, b.bloom, b.bloom_bits)
    if similarity >= NAME_BLOOM_CLOSE:
        return 2, None
    if similarity >= NAME_BLOOM_SIMILAR:
        return 1, None
    return 0, None


def _given_level(a: NamePart, b: NamePart) -> tuple[int, int | None]:
    """Skeleton agreement counts; Kölner Phonetik serves blocking only (as a comparison level it
    added false agreement without finding more true matches)."""
    if a.empty or b.empty:
        return MISSING, None
    if a.joined is not None and a.joined == b.joined:
        return 4, a.joined
    shared = a.canonical & b.canonical
    if shared:
        return (4 if a.canonical == b.canonical else 3), min(shared)
    if a.skeletons & b.skeletons:
        return 2, None
    if bloom_similarity(a.bloom, a.bloom_bits, b.bloom, b.bloom_bits) >= NAME_BLOOM_SIMILAR:
        return 1, None
    return 0, None


def _compare_dates(a: DateCode | None, b: DateCode | None) -> tuple[int, int | None]:
    if a is None or b is None:
        return MISSING, None
    if a.ymd is not None and a.ymd == b.ymd:
        return (5 if a.placeholder or b.placeholder else 6), a.ymd
    if a.placeholder and b.placeholder and a.year == b.year:
        # 01.01.1990 and 00.00.1990: one convention for "day unknown"; of two known dates the
        # smaller token, so that the pair's frequency weight does not depend on which comes first
        return 5, min((d for d in (a.ymd, b.ymd) if d is not None), default=None)
    imprecise = a.placeholder or b.placeholder or a.ymd is None or b.ymd is None
    if a.year == b.year:
        return _same_year_level(a, b, imprecise), None
    if not imprecise and a.md is not None and a.md == b.md:
        return 3, None  # year mistyped
    return 0, None


def _same_year_level(a: DateCode, b: DateCode, imprecise: bool) -> int:
    """Two dates of one year, not equal: day and month swapped (4), the same month (3), another
    day (1); 2 when either date lacks its day or is a placeholder."""
    if imprecise:
        return 2
    if a.ydm is not None and a.ydm == b.ymd:
        return 4
    if a.ym == b.ym:
        return 3
    return 1


def _equal_level(a: object | None, b: object | None) -> int:
    if a is None or b is None:
        return MISSING
    return 1 if a == b else 0


def _nationality_level(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    if not a or not b:
        return MISSING
    return 1 if set(a) & set(b) else 0


def _place_level(a: RecordEncoding, b: RecordEncoding) -> int:
    x, y = a.birth_place, b.birth_place
    if x is None or y is None:
        return MISSING
    if x[0] == y[0] or x[1] == y[1]:
        return 2
    similarity = bloom_similarity(x[2], a.birth_place_bloom_bits, y[2], b.birth_place_bloom_bits)
    return 1 if similarity >= PLACE_BLOOM_SIMILAR else 0


def _address_level(a: RecordEncoding, b: RecordEncoding) -> int:
    """Street (with number) and postcode, each compared only where both records have it.

    A postcode one record lacks is no evidence either way, so the same street and number then
    agree fully (3); beside a different postcode (a typo, a stripped digit) they still agree in
    part (2), as does the same postcode alone. A street spelled alike (its letters' skeleton and
    the number: 'Andrea Palce 14', 'Andrea Place 14') counts as the same beside the same postcode
    and as part without one; beside another postcode, and a postcode one typo apart on its own,
    are near (1). How much each level says is learnt per installation: in a city whose postcodes
    differ in one digit, "near" is common among strangers and weighs little.
    """
    no_postcode = a.postcode is None or b.postcode is None
    same_postcode = not no_postcode and a.postcode == b.postcode
    if a.street is not None and a.street == b.street:
        return 3 if no_postcode or same_postcode else 2
    if a.street_alike is not None and a.street_alike == b.street_alike:
        return 3 if same_postcode else 2 if no_postcode else 1
    if no_postcode:
        return MISSING if a.street is None or b.street is None else 0
    if same_postcode:
        return 2
    return 1 if set(a.postcode_neighbours) & set(b.postcode_neighbours) else 0


def _identifier_level(a: int | None, b: int | None, a_near: tuple[int, ...], b_near: tuple[int, ...]) -> int:
    if a is None or b is None:
        return MISSING
    if a == b:
        return 2
    return 1 if set(a_near) & set(b_near) else 0


def individual_evidence(comparison: Comparison) -> bool:
    """Does the pair agree on something only the *person* has, not the household?

    Siblings share family name, address, birth place, nationality and often a 01.01. birth year;
    none of that tells one sister from the other. An automatic link therefore needs agreement on
    the given name (any level), on an identifier, or — where a record has no given name — on a
    precise birth date. Without it a pair can at most go to review. An identifier the policy
    does not let stand alone (the AZR number) counts only where the basic personal data agree
    too: the family name or the birth date, at any level.
    """
    levels = dict(zip(FIELDS, comparison.levels))
    if levels["given_names"] >= 1:
        return True
    with_person = levels["family_name"] >= 1 or levels["birth_date"] >= 1
    if levels["azr"] >= 1 and (AZR_ALONE or with_person):
        return True
    if levels["jobcenter_no"] == 1 and (JOBCENTER_NO_ALONE or with_person):
        return True
    return levels["given_names"] == MISSING and levels["birth_date"] == len(LEVELS["birth_date"]) - 1


def identifiers_conflict(a: RecordEncoding, b: RecordEncoding) -> bool:
    """Two AZR numbers from the register's keeper, more than a typo apart: two people.

    Only the foreigners authority's own records carry this weight; an AZR number typed into a
    job-centre or provider system may be a family member's, so there a difference is strong
    evidence (weighed by the model), not a veto.
    """
    if not (a.azr_authoritative and b.azr_authoritative):
        return False
    return _identifier_level(a.azr, b.azr, a.azr_neighbours, b.azr_neighbours) == 0
