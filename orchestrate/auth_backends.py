"""Django's model permissions, read in one query per person and request instead of two."""

from django.contrib.auth.backends import ModelBackend


class OneQueryModelBackend(ModelBackend):
    """`ModelBackend`, with a person's own permissions and their groups' read together (a
    UNION) the first time one is asked for: every page asks (the navigation's Reports
    link, the inbox's visibility rules), and the two queries were two of a page's
    fifteen. The rules, the per-user cache and the other methods are Django's."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                return super().get_all_permissions(user_obj)
            fields = ("content_type__app_label", "codename")
            own = self._get_user_permissions(user_obj).values_list(*fields).order_by()
            groups = self._get_group_permissions(user_obj).values_list(*fields).order_by()
            user_obj._perm_cache = {f"{app}.{name}" for app, name in own.union(groups)}
        return user_obj._perm_cache
