"""PAdES signatures with pyHanko: signing an issued PDF with its agency's key, and checking an uploaded one.

For this first slice each agency's key and certificate are a PKCS#12 file `<agency code>.p12` in
DOCUMENT_KEYS_DIR (default instance/document-keys), protected by DOCUMENT_KEY_PASSPHRASE; the portal trusts the
certificates in DOCUMENT_TRUST_ROOTS (default `<DOCUMENT_KEYS_DIR>/trust-roots.pem`). `flask --app wsgi documents
demo-ca` (portal/documents/cli.py) makes a demo CA and a key for each agency there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")
log = logging.getLogger(__name__)

FIELD_NAME = "Signature1"


class SigningUnavailable(Exception):
    """The agency has no usable key (no file, a wrong passphrase, a broken file)."""


def keys_dir() -> Path:
    return Path(current_app.config["DOCUMENT_KEYS_DIR"])


def key_path(agency_code: str) -> Path:
    """The agency's PKCS#12 file; the code is a file name, never a path."""
    if not agency_code or "/" in agency_code or "\\" in agency_code or agency_code.startswith("."):
        raise SigningUnavailable(f"not an agency code usable as a file name: {agency_code!r}")
    return keys_dir() / f"{agency_code}.p12"


def trust_roots_path() -> Path:
    configured = current_app.config.get("DOCUMENT_TRUST_ROOTS")
    return Path(configured) if configured else keys_dir() / "trust-roots.pem"


def has_key(agency_code: str) -> bool:
    try:
        return key_path(agency_code).is_file()
    except SigningUnavailable:
        return False


def any_keys() -> bool:
    """Is there any agency key at all (a file system check, no database)?"""
    folder = keys_dir()
    return folder.is_dir() and any(folder.glob("*.p12"))


def _passphrase() -> bytes:
    passphrase = current_app.config.get("DOCUMENT_KEY_PASSPHRASE")
    if not passphrase:
        raise SigningUnavailable("DOCUMENT_KEY_PASSPHRASE is not set")
    return str(passphrase).encode()


@lru_cache(maxsize=64)
def _load_signer(path: str, mtime_ns: int, passphrase: bytes):
    """The signer of one PKCS#12 file, once per process and file version (loading costs a key decryption)."""
    from pyhanko.sign import signers

    loaded = signers.SimpleSigner.load_pkcs12(path, passphrase=passphrase)
    if loaded is None:
        raise SigningUnavailable(f"cannot load the key in {path}")
    return _kept_key_signer_class()(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
        signature_mechanism=loaded.signature_mechanism,
    )


@lru_cache(maxsize=1)
def _kept_key_signer_class() -> type:
    """pyHanko's SimpleSigner, keeping its parsed private key (pyHanko parses the key again for every signature,
    with OpenSSL's RSA checks: ~50 ms each, twice per document with the size estimate's dry run), and answering
    that dry run with a blank RSA signature of the right length (only its length is used)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class KeptKeySigner(signers.SimpleSigner):
        _private_key: object = None

        def _key(self) -> object:
            if self._private_key is None:
                self._private_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            return self._private_key

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            key = self._key()
            if dry_run and isinstance(key, RSAPrivateKey):
                return bytes(key.key_size // 8)
            return self.sign_raw(data, digest_algorithm)

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            key = self._key()
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if isinstance(key, RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
                return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            return super().sign_raw(data, digest_algorithm)  # other algorithms: pyHanko's own way

    return KeptKeySigner


def signer_for(agency_code: str):
    path = key_path(agency_code)
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise SigningUnavailable(f"no key for agency {agency_code} in {path.parent}") from error
    passphrase = _passphrase()
    try:
        return _load_signer(str(path), stat.st_mtime_ns, passphrase)
    except SigningUnavailable:
        raise
    except Exception as error:  # a wrong passphrase, a damaged file
        raise SigningUnavailable(f"cannot load the key of agency {agency_code}: {type(error).__name__}") from error


def signer_subject(agency_code: str) -> str:
    cert = signer_for(agency_code).signing_cert
    return str(cert.subject.human_friendly)[:255]


def sign_pdf(data: bytes, agency_code: str, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES (B-B) signature of the agency's key over the whole file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signer_for(agency_code)
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    reserved = _bytes_reserved(signer)
    out = outside_event_loop(lambda: signers.PdfSigner(meta, signer=signer).sign_pdf(writer, bytes_reserved=reserved))
    return out.getvalue()


def outside_event_loop(call: Callable[[], T]) -> T:
    """Run one of pyHanko's synchronous calls. They run `asyncio.run()`, which refuses to start in a thread that
    already runs an event loop (an async server or worker pool, a test harness driving a browser): there the call
    runs on a short-lived thread of its own, and its result or exception comes back here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(call).result()


def _bytes_reserved(signer: Any) -> int:
    """Room for the CMS signature in the PDF (as hex), so that pyHanko skips its estimate, a dry-run signature
    per document: the certificates it embeds, the signature value, and 2 KiB for the signed attributes and
    the structure, doubled for hex (pyHanko's own estimate adds 50% to the exact size; this is more)."""
    size = getattr(signer, "_bytes_reserved", None)
    if size is None:
        certs = [signer.signing_cert, *signer.cert_registry]
        content = sum(len(cert.dump()) for cert in certs) + signer.signing_cert.public_key.bit_size // 8 + 2048
        size = signer._bytes_reserved = 2 * content
    return int(size)


# -- checking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko says of a PDF's signatures. `readable` False: not a PDF pyHanko can parse."""

    readable: bool
    signed: bool = False
    intact: bool = False  # the signed bytes are unchanged
    trusted: bool = False  # the signer's certificate chains to one of the portal's trust roots
    covers_everything: bool = False  # nothing was added after the signature
    signer: str = ""
    signed_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.readable and self.signed and self.intact and self.trusted and self.covers_everything


def _trust_roots() -> list:
    from asn1crypto import pem, x509

    path = trust_roots_path()
    if not path.is_file():
        return []
    roots = []
    for _kind, _headers, der in pem.unarmor(path.read_bytes(), multiple=True):
        roots.append(x509.Certificate.load(der))
    return roots


def check_signature(data: bytes) -> SignatureCheck:
    """Validate the PDF's signatures against the portal's trust roots, offline (no fetching of CRLs or OCSP: the
    portal's own issuing certificates are checked by their trust root; revocation is the portal's own table).
    Never raises on a hostile file: anything pyHanko cannot parse is "not readable"."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:  # malformed or hostile structure: pyHanko raises many kinds
        log.info("uploaded PDF could not be parsed", exc_info=True)
        return SignatureCheck(readable=False)
    if not signatures:
        return SignatureCheck(readable=True)
    context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False, revocation_mode="soft-fail")
    last = signatures[-1]  # the signature that should cover the whole file
    try:
        status = outside_event_loop(lambda: validate_pdf_signature(last, context))
    except Exception:  # a malformed signature dictionary or CMS structure
        log.info("uploaded PDF's signature could not be read", exc_info=True)
        return SignatureCheck(readable=True, signed=True)
    cert = status.signing_cert
    return SignatureCheck(
        readable=True,
        signed=True,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        covers_everything=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=str(cert.subject.human_friendly) if cert is not None else "",
        signed_at=status.signer_reported_dt,
    )
