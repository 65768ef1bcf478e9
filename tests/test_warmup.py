"""crmlens.warmup: the heavy modules are imported in the background, never while a page runs."""

import sys
import time

from crmlens import warmup


def _probe_module(tmp_path, monkeypatch, name: str) -> None:
    """A module that writes down when it was imported."""
    (tmp_path / f"{name}.py").write_text("import time\nIMPORTED_AT = time.monotonic()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_modules_are_imported_only_after_the_page_run_and_its_grace(tmp_path, monkeypatch):
    name = "crmlens_warmup_probe"
    _probe_module(tmp_path, monkeypatch, name)
    monkeypatch.setattr(warmup, "_thread", None)
    monkeypatch.setattr(warmup, "_running", 0)
    with warmup.page_running():
        thread = warmup.start((name,))
        time.sleep(0.3)
        assert name not in sys.modules  # a page is running: nothing imported yet
        assert warmup.start((name,)) is thread  # one thread per process
    ended = time.monotonic()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert sys.modules[name].IMPORTED_AT - ended >= warmup.GRACE_S  # not before the grace after the run


def test_a_missing_module_does_not_stop_the_rest(tmp_path, monkeypatch):
    name = "crmlens_warmup_probe_after_missing"
    _probe_module(tmp_path, monkeypatch, name)
    monkeypatch.setattr(warmup, "_thread", None)
    monkeypatch.setattr(warmup, "_running", 0)
    monkeypatch.setattr(warmup, "_last_end", 0.0)
    warmup.start(("crmlens_no_such_module", name)).join(timeout=10)
    assert name in sys.modules


def test_the_modules_listed_exist():
    import importlib.util

    assert all(importlib.util.find_spec(name) is not None for name in warmup.MODULES)
