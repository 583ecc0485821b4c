"""The JSON API under /api/ (webapp/writing/api.py, webapp/training/api.py, webapp/coding/api.py,
webapp/preferences/api.py); the OpenAPI schema is at /api/schema/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from webapp.accounts.security import TokenView
from webapp.coding import api as coding_api
from webapp.core.parsers import PARSER_CLASSES
from webapp.preferences import api as preferences_api
from webapp.training import api as training_api
from webapp.writing import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # ObtainAuthToken names its own parsers, DRF's JSONParser among them: this one reads JSON as every other view.
    path("token/", TokenView.as_view(parser_classes=PARSER_CLASSES), name="api_token"),
    path("documents/", api.DocumentListView.as_view(), name="api_documents"),
    path("documents/import/", api.DocumentImportView.as_view(), name="api_documents_import"),
    path("documents/export/", api.DocumentExportAllView.as_view(), name="api_documents_export"),
    path("documents/<int:pk>/", api.DocumentDetailView.as_view(), name="api_document"),
    path("documents/<int:pk>/suggest/", api.DocumentSuggestView.as_view(), name="api_document_suggest"),
    path("documents/<int:pk>/edit/", api.DocumentTextEditView.as_view(), name="api_document_edit"),
    path("documents/<int:pk>/iterations/", api.DocumentIterationsView.as_view(), name="api_document_iterations"),
    path("documents/<int:pk>/export/", api.DocumentExportView.as_view(), name="api_document_export"),
    path("iterations/<int:pk>/", api.IterationDetailView.as_view(), name="api_iteration"),
    path("iterations/<int:pk>/proposals/", api.IterationProposalsView.as_view(), name="api_iteration_proposals"),
    path("iterations/<int:pk>/decide-all/", api.IterationDecideAllView.as_view(), name="api_iteration_decide_all"),
    path("iterations/<int:pk>/undo/", api.IterationUndoView.as_view(), name="api_iteration_undo"),
    path("iterations/<int:pk>/apply/", api.IterationApplyView.as_view(), name="api_iteration_apply"),
    path("proposals/<int:pk>/decision/", api.ProposalDecisionView.as_view(), name="api_proposal_decision"),
    path("proposals/<int:pk>/decisions/", api.ProposalDecisionsView.as_view(), name="api_proposal_decisions"),
    path("training/runs/", training_api.RunListView.as_view(), name="api_training_runs"),
    path("training/runs/<int:pk>/", training_api.RunDetailView.as_view(), name="api_training_run"),
    path("training/runs/<int:pk>/cancel/", training_api.RunCancelView.as_view(), name="api_training_run_cancel"),
    path(
        "training/snapshots/preview/", training_api.SnapshotPreviewView.as_view(), name="api_training_snapshot_preview"
    ),
    path("training/snapshots/<int:pk>/", training_api.SnapshotDetailView.as_view(), name="api_training_snapshot"),
    path(
        "training/snapshots/<int:pk>/export/",
        training_api.SnapshotExportView.as_view(),
        name="api_training_snapshot_export",
    ),
    path("training/versions/", training_api.VersionListView.as_view(), name="api_training_versions"),
    path(
        "training/versions/rollback/", training_api.VersionRollbackView.as_view(), name="api_training_version_rollback"
    ),
    path("training/versions/<int:pk>/", training_api.VersionDetailView.as_view(), name="api_training_version"),
    path(
        "training/versions/<int:pk>/promote/",
        training_api.VersionPromoteView.as_view(),
        name="api_training_version_promote",
    ),
    path("coding/problems/", coding_api.ProblemListView.as_view(), name="api_coding_problems"),
    path("coding/problems/<int:pk>/", coding_api.ProblemDetailView.as_view(), name="api_coding_problem"),
    path(
        "coding/problems/<int:pk>/iterations/",
        coding_api.ProblemIterationsView.as_view(),
        name="api_coding_problem_iterations",
    ),
    path("coding/problems/<int:pk>/tests/", coding_api.ProblemTestsView.as_view(), name="api_coding_problem_tests"),
    path("coding/iterations/<int:pk>/", coding_api.IterationDetailView.as_view(), name="api_coding_iteration"),
    path(
        "coding/iterations/<int:pk>/run-again/",
        coding_api.IterationRunAgainView.as_view(),
        name="api_coding_iteration_run_again",
    ),
    path(
        "coding/iterations/<int:pk>/executions/",
        coding_api.IterationExecutionsView.as_view(),
        name="api_coding_iteration_executions",
    ),
    path(
        "coding/candidates/<int:pk>/decision/",
        coding_api.CandidateDecisionView.as_view(),
        name="api_coding_candidate_decision",
    ),
    path(
        "coding/candidates/<int:pk>/decisions/",
        coding_api.CandidateDecisionsView.as_view(),
        name="api_coding_candidate_decisions",
    ),
    path(
        "coding/candidates/<int:pk>/solution/",
        coding_api.CandidateSolutionView.as_view(),
        name="api_coding_candidate_solution",
    ),
    path("coding/tests/<int:pk>/decision/", coding_api.TestDecisionView.as_view(), name="api_coding_test_decision"),
    path("coding/tests/<int:pk>/decisions/", coding_api.TestDecisionsView.as_view(), name="api_coding_test_decisions"),
    path("coding/tests/<int:pk>/edit/", coding_api.TestEditView.as_view(), name="api_coding_test_edit"),
    path("coding/executions/<int:pk>/", coding_api.ExecutionDetailView.as_view(), name="api_coding_execution"),
    path("coding/feedback/export/", coding_api.FeedbackExportView.as_view(), name="api_coding_feedback_export"),
    path("preferences/comparisons/", preferences_api.ComparisonListView.as_view(), name="api_preferences_comparisons"),
    path(
        "preferences/comparisons/import/", preferences_api.ComparisonImportView.as_view(), name="api_preferences_import"
    ),
    path(
        "preferences/comparisons/derive/", preferences_api.ComparisonDeriveView.as_view(), name="api_preferences_derive"
    ),
    path(
        "preferences/comparisons/generate/",
        preferences_api.ComparisonGenerateView.as_view(),
        name="api_preferences_generate",
    ),
    path(
        "preferences/comparisons/<int:pk>/",
        preferences_api.ComparisonDetailView.as_view(),
        name="api_preferences_comparison",
    ),
    path(
        "preferences/comparisons/<int:pk>/label/",
        preferences_api.ComparisonLabelView.as_view(),
        name="api_preferences_label",
    ),
    path(
        "preferences/comparisons/<int:pk>/resolve/",
        preferences_api.ComparisonResolveView.as_view(),
        name="api_preferences_resolve",
    ),
    path(
        "preferences/comparisons/<int:pk>/skip/",
        preferences_api.ComparisonSkipView.as_view(),
        name="api_preferences_skip",
    ),
    path("preferences/projects/<int:pk>/next/", preferences_api.QueueNextView.as_view(), name="api_preferences_next"),
    path("preferences/projects/<int:pk>/undo/", preferences_api.QueueUndoView.as_view(), name="api_preferences_undo"),
    path(
        "preferences/projects/<int:pk>/settings/",
        preferences_api.QueueSettingsView.as_view(),
        name="api_preferences_settings",
    ),
    path("preferences/jobs/<int:pk>/", preferences_api.GenerationJobView.as_view(), name="api_preferences_job"),
    path("preferences/labels/", preferences_api.LabelListView.as_view(), name="api_preferences_labels"),
    path("preferences/export/", preferences_api.ExportView.as_view(), name="api_preferences_export"),
]
