"""The `kim-hub` command line. Thin: every command calls a flow or one of the rooms below.

Exit codes: 0 ok, 1 the run finished but rows were rejected, 2 usage or configuration error,
3 the hub refused to run (e.g. an exposed key file).
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kim_hub.connectors.errors import ConfigError, FatalError, HubError
from kim_hub.connectors.receipts import spreadsheet_safe
from kim_hub.flows.home import DEFAULT_SOURCES, HubConfig, HubHome, SourceConfig, default_source

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
LINKS_HEADER = ("source", "record_id", "person_id", "link_status", "score")
DEMO_PERSONS = 1500
DEMO_SEED = 7


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args) or EXIT_OK)
    except ConfigError as exc:
        print(f"kim-hub: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FatalError as exc:
        print(f"kim-hub: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except HubError as exc:
        print(f"kim-hub: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kim-hub",
        description="Integration hub for KIM NRW: pseudonymised master index across providers, job centre and "
        "foreigners authority. Every command works on one home folder (--home, $KIM_HUB_HOME, or ./kim-home).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Any, help_text: str, home: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if home:
            sub.add_argument("--home", help="the hub's home folder (default: $KIM_HUB_HOME or ./kim-home)")
        sub.set_defaults(handler=handler)
        return sub

    command("init", cmd_init, "Create the home folder: hub.toml with the default sources, secret key, database.")

    sources = commands.add_parser("sources", help="List or add the sources the hub pulls from.")
    source_commands = sources.add_subparsers(title="sources commands", metavar="SUBCOMMAND")
    add = source_commands.add_parser("add", help="Add a source and create its inbox folder.")
    add.add_argument("name", help="source name, e.g. caritas (letters, digits, - and _)")
    add.add_argument("--connector", default="provider-csv", help="registered connector (default: provider-csv)")
    add.add_argument("--home", help="the hub's home folder")
    add.set_defaults(handler=cmd_sources_add)
    listing = source_commands.add_parser("list", help="Show the configured sources and installed connectors.")
    listing.add_argument("--home", help="the hub's home folder")
    listing.set_defaults(handler=cmd_sources_list)
    checking = source_commands.add_parser(
        "check", help="Check every source: connectors installed, folders usable, APIs reachable."
    )
    checking.add_argument("--home", help="the hub's home folder")
    checking.set_defaults(handler=cmd_sources_check)

    ingest = command("ingest", cmd_ingest, "Run one sync cycle (a Prefect flow) over the inboxes, then link.")
    ingest.add_argument("--source", action="append", help="only this source (repeatable)")
    ingest.add_argument("--verbose", action="store_true", help="show Prefect's run log on the terminal")

    estimate = command(
        "reestimate", cmd_reestimate, "Re-learn the linkage model from the whole index (a Prefect flow); stores a new version."
    )
    estimate.add_argument("--relink", action="store_true", help="then re-cluster the whole index under the new model")

    erase_command = command("erase", cmd_erase, "Erase one record everywhere in the hub (and its person with its last record).")
    erase_command.add_argument("--source", required=True)
    erase_command.add_argument("--record-id", required=True, help="the source's record id as `kim-hub links` shows it")
    keys = commands.add_parser("keys", help="The secret key: rotate it.")
    key_commands = keys.add_subparsers(title="keys commands", metavar="SUBCOMMAND")
    rotate = key_commands.add_parser(
        "rotate", help="New key version; every encoding re-made from the kept deliveries; old key destroyed."
    )
    rotate.add_argument("--home", help="the hub's home folder")
    rotate.set_defaults(handler=cmd_keys_rotate)

    command("push", cmd_push, "Send changed case summaries and due withdrawal notices to the bodies' outboxes (a flow).")
    audit_command = command(
        "audit", cmd_audit, "Show the audit trail: transfers, withdrawal notices, review decisions, erasures, link events."
    )
    audit_command.add_argument("--kind", help="only this kind (transfer, withdrawal_notice, review_decision, erasure, link)")
    audit_command.add_argument("--limit", type=int, default=50)

    gaps = command(
        "gaps", cmd_gaps, "Chain gaps by district: recognised, newly in SGB II or a closed case, and no active case anywhere."
    )
    gaps.add_argument("--format", choices=("text", "json"), default="text")
    changes = command(
        "transitions", cmd_transitions, "Rechtskreiswechsel by district: reported changes of residence status or legal framework."
    )
    changes.add_argument("--format", choices=("text", "json"), default="text")

    command(
        "serve",
        cmd_serve,
        "Run the flows on their schedules (Prefect deployments; one per source plus maintenance) until stopped.",
    )
    command("retention", cmd_retention, "Erase records whose case closed longer ago than their source's retention_days (a flow).")

    links = command("links", cmd_links, "Print every ingested record with its person pseudonym.")
    links.add_argument("--format", choices=("csv", "json"), default="csv")
    links.add_argument("--out", help="write to this file instead of standard output")

    generate = command(
        "generate", cmd_generate, "Write synthetic drop files (with truth.csv) for demos, tests and benchmarks.", home=False
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

    review = commands.add_parser("review", help="The review queue: uncertain pairs, with evidence but no names.")
    review_commands = review.add_subparsers(title="review commands", metavar="SUBCOMMAND")
    review_list = review_commands.add_parser("list", help="Show review items with per-field evidence and score.")
    review_list.add_argument("--home", help="the hub's home folder")
    review_list.add_argument("--status", choices=("open", "same", "different", "all"), default="open")
    review_list.add_argument("--limit", type=int, default=50, help="show at most this many (0 = all)")
    review_list.add_argument("--format", choices=("text", "json"), default="text")
    review_list.set_defaults(handler=cmd_review_list)
    review_decide = review_commands.add_parser("decide", help="Decide a review item: the clustering respects it from then on.")
    review_decide.add_argument("item", type=int, help="review item id (from 'review list')")
    review_decide.add_argument("decision", choices=("same", "different"))
    review_decide.add_argument("--home", help="the hub's home folder")
    review_decide.set_defaults(handler=cmd_review_decide)

    command("schema", cmd_schema, "Print the JSON Schema of the standard case summary.", home=False)
    demo = command(
        "demo", cmd_demo, "Generate demo data into the home's inboxes, run one full cycle, report (what `make run` does)."
    )
    demo.add_argument("--persons", type=int, default=DEMO_PERSONS, help=f"synthetic persons (default {DEMO_PERSONS})")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)

    from kim_hub.flows.report_cli import add_commands as add_report_commands

    add_report_commands(commands)
    return parser


def _home(args: argparse.Namespace) -> HubHome:
    return HubHome.resolve(getattr(args, "home", None))


def _flows(home: HubHome, verbose: bool = False) -> Any:
    """The flows module, imported only after Prefect is pointed at this home (see flows.runtime)."""
    home.load_config()
    from kim_hub.flows.runtime import prepare_prefect

    prepare_prefect(home, verbose)
    from kim_hub.flows import sync

    return sync


def cmd_init(args: argparse.Namespace) -> int:
    home = _home(args)
    initialise(home)
    print(f"kim-hub home ready: {home.path}")
    print(f"  configuration  {home.config_file}")
    print(f"  inboxes        {home.path / 'inbox'}/<source>/")
    return EXIT_OK


def initialise(home: HubHome) -> HubConfig:
    """Create (or complete) a home; safe to run again: nothing existing is overwritten."""
    from kim_hub.hub_db.database import upgrade
    from kim_hub.hub_db.keystore import create_key

    home.path.mkdir(parents=True, exist_ok=True)
    if home.exists():
        config = home.load_config()
    else:
        config = HubConfig(sources={name: default_source(name) for name in DEFAULT_SOURCES})
        home.save_config(config)
    for name in config.sources:
        home.inbox(name).mkdir(parents=True, exist_ok=True)
    home.var.mkdir(parents=True, exist_ok=True)
    home.reports.mkdir(parents=True, exist_ok=True)
    create_key(home.key_dir(config))
    upgrade(home.database_url(config))
    return config


def cmd_sources_add(args: argparse.Namespace) -> int:
    from kim_hub.connectors.registry import load_connector

    home = _home(args)
    config = home.load_config()
    if not args.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"source name {args.name!r}: use letters, digits, '-' and '_' only")
    load_connector(args.connector)
    config.sources[args.name] = SourceConfig(connectors=[args.connector])
    home.save_config(config)
    home.inbox(args.name).mkdir(parents=True, exist_ok=True)
    print(f"source {args.name} added ({args.connector}); drop files into {home.inbox(args.name)}")
    return EXIT_OK


def cmd_sources_list(args: argparse.Namespace) -> int:
    from kim_hub.connectors.registry import available_connectors

    home = _home(args)
    config = home.load_config()
    print("sources:")
    for name, source in config.sources.items():
        print(f"  {name:12} {', '.join(source.connectors):30} {home.inbox(name)}")
    print("installed connectors: " + ", ".join(sorted(available_connectors())))
    return EXIT_OK


def cmd_sources_check(args: argparse.Namespace) -> int:
    from kim_hub.flows.source_check import check_sources

    home = _home(args)
    results = check_sources(home, home.load_config())
    for source, checks in results.items():
        for what, health in checks:
            print(f"{'ok  ' if health.ok else 'FAIL'} {source:12} {what:22} {health.detail}")
    return EXIT_OK if all(h.ok for checks in results.values() for _w, h in checks) else EXIT_REJECTED


def cmd_ingest(args: argparse.Namespace) -> int:
    home = _home(args)
    summary = run_sync(home, args.source, verbose=args.verbose)
    _print_summary(summary)
    return EXIT_REJECTED if summary["records_rejected"] else EXIT_OK


def run_sync(home: HubHome, sources: list[str] | None = None, verbose: bool = False) -> dict:
    """Run the real Prefect sync flow for a home and return its summary."""
    from kim_hub.hub_db.keystore import load_keys

    config = home.load_config()
    unknown = sorted(set(sources or ()) - set(config.sources))
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)} (configured: {', '.join(config.sources)})")
    load_keys(home.key_dir(config))  # refuse early, before Prefect starts, if the key is exposed
    with _status("running sync flow"):
        return _flows(home, verbose).sync_flow(str(home.path), sources)


class _status:
    """A spinner on a terminal; silence otherwise (cron, CI, pipes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.live: Any = None

    def __enter__(self) -> _status:
        if sys.stderr.isatty():
            from rich.console import Console

            self.live = Console(stderr=True).status(self.text)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)


