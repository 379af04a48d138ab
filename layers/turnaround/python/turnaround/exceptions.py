"""Domain exceptions: every error name the state machine matches lives here.

Each class name is the Step Functions error name that Retry and Catch match, so names say what
happened and never change lightly. Adapters translate SDK errors into these with ``raise ... from``.
"""

from __future__ import annotations

from datetime import datetime


class TurnaroundError(Exception):
    """Base class for every error this project raises on purpose."""


class ConfigurationError(TurnaroundError):
    """The function's environment or a secret is missing or invalid."""


class NotAScheduledEvent(TurnaroundError, ValueError):
    """A scheduled function was invoked with something other than EventBridge's schedule event."""


# --- X API -------------------------------------------------------------------------------------


class XApiError(TurnaroundError):
    """Any failure talking to the X API."""

    def __init__(self, message: str, *, status: int | None = None, problem_type: str | None = None):
        super().__init__(message)
        self.status = status
        self.problem_type = problem_type


class XRateLimited(XApiError):
    """429: the endpoint's window is exhausted; retry after ``reset_at``."""

    def __init__(self, message: str, *, reset_at: datetime | None, status: int = 429):
        super().__init__(message, status=status)
        self.reset_at = reset_at


class PostBudgetExhausted(TurnaroundError):
    """The ack queue (our share of X's post window, playbook ``incidents.post_budget_per_15_minutes``)
    has no slot within ``incidents.max_ack_wait_minutes``: the ack is not posted; the rep is told."""


class XUsageCapped(XApiError):
    """The monthly post-read cap is reached (429 usage-capped): stop and alert, do not retry."""


class XCreditsExhausted(XApiError):
    """402: pay-per-use credits are spent. Stop calling X and alert ops."""


class XUnauthorized(XApiError):
    """401: credentials are wrong, revoked or missing."""


class XForbidden(XApiError):
    """403 that fits no narrower class (tier, permissions)."""


class XReplyNotAllowed(XForbidden):
    """403: the post does not mention or quote us, or we already replied to it."""


class XPostDeleted(XForbidden):
    """403: the post we reply to was deleted by its author (or is no longer visible to us)."""


class XBlockedByCustomer(XForbidden):
    """403: the post's author blocks our account, so no reply (or DM) of ours reaches them."""


class XDuplicateContent(XForbidden):
    """403: X refuses a post whose text duplicates one of ours."""


class XDirectMessageRefused(XForbidden):
    """403: the DM cannot be sent (the customer has not DMed us, or closed DMs)."""


class XApiUnavailable(XApiError):
    """5xx, timeout or connection failure: transient, safe to retry."""


class MalformedXResponse(XApiError):
    """X answered 2xx with a body we cannot trust; nothing from it is stored."""


# --- Storage -------------------------------------------------------------------------------------


class AckBeingPosted(TurnaroundError):
    """The case's automated ack was being posted when the rep's emailed reply came: the reply is
    retried (Lambda's async retries) so that it follows the ack instead of racing it."""


class StorageError(TurnaroundError):
    """DynamoDB refused or failed a write we need."""


# --- Email and the workflow ----------------------------------------------------------------------


class EmailNotSent(TurnaroundError):
    """SES refused or failed to send: nothing went out, so sending again is safe."""


class EarlierCaseNotAssigned(TurnaroundError):
    """The customer's earlier open case has no rep yet (its workflow started beside this one, from
    the same poll): Assign waits for it, so one customer's cases go to one rep."""


class TaskTokenRejected(TurnaroundError):
    """Step Functions no longer waits on this token (the task timed out, or the execution ended)."""


class UnknownTaskInputVersion(TurnaroundError):
    """A workflow task's payload names an ``input_version`` this code does not read: the state
    machine and the function version it invokes disagree. Never retried (it would fail the same)."""


class CaseNotResolved(TurnaroundError):
    """The rep could not resolve the case: the action page fails the waiting task with this name."""
