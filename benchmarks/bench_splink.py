"""Splink (DuckDB backend) on a benchmark data set, on clear text, configured as its docs do it.

Input: the same clear identities kim-hub encodes, case-folded (``str.casefold``: ß → ss) and
accent-folded (NFKD, combining marks dropped), punctuation turned into spaces. Partial birth
dates (month or year only) have no full date: ``dob`` is NULL for them and only ``birth_year``
(used in blocking rules) carries the year.

Model, following Splink's person examples (deduplicate_50k_synthetic, febrl3, febrl4):

* comparisons (only for columns the data set fills): ``NameComparison`` on forename and on
  surname (Jaro-Winkler 0.92/0.88/0.7), ``DateOfBirthComparison``, postcode
  (Damerau-Levenshtein ≤ 1), street with house number (Jaro-Winkler ≥ 0.9), the identifier
  (AZR / soc_sec_id: exact, one edit), sex, job-centre number; term-frequency adjustments on
  names, postcode and street;
* blocking rules for prediction: full name, swapped name, dob, identifier, surname + year,
  forename + year, name prefixes + year, street + postcode, forename + postcode;
* ``estimate_probability_two_random_records_match`` from deterministic rules (full name + dob,
  identifier) at recall 0.7; ``estimate_u_using_random_sampling(max_pairs=1e6)`` (as Splink's
  FEBRL examples; 1e7 moved F1 by ≤ 0.003 and took 4× as long); EM sessions blocked on dob and
  on forename + surname + birth year, without term frequencies;
* ``predict`` above ``PREDICT_FLOOR``, then ``cluster_pairwise_predictions_at_threshold`` at
  every probability of ``THRESHOLD_GRID``: the benchmark keeps Splink's best-F1 threshold.

Tuned on samples/standard (README.md lists the variants tried): nationality and birth place
are left out (Splink's docs advise against columns that are predictable from others; both follow
the name's origin and the household here: F1 0.825 → 0.880 without them), and the name EM
session also blocks on the birth year (0.880 → 0.894). Splink is thus tuned to the sample,
kim-hub is not.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata

import pandas as pd
import splink
import splink.comparison_library as cl
from bench_data import BenchData
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

NAME = "splink"
NAME_MODE = "separate"  # "separate": NameComparison per part; "combined": ForenameSurnameComparison
CORRELATED = False  # also compare nationality and birth place (worse: see the module docstring)
U_MAX_PAIRS = 1e6
U_SEED = 1
PREDICT_FLOOR = 0.01
THRESHOLD_GRID = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999)
RETAIN = False  # keep gamma and matching columns in predictions (for diagnosis)
MIN_FILLED = 0.01  # a column enters the model when at least this share of records has it
_NON_WORD = re.compile(r"[^\w]+")


def fold(text: str | None) -> str | None:
    """Case- and accent-folded, punctuation as single spaces; empty → None."""
    if not text:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = " ".join(_NON_WORD.sub(" ", stripped).split())
    return cleaned or None


def prepare(data: BenchData) -> pd.DataFrame:
    rows = []
    for i, ident in enumerate(data.identities):
        bd = ident.birth_date
        dob = f"{bd.year:04d}-{bd.month:02d}-{bd.day:02d}" if bd and bd.day and bd.month else None
        given, surname = fold(ident.name.given_names), fold(ident.name.family_name)
        rows.append(
            {
                "unique_id": i,
                "given_name": given,
                "surname": surname,
                "full_name": f"{given} {surname}" if given and surname else None,
                "dob": dob,
                "birth_year": str(bd.year) if bd else None,
                "sex": ident.sex if ident.sex in ("M", "F", "X") else None,
                "nationality": "|".join(sorted(ident.nationalities)) or None,
                "birth_place": fold(ident.birth_place),
                "street": fold(ident.street),
                "postcode": fold(ident.postcode),
                "azr": ident.azr_number or None,
                "jobcenter_no": (ident.jobcenter_customer_no or "").upper() or None,
            }
        )
    return pd.DataFrame(rows)


def _filled(df: pd.DataFrame, column: str) -> bool:
    return bool(df[column].notna().mean() >= MIN_FILLED)


def settings_for(df: pd.DataFrame) -> tuple[SettingsCreator, list, list]:
    has = {c: _filled(df, c) for c in df.columns}
    deterministic = [block_on("given_name", "surname", "dob")]
    if has["azr"]:
        deterministic.append(block_on("azr"))
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=_blocking_rules(has),
        comparisons=_comparisons(has),
        retain_intermediate_calculation_columns=RETAIN,
        retain_matching_columns=RETAIN,
    )
    em_rules = [block_on("dob"), block_on("given_name", "surname", "birth_year")]
    return settings, deterministic, em_rules


def _comparisons(has: dict[str, bool]) -> list:
    """The comparison per field that is filled often enough."""
    comparisons = []
    if NAME_MODE == "combined":
        comparisons.append(cl.ForenameSurnameComparison("given_name", "surname", forename_surname_concat_col_name="full_name"))
    else:
        comparisons += [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        ]
    comparisons.append(
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d", invalid_dates_as_null=True)
    )
    if has["postcode"]:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True))
    if has["street"]:
        comparisons.append(cl.JaroWinklerAtThresholds("street", [0.9]).configure(term_frequency_adjustments=True))
    if has["azr"]:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("azr", [1]))
    if has["sex"]:
        comparisons.append(cl.ExactMatch("sex"))
    if CORRELATED and has["nationality"]:
        comparisons.append(cl.ExactMatch("nationality").configure(term_frequency_adjustments=True))
    if CORRELATED and has["birth_place"]:
        comparisons.append(cl.JaroWinklerAtThresholds("birth_place", [0.9]).configure(term_frequency_adjustments=True))
    if has["jobcenter_no"]:
        comparisons.append(cl.ExactMatch("jobcenter_no"))
    return comparisons


def _blocking_rules(has: dict[str, bool]) -> list:
    """Names and birth date always; identifiers and address where they are filled."""
    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("dob"),
        block_on("surname", "birth_year"),
        block_on("given_name", "birth_year"),
        block_on("substr(given_name,1,2)", "substr(surname,1,2)", "birth_year"),
    ]
    if has["azr"]:
        blocking.append(block_on("azr"))
    if has["street"] and has["postcode"]:
        blocking.append(block_on("street", "postcode"))
    if has["postcode"]:
        blocking.append(block_on("given_name", "postcode"))
    if has["jobcenter_no"]:
        blocking.append(block_on("jobcenter_no"))
    return blocking


def link(df: pd.DataFrame, thresholds: list[float] | None = None) -> dict:
    """Train, predict and cluster; clustering is timed per threshold (only one is kept)."""
    thresholds = list(thresholds or THRESHOLD_GRID)
    started = time.perf_counter()
    settings, deterministic, em_rules = settings_for(df)
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(df), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=U_SEED)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR, warning_mode="never")
    base = time.perf_counter() - started
    candidates = {}
    for threshold in thresholds:
        started = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        seconds = time.perf_counter() - started
        labels = dict(zip(clusters["unique_id"].astype(int), clusters["cluster_id"]))
        candidates[threshold] = (labels, seconds)
    return {"base_seconds": base, "candidates": candidates}


def describe() -> dict:
    return {
        "version": splink.__version__,
        "backend": "duckdb",
        "link_type": "dedupe_only (FEBRL4: A and B as one pool)",
        "names": NAME_MODE,
        "nationality_and_birth_place": CORRELATED,
        "u_max_pairs": U_MAX_PAIRS,
        "prior": "deterministic rules [full name + dob, identifier], recall 0.7",
        "em_sessions": ["dob", "given_name + surname + birth_year"],
        "predict_floor": PREDICT_FLOOR,
        "threshold_grid": list(THRESHOLD_GRID),
    }
