from django.urls import path

from webapp.writing import views

app_name = "writing"
urlpatterns = [
    path("", views.document_list, name="document_list"),
    path("new/", views.document_create, name="document_create"),
    path("import/", views.document_import, name="document_import"),
    path("export/", views.export_all, name="export_all"),
    path("<int:pk>/", views.document_detail, name="document_detail"),
    path("<int:pk>/export/", views.document_export, name="document_export"),
    path("<int:pk>/history/", views.document_history, name="document_history"),
    path("<int:pk>/suggest/", views.suggest, name="suggest"),
    path("<int:pk>/text/", views.edit_text, name="edit_text"),
    path("edits/<int:pk>/decide/", views.proposal_decide, name="proposal_decide"),
    path("rounds/<int:pk>/decide-all/", views.decide_all, name="decide_all"),
    path("rounds/<int:pk>/undo/", views.undo, name="undo"),
    path("rounds/<int:pk>/apply/", views.apply, name="apply"),
    path("rounds/<int:pk>/retry/", views.retry, name="retry"),
]
