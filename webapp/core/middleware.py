import codecs
import re

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import patch_vary_headers


class VaryOnHtmxMiddleware:
    """The same URL renders a whole page or a fragment depending on HX-Request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy (settings.REDLINE_CONTENT_SECURITY_POLICY; empty sends none) and
    no caching of what a signed-in person sees, so that a shared browser or proxy keeps none of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.REDLINE_CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response


# Charsets whose decoding (with replacement of what is invalid, as Django decodes) never yields a
# lone surrogate; UTF-7, UTF-16, unicode_escape and others can.
_SURROGATE_FREE_CHARSETS = {"utf-8", "ascii", "iso8859-1", "latin-1", "cp1252"}
_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = "The request holds a lone surrogate (U+D800 to U+DFFF), which is not Unicode text. Send UTF-8."


class RefuseLoneSurrogatesMiddleware:
    """A 400 for a query string or form whose charset decoded it to lone surrogates, which no
    response (an error message quoting a choice) and no Postgres column can hold. Browsers send
    UTF-8, which Django decodes with replacement characters, so only a request that names another
    charset is read here. JSON bodies are checked by their parser (webapp.core.parsers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.encoding or settings.DEFAULT_CHARSET
        if codecs.lookup(charset).name not in _SURROGATE_FREE_CHARSETS and self._holds_surrogate(request):
            return HttpResponseBadRequest(LONE_SURROGATE_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _holds_surrogate(request) -> bool:
        texts = _texts(request.GET)
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            texts += _texts(request.POST) + [file.name or "" for _, files in request.FILES.lists() for file in files]
        return any(_SURROGATE.search(text) for text in texts)


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _texts(query) -> list[str]:
    return [text for key, values in query.lists() for text in (key, *values)]
