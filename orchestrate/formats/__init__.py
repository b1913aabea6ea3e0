"""The workflow format: reading, validating and writing workflow documents."""

from .errors import DocumentSyntaxError, FormatError, WorkflowFormatError
from .validation import validate_spec
from .yaml_io import Document, dump_yaml, load_document, ordered_spec

__all__ = [
    "Document",
    "DocumentSyntaxError",
    "FormatError",
    "WorkflowFormatError",
    "dump_yaml",
    "load_document",
    "ordered_spec",
    "validate_spec",
]
