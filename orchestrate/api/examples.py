"""Request and response examples of the OpenAPI schema (shown in /api/docs/).

They follow the demo workflows (`purchase_request`, `vendor_onboarding`), so a reader can
try them against `make run` with a token from the profile page. Every answer an endpoint
documents has one (the 401 is added by `schema.OrchestrateAutoSchema`); the error texts are
the ones the API sends. A list's example is one item: drf-spectacular puts it in a page.
"""

from drf_spectacular.utils import OpenApiExample

INSTANCE = {
    "id": 42,
    "workflow": "purchase_request",
    "version": 1,
    "status": "running",
    "outcome": "",
    "business_key": "PR-2026-0042",
    "variables": {"item": "Laptop", "amount": 1800},
    "started_at": "2026-11-25T09:30:00Z",
    "ended_at": None,
    "started_by": "alice",
    "active_steps": [
        {
            "id": 311,
            "step": "manager_approval",
            "type": "human",
            "status": "waiting",
            "due_at": "2026-11-27T09:30:00Z",
            "next_attempt_at": None,
            "attempt": 0,
            "error": "",
        }
    ],
}

CANCELLED_INSTANCE = {
    **INSTANCE,
    "status": "cancelled",
    "outcome": "cancelled",
    "ended_at": "2026-11-25T10:02:00Z",
    "active_steps": [],
}

AUDIT_EVENT = {
    "id": 1201,
    "at": "2026-11-25T09:30:00Z",
    "kind": "instance.started",
    "step": "",
    "actor": "alice",
    "data": {"version": 1, "business_key": "PR-2026-0042"},
}


TASK = {
    "id": 87,
    "kind": "decision",
    "title": "Approve Laptop (1800 EUR)",
    "description": "Requested by alice",
    "status": "claimed",
    "workflow": "purchase_request",
    "step": "manager_approval",
    "instance": 42,
    "assignee": "bob",
    "candidate_group": "managers",
    "priority": "normal",
    "due_at": "2026-11-27T09:30:00Z",
    "sla_state": "on_track",
    "at_risk_at": "2026-11-27T05:30:00Z",
    "due_explanation": "2 working days from Wed 25 Nov 09:30",
    "paused": False,
    "snoozed_until": None,
    "created_at": "2026-11-25T09:30:00Z",
    "outcomes": ["approve", "reject"],
    "comment_required_for": ["reject"],
    "form": [{"name": "cost_center", "type": "string", "label": "Cost centre", "required": True}],
    "outcome": "",
    "comment": "",
    "decided_by": None,
    "decided_on_behalf_of": None,
    "parent": None,
    "actions": ["complete", "delegate", "release", "request_info"],
}

TASK_DETAIL = {**TASK, "conversation": []}

DECIDED_TASK = {
    **TASK_DETAIL,
    "status": "completed",
    "outcome": "approve",
    "comment": "Fine, within budget.",
    "decided_by": "bob",
    "actions": [],
    "conversation": [
        {
            "id": 9,
            "kind": "decision",
            "author": "bob",
            "to": None,
            "text": "approve: Fine, within budget.",
            "created_at": "2026-11-25T11:15:00Z",
        }
    ],
}


def response(name, value, code="200", summary=""):
    return OpenApiExample(
        name, value=value, response_only=True, status_codes=[code], summary=summary
    )


def request(name, value, summary=""):
    return OpenApiExample(name, value=value, request_only=True, summary=summary)


def problem(code, detail):
    return response(f"{code} answer", {"detail": detail}, str(code))


START_EXAMPLES = [
    request(
        "Start a purchase request",
        {
            "workflow": "purchase_request",
            "variables": {"item": "Laptop", "amount": 1800},
            "business_key": "PR-2026-0042",
        },
    ),
    response("Started", INSTANCE, "201"),
    response("Already started with this business key", INSTANCE, "200", "The first instance."),
    response(
        "Invalid variables",
        {"variables": {"amount": ["This variable is required."]}},
        "400",
    ),
    problem(403, "You may not start 'purchase_request'."),
    problem(409, "An instance of this workflow already has this business key."),
]

NO_INSTANCE = problem(404, "No Instance matches the given query.")
NO_PAGE = problem(404, "Invalid page.")
INSTANCE_LIST_EXAMPLES = [
    response("One page", INSTANCE),
    response(
        "An unknown status",
        {"status": ["Select a valid choice. runing is not one of the available choices."]},
        "400",
    ),
    NO_PAGE,
]
INSTANCE_EXAMPLES = [response("A running instance", INSTANCE), NO_INSTANCE]
CANCEL_EXAMPLES = [
    request("With a reason", {"reason": "Ordered twice by mistake."}),
    response("Cancelled", CANCELLED_INSTANCE),
    response(
        "A reason too long",
        {"reason": ["Ensure this field has no more than 1000 characters."]},
        "400",
    ),
    problem(403, "You may not cancel this instance."),
    NO_INSTANCE,
    problem(409, "the instance is already completed"),
]
HISTORY_EXAMPLES = [response("The first event", AUDIT_EVENT), NO_INSTANCE]

