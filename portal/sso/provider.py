"""The one module that talks to python3-saml: it turns the Flask request into python3-saml input, builds strict
settings for one identity provider, and turns what comes back into plain values or an `SsoRefused`.

Strict mode, signed AuthnRequests and logout messages, signed assertions required (signed messages too unless a
provider is configured otherwise), SHA-256, deprecated algorithms (SHA-1) refused. The IdP's signing certificate
comes from its metadata and must match the configured SHA-256 pin.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError as VE
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as MetadataParser
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from portal.sso.config import IdpConfig
from portal.sso.keys import cert_body, ensure_keypair, fingerprint

log = logging.getLogger(__name__)

# How long an accepted assertion is remembered when it carries no NotOnOrAfter of its own.
DEFAULT_ASSERTION_LIFETIME = timedelta(hours=24)

_SIGNATURE_CODES = {
    VE.INVALID_SIGNATURE,
    VE.WRONG_SIGNED_ELEMENT,
    VE.ID_NOT_FOUND_IN_SIGNED_ELEMENT,
    VE.DUPLICATED_ID_IN_SIGNED_ELEMENTS,
    VE.INVALID_SIGNED_ELEMENT,
    VE.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS,
    VE.UNEXPECTED_SIGNED_ELEMENTS,
    VE.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE,
    VE.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION,
    VE.WRONG_NUMBER_OF_SIGNATURES,
}
REASON_BY_CODE: dict[int, str] = {
    **dict.fromkeys(_SIGNATURE_CODES, "signature"),
    **dict.fromkeys((VE.NO_SIGNED_MESSAGE, VE.NO_SIGNED_ASSERTION, VE.NO_SIGNATURE_FOUND), "unsigned"),
    **dict.fromkeys((VE.DEPRECATED_SIGNATURE_METHOD, VE.DEPRECATED_DIGEST_METHOD), "algorithm"),
    **dict.fromkeys((VE.ASSERTION_EXPIRED, VE.RESPONSE_EXPIRED, VE.SESSION_EXPIRED, VE.ASSERTION_TOO_EARLY), "expired"),
    VE.WRONG_AUDIENCE: "audience",
    VE.WRONG_DESTINATION: "destination",
    VE.EMPTY_DESTINATION: "destination",
    VE.WRONG_SUBJECTCONFIRMATION: "subject",
    **dict.fromkeys((VE.WRONG_ISSUER, VE.ISSUER_MULTIPLE_IN_RESPONSE, VE.ISSUER_NOT_FOUND_IN_ASSERTION), "issuer"),
    VE.WRONG_INRESPONSETO: "in_response_to",
    VE.STATUS_CODE_IS_NOT_SUCCESS: "idp_status",
    **dict.fromkeys((VE.NO_NAMEID, VE.EMPTY_NAMEID, VE.SP_NAME_QUALIFIER_NAME_MISMATCH), "name_id"),
}
# A NameID without a Format attribute is "unspecified" (SAML core 8.3.1).
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


class SsoRefused(Exception):
    """A sign-in or logout message that is not accepted. `reason` is a short code (see views.REASONS);
    `detail` is for the log only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SamlLogin:
    """What a valid Response says about the person."""

    idp: str
    name_id: str
    name_id_format: str | None
    session_index: str | None
    assertion_id: str
    in_response_to: str | None
    not_on_or_after: datetime
    attributes: dict[str, list[str]] = field(default_factory=dict)  # by Name and by FriendlyName
    name_id_nq: str | None = None
    name_id_spnq: str | None = None

    def session_data(self) -> dict[str, str | None]:
        """What logout needs later, small enough for the session cookie."""
        return {
            "idp": self.idp,
            "name_id": self.name_id,
            "format": self.name_id_format,
            "session_index": self.session_index,
            "nq": self.name_id_nq,
            "spnq": self.name_id_spnq,
        }


@dataclass(frozen=True)
class LogoutMessage:
    """A checked logout message: the IdP's answer to ours, or the IdP's own request (then `reply_url`)."""

    kind: str  # "response" | "request"
    name_id: str | None = None
    reply_url: str | None = None


