"""`{% version_diagram %}` and `{% instance_diagram %}`: Mermaid text for admin pages.

The text is auto-escaped like any tag output; Mermaid reads the element's textContent,
so the browser hands it the unescaped text.
"""

from django import template

from orchestrate.diagrams import mermaid_for

register = template.Library()


@register.simple_tag
def version_diagram(version):
    """The version's flowchart."""
    return mermaid_for(version)


@register.simple_tag
def instance_diagram(instance):
    """The instance's version with its active, done and failed steps and the path taken."""
    return mermaid_for(instance.version, instance=instance)
