"""`kim-hub backup | restore | erasures`: the database copied and put back, and the erasure ledger.

A restore replaces the database and erases again, before it returns, whatever the erasure ledger
recorded after the backup was taken; `kim-hub erasures` lists the ledger's tombstones (sequence,
time, rule, source, counts, keyed digests: no record id, no content), proves one record's
erasure from the id in the request, and verifies the ledger's chain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kim_hub.cli.commands import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, CommandGroup, home_of
from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.home import check_source_name


def register(commands: CommandGroup) -> None:
    backup = commands.command(
        "backup",
        cmd_backup,
        "Write a consistent copy of the hub database to a file (SQLite: online backup; PostgreSQL: pg_dump).",
        "kim-hub backup --out /backup/kim-hub-2026-12-06.db --home /srv/kim-hub",
        description="Write a consistent copy of the hub database to a file (mode 0600), while the hub runs: SQLite's "
        "online backup, or pg_dump --format=custom for PostgreSQL. The erasure ledger and the keys are not in it: "
        "back them up apart (docs/operations.md).",
    )
    backup.add_argument("--out", required=True, help="the backup file (replaced atomically)")
    restore = commands.command(
        "restore",
        cmd_restore,
        "Replace the hub database from a backup, then erase again everything erased since the backup.",
        "kim-hub restore /backup/kim-hub-2026-12-06.db --home /srv/kim-hub",
        catch_up=False,  # it does so itself, after the database is replaced
        description="Replace the hub database from a file written by `kim-hub backup`, bring its schema to this "
        "version, and apply every erasure the erasure ledger recorded after the backup was taken, before anything "
        "can read it. Stop `kim-hub serve` first.",
    )
    restore.add_argument("file", help="a backup written by `kim-hub backup`")
    erasures = commands.command(
        "erasures",
        cmd_erasures,
        "List the erasure ledger's tombstones (proofs of deletion without the data), or verify its chain.",
        "kim-hub erasures --home /srv/kim-hub",
        "kim-hub erasures --source caritas --record-id C-4711 --home /srv/kim-hub",
        "kim-hub erasures --verify --home /srv/kim-hub",
        catch_up=False,  # it reads the ledger, not the database; and it must run when the ledger is behind
    )
    erasures.add_argument("--source", help="with --record-id: only the tombstones naming this record")
    erasures.add_argument("--record-id", help="the record id an erasure request named (never printed)")
    erasures.add_argument("--verify", action="store_true", help="check the ledger's chain; exit 1 naming the first broken entry")
    erasures.add_argument("--format", choices=("text", "json"), default="text")
    erasures.add_argument(
        "--acknowledge-loss",
        action="store_true",
        help="the ledger lost entries the database had applied (the hub refuses to run): record the loss and run again",
    )


def cmd_backup(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.backup import backup

    home = home_of(args)
    backup(home, home.load_config(), Path(args.out))
    print(f"database backed up to {args.out}; back up keys/ and the erasure ledger apart from it")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.backup import restore

    home = home_of(args)
    again = restore(home, home.load_config(), Path(args.file))
    print(f"database restored from {args.file}")
    print(
        f"{again.tombstones} erasure(s) recorded since the backup applied again: {again.records_erased} records and "
        f"{again.persons_erased} persons erased, {again.documents_removed} outbox documents removed"
    )
    return EXIT_OK


def cmd_erasures(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.tombstones import acknowledge_loss, erasure_ledger, tombstones_naming

    home = home_of(args)
    config = home.load_config()
    if args.acknowledge_loss:
        with open_sessions(home, config, catch_up=False) as sessions:
            recorded = acknowledge_loss(home, config, sessions)
        print(
            "nothing lost: the ledger is not behind the database"
            if recorded is None
            else f"loss recorded as tombstone {recorded.seq}"
        )
        return EXIT_OK
    ledger = erasure_ledger(home, config)
    if args.verify:
        check = ledger.verify()
        if check.ok:
            print(f"erasure ledger intact: {check.entries} tombstones, chain verified")
            return EXIT_OK
        print(f"erasure ledger broken at line {check.broken_at}: {check.problem} ({check.entries} entries before it verified)")
        return EXIT_REJECTED
    if bool(args.source) != bool(args.record_id):
        raise ConfigError("--source and --record-id go together")
    if args.source:
        check_source_name(args.source, "--source")
        tombstones = tombstones_naming(home, config, args.source, args.record_id)
    else:
        tombstones = ledger.entries()
    if args.format == "json":
        print(json.dumps([{**t.body(), "chain": t.chain} for t in tombstones], indent=1))
        return EXIT_OK
    for t in tombstones:
        counts = ", ".join(f"{count} {kind}" for kind, count in t.counts.items() if count)
        print(f"#{t.seq:<5} {t.at}  {t.rule:22} {t.source or '-':12} {counts or '-'}")
        for digest in t.records:
            print(f"        record {digest}")
    if args.source and not tombstones:
        print("no tombstone names this record", file=sys.stderr)
        return EXIT_USAGE
    print(f"{len(tombstones)} tombstone(s)")
    return EXIT_OK
