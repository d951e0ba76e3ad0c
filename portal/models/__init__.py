"""The domain model; one module per aggregate. Importing this package registers every table."""

from .agency import Agency, CalendarException, Department, Group
from .audit import AuditLog
from .citizen import Draft, Rating
from .dossier import Attachment, Channel, Dossier, DossierCodeCounter, DossierEvent, Status
from .dry_run import DryRun
from .incident import Incident, IncidentState
from .notification import DeliveryStatus, Notification, NotificationChannel, Reminder, ReminderKind
from .procedure import SERVICE_LEVELS, Procedure, ProcedureVersion
from .sso import RoleMapping, SamlAssertionSeen, SsoIdentity
from .stats import DailyStats, DossierFacts
from .step_stats import FlowDaily, StepDaily, WorkDaily
from .task import Task, TaskState
from .user import Membership, User

__all__ = [
    "SERVICE_LEVELS",
    "Agency",
    "Attachment",
    "AuditLog",
    "CalendarException",
    "Channel",
    "DailyStats",
    "DeliveryStatus",
    "Department",
    "Dossier",
    "DossierCodeCounter",
    "DossierEvent",
    "DossierFacts",
    "Draft",
    "DryRun",
    "FlowDaily",
    "Group",
    "Incident",
    "IncidentState",
    "Membership",
    "Notification",
    "NotificationChannel",
    "Procedure",
    "ProcedureVersion",
    "Rating",
    "Reminder",
    "ReminderKind",
    "RoleMapping",
    "SamlAssertionSeen",
    "SsoIdentity",
    "Status",
    "StepDaily",
    "Task",
    "TaskState",
    "User",
    "WorkDaily",
]
