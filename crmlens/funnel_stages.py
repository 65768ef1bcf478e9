"""The funnel's proposed stage order: known stage names in their usual order. Kept apart from crmlens.funnel (which
imports scipy and statsmodels for its significance tests) so that the load, which builds mart_opportunities' default_* columns with
the proposed settings (crmlens.model), does not import them."""

from __future__ import annotations

import re

import pandas as pd

from crmlens import contract

# Known stage names, in funnel order (compared after normalise()). Closed stages come last.
KNOWN_OPEN_STAGES = (
    ("lead", "leads", "new", "new lead", "mql", "线索", "新线索", "潜在客户"),
    ("prospecting", "prospect", "prospects", "潜在", "挖掘", "初步接洽"),
    ("qualified", "qualification", "qualify", "sql", "合格", "已确认", "需求确认", "有效商机"),
    ("engaging", "engage", "engaged", "contacted", "needs analysis", "接洽", "沟通", "需求分析"),
    ("proposal", "quote", "quotation", "proposal price quote", "方案报价", "方案", "报价", "提案"),
    ("negotiation", "negotiation review", "negotiating", "谈判", "商务谈判", "合同谈判"),
)


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-/.]+", " ", str(name).strip().lower()).strip()


_WON = {normalise(s) for s in contract.WON_STAGES}
_LOST = {normalise(s) for s in contract.LOST_STAGES}
_RANK = {normalise(alias): rank for rank, names in enumerate(KNOWN_OPEN_STAGES) for alias in names}


def propose(vocab: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(order, won, lost) stage keys from funnel_stage_vocab: known open stages in their usual
    order, unknown ones after them (most opportunities first), then won, then lost."""
    keys = list(vocab["stage_key"])
    size = dict(zip(vocab["stage_key"], vocab["n_current"].fillna(0) + vocab["n_history"].fillna(0)))
    won = [k for k in keys if normalise(k) in _WON]
    lost = [k for k in keys if normalise(k) in _LOST]
    open_ = [k for k in keys if k not in won and k not in lost]
    known = sorted((k for k in open_ if normalise(k) in _RANK), key=lambda k: (_RANK[normalise(k)], k))
    unknown = sorted((k for k in open_ if normalise(k) not in _RANK), key=lambda k: (-size[k], k))
    return known + unknown + won + lost, won, lost
