"""Sign-in lockout on every path that checks a password: the login page, the Django admin's and
the API's token endpoint (webapp.core.throttling counts the failures).

LockoutBackend refuses a locked username before the password is checked; the receivers count
failures and forget them after a successful sign-in; LoginView and TokenView answer a locked
username with 429 and a message that says when to try again."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from webapp.core.authentication import token_expired
from webapp.core.throttling import (
    lockout_message,
    login_failure_record,
    login_failures_clear,
    login_locked_for,
    too_many_requests,
)


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and login_locked_for(username):
            raise PermissionDenied  # authenticate() stops here, whatever the password
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed, dispatch_uid="redline_login_failed")
def _count_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username") or ""
    if not login_locked_for(username):  # attempts while locked do not prolong the lockout
        login_failure_record(username)


@receiver(user_logged_in, dispatch_uid="redline_logged_in")
def _forget_failures(sender, request, user, **kwargs):
    login_failures_clear(user.get_username())


class LoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        wait = login_locked_for(request.POST.get("username", ""))
        if wait:
            return too_many_requests(request, wait, lockout_message(wait))
        return super().post(request, *args, **kwargs)


class TokenView(ObtainAuthToken):
    """The user's API token; an expired one is replaced by a new one."""

    def post(self, request, *args, **kwargs):
        username = request.data.get("username", "") if hasattr(request.data, "get") else ""
        wait = login_locked_for(username if isinstance(username, str) else "")
        if wait:
            return too_many_requests(request, wait, lockout_message(wait))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})
