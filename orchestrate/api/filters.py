"""Query-string filters of the instance list."""

import django_filters

from orchestrate.models import Instance, InstanceStatus


class InstanceFilter(django_filters.FilterSet):
    workflow = django_filters.CharFilter(field_name="definition__key", label="Workflow key")
    status = django_filters.ChoiceFilter(choices=InstanceStatus.choices)
    business_key = django_filters.CharFilter()

    class Meta:
        model = Instance
        fields = ["workflow", "status", "business_key"]
