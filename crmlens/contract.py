"""The data contract: canonical tables, their columns, types and header aliases.

Everything that reads or writes the store speaks these names. A file's header is
matched to a canonical column through `normalize_header`, so `Customer ID`,
`customer_id`, `CUSTOMERID` and `客户编号` all land in `customer_id`.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field

from crmlens import vocab

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parent / "examples"  # one example CSV per table


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # VARCHAR, DATE, TIMESTAMP, DOUBLE, INTEGER, BOOLEAN
    required: bool = False
    aliases: tuple[str, ...] = ()
    # A required column whose value may be blank on a row: the file must have the column, a row without a
    # value still loads (an order without a customer id is a guest order: revenue, not a customer).
    blank_ok: bool = False
    # Spellings taken only when no header spells the column's name or one of its aliases (a status log's time of
    # change is a complaint's creation time only in a file without an opening time).
    late_aliases: tuple[str, ...] = ()
    # A required column a file may leave out when it has one of these columns (a list of tickets with their numbers
    # needs no category; a customer list with a date and a status is no list of complaints).
    optional_with: tuple[str, ...] = ()
    # Words that, as a word of a header ("SR Latest Impact") or in a Chinese one, make it a candidate when no header
    # spells the column's name or an alias; taken only when its values are the column's (ingest.guess).
    word_aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: str | None = None  # a column whose values must be unique
    file_hints: tuple[str, ...] = field(default=())  # words in a file name that name this table

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def missing(self, mapped) -> list[str]:
        """The required columns a file whose columns are `mapped` lacks."""
        return [c.name for c in self.columns if c.required and c.name not in mapped
                and not any(other in mapped for other in c.optional_with)]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "VARCHAR", True,
               ("customer", "cust_id", "client_id", "client_number", "customer_number", "account", "account_id", "客户编号", "客户id", "客户代码", "客户号", "会员id", "会员编号", "用户id")),
        Column("name", "VARCHAR", aliases=("customer_name", "客户名称", "客户姓名", "姓名", "名称", "公司名称")),
        Column("segment", "VARCHAR", aliases=("customer_type", "type", "客户类型", "客户类别", "细分", "客户分类")),
        Column("region", "VARCHAR", aliases=("area", "province", "country", "地区", "区域", "省份", "国家")),
        Column("channel", "VARCHAR", aliases=("acquisition_channel", "渠道", "获客渠道", "来源渠道")),
        Column("owner", "VARCHAR", aliases=("sales_rep", "account_owner", "salesperson", "sales_agent", "deal_owner", "opportunity_owner", "负责人", "销售", "销售员", "客户经理", "业务员")),
        Column("signup_date", "DATE", aliases=("created_date", "join_date", "first_seen", "注册日期", "注册时间", "建档日期", "开户日期")),
        Column("is_partner", "BOOLEAN", aliases=("partner", "是否合作伙伴", "合作伙伴")),
        Column("referred_by", "VARCHAR", aliases=("referrer", "referrer_id", "推荐人", "推荐人编号", "介绍人")),
        Column("churned", "BOOLEAN", aliases=("churn", "is_churned", "是否流失", "流失")),
        Column("churn_date", "DATE", aliases=("contract_end", "end_date", "流失日期", "合同到期日")),
        Column("tenure_months", "DOUBLE", aliases=("tenure", "在网时长", "合作月数")),
        Column("monthly_revenue", "DOUBLE", aliases=("monthly_charges", "mrr", "月费", "月收入")),
        Column("contract_type", "VARCHAR", aliases=("contract", "合同类型")),
    ),
    key="customer_id",
    file_hints=("customer", "client", "客户", "会员"),
)

ORDERS = Table(
    "orders",
    (
        Column("order_id", "VARCHAR", True,
               ("order", "order_no", "order_number", "invoice", "invoice_no", "invoiceno", "订单编号", "订单号", "订单id", "单号")),
        Column("customer_id", "VARCHAR", True, CUSTOMERS.column("customer_id").aliases, blank_ok=True),
        Column("order_date", "DATE", True,
               ("date", "invoice_date", "invoicedate", "order_time", "purchase_date", "订单日期", "下单日期", "下单时间", "日期", "成交日期")),
        Column("amount", "DOUBLE", True,
               ("revenue", "total", "order_amount", "sales", "金额", "订单金额", "实付金额", "销售额", "成交金额", "总金额")),
        Column("cost", "DOUBLE", aliases=("成本", "成本金额")),
        Column("product", "VARCHAR", aliases=("product_name", "item", "description", "产品", "商品", "商品名称", "产品名称")),
        Column("quantity", "DOUBLE", aliases=("qty", "数量", "件数")),
        Column("status", "VARCHAR", aliases=("order_status", "状态", "订单状态")),
    ),
    key="order_id",
    file_hints=("order", "invoice", "sales", "订单", "销售"),
)

OPPORTUNITIES = Table(
    "opportunities",
    (
        Column("opportunity_id", "VARCHAR", True,
               ("opportunity", "opp_id", "deal_id", "lead_id", "mql_id", "商机编号", "商机id", "机会编号")),
        Column("stage", "VARCHAR", True, ("sales_stage", "deal_stage", "阶段", "销售阶段", "商机阶段")),
        Column("created_date", "DATE", aliases=("created", "create_date", "engage_date", "first_contact_date", "创建日期", "创建时间")),
        Column("customer_id", "VARCHAR", aliases=CUSTOMERS.column("customer_id").aliases),
        Column("amount", "DOUBLE", aliases=("value", "deal_value", "expected_revenue", "close_value", "deal_amount", "opportunity_amount", "金额", "商机金额", "预计金额")),
        Column("owner", "VARCHAR", aliases=CUSTOMERS.column("owner").aliases),
        Column("source", "VARCHAR", aliases=("lead_source", "origin", "来源", "线索来源", "商机来源")),
        Column("product", "VARCHAR", aliases=ORDERS.column("product").aliases),
        Column("close_date", "DATE", aliases=("closed_date", "closing_date", "won_date", "结束日期", "成交日期", "关闭日期")),
    ),
    key="opportunity_id",
    file_hints=("opportunit", "deal", "pipeline", "lead", "商机", "机会", "线索"),
)

STAGE_HISTORY = Table(
    "opportunity_stage_history",
    (
        Column("opportunity_id", "VARCHAR", True, OPPORTUNITIES.column("opportunity_id").aliases),
        Column("stage", "VARCHAR", True, OPPORTUNITIES.column("stage").aliases),
        Column("entered_at", "TIMESTAMP", True, ("entered", "changed_at", "stage_date", "进入时间", "变更时间", "进入日期")),
    ),
    file_hints=("stage_history", "history", "阶段历史", "阶段记录"),
)

COMPLAINTS = Table(
    "complaints",
    (
        # (in a status log, one row per change of a ticket, the change's time: crmlens.ingest.status_log)
        Column("created_at", "TIMESTAMP", True,
               ("created", "opened_at", "complaint_date", "date_received", "date", "投诉时间", "投诉日期", "创建时间", "受理时间"),
               late_aliases=("change_date+time", "status_changed_at", "状态变更时间")),
        # (a ticket without a category is still a complaint: counted, its category "not given"; so are the tickets of
        #  a file with their numbers and no category column)
        Column("category", "VARCHAR", True, ("type", "cause", "reason", "issue", "投诉类别", "投诉类型", "投诉原因", "类别"),
               blank_ok=True, optional_with=("complaint_id",)),
        Column("complaint_id", "VARCHAR", aliases=("ticket_id", "case_id", "number", "ticket_number", "case_number",
                                                   "incident_number", "sr_number", "request_number", "投诉编号", "工单号",
                                                   "工单编号")),
        Column("customer_id", "VARCHAR", aliases=CUSTOMERS.column("customer_id").aliases),
        Column("channel", "VARCHAR", aliases=("contact_type", "submitted_via", "投诉渠道", "渠道")),
        Column("severity", "VARCHAR", aliases=("priority", "urgency", "严重程度", "等级", "优先级"),
               word_aliases=("impact", "priority", "severity", "urgency", "优先级", "严重程度", "紧急程度")),
        Column("status", "VARCHAR", aliases=("state", "状态", "处理状态")),
        Column("first_response_at", "TIMESTAMP", aliases=("first_response", "responded_at", "首次响应时间", "响应时间")),
        Column("resolved_at", "TIMESTAMP", aliases=("resolved", "closed_at", "解决时间", "结案时间", "关闭时间")),
        Column("satisfaction", "DOUBLE", aliases=("csat", "满意度", "满意度评分")),
    ),
    key="complaint_id",
    file_hints=("complaint", "ticket", "incident", "case", "投诉", "工单"),
)

SURVEYS = Table(
    "surveys",
    (
        Column("customer_id", "VARCHAR", True, CUSTOMERS.column("customer_id").aliases),
        Column("survey_date", "DATE", aliases=("date", "response_date", "调查日期", "回访日期")),
        Column("nps", "DOUBLE", aliases=("nps_score", "recommend", "推荐意愿", "净推荐值")),
        Column("satisfaction", "DOUBLE", aliases=COMPLAINTS.column("satisfaction").aliases),
    ),
    file_hints=("survey", "nps", "feedback", "问卷", "调查", "回访", "满意度"),
)

# Follow-ups (回访, 拜访, calls, visits, messages): who contacted which customer when, about what.
ACTIVITIES = Table(
    "activities",
    (
        Column("activity_id", "VARCHAR", aliases=("activity", "call_id", "visit_id", "活动编号", "回访编号", "跟进编号", "记录编号")),
        Column("customer_id", "VARCHAR", True, CUSTOMERS.column("customer_id").aliases),
        Column("at", "TIMESTAMP", True,
               ("activity_date", "activity_time", "contacted_at", "call_time", "visit_date", "date", "time",
                "跟进时间", "跟进日期", "回访时间", "回访日期", "拜访时间", "拜访日期", "联系时间", "活动时间", "日期", "时间")),
        Column("type", "VARCHAR", aliases=("activity_type", "kind", "method", "跟进方式", "回访方式", "活动类型", "联系方式", "方式", "类型")),
        Column("owner", "VARCHAR", aliases=(*CUSTOMERS.column("owner").aliases, "跟进人", "回访人", "拜访人")),
        Column("related_id", "VARCHAR", aliases=("related_to", "reference", "关联单号", "关联编号", "相关单号", "关联订单")),
        Column("outcome", "VARCHAR", aliases=("result", "结果", "跟进结果", "回访结果", "备注")),
    ),
    key="activity_id",
    file_hints=("activit", "follow", "call", "visit", "回访记录", "跟进", "拜访", "活动"),
)

# The sales team: who works in which branch and when they left (a departure marked by hand).
OWNERS = Table(
    "owners",
    (
        Column("owner", "VARCHAR", True, (*CUSTOMERS.column("owner").aliases, "name", "姓名", "员工", "员工姓名")),
        Column("branch", "VARCHAR", aliases=("team", "office", "store", "门店", "分公司", "部门", "团队", "网点")),
        Column("left_on", "DATE", aliases=("left", "leave_date", "departure_date", "end_date", "离职日期", "离职时间", "离开日期")),
    ),
    key="owner",
    file_hints=("owner", "staff", "team", "employee", "rep", "agents", "销售人员", "员工", "团队", "人员", "销售团队"),
)

# Sales targets (quotas): one amount per owner (or team, or everyone) and month. `owner` empty, "all"
# or "全部" is the whole company's target; the month is read as text (2025-01, 2025/01, 2025年1月, or a date
# in the month) by stg_targets.
TARGETS = Table(
    "targets",
    (
        Column("owner", "VARCHAR", aliases=("team", "sales_team", "负责人", "团队", "销售团队", "销售", "销售员", "业务员")),
        Column("month", "VARCHAR", True, ("period", "target_month", "月份", "目标月份", "月度")),
        Column("amount", "DOUBLE", True, ("target", "quota", "target_amount", "目标", "目标金额", "销售目标", "指标")),
    ),
    file_hints=("target", "quota", "目标", "指标"),
)

# Side files: lists keyed by a column the data already has (a product list with its series and price,
# the sales team of each sales agent with manager and office: the owners table); every other column is an
# attribute.
PRODUCT_ATTRIBUTES = Table(
    "product_attributes",
    (Column("product", "VARCHAR", True, ORDERS.column("product").aliases),),
    key="product",
    file_hints=("products", "product_list", "产品", "商品"),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, ORDERS, OPPORTUNITIES, STAGE_HISTORY, COMPLAINTS, SURVEYS, ACTIVITIES, OWNERS,
                        TARGETS, PRODUCT_ATTRIBUTES)
}
# Tables of side files: attributes of a key the other tables hold. The sales team list (owners) is one: its
# other columns (manager, regional office, ...) are the owner's attributes.
SIDE_TABLES = ("product_attributes", "owners")

# The word lists (won/lost stages, revenue statuses, ...) live in crmlens/vocab.py.
WON_STAGES, LOST_STAGES, NON_REVENUE_STATUSES = vocab.WON_STAGES, vocab.LOST_STAGES, vocab.NON_REVENUE_STATUSES


HEADER_SEPARATORS = re.compile(r"[\s_\-./()（）:：#]+")  # what a header's spelling may vary in, and splits its words


def normalize_header(header: str) -> str:
    """Case-, space-, underscore- and punctuation-insensitive form of a header."""
    return HEADER_SEPARATORS.sub("", header.strip().lstrip("\ufeff")).lower()


def match_columns(table: Table, headers: list[str], words: bool = False) -> dict[str, str]:
    """Map canonical column -> file header for the headers this table knows. `words`: also a header with one of a
    column's word_aliases, for callers that check the values before taking it (ingest.guess); never for choosing a
    file's table or for a saved mapping."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    # A header spelling a column's own name wins over another header spelling one of its
    # aliases (ServiceNow has both `severity` and `urgency`, `resolved_at` and `closed_at`), and an alias over a late
    # alias (a ticket list's opening time over its last status change).
    # Last (words), a header with one of a column's word_aliases among its words.
    for spellings in ("own", "aliases", "late", "words") if words else ("own", "aliases", "late"):
        for col in table.columns:
            if col.name in mapping:
                continue
            names = {normalize_header(n) for n in {"own": (col.name,), "aliases": (col.name, *col.aliases),
                                                   "late": col.late_aliases, "words": ()}[spellings]}
            for header in headers:
                fits = has_word(header, col.word_aliases) if spellings == "words" else normalize_header(header) in names
                if header not in taken and fits:
                    mapping[col.name] = header
                    taken.add(header)
                    break
    return {c.name: mapping[c.name] for c in table.columns if c.name in mapping}


