from django.urls import path

app_name = "writing"
urlpatterns: list = []
