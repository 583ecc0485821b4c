"""`{{ code|python }}`: Python source highlighted on the server (Pygments), as HTML.

Pygments escapes every character of the source it writes out, so model-written code is shown
as text, never as markup; only the <span class> wrappers it adds are HTML."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def python(code: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return mark_safe(highlight(code or "", PythonLexer(), HtmlFormatter(nowrap=True)))
