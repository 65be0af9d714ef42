"""Work the task worker can run on a schedule."""

from django_tasks import task

from payments.services import orders_expire_unpaid


@task()
def expire_unpaid_orders() -> int:
    """Cancels unpaid orders whose time is up (`manage.py expire_unpaid_orders` does the same)."""
    return orders_expire_unpaid()
