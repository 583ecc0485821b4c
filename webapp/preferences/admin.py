from django.contrib import admin

from webapp.core.admin import HistoryAdmin
from webapp.preferences.models import (
    Comparison,
    ComparisonOutput,
    LabelChange,
    PreferenceLabel,
    QueueSettings,
    Resolution,
)


class OutputInline(admin.TabularInline):
    model = ComparisonOutput
    extra = 0


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "origin", "is_gold", "created_at"]
    list_filter = ["origin", "is_gold", "project"]
    inlines = [OutputInline]


@admin.register(PreferenceLabel)
class PreferenceLabelAdmin(HistoryAdmin):
    list_display = ["id", "comparison", "annotator", "choice", "updated_at"]
    list_filter = ["choice"]


@admin.register(LabelChange)
class LabelChangeAdmin(HistoryAdmin):
    list_display = ["id", "comparison", "annotator", "action", "choice", "at"]


@admin.register(Resolution)
class ResolutionAdmin(HistoryAdmin):
    list_display = ["id", "comparison", "admin", "choice", "ranking", "at"]


admin.site.register(QueueSettings)
