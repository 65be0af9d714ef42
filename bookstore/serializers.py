"""Output serializers built once, for the hot read paths."""

import threading
from collections.abc import Mapping
from typing import Any


class Presenter:
    """Turns instances into response data with one read-only serializer per thread, built once.

    DRF builds a serializer's fields on every instantiation, and a `ModelSerializer`
    introspects its model to do it: for a book's detail that is nine tenths of the time spent
    serializing. The built fields hold no request state (they reach the request through the
    serializer's `context`, which is refilled for every call here and emptied after it), so
    an output-only serializer can be built once and reused. Serializers that validate input
    keep errors and validated data on the instance: use them the usual way.

        book_detail = Presenter(BookSerializer)
        book_detail(book, view.get_serializer_context())  # == BookSerializer(book, context=...).data
    """

    def __init__(self, serializer_class, *, many: bool = False):
        self.serializer_class = serializer_class
        self.many = many
        self._local = threading.local()

    def __call__(self, instance, context: Mapping[str, Any]):
        local = self._local
        serializer = getattr(local, "serializer", None)
        if serializer is None:
            local.context = {}
            serializer = local.serializer = self.serializer_class(many=self.many, context=local.context)
        local.context.update(context)
        try:
            return serializer.to_representation(instance)
        finally:
            local.context.clear()  # the request is not kept alive until the next call
