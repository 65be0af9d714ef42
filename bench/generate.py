"""Fills a freshly migrated PostgreSQL database with a realistic catalog, in SQL (INSERT … SELECT generate_series).

Nothing goes through the ORM: 100,000 books take seconds, 1,000,000 about a minute.
Deterministic (setseed), so two runs of the bench see the same data.
"""

import time

import psycopg

WORDS = [
    "shadow",
    "river",
    "garden",
    "night",
    "winter",
    "summer",
    "silent",
    "empire",
    "stone",
    "glass",
    "fire",
    "ocean",
    "mountain",
    "forest",
    "city",
    "secret",
    "memory",
    "dream",
    "journey",
    "island",
    "storm",
    "light",
    "dark",
    "golden",
    "silver",
    "broken",
    "hidden",
    "lost",
    "last",
    "first",
    "house",
    "road",
    "kingdom",
    "war",
    "peace",
    "love",
    "death",
    "life",
    "history",
    "science",
    "mind",
    "machine",
    "world",
    "star",
    "moon",
    "sun",
    "heart",
    "blood",
    "iron",
    "paper",
    "letter",
    "song",
    "story",
    "tale",
    "book",
    "voice",
    "time",
    "girl",
    "boy",
    "king",
    "queen",
    "wolf",
    "raven",
    "dragon",
    "castle",
    "bridge",
    "tower",
    "market",
    "harbor",
    "station",
    "library",
    "museum",
    "theory",
    "practice",
    "guide",
    "art",
    "craft",
    "cooking",
    "python",
    "django",
    "data",
    "design",
    "music",
    "painting",
    "travel",
    "mystery",
    "murder",
    "detective",
    "spy",
    "code",
    "empire",
    "revolution",
    "economics",
    "philosophy",
    "ethics",
    "nature",
    "animal",
    "bird",
    "tree",
    "flower",
    "seed",
    "harvest",
    "bread",
    "wine",
    "salt",
]
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Karin",
    "Leo",
    "Maria",
    "Nora",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Simon",
    "Tara",
]
LAST = [
    "Smith",
    "Jones",
    "Miller",
    "Brown",
    "Garcia",
    "Martin",
    "Rossi",
    "Novak",
    "Dubois",
    "Schmidt",
    "Larsen",
    "Silva",
    "Kowalski",
    "Tanaka",
    "Kim",
    "Ivanova",
    "Okafor",
    "Haddad",
    "Nguyen",
    "Berg",
    "Costa",
    "Moreau",
    "Weber",
    "Fischer",
    "Nilsson",
    "Popescu",
    "Horvat",
    "Jensen",
    "Meyer",
    "Ortiz",
]
FORMATS = ["paperback", "hardcover", "ebook", "audiobook"]
LANGUAGES = ["en", "en", "en", "en", "fr", "de", "es", "it"]
# The bench's users share one unusable password: they authenticate with JWTs minted by the bench.
UNUSABLE_PASSWORD = "!bench"


