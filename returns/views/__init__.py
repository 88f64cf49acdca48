"""HTML pages of returns: the merchant portal's return policy page (portal.py)."""
