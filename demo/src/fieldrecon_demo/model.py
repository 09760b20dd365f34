"""In-memory model of the demo world: engineers, tickets, visits, timesheets, POs, RFCs.

Every entity knows the moments it changed (``changes``) and renders its extract row as it
stood at a moment ``t`` (``row_at``): that is what makes the extracts windows, not
snapshots — a ticket is 履行中 in an earlier file and 已关闭 in a later one.

Values are canonical Python values (str, datetime, date, Decimal, float, None); the
writer turns them into the messy cells of real exports.
"""

from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

try:  # the venv ships chinesecalendar; fall back to Mon-Fri without it
    import chinese_calendar as _cc
except ImportError:  # pragma: no cover
    _cc = None

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- calendar


@cache
def is_workday(d: date) -> bool:
    """Working day under the State Council schedule (调休 included); Mon-Fri beyond known years."""
    if _cc is not None:
        try:
            return bool(_cc.is_workday(d))
        except NotImplementedError:
            pass
    return d.weekday() < 5


def calendar_knows(d: date) -> bool:
    if _cc is None:
        return False
    try:
        _cc.is_workday(d)
        return True
    except NotImplementedError:
        return False


def nth_workday_after(d: date, n: int) -> date:
    """The n-th working day strictly after d."""
    x = d
    k = 0
    while k < n:
        x += DAY
        if is_workday(x):
            k += 1
    return x


def workday_on_or_after(d: date) -> date:
    while not is_workday(d):
        d += DAY
    return d


def next_workdays(d: date, n: int) -> list[date]:
    """n working days starting on or after d."""
    out = []
    x = workday_on_or_after(d)
    while len(out) < n:
        if is_workday(x):
            out.append(x)
        x += DAY
    return out


def at(d: date, minutes: int) -> datetime:
    return datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)


