from django.urls import path

from webapp.preferences import views

app_name = "preferences"
urlpatterns = [
    path("label/", views.label_projects, name="label_projects"),
    path("label/<int:pk>/", views.label, name="label"),
    path("label/<int:pk>/next/", views.label_next, name="label_next"),
    path("label/<int:pk>/undo/", views.label_undo, name="label_undo"),
    path("label/<int:pk>/comparisons/<int:comparison_pk>/", views.label_submit, name="label_submit"),
    path("label/<int:pk>/comparisons/<int:comparison_pk>/skip/", views.label_skip, name="label_skip"),
    path("quality/", views.quality_projects, name="quality_projects"),
    path("quality/<int:pk>/", views.quality_page, name="quality"),
    path("quality/<int:pk>/comparisons/<int:comparison_pk>/resolve/", views.resolve, name="resolve"),
]
