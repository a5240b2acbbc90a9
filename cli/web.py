"""`kim-hub web` and `kim-hub users`: the web application, and its local accounts.

A password is never a command-line argument (it would show in the process list and the shell's
history): `users add` reads it from standard input with ``--password-stdin`` (one line), or asks
for it twice without echo on a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from kim_hub.cli.commands import EXIT_OK, CommandGroup, home_of
from kim_hub.core.errors import ConfigError

ROLES = ("reviewer", "coordinator", "provider", "operator", "auditor")


def register(commands: CommandGroup) -> None:
    web = commands.command(
        "web",
        cmd_web,
        "Serve the web application (reviewers, providers, operators) on this home.",
        "kim-hub web --home /srv/kim-hub --host 127.0.0.1 --port 8080",
    )
    web.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    web.add_argument("--port", type=int, default=8080, help="the port to listen on (default: 8080)")
    web.add_argument("--certfile", help="TLS certificate (PEM): with --keyfile, serve HTTPS, Secure cookies and HSTS")
    web.add_argument("--keyfile", help="the TLS certificate's private key (PEM)")
    web.add_argument(
        "--client-ca",
        help="CA certificates (PEM) vouching for the bodies' client certificates: with --certfile, the API also "
        "takes a certificate listed under [[api.client_certificates]] in hub.toml instead of a token (mutual TLS)",
    )

    users = commands.group(
        "users",
        "The web application's local accounts: add, disable, second factor, list.",
        'echo "$PASSWORD" | kim-hub users add anna --role reviewer --password-stdin --home /srv/kim-hub',
        "kim-hub users list --home /srv/kim-hub",
    )
    add = users.command(
        "add",
        cmd_users_add,
        "Add an account with one role and the bodies and districts it is granted.",
        "kim-hub users add anna --role reviewer --home /srv/kim-hub",
        'echo "$PASSWORD" | kim-hub users add caritas-1 --role provider --org caritas --password-stdin --home /srv/kim-hub',
    )
    add.add_argument("name", help="the account's name (letters, digits and . @ + - _)")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--org", action="append", default=[], help="a body (source name) the account is granted; repeatable")
    add.add_argument("--district", action="append", default=[], help="a district code the account is granted; repeatable")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input (one line)")
    disable = users.command(
        "disable",
        cmd_users_disable,
        "Disable an account: it cannot sign in, and its sessions end.",
        "kim-hub users disable anna --home /srv/kim-hub",
    )
    disable.add_argument("name")
    totp = users.command(
        "totp",
        cmd_users_totp,
        "Give a local account a second factor (TOTP): prints the otpauth:// URI and the secret once.",
        "kim-hub users totp anna --home /srv/kim-hub",
        "kim-hub users totp anna --remove --home /srv/kim-hub",
    )
    totp.add_argument("name")
    totp.add_argument(
        "--remove", action="store_true", help="take the second factor away (a lost phone: remove, then enrol again)"
    )
    users.command(
        "list", cmd_users_list, "List the accounts: name, role, grant, disabled.", "kim-hub users list --home /srv/kim-hub"
    )


def cmd_web(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.api_deliveries import remove_unfinished_uploads
    from kim_hub.web.server import serve

    if bool(args.certfile) != bool(args.keyfile):
        raise ConfigError("--certfile and --keyfile go together")
    if args.client_ca and not args.certfile:
        raise ConfigError("--client-ca needs --certfile and --keyfile: client certificates come with TLS")
    home = home_of(args)
    home.load_config()  # a folder that is no home fails here, not at the first request
    if removed := remove_unfinished_uploads(home):
        print(f"removed {removed} upload(s) left unfinished by a process that died while writing them", flush=True)
    scheme = "https" if args.certfile else "http"
    print(f"kim-hub web on {scheme}://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    serve(
        home,
        args.host,
        args.port,
        Path(args.certfile) if args.certfile else None,
        Path(args.keyfile) if args.keyfile else None,
        Path(args.client_ca) if args.client_ca else None,
    )
    return EXIT_OK


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for the password: pass it on standard input with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ConfigError("the two passwords differ")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.web_users import add_user

    home = home_of(args)
    account = add_user(home, args.name, args.role, _password(args.password_stdin), args.org, args.district)
    grant = ", ".join(account.organisations) or "all bodies"
    print(f"account {account.name} added: {account.role} ({grant})")
    return EXIT_OK


def cmd_users_disable(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.web_users import disable_user

    disable_user(home_of(args), args.name)
    print(f"account {args.name} disabled; its sessions ended")
    return EXIT_OK


def cmd_users_totp(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.web_totp import enrol, remove

    home = home_of(args)
    if args.remove:
        remove(home, args.name)
        print(f"account {args.name}: second factor removed; it signs in with its password alone")
        return EXIT_OK
    enrolment = enrol(home, args.name)
    print(f"account {args.name}: second factor enrolled. Hand this to its owner once (it is not shown again);")
    print("scan it as a QR code or type the secret into an authenticator app:")
    print(enrolment.uri)
    print(f"secret: {enrolment.secret}")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.web_totp import enrolled
    from kim_hub.pipeline.web_users import list_users

    home = home_of(args)
    with_code = enrolled(home)
    for account in list_users(home):
        orgs = ",".join(account.organisations) or "-"
        districts = ",".join(account.districts) or "-"
        state = "\tdisabled" if account.disabled else ""
        factor = "\ttotp" if account.name in with_code else ""
        print(f"{account.name}\t{account.role}\torg={orgs}\tdistrict={districts}{state}{factor}")
    return EXIT_OK
