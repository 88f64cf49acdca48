from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request body of this API nests deeper than a handful of levels (a bulk call: body, orders,
# order, lines, line, ...). Past this, a document is refused before any view walks it, so no
# recursive code further on (validation, error flattening, rendering) can hit the recursion limit.
MAX_DEPTH = 32


def _too_deep(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class SafeJSONParser(JSONParser):
    """JSON that nests too deeply is a 400 like any other malformed body, not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document nests too deeply.") from None
        if _too_deep(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - the document nests deeper than {MAX_DEPTH} levels.")
        return data
