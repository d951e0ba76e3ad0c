"""PAdES signatures with pyHanko: signing an issued PDF with its agency's key, and checking an uploaded one.

Where an agency's key comes from, first match wins:
1. the agency's active key in the database (`AgencySigningKey`, portal/models/signing_key.py), which an
   administrator uploads as a PKCS#12 on the agency's admin page or an operator imports with `flask --app wsgi
   documents import-key <agency code> <file.p12>` (both portal/admin/services/signing_keys.py). The file is stored
   re-encrypted with DOCUMENT_KEY_PASSPHRASE (the administrator's own password is not kept), so every web host and
   worker signs with it without a shared file system; changing DOCUMENT_KEY_PASSPHRASE makes those keys unusable
   until they are uploaded again. Replacing a key keeps the old row, inactive, as history;
2. otherwise a PKCS#12 file `<agency code>.p12` in DOCUMENT_KEYS_DIR (default instance/document-keys), protected by
   DOCUMENT_KEY_PASSPHRASE: the demo keys `flask --app wsgi documents demo-ca` (portal/documents/cli.py) makes, and
   deployments that installed files before keys lived in the database.

A loaded signer is cached per process, keyed by the key row's id and certificate fingerprint (or the file's path and
modification time): loading costs a key decryption. `any_keys()`, asked after every commit that could issue a
document, looks at the folder and, for database keys, at one cached answer per process rechecked every
KEYS_RECHECK_SECONDS (the process that installs a key forgets it at once; others may wait that long before they queue
documents themselves, and the sweep issues what they skipped). The portal trusts the certificates in
DOCUMENT_TRUST_ROOTS (default `<DOCUMENT_KEYS_DIR>/trust-roots.pem`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select

from portal.core.cache import ProcessCache

T = TypeVar("T")
log = logging.getLogger(__name__)

FIELD_NAME = "Signature1"
KEYS_RECHECK_SECONDS = 300.0  # how long a process trusts its answer to "is there any key in the database?"
_APP_STATE = "motcua.document_keys"
_database_signers: ProcessCache[Any] = ProcessCache(max_entries=256)


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


def has_file_key(agency_code: str) -> bool:
    try:
        return key_path(agency_code).is_file()
    except SigningUnavailable:
        return False


def has_key(agency_code: str) -> bool:
    """Can the agency sign: a key file, or an active key in the database (one query when there is no file)."""
    return has_file_key(agency_code) or _active_key(agency_code) is not None


def agency_ids_with_database_keys() -> set[int]:
    from portal.extensions import db
    from portal.models import AgencySigningKey

    return set(db.session.scalars(select(AgencySigningKey.agency_id).where(AgencySigningKey.active)))


def any_keys() -> bool:
    """Is there any agency key at all? A look at the folder, then a per-process answer about the database, asked
    again after KEYS_RECHECK_SECONDS (called after every commit that may issue a document: no query each time)."""
    folder = keys_dir()
    if folder.is_dir() and any(folder.glob("*.p12")):
        return True
    state = current_app.extensions.setdefault(_APP_STATE, {})
    known = state.get("any")
    now = time.monotonic()
    if known is not None and now - known[1] < KEYS_RECHECK_SECONDS:
        return bool(known[0])
    from portal.extensions import db
    from portal.models import AgencySigningKey

    # A connection of its own: this runs in after-commit hooks, where the session may not send SQL.
    with db.engine.connect() as connection:
        row = connection.execute(select(AgencySigningKey.id).where(AgencySigningKey.active).limit(1)).first()
    found = row is not None
    state["any"] = (found, now)
    return found


def forget_cached_keys() -> None:
    """After a key was installed in this process: the next `any_keys()` asks the database again."""
    current_app.extensions.get(_APP_STATE, {}).pop("any", None)


def _active_key(agency_code: str) -> tuple[int, str] | None:
    """(id, fingerprint) of the agency's active database key."""
    from portal.extensions import db
    from portal.models import Agency, AgencySigningKey

    row = db.session.execute(
        select(AgencySigningKey.id, AgencySigningKey.fingerprint)
        .join(Agency, Agency.id == AgencySigningKey.agency_id)
        .where(Agency.code == agency_code, AgencySigningKey.active)
    ).first()
    return (row.id, row.fingerprint) if row is not None else None


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
    return _kept(loaded)


def load_pkcs12_signer(data: bytes, passphrase: bytes | None):
    """A signer of PKCS#12 bytes (raises ValueError when they cannot be opened with the passphrase)."""
    from pyhanko.sign import signers

    return _kept(signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase))


def _kept(loaded: Any) -> Any:
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
    """The agency's signer: its active database key, else its key file (see the module's docstring)."""
    active = _active_key(agency_code)
    if active is not None:
        return _database_signer(agency_code, *active)
    path = key_path(agency_code)
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise SigningUnavailable(f"no key for agency {agency_code} in the database or in {path.parent}") from error
    passphrase = _passphrase()
    try:
        return _load_signer(str(path), stat.st_mtime_ns, passphrase)
    except SigningUnavailable:
        raise
    except Exception as error:  # a wrong passphrase, a damaged file
        raise SigningUnavailable(f"cannot load the key of agency {agency_code}: {type(error).__name__}") from error


def _database_signer(agency_code: str, key_id: int, fingerprint: str):
    """The signer of a database key, once per process (the fingerprint in the cache key: ids repeat when a test
    database is emptied, and a row's key never changes)."""
    from portal.extensions import db
    from portal.models import AgencySigningKey

    passphrase = _passphrase()

    def build() -> Any:
        data = db.session.scalar(select(AgencySigningKey.pkcs12).where(AgencySigningKey.id == key_id))
        if data is None:
            raise SigningUnavailable(f"the key {key_id} of agency {agency_code} is gone")
        try:
            return load_pkcs12_signer(data, passphrase)
        except Exception as error:  # DOCUMENT_KEY_PASSPHRASE changed since the key was stored, a damaged row
            raise SigningUnavailable(
                f"cannot open the key {key_id} of agency {agency_code} with DOCUMENT_KEY_PASSPHRASE: "
                f"{type(error).__name__}"
            ) from error

    return _database_signers.get_or_build((key_id, fingerprint, passphrase), build)


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


def chain_trusted(certificates: list) -> bool:
    """Does the first certificate (asn1crypto) chain, through the others, to one of the portal's trust roots, now?
    Offline, as `check_signature`."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    roots = _trust_roots()
    if not roots or not certificates:
        return False
    context = ValidationContext(
        trust_roots=roots, other_certs=certificates[1:], allow_fetching=False, revocation_mode="soft-fail"
    )
    validator = CertificateValidator(certificates[0], validation_context=context)
    try:
        outside_event_loop(lambda: asyncio.run(validator.async_validate_path()))
    except Exception:  # no path to a root, an expired or broken certificate in the chain
        log.info("certificate does not chain to the trust roots", exc_info=True)
        return False
    return True


def check_signature(data: bytes) -> SignatureCheck:
    """Validate the PDF's signatures against the portal's trust roots, offline (no fetching of CRLs or OCSP: the
    portal's own issuing certificates are checked by their trust root; revocation is the portal's own table).
    Never raises on a hostile file: anything pyHanko cannot parse is "not readable"."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
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
    # A signing certificate's key usage (when it has the extension) must allow digital signatures or
    # non-repudiation, as the upload of an agency's key checks (pyHanko alone asks for non-repudiation).
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    try:
        status = outside_event_loop(lambda: validate_pdf_signature(last, context, key_usage_settings=usage))
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
