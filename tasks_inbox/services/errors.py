"""Errors of the task services. Views, the API and admin map them in one place:
not found → 404, forbidden → 403, conflict → 409, invalid → 400 (with field errors)."""


class TaskError(Exception):
    status = 400

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class TaskNotFound(TaskError):
    """The task does not exist, or the person may not see it (both look the same)."""

    status = 404

    def __init__(self, message="No such task."):
        super().__init__(message)


class TaskForbidden(TaskError):
    """The person may see the task but not do this with it."""

    status = 403


class TaskConflict(TaskError):
    """The task's state does not allow it (already decided, held by someone else...)."""

    status = 409


class TaskInvalid(TaskError):
    """The input is wrong: `errors` maps each field to its message."""

    status = 400

    def __init__(self, errors):
        super().__init__(" ".join(f"{k}: {v}" for k, v in errors.items()), errors)
