import django_filters

from bookstore.filters import IdFilter
from orders.models import Order


class OrderFilter(django_filters.FilterSet):
    """Staff narrow the list by status and customer; a customer's list is already only theirs."""

    unnamed_filters_nothing = True  # bookstore.filters.FilterBackend

    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    user = IdFilter(field_name="user_id", help_text="A customer's user id.")

    class Meta:
        model = Order
        fields = ["status", "user"]
