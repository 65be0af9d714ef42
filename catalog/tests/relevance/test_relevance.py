"""The judged relevance set: real books (books.csv) and shoppers' queries (queries.json).

Each query names the books that must come first (`first`, in any order among themselves), other
relevant books (`relevant`), books that must not appear at all (`absent`), and whether the answer
is relaxed (`relaxed`) or empty (`empty`). The catalog is loaded through `import_books` and the
stock ledger (sales give popularity), so the test also covers how search data is written.

Reported: precision@5 (relevant books among the first 5, out of at most 5) and nDCG@10 (books
that must come first have grade 2, other relevant ones grade 1). The test fails on any broken
hard rule, or when a mean falls below the thresholds.
"""

import csv
import io
import json
import math
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import Book, StockMovement
from catalog.stock import books_popularity_refresh, stock_apply
from catalog.tests.factories import _isbn13

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HERE = Path(__file__).parent
MIN_MEAN_PRECISION_AT_5 = 0.97
MIN_MEAN_NDCG_AT_10 = 0.97
STOCK = 1000


def load_catalog(tmp_path) -> dict[str, Book]:
    """Imports books.csv as a shop would, then sells each book's `sold` copies (its popularity)."""
    rows = list(csv.DictReader((HERE / "books.csv").open(encoding="utf-8")))
    path = tmp_path / "books.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        columns = ["isbn", "title", "subtitle", "authors", "category", "language", "format", "publisher"]
        writer = csv.DictWriter(out, [*columns, "price", "stock"])
        writer.writeheader()
        for n, row in enumerate(rows):
            writer.writerow(
                {**{c: row[c] for c in columns[1:]}, "isbn": _isbn13(700_000 + n), "price": "9.99", "stock": STOCK}
            )
    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    books = {row["key"]: Book.objects.get(isbn=_isbn13(700_000 + n)) for n, row in enumerate(rows)}
    sold = {books[row["key"]].pk: -int(row["sold"]) for row in rows}
    stock_apply(changes=sold, reason=StockMovement.Reason.SALE, note="relevance fixture")
    books_popularity_refresh()
    return books


def hyphenated(isbn13: str) -> str:
    return f"{isbn13[:3]}-{isbn13[3]}-{isbn13[4:7]}-{isbn13[7:12]}-{isbn13[12]}"


def spaced_isbn10(isbn13: str) -> str:
    body = isbn13[3:12]
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    digits = body + ("X" if check == 10 else str(check))
    return f"{digits[0]} {digits[1:4]} {digits[4:9]} {digits[9]}"


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    def dcg(gains):
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(key, 0) for key in ranked]) / ideal if ideal else 1.0


def test_relevance(api_client, tmp_path, capsys):
    books = load_catalog(tmp_path)
    key_of = {book.pk: key for key, book in books.items()}
    cases = json.loads((HERE / "queries.json").read_text(encoding="utf-8"))["queries"]
    failures, report, precisions, ndcgs = [], [], [], []

    for case in cases:
        if "isbn_of" in case:
            text = hyphenated(books[case["isbn_of"]].isbn)
        elif "isbn10_of" in case:
            text = spaced_isbn10(books[case["isbn10_of"]].isbn)
        else:
            text = case["q"]
        response = api_client.get("/api/v1/books", {"search": text, "page_size": 100})
        assert response.status_code == 200, (text, response.json())
        body = response.json()
        ranked = [key_of[b["id"]] for b in body["results"]]
        first, relevant = set(case.get("first", [])), set(case.get("relevant", []))
        grades = {**dict.fromkeys(relevant, 1), **dict.fromkeys(first, 2)}

        problems = []
        if set(ranked[: len(first)]) != first:
            problems.append(f"first {sorted(first)} but got {ranked[: len(first)]}")
        if shown := set(ranked) & set(case.get("absent", [])):
            problems.append(f"must not appear: {sorted(shown)}")
        if case.get("empty") and ranked:
            problems.append(f"expected no result, got {ranked[:5]}")
        if case.get("only_first") and len(ranked) != len(first):
            problems.append(f"expected only {sorted(first)}, got {ranked[:5]}")
        if body["search_relaxed"] != case.get("relaxed", False):
            problems.append(f"search_relaxed is {body['search_relaxed']}")
        if problems:
            failures.append(f"{text!r}: " + "; ".join(problems))

        if case.get("empty"):
            precision = score = 1.0 if not ranked else 0.0
        else:
            wanted = first | relevant
            precision = len(set(ranked[:5]) & wanted) / min(5, len(wanted))
            score = ndcg(ranked, grades)
        precisions.append(precision)
        ndcgs.append(score)
        report.append(f"{text[:40]:40} P@5 {precision:.2f}  nDCG@10 {score:.2f}  {len(ranked):3} results  {ranked[:3]}")

    mean_precision, mean_ndcg = sum(precisions) / len(cases), sum(ndcgs) / len(cases)
    summary = f"{len(cases)} queries: mean precision@5 {mean_precision:.3f}, mean nDCG@10 {mean_ndcg:.3f}"
    with capsys.disabled():
        print("\n" + "\n".join(report) + "\n" + summary)
    assert not failures, "\n".join(failures)
    assert mean_precision >= MIN_MEAN_PRECISION_AT_5, summary
    assert mean_ndcg >= MIN_MEAN_NDCG_AT_10, summary
