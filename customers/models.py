from accounts.models import User


class Customer(User):
    """A user as the back office's customer page shows them (addresses, orders): no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "customer"
