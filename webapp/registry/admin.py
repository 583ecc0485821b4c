from django.contrib import admin

from webapp.registry.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "base_model", "adapter_path", "is_active", "created_at")
