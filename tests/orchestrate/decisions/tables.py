"""Decision table documents for the tests."""

import copy

DISCOUNT = {
    "format": 1,
    "kind": "decision_table",
    "key": "discount",
    "name": "Customer discount",
    "hit_policy": "first",
    "inputs": [
        {"name": "tier", "expr": "customer.tier"},
        {"name": "amount", "expr": "amount"},
    ],
    "outputs": ["discount"],
    "rules": [
        {"when": {"tier": '"gold"', "amount": ">= 1000"}, "then": {"discount": 0.1}},
        {"when": {"tier": '"silver", "gold"', "amount": "[100..1000)"}, "then": {"discount": 0.05}},
        {"when": {}, "then": {"discount": 0}},
    ],
}


def table(**changes):
    """A copy of DISCOUNT with top-level keys replaced (None removes one)."""
    doc = copy.deepcopy(DISCOUNT)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def one_input_table(hit_policy, rules, **extra):
    """A table over the variable `x` with the output `y`."""
    return table(
        key="t",
        hit_policy=hit_policy,
        inputs=[{"name": "x", "expr": "x"}],
        outputs=["y"],
        rules=[{"when": {"x": cell}, "then": {"y": value}} for cell, value in rules],
        **extra,
    )
