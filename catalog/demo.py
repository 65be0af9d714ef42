"""The demo catalog's books as a bookshop would shelve them: titles, subtitles, blurbs, page counts
and prices that fit each category and language, and a generated cover for each book.

Every title comes from its own pool: one per category for the English books, one per language and
kind (novels, cookery) for the others, so a baking book never reads like a thriller and a French
book has a French title. `manage.py seed_demo` draws from them with a seeded random stream.
"""

import colorsys
import functools
import hashlib
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ENGLISH = "en"
COVER_SIZE = (400, 600)


@dataclass(frozen=True)
class Shelf:
    """How the books of one category read: titles are `first + " " + second` for every pair."""

    first: tuple[str, ...]
    second: tuple[str, ...]
    subtitles: tuple[str, ...]
    blurbs: tuple[str, ...]
    pages: tuple[int, int]  # the range of page counts
    prices: tuple[int, int]  # whole pounds; every price ends in .99
    languages: tuple[str, ...] = (ENGLISH,)  # the languages its books may be in
    kind: str = ""  # for books in other languages: which of their pools ("novel", "cookery")

    def titles(self) -> list[str]:
        return [f"{a} {b}" for a, b in itertools.product(self.first, self.second)]


FOREIGN = ("fr", "de", "es", "it")

