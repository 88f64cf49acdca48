from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Cursor pagination, newest first: ``{"results": [...], "next": url, "previous": url}``."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = 200
