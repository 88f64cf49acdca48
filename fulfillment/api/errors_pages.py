"""404 and 500 pages: problem+json under /api/, HTML elsewhere."""

from django.http import JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _problem(404, "Not found", "No resource at this address.")
    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return _problem(500, "Internal server error", "Something went wrong on our side; it has been logged.")
    return html_server_error(request)
