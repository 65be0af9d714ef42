"""The bench's baseline: a bare WSGI app doing the store's SQL with psycopg and answering the same JSON.

No framework, no ORM, no middleware: one persistent connection per worker thread, hand-written
SQL shaped like the queries Django runs, `json.dumps` with DRF's compact separators. It
authenticates with the same JWTs (HS256 signature and expiry checked, no user row read) and
does the same transactions for the cart and checkout (the confirmation email's task row
included). Serve it with the store's gunicorn settings: `gunicorn bench.bare:app -c gunicorn.conf.py`.
Every response carries `X-Queries` (statements run), which the bench reports next to the store's counts.
"""

import json
import os
import re
import secrets
import threading
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import parse_qs

import jwt
import psycopg
from psycopg.types.json import Jsonb

CENT = Decimal("0.01")
# Per thread, as Django keeps its connections: under gthread workers, threads never share a
# connection (nor a transaction), and each request's statements are counted apart.
_local = threading.local()

BOOK_COLUMNS = """b.id, b.isbn, b.title, b.subtitle, b.slug, b.publisher, b.published_date, b.language,
    b.page_count, b.format, {description} b.price, s.quantity, b.cover, b.created_at, b.updated_at,
    c.id, c.name, c.slug,
    (SELECT avg(r.rating) FROM catalog_review r WHERE r.book_id = b.id GROUP BY r.book_id LIMIT 1),
    coalesce((SELECT count(r.id) FROM catalog_review r WHERE r.book_id = b.id GROUP BY r.book_id LIMIT 1), 0)"""
BOOK_FROM = (
    "FROM catalog_book b JOIN catalog_stock s ON s.book_id = b.id LEFT JOIN catalog_category c ON c.id = b.category_id"
)
# A simpler search than the store's (exact words only: no typo lookup, prefix or relaxing), so
# the bare app is a lower bound for the searches, not their byte-for-byte twin.
SEARCH_MATCH = "b.search_vector @@ plainto_tsquery('simple', catalog_search_words(%(q)s))"
SEARCH_ORDER = """ts_rank('{0.1,0.2,0.6,1.0}', b.search_vector, plainto_tsquery('simple', catalog_search_words(%(q)s)))
    DESC, b.popularity DESC, b.created_at DESC, b.id DESC"""


def db():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        # The store's session settings (bookstore/settings.py), plus Django's UTC time zone.
        options = "-c timezone=UTC -c jit=off"
        conn = _local.conn = psycopg.connect(os.environ["BARE_DSN"], autocommit=True, options=options)
    return conn


def q(sql, params=None):
    _local.queries += 1
    return db().execute(sql, params)


def iso(value):
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    return value


def money(value) -> str:
    return str(Decimal(value).quantize(CENT))


def rating(value):
    if value is None:
        return None
    return float(Decimal(str(float(value))).quantize(CENT, rounding=ROUND_HALF_EVEN))


def book_json(row, authors, *, description=False) -> dict:
    row = list(row)
    desc = row.pop(10) if description else None
    (pk, isbn, title, subtitle, slug, publisher, published, language, pages, fmt, price, stock, cover, created,
     updated, cat_id, cat_name, cat_slug, avg, count) = row  # fmt: skip
    book = {
        "id": pk,
        "isbn": isbn,
        "title": title,
        "subtitle": subtitle,
        "slug": slug,
        "authors": authors.get(pk, []),
        "category": None if cat_id is None else {"id": cat_id, "name": cat_name, "slug": cat_slug},
        "publisher": publisher,
        "published_date": iso(published),
        "language": language,
        "page_count": pages,
        "format": fmt,
    }
    if description:
        book["description"] = desc
    book.update(
        {
            "price": money(price),
            "currency": "USD",
            "stock": stock,
            "in_stock": stock > 0,
            "cover_url": None if not cover else "/media/" + cover,
            "average_rating": rating(avg),
            "review_count": count,
            "created_at": iso(created),
            "updated_at": iso(updated),
        }
    )
    return book