def _print_summary(summary: dict) -> None:
    print(f"{'source':12} {'files':>5} {'skipped':>7} {'rows':>6} {'new/chg':>7} {'same':>6} {'rejected':>8}")
    for source, counts in summary["sources"].items():
        print(
            f"{source:12} {counts['files_ingested'] + counts['files_rejected']:>5} {counts['files_skipped']:>7} "
            f"{counts['records_in']:>6} {counts['records_accepted']:>7} {counts['records_unchanged']:>6} "
            f"{counts['records_rejected']:>8}"
        )
    linking = summary["linking"]
    print(
        f"master index: {linking['records_linked']} records linked, {linking['persons_created']} persons created, "
        f"{linking['persons_merged']} merged, {linking['persons_split']} split, {linking['review_items']} for review"
    )


def cmd_reestimate(args: argparse.Namespace) -> int:
    home = _home(args)
    with _status("re-estimating the linkage model"):
        summary = _flows(home).reestimate_flow(str(home.path), args.relink)
    print(f"model version {summary['model_version']} stored")
    if summary["linking"]:
        print(f"re-linked {summary['linking']['records_linked']} records")
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    from kim_hub.flows.erasure import erase

    home = _home(args)
    outcome = erase(home, _sessions(home), args.source, args.record_id)
    if not outcome.records_erased:
        print(f"no record {args.source}/{args.record_id}", file=sys.stderr)
        return EXIT_USAGE
    print(f"erased 1 record; {outcome.persons_erased} person(s) erased with it")
    pushed = _flows(home).push_flow(str(home.path))  # erasure notices to who received its data
    print(push_line(pushed))
    return EXIT_OK


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from kim_hub.flows.rotation import rotate_keys

    home = _home(args)
    outcome = rotate_keys(home, home.load_config(), _sessions(home))
    if outcome.complete:
        print(f"key {outcome.new_key} is current; {outcome.records_rekeyed} records re-keyed; key {outcome.old_key} destroyed")
        return EXIT_OK
    missing = ", ".join(f"{source}: {count}" for source, count in outcome.missing.items())
    print(f"rotation not done, key {outcome.old_key} stays current: records without a kept delivery ({missing})", file=sys.stderr)
    return EXIT_REJECTED