def has_word(header: str, words: tuple[str, ...]) -> bool:
    """Whether one of `words` is a word of the header (split at spaces, _ and punctuation), or a part of it for a
    Chinese word (Chinese has no spaces between words)."""
    parts = set(HEADER_SEPARATORS.split(header.strip().lstrip("\ufeff").lower()))
    return any(w in parts or (not w.isascii() and w in header) for w in words)


def word_candidates(col: Column, headers: list[str]) -> list[str]:
    """The headers with one of the column's word_aliases among their words, in the file's order."""
    return [h for h in headers if has_word(h, col.word_aliases)] if col.word_aliases else []


def extra_column_name(header: str, existing: set[str]) -> str:
    """A safe, unique snake_case column name for a header outside the contract."""
    base = re.sub(r"\W+", "_", header.strip().lstrip("\ufeff").lower(), flags=re.UNICODE).strip("_") or "column"
    if base[0].isdigit():
        base = f"c_{base}"
    name, n = base, 2
    while name in existing:
        name, n = f"{base}_{n}", n + 1
    return name


# Scales of scored columns: a value outside is rejected (out_of_range), never loaded.
VALUE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "complaints": {"satisfaction": (1, 5)},
    "surveys": {"satisfaction": (1, 5), "nps": (0, 10)},
}
# Time-zone offsets that exist: UTC-12:00 to UTC+14:00.
MAX_UTC_OFFSET_HOURS = 14
