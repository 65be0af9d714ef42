"""Kept for imports: the country codes live in `bookstore.countries`, shared by orders, addresses and shipping."""

from bookstore.countries import ISO_3166_ALPHA2

__all__ = ["ISO_3166_ALPHA2"]
