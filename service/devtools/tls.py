"""A stand-in certificate authority and TLS on the throwaway PostgreSQL.

Aurora presents a server certificate signed by an Amazon RDS CA and holding the cluster's
endpoint names; the image trusts RDS's CA bundle. Here a CA made on the spot plays RDS's CA,
so DB_SSLMODE=verify-full runs exactly as in production: the chain is checked against
DB_SSLROOTCERT and the host name against the certificate's names.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools.pgserver import PostgresServer

# Certificates live for the length of a test run; a day leaves room for a slow machine.
VALIDITY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Authority:
    """A CA that signs server certificates."""

    name: str
    """Common name, e.g. "stand-in RDS CA"."""
    certificate: x509.Certificate
    """The self-signed CA certificate."""
    key: ec.EllipticCurvePrivateKey
    """Its private key."""

    @property
    def pem(self) -> bytes:
        """The CA certificate as a PEM bundle of one, the shape of RDS's bundle file."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def authority(name: str) -> Authority:
    """A fresh self-signed CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Authority(name=name, certificate=certificate, key=key)


def server_certificate(
    ca: Authority, *, dns_names: tuple[str, ...], ip_addresses: tuple[str, ...]
) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for a server answering under these names."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    common_name = (dns_names or ip_addresses)[0]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def enable_tls(server: PostgresServer, *, certificate_pem: bytes, key_pem: bytes, within_s: float = 10.0) -> None:
    """Install the server certificate, turn ssl on and wait until a TLS session is seen."""
    cert, key = server.datadir / "server.crt", server.datadir / "server.key"
    cert.write_bytes(certificate_pem)
    key.write_bytes(key_pem)
    owner = server.datadir.stat()
    for path in (cert, key):
        os.chown(path, owner.st_uid, owner.st_gid)
        path.chmod(0o600)
    with server.admin(dbname="postgres") as conn:
        conn.execute("ALTER SYSTEM SET ssl = on")
        conn.execute("SELECT pg_reload_conf()")
    conninfo = server.conninfo().replace("sslmode=disable", "sslmode=require")
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(conninfo) as conn:
                row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
                if row and row[0]:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.1)
    raise RuntimeError("TLS did not come up on the throwaway PostgreSQL")


def write_bundle(ca: Authority, path: Path) -> Path:
    """Write the CA as a bundle file, readable by the service's user."""
    path.write_bytes(ca.pem)
    path.chmod(0o644)
    return path
