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
    if isinstance(config, dict):
        overrides = config
        config = overrides.pop("ENV", None)
    config_class = config if isinstance(config, type) else config_for(config)
    config_class.check()
    app.config.from_object(config_class)
    app.config.update(overrides)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def select_locale() -> str:
    from flask import current_app, has_request_context, session

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, Celery tasks: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    from portal import models
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from portal.tasks import celery_init_app

    celery_init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        return db.session.get(models.User, int(user_id))


def register_blueprints(app: Flask) -> None:
    from portal.main.views import bp as main_bp

    app.register_blueprint(main_bp)


def register_errorhandlers(app: Flask) -> None:
    from portal.main.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
