"""`kim-hub init` and `kim-hub sources add | list | check`: a home and the sources it pulls from.

`init` and `sources add` are admin entries of the audit log (``pipeline.setup``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kim_hub.cli.commands import EXIT_OK, EXIT_REJECTED, CommandGroup, home_of
from kim_hub.mappings.identifier_policy import identifier_policy

if TYPE_CHECKING:
    from kim_hub.pipeline.home import HubHome


def register(commands: CommandGroup) -> None:
    commands.command(
        "init",
        cmd_init,
        "Create the home folder: hub.toml with the default sources, secret key, database.",
        "kim-hub init --home /srv/kim-hub",
        catch_up=False,  # it brings the database up to the erasure ledger after the migrations
    )
    sources = commands.group(
        "sources",
        "List or add the sources the hub pulls from.",
        "kim-hub sources add malteser --connector provider-csv --home /srv/kim-hub",
        "kim-hub sources check --home /srv/kim-hub",
    )
    add = sources.command(
        "add", cmd_sources_add, "Add a source and create its inbox folder.", "kim-hub sources add malteser --home /srv/kim-hub"
    )
    add.add_argument("name", help="source name, e.g. caritas (lower-case letters a-z, digits, - and _; at most 64)")
    add.add_argument("--connector", default="provider-csv", help="registered connector (default: provider-csv)")
    add.add_argument(
        "--group",
        help="OS group whose members are the body's accounts: it may write the inbox and read the outbox (default: kim-NAME)",
    )
    add.add_argument(
        "--body-kind",
        choices=sorted(identifier_policy().body_kinds),
        help="what the body is, for the identifier policy (legal bases are named in hub.toml; docs/operations.md, "
        "'Identifiers the hub takes'); default: none declared, which takes no identifier",
    )
    add.add_argument(
        "--legal-basis",
        default="consent",
        help="what the source delivers under: consent (default), or a statute of mappings/codes/legal_bases.csv "
        "or of hub.toml [legal_bases], e.g. 'statute:SGB X § 69'",
    )
    add.add_argument(
        "--controller",
        help="the controller of the source's data, declared under [controllers] in hub.toml (e.g. caritas); "
        "default: not declared (docs/operations.md, 'Controllers and incidents')",
    )
    sources.command(
        "list",
        cmd_sources_list,
        "Show the configured sources and installed connectors.",
        "kim-hub sources list --home /srv/kim-hub",
    )
    sources.command(
        "check",
        cmd_sources_check,
        "Check every source: connectors installed, folders usable, APIs reachable; warn where file modes or groups "
        "differ from the documented model (docs/operations.md).",
        "kim-hub sources check --home /srv/kim-hub",
    )


def cmd_init(args: argparse.Namespace) -> int:
    from kim_hub.linkage.keyed import SCHEME
    from kim_hub.pipeline.setup import encoding_keys, initialise_home

    home = home_of(args)
    config, settled = initialise_home(home)
    keys = encoding_keys(home, config)
    print(f"kim-hub home ready: {home.path}")
    print(f"  configuration  {home.config_file}")
    print(f"  inboxes        {home.path / 'inbox'}/<source>/")
    print(f"  encodings      key {keys.key_id}, scheme {keys.scheme}")
    if keys.scheme < SCHEME:
        print(
            f"key {keys.key_id} encodes with scheme {keys.scheme} (plain Bloom filters): 'kim-hub keys rotate' re-encodes "
            f"every record under a new key of scheme {SCHEME} (docs/operations.md, 'Upgrading the encoding scheme')"
        )
    for source, renamed in settled.encrypted.items():
        print(f"  record ids     {source}: {len(renamed)} stored in clear, now encrypted")
    if settled.encodings_sealed:
        print(
            f"  encodings      {settled.encodings_sealed} stored in clear, now sealed (docs/operations.md, 'Encodings and what an insider learns')"
        )
    _prefect_database(home)
    for source, count in settled.tokens_kept.items():
        print(
            f"{source}: {count} record ids are stored encrypted but encrypt_record_ids is off; "
            "its ingest stops until it is set to true again",
            file=sys.stderr,
        )
    return EXIT_OK


def _prefect_database(home: HubHome) -> None:
    """Prefect's database made now rather than by the first sync's server (``flows.prefect_setup``).
    A failure costs only time: the server makes it when it first starts, as it always did."""
    from kim_hub.flows.prefect_setup import create_prefect_database
    from kim_hub.flows.redaction import kind_of

    try:
        if create_prefect_database(home):
            print(f"  run history    {home.prefect_home}/ (Prefect's database)")
    except Exception as error:  # noqa: BLE001 - the first sync's server creates it instead
        print(f"Prefect's database was not created ({kind_of(error)}); the first sync creates it", file=sys.stderr)


def cmd_sources_add(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.home_access import body_group
    from kim_hub.pipeline.setup import add_source

    home = home_of(args)
    config = add_source(home, args.name, args.connector, args.group, args.body_kind, args.legal_basis, args.controller)
    group = body_group(args.name, config.sources[args.name])
    controller = args.controller or "controller not declared"
    print(
        f"source {args.name} added ({args.connector}, {args.legal_basis}, {controller}); drop files into {home.inbox(args.name)}"
    )
    if not group.exists:
        print(
            f"group {group.name} does not exist: its inbox and outbox are closed to the body until it does "
            "(kim-hub sources check says how)"
        )
    return EXIT_OK


def cmd_sources_list(args: argparse.Namespace) -> int:
    from kim_hub.connectors.registry import available_connectors

    home = home_of(args)
    config = home.load_config()
    print("sources:")
    for name, source in config.sources.items():
        controller = source.controller or "(controller not declared)"
        print(f"  {name:12} {', '.join(source.connectors):30} {source.legal_basis:24} {controller:26} {home.inbox(name)}")
    print("installed connectors: " + ", ".join(sorted(available_connectors())))
    return EXIT_OK


def cmd_sources_check(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.home_access import HOME_SCOPE, check_access
    from kim_hub.pipeline.source_check import check_sources

    home = home_of(args)
    config = home.load_config()
    results = check_sources(home, config)
    for source, checks in results.items():
        for what, health in checks:
            print(f"{'ok  ' if health.ok else 'FAIL'} {source:12} {what:22} {health.detail}")
    deviations = check_access(home, config)
    for deviation in deviations:
        print(f"warn {deviation.scope:12} {'modes and groups':22} {deviation.path}: {deviation.problem}; fix: {deviation.fix}")
    if not deviations:
        print(f"ok   {HOME_SCOPE:12} {'modes and groups':22} as documented (docs/operations.md, who may read what)")
    return EXIT_OK if all(h.ok for checks in results.values() for _w, h in checks) else EXIT_REJECTED
