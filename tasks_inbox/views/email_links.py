"""The page behind the approve/reject links of assignment mails.

Opening a link (GET) only shows a confirmation page: mail scanners and link previews
follow links, and must not decide anything. The POST decides through `complete_task`,
with exactly the inbox's checks, and uses the link up in the same transaction.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from tasks_inbox.forms import EmailDecisionForm, outcome_label
from tasks_inbox.models import ActionLink
from tasks_inbox.selectors.tasks import task_for_user, visible_variables
from tasks_inbox.services.notifications import LinkInvalid, read_action_link
from tasks_inbox.services.tasks import PAST_TENSE, complete_task, state_conflict

from .base import TaskErrorMixin

NOT_YOURS = (
    "This link was sent to someone else. Log in as the person who received the mail, "
    "or open your inbox."
)


class LinkRefused(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.message = message
        self.status = status


class EmailActionView(LoginRequiredMixin, TaskErrorMixin, View):
    template_name = "tasks_inbox/email_action.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except LinkRefused as exc:
            return render(
                request,
                "tasks_inbox/email_link_invalid.html",
                {"message": exc.message},
                status=exc.status,
            )

    def read(self, token):
        """The link, for the logged-in person only."""
        try:
            link = read_action_link(token)
        except LinkInvalid as exc:
            raise LinkRefused(str(exc), 410) from None
        if link.user_id != self.request.user.pk:
            raise LinkRefused(NOT_YOURS, 403)
        self.link = link
        self.task = task_for_user(self.request.user, link.task_id)
        return link

    def get(self, request, token):
        self.read(token)
        return self.page(EmailDecisionForm())

    def post(self, request, token):
        link = self.read(token)
        self.form = EmailDecisionForm(request.POST)
        self.form.is_valid()
        with transaction.atomic():
            task = complete_task(
                link.task_id,
                actor=request.user,
                outcome=link.outcome,
                comment=self.form.cleaned_data.get("comment", ""),
                channel="email",
            )
            # Used once: a second POST racing this one finds the link used, and the
            # decision above rolls back with it.
            used = ActionLink.objects.filter(pk=link.pk, used_at=None).update(
                used_at=timezone.now()
            )
            if not used:
                raise LinkRefused("This link was already used.", 410)
        past = PAST_TENSE.get(task.outcome)
        if past:
            messages.success(request, f"{past.capitalize()}: “{task.title}”.")
        else:
            messages.success(request, f"Decided “{task.title}”: {task.outcome}.")
        return redirect(task.get_absolute_url())

    def back_url(self):
        return self.task.get_absolute_url()

    def invalid(self, exc):
        self.form.add_service_errors(exc.errors)
        return self.page(self.form, status=400)

    def page(self, form, status=200):
        task, outcome = self.task, self.link.outcome
        if task.needs_comment(outcome):
            form.fields["comment"].step_required = True
            form.fields["comment"].help_text = f"Required to {outcome_label(outcome).lower()}."
        context = {
            "task": task,
            "link": self.link,
            "outcome_label": outcome_label(outcome),
            "button_style": "btn-danger" if outcome == "reject" else "btn-primary",
            "notice": state_conflict(task, self.request.user),
            "variables": visible_variables(task),
            "form": form,
        }
        return render(self.request, self.template_name, context, status=status)
