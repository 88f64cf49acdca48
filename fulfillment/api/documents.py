"""Binary document responses (PDF, ZPL) from DRF views.

Error answers stay problem+json whatever the client's Accept header says (a client asking for
application/pdf still gets a readable 404), so content negotiation always picks the first renderer.
"""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation


class FirstRendererNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def document_response(
    content: bytes | str, *, content_type: str, filename: str, as_attachment: bool = False
) -> HttpResponse:
    """The document shown in the browser (inline), or downloaded where the link says Download."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'{"attachment" if as_attachment else "inline"}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
