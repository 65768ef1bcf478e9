import itertools
"""Every query file documents itself, binds its parameters, and has a test."""

import pathlib

import pytest

from crmlens import model, queries

TESTS = pathlib.Path(__file__).resolve().parent
ALL = queries.names()


def test_there_are_queries():
    assert {"overview_kpis", "overview_trend", "data_span", "data_loads"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_header_names_purpose_params_and_returns(name):
    lines = queries.sql_text(name).splitlines()
    assert lines[0].startswith(f"-- {name}: "), "first line: -- <name>: <purpose>"
    header = list(itertools.takewhile(lambda line: line.startswith("--"), lines))
    assert any(line.startswith("-- params:") for line in header)
    assert any(line.startswith("-- returns:") for line in header)
    assert max(map(len, header)) <= 160, "wrap long header lines (continuation lines start with '--   ')"


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_used_is_declared_in_the_header(name):
    sql = queries.sql_text(name)
    assert set(queries.parameters(sql)) == set(queries.declared_parameters(sql))


@pytest.mark.parametrize("name", ALL)
def test_every_query_is_exercised_by_a_test(name):
    test_text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py") if p.name != "test_queries_meta.py")
    assert f'"{name}"' in test_text


def test_parameters_are_found_outside_comments_only():
    sql = "-- uses $not_this\nselect $a, $b::date, '$' as c, $a from t where x = $c_1"
    assert queries.parameters(sql) == ["a", "b", "c_1"]


def test_bind_passes_only_what_the_query_uses_and_requires_the_rest():
    bound = queries.bind("data_loads", {"limit": 5, "start": "ignored"})
    assert bound == {"limit": 5}
    with pytest.raises(KeyError, match="limit"):
        queries.bind("data_loads", {})


def test_include_lines_pull_in_shared_pieces():
    sql = queries.sql_text("churn_cohorts")
    assert "-- include:" not in sql
    assert "select customer_id from stg_customers c\n" in sql


def test_every_shared_piece_is_used():  # by an include line, or in place of one when a mart has its facts
    used = "\n".join(p.read_text(encoding="utf-8") for p in queries.QUERY_DIR.glob("*.sql"))
    used += "\n".join(p.read_text(encoding="utf-8") for p in queries.SHARED_DIR.glob("*.sql"))
    used += "\n".join(f"-- include: {mart_piece}" for mart_piece in model.MART_PIECES.values())
    used += "\n".join(f"-- include: {end_piece}" for end_piece in model.PERIOD_PIECES.values())
    used += "\n".join(f"-- include: {default_piece}" for default_piece in model.DEFAULT_PIECES.values())
    used += "\n" + "\n".join(f"-- include: {piece}" for piece in model.mart_pieces("complaints_churn", "complaints_unfiltered").values())
    used += "\n" + "\n".join(f"-- include: {piece}" for piece in model.STATES_PIECES.values())
    used += "\n" + "\n".join(f"-- include: {piece}" for piece in model.FUNNEL_PIECES.values())
    used += "\n" + "\n".join(f"-- include: {moves_piece}" for swap in model.MOVES_PIECES.values() for moves_piece in swap.values())
    for piece in queries.SHARED_DIR.glob("*.sql"):
        assert f"-- include: {piece.stem}" in used, piece.name


def test_mart_pieces_replace_their_live_piece_only_when_asked():
    for name in model.LOYALTY_MART_QUERIES:
        assert "from mart_loyalty_months" not in queries.sql_text(name)
        assert "from mart_loyalty_months" in queries.sql_text(name, from_marts=True)
        assert "from stg_orders" not in queries.sql_text(name, from_marts=True).replace(
            "(select min(order_date) from stg_orders)", "")  # loyalty_climb's first month


def test_include_takes_the_piece(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "base.sql").write_text("select a\nfrom t")
    monkeypatch.setattr(queries, "SHARED_DIR", shared)
    assert queries._expand("with x as (\n-- include: base\n)", ("q",)) == "with x as (\nselect a\nfrom t\n)"
    with pytest.raises(KeyError, match="no file"):
        queries._expand("-- include: nothing", ("q",))
