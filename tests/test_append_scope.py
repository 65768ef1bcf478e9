"""The two forms of a by-key update's scope (crmlens.model._key_scope): few keys as constant lists (pushed into the
order scan), many as IN subqueries (a hash join). Both must leave every mart as a full rebuild makes it; which one
an append takes depends on its number of keys (model.KEY_LIST_MAX)."""

from __future__ import annotations

import datetime as dt

import pytest

from crmlens import model
from tests.test_append_marts import append, assert_same, builds, facts, load_data  # noqa: F401 (builds: a fixture)


@pytest.mark.parametrize("list_max", [0, model.KEY_LIST_MAX])
def test_both_forms_of_the_scope_give_a_full_rebuilds_marts(list_max, tmp_path, builds, monkeypatch):  # noqa: F811
    monkeypatch.setattr(model, "KEY_LIST_MAX", list_max)
    scopes = []
    real = model._key_scope
    monkeypatch.setattr(model, "_key_scope", lambda con: scopes.append(real(con)) or scopes[-1])
    db = tmp_path / "crm.duckdb"
    load_data(db, "churn")
    f = facts(db)
    inside = f["first"] + (f["last_order"] - f["first"]) / 2
    rows = [("XA1", f["buyers"][0], inside, 50, "completed"), ("XA2", "NEW-1", inside, 80, "completed"),
            ("XA3", None, inside, 20, "completed"), ("XA4", f["buyers"][-1], inside + dt.timedelta(days=1), -30, None)]
    made = append(db, tmp_path, "a", rows, builds)
    assert made["mart_customer_days"] == "keys" and made["mart_order_dates"] == "keys"
    assert len(scopes) == 1
    uses_lists = "getvariable('crmlens_build_customers')" in scopes[0]  # (the loaded tables' scope is a list always)
    assert uses_lists == (list_max > 0)
    assert ("_build_customers s)" in scopes[0]) == (list_max == 0)
    assert_same(db)