def _arr(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate(
    dsn: str,
    *,
    books: int = 100_000,
    authors: int = 10_000,
    categories: int = 500,
    users: int = 20_000,
    reviews: int = 200_000,
    orders_users: int = 2_000,
    log=print,
) -> dict:
    words, first, last = _arr(WORDS), _arr(FIRST), _arr(LAST)
    n_words = len(WORDS)
    steps = [
        (
            "users",
            f"""INSERT INTO accounts_user (id, password, is_superuser, email, first_name, last_name, is_staff,
                                           is_active, is_email_verified, date_joined)
                SELECT i, '{UNUSABLE_PASSWORD}', false, 'user' || i || '@bench.local',
                       ({first})[1 + i % {len(FIRST)}], ({last})[1 + (i / 7) % {len(LAST)}],
                       false, true, true, now() - (i || ' minutes')::interval
                FROM generate_series(1, {users}) i""",
        ),
        (
            "authors",
            f"""INSERT INTO catalog_author (id, name, bio, created_at, updated_at)
                SELECT i, ({first})[1 + (i * 7) % {len(FIRST)}] || ' ' || ({last})[1 + (i * 13) % {len(LAST)}]
                          || ' ' || substr(md5(i::text), 1, 5),
                       'Writes books.', now(), now()
                FROM generate_series(1, {authors}) i""",
        ),
        # 20 roots, each parent of the next ones: a tree about four levels deep.
        (
            "categories",
            f"""INSERT INTO catalog_category (id, name, slug, description, created_at, updated_at, parent_id)
                SELECT i, initcap(({words})[1 + i % {n_words}]) || ' ' || i, 'cat-' || i, '', now(), now(),
                       CASE WHEN i <= 20 THEN NULL ELSE 1 + (i * 37) % (i - 1) END
                FROM generate_series(1, {categories}) i""",
        ),
        (
            "books",
            f"""INSERT INTO catalog_book (id, isbn, title, subtitle, slug, publisher, published_date, language,
                                          page_count, format, description, price, in_stock, cover, is_active,
                                          created_at, updated_at, category_id, popularity)
                SELECT i, '978' || lpad(i::text, 10, '0'),
                       initcap(({words})[1 + floor(random() * {n_words})::int] || ' '
                               || ({words})[1 + floor(random() * {n_words})::int] || ' '
                               || ({words})[1 + floor(random() * {n_words})::int]),
                       CASE WHEN random() < 0.3 THEN 'A novel' ELSE '' END,
                       'book-' || i, 'Bench Press', date '1950-01-01' + (random() * 27000)::int,
                       ({_arr(LANGUAGES)})[1 + floor(random() * {len(LANGUAGES)})::int],
                       50 + (random() * 900)::int,
                       ({_arr(FORMATS)})[1 + floor(random() * 4)::int],
                       repeat('A long description of the book. ', 20),
                       round((3 + random() * 60)::numeric, 2),
                       i % 10 <> 0,
                       '', i % 100 <> 55,
                       now() - ((({books} - i) * 3) || ' minutes')::interval, now(),
                       1 + floor(random() * {categories})::int,
                       floor(random() * random() * random() * 300)::int
                FROM generate_series(1, {books}) i""",
        ),
        (
            "stock",
            """INSERT INTO catalog_stock (book_id, quantity)
                SELECT id, CASE WHEN in_stock THEN 200 + (random() * 800)::int ELSE 0 END FROM catalog_book""",
        ),
        (
            "book authors",
            f"""INSERT INTO catalog_book_authors (book_id, author_id)
                SELECT DISTINCT b, 1 + ((b::bigint * 7919 + k * 104729) % {authors})
                FROM generate_series(1, {books}) b, generate_series(0, 2) k
                WHERE k = 0 OR (k = 1 AND b % 3 = 0) OR (k = 2 AND b % 10 = 0)""",
        ),
        (
            "reviews",
            f"""INSERT INTO catalog_review (rating, title, body, status, hidden_reason, created_at, updated_at,
                                        book_id, user_id)
                SELECT 1 + (random() * 4)::int, 'Review', 'Worth reading.', 'published', '', now(), now(), b, u
                FROM (SELECT DISTINCT 1 + (i * 7) % {books} AS b, 1 + (i * 13 + i / {books}) % {users} AS u
                      FROM generate_series(1, {reviews}) i) pairs""",
        ),
        (
            "carts",
            f"""INSERT INTO cart_cart (created_at, updated_at, user_id)
                SELECT now(), now(), i FROM generate_series(1, {users}) i""",
        ),
        # Order history: five orders of two lines each for the first users, for the order list.
        (
            "orders",
            f"""INSERT INTO orders_order (id, number, status, subtotal, shipping_cost, total, currency,
                    shipping_full_name, shipping_line1, shipping_line2, shipping_city, shipping_region,
                    shipping_postal_code, shipping_country, shipping_phone, idempotency_key, request_fingerprint,
                    created_at, updated_at, user_id, email, prices_include_tax, shipping_method_code,
                    shipping_method_name, shipping_tax_amount, shipping_tax_rate, tax_total,
                    carrier, tracking_number, tracking_url)
                SELECT o, 'BK-B' || lpad(o::text, 9, '0'), 'delivered', 40.00, 0.00, 40.00, 'USD',
                       'Bench User', '1 Bench Street', '', 'Benchville', '', '12345', 'US', '', '', '',
                       now() - (o || ' hours')::interval, now(), 1 + (o - 1) / 5,
                       'user' || (1 + (o - 1) / 5) || '@bench.local', false, 'standard', 'Standard', 0, 0, 0,
                       '', '', ''
                FROM generate_series(1, {orders_users * 5}) o""",
        ),
        (
            "order lines",
            f"""INSERT INTO orders_orderline (title, isbn, unit_price, quantity, line_total, book_id, order_id,
                                              tax_amount, tax_rate)
                SELECT 'A book', '978' || lpad((1 + (o * 31 + k) % {books})::text, 10, '0'), 20.00, 1, 20.00,
                       1 + (o * 31 + k) % {books}, o, 0, 0
                FROM generate_series(1, {orders_users * 5}) o, generate_series(0, 1) k""",
        ),
        (
            "order history",
            f"""INSERT INTO orders_orderstatuschange (status, at, note, actor_id, order_id)
                SELECT s, now(), '', NULL, o
                FROM generate_series(1, {orders_users * 5}) o, unnest(ARRAY['pending', 'paid', 'delivered']) s""",
        ),
    ]
    counts = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        for name, sql in steps:
            started = time.monotonic()
            cursor = conn.execute(sql)
            counts[name] = cursor.rowcount
            log(f"  {name}: {cursor.rowcount:,} rows in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        for table in (
            "accounts_user",
            "catalog_author",
            "catalog_category",
            "catalog_book",
            "catalog_review",
            "cart_cart",
            "cart_cartitem",
            "orders_order",
            "orders_orderline",
            "orders_orderstatuschange",
            "catalog_book_authors",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
            )
        log(f"  sequences in {time.monotonic() - started:.1f} s")
    return counts


def refresh_search_vectors(log=print) -> None:
    """The project's own refresh (one UPDATE for every book); needs Django set up on the bench database.

    The books' GIN index on the vectors is dropped for the UPDATE and built again after it, from
    its own definition read back from the catalog: one bulk build instead of an index insertion
    per book (100,000 books: 29 s -> 18 s).
    """
    from django.db import connection

    from catalog.search_index import book_search_vector_refresh

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'catalog_book' AND indexdef LIKE '%USING gin (search_vector)%'"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    book_search_vector_refresh(book_ids=None)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")  # this session only: the bulk build
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    log(f"  search vectors in {time.monotonic() - started:.1f} s (index {', '.join(n for n, _ in indexes) or 'none'})")


