from django.contrib import admin

from webapp.core.models import Job, UnsentTask


class HistoryAdmin(admin.ModelAdmin):
    """Rows that record what happened (decisions, labels, rounds, jobs): the Django admin shows
    them and never adds, changes or deletes one; the app's own actions write them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(HistoryAdmin):
    list_display = ("kind", "status", "done", "total", "created_by", "created_at", "finished_at")
    list_filter = ("kind", "status")


@admin.register(UnsentTask)
class UnsentTaskAdmin(HistoryAdmin):
    list_display = ("task", "args", "attempts", "error", "created_at")