def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def month_end(d: date) -> date:
    return date(d.year, d.month, _cal.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y = d.year + m // 12
    m = m % 12 + 1
    return date(y, m, min(d.day, _cal.monthrange(y, m)[1]))


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def ra06_deadline_end(day: date) -> datetime:
    """End of the 5th working day after the last day of day's month (RA-06)."""
    return midnight(nth_workday_after(month_end(day), 5) + DAY)


def money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- PO cycles


def shorter_than_month(start: date, end: date) -> bool:
    return end < add_months(start, 1) - DAY


def cycles(service_type: str, start: date, end: date) -> list[tuple[date, date]]:
    """Monthly acceptance cycles of a 维保 / 驻场 line (rulebook, PO section)."""
    if shorter_than_month(start, end):
        return [(start, end)]
    out = []
    d = start
    while d <= end:
        e = min(month_end(d), end)
        out.append((d, e))
        d = e + DAY
    if service_type == "驻场":
        if len(out) > 1 and out[0][0].day != 1:
            out[1] = (out[0][0], out[1][1])
            out.pop(0)
        if len(out) > 1 and out[-1][1] != month_end(out[-1][1]):
            out[-2] = (out[-2][0], out[-1][1])
            out.pop()
    return out


def cycle_amounts(amount: Decimal, start: date, end: date, cyc: list[tuple[date, date]]) -> list[Decimal]:
    total_days = (end - start).days + 1
    out = []
    for s, e in cyc[:-1]:
        out.append(money(amount * ((e - s).days + 1) / total_days))
    out.append(amount - sum(out, Decimal(0)))
    return out


def _vis(x, t):
    return x if x is not None and x < t else None


# --------------------------------------------------------------------------- entities


class Engineer:
    __slots__ = ("eid", "name", "region", "product_line", "skill", "skill_old", "skill_changed",
                 "phone", "employment", "role", "home", "home_addr", "known", "created", "seq")

    def __init__(self, **kw):
        self.skill_old = None
        self.skill_changed = None
        self.known = True
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        out = [self.created]
        if self.skill_changed:
            out.append(self.skill_changed)
        return out

    def row_at(self, t):
        if self.created >= t:
            return None
        skill = self.skill
        if self.skill_changed and self.skill_changed >= t:
            skill = self.skill_old
        return {"工号": self.eid, "姓名": self.name, "区域": self.region, "产品线": self.product_line,
                "技能等级": skill, "手机号": self.phone, "在职状态": self.employment}


class Site:
    __slots__ = ("customer", "region", "address", "lng", "lat", "classified", "true_lng", "true_lat")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


class Ticket:
    __slots__ = ("no", "type", "sla", "product_line", "region", "customer", "site", "address", "lng", "lat",
                 "classified", "contract", "created", "msd", "fsip", "required", "appointment", "eng", "ppd",
                 "auth_start", "auth_end", "close_req", "reject_at", "close_req2", "closed", "cancelled",
                 "po_no", "po_known", "visits", "spans", "started", "seq", "slot", "entries", "residency")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        self.visits = []
        self.entries = []
        for k, v in kw.items():
            setattr(self, k, v)

    # the request that counts at t (a rejected close request is followed by a second one)
    def close_req_at(self, t):
        if self.close_req2 is not None and self.close_req2 < t:
            return self.close_req2
        return _vis(self.close_req, t)

    def status_at(self, t):
        if self.cancelled is not None and self.cancelled < t:
            return "已取消"
        if self.closed is not None and self.closed < t:
            return "已关闭"
        if self.close_req2 is not None and self.close_req2 < t:
            return "待审核"
        if self.reject_at is not None and self.reject_at < t:
            return "已驳回"
        if self.close_req is not None and self.close_req < t:
            return "待审核"
        if self.started is not None and self.started < t:
            return "履行中"
        if self.fsip is not None and self.fsip < t:
            return "已派发"
        return "待派发"

    def changes(self):
        return [x for x in (self.created, self.msd, self.fsip, self.started, self.close_req, self.reject_at,
                            self.close_req2, self.closed, self.cancelled, self.po_known) if x is not None]

    def row_at(self, t):
        if self.created >= t:
            return None
        dispatched = self.fsip is not None and self.fsip < t
        eng = self.eng if dispatched else None
        po = self.po_no if (self.po_known is not None and self.po_known < t) else None
        return {
            "工单号": self.no, "工单类型": self.type, "工单状态": self.status_at(t), "服务级别": self.sla,
            "产品线": self.product_line, "区域": self.region, "客户名称": self.customer,
            "局点地址": self.address, "局点经度": self.lng, "局点纬度": self.lat,
            "是否涉密": self.classified, "合同号": self.contract, "创建时间": self.created,
            "MSD派单时间": _vis(self.msd, t), "FSIP派发时间": _vis(self.fsip, t),
            "要求到达时间": self.required, "预约到达时间": self.appointment if dispatched else None,
            "FSE工号": eng.eid if eng else None, "FSE姓名": eng.name if eng else None,
            "派单人天": self.ppd,
            "授权开始时间": self.auth_start if dispatched else None,
            "授权结束时间": self.auth_end if dispatched else None,
            "关单申请时间": self.close_req_at(t), "关单时间": _vis(self.closed, t), "PO号": po,
        }


class Visit:
    """A group of punches of one engineer on one ticket (normally one visit, one day).

    A punch is ``[type, datetime, lng, lat, method, punch_id]``.
    """

    __slots__ = ("ticket", "eng", "punches")

    def __init__(self, ticket, eng, punches):
        self.ticket = ticket
        self.eng = eng
        self.punches = punches

    def first(self, ptype):
        for p in self.punches:
            if p[0] == ptype:
                return p
        return None

    def last(self, ptype):
        for p in reversed(self.punches):
            if p[0] == ptype:
                return p
        return None

    @property
    def day(self):
        p = self.first("到达") or self.punches[0]
        return p[1].date()

    def punch_row(self, p):
        addr = self.eng.home_addr if p[0] == "出发" else self.ticket.address
        return {"打卡记录ID": f"PK{p[1]:%Y%m%d}{p[5]:07d}", "工单号": self.ticket.no, "工号": self.eng.eid, "姓名": self.eng.name,
                "打卡类型": p[0], "打卡时间": p[1], "经度": p[2], "纬度": p[3], "打卡地址": addr,
                "打卡方式": p[4]}


class Entry:
    """A timesheet entry; ``hist`` is [(when, approval state)], the first being the filing."""

    __slots__ = ("eid", "eng", "day", "ticket", "ticket_no", "po_no", "project", "hours", "kind", "note",
                 "hist", "seq")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def filed(self):
        return self.hist[0][0]

    def state_at(self, t):
        s = None
        for when, st in self.hist:
            if when < t:
                s = st
        return s

    def changes(self):
        return [h[0] for h in self.hist]

    def row_at(self, t):
        st = self.state_at(t)
        if st is None:
            return None
        tno = self.ticket.no if self.ticket is not None else self.ticket_no
        return {"填报ID": self.eid, "工号": self.eng.eid, "姓名": self.eng.name, "工作日期": self.day,
                "工单号": tno, "PO号": self.po_no, "项目编码": self.project, "工时": self.hours,
                "工作类型": self.kind, "工作内容": self.note, "审批状态": st, "填报时间": self.filed}


class Attendance:
    __slots__ = ("ticket", "eng", "day", "shift_in", "shift_out", "clock_in", "clock_out", "leave",
                 "leave_state", "flow", "flow_sub", "flow_at", "flow_blank", "tag")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        return [x for x in (at(self.day, 8 * 60), self.flow_sub, self.flow_at) if x is not None]

    def flow_state_at(self, t):
        if self.flow_sub is None or self.flow_sub >= t:
            return None if self.flow_blank else "无"
        if self.flow_at is not None and self.flow_at < t:
            return self.flow
        return "审批中"

    def row_at(self, t):
        if at(self.day, 8 * 60) >= t:
            return None
        fs = self.flow_state_at(t)
        decided = self.flow_at if (fs in ("已通过", "已驳回")) else None
        return {"工单号": self.ticket.no, "工号": self.eng.eid, "姓名": self.eng.name, "考勤日期": self.day,
                "班次上班": self.shift_in, "班次下班": self.shift_out,
                "上班打卡": _vis(self.clock_in, t), "下班打卡": _vis(self.clock_out, t),
                "请假类型": self.leave, "请假审批状态": self.leave_state,
                "异常电子流状态": fs, "异常电子流审批时间": decided}


class Attachment:
    __slots__ = ("ticket", "ticket_no", "kind", "file_name", "uploaded", "by")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        return [self.uploaded]

    def row_at(self, t):
        if self.uploaded >= t:
            return None
        tno = self.ticket.no if self.ticket is not None else self.ticket_no
        return {"工单号": tno, "附件类型": self.kind, "文件名": self.file_name, "上传时间": self.uploaded,
                "上传人": self.by}


class POLine:
    __slots__ = ("po_no", "line_no", "contract", "service_type", "desc", "region", "customer", "qty", "unit",
                 "unit_price", "amount", "tax", "start", "end", "issued", "hist", "tickets", "refs", "ticket",
                 "tag", "acceptances", "seq")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        self.tickets = []
        self.acceptances = []
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        return [h[0] for h in self.hist]

    def row_at(self, t):
        st = None
        for when, s in self.hist:
            if when < t:
                st = s
        if st is None:
            return None
        return {"PO号": self.po_no, "PO行号": self.line_no, "合同号": self.contract, "服务类型": self.service_type,
                "物料描述": self.desc, "区域": self.region, "客户名称": self.customer, "数量": self.qty,
                "单位": self.unit, "单价": self.unit_price, "行金额": self.amount, "税率": self.tax,
                "服务开始日期": self.start, "服务结束日期": self.end, "PO下发日期": self.issued,
                "PO状态": st, "关联工单号": self.refs}


class Acceptance:
    """hist: [(when, state, submitted_on, decided_on, reject_reason)]."""

    __slots__ = ("no", "line", "period", "qty", "amount", "remark", "hist", "seq", "tag")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        return [h[0] for h in self.hist]

    def state_at(self, t):
        cur = None
        for h in self.hist:
            if h[0] < t:
                cur = h
        return cur

    def row_at(self, t):
        h = self.state_at(t)
        if h is None:
            return None
        _, st, sub, dec, reason = h
        ps, pe = self.period if self.period else (None, None)
        return {"验收单号": self.no, "PO号": self.line.po_no, "PO行号": self.line.line_no,
                "验收周期开始": ps, "验收周期结束": pe, "验收数量": self.qty, "验收金额": self.amount,
                "提交日期": sub, "审批状态": st, "审批日期": dec, "驳回原因": reason, "备注": self.remark}


class RFC:
    __slots__ = ("no", "title", "region", "customer", "score", "level", "submitted", "pm", "planned_start",
                 "planned_end", "plan_ok", "ext_state", "ext_sub", "ext_at", "retro", "hist", "tasks", "seq")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        self.tasks = []
        self.hist = []
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        out = [h[0] for h in self.hist]
        out += [x for x in (self.pm, self.plan_ok, self.ext_sub, self.ext_at, self.retro) if x is not None]
        return out

    def status_at(self, t):
        st = None
        for when, s in self.hist:
            if when < t:
                st = s
        return st

    def row_at(self, t):
        st = self.status_at(t)
        if st is None:
            return None
        if self.ext_sub is None or self.ext_sub >= t:
            ext, ext_at = "无", None
        elif self.ext_at is not None and self.ext_at < t:
            ext, ext_at = self.ext_state, self.ext_at
        else:
            ext, ext_at = "审批中", None
        return {"RFC单号": self.no, "标题": self.title, "状态": st, "风险分值": self.score,
                "风险等级": self.level, "区域": self.region, "客户名称": self.customer,
                "提交时间": self.submitted, "PM审批完成时间": _vis(self.pm, t),
                "计划开始时间": self.planned_start, "计划完成时间": self.planned_end,
                "方案审核通过时间": _vis(self.plan_ok, t), "延期审批状态": ext, "延期审批时间": ext_at,
                "回溯提交时间": _vis(self.retro, t)}


class Task:
    __slots__ = ("no", "rfc", "impl", "guar", "auth_start", "auth_end", "started", "verified", "completed",
                 "g_completed", "hist", "seq")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, None)
        self.hist = []
        for k, v in kw.items():
            setattr(self, k, v)

    def changes(self):
        out = [h[0] for h in self.hist]
        out += [x for x in (self.started, self.verified, self.completed, self.g_completed) if x is not None]
        return out

    def row_at(self, t):
        st = None
        for when, s in self.hist:
            if when < t:
                st = s
        if st is None:
            return None
        return {"任务单号": self.no, "RFC单号": self.rfc.no, "任务状态": st, "实施人工号": self.impl,
                "保障人工号": self.guar, "授权开始时间": self.auth_start, "授权结束时间": self.auth_end,
                "实际开始时间": _vis(self.started, t), "验证时间": _vis(self.verified, t),
                "实际完成时间": _vis(self.completed, t), "保障人完成时间": _vis(self.g_completed, t)}
