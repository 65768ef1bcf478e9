"""What the tests of the pages' rows kept at load share (crmlens.model.KEPT_VIEWS: test_overview_kept,
test_funnel_kept, test_loyalty_kept, test_complaints_kept): the page's calls recorded in AppTest, and the two checks
every kept page gets."""

from __future__ import annotations

import pandas as pd
import pytest

from bench import pages
from crmlens import model, queries
from tests.conftest import assert_same_frames


def recorded_calls(page: str, snap, wanted, **address) -> list[tuple[str, dict]]:
    """The calls of the queries `wanted` (a predicate on the name) that page `page` makes on snap's database, opened
    in AppTest with these address parameters, in order, with their parameters."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv("CRMLENS_DB", str(snap.path))  # (recorded sets it: put back after)
        calls = pages.recorded(page, str(snap.path), timeout=300, **address)
    return [(name, params) for name, params in calls if wanted(name)]


def assert_every_call_reads_kept_rows(snap, calls: list[tuple[str, dict]]) -> None:
    """Each call reads its query's kept table, with nothing bound (the rows themselves), from its kept frame (the
    table's rows with the same types: model.KEPT_FRAMES)."""
    for name, params in calls:
        sql, bound = queries.prepared(name, params, snap)
        assert model.kept_view(snap, name, params) == f"mart_{name}_kept", name
        assert f"from mart_{name}_kept " in sql and bound == {}, name
        frame = model.kept_frame(snap, name, {**queries.DEFAULT_PARAMS, **params})
        assert frame is not None, name
        pd.testing.assert_frame_equal(frame, snap.query(sql), obj=name)


def assert_kept_frames_are_the_kept_rows(snap) -> None:
    """model.KEPT_FRAMES holds a frame for every kept table with rows kept (settings not NULL), each the table's rows
    as its query returns them: the same columns, dtypes and values, in order."""
    kept = {query: snap.query(f"select any_value(settings) as s from {table}").iloc[0, 0]
            for query, table in model.KEPT_VIEWS.items()}
    frames = snap.query(f"select query, settings, frame from {model.KEPT_FRAMES}")
    assert sorted(frames["query"]) == sorted(query for query, settings in kept.items() if not pd.isna(settings))
    for query, settings, frame in frames.itertuples(index=False):
        assert settings == kept[query], query
        pd.testing.assert_frame_equal(model._frame_from_bytes(frame),
                                      snap.query(model.kept_rows_sql(model.KEPT_VIEWS[query])), obj=query)


def assert_kept_rows_are_the_query_s(snap, calls: list[tuple[str, dict]], monkeypatch,
                                     switched_off=("USE_KEPT_VIEWS",)) -> dict[str, pd.DataFrame]:
    """Each call's kept rows against its query run without them (the model's switches `switched_off` off), row for
    row in the query's order; returns the kept rows by query."""
    kept = {name: queries.run(name, params, snap=snap) for name, params in calls}
    for switch in switched_off:
        monkeypatch.setattr(model, switch, False)
    for name, params in calls:
        assert f"from mart_{name}_kept " not in queries.prepared(name, params, snap)[0], name
        assert_same_frames(kept[name], queries.run(name, params, snap=snap))
    return kept


def assert_opening_parameters_are_the_page_s(snap, page: str, calls: list[tuple[str, dict]]) -> None:
    """The parameters the load works each query's kept rows out with (crmlens.model's opening facts, read from snap's
    marts as a load reads them), against the page's own, recorded: the same in every parameter the query reads but the
    model's flags (what a kept table's settings hold), one query at a time, so that a difference names its query."""
    cur = snap.cursor()
    try:
        facts = model._opening_facts(cur, page)
    finally:
        cur.close()
    assert facts["known"]
    for name, params in calls:
        names = model._kept_view_names(name)
        built_with = model.settings_key(model._opening_params(page, name, facts), names)
        assert built_with == model.settings_key({**queries.DEFAULT_PARAMS, **params}, names), name
