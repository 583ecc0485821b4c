"""The JSON parser of every API view (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): DRF's, reading
through webapp.core.json_input, so that JSON nested too deep, a lone surrogate, NaN or an
infinite number is a 400 that says what is wrong instead of a 500."""

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from webapp.core import json_input


class CheckedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            return json_input.loads(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:  # UnicodeDecodeError too: a body not in the charset it names
            raise ParseError(f"JSON parse error - {exc}") from None


# DRF's default parsers, with the checked JSON parser: for a view that names its own list.
PARSER_CLASSES = (CheckedJSONParser, FormParser, MultiPartParser)
