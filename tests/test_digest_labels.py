"""Issue 16, defect 7 (left over): one figure, one name. A digest and an alert name each figure as its page
does (its card, its ladder row), in the reader's language: "Period churn rate" on the Churn page is not
"Churn rate" in the message, "客单价" on the Overview is not "平均订单金额" in the digest."""

from __future__ import annotations

import re

import pytest

from crmlens import i18n, store
from crmlens.digest import figures, model, render
from tests.conftest import app_test

PAGE_KEY = re.compile(r"^(kpi|funnel|loyalty|churn|complaints)\.")


def test_every_digest_figure_is_named_by_a_page_key():
    for page, shown in figures.SHOWN.items():
        for key, _, _ in shown:
            assert PAGE_KEY.match(key) and not key.startswith("digest."), (page, key)
            for lang in i18n.LANGUAGES:
                assert i18n.translate(lang, key, **figures.LABEL_VALUES.get(key, {})) != key


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_the_churn_digest_names_its_figures_as_the_churn_page_does(lang, db_env):
    at = app_test("churn", lang=lang)
    assert not at.exception
    cards = {m.label for m in at.metric}
    code = "en" if lang == "English" else "zh"
    d = model.Digest(name="w", page="churn", params=[], targets=[model.target("email", "a@example.com")],
                     schedule="weekly:mon", lang=code)
    msg = render.digest_message(store.snapshot(db_env), d, with_image=False)
    labels = [label for label, _ in msg.lines]
    assert labels and set(labels) <= cards, (labels, cards)


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_the_overview_digest_names_its_figures_as_the_overview_does(lang, db_env):
    at = app_test("overview", lang=lang, period=["2024-07-01", "2024-12-31"])
    cards = {m.label for m in at.metric}
    code = "en" if lang == "English" else "zh"
    d = model.Digest(name="w", page="overview", params=[("period", "2024-07-01"), ("period", "2024-12-31")],
                     targets=[model.target("email", "a@example.com")], schedule="weekly:mon", lang=code)
    labels = [label for label, _ in render.digest_message(store.snapshot(db_env), d, with_image=False).lines]
    assert labels == [m.label for m in at.metric]  # the same eight cards, in the same order
    assert cards


def test_alerts_name_the_churn_rate_and_the_breach_rate_as_their_pages_do():
    for lang in i18n.LANGUAGES:
        assert i18n.translate(lang, model.metric_key("churn_rate")) == i18n.translate(lang, "churn.kpi.rate")
        assert i18n.translate(lang, model.metric_key("sla_breach_rate")) == i18n.translate(lang, "complaints.kpi.breach")