def authors_of(ids) -> dict:
    found: dict = {}
    if not ids:
        return found
    rows = q(
        """SELECT ba.book_id, a.id, a.name FROM catalog_author a
           JOIN catalog_book_authors ba ON ba.author_id = a.id WHERE ba.book_id = ANY(%s) ORDER BY a.name, a.id""",
        (list(ids),),
    )
    for book_id, pk, name in rows:
        found.setdefault(book_id, []).append({"id": pk, "name": name})
    return found


def subtree(id_or_slug) -> list[int]:
    children: dict = {}
    stack = []
    for pk, parent, slug in q("SELECT id, parent_id, slug FROM catalog_category ORDER BY name, id"):
        children.setdefault(parent, []).append(pk)
        if pk == id_or_slug or slug == id_or_slug:
            stack.append(pk)
    found = set()
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return list(found)


def page_links(environ, params, page, pages) -> tuple:
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}"

    def link(number):
        if number < 1 or number > pages:
            return None
        query = {k: v[0] for k, v in params.items()}
        if number == 1:
            query.pop("page", None)
        else:
            query["page"] = str(number)
        from urllib.parse import urlencode

        return base + ("?" + urlencode(sorted(query.items())) if query else "")

    return link(page + 1), link(page - 1)


def book_list(environ):
    params = parse_qs(environ.get("QUERY_STRING", ""))
    where, args = ["b.is_active"], {}
    order = "b.created_at DESC, b.id DESC"
    if "category" in params:
        raw = params["category"][0]
        args["cats"] = subtree(int(raw) if raw.isdigit() else raw)
        where.append("b.category_id = ANY(%(cats)s)")
    if "min_price" in params:
        args["min"] = Decimal(params["min_price"][0])
        where.append("b.price >= %(min)s")
    if "max_price" in params:
        args["max"] = Decimal(params["max_price"][0])
        where.append("b.price <= %(max)s")
    if params.get("search", [""])[0].strip():
        args["q"] = params["search"][0].strip()
        where.append(SEARCH_MATCH)
        order = SEARCH_ORDER
    page = int(params.get("page", ["1"])[0])
    sql_where = " AND ".join(where)
    count = q(f"SELECT count(*) FROM catalog_book b WHERE {sql_where}", args).fetchone()[0]
    rows = q(
        f"SELECT {BOOK_COLUMNS.format(description='')} {BOOK_FROM} WHERE {sql_where} "
        f"ORDER BY {order} LIMIT 20 OFFSET {(page - 1) * 20}",
        args,
    ).fetchall()
    authors = authors_of([row[0] for row in rows])
    pages = max(1, -(-count // 20))
    following, previous = page_links(environ, params, page, pages)
    return 200, {
        "count": count,
        "page": page,
        "page_size": 20,
        "total_pages": pages,
        "next": following,
        "previous": previous,
        "results": [book_json(row, authors) for row in rows],
    }


def book_detail(environ, pk):
    row = q(
        f"SELECT {BOOK_COLUMNS.format(description='b.description,')} {BOOK_FROM} "
        "WHERE b.is_active AND b.id = %s LIMIT 21",
        (pk,),
    ).fetchone()
    if row is None:
        return 404, {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}
    return 200, book_json(row, authors_of([pk]), description=True)


def user_id(environ) -> int | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(header[7:], os.environ["SECRET_KEY"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return int(claims["user_id"])


def cart_json(cart_id, updated) -> dict:
    rows = q(
        """SELECT i.id, i.quantity, b.id, b.title, b.price, b.cover, s.quantity, b.is_active
           FROM cart_cartitem i JOIN catalog_book b ON b.id = i.book_id JOIN catalog_stock s ON s.book_id = b.id
           WHERE i.cart_id = %s ORDER BY i.id""",
        (cart_id,),
    ).fetchall()
    items, total, subtotal = [], 0, Decimal("0.00")
    for item_id, quantity, book_id, title, price, cover, stock, active in rows:
        line_total = (price * quantity).quantize(CENT)
        if active:
            total += quantity
            subtotal += line_total
        items.append(
            {
                "id": item_id,
                "book": {
                    "id": book_id,
                    "title": title,
                    "price": money(price),
                    "cover_url": None if not cover else "/media/" + cover,
                    "stock": stock,
                    "in_stock": stock > 0,
                },
                "quantity": quantity,
                "unit_price": money(price),
                "line_total": money(line_total),
                "available": active and stock >= quantity,
            }
        )
    return {
        "items": items,
        "total_quantity": total,
        "subtotal": money(subtotal),
        "currency": "USD",
        "updated_at": iso(updated),
    }


def cart_add(environ, user):
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
    book_id, quantity = int(body["book_id"]), int(body.get("quantity", 1))
    with db().transaction():
        cart_id, _ = q("SELECT id, updated_at FROM cart_cart WHERE user_id = %s FOR UPDATE", (user,)).fetchone()
        row = q(
            """SELECT s.quantity,
                      (SELECT i.quantity FROM cart_cartitem i WHERE i.cart_id = %s AND i.book_id = b.id LIMIT 1)
               FROM catalog_book b JOIN catalog_stock s ON s.book_id = b.id WHERE b.is_active AND b.id = %s""",
            (cart_id, book_id),
        ).fetchone()
        if row is None:
            return 400, {"type": "validation_error", "errors": [{"code": "invalid", "detail": "", "attr": "book_id"}]}
        stock, already = row[0], row[1] or 0
        if already + quantity > min(stock, 100):
            return 409, {"type": "client_error", "errors": [{"code": "insufficient_stock", "detail": "", "attr": None}]}
        if already:
            q(
                "UPDATE cart_cartitem SET quantity = %s, updated_at = now() WHERE cart_id = %s AND book_id = %s",
                (already + quantity, cart_id, book_id),
            )
        else:
            q(
                "INSERT INTO cart_cartitem (quantity, created_at, updated_at, book_id, cart_id) "
                "VALUES (%s, now(), now(), %s, %s)",
                (quantity, book_id, cart_id),
            )
        updated = q(
            "UPDATE cart_cart SET updated_at = now() WHERE id = %s RETURNING updated_at", (cart_id,)
        ).fetchone()[0]
        return 201, cart_json(cart_id, updated)


def order_json(order, lines, history, refunds=()) -> dict:
    (pk, number, status, email, subtotal, shipping, tax_total, total, currency, method_code, method_name, name,
     line1, line2, city, region, postal, country, phone, carrier, tracking_number, tracking_url, created, updated,
     pay_id, pay_method, pay_status, paid, refunded, client_secret, last_error, expires) = order  # fmt: skip
    payment = None
    if pay_id is not None:
        payment = {
            "method": pay_method,
            "status": pay_status,
            "amount_paid": money(paid),
            "amount_refunded": money(refunded),
            # The bench's token holder is the order's owner: the secret shows while unpaid.
            "client_secret": client_secret if client_secret and pay_status == "unpaid" else None,
            # bench/run.py gives both apps the same MANUAL_PAYMENT_INSTRUCTIONS.
            "instructions": os.environ["MANUAL_PAYMENT_INSTRUCTIONS"] if pay_method == "manual" else None,
            "last_error": last_error or None,
        }
    return {
        "id": pk,
        "number": number,
        "status": status,
        "email": email,
        "items": [
            {
                "book_id": book_id,
                "title": title,
                "isbn": isbn,
                "unit_price": money(price),
                "quantity": quantity,
                "line_total": money(line_total),
                "tax_rate": str(Decimal(tax_rate).quantize(Decimal("0.0001"))),
                "tax_amount": money(tax_amount),
            }
            for book_id, title, isbn, price, quantity, line_total, tax_rate, tax_amount in lines
        ],
        "subtotal": money(subtotal),
        "shipping_cost": money(shipping),
        "tax_total": money(tax_total),
        "total": money(total),
        "currency": currency,
        "shipping_method": {"code": method_code, "name": method_name},
        "shipping_address": {
            "full_name": name,
            "line1": line1,
            "line2": line2,
            "city": city,
            "region": region,
            "postal_code": postal,
            "country": country,
            "phone": phone,
        },
        "carrier": carrier,
        "tracking_number": tracking_number,
        "tracking_url": tracking_url,
        "status_history": [{"status": s, "at": iso(at), "note": note} for s, at, note in history],
        "created_at": iso(created),
        "updated_at": iso(updated),
        "payment": payment,
        "refunds": [
            {"id": rid, "amount": money(amount), "reason": reason, "lines": rlines, "created_at": iso(at)}
            for rid, amount, reason, rlines, at in refunds
        ],
        "expires_at": iso(expires) if pay_id is not None and expires is not None and status == "pending" else None,
    }


ORDER_COLUMNS = """o.id, o.number, o.status, o.email, o.subtotal, o.shipping_cost, o.tax_total, o.total, o.currency,
    o.shipping_method_code, o.shipping_method_name, o.shipping_full_name, o.shipping_line1, o.shipping_line2,
    o.shipping_city, o.shipping_region, o.shipping_postal_code, o.shipping_country, o.shipping_phone, o.carrier,
    o.tracking_number, o.tracking_url, o.created_at, o.updated_at"""
PAYMENT_COLUMNS = (
    "p.id, p.method, p.status, p.amount_paid, p.amount_refunded, p.client_secret, p.last_error, p.expires_at"
)
LINE_COLUMNS = "book_id, title, isbn, unit_price, quantity, line_total, tax_rate, tax_amount"


def order_list(environ, user):
    # As the store's pagination: 21 rows tell whether a count is needed at all.
    orders = q(
        f"SELECT {ORDER_COLUMNS}, {PAYMENT_COLUMNS} FROM orders_order o "
        "LEFT JOIN payments_payment p ON p.order_id = o.id WHERE o.user_id = %s "
        "ORDER BY o.created_at DESC, o.id DESC LIMIT 21",
        (user,),
    ).fetchall()
    if len(orders) > 20:
        count = q("SELECT count(*) FROM orders_order o WHERE o.user_id = %s", (user,)).fetchone()[0]
        orders = orders[:20]
    else:
        count = len(orders)
    ids = [order[0] for order in orders]
    lines: dict = {}
    history: dict = {}
    refunds: dict = {}
    if ids:
        for order_id, *line in q(
            f"SELECT order_id, {LINE_COLUMNS} FROM orders_orderline WHERE order_id = ANY(%s) ORDER BY id", (ids,)
        ):
            lines.setdefault(order_id, []).append(line)
        for order_id, *change in q(
            "SELECT order_id, status, at, note FROM orders_orderstatuschange WHERE order_id = ANY(%s) ORDER BY at, id",
            (ids,),
        ):
            history.setdefault(order_id, []).append(change)
    payment_ids = [order[24] for order in orders if order[24] is not None]
    if payment_ids:
        for payment_id, *refund in q(
            "SELECT payment_id, id, amount, reason, lines, created_at FROM payments_refund "
            "WHERE payment_id = ANY(%s) ORDER BY created_at, id",
            (payment_ids,),
        ):
            refunds.setdefault(payment_id, []).append(refund)
    pages = max(1, -(-count // 20))
    following, previous = page_links(environ, {}, 1, pages)
    return 200, {
        "count": count,
        "page": 1,
        "page_size": 20,
        "total_pages": pages,
        "next": following,
        "previous": previous,
        "results": [order_json(o, lines.get(o[0], []), history.get(o[0], []), refunds.get(o[24], [])) for o in orders],
    }


def checkout(environ, user):
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
    address = body["shipping_address"]
    address = {k: address.get(k, "") for k in ("full_name", "line1", "line2", "city", "region", "postal_code",
                                                  "country", "phone")}  # fmt: skip
    with db().transaction():
        cart_id = q("SELECT id FROM cart_cart WHERE user_id = %s FOR UPDATE", (user,)).fetchone()[0]
        lines = q(
            """SELECT i.book_id, i.quantity, b.title, b.isbn, b.price FROM cart_cartitem i
               JOIN catalog_book b ON b.id = i.book_id JOIN catalog_stock s ON s.book_id = b.id
               WHERE i.cart_id = %s AND b.is_active
               ORDER BY i.book_id FOR UPDATE OF b, s""",
            (cart_id,),
        ).fetchall()
        if not lines:
            return 400, {"type": "client_error", "errors": [{"code": "empty_cart", "detail": "", "attr": None}]}
        number = "BK-" + secrets.token_hex(5).upper()
        moved = q(
            """UPDATE catalog_stock s SET quantity = s.quantity - v.qty
               FROM unnest(%s::bigint[], %s::int[]) AS v(id, qty) WHERE s.book_id = v.id AND s.quantity >= v.qty
               RETURNING s.book_id, s.quantity""",
            ([line[0] for line in lines], [line[1] for line in lines]),
        ).fetchall()
        if len(moved) != len(lines):
            raise RuntimeError("insufficient stock")
        q(
            """INSERT INTO catalog_stockmovement (delta, stock_after, reason, order_reference, note, created_at,
                                                 actor_id, book_id)
               SELECT -v.qty, v.after, 'sale', %s, '', now(), %s, v.id
               FROM unnest(%s::bigint[], %s::int[], %s::int[]) AS v(id, qty, after)""",
            (
                number,
                user,
                [m[0] for m in moved],
                [dict((line[0], line[1]) for line in lines)[m[0]] for m in moved],
                [m[1] for m in moved],
            ),
        )
        order_lines = [
            (book_id, title, isbn, price, quantity, (price * quantity).quantize(CENT), 0, 0)
            for book_id, quantity, title, isbn, price in lines
        ]
        subtotal = sum((line[5] for line in order_lines), Decimal("0.00"))
        shipping = Decimal("0.00") if subtotal >= Decimal("35.00") else Decimal("4.99")
        order = q(
            f"""INSERT INTO orders_order (number, status, subtotal, shipping_cost, total, currency, shipping_full_name,
                   shipping_line1, shipping_line2, shipping_city, shipping_region, shipping_postal_code,
                   shipping_country, shipping_phone, idempotency_key, request_fingerprint, created_at, updated_at,
                   user_id, email, prices_include_tax, shipping_method_code, shipping_method_name,
                   shipping_tax_amount, shipping_tax_rate, tax_total, carrier, tracking_number, tracking_url)
               VALUES (%s, 'pending', %s, %s, %s, 'USD', %s, %s, %s, %s, %s, %s, %s, %s, '', '', now(), now(), %s,
                       (SELECT email FROM accounts_user WHERE id = %s), false, 'standard', 'Standard', 0, 0, 0,
                       '', '', '')
               RETURNING {ORDER_COLUMNS.replace("o.", "")}""",
            (number, subtotal, shipping, subtotal + shipping, *address.values(), user, user),
        ).fetchone()
        # The store's manual payment (its default method): owed in full, expiring in MANUAL_PAYMENT_DAYS (7).
        payment = q(
            """INSERT INTO payments_payment (order_id, method, status, amount, currency, amount_paid, amount_refunded,
                   client_secret, last_error, expires_at, created_at, updated_at)
               VALUES (%s, 'manual', 'unpaid', %s, 'USD', 0, 0, '', '', now() + interval '7 days', now(), now())
               RETURNING id, method, status, amount_paid, amount_refunded, client_secret, last_error, expires_at""",
            (order[0], subtotal + shipping),
        ).fetchone()
        q(
            """INSERT INTO payments_paymentevent (kind, amount, status_after, stripe_event_id, note, created_at,
                   actor_id, payment_id) VALUES ('created', 0, 'unpaid', '', '', now(), %s, %s)""",
            (user, payment[0]),
        )
        order = (*order, *payment)
        q(
            """INSERT INTO orders_orderline (book_id, title, isbn, unit_price, quantity, line_total, order_id,
                                             tax_amount, tax_rate)
               SELECT *, %s, 0, 0
               FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::numeric[], %s::int[], %s::numeric[])""",
            (order[0], *[list(column) for column in zip(*order_lines, strict=True)][:6]),
        )
        at = q(
            "INSERT INTO orders_orderstatuschange (status, at, note, actor_id, order_id) "
            "VALUES ('pending', now(), 'Order placed.', %s, %s) RETURNING at",
            (user, order[0]),
        ).fetchone()[0]
        q("DELETE FROM cart_cartitem WHERE cart_id = %s", (cart_id,))
        q("UPDATE cart_cart SET updated_at = now() WHERE id = %s", (cart_id,))
        confirmation_enqueue(order, order_lines)
        return 201, order_json(order, order_lines, [("pending", at, "Order placed.")])


def confirmation_enqueue(order, order_lines) -> None:
    """The order's confirmation email queued as the store queues it in production and in the bench
    (TASKS_BACKEND=database): a django-tasks-db row in the checkout's transaction, the same text."""
    number, email, subtotal, shipping, tax, total, currency = (order[1], order[3], *order[4:9])
    summary = "\n".join(f"  {line[4]} × {line[1]}: {line[5]} {currency}" for line in order_lines)
    body = (
        f"Thank you for your order {number}.\n\n{summary}\n\n"
        f"Subtotal: {subtotal} {currency}\nShipping (Standard): {shipping} {currency}\n"
        f"Tax: {tax} {currency}\nTotal: {total} {currency}\n\n"
        f"How to pay: {os.environ['MANUAL_PAYMENT_INSTRUCTIONS']}\nAmount due: {total} {currency}\n"
        f"Reference: {number}\nPlease pay by {order[-1].date().isoformat()}; the order is cancelled if unpaid then.\n"
    )
    args = {"args": [], "kwargs": {"to": [email], "subject": f"Your Bookstore order {number}", "body": body}}
    q(
        """INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, args_kwargs, priority, task_path,
               worker_ids, queue_name, backend_name, run_after, return_value, exception_class_path, traceback)
           VALUES (%s, 'READY', now(), %s, 0, 'bookstore.mail.send_email', '[]', 'default', 'default',
                   '9999-01-01 00:00:00+00', NULL, '', '')""",
        (uuid.uuid4(), Jsonb(args)),
    )


_DETAIL = re.compile(r"^/api/v1/books/(\d+)/?$")


def route(environ):
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if method == "GET" and path.rstrip("/") == "/api/v1/books":
        return book_list(environ)
    match = _DETAIL.match(path)
    if method == "GET" and match:
        return book_detail(environ, int(match.group(1)))
    user = user_id(environ)
    if path.rstrip("/") in {"/api/v1/cart/items", "/api/v1/orders"} and user is None:
        return 401, {"type": "client_error", "errors": [{"code": "not_authenticated", "detail": "", "attr": None}]}
    if method == "POST" and path.rstrip("/") == "/api/v1/cart/items":
        return cart_add(environ, user)
    if method == "GET" and path.rstrip("/") == "/api/v1/orders":
        return order_list(environ, user)
    if method == "POST" and path.rstrip("/") == "/api/v1/orders":
        return checkout(environ, user)
    return 404, {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


def app(environ, start_response):
    _local.queries = 0
    status, body = route(environ)
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
    start_response(
        f"{status} {reason[status]}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("X-Queries", str(_local.queries)),
        ],
    )
    return [payload]
