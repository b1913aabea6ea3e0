"""My requests: the instances a person started, where they stand, and withdrawing one."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from tasks_inbox.forms import WithdrawForm
from tasks_inbox.selectors.tasks import can_withdraw, request_for_user, requests_for
from tasks_inbox.services.requests import withdraw_request

from .base import TaskErrorMixin

PAGE_SIZE = 25


class RequestListView(LoginRequiredMixin, View):
    def get(self, request):
        page = Paginator(requests_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
        for instance in page:
            instance.withdrawable = can_withdraw(instance)
        return render(
            request,
            "tasks_inbox/request_list.html",
            {"page": page, "nav_active": "requests", "withdraw_form": WithdrawForm()},
        )


class RequestWithdrawView(LoginRequiredMixin, TaskErrorMixin, View):
    """The initiator withdraws a running request, with a reason (the service checks it)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        instance = request_for_user(request.user, pk)
        form = WithdrawForm(request.POST)
        form.is_valid()
        withdraw_request(
            instance.pk, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
        messages.success(request, f"Your request #{instance.pk} was withdrawn.")
        return redirect(self.back_url())

    def back_url(self):
        return reverse("inbox:requests")
