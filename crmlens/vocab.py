"""Every word list a business rule reads, in one place.

The model layer (queries/model/) copies these into the `vocabulary` table at every load, so
that a status means the same thing on every page, in the command line and in every digest.
Words are compared in lower case with the surrounding space trimmed.
"""

from __future__ import annotations

import re

# Order statuses that make an order line not count: not an order, no revenue.
NON_REVENUE_STATUSES = ("cancelled", "canceled", "returned", "refunded", "voided", "已取消", "取消", "退货", "已退款",
                        "交易关闭", "已关闭")  # voided: Shopify; 交易关闭: Taobao, closed unpaid; 已关闭: Douyin, Youzan

# The statuses among those that mean an order was cancelled (an order line folded into a cancelled order).
CANCELLED_STATUSES = ("cancelled", "canceled", "voided", "已取消", "取消", "交易关闭", "已关闭")

# Opportunity stages that close a deal by default (the funnel page can name others).
WON_STAGES = ("won", "closed won", "closed_won", "win", "赢单", "成交", "已成交", "签约")
LOST_STAGES = ("lost", "closed lost", "closed_lost", "lose", "输单", "丢单", "已丢单", "失败")

# Complaint statuses that close a complaint even when it has no resolved_at.
CLOSED_COMPLAINT_STATUSES = (
    "resolved", "closed", "done", "solved", "complete", "completed", "cancelled", "canceled",
    "已解决", "已关闭", "关闭", "已结案", "结案", "已完成", "完成", "已处理",
    # the CFPB's "Company response to consumer"
    "closed with explanation", "closed with monetary relief", "closed with non-monetary relief", "closed with relief",
    "closed without relief",
)
# Complaint statuses of a ticket nobody has taken up yet: in a status log, the first change to any other status is the
# first response (crmlens.ingest.status_log).
# ("open" and "pending" are left out: Zendesk's open ticket is being worked on, its pending one waits for the customer.)
WAITING_COMPLAINT_STATUSES = ("new", "queued", "unassigned", "awaiting assignment", "submitted", "to do", "待处理", "待分配",
                              "新建", "排队", "排队中", "待受理", "未处理", "已提交", "待响应")
REOPENED_COMPLAINT_STATUSES = ("reopened", "re-opened", "重新打开", "重开", "已重开")

# Cell values that mean "yes" in a flag column such as a reopen marker.
YES_TOKENS = ("yes", "y", "true", "t", "1", "是", "已重开")

# Cell values of a yes/no column (a BOOLEAN column of the contract is read with these: crmlens.ingest.convert).
TRUE_TOKENS = ("yes", "y", "true", "t", "1", "是", "对", "√")
FALSE_TOKENS = ("no", "n", "false", "f", "0", "否", "不是", "×")

# Cell values of an export's own SLA verdict per complaint (ServiceNow's made_sla): met, missed.
SLA_MET_TOKENS = (*TRUE_TOKENS, "达标", "已达标", "met")
SLA_MISSED_TOKENS = (*FALSE_TOKENS, "未达标", "超时", "breached", "missed")

# Complaint severities in words (each has a translation: complaints.sev.<word>), and the cell values a severity column
# holds by level: those words, their Chinese and codes 1-5 (a coded label, "2 - High", by its word). The complaints
# page's default SLA hours are per level (crmlens.complaints.SLA_DEFAULTS); ingest.guess reads SEVERITY_VALUES.
SEVERITY_WORDS = ("critical", "urgent", "high", "medium", "moderate", "normal", "low", "minor", "planning")
SEVERITY_LEVELS = {
    "high": ("critical", "urgent", "high", "紧急", "严重", "高", "1", "2"),
    "medium": ("medium", "moderate", "normal", "中", "中等", "一般", "3"),
    "low": ("low", "minor", "planning", "低", "轻微", "4", "5"),
}
SEVERITY_VALUES = tuple(word for words in SEVERITY_LEVELS.values() for word in words)
# A severity as ticket systems show a code with its label: "1 - Critical" (ServiceNow's lists); group 2 is the word.
CODED_SEVERITY = re.compile(r"^\s*(\d+)\s+-\s+(\S.*?)\s*$")

# Customer segments that name end consumers, not businesses: the loyalty ladder's partner flag (seed 004: 伙伴 is a
# business in partnership with us) is ignored for customers in one of these (a blank or other segment keeps it).
CONSUMER_SEGMENTS = ("consumer", "consumers", "individual", "individuals", "personal", "private", "b2c", "retail customer",
                     "个人", "个人客户", "消费者", "散客", "零售客户", "c端", "c端客户")

# Owner cells of a targets file that mean the whole company, not one owner or team (an empty cell does too).
EVERYONE_OWNERS = ("all", "total", "everyone", "全部", "合计", "全公司")

# kind -> words, as stored in the vocabulary table.
KINDS: dict[str, tuple[str, ...]] = {
    "non_revenue_status": NON_REVENUE_STATUSES,
    "won_stage": WON_STAGES,
    "lost_stage": LOST_STAGES,
    "closed_complaint_status": CLOSED_COMPLAINT_STATUSES,
    "reopened_complaint_status": REOPENED_COMPLAINT_STATUSES,
    "yes_token": YES_TOKENS,
    "consumer_segment": CONSUMER_SEGMENTS,
    "everyone_owner": EVERYONE_OWNERS,
}


def rows() -> list[tuple[str, str]]:
    """(kind, word) pairs for the vocabulary table."""
    return [(kind, word.strip().lower()) for kind, words in KINDS.items() for word in words]
