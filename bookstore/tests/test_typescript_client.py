"""A TypeScript client, generated from the served schema, walks a customer's and a staff member's day.

openapi-typescript turns `/api/schema` into types, `tsc --strict` checks the journeys
(`clients/typescript/src/journey.ts`, written with openapi-fetch) against them, and node runs
them against a live server. A field renamed or retyped on the server breaks the compile; a
status or body the schema does not promise breaks the run. The npm packages are pinned in
`clients/typescript/package-lock.json` and installed by `make client-ts` (part of `make test`).
Without node or those packages the test skips on a laptop and fails in CI (`REQUIRE_POSTGRES=1`).
"""

import io
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from PIL import Image

from accounts.tests.factories import UserFactory
from catalog.search_index import book_search_vector_refresh
from catalog.tests.factories import AuthorFactory, BookFactory, CategoryFactory

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "typescript"
STAFF_PASSWORD = "Plenty-of-entropy-42"
TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "lib": ["ES2022", "DOM"],
        "types": ["node"],
        "strict": True,
        "noUncheckedIndexedAccess": True,
        "noEmitOnError": True,
        "skipLibCheck": True,
        "outDir": "dist",
        "rootDir": "src",
    },
    "include": ["src"],
}


def _toolchain() -> tuple[str, Path]:
    node = shutil.which("node")
    modules = CLIENT_DIR / "node_modules"
    if node and (modules / ".bin" / "tsc").exists() and (modules / ".bin" / "openapi-typescript").exists():
        return node, modules
    message = "node and clients/typescript/node_modules are needed (run `make client-ts`)"
    if os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(command: list[str], cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def shelf(db):
    fiction = CategoryFactory(name="Fiction", slug="fiction")
    author = AuthorFactory(name="Ursula K. Le Guin")
    BookFactory(title="A Wizard of Earthsea", category=fiction, authors=[author], price=Decimal("9.99"), stock=5)
    BookFactory(title="The Dispossessed", category=fiction, authors=[author], price=Decimal("12.00"))
    book_search_vector_refresh()
    return UserFactory(is_staff=True, password=STAFF_PASSWORD)


def build_client(schema_url: str, work: Path, modules: Path, node: str) -> Path:
    """Generates the types from the served schema and compiles the journeys with `tsc --strict`."""
    response = httpx.get(schema_url, params={"format": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    schema = work / "schema.json"
    schema.write_bytes(response.content)
    shutil.copytree(CLIENT_DIR / "src", work / "src", ignore=shutil.ignore_patterns("schema.d.ts"))
    shutil.copy(CLIENT_DIR / "package.json", work / "package.json")
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    (work / "node_modules").symlink_to(modules)
    # --default-non-nullable false: a request field with a default stays optional in the types.
    generate = [str(modules / ".bin" / "openapi-typescript"), str(schema), "-o", "src/schema.d.ts"]
    _run([node, *generate, "--default-non-nullable", "false"], work)
    _run([node, str(modules / ".bin" / "tsc"), "--strict", "-p", "tsconfig.json"], work)
    return work / "dist" / "journey.js"


@pytest.mark.django_db(transaction=True)
def test_a_typescript_client_generated_from_the_schema_runs_the_journeys(shelf, live_server, tmp_path, settings):
    node, modules = _toolchain()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    journey = build_client(f"{live_server.url}/api/schema", tmp_path, modules, node)
    cover = tmp_path / "cover.png"
    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), "red").save(buffer, format="PNG")
    cover.write_bytes(buffer.getvalue())

    out = _run(
        [node, str(journey)],
        tmp_path,
        env={
            **os.environ,
            "BOOKSTORE_URL": live_server.url,
            "STAFF_EMAIL": shelf.email,
            "STAFF_PASSWORD": STAFF_PASSWORD,
            "COVER_PATH": str(cover),
        },
    )

    assert "journeys: ok" in out
