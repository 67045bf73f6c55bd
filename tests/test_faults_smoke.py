"""One kill-and-recover cycle of scripts/faults.py against a real gunicorn (the full runs are
in the script; see RELIABILITY.md)."""
import importlib.util
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "faults.py"


@pytest.fixture(scope="module")
def faults():
    spec = importlib.util.spec_from_file_location("faults", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkill_of_the_whole_server_loses_nothing_acknowledged(faults, tmp_path):
    instance = faults.Instance(tmp_path, "fake", workers=1)
    try:
        instance.flask("init-db", "--demo")
        instance.flask("index", "rebuild")
        instance.start()
        stream = faults.Stream(instance, rate=20, seed=1)
        stream.start(threads=2)
        time.sleep(1.0)
        instance.kill_server()
        time.sleep(0.3)
        instance.start()
        time.sleep(1.0)
        stream.stop()
        figures = {}
        problems = faults.check(instance, stream, [], figures)
        assert problems == []
        assert figures["acknowledged"] > 5 and figures["acknowledged_lost_or_duplicated"] == 0
    finally:
        instance.stop()
