"""Search that folds accents, corrects bounded typos and ranks by popularity (PostgreSQL).

- Extensions `unaccent` and `fuzzystrmatch` (contrib, offered by every hosted PostgreSQL;
  `pg_trgm` came with 0002).
- `catalog_unaccent(text)`: `unaccent` behind an IMMUTABLE wrapper with its dictionary named,
  so expressions using it can be indexed; `catalog_search_words(text)`: the lower-cased,
  accent-free words of a text separated by single spaces (what the search vector is built from
  and what a query is compared with).
- `catalog_searchword`: every word of the catalog's search vectors, with a GiST trigram index
  that finds the nearest words to a query word (typo candidates).
- `Book.popularity`: copies sold in the last 90 days, kept by the stock ledger.
- The search vector is rebuilt: title (A), authors (B), subtitle and publisher (C),
  description (D), all with the `simple` configuration over the accent-free words. The trigram
  text of 0003 and its index go.
"""

from django.contrib.postgres.operations import CreateExtension, UnaccentExtension
from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION catalog_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$;
CREATE OR REPLACE FUNCTION catalog_search_words(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT btrim(regexp_replace(lower(catalog_unaccent($1)), '[^[:alnum:]]+', ' ', 'g')) $$;
"""

# The same statement as catalog.search.refresh_sql (frozen here: a migration must not change later).
REBUILD = """
WITH names AS (
    SELECT ba.book_id, string_agg(a.name, ' ' ORDER BY a.name) AS names
    FROM catalog_book_authors ba JOIN catalog_author a ON a.id = ba.author_id
    GROUP BY ba.book_id
)
UPDATE catalog_book AS b SET search_vector =
    setweight(to_tsvector('simple', catalog_search_words(b.title)), 'A')
    || setweight(to_tsvector('simple', catalog_search_words(coalesce(n.names, ''))), 'B')
    || setweight(to_tsvector('simple', catalog_search_words(b.subtitle || ' ' || b.publisher)), 'C')
    || setweight(to_tsvector('simple', catalog_search_words(b.description)), 'D')
FROM catalog_book AS b2 LEFT JOIN names AS n ON n.book_id = b2.id
WHERE b2.id = b.id;
INSERT INTO catalog_searchword (word)
SELECT DISTINCT w.lexeme FROM catalog_book b, unnest(b.search_vector) AS w
WHERE length(w.lexeme) <= 100 AND w.lexeme !~ '^[0-9]+$'
ON CONFLICT DO NOTHING;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        schema = cursor.fetchone()[0]
    schema_editor.execute(FUNCTIONS.replace("{schema}", schema_editor.quote_name(schema)))
    schema_editor.execute("DROP INDEX IF EXISTS catalog_book_search_text_trgm_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS catalog_searchword_trgm_gist ON catalog_searchword USING gist (word gist_trgm_ops)"
    )
    schema_editor.execute(REBUILD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS catalog_searchword_trgm_gist")
    schema_editor.execute("DROP FUNCTION IF EXISTS catalog_search_words(text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS catalog_unaccent(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_payments_stockmovement_return"),
    ]

    operations = [
        UnaccentExtension(),
        CreateExtension("fuzzystrmatch"),
        migrations.RemoveField(model_name="book", name="search_text"),
        migrations.AddField(
            model_name="book",
            name="popularity",
            field=models.PositiveIntegerField(
                default=0, editable=False, help_text="Copies sold in the last 90 days (refresh_popularity)."
            ),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["-popularity", "-id"], name="catalog_book_popularity_idx"),
        ),
        migrations.CreateModel(
            name="SearchWord",
            fields=[("word", models.CharField(max_length=100, primary_key=True, serialize=False))],
            options={"db_table": "catalog_searchword"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
