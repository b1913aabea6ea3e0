"""Template context for every page."""

from django.utils.functional import SimpleLazyObject

from tasks_inbox.selectors.tasks import counts_for


def nav_counts(request):
    """The task counts of the navigation, for people who are logged in. Lazy: the two
    count queries run only on pages that show the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_counts": SimpleLazyObject(lambda: counts_for(user))}
