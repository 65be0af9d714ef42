import pytest

from catalog.models import Author, Category
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/categories"
AUTHORS = "/api/v1/authors"


def test_categories_are_public_with_parent_id(api_client):
    parent = CategoryFactory(name="Fiction", slug="fiction")
    child = CategoryFactory(name="Fantasy", slug="fantasy", parent=parent, description="Dragons.")

    listing = api_client.get(CATEGORIES)
    detail = api_client.get(f"{CATEGORIES}/{child.pk}")

    assert listing.status_code == 200 and listing.json()["count"] == 2
    assert detail.json() == {
        "id": child.pk,
        "name": "Fantasy",
        "slug": "fantasy",
        "parent_id": parent.pk,
        "description": "Dragons.",
    }
    assert [c["id"] for c in api_client.get(CATEGORIES, {"parent": parent.pk}).json()["results"]] == [child.pk]


def test_only_staff_write_categories(api_client, user_client, staff_client):
    assert api_client.post(CATEGORIES, {"name": "Poetry"}).status_code == 401
    assert user_client.post(CATEGORIES, {"name": "Poetry"}).status_code == 403

    response = staff_client.post(CATEGORIES, {"name": "Poetry"})

    assert response.status_code == 201
    assert response.json()["slug"] == "poetry"
    assert Category.objects.get().name == "Poetry"


def test_duplicate_category_slug_is_a_400_unique(staff_client):
    CategoryFactory(slug="poetry")

    response = staff_client.post(CATEGORIES, {"name": "Poetry", "slug": "poetry"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unique"


def test_category_cannot_be_moved_under_its_own_descendant(staff_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)

    for parent in (root, grandchild):
        response = staff_client.patch(f"{CATEGORIES}/{root.pk}", {"parent_id": parent.pk})
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "parent_id"
    root.refresh_from_db()
    assert root.parent is None


def test_deleting_a_category_with_books_is_a_409_and_keeps_it(staff_client):
    category = CategoryFactory()
    BookFactory(category=category, is_active=False)

    response = staff_client.delete(f"{CATEGORIES}/{category.pk}")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "protected"
    assert Category.objects.filter(pk=category.pk).exists()


def test_deleting_a_category_with_sub_categories_is_a_409(staff_client):
    parent = CategoryFactory()
    CategoryFactory(parent=parent)

    assert staff_client.delete(f"{CATEGORIES}/{parent.pk}").status_code == 409


def test_staff_deletes_an_empty_category_customers_cannot(user_client, staff_client):
    category = CategoryFactory()
    assert user_client.delete(f"{CATEGORIES}/{category.pk}").status_code == 403
    assert staff_client.delete(f"{CATEGORIES}/{category.pk}").status_code == 204
    assert not Category.objects.exists()


def test_authors_are_public_and_searchable_by_name(api_client):
    tolkien = AuthorFactory(name="J. R. R. Tolkien", bio="Philologist.")
    AuthorFactory(name="Ursula K. Le Guin")

    response = api_client.get(AUTHORS, {"search": "tolk"})

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": tolkien.pk, "name": "J. R. R. Tolkien", "bio": "Philologist."}]
    assert api_client.get(f"{AUTHORS}/{tolkien.pk}").json()["name"] == "J. R. R. Tolkien"


def test_only_staff_write_authors(api_client, user_client, staff_client):
    assert api_client.post(AUTHORS, {"name": "A"}).status_code == 401
    assert user_client.post(AUTHORS, {"name": "A"}).status_code == 403
    response = staff_client.post(AUTHORS, {"name": "Mary Shelley", "bio": "Novelist."})
    assert response.status_code == 201
    author = Author.objects.get()
    assert staff_client.patch(f"{AUTHORS}/{author.pk}", {"name": "Mary W. Shelley"}).status_code == 200
    author.refresh_from_db()
    assert author.name == "Mary W. Shelley"


def test_deleting_an_author_with_books_is_a_409_and_keeps_them(staff_client):
    author = AuthorFactory()
    book = BookFactory(authors=[author])

    response = staff_client.delete(f"{AUTHORS}/{author.pk}")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "protected"
    assert list(book.authors.all()) == [author]


def test_staff_deletes_an_author_without_books(user_client, staff_client):
    author = AuthorFactory()
    assert user_client.delete(f"{AUTHORS}/{author.pk}").status_code == 403
    assert staff_client.delete(f"{AUTHORS}/{author.pk}").status_code == 204
    assert not Author.objects.exists()
