"""The derived display name (DESIGN §2), in Python and in the form's live preview (JS).

One table drives both: the JS copy in static/js/clients.js must give the same answers as
portal.models.client.display_name_for, or the preview would promise a name that is not saved.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.models import Client, display_name_for

JS = Path(__file__).resolve().parent.parent / "static" / "js" / "clients.js"

# (kind, first, last, spouse first, spouse last, company) -> display name
CASES = [
    (("individual", "Jane", "Doe", "", "", ""), "Jane Doe"),
    (("individual", "  Jane ", "  Doe  ", "", "", ""), "Jane Doe"),
    (("individual", "Mary  Ann", "Van   Dyke", "", "", ""), "Mary Ann Van Dyke"),
    (("individual", "Seán", "O'Brien", "", "", ""), "Seán O'Brien"),
    (("individual", "Zoë", "Brontë-Smith", "", "", ""), "Zoë Brontë-Smith"),
    (("individual", "Jane", "", "", "", ""), "Jane"),
    (("individual", "Jane", "Doe", "Ignored", "Ignored", "Ignored Inc"), "Jane Doe"),
    (("joint", "John", "Smith", "Mary", "", ""), "John & Mary Smith"),
    (("joint", "John", "Smith", "Mary", "Smith", ""), "John & Mary Smith"),
    (("joint", "John", "Smith", "Mary", "SMITH", ""), "John & Mary Smith"),
    (("joint", "John", "Smith", "Mary", "  smith ", ""), "John & Mary Smith"),
    (("joint", "John", "Smith", "Mary", "Jones", ""), "John Smith & Mary Jones"),
    (("joint", "José", "García", "Ana", "Pérez", ""), "José García & Ana Pérez"),
    (("joint", "Liam", "O'Neil", "Aoife", "o'neil", ""), "Liam & Aoife O'Neil"),
    (("joint", "Émile", "Zola", "Anne", "ZOLA", ""), "Émile & Anne Zola"),
    (("joint", "Hans", "Straße", "Greta", "STRASSE", ""), "Hans & Greta Straße"),
    (("joint", " John ", " Van  Dyke ", " Mary ", "Van Dyke", ""), "John & Mary Van Dyke"),
    (("joint", "John", "Smith", "", "", ""), "John & Smith"),
    (("business", "", "", "", "", "Smith & Sons, LLC"), "Smith & Sons, LLC"),
    (("business", "", "", "", "", "  Acme   Widgets  "), "Acme Widgets"),
    (("business", "Jane", "Doe", "", "", "L'Atelier Café"), "L'Atelier Café"),
    (("business", "", "", "", "", ""), ""),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_display_name_rule(args, expected):
    assert display_name_for(*args) == expected


def test_client_refresh_name_and_touch_use_the_rule():
    client = Client(kind="joint", first_name="John", last_name="Smith",
                    spouse_first_name="Mary", spouse_last_name="Jones", version=3)
    client.touch()
    assert client.display_name == "John Smith & Mary Jones"
    assert client.version == 4


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_live_preview_js_matches_python():
    script = (
        f"const m = require({json.dumps(str(JS))});"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map((a) => m.displayNameFor(...a))));"
    )
    args = [list(a) for a, _ in CASES]
    result = subprocess.run(
        [shutil.which("node"), "-e", script],
        input=json.dumps(args), capture_output=True, text=True, timeout=30, check=True,
    )
    from_js = json.loads(result.stdout)
    from_python = [display_name_for(*a) for a in args]
    assert from_js == from_python
