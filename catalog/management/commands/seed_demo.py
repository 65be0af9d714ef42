"""manage.py seed_demo — a believable demo catalog, generated locally, deterministic and idempotent."""

import datetime
import logging
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from catalog import demo
from catalog.isbn import isbn13_check_digit
from catalog.models import Author, Book, Category, Review, StockMovement
from catalog.search_index import book_search_vector_refresh
from catalog.services import book_set_cover
from catalog.slugs import book_slug, category_slug
from catalog.stock import stock_record_opening
from shipping.demo import seed_shipping_and_tax

STAFF = ("staff@bookstore.local", "staff-demo-pass-2026")
CUSTOMER = ("reader@bookstore.local", "reader-demo-pass-2026")
BOOK_COUNT = 300
SEED = 20261122

CATEGORIES = {
    "Fiction": ["Fantasy", "Science Fiction", "Mystery & Crime", "Romance", "Historical Fiction", "Literary Fiction"],
    "Non-fiction": ["History", "Popular Science", "Biography", "Travel", "Philosophy"],
    "Food & Drink": ["Baking", "World Cuisine"],
    "Children": ["Picture Books", "Young Adult"],
    "Computing": ["Programming", "Databases", "Networks & Security"],
}
FIRST = [
    "Ada",
    "Amara",
    "Bruno",
    "Clara",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nikolai",
    "Olu",
    "Priya",
    "Quentin",
    "Rosa",
    "Samir",
    "Tove",
    "Umberto",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zora",
]
LAST = [
    "Abara",
    "Berg",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Haddad",
    "Ibsen",
    "Jovanovic",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrova",
    "Quiroga",
    "Rossi",
    "Silva",
    "Tanaka",
    "Urquhart",
    "Vance",
    "Whitfield",
    "Yilmaz",
    "Zhang",
]
# How many of the books each category holds (fiction is most of a bookshop's stock); and the
# languages of the categories that have books in others than English.
CATEGORY_WEIGHTS = {"Fiction": 5, "Non-fiction": 3, "Food & Drink": 3, "Children": 3, "Computing": 3}
LANGUAGE_WEIGHTS = {"en": 80, "fr": 6, "de": 6, "es": 5, "it": 3}
PUBLISHERS = ["Harbour House", "Northwind Press", "Lantern Books", "Blue Fern", "Quayside", "Meridian & Co."]
REVIEW_TITLES = {
    1: ["Not for me", "Disappointing"],
    2: ["Had its moments", "Uneven"],
    3: ["Decent read", "Fine, not great"],
    4: ["Really enjoyed it", "Recommended"],
    5: ["A new favourite", "Wonderful", "Could not put it down"],
}
REVIEWER_COUNT = 40
ORDER_DAYS = 28
ORDER_CUSTOMERS = 8  # the demo customer and the first reviewers (who cannot log in) place the demo orders
CARRIERS = ["Royal Mail", "DPD", "DHL", "UPS"]
CITIES = [("London", "SW1Y 4JH"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 5TR"), ("York", "YO1 7HH")]


class Command(BaseCommand):
    help = (
        "Fill an empty store with a demo catalog (categories, authors, ~300 books, reviews) and two accounts: "
        f"staff {STAFF[0]} and customer {CUSTOMER[0]}, then four weeks of demo orders in every status. "
        "Deterministic; the catalog is skipped when books exist, the orders when the demo customer has some."
    )

    def handle(self, *args, **options):
        created_users = self._ensure_accounts()
        if Book.objects.exists():
            self.stdout.write("The catalog already has books: demo data already seeded, nothing changed.")
        else:
            with transaction.atomic():
                counts = self._seed(random.Random(SEED))  # noqa: S311 (deterministic demo data)
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo catalog created: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + "."
                )
            )
        shipping = seed_shipping_and_tax()
        self.stdout.write("Shipping and tax: " + ", ".join(f"{n} {what} created" for what, n in shipping.items()) + ".")
        self._seed_orders_once()
        if created_users:
            self.stdout.write(f"Created account(s): {', '.join(created_users)}.")
        self.stdout.write(f"Staff (admin at /admin/): {STAFF[0]} / {STAFF[1]}")
        self.stdout.write(f"Customer: {CUSTOMER[0]} / {CUSTOMER[1]}")

    def _seed_orders_once(self) -> None:
        from orders.models import Order

        User = get_user_model()
        customer = User.objects.get(email=CUSTOMER[0])
        demo_catalog = User.objects.filter(email__endswith="@demo.bookstore.local").exists()
        if Order.objects.filter(user=customer).exists() or not demo_catalog:
            self.stdout.write("Demo orders: already placed (or not the demo catalog), nothing changed.")
            return
        # the moves' emails (shipped, refunded) are not sent to anyone: the demo customers are made up
        tasks_log = logging.getLogger("django_tasks")
        was_disabled, tasks_log.disabled = tasks_log.disabled, True  # one line per email task otherwise
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
                by_status = _seed_orders(random.Random(SEED + 1), customer=customer)  # noqa: S311 (deterministic)
        finally:
            tasks_log.disabled = was_disabled
        self.stdout.write(
            self.style.SUCCESS(
                "Demo orders placed: " + ", ".join(f"{n} {status}" for status, n in by_status.items()) + "."
            )
        )

    def _ensure_accounts(self) -> list[str]:
        User = get_user_model()
        created = []
        if not User.objects.filter(email=STAFF[0]).exists():
            User.objects.create_superuser(email=STAFF[0], password=STAFF[1], first_name="Demo", last_name="Staff")
            created.append(STAFF[0])
        if not User.objects.filter(email=CUSTOMER[0]).exists():
            User.objects.create_user(
                email=CUSTOMER[0], password=CUSTOMER[1], first_name="Robin", last_name="Reader", is_email_verified=True
            )
            created.append(CUSTOMER[0])
        return created

    def _seed(self, rng: random.Random) -> dict[str, int]:
        leaves = []
        for parent_name, children in CATEGORIES.items():
            parent = Category.objects.create(
                name=parent_name, slug=category_slug(parent_name), description=f"All {parent_name.lower()}."
            )
            for name in children:
                leaves.append(
                    Category.objects.create(name=name, slug=category_slug(f"{parent_name} {name}"), parent=parent)
                )

        names = sorted({f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(200)})[:120]
        authors = Author.objects.bulk_create(
            [
                Author(
                    name=name,
                    bio=f"{name} writes from {rng.choice(['Lisbon', 'Oslo', 'Lagos', 'Kyoto', 'Montreal', 'Leeds'])}.",
                )
                for name in names
            ]
        )

        books = []
        # ISBNs in no visible sequence, from their own seeded stream (the rest of the catalog draws as before)
        isbn_rng = random.Random(SEED + 2)  # noqa: S311 (deterministic demo data)
        bodies = [f"9789{n:08d}" for n in isbn_rng.sample(range(10**8), BOOK_COUNT)]
        weights = [CATEGORY_WEIGHTS[leaf.parent.name] for leaf in leaves]  # type: ignore[union-attr]  # leaves have parents
        unused: dict[tuple[str, str], list[str]] = {}  # the titles not yet given, per pool
        for i in range(BOOK_COUNT):
            leaf, language, title = _next_title(rng, leaves, weights, unused)
            shelf = demo.SHELVES[leaf.name]
            book_format = rng.choices(list(Book.Format.values), weights=[55, 25, 15, 5])[0]
            if leaf.name == "Picture Books":  # read aloud from paper
                book_format = rng.choice([Book.Format.HARDCOVER, Book.Format.PAPERBACK])
            body = bodies[i]
            books.append(
                Book(  # type: ignore[misc]  # `stock` is a property with a setter, which Model.__init__ accepts; the plugin knows fields only
                    isbn=body + isbn13_check_digit(body),
                    title=title,
                    subtitle=rng.choice(demo.subtitle_pool(leaf.name, language)),
                    slug=book_slug(title),
                    category=leaf,
                    publisher=rng.choice(PUBLISHERS),
                    published_date=datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 27000)),
                    language=language,
                    # an audiobook has a running time, not pages
                    page_count=None if book_format == Book.Format.AUDIOBOOK else rng.randrange(*shelf.pages),
                    format=book_format,
                    description=demo.blurb(leaf.name, language, rng.choice(shelf.blurbs)),
                    price=Decimal(f"{rng.randrange(shelf.prices[0], shelf.prices[1] + 1) - 1}.99"),
                    stock=rng.choice([0, 0, 2, 3, 5, 8, 12, 20, 35, 60]),
                )
            )
        books = Book.objects.bulk_create(books)
        stock_record_opening(
            levels={book.pk: book.stock for book in books}, reason=StockMovement.Reason.INITIAL, note="demo seed"
        )

        through = Book.authors.through
        written_by = {book.pk: rng.sample(authors, rng.choice([1, 1, 1, 2, 3])) for book in books}
        through.objects.bulk_create(
            [through(book_id=book_id, author_id=author.pk) for book_id, by in written_by.items() for author in by]
        )
        # A cover for every book, stored as an uploaded one is (the same service and storage).
        for book in books:
            byline = " & ".join(author.name for author in written_by[book.pk])
            png = demo.cover_png(title=book.title, author=byline, section=book.category.parent.name)  # type: ignore[union-attr]  # leaves have parents
            book_set_cover(book=book, image=ContentFile(png), image_format="PNG")

        User = get_user_model()
        reviewers = User.objects.bulk_create(
            [
                User(
                    email=f"reviewer{n}@demo.bookstore.local",
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    password="!",
                )
                for n in range(1, REVIEWER_COUNT + 1)
            ]
        )  # "!" is an unusable password: these accounts cannot log in
        reviews = []
        for book in books:
            for user in rng.sample(reviewers, rng.choice([0, 0, 1, 2, 3, 5])):
                rating = rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 6, 5])[0]
                reviews.append(
                    Review(
                        book=book,
                        user=user,
                        rating=rating,
                        title=rng.choice(REVIEW_TITLES[rating]),
                        body="Read it in one weekend.",
                    )
                )
        Review.objects.bulk_create(reviews)
        book_search_vector_refresh()
        return {
            "categories": Category.objects.count(),
            "authors": len(authors),
            "books": len(books),
            "covers": len(books),
            "reviews": len(reviews),
        }


