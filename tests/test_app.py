"""Page logic through streamlit.testing.v1.AppTest, on tests/fixtures/tiny (numbers: test_overview_queries)."""

from streamlit.testing.v1 import AppTest

from tests.conftest import APP, app_test, shown_text

PERIOD = ["2024-07-01", "2024-12-31"]



def open_app(**query) -> AppTest:
    return app_test(**query)


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_overview_shows_period_figures_with_change(db_env):
    at = open_app(period=PERIOD)
    assert not at.exception
    shown = metrics(at)
    assert shown["Revenue"] == ("900", "+800.0%")  # 900 vs 100
    assert shown["Orders"] == ("3", "+200.0%")  # 3 vs 1
    assert shown["Average order value"] == ("300.00", "+200.0%")  # 300 vs 100
    assert shown["Customers"] == ("4", "+100.0%")  # 4 vs 2
    assert shown["Active customers"][0] == "3"
    assert shown["New customers"] == ("2", "+100.0%")  # 2 vs 1
    assert shown["Open opportunities"] == ("2", "+0.0%")
    assert shown["Complaints"] == ("2", "+100.0%")
    assert "2024-07-01 to 2024-12-31" in at.caption[0].value
    assert "184 days" in at.caption[0].value


def test_overview_in_chinese_from_the_url(db_env):
    at = open_app(period=PERIOD, lang="中文")
    shown = metrics(at)
    assert shown["收入"][0] == "900"
    assert shown["投诉"][0] == "2"
    assert at.title[0].value == "总览"
    assert "2024年7月1日" in at.caption[0].value


