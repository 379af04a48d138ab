"""The page behind the rep's email links (Lambda Function URL).

GET shows the case and a confirm button and changes nothing, so mail scanners that prefetch links
are harmless; POST verifies the signed link again, consumes it once and answers the workflow.
"""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.exceptions import TaskTokenRejected
from turnaround.handlers import container
from turnaround.handlers.action_page import action_desk, incident_end_desk, review_desk, settings
from turnaround.logic.rep_actions.desk import ReassignRefused
from turnaround.logic.rep_actions.links import ActionLinkExpired, ActionLinkInvalid, ActionLinkUsed
from turnaround.logic.rep_actions.pages import confirm_page, end_incident_page, result_page
from turnaround.logic.rep_actions.review import LABELS, review_page
from turnaround.observability import logger, metrics, tracer

app = LambdaFunctionUrlResolver()
container.warm(action_desk, review_desk, incident_end_desk)  # in Lambda only: INIT has the full CPU
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    ),
}
MAX_FORM_FIELDS = 10


class MalformedForm(ValueError):
    """A POST body that is not the confirm page's form."""


class FormTooLarge(ValueError):
    """A POST body over ACTION_MAX_BODY_BYTES."""


def _html(status: int, body: str) -> Response:
    return Response(status_code=status, content_type=content_types.TEXT_HTML, body=body, headers=HEADERS)


@app.exception_handler(ActionLinkInvalid)
def _invalid(_: ActionLinkInvalid) -> Response:
    return _html(403, result_page("Link not valid", "This link is not valid. Use the link from the email."))


@app.exception_handler(ActionLinkExpired)
def _expired(_: ActionLinkExpired) -> Response:
    return _html(410, result_page("Link expired", "This link has expired; a newer email has fresh links."))


@app.exception_handler(ActionLinkUsed)
def _used(error: ActionLinkUsed) -> Response:
    return _html(409, result_page("Already done", str(error)))


@app.exception_handler(TaskTokenRejected)
def _superseded(_: TaskTokenRejected) -> Response:
    return _html(
        409, result_page("Superseded", "This request timed out and was escalated; use the newest email.")
    )


@app.exception_handler(ReassignRefused)
def _no_reassignee(_: ReassignRefused) -> Response:
    return _html(400, result_page("Choose a rep", "Go back and choose another rep to reassign the case to."))


@app.exception_handler(FormTooLarge)
def _too_large(_: FormTooLarge) -> Response:
    return _html(413, result_page("Too large", "The form was larger than allowed."))


@app.exception_handler(MalformedForm)
def _malformed(_: MalformedForm) -> Response:
    return _html(
        400, result_page("Not understood", "The form could not be read. Use the button on the page.")
    )


@app.not_found
def _not_found(_: Exception) -> Response:
    return _html(404, result_page("Not found", "There is nothing here. Use the links in the email."))


@app.exception_handler(Exception)
def _failed(error: Exception) -> Response:
    # Logged with its trace; the page keeps the headers and says that nothing was recorded.
    logger.exception("action page failed", extra={"error": type(error).__name__})
    return _html(
        500, result_page("Not recorded", "Nothing was recorded. Please try the same link again shortly.")
    )


def _form() -> dict[str, str]:
    """The confirm page's form, each field's first value."""
    raw = app.current_event.decoded_body or ""
    if len(raw.encode()) > settings().ACTION_MAX_BODY_BYTES:
        raise FormTooLarge(f"{len(raw.encode())} bytes")
    try:
        fields = parse_qs(raw, max_num_fields=MAX_FORM_FIELDS, strict_parsing=bool(raw))
    except ValueError as exc:  # more fields than the page has, or not a form at all
        raise MalformedForm(str(exc)) from None
    return {key: values[0] for key, values in fields.items()}


@app.get("/review")
def show_review() -> Response:
    """The unsure digest's links: a confirm page, no effect."""
    token = app.current_event.get_query_string_value("t", "") or ""
    claim, mention = review_desk().preview(token)
    return _html(200, review_page(claim, mention, token))


@app.post("/review")
def confirm_review() -> Response:
    decision = review_desk().act(_form().get("t", ""))
    return _html(200, result_page("Done", f"Recorded: {LABELS[decision].lower()}. Thank you."))


@app.get("/incident")
def show_incident_end() -> Response:
    """The incident digest's "End this incident": a confirm page, no effect."""
    token = app.current_event.get_query_string_value("t", "") or ""
    _, incident = incident_end_desk().preview(token)
    return _html(200, end_incident_page(incident, token))


@app.post("/incident")
def confirm_incident_end() -> Response:
    incident = incident_end_desk().act(_form().get("t", ""))
    return _html(
        200,
        result_page(
            "Incident ended",
            f"New complaints on {incident.topic} are ordinary cases again. The closing summary reaches"
            " you at the digest schedule's next run.",
        ),
    )


@app.get("/")
def show() -> Response:
    token = app.current_event.get_query_string_value("t", "") or ""
    desk = action_desk()
    claim, _, context = desk.preview(token)
    return _html(200, confirm_page(action=claim.action, token=token, **context))


@app.post("/")
def confirm() -> Response:
    form = _form()
    action = action_desk().act(
        form.get("t", ""), note=form.get("note", ""), reassign_to=form.get("reassign_to")
    )
    return _html(200, result_page("Done", f"Recorded: {action.replace('_', ' ')}. Thank you."))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
