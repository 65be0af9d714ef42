from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self):
        from accounts.signals import signed_in
        from cart.receivers import cart_merge_on_sign_in

        signed_in.connect(cart_merge_on_sign_in, dispatch_uid="cart_merge_on_sign_in")
