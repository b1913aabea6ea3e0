"""Mermaid flowcharts of workflow versions, drawn as text on the server.

The browser turns the text into SVG with the vendored Mermaid (`static/vendor/mermaid/`).
Step names and conditions are written by people, so every label is quoted and escaped
and node ids are made from positions, never from keys.
"""

from orchestrate.models import StepRunStatus

# Mermaid's shape brackets per step type; unknown types are drawn as plain boxes.
SHAPES = {
    "start": ("((", "))"),
    "end": ("(((", ")))"),
    "exclusive": ("{", "}"),
    "inclusive": ("{", "}"),
    "parallel": ("{", "}"),
    "join": ("{", "}"),
    "human": ("(", ")"),
    "automated": ("[", "]"),
    "timer": ("{{", "}}"),
    "message": (">", "]"),
    "subprocess": ("[[", "]]"),
}
DEFAULT_SHAPE = ("[", "]")
CONDITION_LIMIT = 40
PATH_STYLE = "stroke:#1f6feb,stroke-width:3px"
CLASS_DEFS = (
    "classDef active fill:#fff3bf,stroke:#e67700,stroke-width:3px",
    "classDef done fill:#d3f9d8,stroke:#2b8a3e",
    "classDef failed fill:#ffe3e3,stroke:#c92a2a,stroke-width:3px",
)
# Mermaid reads `#name;` and `#number;` as entities: `#` goes first so later codes survive.
ESCAPES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"))


def label(text):
    """Text safe inside a quoted Mermaid label: one line, no quotes, no markup."""
    text = " ".join(str(text).split())
    for raw, code in ESCAPES:
        text = text.replace(raw, code)
    return f'"{text}"'


def shorten(text, limit=CONDITION_LIMIT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def edge_label(transition):
    """What people read on an arrow: the outcome, the condition, 'default' or the name."""
    if transition.get("on"):
        return transition["on"]
    if transition.get("when"):
        return shorten(transition["when"])
    if transition.get("default"):
        return "default"
    return transition.get("name", "")


def step_classes(instance):
    """Step key → class for the instance's runs: failed beats active beats done."""
    classes = {}
    rank = {"done": 1, "active": 2, "failed": 3}
    for step_key, status in instance.step_runs.values_list("step_key", "status"):
        if status == StepRunStatus.INCIDENT:
            name = "failed"
        elif status in (StepRunStatus.SCHEDULED, StepRunStatus.RUNNING, StepRunStatus.WAITING):
            name = "active"
        elif status == StepRunStatus.COMPLETED:
            name = "done"
        else:
            continue
        if rank[name] > rank.get(classes.get(step_key), 0):
            classes[step_key] = name
    return classes


def mermaid_for(version, *, instance=None):
    """The version as a Mermaid flowchart; with `instance`, its progress marked on it.

    Steps get the classes `active`, `done` or `failed` from the instance's step runs, and
    the transitions its tokens took (a run's `via` is the transition's index) are thickened.
    """
    spec = version.to_spec()
    ids = {step["key"]: f"s{i}" for i, step in enumerate(spec["steps"])}
    lines = ["flowchart TD"]
    for step in spec["steps"]:
        opening, closing = SHAPES.get(step["type"], DEFAULT_SHAPE)
        text = label(step.get("name") or step["key"])
        lines.append(f"    {ids[step['key']]}{opening}{text}{closing}")

    taken = set()
    if instance is not None:
        taken = set(instance.step_runs.filter(via__isnull=False).values_list("via", "step_key"))
    drawn, path = 0, []
    for index, transition in enumerate(spec["transitions"]):
        source, target = ids.get(transition["from"]), ids.get(transition["to"])
        if source is None or target is None:
            continue  # a draft may name a step that does not exist yet
        text = edge_label(transition)
        arrow = f"-->|{label(text)}|" if text else "-->"
        lines.append(f"    {source} {arrow} {target}")
        if (index, transition["to"]) in taken:
            path.append(drawn)
        drawn += 1

    if instance is not None:
        lines.extend(f"    {line}" for line in CLASS_DEFS)
        for step_key, name in step_classes(instance).items():
            if step_key in ids:
                lines.append(f"    class {ids[step_key]} {name}")
        if path:
            lines.append(f"    linkStyle {','.join(map(str, path))} {PATH_STYLE}")
    return "\n".join(lines)
