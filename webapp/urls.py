from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from webapp.accounts.security import LoginView

handler500 = "webapp.core.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="writing:document_list", permanent=False)),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("jobs/", include("webapp.core.urls")),
    path("documents/", include("webapp.writing.urls")),
    path("training/", include("webapp.training.urls")),
    path("problems/", include("webapp.coding.urls")),
    path("", include("webapp.preferences.urls")),
    path("api/", include("webapp.api_urls")),
]