SHELVES: dict[str, Shelf] = {
    "Fantasy": Shelf(
        ("The Crown of", "The Throne of", "The Sword of", "The Witch of", "The Oath of", "The Heir of", "The Song of"),
        ("Ashes", "Thorns", "Embers", "the Hollow Hills", "Starfall", "the Drowned King", "Ravens"),
        ("", "", "Book One of the Ember Cycle", "A Novel"),
        ("an epic of exiled queens and broken oaths", "a quest through a kingdom where magic is paid for in memory"),
        (320, 780),
        (9, 22),
    ),
    "Science Fiction": Shelf(
        ("Orbit", "Signal", "Colony", "Starship", "Relay", "Drift", "Exodus"),
        ("Zero", "Nine", "Station", "Prime", "Rising", "Eclipse", "Beyond Titan"),
        ("", "", "A Novel", "The Relay Trilogy, Book One"),
        ("a first-contact story told from a generation ship", "a thriller set on the last station before deep space"),
        (280, 620),
        (9, 20),
    ),
    "Mystery & Crime": Shelf(
        ("Death at", "Murder at", "A Body at", "Blood on", "Silence at", "Last Seen at"),
        ("the Vicarage", "Harbour Street", "Blackwater Lane", "the Old Mill", "the Lighthouse", "Ravenscourt"),
        ("", "A Novel", "An Inspector Hale Mystery", "A Harbour Street Mystery"),
        (
            "a village whodunnit with a detective who knits",
            "a missing-person case that reopens a thirty-year-old crime",
        ),
        (240, 480),
        (8, 18),
        (ENGLISH, *FOREIGN),
        "novel",
    ),
    "Romance": Shelf(
        ("Summer", "A Winter", "Letters", "Love", "A Proposal", "Second Chances"),
        ("in Cornwall", "at the Bookshop", "by the Sea", "at Rosewood Farm", "on Primrose Hill", "under the Stars"),
        ("", "A Novel", "A Feel-Good Summer Read"),
        ("two rivals, one failing bookshop and a very long summer", "a love story told in letters across a decade"),
        (260, 420),
        (8, 16),
        (ENGLISH, *FOREIGN),
        "novel",
    ),
    "Historical Fiction": Shelf(
        (
            "The Clockmaker's",
            "The Weaver's",
            "The Apothecary's",
            "The Mapmaker's",
            "The Printer's",
            "The Glassblower's",
        ),
        ("Daughter", "Wife", "Apprentice", "Secret", "Widow", "Promise"),
        ("", "A Novel", "A Novel of Victorian London"),
        ("a family saga from the age of sail", "a novel of guilds, plague years and one stubborn apprentice"),
        (320, 640),
        (9, 20),
        (ENGLISH, *FOREIGN),
        "novel",
    ),
    "Literary Fiction": Shelf(
        ("The Weight of", "What Remains of", "A Season of", "The Year of", "The Grammar of", "After"),
        ("Rain", "Small Things", "Leaving", "Salt", "Quiet Rooms", "Winter Light", "the Orchard"),
        ("", "", "A Novel", "Stories"),
        (
            "a quiet, exact novel about three sisters and a house by the sea",
            "linked stories of one street over fifty years",
        ),
        (180, 420),
        (9, 20),
        (ENGLISH, *FOREIGN),
        "novel",
    ),
    "History": Shelf(
        ("The Age of", "The Fall of", "The Making of", "A People's History of", "The Last Days of", "The Rise of"),
        ("Rome", "Byzantium", "the Hanseatic League", "Venice", "the Ottoman Court", "Medieval London", "Carthage"),
        ("", "A New History", "An Illustrated History", "A Thousand Years in Twelve Objects"),
        (
            "a narrative history drawn from letters, ledgers and court records",
            "an account of trade, war and ordinary lives",
        ),
        (320, 760),
        (12, 30),
    ),
    "Popular Science": Shelf(
        ("The Hidden Life of", "The Secret Language of", "A Brief History of", "The Science of", "Why We Need"),
        ("Trees", "Cells", "Sleep", "Bees", "Stars", "the Ocean", "Fungi", "Clouds"),
        ("", "What Science Tells Us", "An Introduction for the Curious"),
        (
            "a lively tour of the research, with the scientists who did it",
            "big ideas explained without a single equation",
        ),
        (220, 420),
        (10, 22),
    ),
    "Biography": Shelf(
        ("The Life of", "Becoming", "The Letters of", "Portrait of", "The Many Lives of", "Remembering"),
        ("Ada Lovelace", "Marie Curie", "Frida Kahlo", "Virginia Woolf", "Alan Turing", "Hokusai", "Mary Seacole"),
        ("", "A Life", "A Biography", "Letters and Diaries"),
        ("a life told from diaries, letters and the people who knew them", "a portrait of a restless, brilliant mind"),
        (300, 640),
        (12, 25),
    ),
    "Travel": Shelf(
        ("Walking", "Slow Roads Through", "A Year in", "The Trains of", "On Foot Across", "Winter in"),
        ("Patagonia", "the Balkans", "Japan", "the Scottish Highlands", "Morocco", "Iceland", "Norway"),
        ("", "A Journey", "Notes from the Road", "A Walker's Guide"),
        ("a journey on foot, by ferry and by night train", "a travel book as much about people as about places"),
        (200, 380),
        (10, 20),
    ),
    "Philosophy": Shelf(
        ("On", "The Problem of", "A Short Guide to", "Thinking About", "The Ethics of", "In Praise of"),
        ("Freedom", "Time", "Doubt", "Friendship", "Happiness", "Justice", "Idleness", "Truth"),
        ("", "An Essay", "A Very Short Introduction", "Lectures and Conversations"),
        ("a clear, companionable introduction to an old question", "short essays for readers new to philosophy"),
        (140, 360),
        (9, 20),
    ),
    "Baking": Shelf(
        ("Sourdough", "Rye and Spelt", "Brioche and Buns", "Tarts and Pies", "Layer Cakes", "Shortbread", "Croissants"),
        ("at Home", "from Scratch", "Every Day", "for Beginners", "the Slow Way", "for Sunday Mornings"),
        ("", "Recipes for Every Season", "Bread, Cakes and Pastry from a Home Kitchen", "80 Recipes for Home Bakers"),
        (
            "step-by-step recipes with a photograph of every stage",
            "from a first loaf to laminated pastry, tested at home",
        ),
        (160, 320),
        (15, 28),
    ),
    "World Cuisine": Shelf(
        ("Tasting", "The Flavours of", "Cooking", "Street Food of", "Kitchens of", "A Table in"),
        ("Sicily", "Oaxaca", "Persia", "Vietnam", "Lebanon", "Kerala", "Georgia"),
        ("", "Recipes and Stories", "Home Cooking from the Markets", "100 Family Recipes"),
        (
            "home cooking from markets, grandmothers and street stalls",
            "recipes with the stories of the cooks who shared them",
        ),
        (180, 340),
        (16, 30),
        (ENGLISH, *FOREIGN),
        "cookery",
    ),
    "Picture Books": Shelf(
        ("Little Fox", "The Sleepy Bear", "Mouse", "Penguin", "Hedgehog", "The Tiny Dragon"),
        ("Goes to School", "and the Big Storm", "Finds a Friend", "Can't Sleep", "Says Hello", "and the Moon"),
        ("",),
        ("a bedtime story to read aloud, for ages 3 to 6", "a gently funny story about being brave, for ages 2 to 5"),
        (24, 40),
        (6, 13),
    ),
    "Young Adult": Shelf(
        ("The Girl Who", "The Boy Who", "The Summer We", "The Night We", "The Winter We"),
        ("Stole the Stars", "Outran the Storm", "Broke the Rules", "Lied", "Flew", "Disappeared", "Found the Map"),
        ("", "A Novel"),
        ("a coming-of-age adventure with a secret at its heart", "a fast, funny story about friendship and first love"),
        (260, 460),
        (8, 15),
    ),
    "Programming": Shelf(
        ("Python", "Rust", "Go", "TypeScript", "Kotlin", "Modern C++", "Elixir"),
        ("in Practice", "from the Ground Up", "Cookbook", "in Action", "Pocket Reference", "by Example"),
        ("", "A Practical Guide", "Second Edition", "Third Edition", "Writing Clear, Tested Code"),
        ("worked examples, exercises and the reasoning behind each idiom", "a hands-on guide for working developers"),
        (260, 820),
        (29, 55),
    ),
    "Databases": Shelf(
        ("PostgreSQL", "SQL", "SQLite", "MySQL", "Database Design", "Data Modelling"),
        ("for Developers", "Up and Running", "Performance Tuning", "Explained", "in Depth", "for Analysts"),
        ("", "A Practical Guide", "Second Edition", "Design, Queries and Performance"),
        (
            "schemas, indexes, transactions and query plans, with real examples",
            "from first queries to running production",
        ),
        (280, 720),
        (29, 55),
    ),
    "Networks & Security": Shelf(
        ("Network Security", "TCP/IP", "Web Application Security", "Cryptography", "Zero Trust Networks"),
        ("Essentials", "in Practice", "Handbook", "Field Guide", "for Engineers", "Explained"),
        ("", "A Practical Guide", "Second Edition", "Defending Modern Infrastructure"),
        ("the protocols, the attacks on them and the defences that work", "a practitioner's guide with labs to follow"),
        (300, 760),
        (32, 58),
    ),
}