def cmd_push(args: argparse.Namespace) -> int:
    home = _home(args)
    outcome = _flows(home).push_flow(str(home.path))
    print(push_line(outcome))
    for body, reason in sorted(outcome["failed"].items()):
        print(f"{body}: not delivered, retried next run ({reason})", file=sys.stderr)
    return EXIT_REJECTED if outcome["failed"] else EXIT_OK


def push_line(outcome: dict) -> str:
    """One line on what a push sent."""
    return (
        f"{outcome['summaries_sent']} summaries sent, {outcome['withdrawal_notices']} withdrawal notices, "
        f"{outcome['corrections']} corrections, {outcome['erasure_notices']} erasure notices, "
        f"{outcome['unchanged']} unchanged, {outcome['without_consent']} without consent"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    from kim_hub.hub_db.audit_view import audit_entries

    with _sessions(_home(args))() as session:
        for when, kind, detail in audit_entries(session, args.kind, args.limit):
            print(f"{when:%Y-%m-%d %H:%M:%S}  {kind:18} {json.dumps(detail, ensure_ascii=False)}")
    return EXIT_OK


def cmd_gaps(args: argparse.Namespace) -> int:
    import datetime as dt

    from kim_hub.exchange.gaps import find_gap

    settings = _home(args).load_config().exchange
    today = dt.date.today()

    def gaps_of(pseudonym: str, records: list) -> list:
        gap = find_gap(pseudonym, records, settings.case_management_sources, settings.gap_days, today)
        return [gap] if gap else []

    found = _per_person(args, gaps_of, order=lambda g: (g.district, g.since, g.pseudonym))
    _print_by_district(
        args, found, "gaps", lambda g: f"{g.pseudonym}  {g.trigger:12} since {g.since}  known to: {', '.join(g.bodies)}"
    )
    return EXIT_OK


def cmd_transitions(args: argparse.Namespace) -> int:
    from kim_hub.exchange.transitions import transitions_of

    found = _per_person(args, transitions_of, order=lambda t: (t.district, t.on, t.pseudonym))
    _print_by_district(
        args,
        found,
        "changes",
        lambda t: f"{t.pseudonym}  {t.on}  {t.kind:15} {t.before} → {t.after}  known to: {', '.join(t.bodies)}",
    )
    return EXIT_OK


def _per_person(args: argparse.Namespace, rule: Any, order: Any) -> list:
    """Apply a per-person rule (pseudonym, held records → findings) to every person in the index."""
    from kim_hub.hub_db.transfers import persons_with_records, pseudonyms

    with _sessions(_home(args))() as session:
        names = pseudonyms(session)
        found = [
            f
            for person, records in persons_with_records(session, minimum=1).items()
            for f in rule(names[person], [r for _pk, r in records])
        ]
    return sorted(found, key=order)


def _print_by_district(args: argparse.Namespace, found: list, noun: str, line: Any) -> None:
    """Findings as JSON (dates ISO), or as text grouped under their district with a total."""
    if args.format == "json":
        print(json.dumps([asdict(item) for item in found], indent=1, default=str))
        return
    district = None
    for item in found:
        if item.district != district:
            district = item.district
            print(f"\n{district}")
        print("  " + line(item))
    print(f"\n{len(found)} {noun}")


def cmd_serve(args: argparse.Namespace) -> int:
    home = _home(args)
    _flows(home, verbose=True)
    from kim_hub.flows.schedule import serve

    serve(home)
    return EXIT_OK


def cmd_retention(args: argparse.Namespace) -> int:
    home = _home(args)
    summary = _flows(home).retention_flow(str(home.path))
    if not summary:
        print("no source has retention_days set in hub.toml: nothing to erase")
    for source, counts in summary.items():
        print(f"{source:12} {counts['records_erased']} records and {counts['persons_erased']} persons erased")
    return EXIT_OK


def cmd_links(args: argparse.Namespace) -> int:
    rows = link_rows(_home(args))
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        if args.format == "json":
            json.dump([dict(zip(LINKS_HEADER, row)) for row in rows], out, indent=1)
            out.write("\n")
        else:
            write_links_csv(out, rows)
    finally:
        if args.out:
            out.close()
    return EXIT_OK


def write_links_csv(handle: Any, rows: list[tuple]) -> None:
    """The links CSV: header exactly as documented, cells safe to open in a spreadsheet."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(LINKS_HEADER)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])


def link_rows(home: HubHome) -> list[tuple]:
    """(source, record_id, pseudonym, status, score) for every record, ordered by source and id."""
    from sqlalchemy import select

    from kim_hub.hub_db.database import make_engine
    from kim_hub.hub_db.models import Link, Person, SourceRecord

    config = home.load_config()
    engine = make_engine(home.database_url(config))
    query = (
        select(SourceRecord.source, SourceRecord.record_id, Person.pseudonym, Link.status, Link.score)
        .outerjoin(Link, Link.record_id == SourceRecord.id)
        .outerjoin(Person, Person.id == Link.person_id)
        .order_by(SourceRecord.source, SourceRecord.record_id)
    )
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    engine.dispose()
    return rows


def _sessions(home: HubHome) -> Any:
    from kim_hub.hub_db.database import make_engine, session_factory

    return session_factory(make_engine(home.database_url(home.load_config())))


def cmd_review_list(args: argparse.Namespace) -> int:
    from kim_hub.hub_db.review import list_items

    with _sessions(_home(args))() as session:
        items = list_items(session, args.status, args.limit or None)
    if args.format == "json":
        print(json.dumps([item.__dict__ for item in items], indent=1, default=str))
        return EXIT_OK
    if not items:
        print(f"no {args.status} review items")
    for item in items:
        print(f"#{item.id}  p={item.score:.3f}  {item.status}")
        for label, (source, record_id, pseudonym) in (("A", item.a), ("B", item.b)):
            print(f"   {label}: {source}/{record_id}  person {pseudonym or '-'}")
        for field, words in item.evidence.items():
            print(f"      {field.replace('_', ' '):13} {words}")
    return EXIT_OK


def cmd_review_decide(args: argparse.Namespace) -> int:
    from kim_hub.hub_db.master_index import LinkPolicy
    from kim_hub.hub_db.review import decide

    home = _home(args)
    config = home.load_config()
    with _sessions(home)() as session, session.begin():
        outcome = decide(session, args.item, args.decision, LinkPolicy(**config.linkage.model_dump()))
    print(f"review item {args.item}: {args.decision}; {outcome.records_linked} records re-linked")
    return EXIT_OK


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
    from kim_hub.linkage.evaluate import pairwise_score
    from kim_hub.synth import generate

    home = _home(args)
    initialise(home)
    with tempfile.TemporaryDirectory() as scratch:
        generated = generate(Path(scratch), args.persons, args.seed)
        for source_inbox in (Path(scratch) / "inbox").iterdir():
            target = home.inbox(source_inbox.name)
            target.mkdir(parents=True, exist_ok=True)
            for file in source_inbox.iterdir():
                shutil.copyfile(file, target / file.name)
                delivered = time.time() - 60  # a finished delivery: past the settle time
                os.utime(target / file.name, (delivered, delivered))
        truth_file = home.reports / "demo-truth.csv"
        shutil.copy2(Path(scratch) / "truth.csv", truth_file)
    started = time.perf_counter()
    summary = run_sync(home)
    elapsed = time.perf_counter() - started
    _print_summary(summary)

    rows = link_rows(home)
    links_file = home.reports / "links.csv"
    with links_file.open("w", newline="", encoding="utf-8") as handle:
        write_links_csv(handle, rows)
    with truth_file.open(encoding="utf-8") as handle:
        truth = {(r["source"], r["record_id"]): r["person"] for r in csv.DictReader(handle)}
    score = pairwise_score(truth, {(r[0], r[1]): r[2] for r in rows})
    report = {
        "persons_generated": generated.persons,
        "records": len(rows),
        "persons_in_index": len({r[2] for r in rows}),
        "pairwise": {"precision": round(score.precision, 4), "recall": round(score.recall, 4), "f1": round(score.f1, 4)},
        "sync_seconds": round(elapsed, 1),
        "summary": summary,
    }
    report_file = home.reports / "demo-report.json"
    report_file.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"\ndemo: {len(rows)} records of {generated.persons} synthetic persons -> {report['persons_in_index']} persons in the index; "
        f"pairwise P {score.precision:.3f} R {score.recall:.3f} F1 {score.f1:.3f} against the generator's truth"
    )
    print(f"results:  {links_file}   (kim-hub links --home {home.path})")
    print(f"summary:  {report_file}")
    print(f"report:   {home.reports / 'report.html'}   (open it in a browser; kim-hub report --home {home.path})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
