"""Workflows and people for the inbox tests."""

from orchestrate.services.instances import start_instance
from tests.factories import GroupFactory, UserFactory, edges, workflow


def people():
    """Groups `managers` (bob, carol) and `directors` (dave); alice requests things."""
    managers = GroupFactory(name="managers")
    directors = GroupFactory(name="directors")
    users = {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave", "erin")}
    users["bob"].groups.add(managers)
    users["carol"].groups.add(managers)
    users["dave"].groups.add(directors)
    return users


def approval_workflow(key="approval", **human):
    """start → review (human) → approved | rejected."""
    step = {
        "key": "review",
        "type": "human",
        "title": "Approve {{ item }}",
        "description": "Requested by {{ instance.started_by }}",
        "assign": {"group": "managers", "exclude": ["initiator"]},
        "comment_required_for": ["reject"],
        **human,
    }
    return workflow(
        key,
        [
            {"key": "start", "type": "start"},
            step,
            {"key": "approved", "type": "end", "outcome": "approved"},
            {"key": "rejected", "type": "end", "outcome": "rejected"},
        ],
        edges("start>review", "review>approved:approve", "review>rejected:reject"),
    )


def start(key, user, **variables):
    instance, _ = start_instance(
        workflow_key=key, variables={"item": "laptop", **variables}, actor=user
    )
    return instance
