"""A version compiled for the engine: steps by key, edges in file order, reachability,
and every CEL expression compiled. Published versions never change, so their graphs are
cached for the life of the process."""

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from orchestrate.models import VersionStatus

from . import expressions


@dataclass(frozen=True)
class Edge:
    index: int
    source: str
    target: str
    when: str = ""
    on: str = ""
    default: bool = False
    name: str = ""


class Graph:
    def __init__(self, spec):
        self.spec = spec
        self.key = spec["key"]
        self.variables = spec.get("variables") or {}
        self.steps = {step["key"]: step for step in spec["steps"]}
        self.edges = [
            Edge(
                index=i,
                source=t["from"],
                target=t["to"],
                when=t.get("when", ""),
                on=str(t.get("on", "") or ""),
                default=bool(t.get("default", False)),
                name=t.get("name", ""),
            )
            for i, t in enumerate(spec["transitions"])
        ]
        self.outgoing = defaultdict(list)
        self.incoming = defaultdict(list)
        for edge in self.edges:
            self.outgoing[edge.source].append(edge)
            self.incoming[edge.target].append(edge)
        self.start_key = next(k for k, s in self.steps.items() if s["type"] == "start")
        # Compile every expression now: a running instance never meets a syntax error.
        for edge in self.edges:
            if edge.when:
                expressions.compile_expression(edge.when)

    def step(self, key):
        return self.steps[key]

    def incoming_indexes(self, key):
        return {edge.index for edge in self.incoming[key]}

    @cached_property
    def _reach(self):
        reach = {}
        for key in self.steps:
            seen, stack = set(), [key]
            while stack:
                for edge in self.outgoing[stack.pop()]:
                    if edge.target not in seen:
                        seen.add(edge.target)
                        stack.append(edge.target)
            reach[key] = seen
        return reach

    def can_reach(self, source, target):
        """Whether a token at `source` may still arrive at `target`."""
        return target in self._reach.get(source, ())

    @cached_property
    def has_active_joins(self):
        return any(s["type"] == "join" and s.get("mode") == "active" for s in self.steps.values())


_CACHE: dict[tuple, Graph] = {}


def graph_for(version):
    """The compiled graph of `version` (cached unless it is a draft).

    The key includes the publication time: an id alone can come back after a rolled-back
    insert (SQLite reuses ids), and a stale graph must never be used."""
    key = (version.pk, version.published_at)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    graph = Graph(version.to_spec())
    if version.status != VersionStatus.DRAFT:
        _CACHE[key] = graph
    return graph


def clear_graph_cache():
    _CACHE.clear()
