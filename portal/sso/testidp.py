"""A SAML identity provider for development and tests, built on pysaml2's `saml2.server.Server`.

It serves sign-in (HTTP-Redirect in, HTTP-POST out) and single logout (HTTP-Redirect both ways) on loopback, with
demo users and a login form. Tests can make it misbehave (unsigned, expired, wrong audience…) to check that
the portal refuses what it must. Never expose it: anyone may sign in as anyone with the demo password.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
import shutil
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.utils import CryptographyDeprecationWarning
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

with warnings.catch_warnings():
    # pysaml2 names a cipher mode that `cryptography` has moved (a deprecation in its import, not our use).
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.assertion import Policy
    from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
    from saml2.config import IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
    from saml2.server import Server
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from portal.sso.keys import ensure_keypair, fingerprint


@dataclass
class DemoUser:
    password: str
    attributes: dict[str, list[str]]


def demo_users(password: str) -> dict[str, DemoUser]:
    """Officers of the demo ward (their `role` values match the demo groups' roles) and one citizen."""

    def officer(name: str, email: str, phone: str, roles: list[str], unit: str) -> DemoUser:
        attrs = {"displayName": [name], "mail": [email], "mobile": [phone], "role": roles, "ou": [unit]}
        return DemoUser(password, {**attrs, "userType": ["officer"]})

    return {
        "tiepnhan": officer("Nguyễn Văn Tiếp", "tiepnhan.sso@tinh.demo", "0901000001", ["reception"], "Một cửa"),
        "hotich": officer("Lê Thị Hộ", "hotich.sso@tinh.demo", "0901000002", ["civil_status"], "Tư pháp - Hộ tịch"),
        "lanhdao": officer("Trần Văn Lãnh", "lanhdao.sso@tinh.demo", "0901000003", ["leader"], "Lãnh đạo"),
        "congdan": DemoUser(
            password,
            {
                "displayName": ["Phạm Thị Dân"],
                "mail": ["congdan.vneid@tinh.demo"],
                "citizenId": ["079190000001"],
                "vneidVerified": ["true"],
                "userType": ["citizen"],
            },
        ),
    }


@dataclass(frozen=True)
class Behaviour:
    """How the next responses are made; the defaults are a correct IdP."""

    sign_assertion: bool = True
    sign_response: bool = True
    sign_alg: str = SIG_RSA_SHA256
    digest_alg: str = DIGEST_SHA256
    issuer: str | None = None  # another issuer than our entity id
    audience: str | None = None  # another SP than the one that asked
    destination: str | None = None  # another Destination/Recipient than the SP's ACS
    lifetime_minutes: int = 5  # negative: already expired
    name_id_format: str = NAMEID_FORMAT_PERSISTENT  # transient: a new random NameID at every sign-in
    name_id_text: str | None = None  # "" sends an empty NameID
    name_qualifier: str | None = None  # another NameQualifier than our entity id
    sp_name_qualifier: str | None = None  # another SPNameQualifier than the SP's entity id
    sign_logout: bool = True  # sign the LogoutRequests and LogoutResponses we send


@dataclass
class IdpSession:
    username: str
    sp: str
    session_index: str
    name_id: NameID = field(repr=False)


class TestIdP:
    """`with TestIdP(dir, [sp_metadata_xml]) as idp:` serves on http://127.0.0.1:<free port>."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        workdir: str | Path,
        sp_metadata: list[str | bytes],
        users: dict[str, DemoUser] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        key_name: str = "testidp",
        entity_id: str | None = None,
        quiet: bool = False,
    ) -> None:
        self.workdir = Path(workdir)
        self.cert_file, self.key_file = self.workdir / f"{key_name}.crt", self.workdir / f"{key_name}.key"
        ensure_keypair(self.cert_file, self.key_file, "MotCua test IdP")
        self.users = users if users is not None else demo_users("MotCua@2026")
        self.behaviour = Behaviour()
        self.sessions: dict[str, IdpSession] = {}  # by NameID value
        self.logged_out: list[str] = []  # what the IdP heard back: "sp-response:<status>", "sp-request:<name>"
        # Like a real IdP, a browser that signed in here once is signed in again without its password while its
        # session lasts (cookie -> NameID), unless the SP asks for ForceAuthn. `password_forms` counts the pages
        # that asked for a password.
        self.browser_sessions: dict[str, str] = {}
        self.password_forms = 0
        self.last_name_id = ""
        handler = _QuietHandler if quiet else WSGIRequestHandler
        self._http = make_server(host, port, self._wsgi, threaded=True, request_handler=handler)
        self.base_url = f"http://{host}:{self._http.port}"
        self.entity_id = entity_id or f"{self.base_url}/metadata"
        self.server = Server(config=self._config([m.decode() if isinstance(m, bytes) else m for m in sp_metadata]))
        self._thread: threading.Thread | None = None

    def _config(self, sp_metadata: list[str]) -> IdPConfig:
        xmlsec = shutil.which("xmlsec1")
        if xmlsec is None:
            raise RuntimeError("the test IdP needs the xmlsec1 program (apt-get install xmlsec1)")
        conf = IdPConfig()
        conf.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "name": "MotCua test IdP",
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.base_url}/sso/redirect", BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(f"{self.base_url}/slo/redirect", BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                        "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                    }
                },
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "xmlsec_binary": xmlsec,
                "metadata": {"inline": sp_metadata},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "accepted_time_diff": 60,
            }
        )
        return conf

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> TestIdP:
        self._thread = threading.Thread(target=self._http.serve_forever, name="test-idp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join()

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def __enter__(self) -> TestIdP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextmanager
    def misbehave(self, **changes: Any) -> Iterator[None]:
        """Make responses differently inside the block (see `Behaviour`)."""
        before = self.behaviour
        self.behaviour = replace(before, **changes)
        try:
            yield
        finally:
            self.behaviour = before

    def metadata_xml(self) -> str:
        return str(entity_descriptor(self.server.config))

    def cert_fingerprint(self) -> str:
        return fingerprint(self.cert_file.read_text())

    # -- SAML ----------------------------------------------------------------------------------------------

    def _name_id(self, username: str, sp: str) -> NameID:
        # Persistent and stable across restarts: derived from the user and the SP, never the username itself.
        how = self.behaviour
        digest = hashlib.sha256(f"{self.entity_id}|{sp}|{username}".encode()).hexdigest()[:40]
        if how.name_id_format == NAMEID_FORMAT_TRANSIENT:
            digest = "_" + secrets.token_hex(16)
        return NameID(
            format=how.name_id_format,
            text=digest if how.name_id_text is None else how.name_id_text,
            name_qualifier=how.name_qualifier or self.entity_id,
            sp_name_qualifier=how.sp_name_qualifier or sp,
        )

    def authn_response(self, username: str, sp: str, acs_url: str, in_response_to: str | None) -> str:
        """A SAML Response (XML) for this user, made as `self.behaviour` says."""
        how = self.behaviour
        name_id = self._name_id(username, sp)
        policy = Policy(
            {"default": {"lifetime": {"minutes": how.lifetime_minutes}, "name_form": NAME_FORMAT_URI}},
            mds=self.server.metadata,
        )
        xml = self.server.create_authn_response(
            identity=self.users[username].attributes,
            in_response_to=in_response_to,
            destination=how.destination or acs_url,
            sp_entity_id=how.audience or sp,
            name_id=name_id,
            authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_auth": self.entity_id},
            issuer=how.issuer,
            sign_response=how.sign_response,
            sign_assertion=how.sign_assertion,
            sign_alg=how.sign_alg,
            digest_alg=how.digest_alg,
            release_policy=policy,
        )
        xml = str(xml)
        found = re.search(r'SessionIndex="([^"]+)"', xml)
        self.sessions[name_id.text] = IdpSession(username, sp, found.group(1) if found else "", name_id)
        self.last_name_id = name_id.text
        return xml

    def post_page(self, xml: str, acs_url: str, relay_state: str = "") -> str:
        """The auto-submitting HTML form that carries a response to the SP (HTTP-POST binding)."""
        return self.server.apply_binding(BINDING_HTTP_POST, xml, acs_url, relay_state, response=True)["data"]

    def _parse_authn_request(self, args: dict[str, str]) -> Any:
        return self.server.parse_authn_request(
            args["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=args.get("RelayState"),
            sigalg=args.get("SigAlg"),
            signature=args.get("Signature"),
        )

    def read_authn_request(self, redirect_url: str) -> tuple[str, str, str]:
        """(request id, SP entity id, ACS URL) of the signed AuthnRequest in a redirect URL to this IdP."""
        from urllib.parse import parse_qsl, urlsplit

        req = self._parse_authn_request(dict(parse_qsl(urlsplit(redirect_url).query)))
        args = self.server.response_args(req.message, [BINDING_HTTP_POST])
        return req.message.id, args["sp_entity_id"], args["destination"]

    def _sp_slo_url(self, sp: str) -> str:
        return self.server.metadata.single_logout_service(sp, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]

    def logout_request_url(self, username: str) -> str:
        """IdP-initiated logout: where to send the browser with a signed LogoutRequest for the user's session."""
        session = next(s for s in self.sessions.values() if s.username == username)
        destination = self._sp_slo_url(session.sp)
        _, request = self.server.create_logout_request(
            destination, session.sp, name_id=session.name_id, session_indexes=[session.session_index], sign=False
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            destination,
            "",
            sign=self.behaviour.sign_logout,
            sigalg=self.behaviour.sign_alg,
        )
        return dict(info["headers"])["Location"]

    # -- HTTP ----------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        routes = {
            ("GET", "/"): self._home,
            ("GET", "/metadata"): lambda r: Response(self.metadata_xml(), mimetype="application/samlmetadata+xml"),
            ("GET", "/sso/redirect"): self._sso_form,
            ("POST", "/sso/login"): self._sso_login,
            ("GET", "/slo/redirect"): self._slo,
            ("GET", "/logout"): self._idp_logout,
        }
        handler = routes.get((request.method, request.path))
        try:
            response = handler(request) if handler else _page("Not found", "<p>No such page.</p>", 404)
        except Exception as exc:  # a bad message: say so, as an IdP would
            response = _page("Error", f"<p>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>", 400)
        return response(environ, start_response)

    def _home(self, request: Request) -> Response:
        rows = "".join(f"<li>{html.escape(u)}</li>" for u in self.users)
        signed_in = "".join(
            f'<li>{html.escape(name)} — <a href="/logout?user={html.escape(name)}">sign out everywhere</a></li>'
            for name in {s.username for s in self.sessions.values()}
        )
        return _page("MotCua test IdP", f"<h2>Demo users</h2><ul>{rows}</ul><h2>Signed in</h2><ul>{signed_in}</ul>")

    def _sso_form(self, request: Request) -> Response:
        req = self._parse_authn_request(request.args.to_dict())  # refuses an unsigned or broken request now
        name_id = self.browser_sessions.get(request.cookies.get(SESSION_COOKIE, ""), "")
        session = self.sessions.get(name_id)
        if session is not None and str(req.message.force_authn).lower() not in {"true", "1"}:
            return self._answer(req, session.username, request.args.get("RelayState", ""))
        self.password_forms += 1
        query = html.escape(request.query_string.decode("latin-1"))
        body = (
            '<form method="post" action="/sso/login">'
            f'<input type="hidden" name="query" value="{query}">'
            '<p><label>User <input name="username" autocomplete="username"></label></p>'
            '<p><label>Password <input name="password" type="password"></label></p>'
            "<p><button>Sign in</button></p></form>"
        )
        return _page("Sign in at the test IdP", body)

    def _sso_login(self, request: Request) -> Response:
        from urllib.parse import parse_qsl

        args = dict(parse_qsl(request.form.get("query", ""), keep_blank_values=True))
        req = self._parse_authn_request(args)
        username, password = request.form.get("username", ""), request.form.get("password", "")
        user = self.users.get(username)
        if user is None or user.password != password:
            return _page("Sign in at the test IdP", "<p>Wrong user or password.</p>", 401)
        response = self._answer(req, username, args.get("RelayState", ""))
        token = secrets.token_urlsafe(16)
        self.browser_sessions[token] = self.last_name_id
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax")
        return response

    def _answer(self, req: Any, username: str, relay_state: str) -> Response:
        resp_args = self.server.response_args(req.message, [BINDING_HTTP_POST])
        xml = self.authn_response(username, resp_args["sp_entity_id"], resp_args["destination"], req.message.id)
        return Response(self.post_page(xml, resp_args["destination"], relay_state), mimetype="text/html")

    def _slo(self, request: Request) -> Response:
        args = request.args.to_dict()
        if "SAMLResponse" in args:  # the SP's answer to our LogoutRequest
            response = self.server.parse_logout_request_response(args["SAMLResponse"], BINDING_HTTP_REDIRECT)
            status = response.response.status.status_code.value.rsplit(":", 1)[-1]
            self.logged_out.append(f"sp-response:{status}")
            return _page("Signed out", f"<p>The portal answered: {html.escape(status)}.</p>")
        req = self.server.parse_logout_request(
            args["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            args.get("RelayState"),
            args.get("SigAlg"),
            args.get("Signature"),
        )
        gone = self.sessions.pop(req.message.name_id.text, None)
        self.logged_out.append(f"sp-request:{gone.username if gone else '?'}")
        response = self.server.create_logout_response(req.message, [BINDING_HTTP_REDIRECT], sign=False)
        destination = self._sp_slo_url(req.message.issuer.text)
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            args.get("RelayState", ""),
            response=True,
            sign=self.behaviour.sign_logout,
            sigalg=self.behaviour.sign_alg,
        )
        return Response(status=302, headers={"Location": dict(info["headers"])["Location"]})

    def _idp_logout(self, request: Request) -> Response:
        return Response(status=302, headers={"Location": self.logout_request_url(request.args.get("user", ""))})


SESSION_COOKIE = "testidp_session"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # tests read results, not access logs
        pass


def _page(title: str, body: str, status: int = 200) -> Response:
    text = f"<!doctype html><html lang='en'><meta charset='utf-8'><title>{html.escape(title)}</title>"
    text += f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    return Response(text, status=status, mimetype="text/html")
