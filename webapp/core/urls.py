from django.urls import path

from webapp.core import views

app_name = "core"
urlpatterns = [path("<int:pk>/", views.job_status, name="job_status")]
