from django.urls import path

from webapp.coding import views

app_name = "coding"
urlpatterns = [
    path("", views.problem_list, name="problem_list"),
    path("new/", views.problem_create, name="problem_create"),
    path("export/", views.feedback_export, name="feedback_export"),
    path("<int:pk>/", views.problem_detail, name="problem_detail"),
    path("<int:pk>/rounds/", views.round_start, name="round_start"),
    path("<int:pk>/tests/", views.test_add, name="test_add"),
    path("rounds/<int:pk>/run-again/", views.round_rerun, name="round_rerun"),
    path("candidates/<int:pk>/decide/", views.candidate_decide, name="candidate_decide"),
    path("candidates/<int:pk>/solution/", views.solution_accept, name="solution_accept"),
    path("tests/<int:pk>/decide/", views.test_decide, name="test_decide"),
    path("tests/<int:pk>/edit/", views.test_edit, name="test_edit"),
    path("executions/<int:pk>/", views.execution_detail, name="execution_detail"),
]
