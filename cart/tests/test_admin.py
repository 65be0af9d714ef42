import pytest

from cart.tests.factories import CartFactory, CartItemFactory

pytestmark = pytest.mark.django_db


def test_admin_shows_a_cart_with_its_lines_read_only(admin_client, user):
    cart = CartFactory(user=user)
    line = CartItemFactory(cart=cart, quantity=3)

    response = admin_client.get(f"/admin/cart/cart/{cart.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert line.book.title in content
    assert 'name="_save"' not in content  # no save button: read-only


def test_admin_cannot_add_or_change_carts(admin_client, user):
    cart = CartFactory(user=user)

    assert admin_client.get("/admin/cart/cart/add/").status_code == 403
    assert admin_client.post(f"/admin/cart/cart/{cart.pk}/change/", {}).status_code == 403


def test_admin_lists_carts_by_user_email(admin_client, user):
    CartFactory(user=user)

    response = admin_client.get("/admin/cart/cart/", {"q": user.email})

    assert response.status_code == 200
    assert user.email in response.content.decode()
