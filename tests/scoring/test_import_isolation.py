"""The scoring package and the data dictionary are pure standard-library Python."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules loaded at interpreter start (site .pth hooks) are not the import's doing: compare.
PROBE = """
import importlib, sys
before = set(sys.modules)
importlib.import_module("village_survey.scoring")
importlib.import_module("village_survey.survey_fields")
loaded = {name.split(".")[0] for name in set(sys.modules) - before}
print(" ".join(sorted(loaded - set(sys.stdlib_module_names) - {"village_survey"})) or "-")
print("flask" in sys.modules, "sqlalchemy" in sys.modules)
"""


def test_importing_scoring_loads_no_flask_no_sqlalchemy_and_nothing_outside_stdlib():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    foreign, flags = done.stdout.splitlines()
    assert foreign == "-"
    assert flags == "False False"