def _next_title(
    rng: random.Random, leaves: list[Category], weights: list[int], unused: dict[tuple[str, str], list[str]]
) -> tuple[Category, str, str]:
    """A category, a language and a title no book has yet, from that category's and language's pool
    (the pools of books in other languages are shared by the categories of their kind)."""
    while True:
        leaf = rng.choices(leaves, weights=weights)[0]
        shelf = demo.SHELVES[leaf.name]
        languages = list(shelf.languages)
        language = rng.choices(languages, weights=[LANGUAGE_WEIGHTS[code] for code in languages])[0]
        key = (leaf.name, language) if language == demo.ENGLISH else (shelf.kind, language)
        if key not in unused:
            unused[key] = demo.title_pool(leaf.name, language)
            rng.shuffle(unused[key])
        if unused[key]:
            return leaf, language, unused[key].pop()


def _seed_orders(rng: random.Random, *, customer) -> dict[str, int]:
    """A few weeks of orders in every status, placed and moved through the real services (stock, ledger,
    payments), then dated back over the last ORDER_DAYS days."""
    from cart.services import cart_add_item
    from orders import services as orders_services
    from orders.models import Order, OrderLine, OrderStatusChange
    from payments import services as payments_services
    from payments.models import Payment

    User = get_user_model()
    staff = User.objects.get(email=STAFF[0])
    customers = [customer, *User.objects.filter(email__endswith="@demo.bookstore.local").order_by("email")][
        :ORDER_CUSTOMERS
    ]
    books = list(Book.objects.filter(stock_record__quantity__gte=8).order_by("isbn"))
    now = timezone.now()
    by_status: dict[str, int] = {status: 0 for status in Order.Status.values}
    refunded = 0
    for days_back in range(ORDER_DAYS, -1, -1):
        for _ in range(rng.choice([1, 2, 2, 3])):
            user = rng.choice(customers)
            for book in rng.sample(books, rng.choice([1, 1, 2, 3])):
                cart_add_item(user=user, book_id=book.pk, quantity=rng.choice([1, 1, 1, 2]))
            city, postcode = rng.choice(CITIES)
            address = {
                "full_name": user.get_full_name() or "Demo Reader",
                "line1": f"{rng.randrange(1, 120)} High Street",
                "line2": "",
                "city": city,
                "region": "",
                "postal_code": postcode,
                "country": "GB",
                "phone": "",
            }
            order = orders_services.order_place(user=user, address=address, confirm=False)
            payments_services.payment_start(order=order, method=Payment.Method.MANUAL, actor=user)
            # older orders have moved further along; the last days' are still pending or paid
            if days_back <= 3:
                target = rng.choice(["pending", "pending", "paid"])
            elif days_back <= 6:
                target = rng.choice(["pending", "paid", "paid", "shipped", "cancelled"])
            else:
                target = rng.choices(["delivered", "shipped", "cancelled", "paid"], weights=[70, 10, 12, 8])[0]
            if target == "cancelled":
                order = payments_services.order_cancel(order=order, actor=staff, note="Customer changed their mind.")
            elif target != "pending":
                order = payments_services.order_mark_paid(order=order, actor=staff, note="Bank transfer received.")
                if target in ("shipped", "delivered"):
                    order = orders_services.order_ship(
                        order=order,
                        actor=staff,
                        carrier=rng.choice(CARRIERS),
                        tracking_number=f"DM{rng.randrange(10**9, 10**10)}GB",
                    )
                if target == "delivered":
                    order = orders_services.order_set_status(order=order, status=Order.Status.DELIVERED, actor=staff)
                    if not refunded and days_back > 14:
                        line = OrderLine.objects.filter(order=order).order_by("pk").first()
                        assert line is not None  # every demo order has lines
                        payments_services.refund_create(
                            order=order,
                            actor=staff,
                            reason="Arrived damaged.",
                            lines=[{"book_id": line.book_id, "quantity": line.quantity, "restock": True}],
                        )
                        refunded += 1
            placed_at = now - datetime.timedelta(days=days_back, hours=rng.randrange(0, 10), minutes=rng.randrange(60))
            Order.objects.filter(pk=order.pk).update(created_at=placed_at)
            for step, change in enumerate(OrderStatusChange.objects.filter(order=order).order_by("pk")):
                OrderStatusChange.objects.filter(pk=change.pk).update(
                    at=min(placed_at + datetime.timedelta(days=step, minutes=5), now)
                )
            by_status[order.status] += 1
    by_status["refunded"] = refunded
    return by_status
