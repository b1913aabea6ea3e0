"""The errors of the workflow format: one `FormatError` per problem, and the exception
that carries all of them."""

import re
from dataclasses import dataclass, field

_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(loc):
    """`("steps", 3, "assign")` -> `steps[3].assign`; odd keys are quoted."""
    text = ""
    for segment in loc:
        if isinstance(segment, int) and not isinstance(segment, bool):
            text += f"[{segment}]"
        elif isinstance(segment, str) and _PLAIN_SEGMENT.match(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{segment!r}]"
    return text


@dataclass(frozen=True)
class FormatError:
    """One problem of a document, at `path` (like `steps[3].assign`).

    `loc` is the same place as a tuple of keys and indexes; `line` is the 1-based line in
    the source file when the document was read with `load_document`.
    """

    path: str
    message: str
    line: int | None = field(default=None, compare=False)
    loc: tuple = field(default=(), compare=False, repr=False)

    def __str__(self):
        return f"{self.path}: {self.message}" if self.path else self.message


class WorkflowFormatError(Exception):
    """A document that cannot be read or imported; `errors` lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class DocumentSyntaxError(WorkflowFormatError):
    """The file is not valid YAML or JSON (or not UTF-8 text); nothing was validated."""
