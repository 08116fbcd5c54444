"""The data model (design.md, "Data"), one module per part of the domain."""

from coso.models.audit import AuditEvent
from coso.models.checklists import ChecklistItem, ChecklistTemplate
from coso.models.difficulties import Difficulty, DifficultyCategory, DifficultyPass
from coso.models.evaluations import BranchStatus, Evaluation, EvaluationAnswer
from coso.models.feedback import CorrectiveAction, Feedback
from coso.models.guidance import Guidance, GuidanceTopic
from coso.models.meetings import Meeting, MeetingPattern
from coso.models.notifications import (
    Notification,
    NotificationContact,
    NotificationDelivery,
    NotificationDigest,
    NotificationPreference,
)
from coso.models.photos import Photo
from coso.models.plans import PlanCadre, VisitPlan
from coso.models.practices import Practice, PracticeRead
from coso.models.reviews import ReviewRubric, VisitReview
from coso.models.sessions import LoginSession
from coso.models.settings import UnitSettings
from coso.models.tallies import AnswerTally, EvaluationTally
from coso.models.tokens import AccessToken
from coso.models.units import SecretaryTerm, Unit
from coso.models.users import User
from coso.models.visit_days import VisitDayTally
from coso.models.visits import Visit

__all__ = [
    "AccessToken",
    "AnswerTally",
    "AuditEvent",
    "BranchStatus",
    "ChecklistItem",
    "ChecklistTemplate",
    "CorrectiveAction",
    "Difficulty",
    "DifficultyCategory",
    "DifficultyPass",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationTally",
    "Feedback",
    "Guidance",
    "GuidanceTopic",
    "LoginSession",
    "Meeting",
    "MeetingPattern",
    "Notification",
    "NotificationContact",
    "NotificationDelivery",
    "NotificationDigest",
    "NotificationPreference",
    "Photo",
    "PlanCadre",
    "Practice",
    "PracticeRead",
    "ReviewRubric",
    "SecretaryTerm",
    "Unit",
    "UnitSettings",
    "User",
    "Visit",
    "VisitDayTally",
    "VisitPlan",
    "VisitReview",
]
