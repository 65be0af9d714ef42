"""Catalog writes that carry rules: books, categories, authors and reviews.

Stock changes are in `catalog.stock` (the ledger), search columns in `catalog.search_index`.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from bookstore.exceptions import DomainError
from bookstore.integrity import Unique, unique_violations
from catalog.caching import catalog_changed
from catalog.exceptions import AlreadyReportedError, CategoryCycleError, InUseError, MissingReferenceError
from catalog.models import Author, Book, Category, Review, ReviewReport, StockMovement
from catalog.search_index import author_books_search_refresh, book_postings_refresh, book_search_vector_refresh
from catalog.slugs import book_slug, category_slug, first_free
from catalog.stock import stock_apply, stock_set

# The unique values a client chooses, and the 400 `unique` a duplicate gets (bookstore.integrity).
ISBN_TAKEN = Unique(Book, ("isbn",), "A book with this ISBN already exists.", attr="isbn")
CATEGORY_SLUG_TAKEN = Unique(Category, ("slug",), "A category with this slug already exists.", attr="slug")
REVIEW_TAKEN = Unique(Review, ("book", "user"), "You have already reviewed this book.")


def _missing(attr: str, what: str, ids: Iterable[int]) -> MissingReferenceError:
    return MissingReferenceError(f"No {what} with id {', '.join(map(str, sorted(ids)))}.", attr=attr)


def _lock_book_references(*, authors: Iterable[Author] | None, category: Category | None) -> None:
    """Holds the book's new authors and category until the transaction ends, or names the missing ones.

    The serializer found them, but a deletion may have committed since. FOR NO KEY UPDATE
    conflicts with the FOR UPDATE of `author_delete`/`category_delete`: whichever runs second
    sees what the first did (a 400 here, or a 409 there), never a foreign key failing at commit.
    Authors are locked in id order, then the category.
    """
    if authors is not None:
        wanted = {author.pk for author in authors}
        found = set(
            Author.objects.select_for_update(no_key=True)
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if wanted - found:
            raise _missing("author_ids", "author", wanted - found)
    if category is not None:
        _lock_category(pk=category.pk, attr="category_id")


def _lock_category(*, pk: int, attr: str) -> None:
    if not list(Category.objects.select_for_update(no_key=True).filter(pk=pk).values_list("pk", flat=True)):
        raise _missing(attr, "category", [pk])


@transaction.atomic
def book_create(
    *, actor: User | None = None, authors: Iterable[Author] = (), stock: int = 0, stock_note: str = "", **fields: Any
) -> Book:
    """Creates a book with its authors; its opening stock is written to the ledger (reason `initial`)."""
    authors = list(authors)
    _lock_book_references(authors=authors, category=fields.get("category"))
    if not fields.get("slug"):
        fields["slug"] = book_slug(fields.get("title", ""))
    with unique_violations(ISBN_TAKEN):
        book = Book.objects.create(stock=0, **fields)  # type: ignore[misc]  # `stock` is a property with a setter, which Model.__init__ accepts; the plugin knows fields only
    book.authors.set(authors)
    if stock:
        stock_apply(changes={book.pk: stock}, reason=StockMovement.Reason.INITIAL, actor=actor, note=stock_note)
    book_search_vector_refresh(book_ids=[book.pk])
    catalog_changed()  # a new book: in the lists; it has no cached detail yet
    book.refresh_from_db(fields=["in_stock", "updated_at"])
    book.stock = stock
    return book


# Book fields the search postings carry besides the searched texts (catalog.models.SearchPosting).
POSTING_FIELDS = {"price", "category", "category_id", "format", "language", "is_active"}


@transaction.atomic
def book_update(
    *,
    book: Book,
    actor: User | None = None,
    authors: Iterable[Author] | None = None,
    stock: int | None = None,
    expected_stock: int | None = None,
    stock_note: str = "",
    **fields: Any,
) -> Book:
    """Updates a book's fields and authors; a new stock level goes through the ledger (`adjustment`).

    `expected_stock`: the level the caller saw when it chose `stock`; if sales or another edit
    moved it meanwhile, nothing is written and `StockChangedError` (409 `stock_changed`) is raised.
    The check is made under the book's row lock; the whole update is then rolled back.
    """
    authors = None if authors is None else list(authors)
    _lock_book_references(authors=authors, category=fields.get("category"))
    if "title" in fields and "slug" not in fields and not book.slug:
        fields["slug"] = book_slug(fields["title"])
    if "slug" in fields and not fields["slug"]:
        fields["slug"] = book_slug(fields.get("title", book.title))
    for name, value in fields.items():
        setattr(book, name, value)
    if fields:
        with unique_violations(ISBN_TAKEN):
            book.save(update_fields=[*fields, "updated_at"])
    if authors is not None:
        book.authors.set(authors)
    if stock is not None:
        stock_set(
            book=book,
            stock=stock,
            actor=actor,
            reason=StockMovement.Reason.ADJUSTMENT,
            note=stock_note,
            expected_stock=expected_stock,
        )
    if authors is not None or {"title", "subtitle", "publisher", "description"} & set(fields):
        book_search_vector_refresh(book_ids=[book.pk])  # and its postings
    elif POSTING_FIELDS & set(fields):
        book_postings_refresh(book_ids=[book.pk])
    if fields or authors is not None:
        catalog_changed(book_ids=[book.pk])  # a stock level alone changes a cached read only at zero (the ledger's)
    return book


@transaction.atomic
def books_withdraw(*, books: QuerySet[Book]) -> int:
    """Soft delete: the books leave the public catalog and every cart at once; orders keep referring to them.

    Each cart that held one of them is told once, by a `withdrawn` notice written here with
    the lines' removal (the cart's next answer hands it over). The books' rows are locked first,
    as checkout locks them: a checkout under way finishes with the book, a later one never sees it.
    Returns how many books were withdrawn (the API, the admin's action and its form all come here).
    """
    titles = dict(
        Book.objects.filter(pk__in=books.values("pk"), is_active=True)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "title")
    )
    if not titles:
        return 0
    catalog_changed(book_ids=titles)
    Book.objects.filter(pk__in=titles).update(is_active=False, updated_at=timezone.now())
    book_postings_refresh(book_ids=titles)  # out of the search
    _carts_drop_books(titles=titles)
    return len(titles)


def _carts_drop_books(*, titles: Mapping[int, str]) -> None:
    """Removes these books' lines from every cart, leaving each cart one `withdrawn` notice per book.

    Apps depend orders → cart → catalog: the cart's models are reached through Book's reverse
    relations (`cart_items`, `cart_notices`), not imported. Three queries whatever the number of carts.
    """
    # Typed Any: a reverse relation's model is only `type[Model]` to the catalog, which does not import cart.
    line: Any = Book._meta.get_field("cart_items").related_model
    notice: Any = Book._meta.get_field("cart_notices").related_model
    lines = line.objects.filter(book_id__in=list(titles))
    held = list(lines.values_list("cart_id", "book_id"))
    notice.objects.bulk_create(
        [
            notice(
                cart_id=cart_id,
                book_id=book_id,
                code="withdrawn",
                detail=f"“{titles[book_id]}” was withdrawn from the catalog and removed from your cart.",
            )
            for cart_id, book_id in held
        ],
        batch_size=1000,
        ignore_conflicts=True,  # already told, and not yet read: one notice
    )
    lines.delete()


@transaction.atomic
def books_restore(*, books: QuerySet[Book]) -> int:
    """Puts withdrawn books back in the catalog."""
    ids = list(books.filter(is_active=False).values_list("pk", flat=True))
    if not ids:
        return 0
    catalog_changed(book_ids=ids)
    restored = Book.objects.filter(pk__in=ids, is_active=False).update(is_active=True, updated_at=timezone.now())
    book_postings_refresh(book_ids=ids)  # back in the search
    return restored


def book_withdraw(*, book: Book) -> Book:
    books_withdraw(books=Book.objects.filter(pk=book.pk))
    book.refresh_from_db(fields=["is_active", "updated_at"])
    return book


def book_has_history(*, book: Book) -> bool:
    """Orders or stock movements refer to the book: it can be withdrawn, never deleted."""
    return book.stock_movements.exists() or book.order_lines.exists()


@transaction.atomic
def book_delete(*, book: Book) -> None:
    """Deletes a book entered by mistake (never sold nor stocked); one with history raises `InUseError`."""
    locked = Book.objects.select_for_update().filter(pk=book.pk).first()
    if locked is None:
        return
    if book_has_history(book=locked):
        raise InUseError("This book has orders or stock history; withdraw it instead.")
    catalog_changed(book_ids=[locked.pk])
    locked.delete()


COVER_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def book_set_cover(*, book: Book, image: File[bytes], image_format: str) -> Book:
    """Stores a (validated, re-encoded: `catalog.covers`) cover through the default storage; drops the previous file."""
    old_name = book.cover.name if book.cover else ""
    name = f"{book.pk}-{uuid.uuid4().hex[:12]}.{COVER_EXTENSIONS[image_format]}"
    image.seek(0)
    book.cover.save(name, image, save=False)
    book.save(update_fields=["cover", "updated_at"])
    catalog_changed(book_ids=[book.pk])
    if old_name and old_name != book.cover.name:
        book.cover.storage.delete(old_name)
    return book


MAX_SLUG_ATTEMPTS = 20


def _category_slug_free(base: str) -> str:
    """`base`, or `base-2`, `base-3`... the first that no category has (one query)."""
    return first_free(base, set(Category.objects.filter(slug__startswith=base).values_list("slug", flat=True)))


@transaction.atomic
def category_create(*, name: str, slug: str = "", parent_id: int | None = None, description: str = "") -> Category:
    """Creates a category; without a slug, one is made from the name (`poetry`, then `poetry-2`...).

    A slug the client chose and another category took meanwhile is a 400 `unique`; a slug made
    here is made again, as a later request would have got it. The parent is locked (see
    `category_delete`).
    """
    if parent_id is not None:
        _lock_category(pk=parent_id, attr="parent_id")
    fields = {"name": name, "parent_id": parent_id, "description": description}
    catalog_changed()  # the category tree the `category` filter reads
    if slug:
        with unique_violations(CATEGORY_SLUG_TAKEN):
            return Category.objects.create(slug=slug, **fields)
    base = category_slug(name)
    for _ in range(MAX_SLUG_ATTEMPTS):
        try:
            with transaction.atomic():  # a savepoint: a slug taken meanwhile leaves the transaction usable
                return Category.objects.create(slug=_category_slug_free(base), **fields)
        except IntegrityError as error:
            if not CATEGORY_SLUG_TAKEN.violated_by(error):
                raise
    raise CATEGORY_SLUG_TAKEN.error()


@transaction.atomic
def category_update(*, category: Category, **fields: Any) -> Category:
    """Changes a category's fields; a new parent must exist and not be the category or below it.

    A move locks every category, in id order, and checks the tree under that lock: two moves at
    once (A under B, B under A; or longer loops) run one after the other, so the second sees
    the first and is refused. Categories are few; other writes lock one row at most.
    """
    parent_id = fields.get("parent_id")
    if parent_id is not None and parent_id != category.parent_id:
        parents: dict[int, int | None] = dict(
            Category.objects.select_for_update().order_by("pk").values_list("pk", "parent_id")
        )
        if parent_id not in parents:
            raise _missing("parent_id", "category", [parent_id])
        if category.parent_would_cycle(parent_id, parents=parents):
            raise CategoryCycleError()
    for name, value in fields.items():
        setattr(category, name, value)
    if fields:
        with unique_violations(CATEGORY_SLUG_TAKEN):
            category.save(update_fields=[*fields, "updated_at"])
    if {"name", "slug"} & set(fields):  # shown on its books; the slug also selects lists
        catalog_changed(book_ids=category.books.values_list("pk", flat=True))
    elif {"parent", "parent_id"} & set(fields):  # the subtrees the `category` filter takes
        catalog_changed()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Deletes a category that has neither books (even withdrawn ones) nor sub-categories.

    The row is locked FOR UPDATE first: a book or sub-category being attached to it holds a
    weaker lock on it (`_lock_category`), so one waits for the other and sees its result.
    """
    if not list(Category.objects.select_for_update().filter(pk=category.pk).values_list("pk", flat=True)):
        return  # deleted meanwhile: what the caller wanted
    if category.books.exists():
        raise InUseError("This category still has books; move or delete them first.")
    if category.children.exists():
        raise InUseError("This category still has sub-categories; move or delete them first.")
    catalog_changed()  # the category tree
    category.delete()


def author_create(*, name: str, bio: str = "") -> Author:
    """Adds an author (the API's POST authors and the admin's add form)."""
    return Author.objects.create(name=name, bio=bio)


@transaction.atomic
def author_update(*, author: Author, **fields: Any) -> Author:
    """Changes an author; a name given is written into their books' search columns.

    (Whether it differs from the stored one cannot be told from `author`: the admin's form has
    already set it on the instance.)"""
    renamed = "name" in fields
    for name, value in fields.items():
        setattr(author, name, value)
    if fields:
        author.save(update_fields=[*fields, "updated_at"])
    if renamed:
        author_books_search_refresh(author_ids=[author.pk])
        catalog_changed(book_ids=author.books.values_list("pk", flat=True))  # the bio is shown on no book
    return author


@transaction.atomic
def author_delete(*, author: Author) -> None:
    """Deletes an author who has no books (even withdrawn ones); locked first, like `category_delete`."""
    if not list(Author.objects.select_for_update().filter(pk=author.pk).values_list("pk", flat=True)):
        return
    if author.books.exists():
        raise InUseError("This author still has books; remove them from the books first.")
    author.delete()


@transaction.atomic
def review_create(*, book: Book, user: User, rating: int, title: str = "", body: str = "") -> Review:
    """One review per user and book: a second, even one sent at the same moment, is a 400 `unique`."""
    with unique_violations(REVIEW_TAKEN):
        review = Review.objects.create(book=book, user=user, rating=rating, title=title, body=body)
    catalog_changed(book_ids=[book.pk])  # its ratings
    book_postings_refresh(book_ids=[book.pk])  # the rating the search ranks and counts by
    return review


def review_update(*, review: Review, **fields: Any) -> Review:
    """Changes a review's rating, title or body (its author or staff)."""
    for name, value in fields.items():
        setattr(review, name, value)
    if fields:
        review.save(update_fields=[*fields, "updated_at"])
    if {"rating", "status"} & set(fields):  # the book's ratings (a title or body is shown on no book read)
        catalog_changed(book_ids=[review.book_id])
        book_postings_refresh(book_ids=[review.book_id])
    return review


def review_delete(*, review: Review) -> None:
    catalog_changed(book_ids=[review.book_id])
    review.delete()
    book_postings_refresh(book_ids=[review.book_id])


@transaction.atomic
def reviews_remove(*, reviews: QuerySet[Review]) -> int:
    """Removes reviews (the admin's action against abusive ones); returns how many."""
    rows = list(reviews.values_list("pk", "book_id"))
    catalog_changed(book_ids=[book_id for _, book_id in rows])
    count, _ = Review.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    book_postings_refresh(book_ids=[book_id for _, book_id in rows])
    return count


REPORTS_HIDDEN_REASON = "Reported by {n} customers; waiting for a decision."


@transaction.atomic
def review_report(*, review: Review, user: User, reason: str) -> ReviewReport:
    """A customer reports a review, once (a second report, even one sent at the same moment, is
    409 `already_reported`). The review's row is locked, so reports counted at once are counted
    one after the other: the `REVIEW_REPORTS_TO_HIDE`-th open report from different customers hides it.
    """
    locked = Review.objects.select_for_update().only("id", "status").get(pk=review.pk)
    if ReviewReport.objects.filter(review=locked, user=user).exists():
        raise AlreadyReportedError()
    report = ReviewReport.objects.create(review=locked, user=user, reason=reason)
    open_reports = ReviewReport.objects.filter(review=locked, resolved_at__isnull=True).count()
    if locked.status == Review.Status.PUBLISHED and open_reports >= settings.REVIEW_REPORTS_TO_HIDE:
        _reviews_set_status(
            ids=[locked.pk], status=Review.Status.HIDDEN, reason=REPORTS_HIDDEN_REASON.format(n=open_reports)
        )
    return report


def _reviews_set_status(*, ids: list[int], status: str, reason: str) -> int:
    book_ids = list(Review.objects.filter(pk__in=ids).values_list("book_id", flat=True))
    catalog_changed(book_ids=book_ids)  # ratings
    count = Review.objects.filter(pk__in=ids).update(status=status, hidden_reason=reason, updated_at=timezone.now())
    book_postings_refresh(book_ids=book_ids)
    return count


@transaction.atomic
def reviews_hide(*, reviews: QuerySet[Review], reason: str) -> int:
    """Staff hide reviews, with a reason; their open reports are decided. Returns how many."""
    if not reason.strip():
        raise DomainError("Say why the reviews are hidden.", attr="reason")
    ids = list(reviews.values_list("pk", flat=True))
    ReviewReport.objects.filter(review_id__in=ids, resolved_at__isnull=True).update(resolved_at=timezone.now())
    return _reviews_set_status(ids=ids, status=Review.Status.HIDDEN, reason=reason.strip())


@transaction.atomic
def reviews_restore(*, reviews: QuerySet[Review]) -> int:
    """Staff publish reviews again (reported ones they found fine); their open reports are decided."""
    ids = list(reviews.values_list("pk", flat=True))
    ReviewReport.objects.filter(review_id__in=ids, resolved_at__isnull=True).update(resolved_at=timezone.now())
    return _reviews_set_status(ids=ids, status=Review.Status.PUBLISHED, reason="")