# Books in other languages: novels (in the fiction categories that allow them) and cookery (World Cuisine).
FOREIGN_TITLES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("fr", "novel"): (
        ("La Maison", "Le Jardin", "La Nuit", "Le Silence", "L'Hiver", "La Mémoire", "Le Fleuve", "Les Lettres"),
        ("des oiseaux", "du port", "d'Agathe", "de septembre", "des autres", "sans retour"),
    ),
    ("de", "novel"): (
        ("Das Haus", "Der Garten", "Die Nacht", "Das Schweigen", "Der Winter", "Die Briefe", "Der Fluss", "Das Erbe"),
        ("am See", "im Norden", "der Möwen", "von Lübeck", "ohne Namen", "im August"),
    ),
    ("es", "novel"): (
        ("La casa", "El jardín", "La noche", "El silencio", "El invierno", "Las cartas", "El río", "La memoria"),
        ("del puerto", "de los pájaros", "de Lucía", "sin nombre", "de septiembre", "de los otros"),
    ),
    ("it", "novel"): (
        ("La casa", "Il giardino", "La notte", "Il silenzio", "L'inverno", "Le lettere", "Il fiume", "La memoria"),
        ("del porto", "degli uccelli", "di Lucia", "senza nome", "di settembre", "degli altri"),
    ),
    ("fr", "cookery"): (
        ("La Cuisine", "Les Saveurs", "La Table", "Les Marchés"),
        ("de Provence", "du Liban", "de Sicile", "du Vietnam", "du Maroc", "de ma grand-mère"),
    ),
    ("de", "cookery"): (
        ("Die Küche", "Die Aromen", "Die Märkte", "Die Gewürze"),
        ("der Türkei", "Siziliens", "Vietnams", "des Libanon", "Persiens", "Marokkos"),
    ),
    ("es", "cookery"): (
        ("La cocina", "Los sabores", "La mesa", "Los mercados"),
        ("de Oaxaca", "del Líbano", "de Sicilia", "de Vietnam", "de Marruecos", "de mi abuela"),
    ),
    ("it", "cookery"): (
        ("La cucina", "I sapori", "La tavola", "I mercati"),
        ("della Sicilia", "del Libano", "del Vietnam", "del Marocco", "di Oaxaca", "della nonna"),
    ),
}
FOREIGN_SUBTITLES = {
    ("fr", "novel"): ("", "Roman"),
    ("de", "novel"): ("", "Roman"),
    ("es", "novel"): ("", "Novela"),
    ("it", "novel"): ("", "Romanzo"),
    ("fr", "cookery"): ("", "Recettes de saison"),
    ("de", "cookery"): ("", "Rezepte für jeden Tag"),
    ("es", "cookery"): ("", "Recetas de temporada"),
    ("it", "cookery"): ("", "Ricette di stagione"),
}
FOREIGN_BLURB = {
    "novel": "A novel in {language}: {blurb}.",
    "cookery": "A cookery book in {language}: {blurb}.",
}
LANGUAGE_NAMES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}

