from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "customers"

    def ready(self):
        from accounts.signals import account_closing
        from customers.services import customer_data_erase

        account_closing.connect(customer_data_erase, dispatch_uid="customer_data_erase")
