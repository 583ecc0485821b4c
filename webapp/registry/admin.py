from django.contrib import admin

from webapp.core.admin import HistoryAdmin
from webapp.registry.models import ModelVersion, VersionEvent


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Which version is active changes only by promotion and rollback (the Versions screen or the
    API), which record a VersionEvent; here its name and notes may change, not its lineage."""

    list_display = ("name", "base_model", "adapter_path", "is_active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # a new version: any model, never active from here
            return ("is_active", "created_by")
        return ("is_active", "kind", "base_model", "adapter_path", "parent", "created_by")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VersionEvent)
class VersionEventAdmin(HistoryAdmin):
    list_display = ("action", "version", "previous", "by")
