from django.contrib import admin

from webapp.core.admin import HistoryAdmin
from webapp.writing.models import Decision, Document, EditProposal, Iteration


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "project", "created_at")
    search_fields = ("title", "owner__username")
    list_select_related = ("owner", "project")

    def get_readonly_fields(self, request, obj=None):
        # Its owner, and its text (which the rounds record), change only through the app.
        return () if obj is None else ("owner", "original_text", "current_text")


@admin.register(Iteration)
class IterationAdmin(HistoryAdmin):
    list_display = ("document", "number", "depth", "source", "status", "model_version", "created_at")
    list_filter = ("status", "source")
    list_select_related = ("document", "model_version")


@admin.register(EditProposal)
class EditProposalAdmin(HistoryAdmin):
    list_display = ("iteration", "index", "action", "intent", "before", "after")
    list_filter = ("action", "intent")


@admin.register(Decision)
class DecisionAdmin(HistoryAdmin):
    list_display = ("proposal", "verdict", "decided_by", "decided_at", "is_current", "via")
    list_filter = ("verdict", "is_current", "via")
