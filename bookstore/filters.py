"""Query filters shared by the apps' FilterSets."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view

# The largest id a database integer holds; beyond it a lookup overflows (a 500 on SQLite), so it is a 400.
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object id in a query string: a positive integer within a database integer, else a 400."""

    field_class = forms.IntegerField  # type: ignore[assignment]  # any form field will do; the stubs say DecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, with a shortcut for a list whose query names none of the filters.

    Such a list is not filtered, yet django-filter still builds the filterset: it deep-copies every
    filter and builds and validates a form, a twentieth of an order page's CPU (bench/cpu.py). A
    FilterSet that sets `unnamed_filters_nothing = True` in its own body (not inherited: a
    subclass may add a filter that does act on an absent value, a default or a method) says
    that it then leaves the queryset as it is, and is not built.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if (
            filterset_class is not None
            and vars(filterset_class).get("unnamed_filters_nothing", False)
            and not request.query_params.keys() & filterset_class.base_filters.keys()
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


_DETAIL_ACTIONS = ("retrieve", "update", "partial_update", "destroy")


def positive_path_id(name: str = "id"):
    """Class decorator: the schema states that the `name` path parameter is an integer from 1.

    On a viewset, for its detail actions (and `@action(detail=True)`); on an APIView, for every
    method (each of its routes has the id).
    """
    parameter = OpenApiParameter(
        name, {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="An id, from 1."
    )

    def decorate(view):
        if not hasattr(view, "get_extra_actions"):
            return extend_schema(parameters=[parameter])(view)
        actions = [action for action in _DETAIL_ACTIONS if hasattr(view, action)]
        actions += [action.__name__ for action in view.get_extra_actions() if action.detail]
        return extend_schema_view(**{action: extend_schema(parameters=[parameter]) for action in actions})(view)

    return decorate
