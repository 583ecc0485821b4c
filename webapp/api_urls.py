"""The JSON API under /api/ (webapp/writing/api.py); the OpenAPI schema is at /api/schema/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authtoken.views import obtain_auth_token

from webapp.writing import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("token/", obtain_auth_token, name="api_token"),
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
]