MESSAGE_EXAMPLES = [
    request(
        "A signed contract",
        {
            "name": "contract_signed",
            "correlation": "V-1001",
            "payload": {"signed_by": "ACME Ltd", "signed_on": "2026-11-25"},
        },
    ),
    response("Delivered", {"delivered_to": [57]}, "202"),
    response("No correlation", {"correlation": ["This field is required."]}, "400"),
    problem(404, "No instance waits for message 'contract_signed' with correlation 'V-1001'."),
]

NO_TASK = problem(404, "No such task.")
NOT_YOURS = problem(403, "You may view this task but not act on it.")
TASK_LIST_EXAMPLES = [
    response("One page", TASK),
    response("An unknown scope", {"scope": ['"everything" is not a valid choice.']}, "400"),
    NO_PAGE,
]
TASK_EXAMPLES = [response("A task you hold", TASK_DETAIL), NO_TASK]
CLAIM_EXAMPLES = [
    response("Claimed", {**TASK_DETAIL, "actions": ["complete", "delegate", "release"]}),
    NOT_YOURS,
    NO_TASK,
    problem(409, "This task was already claimed by carol."),
]
RELEASE_EXAMPLES = [
    response(
        "Back in the queue",
        {**TASK_DETAIL, "status": "open", "assignee": None, "actions": ["claim"]},
    ),
    NOT_YOURS,
    NO_TASK,
    problem(409, "Nobody holds this task; there is nothing to release."),
]
COMPLETE_EXAMPLES = [
    request(
        "Approve with the form filled in",
        {
            "outcome": "approve",
            "comment": "Fine, within budget.",
            "data": {"cost_center": "CC-410"},
        },
    ),
    request("Reject", {"outcome": "reject", "comment": "Buy the cheaper model."}),
    response("Decided", DECIDED_TASK),
    response(
        "Field errors",
        {"data": {"cost_center": ["This field is required."]}},
        "400",
    ),
    NOT_YOURS,
    NO_TASK,
    problem(409, "This task was already decided by carol: approve."),
]
REQUEST_INFO_EXAMPLES = [
    request("Ask the requester", {"question": "Which model exactly?", "to": "alice"}),
    response(
        "The info task for alice",
        {
            **TASK_DETAIL,
            "id": 88,
            "kind": "info",
            "title": "Question about: Approve Laptop (1800 EUR)",
            "status": "claimed",
            "assignee": "alice",
            "candidate_group": None,
            "parent": 87,
            "outcomes": [],
            "comment_required_for": [],
            "form": [],
            "actions": ["complete"],
        },
        "201",
    ),
    response("No question", {"question": ["Write your question."]}, "400"),
    NOT_YOURS,
    NO_TASK,
    problem(409, "This step does not allow questions."),
]
DELEGATE_EXAMPLES = [
    request("To a colleague", {"to": "carol", "comment": "You know this supplier."}),
    response("Delegated", {**TASK_DETAIL, "assignee": "carol", "actions": []}),
    response("Unknown person", {"to": ["There is no user 'caroll'."]}, "400"),
    NOT_YOURS,
    NO_TASK,
    problem(409, "This task waits for the answer to a question."),
]
SNOOZE_EXAMPLES = [
    request("Until Monday morning", {"until": "2026-11-30T08:00:00Z"}),
    request("Wake it now", {"until": None}),
    response("Snoozed", {**TASK_DETAIL, "snoozed_until": "2026-11-30T08:00:00Z"}),
    response("In the past", {"until": ["Choose a time in the future."]}, "400"),
    NOT_YOURS,
    NO_TASK,
    problem(409, "Only the person holding a task can snooze it."),
]

PURCHASE_ORDER_EXAMPLES = [
    request("An order", {"item": "Laptop", "amount": 1800}),
    response("Created", {"po_number": "PO-3F2A9C1B", "item": "Laptop", "amount": 1800}, "201"),
    response("Not a number", {"amount": ["Must be a number."]}, "400"),
]

EVENT = {
    "specversion": "1.0",
    "id": "order-1042-created",
    "source": "https://shop.example.com/orders",
    "type": "com.example.order.created",
    "subject": "PO-1042",
    "time": "2026-11-25T12:00:00Z",
    "datacontenttype": "application/json",
    "data": {"amount": 1250, "supplier": "ACME"},
}
EVENT_EXAMPLES = [
    request("An order event", EVENT),
    response(
        "Handled: a workflow started",
        {
            "status": "accepted",
            "source": EVENT["source"],
            "id": EVENT["id"],
            "started": [{"workflow": "order_intake", "instance": 43, "created": True}],
            "delivered_to": [],
        },
        "202",
    ),
    response(
        "A duplicate",
        {
            "status": "duplicate",
            "source": EVENT["source"],
            "id": EVENT["id"],
            "started": [],
            "delivered_to": [],
        },
        "200",
    ),
    response("Not a CloudEvent", {"specversion": ['"0.3" is not a valid choice.']}, "400"),
    problem(
        403,
        "You may not post events (it takes the permission orchestrate.add_inboundevent).",
    ),
    problem(415, 'Unsupported media type "text/plain" in request.'),
    response(
        "A start_on expression failed",
        {
            "detail": "The event cannot be handled by the workflows that subscribe to it; "
            "nothing was done.",
            "errors": [
                {
                    "workflow": "order_intake",
                    "path": "start_on.variables.amount",
                    "message": "'event.data.amount': no field 'amount' (test it with has() first)",
                }
            ],
        },
        "422",
    ),
]