# Parsed IdP metadata per process; keyed by source and file modification time, re-fetched after the TTL.
_metadata_cache: dict[tuple, tuple[float, dict[str, Any]]] = {}
_metadata_lock = threading.Lock()


def _read_metadata(idp: IdpConfig) -> dict[str, Any]:
    if idp.metadata_is_url:
        key: tuple = (idp.metadata, idp.entity_id)
    else:
        key = (idp.metadata, idp.entity_id, Path(idp.metadata).stat().st_mtime_ns)
    with _metadata_lock:
        cached = _metadata_cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    if idp.metadata_is_url:
        xml = MetadataParser.get_metadata(idp.metadata, validate_cert=True, timeout=10)
    else:
        xml = Path(idp.metadata).read_bytes()
    parsed = MetadataParser.parse(xml, entity_id=idp.entity_id)
    if "idp" not in parsed or not parsed["idp"].get("entityId"):
        raise ValueError("no IdP entity with a redirect-binding sign-in service in the metadata")
    with _metadata_lock:
        _metadata_cache[key] = (time.monotonic() + (idp.metadata_ttl if idp.metadata_is_url else 3600), parsed)
    return parsed


def _pinned_idp_settings(idp: IdpConfig) -> dict[str, Any]:
    """The IdP part of the settings, with only the signing certificates that match the pins."""
    try:
        data = dict(_read_metadata(idp)["idp"])
    except Exception as exc:  # unreadable file, network error, broken XML: the provider is unavailable
        log.error("SSO %s: cannot read IdP metadata from %s: %s", idp.name, idp.metadata, exc)
        raise SsoRefused("unavailable", f"metadata: {exc}") from exc
    multi = data.pop("x509certMulti", None) or {}
    certs = list(multi.get("signing") or []) or ([data["x509cert"]] if data.get("x509cert") else [])
    if idp.cert_fingerprints:
        certs = [c for c in certs if fingerprint(c) in idp.cert_fingerprints]
    if not certs:
        log.error("SSO %s: no signing certificate in the IdP metadata matches the configured pin", idp.name)
        raise SsoRefused("unavailable", "no pinned signing certificate in the metadata")
    data["x509cert"] = certs[0]
    if len(certs) > 1:
        data["x509certMulti"] = {"signing": certs}
    return data


def sp_keypair() -> tuple[str, str]:
    """The portal's signing certificate and key (PEM), generated at first use where that is allowed."""
    cert_path, key_path = current_app.config["SSO_SP_CERT"], current_app.config["SSO_SP_KEY"]
    if current_app.config.get("SSO_SP_GENERATE_KEYS"):
        ensure_keypair(cert_path, key_path, "MotCua SAML service provider")
    try:
        return Path(cert_path).read_text(), Path(key_path).read_text()
    except OSError as exc:
        raise RuntimeError(f"SSO: cannot read the service provider key pair ({cert_path}, {key_path})") from exc


def _metadata_validity() -> dict[str, Any]:
    """validUntil and cacheDuration of the SP metadata. python3-saml's default validUntil (now + 2 days) makes
    IdPs that enforce it drop the portal two days after the import, so none is published unless
    SSO_METADATA_VALID_DAYS asks for one; cacheDuration tells IdPs that refresh metadata how often to."""
    days = int(current_app.config.get("SSO_METADATA_VALID_DAYS") or 0)
    until: str | int = int(time.time() + days * 86400) if days > 0 else ""  # "": no validUntil attribute
    return {
        "metadataValidUntil": until,
        "metadataCacheDuration": current_app.config.get("SSO_METADATA_CACHE_DURATION") or "",
    }


