"""Workflow documents for the format tests: fresh dicts on every call, so a test can
change them freely."""

import copy
import functools

_FULL_YAML = """\
format: 1
kind: workflow
key: every_step
name: Every step type
description: |
  A workflow that uses every step type and most keys of the format.
  It is valid, and the refusal tests each break one thing in it.
variables:
  amount: {type: number, required: true, label: Amount (EUR)}
  region: {type: string, default: EU}
  order_id: {type: string, required: true}
  deadline: {type: date, default: "2025-01-31"}
  tags: {type: list, default: []}
calendar: default
steps:
  - {key: start, type: start, name: Request received}

  - key: compute
    type: automated
    name: Compute the total
    action: set_variables
    params:
      values:
        total: "amount * 1.2"
        large: "amount > 10000"
    retry: {max_attempts: 3, backoff_seconds: 2, backoff_factor: 2, max_backoff_seconds: 600}

  - key: call_erp
    type: automated
    action: http_request
    params:
      method: POST
      url: "https://erp.example.com/orders"
      json: {amount: "{{ amount }}"}
      timeout_seconds: 5
      expect_status: 201
    output: erp

  - {key: route, type: exclusive, name: Route by amount}

  - key: approval
    type: human
    name: Manager approval
    title: "Approve order {{ order_id }} ({{ amount }} EUR)"
    description: "Requested by {{ instance.started_by }}"
    assign:
      group: managers
      strategy: round_robin
      exclude: [initiator]
    outcomes: [approve, reject]
    comment_required_for: [reject]
    request_info: {to: "{{ instance.started_by }}"}
    form:
      - {name: cost_center, type: string, label: Cost centre, required: true}
      - {name: approved_amount, type: number, min: 0, max: 1000000}
    priority: high
    due: P2D
    business: true
    reminders: [PT4H]
    escalation:
      - {after: P1D, action: notify, to: {user: dave}}
      - {after: P2D, action: reassign, to: {group: directors}}
      - {after: P2DT12H, action: raise_priority}
      - {after: P3D, action: complete, outcome: reject}
    timeout: P5D

  - key: board
    type: human
    name: Board vote
    title: "Board vote on {{ order_id }}"
    approvers:
      users: [bob, carol, dave]
      policy: quorum
      quorum: 2
    request_info: false

  - {key: fan_out, type: parallel}

  - key: notify_team
    type: automated
    action: send_email
    params: {to: "team@example.com", subject: "Order {{ order_id }}", body: "Total {{ total }}"}

  - key: log_it
    type: automated
    action: log
    params: {message: "order {{ order_id }} approved"}

  - {key: sync, type: join, mode: count, count: 2}

  - {key: checks, type: inclusive}

  - {key: check_eu, type: timer, duration: PT1H, business: true}

  - {key: check_large, type: timer, until: 'now + duration("1h")'}

  - {key: checks_done, type: join, mode: active}

  - key: wait_payment
    type: message
    name: payment_received
    correlate: order_id
    timeout: P7D
    output: payment

  - key: fulfil
    type: subprocess
    workflow: fulfilment
    variables: {order: order_id, total: "total"}
    output: fulfilment

  - {key: done, type: end, name: Done}
  - {key: rejected, type: end, outcome: rejected, terminate: true}
  - {key: expired, type: end, outcome: expired}

transitions:
  - {from: start, to: compute}
  - {from: compute, to: call_erp}
  - {from: call_erp, to: route}
  - {from: call_erp, to: rejected, on: error}
  - {from: route, to: approval, when: "amount > 1000", name: Above 1000 EUR}
  - {from: route, to: fan_out, default: true}
  - {from: approval, to: board, on: approve}
  - {from: approval, to: rejected, on: reject}
  - {from: approval, to: expired, on: timeout}
  - {from: board, to: fan_out, on: approve}
  - {from: board, to: rejected, on: reject}
  - {from: fan_out, to: notify_team}
  - {from: fan_out, to: log_it}
  - {from: notify_team, to: sync}
  - {from: log_it, to: sync}
  - {from: sync, to: checks}
  - {from: checks, to: check_eu, when: 'region == "EU"'}
  - {from: checks, to: check_large, when: "amount > 5000"}
  - {from: checks, to: checks_done, default: true}
  - {from: check_eu, to: checks_done}
  - {from: check_large, to: checks_done}
  - {from: checks_done, to: wait_payment}
  - {from: wait_payment, to: fulfil}
  - {from: wait_payment, to: expired, on: timeout}
  - {from: fulfil, to: rejected, on: cancelled}
  - {from: fulfil, to: done, default: true}
"""

_MINIMAL = {
    "format": 1,
    "key": "minimal",
    "name": "Minimal",
    "steps": [
        {"key": "start", "type": "start"},
        {"key": "work", "type": "automated", "action": "log", "params": {"message": "hi"}},
        {"key": "end", "type": "end"},
    ],
    "transitions": [
        {"from": "start", "to": "work"},
        {"from": "work", "to": "end"},
    ],
}


def full_yaml():
    """The YAML text of the full document."""
    return _FULL_YAML


@functools.cache
def _parsed_full_document():
    from orchestrate.formats import load_document

    return dict(load_document(_FULL_YAML))


def full_document():
    """A valid document with every step type, read from YAML (a plain dict)."""
    return copy.deepcopy(_parsed_full_document())


def minimal_document(**changes):
    """start -> work (log) -> end, with top-level `changes`."""
    doc = copy.deepcopy(_MINIMAL)
    doc.update(changes)
    return doc


def step(doc, key):
    """The step `key` of `doc` (the dict itself, to change in place)."""
    return next(s for s in doc["steps"] if s["key"] == key)


def step_index(doc, key):
    return next(i for i, s in enumerate(doc["steps"]) if s["key"] == key)


def transition_index(doc, source, target, **match):
    """The index of the transition `source` -> `target` (with the given keys)."""
    return next(
        i
        for i, t in enumerate(doc["transitions"])
        if t["from"] == source
        and t["to"] == target
        and all(t.get(k) == v for k, v in match.items())
    )
