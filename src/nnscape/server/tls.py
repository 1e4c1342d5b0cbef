"""A self-signed certificate for ``nnscape view --https``: browsers offer WebXR only on https pages (and on
localhost), so a headset on the local network needs one.

Made once per machine with the ``cryptography`` package and kept in the user's cache folder
(``~/.cache/nnscape/tls`` on Linux), never in the served folder; renewed when it expires or does not name the
address being served. The browser warns once about the unknown issuer; accept it on the headset.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nnscape.errors import NnscapeError
from nnscape.files import atomic_write_bytes
from nnscape.userdirs import cache_dir

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["Certificate", "certificate", "certificate_folder", "lan_addresses"]

CERTIFICATE_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALIDITY_DAYS = 365
# Renewed this long before it expires, so a long session does not outlive it.
RENEW_MARGIN = datetime.timedelta(days=7)
COMMON_NAME = "nnscape viewer (self-signed)"
# The private key is readable by its owner only (the temporary file it is written through is, too).
KEY_MODE = 0o600
# Names every certificate lists, so the page on this machine needs no other.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Certificate:
    """Paths of a certificate and its private key (PEM), as uvicorn takes them."""

    certfile: Path
    keyfile: Path


def certificate_folder() -> Path:
    """Where the certificate is kept: ``tls`` in the user's nnscape cache folder."""
    return cache_dir() / "tls"


def certificate(names: list[str], *, folder: Path | None = None) -> Certificate:
    """The certificate in ``folder`` (default :func:`certificate_folder`), made anew unless it is valid for a
    while yet and lists every one of ``names`` (host names or IP addresses) besides this machine's loopback."""
    try:
        from cryptography import x509
    except ImportError as exc:
        raise NnscapeError("--https needs the `cryptography` package: pip install cryptography") from exc
    folder = folder if folder is not None else certificate_folder()
    wanted = sorted(set(names) | set(LOOPBACK_NAMES))
    result = Certificate(folder / CERTIFICATE_FILE, folder / KEY_FILE)
    if result.certfile.is_file() and result.keyfile.is_file():
        try:
            existing = x509.load_pem_x509_certificate(result.certfile.read_bytes())
        except ValueError:
            existing = None  # damaged: replaced below
        if existing is not None and _still_good(existing, wanted):
            return result
    _make(result, wanted)
    return result


def _still_good(cert: x509.Certificate, wanted: list[str]) -> bool:
    from cryptography import x509

    now = datetime.datetime.now(datetime.timezone.utc)
    if cert.not_valid_after_utc - RENEW_MARGIN < now:
        return False
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    listed = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    listed |= set(names.get_values_for_type(x509.DNSName))
    return all(_canonical(name) in listed for name in wanted)


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _make(result: Certificate, names: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    alternative: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks of other devices may lag a little
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    try:
        result.certfile.parent.mkdir(parents=True, exist_ok=True)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        atomic_write_bytes(result.keyfile, key_pem)
        os.chmod(result.keyfile, KEY_MODE)
        atomic_write_bytes(result.certfile, cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise NnscapeError(f"{result.certfile.parent}: cannot store the https certificate ({exc.strerror})") from exc


def lan_addresses() -> list[str]:
    """This machine's host name and the address other devices on the local network most likely reach it by."""
    names = [socket.gethostname()]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # a documentation address: picks the outgoing interface, sends nothing
        names.append(probe.getsockname()[0])
    except OSError:
        pass  # no route off this machine: loopback only
    finally:
        probe.close()
    return names