# The cover colours of each part of the shop (hue, saturation): deep blues for fiction, warm for food...
COVER_HUES = {
    "Fiction": ((0.62, 0.55), (0.72, 0.45), (0.55, 0.5), (0.95, 0.45)),
    "Non-fiction": ((0.40, 0.45), (0.47, 0.5), (0.33, 0.35), (0.08, 0.35)),
    "Food & Drink": ((0.03, 0.6), (0.08, 0.7), (0.11, 0.65), (0.0, 0.55)),
    "Children": ((0.14, 0.75), (0.88, 0.5), (0.5, 0.6), (0.28, 0.6)),
    "Computing": ((0.58, 0.25), (0.52, 0.45), (0.6, 0.1), (0.75, 0.3)),
}


def title_pool(category: str, language: str) -> list[str]:
    """Every title a book of this category in this language can have, in a fixed order."""
    shelf = SHELVES[category]
    if language == ENGLISH:
        return shelf.titles()
    first, second = FOREIGN_TITLES[(language, shelf.kind)]
    return [f"{a} {b}" for a, b in itertools.product(first, second)]


def subtitle_pool(category: str, language: str) -> tuple[str, ...]:
    shelf = SHELVES[category]
    return shelf.subtitles if language == ENGLISH else FOREIGN_SUBTITLES[(language, shelf.kind)]


def blurb(category: str, language: str, choice: str) -> str:
    if language == ENGLISH:
        return choice[0].upper() + choice[1:] + "."
    return FOREIGN_BLURB[SHELVES[category].kind].format(language=LANGUAGE_NAMES[language], blurb=choice)


# Debian's DejaVu (fonts-dejavu-core, which Chromium pulls in) has every accent the titles use; Pillow's
# own font, the fallback, lacks some capitals (É).
FONTS = {
    "title": Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    "author": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}


@functools.cache
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONTS[kind].is_file():
        return ImageFont.truetype(str(FONTS[kind]), size)
    return ImageFont.load_default(size=size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def cover_png(*, title: str, author: str, section: str) -> bytes:
    """A cover for a demo book: its section's colours (picked by the title), the title and the author.

    Deterministic: the same arguments give the same bytes.
    """
    digest = hashlib.sha256(title.encode()).digest()
    hues = COVER_HUES.get(section, ((0.6, 0.3),))
    hue, saturation = hues[digest[0] % len(hues)]
    lightness = 0.28 + (digest[1] % 20) / 100
    background = tuple(round(c * 255) for c in colorsys.hls_to_rgb(hue, lightness, saturation))
    accent = tuple(round(c * 255) for c in colorsys.hls_to_rgb((hue + 0.08) % 1, 0.75, saturation))
    ink = (250, 247, 240)
    width, height = COVER_SIZE
    image = Image.new("RGB", COVER_SIZE, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, width - 24, height - 24), outline=accent, width=3)
    draw.rectangle((24, height * 0.66, width - 24, height * 0.66 + 8), fill=accent)

    size = 42
    title_font = _font("title", size)
    lines = _wrapped(draw, title, title_font, width - 100)
    while (len(lines) > 4 or any(draw.textlength(line, font=title_font) > width - 100 for line in lines)) and size > 24:
        size -= 4
        title_font = _font("title", size)
        lines = _wrapped(draw, title, title_font, width - 100)
    y = 90
    for line in lines:
        draw.text((width / 2, y), line, font=title_font, fill=ink, anchor="ma")
        y += round(size * 1.2)
    author_font = _font("author", 22)
    y = round(height * 0.66) + 36
    for line in _wrapped(draw, author, author_font, width - 100)[:4]:
        draw.text((width / 2, y), line, font=author_font, fill=ink, anchor="ma")
        y += 30

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
