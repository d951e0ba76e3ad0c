"""MotCua: the provincial one-stop-shop portal. `create_app` builds the Flask application."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from config import Config, config_for


def create_app(config: type[Config] | str | dict[str, Any] | None = None) -> Flask:
    """Build the application.

    `config` is a config class, an environment name, or a dict of overrides applied on top of the class
    chosen by MOTCUA_ENV (tests pass a dict).
    """
    app = Flask(__name__, instance_relative_config=False)
    overrides: dict[str, Any] = {}
    chosen: type[Config] | str | None = None
    if isinstance(config, dict):
        overrides = dict(config)  # a copy: popping ENV must not change the caller's dict
        chosen = overrides.pop("ENV", None)
    else:
        chosen = config
    config_class = chosen if isinstance(chosen, type) else config_for(chosen)
    config_class.check()
    app.config.from_object(config_class)
    app.config.update(overrides)
    _ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    from portal.core.logs import configure_logging

    configure_logging(app)
    if app.config.get("TRUSTED_PROXIES"):  # the client's address (rate limits) and scheme from the proxy
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _ensure_sqlite_folder(uri: str) -> None:
    """The embedded default keeps its database in instance/, which a fresh checkout does not have yet."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and len(uri) > len(prefix):
        from pathlib import Path

        Path(uri[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


# Remembers, for a year, the language a person chose with the switch in the header (/lang/<code>).
LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """Vietnamese for everyone unless the person chose another language: the choice of this session (set by
    the switch, or from the account's stored preference at sign-in), else the one remembered by this browser's
    cookie. The browser's Accept-Language is not followed, except by the API (/api/…). No database access: the
    outage page uses it too."""
    from flask import current_app, has_request_context, session

    languages = current_app.config["LANGUAGES"]
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # CLI, Celery tasks: the default language
        return default
    if request.path.startswith("/api/"):  # API clients have no session or cookie: Accept-Language says it
        return request.accept_languages.best_match(languages) or default
    for chosen in (session.get("locale"), request.cookies.get(LANGUAGE_COOKIE)):
        if isinstance(chosen, str) and chosen in languages:
            return chosen
    return default


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (registers every table before the extensions start)
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from portal.core.database import limit_session_time

    limit_session_time(app)  # PostgreSQL statement and idle-in-transaction timeouts
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from workflows import sandbox

    sandbox.configure(app.config.get("SCRIPT_TIME_BUDGET_MS", 1000), app.config.get("SCRIPT_MEMORY_BUDGET_MB", 64))

    from portal.tasks import celery_init_app

    celery_init_app(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page itself says what to do
    login_manager.session_protection = "strong"

    from portal.auth.sessions import load_user

    # Accepts only ids of the account's current session version (portal/auth/sessions.py).
    login_manager.user_loader(load_user)
    from flask_login import user_loaded_from_cookie, user_logged_in

    from portal.auth.sessions import use_preferred_language

    user_logged_in.connect(use_preferred_language, app)  # the account's language, on every device it signs in
    user_loaded_from_cookie.connect(use_preferred_language, app)

    @app.context_processor
    def inject_locale() -> dict:
        from flask_babel import get_locale

        return {"current_locale": str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])}


def register_blueprints(app: Flask) -> None:
    from portal.auth.views import bp as auth_bp
    from portal.core import presentation
    from portal.main.views import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    from portal.sso.views import bp as sso_bp  # /sso/<idp>/… and `flask sso …`

    app.register_blueprint(sso_bp)
    from portal.inbox import register_blueprints as register_officer_pages  # inbox + documents

    register_officer_pages(app)
    from portal.citizen import register_blueprints as register_citizen_pages  # catalogue, citizen, tracking

    register_citizen_pages(app)
    from portal.reports import init_app as init_reports  # citizen field reports: /reports/new, /public/reports

    init_reports(app)
    from portal.notifications import init_app as init_notifications  # /notifications, outbox, Celery jobs

    init_notifications(app)
    from portal.external import init_app as init_external  # external service tasks: jobs, topics, Celery jobs

    init_external(app)
    from portal.documents import init_app as init_documents  # signed PDFs, /verify, `flask documents`, Celery job

    init_documents(app)
    from portal.sync import init_app as init_national_sync  # status pushes to the national portal (docs/SYNC.md)

    init_national_sync(app)
    from portal.core import session_hooks
    from portal.dossiers import changes  # noqa: F401  (its session hooks number dossier changes: GET /api/v1/dossiers/changes)

    session_hooks.install()  # one listener per db.session event, calling the areas' hooks in their stages' order
    from portal.admin import register_blueprints as register_admin_pages  # /admin/… (administrators only)

    register_admin_pages(app)
    from portal.ioc import bp as ioc_bp  # /ioc/… (leaders: today's figures, where dossiers wait)

    app.register_blueprint(ioc_bp)
    from portal.stats import init_app as init_stats  # aggregates, /statistics, /open-data/…, `flask stats`

    init_stats(app)
    from portal.api import init_app as init_api  # /api/v1/… (service accounts' tokens), its OpenAPI document

    init_api(app)
    register_security_headers(app)
    presentation.register(app)
    from portal.core import sqlcount  # X-SQL-Statements, only when SQL_COUNT_HEADER is set (bench/lifecycle.py)

    sqlcount.install(app)


# Every asset is served by the portal itself (government networks are often closed), so the policy can be strict.
# `form-action 'self'` also covers the redirects after a form POST (Chromium): so single sign-out continues to the
# identity provider from a page of its own, not by a redirect of the sign-out form (portal/sso/views.py).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def content_security_policy(tiles: str, allow_http: bool = True) -> str:
    """The portal's policy; with a map tile server configured (REPORTS_MAP_TILES), images may also come from its
    origin, and only from it. An unusable template stops the start (config.tile_origin says why)."""
    if not tiles:
        return CONTENT_SECURITY_POLICY
    from config import tile_origin

    try:
        origin = tile_origin(tiles, allow_http=allow_http)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data: blob:;", f"img-src 'self' data: blob: {origin};", 1)


def register_security_headers(app: Flask) -> None:
    policy = content_security_policy(
        app.config.get("REPORTS_MAP_TILES") or "", allow_http=app.config.get("ENV_NAME") != "production"
    )

    @app.after_request
    def security_headers(response):  # noqa: ANN001
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_errorhandlers(app: Flask) -> None:
    from portal.main.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
