import django_filters

from orders.models import Order


class OrderFilter(django_filters.FilterSet):
    """Staff narrow the list by status and customer; a customer's list is already only theirs."""

    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    # Bounded: a value beyond a database integer is a 400, not an overflow (500).
    user = django_filters.NumberFilter(
        field_name="user_id", min_value=1, max_value=2**63 - 1, help_text="A customer's user id."
    )

    class Meta:
        model = Order
        fields = ["status", "user"]
