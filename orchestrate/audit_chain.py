"""The hash chain that makes the audit trail tamper-evident.

Each `AuditEvent` stores `prev_hash`, the hash of the previous event of its instance (in id
order, "" for the first), and `hash`, SHA-256 over its own content and `prev_hash`. Editing
an event breaks its own hash; deleting or inserting one breaks the next event's `prev_hash`.
Deleting the *last* events of a chain cannot be seen from the chain alone.

The hashes are filled when the events are inserted (`AuditQuerySet.bulk_create`,
`AuditEvent.save`); `verify_chain` and `verify_all` (the `verify_audit` command) check them.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter

_CHAIN_FIELDS = (
    "id",
    "instance_id",
    "step_run_id",
    "kind",
    "step_key",
    "actor_id",
    "actor_label",
    "at",
    "data",
    "address",
    "prev_hash",
    "hash",
)


def _canonical_at(at):
    # Aware datetimes come back from the database in UTC; hash them the same way before.
    if isinstance(at, datetime.datetime) and at.tzinfo is not None:
        at = at.astimezone(datetime.UTC)
    return at.isoformat() if at is not None else None


def event_hash(event):
    """SHA-256 hex of the event's content and `prev_hash`, as stored or about to be.

    Works on model instances and on historical models in migrations (attributes only).
    `data` goes through a JSON round trip first, as the database does, so tuples and lists
    hash alike before and after saving.
    """
    content = {
        "instance_id": event.instance_id,
        "step_run_id": event.step_run_id,
        "kind": str(event.kind),
        "step_key": event.step_key,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "at": _canonical_at(event.at),
        "data": json.loads(json.dumps(event.data)),
        "prev_hash": event.prev_hash,
    }
    # Events from before addresses were recorded hash as they did then.
    address = getattr(event, "address", None)
    if address is not None:
        content["address"] = address
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain(events, prev_hash):
    """Set `prev_hash` and `hash` on unsaved `events` of one instance, in list order."""
    for event in events:
        event.prev_hash = prev_hash
        event.hash = prev_hash = event_hash(event)


@dataclass(frozen=True)
class BrokenLink:
    instance_id: int
    event_id: int
    reason: str

    def __str__(self):
        return f"instance {self.instance_id}: {self.reason}"


@dataclass
class Report:
    chains: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self):
        return not self.broken


def _first_break(instance_id, events):
    """The first broken link of one instance's events (in id order) or None, and how many
    events there were (all of them are read, so a broken chain still counts in full)."""
    previous, broken, count = None, None, 0
    for event in events:
        count += 1
        if broken is not None:
            continue
        expected = previous.hash if previous is not None else ""
        if event.prev_hash != expected:
            after = f"event {previous.pk}" if previous is not None else "the start of the chain"
            reason = f"event {event.pk}: prev_hash does not match {after}"
            broken = BrokenLink(instance_id, event.pk, reason)
        elif event.hash != event_hash(event):
            reason = f"event {event.pk}: hash does not match its content"
            broken = BrokenLink(instance_id, event.pk, reason)
        previous = event
    return broken, count


def _events():
    # Imported here: the model module imports this one for the hashing.
    from orchestrate.models import AuditEvent

    return AuditEvent.objects.only(*_CHAIN_FIELDS)


def verify_chain(instance_id):
    """Check one instance's chain; None if intact, else its first `BrokenLink`."""
    events = _events().filter(instance_id=instance_id).order_by("id").iterator()
    return _first_break(instance_id, events)[0]


def verify_all(instance_id=None, chunk_size=2000):
    """Check every chain (or only `instance_id`'s) in one streamed pass over the events,
    ordered by instance then id.

    Memory stays bounded by `chunk_size`; one broken chain does not stop the others.
    """
    report = Report()
    rows = _events().order_by("instance_id", "id")
    if instance_id is not None:
        rows = rows.filter(instance_id=instance_id)
    rows = rows.iterator(chunk_size=chunk_size)
    for instance_id, events in groupby(rows, key=attrgetter("instance_id")):
        broken, count = _first_break(instance_id, events)
        report.chains += 1
        report.events += count
        if broken is not None:
            report.broken.append(broken)
    return report
