"""The HTTPS certificate: the operator's own, or a self-signed one Hub makes on first start.

The self-signed certificate keeps the quick start to one command; browsers will warn about it,
and the console and log say how to replace it (``server.ssl.certificate`` and
``server.ssl.certificate-key`` in ``hub.properties``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.config import HubConfig

SELF_SIGNED_CERT = "hub-self-signed.crt"
SELF_SIGNED_KEY = "hub-self-signed.key"


def certificate_paths(config: HubConfig) -> tuple[Path, Path, bool]:
    """Return (certificate, key, is_self_signed), making the self-signed pair when needed."""
    if config["server.ssl.certificate"]:
        cert, key = Path(config["server.ssl.certificate"]), Path(config["server.ssl.certificate-key"])
        for path in (cert, key):
            if not path.is_file():
                from hub.config import ConfigError

                raise ConfigError(f"Hub cannot start: the TLS file {path} does not exist or is not a file.")
        return cert, key, False
    cert, key = config.certs_dir / SELF_SIGNED_CERT, config.certs_dir / SELF_SIGNED_KEY
    if not (cert.exists() and key.exists()):
        write_self_signed(cert, key)
    return cert, key, True


def write_self_signed(cert_path: Path, key_path: Path, hostname: str | None = None) -> None:
    hostname = hostname or socket.gethostname()
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hostname),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hub self-signed (insecure: replace it)"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    loopback = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    alt_names = [
        x509.DNSName(hostname),
        x509.DNSName("localhost"),
        *(x509.IPAddress(address) for address in loopback),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
