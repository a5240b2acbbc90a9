"""`kim-hub generate | schema | demo`: synthetic data, the case-summary contract, and the demo run.

The demo is what `make run` calls: a synthetic population dropped into a fresh home's inboxes,
one real sync flow, and the result scored against the generator's truth.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kim_hub.cli.commands import EXIT_OK, CommandGroup, home_of
from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.home import HubHome

DEMO_PERSONS = 1500
DEMO_SEED = 7


def register(commands: CommandGroup) -> None:
    generate = commands.command(
        "generate",
        cmd_generate,
        "Write synthetic drop files (with truth.csv) for demos, tests and benchmarks.",
        "kim-hub generate /tmp/drops --persons 2000 --seed 1 --status-messages --departures 0.05",
        home=False,
    )
    generate.add_argument("outdir", help="folder to write inbox/<source>/*.csv and truth.csv into")
    generate.add_argument("--persons", type=int, required=True, help="number of synthetic persons")
    generate.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    generate.add_argument(
        "--status-messages",
        action="store_true",
        help="also the authority's status messages (recognitions) as XML, for gaps and transitions",
    )
    generate.add_argument(
        "--departures",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="with --status-messages: this share of the other authority records also get a message that the case "
        "leaves the city (ausreise, zustaendigkeitswechsel, tod; schema 1.1); default 0",
    )
    commands.command(
        "schema",
        cmd_schema,
        "Print the JSON Schema of the standard case summary.",
        "kim-hub schema > case-summary.schema.json",
        home=False,
    )
    demo = commands.command(
        "demo",
        cmd_demo,
        "Generate demo data into the home's inboxes, run one full cycle, report (what `make run` does).",
        "kim-hub demo --persons 500 --home /tmp/kim-demo",
    )
    demo.add_argument("--persons", type=int, default=DEMO_PERSONS, help=f"synthetic persons (default {DEMO_PERSONS})")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)


def cmd_generate(args: argparse.Namespace) -> int:
    from kim_hub.synth import generate

    if args.persons < 1:
        raise ConfigError("--persons must be at least 1")
    if not 0 <= args.departures <= 1:
        raise ConfigError("--departures must be a share between 0 and 1")
    started = time.perf_counter()
    summary = generate(Path(args.outdir), args.persons, args.seed)
    if args.status_messages:
        from kim_hub.synth.generator import DEFAULT_EXPORT_DAY
        from kim_hub.synth.status_messages import RECOGNITION, write_status_messages

        messages = write_status_messages(Path(args.outdir), DEFAULT_EXPORT_DAY, args.seed, departures=args.departures)
        departed = sum(1 for m in messages if m.kind != RECOGNITION)
        print(f"{len(messages) - departed} status messages of the foreigners authority (Rechtskreiswechsel)")
        if departed:
            print(f"{departed} messages that a case leaves the city (ausreise, zustaendigkeitswechsel, tod)")
    elapsed = time.perf_counter() - started
    print(f"{summary.persons} persons, {summary.records} records written to {args.outdir} in {elapsed:.1f} s")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from kim_hub.mappings.case_summary import CaseSummary

    print(json.dumps(CaseSummary.model_json_schema(), indent=2))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from kim_hub.cli.sync import print_summary, run_sync
    from kim_hub.linkage.evaluate import pairwise_score
    from kim_hub.pipeline.links import link_rows, write_links_csv
    from kim_hub.pipeline.record_ids import RecordIdForms
    from kim_hub.pipeline.setup import initialise

    home = home_of(args)
    initialise(home)
    generated_persons = _drop_demo_files(home, args.persons, args.seed)
    started = time.perf_counter()
    summary = run_sync(home)
    elapsed = time.perf_counter() - started
    print_summary(summary)

    rows = link_rows(home)
    links_file = home.reports / "links.csv"
    with links_file.open("w", newline="", encoding="utf-8") as handle:
        write_links_csv(handle, rows)
    forms = RecordIdForms.of(home, home.load_config())  # the truth names ids as written; the hub stores tokens of some
    with (home.reports / "demo-truth.csv").open(encoding="utf-8") as handle:
        truth = {(r["source"], forms.stored(r["source"], r["record_id"])): r["person"] for r in csv.DictReader(handle)}
    score = pairwise_score(truth, {(r[0], r[1]): r[2] for r in rows})
    report = {
        "persons_generated": generated_persons,
        "records": len(rows),
        "persons_in_index": len({r[2] for r in rows}),
        "pairwise": {"precision": round(score.precision, 4), "recall": round(score.recall, 4), "f1": round(score.f1, 4)},
        "sync_seconds": round(elapsed, 1),
        "summary": summary,
    }
    report_file = home.reports / "demo-report.json"
    report_file.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"\ndemo: {len(rows)} records of {generated_persons} synthetic persons -> {report['persons_in_index']} persons in the index; "
        f"pairwise P {score.precision:.3f} R {score.recall:.3f} F1 {score.f1:.3f} against the generator's truth"
    )
    print(f"results:  {links_file}   (kim-hub links --home {home.path})")
    print(f"summary:  {report_file}")
    print(f"report:   {home.reports / 'report.html'}   (open it in a browser; kim-hub report --home {home.path})")
    command = sys.argv[0] if Path(sys.argv[0]).name == "kim-hub" else "kim-hub"  # as invoked: .venv/bin/kim-hub from make run
    print("web app:  a reviewer account (asks for a password), then the server; sign in at http://127.0.0.1:8080/")
    print(f"          {command} users add reviewer --role reviewer --home {home.path}")
    print(f"          {command} web --home {home.path}")
    return EXIT_OK


def _drop_demo_files(home: HubHome, persons: int, seed: int) -> int:
    """Generate a population into the home's inboxes as finished deliveries; its truth goes to
    ``reports/demo-truth.csv``. Returns the number of persons generated."""
    from kim_hub.synth import generate

    with tempfile.TemporaryDirectory() as scratch:
        generated = generate(Path(scratch), persons, seed)
        for source_inbox in (Path(scratch) / "inbox").iterdir():
            target = home.inbox(source_inbox.name)
            target.mkdir(parents=True, exist_ok=True)
            for file in source_inbox.iterdir():
                shutil.copyfile(file, target / file.name)
                delivered = time.time() - 60  # a finished delivery: past the settle time
                os.utime(target / file.name, (delivered, delivered))
        shutil.copy2(Path(scratch) / "truth.csv", home.reports / "demo-truth.csv")
    return generated.persons
