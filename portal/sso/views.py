"""SAML endpoints, one set per identity provider: /sso/<idp>/metadata, login, acs, logout, sls.

Thin on purpose: `provider` checks the messages, `services` owns the accounts. Every refusal answers with a
plain page (400/403/503), a log line and an audit line, and leaves no account created or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.core.web import safe_next
from portal.extensions import csrf, db
from portal.sso import config as sso_config
from portal.sso import services
from portal.sso.config import IdpConfig
from portal.sso.provider import SamlProvider, SsoRefused

bp = Blueprint("sso", __name__, url_prefix="/sso", cli_group="sso")

# The AuthnRequests this browser has pending, in a signed cookie of their own: the IdP posts the answer from
# another site, and the session cookie (SameSite=Lax) does not come along with a cross-site POST.
PENDING_COOKIE = "motcua_sso_pending"
PENDING_MAX_AGE = 600  # seconds a person has to sign in at the IdP
PENDING_KEEP = 3  # a few tabs may start a sign-in at once

_AGAIN = _l("Please start again from the sign-in page.")
REASONS: dict[str, tuple[int, Any]] = {
    "signature": (400, _l("The answer from the sign-in service could not be verified, so it was not accepted.")),
    "unsigned": (400, _l("The answer from the sign-in service was not signed, so it was not accepted.")),
    "algorithm": (400, _l("The answer from the sign-in service uses an outdated, unsafe signature.")),
    "malformed": (400, _l("The answer from the sign-in service could not be read.")),
    "expired": (400, _l("The answer from the sign-in service has expired.")),
    "replayed": (400, _l("This answer from the sign-in service has already been used.")),
    "audience": (400, _l("The answer from the sign-in service was meant for another website.")),
    "destination": (400, _l("The answer from the sign-in service was meant for another address.")),
    "subject": (400, _l("The answer from the sign-in service was not meant for this portal.")),
    "issuer": (400, _l("The answer did not come from the sign-in service this portal trusts.")),
    "in_response_to": (400, _l("The answer from the sign-in service does not match your sign-in request.")),
    "unsolicited": (403, _l("The portal did not ask for this sign-in, or the request is too old.")),
    "idp_status": (403, _l("The sign-in service did not sign you in.")),
    "account_disabled": (403, _l("This account is locked. Contact the portal's administrator.")),
    "missing_attributes": (400, _l("The sign-in service did not send your name, which the portal needs.")),
    "logout_invalid": (400, _l("The sign-out message from the sign-in service was not valid.")),
    "unavailable": (503, _l("The sign-in service cannot be reached right now.")),
}


def _idp_or_404(name: str) -> IdpConfig:
    idp = sso_config.get_idp(name)
    if idp is None:
        abort(404)
    return idp


def _refuse(idp: str, refused: SsoRefused) -> Response:
    status, message = REASONS.get(refused.reason, REASONS["malformed"])
    services.record_refusal(idp, refused.reason, refused.detail)
    db.session.commit()
    page = render_template("sso/error.html", message=message, again=_AGAIN, reason=refused.reason)
    return make_response(page, status)


def _pending_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sso-pending")


def _read_pending() -> list[dict[str, str]]:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return []
    try:
        data = _pending_serializer().loads(raw, max_age=PENDING_MAX_AGE)
    except BadSignature:  # includes an expired cookie
        return []
    return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []


def _write_pending(response: Response, pending: list[dict[str, str]]) -> None:
    if not pending:
        response.delete_cookie(PENDING_COOKIE, path="/sso/")
        return
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    response.set_cookie(
        PENDING_COOKIE,
        _pending_serializer().dumps(pending[-PENDING_KEEP:]),
        max_age=PENDING_MAX_AGE,
        path="/sso/",
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",  # None needs https; plain-http development stays on one site
    )


@bp.get("/<idp>/metadata")
def metadata(idp: str):
    conf = _idp_or_404(idp)
    xml = SamlProvider(conf).metadata_xml()
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.get("/<idp>/login")
def login(idp: str):
    conf = _idp_or_404(idp)
    target = safe_next()
    if current_user.is_authenticated:
        return redirect(target)
    try:
        url, request_id = SamlProvider(conf).login_url()
    except SsoRefused as refused:
        return _refuse(conf.name, refused)
    response = redirect(url)
    _write_pending(response, [*_read_pending(), {"idp": conf.name, "id": request_id, "next": target}])
    return response


@bp.post("/<idp>/acs")
@csrf.exempt  # the identity provider posts here from its own site; the signed assertion is the proof
def acs(idp: str):
    conf = _idp_or_404(idp)
    pending = _read_pending()
    try:
        saml_login = SamlProvider(conf).read_response(request.form.get("SAMLResponse"))
        user, answered = services.sign_in(conf, saml_login, [p for p in pending if p.get("idp") == conf.name])
        db.session.commit()
    except SsoRefused as refused:
        db.session.rollback()
        return _refuse(conf.name, refused)
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user)
    session["sso"] = saml_login.session_data()
    response = redirect((answered or {}).get("next") or url_for("main.index"))
    _write_pending(response, [p for p in pending if p is not answered])
    return response


def _start_logout(idp_name: str) -> Response:
    """Sign out here at once, then ask the identity provider to end its session too (signed LogoutRequest)."""
    data, user = session.get("sso") or {}, current_user._get_current_object()
    conf = sso_config.get_idp(idp_name)
    logout_user()
    session.clear()
    if conf is None or data.get("idp") != idp_name:
        flash(_("You are signed out."), "info")
        return redirect(url_for("main.index"))
    try:
        url, request_id = SamlProvider(conf).logout_url(data)
    except SsoRefused:
        services.record_logout(user, idp_name, "portal, provider unreachable")
        db.session.commit()
        flash(_("You are signed out of the portal, but the sign-in service could not be reached."), "info")
        return redirect(url_for("main.index"))
    services.record_logout(user, idp_name, "portal")
    db.session.commit()
    session["sso_logout"] = {"idp": idp_name, "id": request_id}
    return redirect(url)


@bp.post("/<idp>/logout")
@login_required
def logout(idp: str):
    _idp_or_404(idp)
    return _start_logout(idp)


@bp.before_app_request
def _single_logout_on_sign_out():
    # The header's "Sign out" button posts to auth.logout (CSRF already checked by then); for a session that
    # came from an identity provider, sign out there too.
    if request.endpoint == "auth.logout" and request.method == "POST" and current_user.is_authenticated:
        data = session.get("sso")
        if data and data.get("idp"):
            return _start_logout(data["idp"])
    return None


@bp.get("/<idp>/sls")
def sls(idp: str):
    conf = _idp_or_404(idp)
    ours = session.get("sso_logout") or {}
    expected = ours.get("id") if ours.get("idp") == conf.name else None
    try:
        message = SamlProvider(conf).read_logout(expected)
    except SsoRefused as refused:
        return _refuse(conf.name, refused)
    if message.kind == "response":
        session.pop("sso_logout", None)
        flash(_("You are signed out of the portal and of the sign-in service."), "info")
        return redirect(url_for("main.index"))
    data = session.get("sso") or {}
    if current_user.is_authenticated and data.get("idp") == conf.name and data.get("name_id") == message.name_id:
        user = current_user._get_current_object()
        logout_user()
        session.clear()
        services.record_logout(user, conf.name, "identity provider")
        db.session.commit()
    return redirect(message.reply_url or url_for("main.index"))


@bp.app_context_processor
def inject_sso_providers() -> dict:
    def sso_providers() -> list[tuple[str, str]]:
        return [(name, idp.label) for name, idp in sso_config.configured().items()]

    return {"sso_providers": sso_providers}


@bp.record_once
def _check_configuration(state) -> None:  # noqa: ANN001  (a BlueprintSetupState)
    """Refuse to start with a broken SSO configuration, rather than fail at the first sign-in."""
    app: Flask = state.app
    idps = sso_config.load(app)
    if idps and not app.config.get("SSO_SP_GENERATE_KEYS"):
        for key in ("SSO_SP_CERT", "SSO_SP_KEY"):
            if not Path(app.config[key]).is_file():
                raise sso_config.SsoConfigError(f"{key}: {app.config[key]} does not exist (docs/SSO.md, keys)")


from portal.sso import cli  # noqa: E402,F401  (registers `flask sso …` on the blueprint)
