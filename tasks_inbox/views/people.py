"""A person's own settings: away dates, substitute and manager, the API token; saved
inbox views."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from tasks_inbox.forms import AbsenceForm, SavedViewForm
from tasks_inbox.models import Profile
from tasks_inbox.services.people import delete_view, save_view, set_absence
from tasks_inbox.services.tokens import issue_token, revoke_token, token_of

from .base import TaskErrorMixin, safe_next, url_with


class ProfileView(LoginRequiredMixin, TaskErrorMixin, View):
    """Away settings (while away, new tasks go to the substitute) and the manager whom
    escalations may name."""

    template_name = "tasks_inbox/profile.html"

    def get(self, request):
        return self.page(AbsenceForm(request.user, initial=self.initial()))

    def initial(self):
        profile = (
            Profile.objects.filter(user=self.request.user)
            .select_related("substitute", "manager")
            .first()
        )
        if profile is None:
            return {}
        return {
            "absent_from": profile.absent_from,
            "absent_until": profile.absent_until,
            "substitute": profile.substitute,
            "manager": profile.manager,
        }

    def post(self, request):
        # The API token's buttons post `token=issue` or `token=revoke` to this page.
        action = request.POST.get("token")
        if action == "issue":
            token = issue_token(actor=request.user)
            # Shown once, on this answer: it is in no message, cookie or log.
            return self.page(AbsenceForm(request.user, initial=self.initial()), new_token=token)
        if action == "revoke":
            if revoke_token(actor=request.user):
                messages.success(request, "Your API token is revoked; its key no longer works.")
            return redirect("inbox:profile")
        self.form = AbsenceForm(request.user, request.POST)
        if not self.form.is_valid():
            return self.page(self.form, status=400)
        data = self.form.cleaned_data
        profile = set_absence(
            actor=request.user,
            absent_from=data["absent_from"],
            absent_until=data["absent_until"],
            substitute=data["substitute"],
            manager=data["manager"],
        )
        if profile.absent_from or profile.absent_until:
            messages.success(request, "Your away settings are saved.")
        else:
            messages.success(request, "You are not marked as away.")
        return redirect("inbox:profile")

    def invalid(self, exc):
        self.form.add_service_errors(exc.errors)
        return self.page(self.form, status=400)

    def page(self, form, status=200, new_token=None):
        profile = (
            Profile.objects.filter(user=self.request.user).select_related("substitute").first()
        )
        context = {
            "form": form,
            "profile": profile,
            "nav_active": "profile",
            "token": new_token or token_of(self.request.user),
            "new_token": new_token,
        }
        return render(self.request, self.template_name, context, status=status)


class SavedViewCreateView(LoginRequiredMixin, TaskErrorMixin, View):
    """Save the current filters of a list under a name, maybe shared with a group."""

    http_method_names = ["post"]

    def post(self, request):
        form = SavedViewForm(request.user, request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(self.back_url())
        data = form.cleaned_data
        view = save_view(
            actor=request.user,
            name=data["name"],
            scope=data["scope"],
            params=form.view_params(),
            shared_with=data["shared_with"],
        )
        shared = f", shared with {view.shared_with.name}" if view.shared_with else ""
        messages.success(request, f"View “{view.name}” saved{shared}.")
        return redirect(url_with(reverse(f"inbox:{view.scope}"), view.params))


class SavedViewDeleteView(LoginRequiredMixin, TaskErrorMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        delete_view(pk, actor=request.user)
        messages.success(request, "The view was deleted.")
        return redirect(safe_next(request, request.POST.get("next"), reverse("inbox:mine")))