def analyze(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (FREEZE, ANALYZE)")


def fill_carts(dsn: str, *, first_user: int, last_user: int, books: int, lines: int = 3) -> None:
    """Gives each of these users a cart of `lines` in-stock books (checkout's fuel); replaces what was there."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM cart_cartitem USING cart_cart c WHERE cart_id = c.id AND c.user_id BETWEEN %s AND %s",
            (first_user, last_user),
        )
        conn.execute(
            f"""INSERT INTO cart_cartitem (quantity, created_at, updated_at, book_id, cart_id)
                SELECT 1, now(), now(), b.id, c.id
                FROM cart_cart c
                CROSS JOIN generate_series(0, {lines - 1}) k
                JOIN catalog_book b ON b.id = 1 + (c.user_id * 7 + k * 9973) %% {books}
                WHERE c.user_id BETWEEN %s AND %s""",
            (first_user, last_user),
        )
        # Enough copies for every checkout the bench can make of them.
        conn.execute(
            """UPDATE catalog_book SET in_stock = true, is_active = true
               WHERE id IN (SELECT book_id FROM cart_cartitem i JOIN cart_cart c ON c.id = i.cart_id
                            WHERE c.user_id BETWEEN %s AND %s) AND NOT (in_stock AND is_active)""",
            (first_user, last_user),
        )
        conn.execute(
            """UPDATE catalog_stock SET quantity = 100000
               WHERE book_id IN (SELECT book_id FROM cart_cartitem i JOIN cart_cart c ON c.id = i.cart_id
                                 WHERE c.user_id BETWEEN %s AND %s)""",
            (first_user, last_user),
        )
        conn.execute("ANALYZE cart_cartitem")  # as autovacuum would: the planner sees carts of a few lines
