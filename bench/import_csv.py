"""Writes a CSV of N books for `manage.py import_books` (the 100,000-row import check).

    .venv/bin/python bench/import_csv.py 100000 /tmp/books.csv [FIRST]  # ISBNs from 978 + FIRST
    time .venv/bin/python manage.py import_books /tmp/books.csv

Deterministic: ISBN-13s from a counter, 20,000 authors (one to three per book), 60 nested
categories, descriptions of about 40 words from a 5,000-word vocabulary (so the typo dictionary
gets realistic work), stock levels with a tenth at zero.
"""

import csv
import random
import sys

SYLLABLES = [
    *[
        "ka",
        "lo",
        "mi",
        "ren",
        "sa",
        "tor",
        "vel",
        "dun",
        "ash",
        "bri",
        "cor",
        "el",
        "fen",
        "gar",
        "hal",
        "ith",
        "jor",
        "kel",
        "lum",
    ],
    *["mar", "nor", "or", "pel", "quin", "ras", "sil", "tam"],
]


def isbn13(n: int) -> str:
    body = f"978{n:09d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def main(rows: int, path: str, first: int = 100_000_000) -> None:
    rng = random.Random(16)
    vocabulary = sorted({word(rng) for _ in range(6000)})[:5000]
    authors = [f"{word(rng).title()} {word(rng).title()}" for _ in range(20_000)]
    categories = [f"{top}/{word(rng).title()}" for top in ("Fiction", "History", "Science", "Art") for _ in range(15)]
    columns = ["isbn", "title", "subtitle", "authors", "category", "publisher", "published_date", "language",
               "page_count", "format", "price", "stock", "description"]  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for n in range(rows):
            writer.writerow([
                isbn13(first + n),
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 5))).title(),
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 3))),
                ";".join(rng.sample(authors, rng.randint(1, 3))),
                rng.choice(categories),
                f"{word(rng).title()} Press" if rng.random() < 0.5 else "",
                f"{rng.randint(1950, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                rng.choice(["en", "en", "en", "fr", "de", "es"]),
                rng.randint(50, 900),
                rng.choice(["paperback", "hardcover", "ebook", "audiobook"]),
                f"{rng.randint(100, 9999) / 100:.2f}",
                0 if rng.random() < 0.1 else rng.randint(1, 500),
                " ".join(rng.choice(vocabulary) for _ in range(40)),
            ])  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:4]))
