"""Configuration classes, read from the environment.

`MOTCUA_ENV` picks the class (development, testing, production). Production refuses to start without the
secrets it needs; development and testing have safe local defaults so that the quick start works on a new machine.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("MOTCUA_INSTANCE_DIR", BASE_DIR / "instance"))


# Where links in mail and SMS point on a development machine; production must say its own address.
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    # Heroku-style URLs and plain "postgresql://" both go through psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sso_idps() -> dict[str, dict[str, Any]]:
    """Identity providers for single sign-on (docs/SSO.md): from the TOML or JSON file named by SSO_CONFIG
    (its [idps.<name>] tables), or one provider named "tinh" from SSO_IDP_METADATA. Empty: no SSO."""
    path = os.environ.get("SSO_CONFIG", "")
    if path:
        import json
        import tomllib

        text = Path(path).read_text(encoding="utf-8")  # a missing file stops the start, as it should
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
        return dict(data.get("idps", {}))
    if os.environ.get("SSO_IDP_METADATA"):
        return {
            "tinh": {
                "metadata": os.environ["SSO_IDP_METADATA"],
                "cert_fingerprint": os.environ.get("SSO_IDP_CERT_FINGERPRINT", ""),
                "label": os.environ.get("SSO_IDP_LABEL", ""),
            }
        }
    return {}


_TILE_PLACEHOLDERS = re.compile(r"\{[^}]*\}")
_ORIGIN_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


def tile_origin(template: str, allow_http: bool = True) -> str:
    """The origin (a Content-Security-Policy source) a map tile URL template loads images from:
    "https://tile.openstreetmap.org" for https://tile.openstreetmap.org/{z}/{x}/{y}.png, "https://*.tile.example.org"
    for https://{s}.tile.example.org/... Raises ValueError for anything else: no credentials, no query tricks, no
    character that could end the policy's directive."""
    if any(c.isspace() or not c.isprintable() for c in template):
        raise ValueError(f"REPORTS_MAP_TILES must not contain spaces or control characters: {template!r}")
    parts = urlsplit(template)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_http):
        raise ValueError(f"REPORTS_MAP_TILES must be an https URL template, not {template!r}")
    netloc = parts.netloc
    if "@" in netloc or not netloc:
        raise ValueError(f"REPORTS_MAP_TILES must name a host without credentials, not {template!r}")
    host, _, port = netloc.partition(":")
    if host.startswith("{s}."):
        host = "*." + host[len("{s}.") :]
    if not _ORIGIN_HOST.match(host) or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        raise ValueError(f"REPORTS_MAP_TILES has an invalid host: {template!r}")
    rest = template[len(parts.scheme) + 3 + len(netloc) :]
    if any(c in rest for c in " ;,'\"\\<>") or not all(f"{{{k}}}" in rest for k in "zxy"):
        raise ValueError(f"REPORTS_MAP_TILES must be a URL template with {{z}}, {{x}} and {{y}}, not {template!r}")
    if set(_TILE_PLACEHOLDERS.findall(rest)) - {"{z}", "{x}", "{y}", "{r}"}:
        raise ValueError(f"REPORTS_MAP_TILES has an unknown placeholder: {template!r}")
    return f"{parts.scheme}://{host.lower()}" + (f":{port}" if port else "")


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'motcua.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("MOTCUA_TIMEZONE", "Asia/Ho_Chi_Minh")
    # Dossier code: fields unit (agency unit code), date (reception date), seq (sequence of that day).
    DOSSIER_CODE_FORMAT = os.environ.get("DOSSIER_CODE_FORMAT", "{unit}-{date:%y%m%d}-{seq:04d}")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Where attachments and issued documents are stored (portal/core/storage.py): "local" (UPLOAD_DIR, the
    # embedded default) or "s3" (an S3-compatible bucket; empty credentials: boto3's own chain, AWS_* variables).
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")  # empty: AWS itself; else MinIO, Ceph, a provider
    S3_REGION = os.environ.get("S3_REGION", "")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")  # e.g. "motcua/": keys are stored under it
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("vi", "en")
    # Celery: with no broker the tasks run eagerly in-process, so one process serves the embedded default.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY: ClassVar[dict[str, Any]] = {
        "broker_url": CELERY_BROKER_URL or "memory://",
        "result_backend": os.environ.get("CELERY_RESULT_BACKEND") or None,
        "task_always_eager": not CELERY_BROKER_URL,
        "task_eager_propagates": True,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # The queue jobs go to; give each environment its own when they share a broker.
        "task_default_queue": os.environ.get("CELERY_QUEUE", "celery"),
        # Crontab entries of the beat (the leaders' email reports) are read in the portal's local time.
        "timezone": TIMEZONE,
        # Redis re-delivers a message a worker took but never acknowledged (it died) after this many seconds.
        # No task of ours waits in the broker with an ETA, so this only bounds how long a lost job waits.
        # Workers look for such abandoned messages every CELERY_RESTORE_INTERVAL seconds (a cheap Redis query).
        "broker_transport_options": {
            "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
            "unacked_restore_interval": int(os.environ.get("CELERY_RESTORE_INTERVAL", "60")),
            "unacked_restore_throttle": 1,
        },
    }
    # With no broker, jobs queued after a request's commit (mail, SMS, webhooks, national portal pushes, external
    # calls) run on one background thread per process instead of in the request (portal/core/background.py).
    SEND_IN_BACKGROUND = _env_bool("SEND_IN_BACKGROUND", True)
    # Background work (portal/notifications). Periods of the celery beat jobs, in seconds: BPMN timers (a due
    # timer fires within this plus one pass), deadline reminders, and the sweep that re-queues unsent messages.
    BEAT_TIMERS_SECONDS = float(os.environ.get("BEAT_TIMERS_SECONDS", "3"))
    BEAT_REMINDERS_SECONDS = float(os.environ.get("BEAT_REMINDERS_SECONDS", "60"))
    BEAT_SWEEP_SECONDS = float(os.environ.get("BEAT_SWEEP_SECONDS", "30"))
    # The monthly roll-up of the statistics (portal/stats/rollup.py): looks for a complete month to roll up.
    BEAT_ROLLUP_SECONDS = float(os.environ.get("BEAT_ROLLUP_SECONDS", "600"))
    # The jobs' heartbeat (portal/main/heartbeat.py): queued by the beat this often; /healthz calls it "stale" when
    # no worker ran it for HEALTHZ_JOBS_STALE_SECONDS (three missed beats by default).
    BEAT_HEARTBEAT_SECONDS = float(os.environ.get("BEAT_HEARTBEAT_SECONDS", "60"))
    HEALTHZ_JOBS_STALE_SECONDS = float(os.environ.get("HEALTHZ_JOBS_STALE_SECONDS", "180"))
    # External service tasks (portal/external): the pass that runs jobs due for a (re)try, every N seconds.
    BEAT_EXTERNAL_SECONDS = float(os.environ.get("BEAT_EXTERNAL_SECONDS", "15"))
    # The built-in topic http.json calls only these hosts (`host` or `host:port`, comma-separated in the
    # environment); an empty list refuses every call. Time-out per call (seconds; a task may ask for less or more,
    # up to the cap) and the largest answer read.
    EXTERNAL_HTTP_ALLOWED_HOSTS: ClassVar[list[str]] = [
        h.strip() for h in os.environ.get("EXTERNAL_HTTP_ALLOWED_HOSTS", "").split(",") if h.strip()
    ]
    EXTERNAL_HTTP_TIMEOUT = float(os.environ.get("EXTERNAL_HTTP_TIMEOUT", "10"))
    EXTERNAL_HTTP_MAX_TIMEOUT = float(os.environ.get("EXTERNAL_HTTP_MAX_TIMEOUT", "30"))
    EXTERNAL_HTTP_MAX_BYTES = int(os.environ.get("EXTERNAL_HTTP_MAX_BYTES", str(1024 * 1024)))
    # The leaders' email reports (portal/ioc/mail_reports.py), local time: the weekly one on IOC_WEEKLY_REPORT_DAY
    # (mon … sun) for the week before, the monthly one on day IOC_MONTHLY_REPORT_DAY for the month before.
    IOC_REPORTS_ENABLED = _env_bool("IOC_REPORTS_ENABLED", True)
    IOC_REPORT_TIME = os.environ.get("IOC_REPORT_TIME", "07:00")
    IOC_WEEKLY_REPORT_DAY = os.environ.get("IOC_WEEKLY_REPORT_DAY", "mon")
    IOC_MONTHLY_REPORT_DAY = int(os.environ.get("IOC_MONTHLY_REPORT_DAY", "1"))
    # A step's assignee (or group) is reminded when this share of the step's allowance has passed.
    REMINDER_SHARE = float(os.environ.get("REMINDER_SHARE", "0.75"))
    # Seconds a worker may hold a message it claimed before another worker may take it over (it died).
    # Longer than the slowest SMTP conversation (30 s timeout), or a slow send could be sent twice.
    NOTIFY_CLAIM_LEASE = int(os.environ.get("NOTIFY_CLAIM_LEASE", "300"))
    # A failed send is retried after NOTIFY_RETRY_BASE seconds, doubled each time, NOTIFY_MAX_ATTEMPTS times in all.
    NOTIFY_RETRY_BASE = int(os.environ.get("NOTIFY_RETRY_BASE", "30"))
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "8"))
    # The national public service portal's status endpoint (portal/sync, docs/SYNC.md). Empty: no sync, and no
    # outbox rows are written. Credentials: a bearer token, or a user name and password (basic auth).
    NATIONAL_PORTAL_URL = os.environ.get("NATIONAL_PORTAL_URL", "")
    # The name of the REST API service account the national portal submits with: its dossiers are marked as
    # forwarded by it (Dossier.origin); other accounts' dossiers as filed through the API.
    NATIONAL_PORTAL_ACCOUNT = os.environ.get("NATIONAL_PORTAL_ACCOUNT", "")
    NATIONAL_PORTAL_TOKEN = os.environ.get("NATIONAL_PORTAL_TOKEN", "")
    NATIONAL_PORTAL_USERNAME = os.environ.get("NATIONAL_PORTAL_USERNAME", "")
    NATIONAL_PORTAL_PASSWORD = os.environ.get("NATIONAL_PORTAL_PASSWORD", "")
    NATIONAL_PORTAL_TIMEOUT = float(os.environ.get("NATIONAL_PORTAL_TIMEOUT", "10"))
    # A failed push is retried after RETRY_BASE seconds, doubled each time up to RETRY_MAX, MAX_ATTEMPTS in all;
    # a claim older than CLAIM_LEASE seconds (its worker died) is taken over: keep it above the time-out.
    NATIONAL_PORTAL_RETRY_BASE = int(os.environ.get("NATIONAL_PORTAL_RETRY_BASE", "30"))
    NATIONAL_PORTAL_RETRY_MAX = int(os.environ.get("NATIONAL_PORTAL_RETRY_MAX", "3600"))
    NATIONAL_PORTAL_MAX_ATTEMPTS = int(os.environ.get("NATIONAL_PORTAL_MAX_ATTEMPTS", "12"))
    NATIONAL_PORTAL_CLAIM_LEASE = int(os.environ.get("NATIONAL_PORTAL_CLAIM_LEASE", "120"))
    BEAT_NATIONAL_SYNC_SECONDS = float(os.environ.get("BEAT_NATIONAL_SYNC_SECONDS", "30"))
    # Webhooks (portal/sync/webhooks.py): time-out per delivery, retries as for the national sync, the sweep period.
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "10"))
    # Endpoints must be https (http too when WEBHOOK_ALLOW_HTTP) on a host that resolves to public addresses only;
    # a host on WEBHOOK_ALLOWED_HOSTS (`host` or `host:port`, comma-separated) may be internal (checked when an
    # endpoint is registered and before every delivery: portal/core/outbound.py).
    WEBHOOK_ALLOW_HTTP = _env_bool("WEBHOOK_ALLOW_HTTP", False)
    WEBHOOK_ALLOWED_HOSTS: ClassVar[list[str]] = [
        h.strip() for h in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
    ]
    WEBHOOK_RETRY_BASE = int(os.environ.get("WEBHOOK_RETRY_BASE", "30"))
    WEBHOOK_RETRY_MAX = int(os.environ.get("WEBHOOK_RETRY_MAX", "3600"))
    WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "10"))
    WEBHOOK_CLAIM_LEASE = int(os.environ.get("WEBHOOK_CLAIM_LEASE", "120"))
    BEAT_WEBHOOKS_SECONDS = float(os.environ.get("BEAT_WEBHOOKS_SECONDS", "30"))
    # REST API Idempotency-Keys (portal/api/cleanup.py): a key replays its answer for API_IDEMPOTENCY_DAYS days,
    # then the beat job (every BEAT_IDEMPOTENCY_CLEANUP_SECONDS) deletes it, API_IDEMPOTENCY_CLEANUP_BATCH at a time.
    API_IDEMPOTENCY_DAYS = float(os.environ.get("API_IDEMPOTENCY_DAYS", "7"))
    API_IDEMPOTENCY_CLEANUP_BATCH = int(os.environ.get("API_IDEMPOTENCY_CLEANUP_BATCH", "1000"))
    BEAT_IDEMPOTENCY_CLEANUP_SECONDS = float(os.environ.get("BEAT_IDEMPOTENCY_CLEANUP_SECONDS", "3600"))
    # "module:Class" of the SMS gateway; the default writes messages to the log.
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "portal.notifications.sms:LoggingSmsGateway")
    # Links in emails and SMS point here (there is no request to take the host from in a worker).
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", DEFAULT_BASE_URL)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a long form must not lose its token; the session bounds it instead
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "MotCua@2026")
    # Email: with no MAIL_SERVER, messages go to the log (the embedded default).
    # Signed documents (portal/documents/, docs/DOCUMENTS.md): each agency signs with `<agency code>.p12` in
    # DOCUMENT_KEYS_DIR (`flask documents demo-ca` makes demo keys), opened with DOCUMENT_KEY_PASSPHRASE (no default
    # outside development and tests: without it nothing is signed, and the log says why). DOCUMENT_TRUST_ROOTS: the
    # PEM file of roots /verify trusts for uploaded PDFs (default: the demo CA's, in DOCUMENT_KEYS_DIR).
    DOCUMENT_KEYS_DIR = os.environ.get("DOCUMENT_KEYS_DIR") or str(INSTANCE_DIR / "document-keys")
    DOCUMENT_KEY_PASSPHRASE: str | None = os.environ.get("DOCUMENT_KEY_PASSPHRASE") or None
    DOCUMENT_TRUST_ROOTS = os.environ.get("DOCUMENT_TRUST_ROOTS") or None
    # How long an administrator's result template may take to render (portal/documents/template_budget.py).
    RESULT_TEMPLATE_SECONDS = float(os.environ.get("RESULT_TEMPLATE_SECONDS", "2"))
    DOCUMENTS_ISSUE_AUTOMATICALLY = _env_bool("DOCUMENTS_ISSUE_AUTOMATICALLY", True)
    # The sweep (portal/documents/sweep.py) issues, every BEAT_DOCUMENTS_SWEEP_SECONDS, the documents whose job was
    # lost: receptions and decisions older than DOCUMENTS_SWEEP_GRACE_SECONDS and younger than
    # DOCUMENTS_SWEEP_LOOKBACK_DAYS without their document, at most DOCUMENTS_SWEEP_BATCH a pass.
    BEAT_DOCUMENTS_SWEEP_SECONDS = float(os.environ.get("BEAT_DOCUMENTS_SWEEP_SECONDS", "300"))
    # The citizen's own uploads whose validity ended more than STORE_EXPIRED_KEEP_DAYS ago are deleted by the daily
    # `docstore.purge` job (portal/docstore/purge.py): no purpose is left to keep them.
    STORE_EXPIRED_KEEP_DAYS = float(os.environ.get("STORE_EXPIRED_KEEP_DAYS", "90"))
    BEAT_DOCSTORE_PURGE_SECONDS = float(os.environ.get("BEAT_DOCSTORE_PURGE_SECONDS", "86400"))
    DOCUMENTS_SWEEP_GRACE_SECONDS = float(os.environ.get("DOCUMENTS_SWEEP_GRACE_SECONDS", "300"))
    DOCUMENTS_SWEEP_LOOKBACK_DAYS = float(os.environ.get("DOCUMENTS_SWEEP_LOOKBACK_DAYS", "7"))
    DOCUMENTS_SWEEP_BATCH = int(os.environ.get("DOCUMENTS_SWEEP_BATCH", "100"))
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "30 per minute;300 per day")
    VERIFY_UPLOAD_RATE_LIMIT = os.environ.get("VERIFY_UPLOAD_RATE_LIMIT", "10 per minute;100 per day")
    VERIFY_MAX_BYTES = int(os.environ.get("VERIFY_MAX_BYTES", str(10 * 1024 * 1024)))
    # The level of the portal's own log lines (portal/core/logs.py: to stderr unless logging is configured).
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    # Production refuses to start without MAIL_SERVER unless mail is meant to go to the log (MAIL_TO_LOG=1).
    MAIL_TO_LOG = _env_bool("MAIL_TO_LOG", False)
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "MotCua <no-reply@motcua.local>")
    # -- Sign-in, sessions and rate limits (portal/auth; README "Limits, budgets and timeouts") --
    # Rate-limit counters (Flask-Limiter) live here. They must be shared by every process and host, or each
    # worker counts alone: production takes the Redis of CELERY_BROKER_URL when this is not set, and refuses to
    # start with neither (see ProductionConfig.check). memory:// is right only for one process.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Each answer says how many SQL statements it ran (X-SQL-Statements), for bench/lifecycle.py.
    SQL_COUNT_HEADER = os.environ.get("SQL_COUNT_HEADER", "") in ("1", "true", "yes")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "motcua")
    # With the store unreachable, requests go on without rate limits (logged) rather than failing; the
    # per-account sign-in delay is kept in the database and still holds.
    RATELIMIT_SWALLOW_ERRORS = _env_bool("RATELIMIT_SWALLOW_ERRORS", True)
    # Failed sign-ins per address (successes do not count): generous, so an office behind one address is not
    # locked out by one person; guessing one account is stopped by the per-account delay below.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "200 per hour")
    # After LOGIN_BACKOFF_AFTER failed sign-ins in a row, an account (or an unknown name, alike) waits
    # 2^(failures - LOGIN_BACKOFF_AFTER) seconds, at most LOGIN_BACKOFF_MAX_SECONDS, before the next try;
    # a success, a new password, or LOGIN_BACKOFF_WINDOW_HOURS without failures start it over.
    LOGIN_BACKOFF_AFTER = int(os.environ.get("LOGIN_BACKOFF_AFTER", "5"))
    LOGIN_BACKOFF_MAX_SECONDS = int(os.environ.get("LOGIN_BACKOFF_MAX_SECONDS", "900"))
    LOGIN_BACKOFF_WINDOW_HOURS = float(os.environ.get("LOGIN_BACKOFF_WINDOW_HOURS", "24"))
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "20 per hour;100 per day")
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "20 per hour;100 per day")
    # Mails about one address (reset links, "someone tried to register with your address"); past it the answer
    # stays the same and no mail is sent.
    ACCOUNT_MAIL_LIMIT = os.environ.get("ACCOUNT_MAIL_LIMIT", "3 per hour")
    # "Keep me signed in": the remember cookie lives REMEMBER_DAYS days (the server refuses older ones too), is
    # sent only over HTTPS when sessions are, never to scripts, and not on cross-site requests.
    REMEMBER_DAYS = int(os.environ.get("REMEMBER_DAYS", "14"))
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Reverse proxies in front of the portal that set X-Forwarded-For/-Proto (0: none). Without it, behind a
    # proxy, every person has the proxy's address and shares one rate limit.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    PASSWORD_RESET_MAX_AGE = 3600  # seconds a reset link stays valid
    # Seconds the short reset link sent by SMS (to an account reached by its phone number) stays valid.
    PASSWORD_RESET_SMS_MAX_AGE = int(os.environ.get("PASSWORD_RESET_SMS_MAX_AGE", "900"))
    # Seconds the link that confirms a new registration stays valid.
    REGISTER_CONFIRM_MAX_AGE = int(os.environ.get("REGISTER_CONFIRM_MAX_AGE", str(24 * 3600)))
    # Officers' inbox: a task is "due soon" within this many working hours of its deadline; rows per page.
    INBOX_DUE_SOON_HOURS = float(os.environ.get("INBOX_DUE_SOON_HOURS", "8"))
    INBOX_PAGE_SIZE = int(os.environ.get("INBOX_PAGE_SIZE", "25"))
    # Citizen portal (portal/citizen, portal/tracking): attachment limits per file field and per application,
    # how many uploads may wait unclaimed per person (files uploaded for a form never sent), rate limits of the
    # upload endpoint and of the public tracking page (the tracking secret must not be guessable by trying).
    CITIZEN_MAX_FILES_PER_FIELD = int(os.environ.get("CITIZEN_MAX_FILES_PER_FIELD", "10"))
    CITIZEN_MAX_FILES_PER_DOSSIER = int(os.environ.get("CITIZEN_MAX_FILES_PER_DOSSIER", "30"))
    CITIZEN_MAX_PENDING_UPLOADS = int(os.environ.get("CITIZEN_MAX_PENDING_UPLOADS", "100"))
    UPLOAD_RATE_LIMIT = os.environ.get("UPLOAD_RATE_LIMIT", "60 per minute;600 per day")
    TRACKING_RATE_LIMIT = os.environ.get("TRACKING_RATE_LIMIT", "10 per minute;100 per day")
    # Citizen field reports (portal/reports): sending a report (per address), how long after the answer its
    # reporter may reopen it, and the most pixels a photo may have (a "pixel bomb" is refused before decoding).
    REPORT_RATE_LIMIT = os.environ.get("REPORT_RATE_LIMIT", "10 per hour;30 per day")
    REPORT_REOPEN_DAYS = float(os.environ.get("REPORT_REOPEN_DAYS", "7"))
    REPORT_PHOTO_MAX_PIXELS = int(os.environ.get("REPORT_PHOTO_MAX_PIXELS", "50000000"))
    # The public map of field reports (/public/reports): a tile server's URL template such as
    # https://tile.openstreetmap.org/{z}/{x}/{y}.png ({s} may stand for a subdomain) and the attribution its terms
    # ask for (plain text). Empty: no map, the list alone (tests, closed networks). The Content-Security-Policy
    # lets images come from that one origin, no other (tile_origin below); production needs https.
    REPORTS_MAP_TILES = os.environ.get("REPORTS_MAP_TILES", "").strip()
    REPORTS_MAP_ATTRIBUTION = os.environ.get("REPORTS_MAP_ATTRIBUTION", "").strip()
    # The most reports /public/reports/map.json returns for one box (the newest; the answer says it was cut).
    REPORTS_MAP_LIMIT = int(os.environ.get("REPORTS_MAP_LIMIT", "500"))
    DRAFT_AUTOSAVE_SECONDS = 5  # how often the apply form saves a draft while the citizen types

    # Budgets of user code (BPMN scripts, gateway conditions, timer expressions, decision tables, dry runs):
    # code that is not provably cheap runs in a sandbox child process, stopped past this much wall-clock time
    # and refused more than this much memory. The step then fails cleanly and an incident is recorded.
    SCRIPT_TIME_BUDGET_MS = int(os.environ.get("SCRIPT_TIME_BUDGET_MS", "1000"))
    SCRIPT_MEMORY_BUDGET_MB = int(os.environ.get("SCRIPT_MEMORY_BUDGET_MB", "64"))
    # Outages (portal/main/outage.py, /healthz): the Retry-After of the 503 page shown while the database or the
    # broker cannot be reached; how long opening a PostgreSQL connection may take before the request gives up
    # (without it a vanished host holds a web worker for minutes); how long /healthz waits for the broker.
    UNAVAILABLE_RETRY_AFTER = int(os.environ.get("UNAVAILABLE_RETRY_AFTER", "30"))
    DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    HEALTHZ_BROKER_TIMEOUT = float(os.environ.get("HEALTHZ_BROKER_TIMEOUT", "2"))
    # PostgreSQL session limits (portal/core/database.py; SQLite ignores them), in milliseconds, 0 turns one off:
    # a statement running longer is cancelled and its request rolled back; a transaction left idle longer is
    # ended by the server, so no stuck request keeps rows locked.
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "30000"))
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = int(os.environ.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000"))

    # Single sign-on (SAML 2.0 service provider, docs/SSO.md). SSO_IDPS maps a provider name (the <idp> in
    # /sso/<idp>/...) to its settings: metadata (file or https URL), cert_fingerprint (SHA-256 pin of its
    # signing certificate), attributes (mapping), allow_unsolicited, link_by_email, label.
    SSO_IDPS: ClassVar[dict[str, dict[str, Any]]] = _sso_idps()
    # The portal's public address as identity providers see it (behind a proxy); empty: taken from the request.
    SSO_SP_BASE_URL = os.environ.get("SSO_SP_BASE_URL", "")
    # The portal's SAML signing key pair; every process and host must use the same files.
    SSO_SP_CERT = os.environ.get("SSO_SP_CERT", str(INSTANCE_DIR / "sso" / "sp.crt"))
    SSO_SP_KEY = os.environ.get("SSO_SP_KEY", str(INSTANCE_DIR / "sso" / "sp.key"))
    # Create a self-signed key pair at first use when the files are missing (off in production: see above).
    SSO_SP_GENERATE_KEYS = _env_bool("SSO_SP_GENERATE_KEYS", True)
    # The SP metadata's validity: validUntil = now + this many days (0: no validUntil, so an IdP that enforces
    # it never drops the portal), and cacheDuration, how often IdPs that re-read metadata should (ISO 8601
    # duration; empty: none).
    SSO_METADATA_VALID_DAYS = int(os.environ.get("SSO_METADATA_VALID_DAYS", "0"))
    SSO_METADATA_CACHE_DURATION = os.environ.get("SSO_METADATA_CACHE_DURATION", "P1D")

    @classmethod
    def check(cls) -> None:
        """Raise if the configuration cannot run safely."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DOCUMENT_KEY_PASSPHRASE = os.environ.get("DOCUMENT_KEY_PASSPHRASE") or "motcua-demo"
    SECRET_KEY = Config.SECRET_KEY or "dev-only-not-secret"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)  # plain http on localhost
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestingConfig(Config):
    ENV_NAME = "testing"
    DOCUMENT_KEY_PASSPHRASE = os.environ.get("DOCUMENT_KEY_PASSPHRASE") or "motcua-demo"
    TESTING = True
    SECRET_KEY = "testing-not-secret"  # noqa: S105  (tests only)
    # The suite points this at a fresh SQLite file, or at PostgreSQL through TEST_DATABASE_URL.
    SQLALCHEMY_DATABASE_URI = normalize_database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SSO_IDPS: ClassVar[dict[str, dict[str, Any]]] = {}  # tests start their own identity provider
    SEND_IN_BACKGROUND = False  # tests read the SMTP inbox right after a request (test_background_sending.py: on)
    # Test-only hook: a worker pauses this many seconds after claiming a message and before the SMTP
    # conversation, so a test can kill it at that point (honoured only when TESTING).
    NOTIFY_TEST_SEND_DELAY = float(os.environ.get("NOTIFY_TEST_SEND_DELAY", "0"))


def shared_ratelimit_store(explicit: str | None, broker: str) -> str:
    """Where production keeps rate-limit counters: RATELIMIT_STORAGE_URI when set (the operator's choice, even
    memory:// for a single process), else the Redis broker, else "" (no shared store: refuse to start)."""
    if explicit:
        return explicit
    if broker.startswith(("redis://", "rediss://", "redis+sentinel://")):
        return broker
    return ""


class ProductionConfig(Config):
    ENV_NAME = "production"
    RATELIMIT_STORAGE_URI = shared_ratelimit_store(
        os.environ.get("RATELIMIT_STORAGE_URI"), os.environ.get("CELERY_BROKER_URL", "")
    )
    SSO_SP_GENERATE_KEYS = _env_bool("SSO_SP_GENERATE_KEYS", False)  # one key pair, shared by every host

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random string of at least 32 characters in production")
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("DATABASE_URL must be set in production (PostgreSQL)")
        if not cls.RATELIMIT_STORAGE_URI:
            raise RuntimeError(
                "Rate limits need a store shared by every process and host in production: set "
                "RATELIMIT_STORAGE_URI (e.g. redis://host:6379/1) or use a Redis CELERY_BROKER_URL. "
                "Set RATELIMIT_STORAGE_URI=memory:// only if the portal runs as a single process."
            )
        cls._check_links_and_mail()
        if cls.STORAGE_BACKEND == "s3" and not cls.S3_BUCKET:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        if cls.REPORTS_MAP_TILES:
            try:  # plain http tiles would let anyone on the way watch where people look and change the map
                tile_origin(cls.REPORTS_MAP_TILES, allow_http=False)
            except ValueError as exc:
                raise RuntimeError(str(exc)) from None

    @classmethod
    def _check_links_and_mail(cls) -> None:
        """Settings whose development defaults would fail silently in production: every link in mail and SMS
        pointing at a developer's machine, every message written to the log instead of sent."""
        if cls.PORTAL_BASE_URL == DEFAULT_BASE_URL:
            raise RuntimeError(
                "PORTAL_BASE_URL must be set in production to the portal's public address "
                "(e.g. https://dichvucong.example.gov.vn): links in mail and SMS are built from it"
            )
        parts = urlsplit(cls.PORTAL_BASE_URL)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RuntimeError(f"PORTAL_BASE_URL must be an absolute http(s) address, not {cls.PORTAL_BASE_URL!r}")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise RuntimeError("PORTAL_BASE_URL must use https in production: links in mail carry sign-in tokens")
        if not cls.MAIL_SERVER and not cls.MAIL_TO_LOG:
            raise RuntimeError(
                "MAIL_SERVER must be set in production (without it every e-mail is only written to the log); "
                "set MAIL_TO_LOG=1 to run without sending e-mail on purpose"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("MOTCUA_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"MOTCUA_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
