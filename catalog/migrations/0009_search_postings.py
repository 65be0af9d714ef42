"""The search posting table (PostgreSQL): one row per word of an active book's search vector,
with what the ranking and the facets read, behind one btree read index-only (see
`catalog.models.SearchPosting` and `catalog.search`).

On PostgreSQL the table is created here with `word` in the "C" collation (a prefix is a range
of the index), filled from the current search vectors, then given an index on `book_id` (the upkeep's
deletes by book) and its read index, each built in bulk. The table has no primary key
constraint (the model's `(book, word)` is unique by construction: a vector's words are): a
third index of every word would only slow the upkeep down.
The model's operation creates its plain table everywhere; on PostgreSQL it is then replaced.
Elsewhere that plain table stays (unused: SQLite searches without it).
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = """
CREATE TABLE catalog_searchposting (
    book_id bigint NOT NULL,
    word text COLLATE "C" NOT NULL,
    field smallint NOT NULL,
    title_equal boolean NOT NULL,
    popularity integer NOT NULL CHECK (popularity >= 0),
    rating numeric NULL,
    created_at timestamp with time zone NOT NULL,
    category_id bigint NULL,
    format varchar(10) NOT NULL,
    language varchar(2) NOT NULL,
    price numeric(7, 2) NOT NULL
)
"""

# The same statement as catalog.search_index.book_postings_refresh for every book (frozen here).
FILL = """
INSERT INTO catalog_searchposting
    (book_id, word, field, title_equal, popularity, rating, created_at, category_id, format, language, price)
SELECT b.id, l.lexeme,
    CASE WHEN 'A' = ANY(l.weights) THEN 3 WHEN 'B' = ANY(l.weights) THEN 2 WHEN 'C' = ANY(l.weights) THEN 1 ELSE 0 END,
    l.lexeme = t.title, b.popularity, r.rating, b.created_at, b.category_id, b.format, b.language, b.price
FROM catalog_book b
LEFT JOIN (
    SELECT book_id, avg(rating) AS rating FROM catalog_review WHERE status = 'published' GROUP BY book_id
) r ON r.book_id = b.id
CROSS JOIN LATERAL (SELECT catalog_search_words(b.title) AS title OFFSET 0) t  -- once per book, not per word
CROSS JOIN LATERAL unnest(b.search_vector) l
WHERE b.is_active
"""

INDEXES = """
CREATE INDEX catalog_searchposting_book ON catalog_searchposting (book_id);
CREATE INDEX catalog_searchposting_read ON catalog_searchposting
    (word, field DESC, title_equal DESC, popularity DESC, rating DESC NULLS LAST, created_at DESC, book_id DESC)
    INCLUDE (category_id, format, language, price);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TABLE catalog_searchposting")  # the model's plain table, made again as above
    schema_editor.execute(TABLE)
    schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    schema_editor.execute(FILL)
    schema_editor.execute(INDEXES)


def backwards(apps, schema_editor):
    pass  # the model's operation drops the table


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_review_published_rating_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchPosting",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "book", "word", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("word", models.TextField()),
                (
                    "field",
                    models.SmallIntegerField(
                        help_text="Where the word is: 3 title, 2 authors, 1 subtitle/publisher, 0 rest."
                    ),
                ),
                ("title_equal", models.BooleanField(help_text="The book's title is this word alone.")),
                ("popularity", models.PositiveIntegerField()),
                ("rating", models.DecimalField(decimal_places=20, max_digits=22, null=True)),
                ("created_at", models.DateTimeField()),
                ("category_id", models.BigIntegerField(null=True)),
                ("format", models.CharField(max_length=10)),
                ("language", models.CharField(max_length=2)),
                ("price", models.DecimalField(decimal_places=2, max_digits=7)),
                (
                    "book",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.book",
                    ),
                ),
            ],
            options={"db_table": "catalog_searchposting"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
