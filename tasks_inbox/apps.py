from django.apps import AppConfig


class TasksInboxConfig(AppConfig):
    name = "tasks_inbox"
    verbose_name = "Tasks and inbox"

    def ready(self):
        # Human steps get their tasks from this app: the engine calls these hooks when a
        # human step run is entered and when it ends.
        from orchestrate.engine.walker import STEP_CLOSED_HOOKS, STEP_ENTERED_HOOKS
        from orchestrate.models import StepType

        from .services import assignment

        entered = STEP_ENTERED_HOOKS.setdefault(StepType.HUMAN, [])
        if assignment.on_human_step_entered not in entered:
            entered.append(assignment.on_human_step_entered)
        closed = STEP_CLOSED_HOOKS.setdefault(StepType.HUMAN, [])
        if assignment.on_human_step_closed not in closed:
            closed.append(assignment.on_human_step_closed)
