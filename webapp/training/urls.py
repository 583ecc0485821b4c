from django.urls import path

from webapp.training import views

app_name = "training"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/preview/", views.run_preview, name="run_preview"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot_detail"),
    path("snapshots/<int:pk>/export/", views.snapshot_export, name="snapshot_export"),
    path("versions/", views.version_list, name="version_list"),
    path("versions/compare/", views.version_compare, name="version_compare"),
    path("versions/rollback/", views.version_rollback, name="version_rollback"),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("versions/<int:pk>/promote/", views.version_promote, name="version_promote"),
    path("versions/<int:pk>/evaluate/", views.version_evaluate, name="version_evaluate"),
    path("projects/<int:project_pk>/policy/", views.policy_edit, name="policy_edit"),
]
