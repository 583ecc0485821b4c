from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from webapp.accounts.models import Project, User

admin.site.register(User, UserAdmin)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    filter_horizontal = ("members",)