class SamlProvider:
    """One identity provider, for the current request."""

    def __init__(self, idp: IdpConfig) -> None:
        self.idp = idp
        # Scheme and host only; a prefix the app is mounted under comes from the request's script root.
        base = current_app.config.get("SSO_SP_BASE_URL") or request.host_url
        parts = urlsplit(base)
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self._settings: OneLogin_Saml2_Settings | None = None

    def _url(self, endpoint: str) -> str:
        return self.base_url + url_for(endpoint, idp=self.idp.name)

    def _request_data(self) -> dict[str, Any]:
        parts = urlsplit(self.base_url)
        return {
            "https": "on" if parts.scheme == "https" else "off",
            "http_host": parts.netloc,
            "script_name": request.script_root + request.path,
            "get_data": request.args.to_dict(),
            "post_data": request.form.to_dict(),
            # Check redirect-binding signatures over the query exactly as it arrived, not re-encoded.
            "query_string": request.query_string.decode("latin-1"),
            "validate_signature_from_qs": True,
        }

    def settings(self, with_idp: bool = True) -> OneLogin_Saml2_Settings:
        if self._settings is not None and with_idp:
            return self._settings
        cert, key = sp_keypair()
        conf = {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": self.idp.sp_entity_id or self._url("sso.metadata"),
                "assertionConsumerService": {"url": self._url("sso.acs"), "binding": C.BINDING_HTTP_POST},
                "singleLogoutService": {"url": self._url("sso.sls"), "binding": C.BINDING_HTTP_REDIRECT},
                "NameIDFormat": self.idp.name_id_format,
                "x509cert": cert_body(cert),
                "privateKey": key,
            },
            "idp": _pinned_idp_settings(self.idp) if with_idp else {},
            "security": {
                "authnRequestsSigned": True,
                "logoutRequestSigned": True,
                "logoutResponseSigned": True,
                "signMetadata": True,
                **_metadata_validity(),
                "wantAssertionsSigned": True,
                "wantMessagesSigned": self.idp.want_messages_signed,
                "wantNameId": True,
                "wantAttributeStatement": True,
                "requestedAuthnContext": False,
                "signatureAlgorithm": C.RSA_SHA256,
                "digestAlgorithm": C.SHA256,
                "rejectDeprecatedAlgorithm": True,
                "allowSingleLabelDomains": True,  # http://localhost in development and tests
            },
        }
        if not with_idp:
            return OneLogin_Saml2_Settings(conf, sp_validation_only=True)
        try:
            settings = OneLogin_Saml2_Settings(conf)
        except OneLogin_Saml2_Error as exc:  # e.g. IdP metadata without a redirect-binding sign-in service
            log.error("SSO %s: the IdP settings are not usable: %s", self.idp.name, exc)
            raise SsoRefused("unavailable", f"settings: {exc}") from exc
        self._settings = settings
        return settings

    def _auth(self) -> OneLogin_Saml2_Auth:
        return OneLogin_Saml2_Auth(self._request_data(), self.settings())

    def metadata_xml(self) -> bytes:
        """The portal's signed SP metadata (needs no IdP metadata, so it works before the IdP is set up)."""
        settings = self.settings(with_idp=False)
        metadata = settings.get_sp_metadata()
        errors = settings.validate_metadata(metadata)
        if errors:
            raise RuntimeError(f"SSO: invalid SP metadata: {errors}")
        return metadata if isinstance(metadata, bytes) else metadata.encode()

    def login_url(self, relay_state: str = "", force_authn: bool = False) -> tuple[str, str]:
        """Where to send the browser with a signed AuthnRequest, and that request's id. `force_authn` makes the
        IdP ask for the password even when its own session is still open."""
        auth = self._auth()
        url = auth.login(return_to=relay_state or None, force_authn=force_authn)
        return url, auth.get_last_request_id()

    def read_response(self, saml_response: str | None) -> SamlLogin:
        """Check a posted SAMLResponse strictly. Which request it answers (InResponseTo) is checked by the
        caller against the requests this browser has pending."""
        if not saml_response:
            raise SsoRefused("malformed", "no SAMLResponse in the POST")
        settings = self.settings()
        try:
            response = OneLogin_Saml2_Response(settings, saml_response)
            response.is_valid(self._request_data(), None, raise_exceptions=True)
            # Inside the try: python3-saml checks the NameID (missing, empty, SPNameQualifier) only when read.
            login = self._login_from(response)
        except VE as exc:
            raise SsoRefused(REASON_BY_CODE.get(exc.code, "malformed"), str(exc)) from exc
        except SsoRefused:
            raise
        except Exception as exc:  # undecodable base64, broken XML, an encrypted part we cannot read…
            raise SsoRefused("malformed", f"{type(exc).__name__}: {exc}") from exc
        self._check_name_id(login)
        return login

    def _check_name_id(self, login: SamlLogin) -> None:
        """Only the configured NameID format names an account: a transient NameID is new at every sign-in and
        would make a new account each time. A NameQualifier must be this IdP's entity id."""
        got = login.name_id_format or NAMEID_UNSPECIFIED
        if got != self.idp.name_id_format:
            raise SsoRefused(
                "name_id_format", f"NameID format {got} from IdP {self.idp.name}, expected {self.idp.name_id_format}"
            )
        idp_entity = self.settings().get_idp_data().get("entityId")
        if login.name_id_nq and login.name_id_nq != idp_entity:
            raise SsoRefused("name_id", f"NameQualifier {login.name_id_nq} is not the IdP's entity id {idp_entity}")

    def _login_from(self, response: OneLogin_Saml2_Response) -> SamlLogin:
        attributes: dict[str, list[str]] = {}
        for source in (response.get_attributes(), response.get_friendlyname_attributes()):
            for name, values in source.items():
                attributes.setdefault(name, [str(v) for v in values if v is not None])
        until = response.get_assertion_not_on_or_after()
        expires = datetime.fromtimestamp(until, UTC) if until else datetime.now(UTC) + DEFAULT_ASSERTION_LIFETIME
        name_id = response.get_nameid()
        if not name_id or not response.get_assertion_id():
            raise SsoRefused("malformed", "no NameID or assertion ID")
        return SamlLogin(
            idp=self.idp.name,
            name_id=name_id,
            name_id_format=response.get_nameid_format(),
            session_index=response.get_session_index(),
            assertion_id=response.get_assertion_id(),
            in_response_to=response.get_in_response_to(),
            not_on_or_after=expires,
            attributes=attributes,
            name_id_nq=response.get_nameid_nq(),
            name_id_spnq=response.get_nameid_spnq(),
        )

    def logout_url(self, session_data: dict[str, Any], relay_state: str = "") -> tuple[str, str]:
        """Where to send the browser with a signed LogoutRequest for this sign-in, and the request's id."""
        auth = self._auth()
        try:
            url = auth.logout(
                return_to=relay_state or None,
                name_id=session_data.get("name_id"),
                session_index=session_data.get("session_index"),
                nq=session_data.get("nq"),
                name_id_format=session_data.get("format"),
                spnq=session_data.get("spnq"),
            )
        except OneLogin_Saml2_Error as exc:  # the IdP publishes no single logout service
            raise SsoRefused("unavailable", f"logout: {exc}") from exc
        return url, auth.get_last_request_id()

    def read_logout(self, expected_request_id: str | None) -> LogoutMessage:
        """Check a logout message that arrived by redirect: the IdP's answer to our request, or its own request
        (then `reply_url` carries our signed LogoutResponse)."""
        if self.idp.want_logout_signed and "Signature" not in request.args:
            # python3-saml asks for signed logout messages only with wantMessagesSigned, which a provider may
            # turn off for its Responses; an unsigned logout message could come from any site.
            raise SsoRefused("unsigned", "logout message without a signature")
        auth = self._auth()
        try:
            reply_url = auth.process_slo(keep_local_session=True, request_id=expected_request_id)
        except Exception as exc:  # no SAML message at all, or one python3-saml cannot decode
            raise SsoRefused("malformed", f"{type(exc).__name__}: {exc}") from exc
        if auth.get_errors():
            errors, why = auth.get_errors(), auth.get_last_error_reason() or ""
            reason = "signature" if any("signature" in e for e in errors) else "logout_invalid"
            if "not signed" in why:
                reason = "unsigned"
            elif "Deprecated" in why:
                reason = "algorithm"
            elif "logout_not_success" in errors:
                reason = "logout_failed"
            raise SsoRefused(reason, f"{errors}: {why}")
        if "SAMLRequest" in request.args:
            name_id = OneLogin_Saml2_Logout_Request.get_nameid(auth.get_last_request_xml())
            return LogoutMessage("request", name_id=name_id, reply_url=reply_url)
        return LogoutMessage("response")
