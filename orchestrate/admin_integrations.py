"""Webhook subscriptions, their deliveries and the received events in the admin.

Registered from `orchestrate.admin`. A subscription's secret is write-only: the form
never shows it back (leave it empty to keep it). Deliveries and received events are
read-only; "Retry now" sends pending or failed deliveries at once (a service call).
"""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import ngettext

from orchestrate.models import (
    WEBHOOK_EVENT_KINDS,
    InboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from orchestrate.services.webhooks import retry_deliveries_now


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        max_length=1000,
        assume_scheme="https",
        help_text="An http or https URL that accepts POST requests.",
    )
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs every delivery (HMAC-SHA256). Never shown again; leave empty to "
        "keep the current one.",
    )
    event_types = forms.MultipleChoiceField(
        choices=[(str(kind), str(kind)) for kind in WEBHOOK_EVENT_KINDS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Each is sent as a CloudEvent of type orchestrate.<kind>.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "workflow", "active", "secret"]

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if not secret and self.instance.pk is None:
            raise forms.ValidationError("Give a secret; receivers check signatures with it.")
        if secret and len(secret) < 16:
            raise forms.ValidationError("Use at least 16 characters.")
        return secret

    def save(self, commit=True):
        if not self.cleaned_data["secret"]:
            # Keep the stored secret: the form never had it.
            self.instance.secret = WebhookSubscription.objects.get(pk=self.instance.pk).secret
        return super().save(commit=commit)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "kinds", "workflow", "active"]
    list_filter = ["active"]
    search_fields = ["name", "url"]

    @admin.display(description="event types")
    def kinds(self, obj):
        return ", ".join(obj.event_types)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only, with the answer of the last attempt; "Retry now" sends again."""

    list_display = [
        "created_at",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", "subscription"]
    list_select_related = ["subscription"]
    fields = [
        "uuid",
        "subscription",
        "audit_event",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "dispatched_at",
        "last_status_code",
        "last_response",
        "error",
        "payload_text",
        "created_at",
        "delivered_at",
    ]
    readonly_fields = fields
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="payload")
    def payload_text(self, obj):
        if obj.payload is None:
            return "(built at the first attempt)"
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now(self, request, queryset):
        sent = retry_deliveries_now(list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - sent
        self.message_user(
            request,
            ngettext("%d delivery sent again.", "%d deliveries sent again.", sent) % sent,
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} left alone: only pending or failed deliveries are retried.",
                messages.WARNING,
            )


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    """Received CloudEvents, read-only: what each one started or was delivered to."""

    list_display = ["received_at", "type", "source", "event_id", "subject", "received_by"]
    list_filter = ["type"]
    search_fields = ["event_id", "source", "subject"]
    fields = [
        "source",
        "event_id",
        "type",
        "subject",
        "time",
        "body",
        "outcome",
        "received_at",
        "received_by",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