def test_language_follows_browser_locale_by_default(db_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.context = {"locale": "zh-CN"}
    at.query_params["period"] = PERIOD
    at.run()
    assert at.title[0].value == "总览"


def test_language_switch_changes_labels(db_env):
    at = open_app(period=PERIOD)
    assert at.title[0].value == "Overview"
    at.button_group(key="_crmlens_language").set_value("zh").run()
    assert at.title[0].value == "总览"


def test_large_numbers_in_chinese_use_wan(db_env):
    from crmlens import fmt
    assert fmt.number(123456, "zh") == "12.35万"
    assert fmt.number(3.2e8, "zh") == "3.20亿"
    assert fmt.number(123456, "en") == "123,456"
    assert fmt.number(2_500_000, "en") == "2.50M"


def test_default_period_ends_at_newest_data(db_env):
    # Newest activity in tiny: order O6 on 2025-01-02 (C4 signs up later, but signups are not activity),
    # so the default is 2024-01-04..2025-01-02 (365 days).
    at = open_app()
    assert "2024-01-04 to 2025-01-02" in at.caption[0].value


def test_no_database_shows_how_to_get_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMLENS_DB", str(tmp_path / "missing.duckdb"))
    at = open_app()
    assert not at.exception
    assert "No data yet" in at.info[0].value
    assert not at.metric


def test_data_page_lists_tables_and_loads(db_env):
    at = open_app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    tables = at.dataframe[0].value.set_index("Table")
    assert tables.loc["Orders", "Rows"] == 7
    assert tables.loc["Surveys", "Rows"] == 0
    loads = at.dataframe[1].value
    assert sorted(loads["File"]) == ["complaints.csv", "customers.csv", "opportunities.csv", "orders.csv"]


def test_data_page_upload_loads_file_and_bumps_version(db_env):
    from crmlens import store
    before = store.snapshot(db_env).version
    at = open_app()
    at.switch_page("pages/data.py").run()
    csv = b"Customer ID,Survey Date,NPS\nC1,2024-09-01,9\nC2,2024-09-02,6\n"
    at.file_uploader[0].set_value(("surveys.csv", csv, "text/csv")).run()
    at.button[0].click().run()
    assert not at.exception
    assert "2 rows loaded into Surveys" in at.success[0].value
    assert store.snapshot(db_env).version == before + 1
    tables = at.dataframe[0].value.set_index("Table")
    assert tables.loc["Surveys", "Rows"] == 2


def test_data_page_bad_upload_changes_nothing(db_env):
    from crmlens import store
    before = store.snapshot(db_env).version
    at = open_app()
    at.switch_page("pages/data.py").run()
    at.file_uploader[0].set_value(("orders.csv", b"order_id,order_date\nO9,2024-01-01\n", "text/csv")).run()
    # Checked before loading: the message names the file and the missing columns; loading is not offered.
    assert "orders.csv" in shown_text(at.error[0].value)  # file names and values arrive escaped (safe.md)
    assert "customer_id, amount are missing" in shown_text(at.error[0].value)
    assert at.button[0].disabled
    assert store.snapshot(db_env).version == before


def test_data_page_mapping_fixed_by_hand_then_loaded(db_env):
    from crmlens import store
    at = open_app()
    at.switch_page("pages/data.py").run()
    csv = "单号,客户,下单日期,实收\nN1,C1,2024年9月1日,\"¥1,200.00\"\nN2,C2,2024年9月2日,80\n".encode("gb18030")
    at.file_uploader[0].set_value(("export.csv", csv, "text/csv")).run()
    # 单号 is an order number alias, 下单日期 a date alias; 客户 and 实收 are not known: map them by hand.
    assert at.selectbox(key=next(k for k in keys(at) if k.endswith("_orders_customer_id"))).value == ""
    at.selectbox(key=next(k for k in keys(at) if k.endswith("_orders_customer_id"))).set_value("客户").run()
    at.selectbox(key=next(k for k in keys(at) if k.endswith("_orders_amount"))).set_value("实收").run()
    assert not at.error
    assert [m.value for m in at.metric][:3] == ["2", "2", "0"]
    at.button[0].click().run()
    assert "export.csv: 2 rows loaded into Orders" in shown_text(at.success[0].value)
    rows = store.snapshot(db_env).query("select order_id, customer_id, amount from orders where order_id like 'N%' order by 1")
    assert rows.values.tolist() == [["N1", "C1", 1200.0], ["N2", "C2", 80.0]]


def test_the_preview_shows_an_empty_cell_as_a_dash(db_env):
    """A complaints export with empty resolution times: the preview before loading drew "None" in those cells."""
    at = open_app()
    at.switch_page("pages/data.py").run()
    csv = b"complaint_id,customer_id,created_at,resolved_at\nK1,C1,2024-09-01 10:00,\nK2,C2,2024-09-02 11:00,2024-09-03 09:00\n"
    at.file_uploader[0].set_value(("complaints.csv", csv, "text/csv")).run()
    assert not at.exception
    preview = next(d for d in at.dataframe if "complaint_id" in d.value.columns)
    assert preview.value["complaint_id"].tolist() == ["K1", "K2"] and preview.value["resolved_at"].isna().iloc[0]
    assert preview.proto.placeholder == "–"


def keys(at: AppTest) -> list[str]:
    return [s.key for s in at.selectbox if s.key]


def test_data_page_fixed_value_and_update_mode(db_env):
    from crmlens import store
    at = open_app()
    at.switch_page("pages/data.py").run()
    # A leads export without a stage column: every row is at stage "lead".
    csv = b"lead id,first contact\nL1,2024-05-01\nL2,2024-05-02\n"
    at.file_uploader[0].set_value(("leads.csv", csv, "text/csv")).run()
    at.selectbox(key=next(k for k in keys(at) if k.endswith("_table") or k.startswith("table_"))).set_value("opportunities").run()
    stage_key = next(k for k in keys(at) if k.endswith("_opportunities_stage"))
    at.selectbox(key=next(k for k in keys(at) if k.endswith("_opportunities_opportunity_id"))).set_value("lead id").run()
    at.selectbox(key=stage_key).set_value("✎ fixed value ✎").run()
    at.text_input(key=stage_key + "_fixed").input("lead").run()
    at.radio[0].set_value("update").run()
    assert not at.error
    at.button[0].click().run()
    assert not at.exception
    rows = store.snapshot(db_env).query("select opportunity_id, stage from opportunities where opportunity_id like 'L%' order by 1")
    assert rows.values.tolist() == [["L1", "lead"], ["L2", "lead"]]
    assert store.snapshot(db_env).query("select count(*) n from opportunities")["n"][0] == 6  # P1-P4 kept


def test_data_page_rolls_back_to_a_kept_version_and_clears_a_table(db_env):
    from crmlens import store, versions
    at = open_app()
    at.switch_page("pages/data.py").run()
    before = store.snapshot(db_env).version
    at.file_uploader[0].set_value(("surveys.csv", b"customer_id,nps\nC1,9\nC2,6\n", "text/csv")).run()
    at.button[0].click().run()
    assert store.snapshot(db_env).version == before + 1
    assert before in versions.kept(db_env)
    rollback = next(b for b in at.button if b.label == "Roll back")
    assert rollback.disabled  # not before the confirmation is ticked
    at.selectbox(key="undo_version").select_index(
        next(i for i, o in enumerate(at.selectbox(key="undo_version").options) if o.startswith(f"version {before} "))).run()
    at.checkbox(key="undo_sure").check().run()
    next(b for b in at.button if b.label == "Roll back").click().run()
    assert not at.exception
    assert f"Rolled back to version {before}: the data is now version {before + 2}." in [s.value for s in at.success]
    assert at.dataframe[0].value.set_index("Table").loc["Surveys", "Rows"] == 0
    loads = at.dataframe[1].value
    assert loads.iloc[0][["Data version", "File", "Mode"]].tolist() == [before + 2, f"version {before}", "Rolled back"]
    at.selectbox(key="clear_table").set_value("Orders").run()
    at.checkbox(key="clear_sure").check().run()
    next(b for b in at.button if b.label == "Clear table").click().run()
    assert at.dataframe[0].value.set_index("Table").loc["Orders", "Rows"] == 0
    assert store.snapshot(db_env).version == before + 3


def test_data_page_missing_words_are_a_choice(db_env):
    at = open_app()
    at.switch_page("pages/data.py").run()
    csv = b"customer_id,nps,survey_date\nC1,9,unknown\nC2,6,2024-09-02\n"
    at.file_uploader[0].set_value(("surveys.csv", csv, "text/csv")).run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows rejected"] == "1"
    next(w for w in at.text_input if w.key.startswith("missing_")).input("unknown, n.a.").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Rows to load"], shown["Rows rejected"]) == ("2", "0")


def test_data_page_an_amount_worked_out_from_quantity_and_unit_price_says_so(db_env):
    """The helper's walk with the online-retail export (Quantity and UnitPrice, no amount): the amount's choice read
    "— not in this file —" beside "(required)", as if the file could not load; it now names how it is worked out."""
    at = open_app()
    at.switch_page("pages/data.py").run()
    csv = b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n536365,17850,2010-12-01 08:26,6,2.55\n"
    at.file_uploader[0].set_value(("online_retail.csv", csv, "text/csv")).run()
    amount = at.selectbox(key=next(k for k in keys(at) if k.endswith("_orders_amount")))
    assert amount.value == "" and amount.format_func("") == "= Quantity × UnitPrice (worked out per line)"
    assert not at.error and not at.button[0].disabled
    quantity = at.selectbox(key=next(k for k in keys(at) if k.endswith("_orders_quantity")))
    assert quantity.format_func("") == "— not in this file —"  # the other columns' words stay
