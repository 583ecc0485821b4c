"""API tokens that expire (settings.REDLINE_TOKEN_TTL_DAYS after they were issued). Kept apart from
webapp.core.api: DRF imports authentication classes while its views module is still loading."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token) -> bool:
    return token.created < timezone.now() - timedelta(days=settings.REDLINE_TOKEN_TTL_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed(
                "This token has expired; POST your username and password to /api/token/ for a new one."
            )
        return user, token
