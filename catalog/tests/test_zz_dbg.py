from catalog.tests.test_search_postings import *  # noqa
def test_dbg(api_client, catalog):
    a, b, used = both(api_client, BOOKS, {"search": "drag"})
    for x, y in zip(a["results"], b["results"]):
        print("ROW", x["id"], x["title"], "|", y["id"], y["title"], "*" if x["id"] != y["id"] else "")
    from catalog.models import SearchPosting
    for row in SearchPosting.objects.filter(book_id__in=[105, 99, 96, 59]).filter(word__startswith="drag").values_list("book_id", "word", "field", "title_equal", "popularity", "rating"):
        print("P", row)
