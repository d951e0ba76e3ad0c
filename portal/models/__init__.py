"""The domain model; one module per aggregate. Importing this package registers every table."""

from .agency import Agency, CalendarException, Department, Group
from .audit import AuditLog
from .citizen import Draft, Rating
from .docstore import StoredDocument, StoredDocumentUse, StoredSource
from .document import DocumentKind, IssuedDocument
from .dossier import (
    Attachment,
    Channel,
    Dossier,
    DossierChangeCounter,
    DossierCodeCounter,
    DossierEvent,
    Origin,
    Status,
)
from .dry_run import DryRun
from .external import ExternalJob, JobState
from .field_report import MICRODEGREES, FieldReport, FieldReportPhoto, PhotoKind, ReportCategory, ReportStatus
from .heartbeat import Heartbeat
from .incident import Incident, IncidentState
from .national_sync import NationalSync, SyncState
from .notification import DeliveryStatus, Notification, NotificationChannel, Reminder, ReminderKind
from .procedure import SERVICE_LEVELS, Procedure, ProcedureVersion
from .service_account import IdempotencyKey, ServiceAccount
from .signing_key import AgencySigningKey
from .sso import RoleMapping, SamlAssertionSeen, SsoIdentity
from .stats import DailyStats, DossierFacts, MonthlyBuilt, MonthlyStats
from .step_stats import FlowDaily, StepDaily, WorkDaily
from .task import Task, TaskState
from .user import Membership, User
from .webhook import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint

__all__ = [
    "MICRODEGREES",
    "SERVICE_LEVELS",
    "WEBHOOK_EVENTS",
    "Agency",
    "AgencySigningKey",
    "Attachment",
    "AuditLog",
    "CalendarException",
    "Channel",
    "DailyStats",
    "DeliveryStatus",
    "Department",
    "DocumentKind",
    "Dossier",
    "DossierChangeCounter",
    "DossierCodeCounter",
    "DossierEvent",
    "DossierFacts",
    "Draft",
    "DryRun",
    "ExternalJob",
    "FieldReport",
    "FieldReportPhoto",
    "FlowDaily",
    "Group",
    "Heartbeat",
    "IdempotencyKey",
    "Incident",
    "IncidentState",
    "IssuedDocument",
    "JobState",
    "Membership",
    "MonthlyBuilt",
    "MonthlyStats",
    "NationalSync",
    "Notification",
    "NotificationChannel",
    "Origin",
    "PhotoKind",
    "Procedure",
    "ProcedureVersion",
    "Rating",
    "Reminder",
    "ReminderKind",
    "ReportCategory",
    "ReportStatus",
    "RoleMapping",
    "SamlAssertionSeen",
    "ServiceAccount",
    "SsoIdentity",
    "Status",
    "StepDaily",
    "StoredDocument",
    "StoredDocumentUse",
    "StoredSource",
    "SyncState",
    "Task",
    "TaskState",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkDaily",
]
