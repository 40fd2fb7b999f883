"""Memory: building the app loads no library that only an optional channel or a report needs.

aiogram alone is ~130 MiB of RSS; fpdf2, imagehash, pygal and pyproj ~50 more. They load when
Telegram is on, or with the first PDF, photo, chart or reprojected map, never with the app.
"""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ("aiogram", "fpdf", "fontTools", "imagehash", "pygal", "pyproj")

PROBE = """
import json, sys
from guardianes.app import create_app
from guardianes.config import Settings
create_app(Settings(telegram_bot_token=None))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_building_the_app_loads_no_lazy_library() -> None:
    # A fresh interpreter: the test session itself has imported everything already.
    found = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(found.stdout.splitlines()[-1]))
    assert sorted(loaded.intersection(LAZY)) == []
