"""The data model (design.md, "Data"), one module per part of the domain."""

from coso.models.audit import AuditEvent
from coso.models.checklists import ChecklistItem, ChecklistTemplate
from coso.models.evaluations import BranchStatus, Evaluation, EvaluationAnswer
from coso.models.feedback import CorrectiveAction, Feedback
from coso.models.guidance import Guidance, GuidanceTopic
from coso.models.meetings import Meeting, MeetingPattern
from coso.models.plans import PlanCadre, VisitPlan
from coso.models.sessions import LoginSession
from coso.models.settings import UnitSettings
from coso.models.units import SecretaryTerm, Unit
from coso.models.users import User
from coso.models.visits import Visit

__all__ = [
    "AuditEvent",
    "BranchStatus",
    "ChecklistItem",
    "ChecklistTemplate",
    "CorrectiveAction",
    "Evaluation",
    "EvaluationAnswer",
    "Feedback",
    "Guidance",
    "GuidanceTopic",
    "LoginSession",
    "Meeting",
    "MeetingPattern",
    "PlanCadre",
    "SecretaryTerm",
    "Unit",
    "UnitSettings",
    "User",
    "Visit",
    "VisitPlan",
]
