"""Builds the clean base world: nothing in it breaks a rule of the rulebook.

Violations are injected afterwards by :mod:`fieldrecon_demo.inject`.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from .contract import REQUIRED_ATTACHMENTS
from .model import (
    DAY,
    RFC,
    Acceptance,
    Attachment,
    Attendance,
    Engineer,
    Entry,
    POLine,
    Site,
    Task,
    Ticket,
    Visit,
    add_months,
    at,
    cycle_amounts,
    cycles,
    is_workday,
    midnight,
    money,
    month_end,
    next_workdays,
    nth_workday_after,
    workday_on_or_after,
)

PERSON_DAY_TYPES = ("单次现场服务", "事件值守", "高级软件现场支持")
PER_TICKET_PO = {  # ticket type -> (ISC service type, unit, unit price range in CNY)
    "巡检": ("巡检", "次", (3200, 4200)),
    "整改": ("整改", "项", (4500, 6800)),
    "单次现场服务": ("单次", "人天", (1900, 2400)),
    "事件值守": ("单次", "人天", (1900, 2400)),
    "高级软件现场支持": ("单次", "人天", (2600, 3200)),
}

# name, city, centre lng, lat, weight, streets, customers
REGIONS = [
    ("浙江", "杭州", 120.155, 30.274, 0.22,
     ["西湖区文三路", "滨江区江南大道", "余杭区文一西路", "上城区解放路", "拱墅区湖墅南路", "萧山区市心中路"],
     ["浙江移动", "浙江电信", "浙江联通", "国网浙江电力", "杭州地铁集团", "浙江农商银行"]),
    ("上海", "上海", 121.473, 31.230, 0.15,
     ["浦东新区张江路", "徐汇区漕溪北路", "静安区南京西路", "闵行区莘庄路", "杨浦区国定路"],
     ["上海移动", "上海电信", "上海联通", "上海申通地铁", "上海农商银行"]),
    ("江西", "南昌", 115.892, 28.676, 0.12,
     ["红谷滩区会展路", "东湖区八一大道", "青山湖区南京东路", "西湖区洪城路"],
     ["江西移动", "江西电信", "国网江西电力", "江西银行"]),
    ("广西", "南宁", 108.366, 22.817, 0.12,
     ["青秀区民族大道", "西乡塘区大学东路", "江南区星光大道", "兴宁区朝阳路"],
     ["广西移动", "广西电信", "广西联通", "南宁轨道交通"]),
    ("海南", "海口", 110.349, 20.017, 0.08,
     ["龙华区滨海大道", "美兰区海府路", "秀英区长滨路"],
     ["海南移动", "海南电信", "海南电网"]),
    ("甘肃", "兰州", 103.834, 36.061, 0.11,
     ["城关区庆阳路", "七里河区西津西路", "安宁区北滨河西路"],
     ["甘肃移动", "甘肃电信", "国网甘肃电力"]),
    ("宁夏", "银川", 106.231, 38.487, 0.08,
     ["兴庆区解放西街", "金凤区北京中路", "西夏区怀远路"],
     ["宁夏移动", "宁夏电信", "国网宁夏电力"]),
    ("天津", "天津", 117.200, 39.134, 0.12,
     ["和平区南京路", "河西区友谊路", "南开区卫津路", "滨海新区第三大街"],
     ["天津移动", "天津电信", "天津联通", "天津轨道交通"]),
]
REGION_INFO = {r[0]: r for r in REGIONS}

PRODUCT_LINES = ["数通", "存储", "服务器", "光传输", "无线", "安平", "云"]
SITE_SUFFIX = ["核心机房", "汇聚机房", "数据中心", "综合楼机房", "传输节点", "调度大楼", "营业厅机房", "灾备中心"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静磊强军洋勇艳杰涛明超秀霞平刚桂英华飞鑫波斌宇浩凯健俊帆辉鹏丹晨阳琳婷雪峰亮志龙海"
SKILLS = ["初级工程师", "中级工程师", "高级工程师", "专家"]
RFC_ACTIONS = ["版本升级", "割接", "扩容", "补丁安装", "配置调整", "板卡更换", "链路迁移", "证书更新"]
LEAVE_TYPES = ["年假", "事假", "病假", "调休"]

TICKET_TYPE_WEIGHTS = [
    ("现场问题处理", 24), ("巡检", 20), ("整改", 11), ("单次现场服务", 20), ("事件值守", 9),
    ("高级软件现场支持", 8), ("POC", 5),
]


def offset(lng: float, lat: float, km: float, bearing: float) -> tuple[float, float]:
    """Point km away from (lng, lat) in direction bearing (radians), flat-earth approximation."""
    dlat = km * math.cos(bearing) / 111.32
    dlng = km * math.sin(bearing) / (111.32 * math.cos(math.radians(lat)))
    return round(lng + dlng, 6), round(lat + dlat, 6)


def haversine_km(lng1, lat1, lng2, lat2) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


class World:
    """The base data. All times are naive China local time, minute precision."""

    def __init__(self, seed: int, engineers: int, months: int, end_date: date):
        if engineers < 12:
            raise ValueError("engineers must be at least 12")
        if months < 1:
            raise ValueError("months must be at least 1")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_eng = engineers
        self.months = months
        self.end = end_date
        self.T = midnight(end_date + DAY)  # as_of of business date end_date
        self.start = end_date - timedelta(days=round(months * 30.44)) + DAY
        self.horizon = end_date + timedelta(days=12)  # plans run a bit past the end, invisible
        self.engineers: list[Engineer] = []
        self.sites: dict[str, list[Site]] = defaultdict(list)  # by region
        self.customer_sites: dict[tuple[str, str], list[Site]] = defaultdict(list)
        self.tickets: list[Ticket] = []
        self.visits: list[Visit] = []
        self.entries: list[Entry] = []
        self.attendance: list[Attendance] = []
        self.attachments: list[Attachment] = []
        self.lines: list[POLine] = []
        self.acceptances: list[Acceptance] = []
        self.rfcs: list[RFC] = []
        self.visits_by_engday: dict[tuple[str, date], list[Visit]] = defaultdict(list)
        self.maint_po: dict[tuple[str, str, int], str] = {}
        self.residencies: list[Ticket] = []
        self._po_seq: dict[date, int] = defaultdict(int)
        # extract schedule: one file per source every CADENCE days, each a window of WINDOW days,
        # the last dated end_date; the first holds everything up to its date (initial load)
        self.window_days = 10
        self.cadence_days = 7
        dates = [end_date]
        while dates[-1] - timedelta(days=self.cadence_days) >= self.start + timedelta(days=3):
            dates.append(dates[-1] - timedelta(days=self.cadence_days))
        self.extract_dates: list[date] = sorted(dates)
        self._seq = 0

    # ------------------------------------------------------------------ helpers

    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def ri(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def new_po_no(self, issued: date) -> str:
        self._po_seq[issued] += 1
        return f"PO{issued:%Y%m%d}{self._po_seq[issued]:03d}"

    def person_name(self, used: set) -> str:
        for _ in range(50):
            n = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.ri(1, 2)))
            if n not in used:
                used.add(n)
                return n
        n = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + self.rng.choice(GIVEN) + self.rng.choice(GIVEN)
        used.add(n)
        return n

    def maint_year(self, d: date) -> int:
        return d.year if d.month >= 8 else d.year - 1

    # ------------------------------------------------------------------ build

    def build(self) -> None:
        self._build_engineers_and_sites()
        self._build_maintenance_pos()
        self._build_residencies()
        self._schedule_field()
        self._build_cancelled()
        self._number_tickets()
        self._build_attachments()
        self._build_ticket_pos()
        self._build_rfcs()

    # ------------------------------------------------------------------ engineers, sites

    def _build_engineers_and_sites(self) -> None:
        rng = self.rng
        n = self.n_eng
        weights = [r[4] for r in REGIONS]
        tot = sum(weights)
        counts = [max(1, int(n * w / tot)) for w in weights]
        i = 0
        while sum(counts) < n:
            counts[i % len(counts)] += 1
            i += 1
        while sum(counts) > n:
            j = counts.index(max(counts))
            counts[j] -= 1
        n_res = min(max(4, round(n * 0.12)), n // 3)
        used_names: set = set()
        created = midnight(self.start - timedelta(days=60))
        regions_list = []
        for (name, *_), c in zip(REGIONS, counts, strict=True):
            regions_list += [name] * c
        # residents spread over regions: every k-th engineer
        step = n / n_res
        res_idx = {int(k * step) for k in range(n_res)}
        for k, region in enumerate(regions_list):
            info = REGION_INFO[region]
            home = (round(info[2] + rng.uniform(-0.12, 0.12), 6), round(info[3] + rng.uniform(-0.09, 0.09), 6))
            eng = Engineer(
                eid=f"F{10001 + k}", name=self.person_name(used_names), region=region,
                product_line=rng.choice(PRODUCT_LINES), skill=rng.choice(SKILLS),
                phone="1" + rng.choice("3456789") + "".join(str(rng.randint(0, 9)) for _ in range(9)),
                employment="在职", role="resident" if k in res_idx else "field", home=home,
                home_addr=f"{info[1]}{rng.choice(info[5])}{self.ri(1, 400)}号", created=created, seq=k,
            )
            if self.chance(0.2):
                eng.skill_old = SKILLS[max(0, SKILLS.index(eng.skill) - 1)]
                eng.skill_changed = at(self.start + timedelta(days=self.ri(3, max(4, (self.end - self.start).days))),
                                       self.ri(9 * 60, 18 * 60))
                if eng.skill_old == eng.skill:
                    eng.skill_changed = None
                    eng.skill_old = None
            self.engineers.append(eng)
        # two engineers who have left: in the master, no activity
        for k in range(2):
            region = REGIONS[k][0]
            self.engineers.append(Engineer(
                eid=f"F{10001 + n + k}", name=self.person_name(used_names), region=region,
                product_line=rng.choice(PRODUCT_LINES), skill=rng.choice(SKILLS),
                phone="1" + rng.choice("3456789") + "".join(str(rng.randint(0, 9)) for _ in range(9)),
                employment="离职", role="left", home=(REGIONS[k][2], REGIONS[k][3]), home_addr="",
                created=created, seq=n + k))
        self.by_eid = {e.eid: e for e in self.engineers}
        self.field = [e for e in self.engineers if e.role == "field"]
        self.residents = [e for e in self.engineers if e.role == "resident"]
        self.field_by_region = defaultdict(list)
        for e in self.field:
            self.field_by_region[e.region].append(e)
        eng_per_region = {r[0]: c for r, c in zip(REGIONS, counts, strict=True)}
        for name, city, lng, lat, _w, streets, customers in REGIONS:
            n_sites = 2 + max(1, eng_per_region[name] // 3)
            for cust in customers:
                for _ in range(n_sites):
                    classified = self.chance(0.05)
                    tl, ta = round(lng + rng.uniform(-0.2, 0.2), 6), round(lat + rng.uniform(-0.15, 0.15), 6)
                    addr = f"{city}{rng.choice(streets)}{self.ri(1, 999)}号 {cust}{rng.choice(SITE_SUFFIX)}"
                    site = Site(customer=cust, region=name, address=addr if not classified else f"{city}某局点（涉密）",
                                lng=None if classified else tl, lat=None if classified else ta,
                                classified=classified, true_lng=tl, true_lat=ta)
                    self.sites[name].append(site)
                    self.customer_sites[(name, cust)].append(site)

    def random_site(self, region: str, allow_classified: bool = True) -> Site:
        while True:
            s = self.rng.choice(self.sites[region])
            if allow_classified or not s.classified:
                return s

    # ------------------------------------------------------------------ maintenance POs

    def _line(self, **kw) -> POLine:
        line = POLine(seq=self.seq(), **kw)
        self.lines.append(line)
        return line

    def _line_hist(self, issued: date) -> list:
        return [(at(issued, self.ri(9 * 60, 17 * 60)), "已下发"),
                (at(issued + timedelta(days=self.ri(1, 3)), self.ri(9 * 60, 17 * 60)), "已接收")]

    def _build_maintenance_pos(self) -> None:
        rng = self.rng
        years = [y for y in range(self.start.year - 2, self.end.year + 1)
                 if date(y, 8, 1) <= self.end and date(y + 1, 7, 31) >= self.start]
        for y in years:
            for name, *_rest in REGIONS:
                customers = REGION_INFO[name][6]
                issued = workday_on_or_after(date(y, 8, self.ri(3, 10)))
                po = self.new_po_no(issued)
                contract = f"HT-{y}-WB-{REGIONS.index(REGION_INFO[name]) + 1:02d}"
                for ln, cust in enumerate(customers, start=1):
                    price = Decimal(self.ri(8, 60) * 1000)
                    self._line(po_no=po, line_no=ln, contract=contract, service_type="维保",
                               desc=f"{rng.choice(PRODUCT_LINES)}设备维保服务 {y}-{y + 1}年度", region=name,
                               customer=cust, qty=Decimal(12), unit="月", unit_price=price, amount=money(price * 12),
                               tax=Decimal("0.06"), start=date(y, 8, 1), end=date(y + 1, 7, 31), issued=issued,
                               hist=self._line_hist(issued), tag="annual")
                    self.maint_po[(name, cust, y)] = po
        # mid-year activations: from activation to the next 31 Jul
        y = self.maint_year(self.end)
        for name, *_rest in REGIONS:
            customers = REGION_INFO[name][6]
            lo = max(date(y, 8, 1) + timedelta(days=40), self.start - timedelta(days=60))
            hi = self.end - timedelta(days=25)
            if lo > hi:
                lo = hi
            start = lo + timedelta(days=self.ri(0, (hi - lo).days))
            if start.day == 1:
                start += timedelta(days=self.ri(4, 14))
            end = date(self.maint_year(start) + 1, 7, 31)
            issued = start - timedelta(days=self.ri(3, 10))
            po = self.new_po_no(issued)
            cust = rng.choice(customers)
            price = Decimal(self.ri(5, 30) * 1000)
            qty = Decimal(round(((end - start).days + 1) / 30.44, 1))
            self._line(po_no=po, line_no=1, contract=f"HT-{y}-WB-{REGIONS.index(REGION_INFO[name]) + 1:02d}-B",
                       service_type="维保", desc=f"新增{rng.choice(PRODUCT_LINES)}设备维保服务（年中激活）",
                       region=name, customer=cust, qty=qty, unit="月", unit_price=price, amount=money(price * qty),
                       tax=Decimal("0.06"), start=start, end=end, issued=issued, hist=self._line_hist(issued),
                       tag="midyear")
            # a delivery line, never accepted in monthly cycles
            d_issued = workday_on_or_after(self.start + timedelta(days=self.ri(0, max(0, (self.end - self.start).days - 5))))
            dpo = self.new_po_no(d_issued)
            price = Decimal(self.ri(30, 200) * 1000)
            self._line(po_no=dpo, line_no=1, contract=f"HT-{y}-JF-{REGIONS.index(REGION_INFO[name]) + 1:02d}",
                       service_type="交付", desc="网络扩容项目交付服务", region=name, customer=rng.choice(customers),
                       qty=Decimal(1), unit="项", unit_price=price, amount=money(price), tax=Decimal("0.06"),
                       start=None, end=None, issued=d_issued, hist=self._line_hist(d_issued), tag="delivery")

    def maint_po_for(self, region: str, customer: str, d: date) -> str | None:
        return self.maint_po.get((region, customer, self.maint_year(d)))

    # ------------------------------------------------------------------ tickets (shared)

    def _new_ticket(self, ttype: str, eng: Engineer, site: Site, created: datetime, sla: str) -> Ticket:
        msd = created + timedelta(minutes=self.ri(2, 15))
        fsip = msd + timedelta(minutes=self.ri(2, 10))
        y = self.maint_year(created.date())
        t = Ticket(type=ttype, sla=sla, product_line=self.rng.choice(PRODUCT_LINES), region=site.region,
                   customer=site.customer, site=site, address=site.address, lng=site.lng, lat=site.lat,
                   classified="是" if site.classified else self.rng.choice(["否", "否", "否", None]),
                   contract=f"HT-{y}-{REGIONS.index(REGION_INFO[site.region]) + 1:02d}-{self.ri(100, 999)}",
                   created=created, msd=msd, fsip=fsip, eng=eng, seq=self.seq())
        self.tickets.append(t)
        return t

    def _punch(self, ptype, dt, lng, lat, method):
        return [ptype, dt, lng, lat, method, None]

    def _near(self, site: Site, max_km: float = 0.45):
        return offset(site.true_lng, site.true_lat, self.rng.uniform(0.0, max_km), self.rng.uniform(0, 2 * math.pi))

    def _visit_punches(self, eng: Engineer, site: Site, day: date, a: int, leave: int, last: bool) -> list:
        rng = self.rng
        method = "人脸识别" if self.chance(0.15) else "APP"
        ps = []
        dep = a - self.ri(20, 60)
        if self.chance(0.08):
            ps.append(self._punch("出发", at(day, dep), None, None, method))
        else:
            hl, hla = offset(eng.home[0], eng.home[1], rng.uniform(0, 1.5), rng.uniform(0, 6.28))
            ps.append(self._punch("出发", at(day, dep), hl, hla, method))
        ps.append(self._punch("到达", at(day, a), *self._near(site), method))
        s = a + self.ri(3, 15)
        ps.append(self._punch("开始", at(day, s), *self._near(site), method))
        if self.chance(0.18) and leave - s > 150:
            p = s + self.ri(40, leave - s - 100)
            r = p + self.ri(20, 50)
            ps.append(self._punch("暂停", at(day, p), *self._near(site), method))
            ps.append(self._punch("开始", at(day, r), *self._near(site), method))
        if last:
            c = leave - self.ri(5, 20)
            if self.chance(0.1):
                ps.append(self._punch("验证", at(day, c - self.ri(10, 30)), *self._near(site), method))
            ps.append(self._punch("完成", at(day, c), *self._near(site), method))
        ps.append(self._punch("离场", at(day, leave), *self._near(site), method))
        return ps

    def _file_entry(self, eng, day: date, ticket, hours: Decimal, kind: str, note: str, earliest: datetime,
                    project: str | None = None, allow_reject: bool = True) -> Entry:
        """File a timesheet entry at or after earliest, and walk it through approval."""
        if day >= self.end or self.chance(0.8):
            filed = max(earliest + timedelta(minutes=self.ri(20, 240)), at(day, 17 * 60 + self.ri(0, 40)))
            if filed.date() != day:
                filed = at(day, 23 * 60 + 50)
        else:
            filed = at(day + DAY, self.ri(8 * 60 + 30, 10 * 60))
        hist = []
        if self.chance(0.06):
            hist.append((filed, "草稿"))
            submitted = filed + timedelta(minutes=self.ri(600, 1800))
        else:
            submitted = filed
        hist.append((submitted, "已提交"))
        decided = at(submitted.date() + timedelta(days=self.ri(1, 5)), self.ri(9 * 60, 18 * 60))
        e = Entry(eng=eng, day=day, ticket=ticket, hours=hours, kind=kind, note=note, project=project,
                  hist=hist, seq=self.seq())
        self.entries.append(e)
        if ticket is not None:
            ticket.entries.append(e)
        refile = decided + timedelta(minutes=self.ri(60, 1200))
        if allow_reject and self.chance(0.02) and refile < self.T:
            # rejected by the approver, filed again (a new entry) and approved later
            hist.append((decided, "已驳回"))
            again = Entry(eng=eng, day=day, ticket=ticket, hours=hours, kind=kind, note=note + "（重新填报）",
                          project=project, seq=self.seq(),
                          hist=[(refile, "已提交"), (refile + timedelta(days=self.ri(1, 4)), "已审批")])
            self.entries.append(again)
            if ticket is not None:
                ticket.entries.append(again)
        else:
            hist.append((decided, "已审批"))
        return e

    def _free_day(self, eng: Engineer, day: date) -> None:
        rng = self.rng
        kind = rng.choice(["远程", "远程", "培训", "其他"])
        note = {"远程": "远程支持：告警分析与配置核查", "培训": "产品技能培训", "其他": "内部例会及文档整理"}[kind]
        project = f"PJ-{REGIONS.index(REGION_INFO[eng.region]) + 1:02d}-{self.ri(10, 99)}" if self.chance(0.3) else None
        self._file_entry(eng, day, None, Decimal(rng.choice(["7.5", "8", "8"])), kind, note, at(day, 17 * 60),
                         project)

    # ------------------------------------------------------------------ residencies (驻场)

    def _build_residencies(self) -> None:
        rng = self.rng
        for i, eng in enumerate(self.residents):
            if i < 3:
                s0 = workday_on_or_after(self.start - timedelta(days=self.ri(40, 200)))
                length = 12
            elif i == 3:
                s0 = workday_on_or_after(min(self.start + timedelta(days=self.ri(10, 20)),
                                             self.end - timedelta(days=15)))
                length = 12
            else:
                s0 = workday_on_or_after(self.start - timedelta(days=self.ri(0, 300)))
                length = rng.choice([6, 12])
            busy: set[date] = set()
            while s0 <= self.end:
                e0 = add_months(s0, length) - DAY
                self._make_residency(eng, s0, e0, busy)
                if e0 >= self.end:
                    break
                s0 = workday_on_or_after(e0 + timedelta(days=self.ri(5, 12)))
                length = 12
            # idle working days in the window: training / remote work
            d = self.start
            while d <= self.end:
                if is_workday(d) and d not in busy:
                    self._free_day(eng, d)
                d += DAY

    def _make_residency(self, eng: Engineer, s0: date, e0: date, busy: set) -> None:
        rng = self.rng
        site = self.random_site(eng.region, allow_classified=False)
        issued = s0 - timedelta(days=self.ri(10, 30))
        po = self.new_po_no(issued)
        months = Decimal(round(((e0 - s0).days + 1) / 30.44))
        price = Decimal(self.ri(18, 32) * 1000)
        line = self._line(po_no=po, line_no=1, contract=f"HT-{issued.year}-ZC-{self.ri(100, 999)}",
                          service_type="驻场", desc=f"{site.customer}驻场运维服务", region=eng.region,
                          customer=site.customer, qty=months, unit="月", unit_price=price,
                          amount=money(price * months), tax=Decimal("0.06"), start=s0, end=e0, issued=issued,
                          hist=self._line_hist(issued), tag="resident")
        created = at(issued + timedelta(days=self.ri(1, 5)), self.ri(9 * 60, 17 * 60))
        t = self._new_ticket("驻场", eng, site, created, "非小时级")
        t.required = at(s0, 9 * 60)
        t.po_no = po
        t.po_known = created
        t.residency = (s0, e0, line)
        line.ticket = t
        self.residencies.append(t)
        clock = at(s0, 8 * 60 + self.ri(5, 25))
        t.started = clock
        punches = [self._punch("开始", clock, *self._near(site), "APP")]
        if e0 <= self.horizon:
            punches.append(self._punch("离场", at(e0, 17 * 60 + 40), *self._near(site), "APP"))
            req = at(e0 + timedelta(days=self.ri(1, 3)), self.ri(9 * 60, 11 * 60))
            t.close_req = req
            t.closed = at(req.date() + timedelta(days=self.ri(1, 3)), self.ri(10 * 60, 17 * 60))
            self.attachments.append(Attachment(ticket=t, kind="驻场服务交付报告",
                                               file_name="{no}_驻场服务交付报告_终版.pdf",
                                               uploaded=req - timedelta(minutes=self.ri(30, 600)), by=eng.name))
        v = Visit(t, eng, punches)
        t.visits.append(v)
        self.visits.append(v)
        # monthly delivery reports (uploaded on the first working day of the next month)
        m = date(max(s0, self.start).year, max(s0, self.start).month, 1)
        while m <= self.end:
            due = workday_on_or_after(month_end(m) + DAY)
            if due <= self.horizon and month_end(m) <= e0:
                self.attachments.append(Attachment(ticket=t, kind="驻场服务交付报告",
                                                   file_name=f"{{no}}_驻场服务交付报告_{m:%Y%m}.pdf",
                                                   uploaded=at(due, self.ri(9 * 60, 17 * 60)), by=eng.name))
            m = month_end(m) + DAY
        # attendance, one row per scheduled working day
        shift = rng.choice([("08:30", "17:30"), ("08:30", "17:30"), ("09:00", "18:00")])
        sh_in = int(shift[0][:2]) * 60 + int(shift[0][3:])
        sh_out = int(shift[1][:2]) * 60 + int(shift[1][3:])
        d = max(s0, self.start)
        last = min(e0, self.end)
        while d <= last:
            if is_workday(d):
                busy.add(d)
                row = Attendance(ticket=t, eng=eng, day=d, shift_in=shift[0], shift_out=shift[1],
                                 flow_blank=self.chance(0.3))
                r = rng.random()
                if r < 0.03 and d != s0:
                    row.leave = rng.choice(LEAVE_TYPES)
                    row.leave_state = "已通过"
                    row.tag = "leave"
                else:
                    row.clock_in = at(d, sh_in - self.ri(5, 40))
                    row.clock_out = at(d, sh_out + self.ri(1, 50))
                    if d == s0:
                        row.clock_in = clock
                    if r > 0.98:
                        # a late arrival excused by an exception flow approved in time
                        sub = at(d, 18 * 60 + self.ri(0, 120))
                        dec = at(nth_workday_after(d, self.ri(1, 3)), self.ri(9 * 60, 17 * 60))
                        if dec < self.T and d != s0:
                            row.clock_in = at(d, sh_in + self.ri(6, 35))
                            row.flow, row.flow_sub, row.flow_at = "已通过", sub, dec
                            row.tag = "excused"
                    self._file_entry(eng, d, t, Decimal("8"), "现场", f"{site.customer}驻场运维值守",
                                     row.clock_out)
                self.attendance.append(row)
            d += DAY

    # ------------------------------------------------------------------ field work

    def _schedule_field(self) -> None:
        for eng in self.field:
            self._schedule_engineer(eng)

    def _schedule_engineer(self, eng: Engineer) -> None:
        rng = self.rng
        d = self.start
        types = [t for t, _ in TICKET_TYPE_WEIGHTS]
        weights = [w for _, w in TICKET_TYPE_WEIGHTS]
        while d <= self.horizon:
            if not is_workday(d):
                d += DAY
                continue
            if self.chance(0.07):
                if d <= self.end:
                    self._free_day(eng, d)
                d += DAY
                continue
            ttype = rng.choices(types, weights)[0]
            if ttype == "POC":
                days = next_workdays(d, self.ri(2, 4))
                self._make_poc(eng, days)
                d = days[-1] + DAY
                continue
            if ttype in PERSON_DAY_TYPES:
                n = rng.choice([1, 1, 1, 2, 2, 3])
            elif ttype == "整改":
                n = rng.choice([1, 1, 2])
            else:
                n = 1
            days = next_workdays(d, n)
            if n == 1 and self.chance(0.45):
                a1 = 8 * 60 + 20 + self.ri(0, 40)
                l1 = a1 + self.ri(150, 200)
                a2 = l1 + self.ri(75, 140)
                l2 = min(a2 + self.ri(150, 230), 18 * 60 + 40)
                t2 = rng.choice(["现场问题处理", "巡检", "单次现场服务", "现场问题处理"])
                self._make_field_ticket(eng, ttype, [(days[0], a1, l1)], "am")
                self._make_field_ticket(eng, t2, [(days[0], a2, l2)], "pm")
            else:
                spans = []
                for day in days:
                    a = 8 * 60 + 15 + self.ri(0, 75)
                    spans.append((day, a, min(a + self.ri(330, 510), 18 * 60 + 40)))
                self._make_field_ticket(eng, ttype, spans, "day")
            d = days[-1] + DAY

    def _make_field_ticket(self, eng: Engineer, ttype: str, spans: list, slot: str) -> Ticket:
        rng = self.rng
        site = self.random_site(eng.region)
        day0, a0, _ = spans[0]
        if ttype == "现场问题处理":
            sla = "小时级" if self.chance(0.8) else "非小时级"
        elif ttype == "事件值守":
            sla = rng.choice(["小时级", "非小时级"])
        else:
            sla = "非小时级"
        if sla == "小时级" and slot != "pm":
            created = at(day0, a0 - self.ri(95, 200))
        else:
            created = at(day0 - timedelta(days=self.ri(1, 6)), self.ri(9 * 60, 17 * 60 + 30))
        t = self._new_ticket(ttype, eng, site, created, sla)
        t.slot = slot
        t.spans = spans
        arrival = at(day0, a0)
        if sla == "小时级":
            t.required = max(created + timedelta(hours=4), arrival + timedelta(minutes=self.ri(5, 60)))
        elif self.chance(0.4):
            appt = arrival + timedelta(minutes=5)
            appt = appt.replace(minute=0) + timedelta(minutes=30 if appt.minute <= 30 else 60)
            t.appointment = appt
            t.required = created + timedelta(hours=24)  # replaced by the appointment
        else:
            t.required = at(day0, 12 * 60 if a0 < 11 * 60 else 18 * 60 + 50)
        if self.chance(0.65):
            t.auth_start = at(day0, 7 * 60)
            t.auth_end = at(spans[-1][0], 21 * 60)
        if ttype in PERSON_DAY_TYPES:
            t.ppd = Decimal(len(spans))
        if ttype == "现场问题处理":
            po = self.maint_po_for(site.region, site.customer, day0)
            if po:
                t.po_no, t.po_known = po, created
        for i, (day, a, leave) in enumerate(spans):
            v = Visit(t, eng, self._visit_punches(eng, site, day, a, leave, i == len(spans) - 1))
            t.visits.append(v)
            self.visits.append(v)
            self.visits_by_engday[(eng.eid, day)].append(v)
            hours = Decimal(max(1, round((leave - a) / 30))) / 2
            self._file_entry(eng, day, t, hours, "现场", f"{site.customer}{ttype}现场作业", at(day, leave))
        last_day, _, ll = spans[-1]
        leave_dt = at(last_day, ll)
        if self.chance(0.7) and ll < 23 * 60:
            req = min(leave_dt + timedelta(minutes=self.ri(15, 240)), at(last_day, 23 * 60 + 50))
        else:
            req = at(nth_workday_after(last_day, 1), self.ri(9 * 60, 11 * 60))
        t.close_req = req
        if self.chance(0.04):
            t.reject_at = req + timedelta(minutes=self.ri(240, 1200))
            t.close_req2 = t.reject_at + timedelta(minutes=self.ri(120, 1200))
            t.closed = at(t.close_req2.date() + timedelta(days=self.ri(1, 2)), self.ri(10 * 60, 17 * 60))
        else:
            t.closed = at(req.date() + timedelta(days=self.ri(1, 3)), self.ri(10 * 60, 17 * 60))
        return t

    def _make_poc(self, eng: Engineer, days: list[date]) -> Ticket:
        site = self.random_site(eng.region, allow_classified=False)
        created = at(days[0] - timedelta(days=self.ri(2, 6)), self.ri(9 * 60, 17 * 60))
        t = self._new_ticket("POC", eng, site, created, "非小时级")
        t.ppd = Decimal(len(days))
        t.started = at(days[0], 9 * 60)
        t.spans = [(d, 9 * 60, 18 * 60) for d in days]
        last_ok = None
        for d in days:
            e = self._file_entry(eng, d, t, Decimal("8"), "现场", f"{site.customer}POC测试", at(d, 18 * 60),
                                 allow_reject=False)
            ok = e.hist[-1][0]
            last_ok = ok if last_ok is None or ok > last_ok else last_ok
        req = at(max(last_ok.date(), days[-1]) + timedelta(days=self.ri(1, 3)), self.ri(9 * 60, 11 * 60))
        t.close_req = req
        t.closed = at(req.date() + timedelta(days=self.ri(1, 3)), self.ri(10 * 60, 17 * 60))
        self.attachments.append(Attachment(ticket=t, kind="售前测试报告", file_name="{no}_{customer}_POC测试报告.pdf",
                                           uploaded=req - timedelta(minutes=self.ri(30, 300)), by=eng.name))
        return t

    def _build_cancelled(self) -> None:
        rng = self.rng
        n = max(3, len(self.tickets) // 50)
        span = max(1, (self.end - self.start).days)
        for _ in range(n):
            eng = rng.choice(self.field)
            site = self.random_site(eng.region)
            created = at(self.start + timedelta(days=self.ri(0, span)), self.ri(9 * 60, 17 * 60))
            ttype = rng.choice(["现场问题处理", "巡检", "单次现场服务", "整改"])
            t = self._new_ticket(ttype, eng, site, created, "非小时级")
            t.required = created + timedelta(days=2)
            if ttype in PERSON_DAY_TYPES:
                t.ppd = Decimal(1)
            t.cancelled = created + timedelta(minutes=self.ri(120, 2880))

    def _number_tickets(self) -> None:
        per_day: dict[tuple[str, date], int] = defaultdict(int)
        self.tickets.sort(key=lambda t: (t.created, t.seq))
        for t in self.tickets:
            prefix = "PT" if t.type == "POC" else "WO"
            key = (prefix, t.created.date())
            per_day[key] += 1
            t.no = f"{prefix}{t.created:%Y%m%d}{per_day[key]:05d}"

    # ------------------------------------------------------------------ attachments

    def _build_attachments(self) -> None:
        for a in self.attachments:  # resident / POC ones were made before numbering
            a.file_name = a.file_name.format(no=a.ticket.no, customer=a.ticket.customer)
        for t in self.tickets:
            if t.type in ("驻场", "POC") or t.cancelled is not None or not t.visits:
                continue
            last_leave = max(v.last("离场")[1] for v in t.visits)
            room = max(10, int((t.close_req - last_leave).total_seconds() // 60) - 5)

            def up(_room=room, _leave=last_leave):
                return _leave + timedelta(minutes=self.ri(5, _room))

            by = t.eng.name
            for kind in REQUIRED_ATTACHMENTS[t.type]:
                if kind == "单次人天日报":
                    for v in t.visits:
                        d = v.day
                        leave = v.last("离场")[1]
                        room_v = room if leave == last_leave else 60
                        self.attachments.append(Attachment(ticket=t, kind=kind,
                                                           file_name=f"{t.no}_单次人天日报_{d:%Y%m%d}.xlsx",
                                                           uploaded=leave + timedelta(minutes=self.ri(5, room_v)),
                                                           by=by))
                    continue
                name = {
                    "现场技术服务报告": self.rng.choice([f"{t.no}_{t.customer}_现场技术服务报告.pdf",
                                                  f"{t.customer}-{t.no}-现场技术服务报告.docx"]),
                    "信息收集包": f"{t.no}_信息收集包.zip",
                    "健康检查报告": f"{t.customer}_{t.no}_健康检查报告.pdf",
                    "TD审批邮件": f"TD审批邮件_{t.no}.msg",
                    "整改清单": f"{t.no}_整改清单.xlsx",
                    "整改前信息采集包": f"{t.no}_整改前信息采集包.zip",
                    "整改后信息采集包": f"{t.no}_整改后信息采集包.zip",
                }[kind]
                self.attachments.append(Attachment(ticket=t, kind=kind, file_name=name, uploaded=up(), by=by))
            if t.type == "巡检" and self.chance(0.3):
                self.attachments.append(Attachment(ticket=t, kind="巡检完成证明", file_name=f"{t.no}_巡检完成证明.pdf",
                                                   uploaded=up(), by=by))
            if self.chance(0.1):
                self.attachments.append(Attachment(ticket=t, kind="其他", file_name=f"{t.no}_现场照片.zip",
                                                   uploaded=up(), by=by))

    # ------------------------------------------------------------------ per-ticket POs

    def _build_ticket_pos(self) -> None:
        """Weekly batches: every Monday, one PO per region for the tickets closed the week before."""
        rng = self.rng
        monday = self.start + timedelta(days=(7 - self.start.weekday()) % 7)
        if monday == self.start:
            monday += timedelta(days=7)
        closed_by_week: dict[date, list[Ticket]] = defaultdict(list)
        for t in self.tickets:
            if t.type in PER_TICKET_PO and t.closed is not None and t.cancelled is None:
                cd = t.closed.date()
                wk = cd - timedelta(days=cd.weekday()) + timedelta(days=7)
                closed_by_week[wk].append(t)
        while monday <= self.end:
            issued = workday_on_or_after(monday)
            batch = closed_by_week.get(monday, [])
            by_region: dict[str, list[Ticket]] = defaultdict(list)
            for t in batch:
                by_region[t.region].append(t)
            for region in sorted(by_region, key=lambda r: [x[0] for x in REGIONS].index(r)):
                tickets = by_region[region]
                po = self.new_po_no(issued)
                ln = 0
                by_stype: dict[str, list[Ticket]] = defaultdict(list)
                for t in tickets:
                    by_stype[PER_TICKET_PO[t.type][0]].append(t)
                for stype in ("巡检", "整改", "单次"):
                    group = by_stype.get(stype, [])
                    for k in range(0, len(group), 12):
                        chunk = group[k:k + 12]
                        ln += 1
                        unit = PER_TICKET_PO[chunk[0].type][1]
                        lo, hi = PER_TICKET_PO[chunk[0].type][2]
                        price = Decimal(self.ri(lo // 100, hi // 100) * 100)
                        line = self._line(po_no=po, line_no=ln, contract=f"HT-{issued.year}-AD-{self.ri(100, 999)}",
                                          service_type=stype, desc=f"{stype}服务（按工单结算）", region=region,
                                          customer=rng.choice(sorted({t.customer for t in chunk})), unit=unit,
                                          unit_price=price, tax=Decimal("0.06"), issued=issued,
                                          hist=self._line_hist(issued), tag="ticket")
                        line.tickets = list(chunk)
                        known = at(issued, self.ri(10 * 60, 17 * 60))
                        for t in chunk:
                            t.po_no, t.po_known = po, known
            monday += timedelta(days=7)

    def finish_ticket_lines(self) -> None:
        """Quantities, amounts and 关联工单号 text of per-ticket lines (after injections)."""
        for line in self.lines:
            if line.tag != "ticket":
                continue
            if line.service_type == "单次":
                line.qty = sum((t.ppd or Decimal(1) for t in line.tickets), Decimal(0))
            else:
                line.qty = Decimal(len(line.tickets))
            line.amount = money(line.unit_price * line.qty)
            sep = self.rng.choice([";", ";", ";", "；", "; "])
            line.refs = sep.join(t.no for t in line.tickets)

    # ------------------------------------------------------------------ RFCs

    def _build_rfcs(self) -> None:
        rng = self.rng
        n = max(12, round(self.n_eng * self.months * 0.5))
        lo = midnight(self.start - timedelta(days=20))
        span_min = int((midnight(self.end) - lo).total_seconds() // 60)
        regions = [e.region for e in self.field]
        for _ in range(n):
            region = rng.choice(regions)
            sub = lo + timedelta(minutes=self.ri(0, span_min))
            sub = at(sub.date(), self.ri(9 * 60, 18 * 60))
            r = rng.random()
            outcome = "cancel" if r < 0.04 else "fail" if r < 0.07 else "normal"
            self.make_rfc(region, sub, outcome=outcome)
        # RFCs the customer never approved, closed as overdue (超期关闭) by NetCare
        for _ in range(max(1, n // 30)):
            latest = self.end - timedelta(days=35)
            earliest = self.start - timedelta(days=40)
            if latest < earliest:
                break
            sub = at(earliest + timedelta(days=self.ri(0, (latest - earliest).days)), self.ri(9 * 60, 18 * 60))
            self.make_rfc(rng.choice(regions), sub, outcome="overdue")

    def rfc_level(self):
        r = self.rng.random()
        if r < 0.55:
            score = self.ri(1, 4)
            level = "Low"
        elif r < 0.85:
            score = self.ri(5, 7)
            level = "Medium"
        elif r < 0.96:
            score = self.ri(8, 13)
            level = "High"
        else:
            score = self.ri(14, 18)
            level = "Fatal"
        return score, level

    def make_rfc(self, region: str, sub: datetime, outcome: str = "normal", score=None, level=None,
                 lead_days: int | None = None, n_tasks: int | None = None, guarantor: bool | None = None) -> RFC:
        """A clean RFC and its tasks. outcome: normal | fail | cancel | overdue."""
        rng = self.rng
        if score is None and level is None:
            score, level = self.rfc_level()
            if self.chance(0.15):
                score = None
        customer = rng.choice(REGION_INFO[region][6])
        rfc = RFC(region=region, customer=customer, score=score, level=level, submitted=sub, seq=self.seq(),
                  title=f"{customer}{rng.choice(PRODUCT_LINES)}{rng.choice(RFC_ACTIONS)}")
        if lead_days is None:
            eff = level if score is None else ("Fatal" if score >= 14 else "High" if score >= 8 else "Low")
            min_lead = {"Fatal": 11, "High": 8}.get(eff, 4)
            lead_days = min_lead + self.ri(0, 6)
        pday = sub.date() + timedelta(days=lead_days)
        rfc.planned_start = at(pday, rng.choice([22 * 60, 22 * 60 + 30, 23 * 60, 23 * 60 + 30]))
        rfc.pm = sub + timedelta(minutes=self.ri(120, 1200))
        rfc.plan_ok = min(rfc.pm + timedelta(minutes=self.ri(600, 3600)), rfc.planned_start - timedelta(hours=30))
        rfc.hist = [(sub, "PM审批"), (rfc.pm, "PSE评审"), (rfc.plan_ok, "客户审批")]
        field = self.field_by_region[region] or self.field
        k = n_tasks if n_tasks is not None else rng.choice([1, 1, 2, 2, 3])
        cursor = rfc.planned_start + timedelta(minutes=self.ri(0, 20))
        tasks = []
        for _ in range(k):
            impl = rng.choice(field)
            has_g = guarantor if guarantor is not None else self.chance(0.85)
            guar = rng.choice([e for e in field if e is not impl] or self.field) if has_g else None
            task = Task(rfc=rfc, impl=impl.eid, guar=guar.eid if guar else None, seq=self.seq())
            task.started = cursor
            task.verified = cursor + timedelta(minutes=self.ri(30, 120))
            task.completed = task.verified + timedelta(minutes=self.ri(30, 60))
            if guar:
                task.g_completed = task.completed + timedelta(minutes=self.ri(0, 90))
                if task.completed < self.T <= task.g_completed:
                    # finished before as_of: the guarantor too (else CH-06 'missing' at as_of)
                    task.g_completed = max(task.completed, self.T - timedelta(minutes=1))
            cursor = task.completed + timedelta(minutes=self.ri(5, 30))
            tasks.append(task)
        end = tasks[-1].completed + timedelta(minutes=self.ri(10, 60))
        rfc.planned_end = end.replace(minute=0) + timedelta(minutes=30 if end.minute <= 30 else 60)
        for task in tasks:
            task.auth_start = rfc.planned_start - timedelta(minutes=30)
            task.auth_end = rfc.planned_end + timedelta(minutes=60)
        rfc.tasks = tasks
        self.rfcs.append(rfc)
        if outcome == "cancel":
            cancel = rfc.plan_ok + timedelta(minutes=self.ri(600, 2000))
            cancel = min(cancel, rfc.planned_start - timedelta(hours=2))
            rfc.hist.append((cancel, "取消"))
            for task in tasks:
                task.started = task.verified = task.completed = task.g_completed = None
                task.hist = [(rfc.plan_ok, "未开始"), (cancel, "取消")]
            return rfc
        if outcome == "overdue":
            closed = rfc.pm + timedelta(days=31, minutes=self.ri(10, 600))
            rfc.hist.append((closed, "超期关闭"))
            for task in tasks:
                task.started = task.verified = task.completed = task.g_completed = None
                task.hist = [(rfc.plan_ok, "未开始"), (closed, "取消")]
            return rfc
        if self.chance(0.08):
            rfc.ext_sub = rfc.plan_ok + timedelta(minutes=self.ri(60, 600))
            rfc.ext_at = rfc.ext_sub + timedelta(minutes=self.ri(600, 2000))
            rfc.ext_state = rng.choice(["已通过", "已驳回"])
        for task in tasks:
            task.hist = [(rfc.plan_ok, "未开始"), (rfc.planned_start - timedelta(hours=24), "准备"),
                         (task.started, "实施中"), (task.completed, "完成")]
        rfc.hist.append((tasks[0].started, "实施"))
        if outcome == "fail":
            failed = tasks[-1]
            failed.hist[-1] = (failed.completed, "完成失败")
            rfc.hist.append((failed.completed + timedelta(minutes=self.ri(10, 60)), "完成失败"))
            rfc.retro = at(nth_workday_after(failed.completed.date(), self.ri(1, 3)), self.ri(9 * 60, 17 * 60))
        else:
            rfc.hist.append((tasks[-1].completed + timedelta(minutes=self.ri(5, 60)), "完成"))
        return rfc

    def number_rfcs(self) -> None:
        per_day: dict[date, int] = defaultdict(int)
        self.rfcs.sort(key=lambda r: (r.submitted, r.seq))
        for rfc in self.rfcs:
            per_day[rfc.submitted.date()] += 1
            rfc.no = f"RFC{rfc.submitted:%Y%m%d}{per_day[rfc.submitted.date()]:03d}"
            for i, task in enumerate(rfc.tasks, start=1):
                task.no = f"T{rfc.no[3:]}{i:02d}"

    # ------------------------------------------------------------------ acceptances

    def build_acceptances(self) -> None:
        """One acceptance per ended monthly cycle of every 维保 / 驻场 line, one per per-ticket line."""
        for line in self.lines:
            if line.service_type in ("维保", "驻场"):
                cyc = cycles(line.service_type, line.start, line.end)
                amounts = cycle_amounts(line.amount, line.start, line.end, cyc)
                for (s, e), amt in zip(cyc, amounts, strict=True):
                    if e > self.end:
                        break
                    sub_day = nth_workday_after(e, self.ri(1, 3))
                    self.add_acceptance(line, (s, e), amt, sub_day)
            elif line.tag == "ticket":
                sub_day = nth_workday_after(line.issued, self.ri(4, 12))
                self.add_acceptance(line, None, line.amount, sub_day, qty=line.qty)

    def remark_for(self, line: POLine, period) -> str:
        s, e = period
        colon = "：" if self.chance(0.15) else ":"
        text = f"验收周期{colon}{s:%Y-%m-%d}至{e:%Y-%m-%d}"
        if self.chance(0.5):
            label = "维保" if line.service_type == "维保" else "驻场服务"
            text = f"{s.year}年{s.month}月{label}费用验收，{text}"
        return text

    def add_acceptance(self, line: POLine, period, amount: Decimal, sub_day: date, qty=None,
                       approve_days: int | None = None) -> Acceptance:
        if qty is None and period is not None:
            s, e = period
            q = Decimal(0)
            d = s
            while d <= e:
                me = min(month_end(d), e)
                q += Decimal((me - d).days + 1) / Decimal(month_end(d).day)
                d = me + DAY
            qty = q.quantize(CENT2)
        hist = []
        if self.chance(0.5):
            hist.append((at(sub_day - DAY, self.ri(14 * 60, 18 * 60)), "草稿", None, None, None))
        sub = at(sub_day, self.ri(9 * 60, 17 * 60))
        hist.append((sub, "审批中", sub_day, None, None))
        dec_day = sub_day + timedelta(days=approve_days if approve_days is not None else self.ri(1, 6))
        hist.append((at(dec_day, self.ri(9 * 60, 18 * 60)), "已通过", sub_day, dec_day, None))
        acc = Acceptance(line=line, period=period, qty=qty, amount=amount,
                         remark=self.remark_for(line, period) if period else f"{line.service_type}服务验收",
                         hist=hist, seq=self.seq())
        self.acceptances.append(acc)
        line.acceptances.append(acc)
        return acc

    def number_acceptances(self) -> None:
        per_day: dict[date, int] = defaultdict(int)
        self.acceptances.sort(key=lambda a: (a.hist[0][0], a.seq))
        for a in self.acceptances:
            d = a.hist[0][0].date()
            per_day[d] += 1
            a.no = f"YS{d:%Y%m%d}{per_day[d]:04d}"

    def finish_line_status(self) -> None:
        for line in self.lines:
            base = [h for h in line.hist if h[1] in ("已下发", "已接收")]
            approvals = sorted(h[0] for a in line.acceptances for h in a.hist if h[1] == "已通过")
            if approvals:
                if line.tag == "ticket":
                    base.append((approvals[0] + timedelta(minutes=30), "已验收"))
                else:
                    base.append((approvals[0] + timedelta(minutes=30), "部分验收"))
            line.hist = sorted(base)

    # ------------------------------------------------------------------ finishing

    def finish(self) -> None:
        """IDs and derived fields, once all injections are done."""
        for t in self.tickets:
            if t.type not in ("POC", "驻场"):
                ps = [p[1] for v in t.visits for p in v.punches]
                t.started = min(ps) if ps else None
        # punch IDs in time order
        allp = [p for v in self.visits for p in v.punches]
        allp.sort(key=itemgetter(1))  # stable: ties keep visit order
        day = None
        n = 0
        for p in allp:
            d = p[1].date()
            if d != day:
                day, n = d, 0
            n += 1
            p[5] = n  # the ID is PK<yyyymmdd><n:07d>, rendered when written
        del allp
        # timesheet entry IDs in filing order, PO号 once known
        self.entries.sort(key=lambda e: (e.filed, e.seq))
        per_day = defaultdict(int)
        for e in self.entries:
            per_day[e.filed.date()] += 1
            e.eid = f"TS{e.filed:%Y%m%d}{per_day[e.filed.date()]:06d}"
            t = e.ticket
            if t is not None and t.po_no and t.po_known is not None and t.po_known <= e.filed:
                e.po_no = t.po_no
        self.number_acceptances()
        self.finish_line_status()


CENT2 = Decimal("0.01")
