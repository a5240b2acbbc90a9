"""Mutual TLS for the providers' API (issue 22, item 4, optional): `kim-hub web`'s server with
``--client-ca`` over real TLS on loopback, certificates made here with ``cryptography``. A body's
software with a certificate listed in hub.toml delivers without a token, in its body's name and
only with its scopes; a certificate the CA vouches for but hub.toml does not list, no certificate,
and a certificate of another CA get nothing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from kim_hub.hub_db.models import AuditEntry, SourceRecord
from kim_hub.pipeline.home import ClientCertificate
from kim_hub.web.server import server_config
from tests.support import Hub, sqlite_url
from tests.support.data import GOOD, HEADER
from tests.support.files import csv_text
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e

LISTED = "CN=caritas-software,O=Caritas"
NOW = dt.datetime.now(dt.UTC)


def _name(common: str, organisation: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(attributes)


def _issue(
    folder: Path,
    stem: str,
    subject: x509.Name,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
) -> tuple[Path, Path, x509.Name, ec.EllipticCurvePrivateKey]:
    """A key and a certificate (self-signed when ``issuer`` is None: a CA), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    certificate = builder.sign(issuer_key, hashes.SHA256())
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file, subject, key


@pytest.fixture
def mutual_tls(tmp_path: Path) -> Iterator[tuple[str, Hub, dict[str, tuple[Path, Path]], Path]]:
    """The application over TLS with a client CA; yields its address, the home, the client
    certificates by name (listed, unlisted, rogue) and the CA file to trust the server by."""
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_cert, _ca_key_file, ca_name, ca_key = _issue(pki, "ca", _name("KIM Test CA"), None)
    server_cert, server_key, *_ = _issue(pki, "server", _name("127.0.0.1"), (ca_name, ca_key), server=True)
    listed = _issue(pki, "listed", _name("caritas-software", "Caritas"), (ca_name, ca_key))
    unlisted = _issue(pki, "unlisted", _name("someone-else", "Caritas"), (ca_name, ca_key))
    _rogue_ca, _, rogue_name, rogue_key = _issue(pki, "rogue-ca", _name("Rogue CA"), None)
    rogue = _issue(pki, "rogue", _name("caritas-software", "Caritas"), (rogue_name, rogue_key))

    hub = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    listing = [ClientCertificate(subject=LISTED, body="caritas", scopes=["deliver", "receipts"])]
    hub.config = hub.config.model_copy(update={"api": hub.config.api.model_copy(update={"client_certificates": listing})})
    hub.home.save_config(hub.config)
    port = free_port()
    server = uvicorn.Server(server_config(hub.home, "127.0.0.1", port, server_cert, server_key, ca_cert))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web application did not start"
        time.sleep(0.05)
    try:
        clients = {name: (made[0], made[1]) for name, made in (("listed", listed), ("unlisted", unlisted), ("rogue", rogue))}
        yield f"https://127.0.0.1:{port}", hub, clients, ca_cert
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.close()


def test_a_listed_client_certificate_delivers_for_its_body_with_its_scopes_only(
    mutual_tls: tuple[str, Hub, dict[str, tuple[Path, Path]], Path],
) -> None:
    base, hub, clients, ca = mutual_tls
    export = {"file": ("export.csv", csv_text(GOOD, HEADER).encode("utf-8"), "text/csv")}
    delivered = requests.post(
        f"{base}/api/v1/sources/caritas/deliveries", files=export, cert=clients["listed"], verify=ca, timeout=30
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["accepted"] == 2
    listed = requests.get(f"{base}/api/v1/sources/caritas/receipts", cert=clients["listed"], verify=ca, timeout=30)
    assert [r["id"] for r in listed.json()["receipts"]] == [delivered.json()["id"]]

    other_body = requests.get(f"{base}/api/v1/sources/awo/receipts", cert=clients["listed"], verify=ca, timeout=30)
    not_granted = requests.get(f"{base}/api/v1/bodies/caritas/summaries", cert=clients["listed"], verify=ca, timeout=30)
    assert (other_body.status_code, not_granted.status_code) == (404, 403)
    for refused in (
        requests.get(f"{base}/api/v1/sources/caritas/receipts", cert=clients["unlisted"], verify=ca, timeout=30),
        requests.get(f"{base}/api/v1/sources/caritas/receipts", verify=ca, timeout=30),  # no certificate, no token
        requests.get(  # a token sent decides, even beside a listed certificate
            f"{base}/api/v1/sources/caritas/receipts",
            cert=clients["listed"],
            verify=ca,
            headers={"Authorization": "Bearer kimh_not-a-token"},
            timeout=30,
        ),
    ):
        assert refused.status_code == 401
    # another CA's certificate: the server ends the handshake (under TLS 1.3 the client learns it on
    # its first read: a connection error, SSLError or the connection dropped)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{base}/api/v1/sources/caritas/receipts", cert=clients["rogue"], verify=ca, timeout=30)

    with hub.sessions() as session:
        stored = session.execute(select(SourceRecord.record_id).where(SourceRecord.source == "caritas")).scalars().all()
        actors = {e.actor for e in session.execute(select(AuditEntry).where(AuditEntry.action == "api.call")).scalars()}
    assert sorted(stored) == ["C-1", "C-2"]
    certified = {a for a in actors if a.startswith("api:caritas:cert-")}
    assert len(certified) == 1 and "api:unauthenticated" in actors
