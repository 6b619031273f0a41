"""The chart modules draw from plain data: importing them loads no Flask, database or app code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, sys
importlib.import_module("village_survey.charts")
importlib.import_module("village_survey.charts.style")
importlib.import_module("village_survey.charts.bars")
importlib.import_module("village_survey.charts.map")
banned = ("flask", "flask_babel", "sqlalchemy", "flask_sqlalchemy", "village_survey.extensions")
print(" ".join(name for name in banned if name in sys.modules) or "-")
"""


def test_importing_the_charts_loads_no_flask_no_sqlalchemy_and_not_the_app_extensions():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "-"
