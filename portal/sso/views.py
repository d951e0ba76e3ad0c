"""SAML endpoints, one set per identity provider: /sso/<idp>/metadata, login, acs, logout, sls.

Thin on purpose: `provider` checks the messages, `services` owns the accounts. Every refusal answers with a
plain page (400/403/503), a log line and an audit line, and leaves no account created or changed.
"""

from __future__ import annotations

import logging
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
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns; flask's Response subclasses it

from portal.auth.sessions import end_all_sessions
from portal.core.web import is_local_path, safe_next, unit_of_work
from portal.extensions import csrf
from portal.sso import config as sso_config
from portal.sso import services
from portal.sso.config import IdpConfig
from portal.sso.provider import SamlProvider, SsoRefused

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__, url_prefix="/sso", cli_group="sso")

# The AuthnRequests this browser has pending, in a signed cookie of their own: the IdP posts the answer from
# another site, and the session cookie (SameSite=Lax) does not come along with a cross-site POST.
PENDING_COOKIE = "motcua_sso_pending"
PENDING_MAX_AGE = 600  # seconds a person has to sign in at the IdP
PENDING_KEEP = 3  # a few tabs may start a sign-in at once
# Set when someone signs out here, until their next SSO sign-in: that sign-in asks the IdP for ForceAuthn, so the
# password is asked for again even if the LogoutRequest never reached the IdP (tab closed, IdP unreachable).
REAUTH_COOKIE = "motcua_sso_reauth"
REAUTH_MAX_AGE = 7 * 24 * 3600

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
    "logout_failed": (
        502,
        _l(
            "You are signed out of the portal, but the sign-in service says it could not end its own session. "
            "Close the browser to be sure nobody else can use it."
        ),
    ),
    "name_id": (400, _l("The sign-in service did not say clearly who you are, so the sign-in was not accepted.")),
    "name_id_format": (
        403,
        _l(
            "The sign-in service sent only a temporary identity for you, so the portal cannot recognise your "
            "account. Please tell the sign-in service's administrator (the portal needs a persistent identifier)."
        ),
    ),
    "unavailable": (503, _l("The sign-in service cannot be reached right now.")),
}


def _idp_or_404(name: str) -> IdpConfig:
    idp = sso_config.get_idp(name)
    if idp is None:
        abort(404)
    return idp


def _refuse(idp: str, refused: SsoRefused) -> Response:
    status, message = REASONS.get(refused.reason, REASONS["malformed"])
    with unit_of_work():
        services.record_refusal(idp, refused.reason, refused.detail)
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


def _write_pending(response: BaseResponse, pending: list[dict[str, str]]) -> None:
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


def _local_target(target: str | None) -> str:
    """A path on this site to send the browser to, or the home page: checked again where it is used, since it
    comes back from a cookie (never another site, never CR/LF or other characters that break a Location)."""
    return target if target and is_local_path(target) else url_for("main.index")


def _set_reauth(response: BaseResponse, on: bool) -> None:
    if not on:
        response.delete_cookie(REAUTH_COOKIE, path="/sso/")
        return
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    response.set_cookie(REAUTH_COOKIE, "1", max_age=REAUTH_MAX_AGE, path="/sso/", httponly=True, secure=secure)


@bp.get("/<idp>/metadata")
def metadata(idp: str):
    conf = _idp_or_404(idp)
    xml = SamlProvider(conf).metadata_xml()
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.get("/<idp>/login")
def login(idp: str):
    conf = _idp_or_404(idp)
    target = _local_target(safe_next())
    if current_user.is_authenticated:
        return redirect(target)
    try:
        url, request_id = SamlProvider(conf).login_url(force_authn=REAUTH_COOKIE in request.cookies)
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
        with unit_of_work():  # a refusal rolls back whatever the answer had started
            saml_login = SamlProvider(conf).read_response(request.form.get("SAMLResponse"))
            user, answered = services.sign_in(conf, saml_login, [p for p in pending if p.get("idp") == conf.name])
    except SsoRefused as refused:
        return _refuse(conf.name, refused)
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user)
    session["sso"] = saml_login.session_data()
    # Where the sign-in started (kept in our signed cookie); the IdP's RelayState is never a destination.
    response = redirect(_local_target((answered or {}).get("next")))
    _write_pending(response, [p for p in pending if p is not answered])
    _set_reauth(response, False)
    return response


def _start_logout(idp_name: str) -> BaseResponse:
    """Sign out here at once, on every device (every session and remember token of the account), then send the
    browser to the identity provider with a signed LogoutRequest so that it ends its session too."""
    data, user = session.get("sso") or {}, current_user._get_current_object()
    conf = sso_config.get_idp(idp_name)
    end_all_sessions(user)
    logout_user()
    session.clear()
    if conf is None or data.get("idp") != idp_name:
        with unit_of_work():
            services.record_logout(user, idp_name, "portal, no sign-in service session")
        flash(_("You are signed out."), "info")
        return redirect(url_for("main.index"))
    try:
        url, request_id = SamlProvider(conf).logout_url(data)
    except SsoRefused as refused:
        log.warning("SSO %s: no LogoutRequest sent (%s): %s", idp_name, refused.reason, refused.detail)
        with unit_of_work():
            services.record_logout(user, idp_name, "portal, provider unreachable")
        flash(
            _(
                "You are signed out of the portal, but the sign-in service could not be reached. Your next "
                "sign-in with it will ask for your password again; on a shared computer, close the browser too."
            ),
            "error",
        )
        response = redirect(url_for("main.index"))
        _set_reauth(response, True)
        return response
    with unit_of_work():
        services.record_logout(user, idp_name, "portal")
    session["sso_logout"] = {"idp": idp_name, "id": request_id}
    # Not a redirect: the sign-out form's POST would carry it, and browsers apply the CSP's `form-action` to
    # every redirect after a form submission (Chromium does), so `form-action 'self'` blocks the way to the
    # IdP. Listing the IdPs' origins in form-action is not enough either: an IdP's logout may pass through
    # further hosts (ADFS redirects through every other relying party; proxies and brokered IdPs add hops), and
    # the origins would have to be read from metadata for every page. A page of our own that continues with a
    # plain navigation (meta refresh, and a link for when refresh is turned off) ends the form's redirect
    # chain, so form-action no longer applies, and it says what is happening if the IdP is slow or down.
    page = render_template("sso/logout_continue.html", url=url)
    response = make_response(page, 200)
    response.headers["Cache-Control"] = "no-store"
    _set_reauth(response, True)
    return response


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
    # The IdP's RelayState is never a destination here: we go home, or answer the IdP at its own SLO address.
    if message.kind == "response":
        session.pop("sso_logout", None)
        flash(_("You are signed out of the portal and of the sign-in service."), "info")
        return redirect(url_for("main.index"))
    with unit_of_work():
        user = services.logout_from_idp(conf.name, message.name_id)
    data = session.get("sso") or {}
    if current_user.is_authenticated and data.get("idp") == conf.name and data.get("name_id") == message.name_id:
        logout_user()
        session.clear()
    if user is not None:
        log.info("SSO %s: the identity provider signed out user %s", conf.name, user.id)
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
