"""The domain model; one module per aggregate. Importing this package registers every table."""

from .agency import Agency, CalendarException, Department, Group
from .audit import AuditLog
from .dossier import Attachment, Channel, Dossier, DossierCodeCounter, DossierEvent, Status
from .procedure import SERVICE_LEVELS, Procedure, ProcedureVersion
from .task import Task, TaskState
from .user import Membership, User

__all__ = [
    "SERVICE_LEVELS",
    "Agency",
    "Attachment",
    "AuditLog",
    "CalendarException",
    "Channel",
    "Department",
    "Dossier",
    "DossierCodeCounter",
    "DossierEvent",
    "Group",
    "Membership",
    "Procedure",
    "ProcedureVersion",
    "Status",
    "Task",
    "TaskState",
    "User",
]
