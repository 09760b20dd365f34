"""Injects 1-3 violations of every rule code into a clean :class:`World` and records the
findings the rules must produce for business date ``end`` (as_of = end + 1 day 00:00).

Each injection touches entities no other injection touches (``used`` sets), and lists every
finding that legitimately results, side effects included.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from .model import (
    DAY,
    Attachment,
    Engineer,
    Entry,
    Visit,
    at,
    cycle_amounts,
    cycles,
    is_workday,
    midnight,
    month_key,
    nth_workday_after,
    ra06_deadline_end,
)
from .world import PER_TICKET_PO, PERSON_DAY_TYPES, World, offset

FINDING_KEYS = ("rule_code", "ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
                "cycle_start", "acceptance_no", "month", "region")
FIELD_TYPES = ("现场问题处理", "巡检", "整改", "单次现场服务", "事件值守", "高级软件现场支持")
UNKNOWN_PUNCHER = "F99017"
UNKNOWN_GUARANTOR = "F99023"


def _prev_month(d: date) -> date:
    return (d.replace(day=1) - DAY).replace(day=1)


class Injector:
    def __init__(self, world: World):
        self.w = world
        self.rng = world.rng
        self.T = world.T
        self.end = world.end
        self._findings: list[tuple[str, dict]] = []
        self.notes: list[dict] = []
        self.used_tickets: set[int] = set()
        self.used_engdays: set[tuple[str, date]] = set()
        self.used_lines: set[int] = set()
        self.used_acc: set[int] = set()
        self.ra_counts: dict[tuple[str, str], int] = defaultdict(int)

    # ------------------------------------------------------------------ bookkeeping

    def expect(self, code: str, **subject) -> None:
        self._findings.append((code, subject))

    def note(self, code: str, what: str) -> None:
        self.notes.append({"rule_code": code, "injected": what})

    def pick(self, cands):
        if not cands:
            return None
        return cands[self.rng.randrange(len(cands))]

    def free(self, t) -> bool:
        return id(t) not in self.used_tickets

    def use(self, *objs) -> None:
        for o in objs:
            self.used_tickets.add(id(o))

    def findings(self) -> list[dict]:
        out = {}
        for code, s in self._findings:
            f = dict.fromkeys(FINDING_KEYS)
            f["rule_code"] = code
            if s.get("ticket") is not None:
                f["ticket_no"] = s["ticket"].no
            if s.get("ticket_no") is not None:
                f["ticket_no"] = s["ticket_no"]
            if s.get("eng") is not None:
                f["engineer_id"] = s["eng"] if isinstance(s["eng"], str) else s["eng"].eid
            if s.get("day") is not None:
                f["day"] = s["day"].isoformat()
            if s.get("rfc") is not None:
                f["rfc_no"] = s["rfc"].no
            if s.get("task") is not None:
                f["task_no"] = s["task"].no
                f["rfc_no"] = s["task"].rfc.no
            if s.get("line") is not None:
                f["po_no"] = s["line"].po_no
                f["po_line_no"] = s["line"].line_no
            if s.get("cycle_start") is not None:
                f["cycle_start"] = s["cycle_start"].isoformat()
            if s.get("acc") is not None:
                f["acceptance_no"] = s["acc"].no
            if s.get("month") is not None:
                f["month"] = s["month"]
            if s.get("region") is not None:
                f["region"] = s["region"]
            key = tuple(f[k] for k in FINDING_KEYS)
            out[key] = f
        return sorted(out.values(), key=lambda f: tuple("" if f[k] is None else str(f[k]) for k in FINDING_KEYS))

    # ------------------------------------------------------------------ candidates

    def _visible(self):
        """Field tickets whose visits are all on or before the business date (computed once)."""
        if not hasattr(self, "_vis_cache"):
            vis = []
            for t in self.w.tickets:
                if t.type not in FIELD_TYPES or t.cancelled is not None or not t.visits:
                    continue
                days = [v.day for v in t.visits]
                if max(days) > self.end:
                    continue
                vis.append((t, len(t.visits) == 1, days[0]))
            self._vis_cache = vis
        return self._vis_cache

    def visible_field_tickets(self, types=FIELD_TYPES):
        return [t for t, _single, _d in self._visible() if t.type in types and self.free(t)]

    def single_visit_tickets(self, types=FIELD_TYPES, alone=False, need_auth=None):
        out = []
        for t, single, day in self._visible():
            if not single or t.type not in types or not self.free(t) or len(t.visits) != 1:
                continue
            v = t.visits[0]
            if (v.eng.eid, day) in self.used_engdays:
                continue
            if alone and len(self.w.visits_by_engday[(v.eng.eid, day)]) != 1:
                continue
            if need_auth is True and t.auth_start is None:
                continue
            if need_auth is False and t.auth_start is not None:
                continue
            out.append(t)
        return out

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        self.pd01()
        self.pd02()
        self.pd03_04()
        self.pd05()
        self.pd06()
        self.pd07()
        self.pd08()
        self.pd09()
        self.poc01()
        self.ra()
        self.po_lines()
        self.po08()
        self.at()
        self.dq()
        self.ch()
        self.blocked_packs()

    def run_acceptances(self) -> None:
        self.unaccept_blocked_lines()
        self.rejected_cycle()
        self.po_acceptances()

    # ------------------------------------------------------------------ states a clerk meets
    # Chosen without the rng (first candidate in PO order) so the other injections stay as they were.

    def blocked_packs(self):
        """Two per-ticket 单次 lines whose packs a clerk cannot submit yet (their acceptances are
        dropped in unaccept_blocked_lines): one blocked by a missing 单次人天日报 (AT-01) and by
        punched days below 派单人天 (PD-01) — the README's 阻塞 flow —, one by PD-01 alone (the
        finding a clerk explains in the walk-through, after which the pack is ready). Only lines
        all of whose tickets no other injection touched, so nothing else blocks them."""
        w = self.w
        by_ticket = defaultdict(list)
        for a in w.attachments:
            if a.ticket is not None:
                by_ticket[id(a.ticket)].append(a)
        fit = {id(t) for t in self.visible_field_tickets(PERSON_DAY_TYPES)
               if t.closed is not None and t.closed < self.T and t.reject_at is None and t.eng is not None
               and any(a.kind == "单次人天日报" for a in by_ticket[id(t)])}
        lines = sorted((ln for ln in w.lines if ln.tag == "ticket" and ln.service_type == "单次"
                        and ln.hist[0][0] < self.T and id(ln) not in self.used_lines),
                       key=lambda ln: (ln.po_no, ln.line_no))
        self.blocked: list[dict] = []
        for kinds in (("AT-01", "PD-01"), ("PD-01",)):
            line = next((ln for ln in lines if id(ln) not in self.used_lines and len(ln.tickets) >= len(kinds)
                         and all(id(t) in fit and self.free(t) for t in ln.tickets)), None)
            if line is None:
                continue
            self.used_lines.add(id(line))
            found = []
            pd_ticket = line.tickets[0]
            pd_ticket.ppd = Decimal(len(pd_ticket.visits) + 1)
            self.expect("PD-01", ticket=pd_ticket, eng=pd_ticket.eng)
            found.append({"rule_code": "PD-01", "ticket_no": pd_ticket.no, "engineer_id": pd_ticket.eng.eid})
            if "AT-01" in kinds:
                at_ticket = line.tickets[1]
                for a in by_ticket[id(at_ticket)]:
                    if a.kind == "单次人天日报":
                        w.attachments.remove(a)
                self.expect("AT-01", ticket=at_ticket)
                found.append({"rule_code": "AT-01", "ticket_no": at_ticket.no})
            self.use(*line.tickets)
            self.blocked.append({"po_no": line.po_no, "po_line_no": line.line_no, "region": line.region,
                                 "blocked_by": found, "_line": line})
            self.note("PD-01", f"blocked pack {line.po_no}/{line.line_no}: " + ", ".join(
                f"{f['rule_code']} {f['ticket_no']}" for f in found) + " on a line not yet accepted")

    def unaccept_blocked_lines(self):
        for b in getattr(self, "blocked", []):
            line = b["_line"]
            for acc in list(line.acceptances):
                line.acceptances.remove(acc)
                self.w.acceptances.remove(acc)

    def rejected_cycle(self):
        """A 维保 cycle whose only acceptance ISC rejected and nobody resubmitted: on the to-do as
        已驳回待重提 (no PO-02: a rejected cycle is not `due`; its rejection counts toward PO-06)."""
        self.rejected = None
        annual = sorted((ln for ln in self.w.lines if ln.tag == "annual" and ln.hist[0][0] < self.T
                         and id(ln) not in self.used_lines), key=lambda ln: (ln.po_no, ln.line_no))
        for line in annual:
            ended = self._ended_cycles(line)
            if not ended:
                continue
            s, e, _amount = ended[-1]
            covering = self._covering(line, s, e)
            if len(covering) != 1 or covering[0].period != (s, e):
                continue
            acc = covering[0]
            h = acc.state_at(self.T)
            if h is None or h[1] != "已通过":
                continue
            self._reject(acc, then_approve=False)
            self.used_lines.add(id(line))
            self.rejected = {"po_no": line.po_no, "po_line_no": line.line_no, "region": line.region,
                             "cycle_start": s.isoformat(), "cycle_end": e.isoformat()}
            self.note("PO-06", f"维保 line {line.po_no}/{line.line_no}: cycle {s}..{e} rejected, not resubmitted")
            return

    def clerk_states(self) -> dict:
        """Where the demo shows each state a clerk meets (manifest `clerk_states`)."""
        return {
            "blocked_packs": [{k: v for k, v in b.items() if not k.startswith("_")} for b in getattr(self, "blocked", [])],
            "rejected_cycle": getattr(self, "rejected", None),
        }

    # ------------------------------------------------------------------ PD

    def pd01(self):
        cands = [t for t in self.visible_field_tickets(PERSON_DAY_TYPES)
                 if t.closed is not None and t.closed < self.T and t.reject_at is None]
        t = self.pick(cands)
        if t:
            self.use(t)
            t.ppd = Decimal(len(t.visits) + 1)
            self.expect("PD-01", ticket=t, eng=t.eng)
            self.note("PD-01", f"{t.type} closed with {len(t.visits)} punched days, 派单人天 {t.ppd} (fewer)")
        cands = [t for t in self.visible_field_tickets(PERSON_DAY_TYPES) if len(t.visits) >= 2]
        t = self.pick(cands)
        if t:
            self.use(t)
            t.ppd = Decimal(len(t.visits) - 1)
            self.expect("PD-01", ticket=t, eng=t.eng)
            self.note("PD-01", f"{t.type} with {len(t.visits)} punched days, 派单人天 {t.ppd} (more)")

    def pd02(self):
        w = self.w
        # a colleague does a whole visit on someone else's ticket (and files the day: no PD-09)
        cands = self.single_visit_tickets()
        self.rng.shuffle(cands)
        for t in cands:
            v = t.visits[0]
            day = v.day
            others = [e for e in w.field_by_region[t.region] if e is not t.eng
                      and not w.visits_by_engday.get((e.eid, day)) and (e.eid, day) not in self.used_engdays]
            if not others:
                continue
            b = self.pick(others)
            arr = v.first("到达")[1] + timedelta(minutes=10)
            leave = v.last("离场")[1] - timedelta(minutes=10)
            if (leave - arr).total_seconds() < 3600:
                continue
            site = t.site
            hl, hla = offset(b.home[0], b.home[1], 0.5, 1.0)
            ps = [w._punch("出发", arr - timedelta(minutes=30), hl, hla, "APP"),
                  w._punch("到达", arr, *w._near(site), "APP"),
                  w._punch("开始", arr + timedelta(minutes=5), *w._near(site), "APP"),
                  w._punch("离场", leave, *w._near(site), "APP")]
            nv = Visit(t, b, ps)
            t.visits.append(nv)
            w.visits.append(nv)
            w.visits_by_engday[(b.eid, day)].append(nv)
            w._file_entry(b, day, t, Decimal(max(1, round((leave - arr).total_seconds() / 1800))) / 2, "现场",
                          f"协助{t.customer}现场处理", leave, allow_reject=False)
            self.use(t)
            self.used_engdays.add((b.eid, day))
            self.used_engdays.add((t.eng.eid, day))
            self.expect("PD-02", ticket=t, eng=b)
            self.note("PD-02", f"{b.eid} made a full visit on {t.no}'s ticket of FSE {t.eng.eid} (timesheet filed)")
            break
        # an engineer unknown to the master punches 开始 on a ticket: PD-02 and DQ-03
        cands = self.single_visit_tickets()
        t = self.pick(cands)
        if t:
            v = t.visits[0]
            unk = Engineer(eid=UNKNOWN_PUNCHER, name="周强", region=t.region, known=False, home_addr="",
                           home=(0.0, 0.0), created=None, role="unknown")
            p0 = v.first("开始")
            nv = Visit(t, unk, [w._punch("开始", p0[1] + timedelta(minutes=4), *w._near(t.site), "APP")])
            t.visits.append(nv)
            w.visits.append(nv)
            self.use(t)
            self.expect("PD-02", ticket=t, eng=UNKNOWN_PUNCHER)
            self.expect("DQ-03", eng=UNKNOWN_PUNCHER)
            self.note("PD-02", f"unknown engineer {UNKNOWN_PUNCHER} punched 开始 on {t.eng.eid}'s ticket (also DQ-03)")
            self.note("DQ-03", f"{UNKNOWN_PUNCHER} on a punch, not in the engineer master")

    def _two_visit_days(self):
        w = self.w
        out = []
        for (eid, day), vs in w.visits_by_engday.items():
            if len(vs) != 2 or day > self.end or (eid, day) in self.used_engdays:
                continue
            a, b = sorted(vs, key=lambda v: v.first("到达")[1])
            if a.ticket is b.ticket or len(a.ticket.visits) != 1 or len(b.ticket.visits) != 1:
                continue
            if not (self.free(a.ticket) and self.free(b.ticket)):
                continue
            out.append((eid, day, a, b))
        out.sort(key=lambda x: (x[1], x[0]))
        return out

    @staticmethod
    def _shift(v: Visit, delta: timedelta) -> None:
        for p in v.punches:
            p[1] = p[1] + delta

    def pd03_04(self):
        cands = self._two_visit_days()
        self.rng.shuffle(cands)
        plan = [("PD-03", -25), ("PD-03", -40), ("PD-04", 30), ("PD-04", 0)]
        used_engs = set()
        for code, gap in plan:
            while cands:
                eid, day, a, b = cands.pop()
                if eid in used_engs:
                    continue
                l1 = a.last("离场")[1]
                a2 = b.first("到达")[1]
                self._shift(b, (l1 + timedelta(minutes=gap)) - a2)
                self.use(a.ticket, b.ticket)
                self.used_engdays.add((eid, day))
                used_engs.add(eid)
                self.expect(code, eng=a.eng, day=day, ticket=b.ticket)
                if code == "PD-03":
                    self.note(code, f"{eid} arrives at {b.ticket.no} {-gap} min before leaving {a.ticket.no}")
                else:
                    self.note(code, f"{eid} arrives at {b.ticket.no} {gap} min after leaving {a.ticket.no}")
                break

    def pd05(self):
        cands = [t for t in self.single_visit_tickets() if t.classified != "是" and t.lng is not None]
        t = self.pick(cands)
        if t:
            v = t.visits[0]
            p = v.first("到达")
            p[2], p[3] = offset(t.site.true_lng, t.site.true_lat, self.rng.uniform(6, 9), self.rng.uniform(0, 6.28))
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-05", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-05", f"到达 punch 6-9 km from the site on {t.no}")
        cands = [t for t in self.single_visit_tickets() if t.classified != "是" and t.lng is not None]
        t = self.pick(cands)
        if t:
            v = t.visits[0]
            p = v.last("离场")
            p[2] = p[3] = None
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-05", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-05", f"离场 punch without coordinates on {t.no}")

    def pd06(self):
        t = self.pick(self.single_visit_tickets(need_auth=True))
        if t:
            v = t.visits[0]
            t.auth_end = v.last("离场")[1] - timedelta(minutes=10)
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-06", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-06", f"授权结束时间 10 min before the 离场 punch on {t.no}")
        t = self.pick(self.single_visit_tickets(need_auth=True))
        if t:
            v = t.visits[0]
            t.auth_start = v.first("开始")[1] + timedelta(minutes=15)
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-06", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-06", f"授权开始时间 15 min after the first 开始 punch on {t.no}")

    def pd07(self):
        w = self.w
        # (a) a visit ended after midnight
        cands = [t for t in self.single_visit_tickets(need_auth=False)
                 if t.visits[0].day < self.end and t.reject_at is None
                 and max(w.visits_by_engday[(t.eng.eid, t.visits[0].day)],
                         key=lambda v: v.first("到达")[1]) is t.visits[0]]
        t = self.pick(cands)
        if t:
            v = t.visits[0]
            p = v.last("离场")
            p[1] = at(v.day + DAY, self.ri(10, 40))
            if t.close_req <= p[1]:
                t.close_req = p[1] + timedelta(minutes=30)
            if t.closed <= t.close_req:
                t.closed = t.close_req + timedelta(hours=3)
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-07", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-07", f"visit on {t.no} left after midnight (离场 next day)")
        # (b) a visit never ended: also 'filed, not punched' (PD-09), the day is not a punched person-day
        cands = self.single_visit_tickets(types=("巡检", "整改", "现场问题处理"), alone=True)
        t = self.pick(cands)
        if t:
            v = t.visits[0]
            v.punches[:] = [p for p in v.punches if p[0] not in ("离场", "完成")]
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-07", ticket=t, eng=v.eng, day=v.day)
            self.expect("PD-09", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-07", f"open visit on {t.no}: no 完成/离场 (also PD-09 filed, not punched)")
        # (c) an orphan leave: a second 离场 after the visit's own
        t = self.pick(self.single_visit_tickets())
        if t:
            v = t.visits[0]
            p = v.last("离场")
            v.punches.append(w._punch("离场", p[1] + timedelta(minutes=4), *w._near(t.site), p[4]))
            self.use(t)
            self.used_engdays.add((v.eng.eid, v.day))
            self.expect("PD-07", ticket=t, eng=v.eng, day=v.day)
            self.note("PD-07", f"orphan 离场 4 min after the visit's 离场 on {t.no}")

    def ri(self, a, b):
        return self.rng.randint(a, b)

    def pd08(self):
        t = self.pick(self.single_visit_tickets())
        if t:
            arr = t.visits[0].first("到达")[1]
            t.appointment = None
            t.required = arr - timedelta(minutes=40)
            self.use(t)
            self.expect("PD-08", ticket=t, eng=t.eng)
            self.note("PD-08", f"first arrival 40 min after 要求到达时间 on {t.no}")
        t = self.pick(self.single_visit_tickets())
        if t:
            arr = t.visits[0].first("到达")[1]
            t.appointment = arr - timedelta(minutes=25)
            t.required = arr + timedelta(minutes=120)
            self.use(t)
            self.expect("PD-08", ticket=t, eng=t.eng)
            self.note("PD-08", f"first arrival 25 min after 预约到达时间 on {t.no} (要求到达时间 would pass)")

    def pd09(self):
        w = self.w
        # punched, not filed: the only entry of a punched day is deleted
        cands = []
        for t in self.single_visit_tickets():
            v = t.visits[0]
            es = [e for e in t.entries if e.eng is v.eng and e.day == v.day]
            if len(es) == 1 and es[0].hist[-1][1] != "已驳回":
                cands.append((t, es[0]))
        c = self.pick(cands)
        if c:
            t, e = c
            t.entries.remove(e)
            w.entries.remove(e)
            self.use(t)
            self.expect("PD-09", ticket=t, eng=t.eng, day=e.day)
            self.note("PD-09", f"punched person-day on {t.no} without a timesheet entry (warning)")
        # filed, not punched: an on-site entry for a day without a visit on that ticket
        cands = [t for t in self.visible_field_tickets() if t.visits[-1].day < self.end - timedelta(days=3)
                 and nth_workday_after(t.visits[-1].day, 1) <= self.end]
        t = self.pick(cands)
        if t:
            d = nth_workday_after(t.visits[-1].day, 1)
            w._file_entry(t.eng, d, t, Decimal("2"), "现场", f"{t.customer}现场复查", at(d, 18 * 60),
                          allow_reject=False)
            self.use(t)
            self.expect("PD-09", ticket=t, eng=t.eng, day=d)
            self.note("PD-09", f"现场 entry on {t.no} for {d} without a visit that day (error)")

    def poc01(self):
        cands = [t for t in self.w.tickets if t.type == "POC" and t.closed is not None and t.closed < self.T
                 and self.free(t)]
        t = self.pick(cands)
        if t:
            t.ppd = t.ppd + 1
            self.use(t)
            self.expect("POC-01", ticket=t)
            self.note("POC-01", f"closed POC {t.no}: 派单人天 one more than the approved days")
        cands = [t for t in self.w.tickets if t.type == "POC" and t.closed is not None and t.closed < self.T
                 and self.free(t)]
        t = self.pick(cands)
        if t:
            e = self.pick([e for e in t.entries if e.hist[-1][1] == "已审批"])
            e.hist[-1] = (e.hist[-1][0], "已驳回")
            self.use(t)
            self.expect("POC-01", ticket=t)
            self.note("POC-01", f"closed POC {t.no}: one day's entry rejected, approved days one short")

    # ------------------------------------------------------------------ RA

    def _ra_rows(self, eng, month: str):
        return [r for r in self.w.attendance
                if r.eng is eng and r.tag is None and r.day <= self.end and month_key(r.day) == month
                and r.ticket.residency is not None and r.day != r.ticket.residency[0]]

    def _sh(self, hhmm: str) -> int:
        return int(hhmm[:2]) * 60 + int(hhmm[3:])

    def _anomaly(self, row, kind: str) -> int:
        d = row.day
        if kind == "late":
            row.clock_in = at(d, self._sh(row.shift_in) + self.ri(8, 50))
            n = 1
        elif kind == "early":
            row.clock_out = at(d, self._sh(row.shift_out) - self.ri(10, 60))
            n = 1
        elif kind == "missing_out":
            row.clock_out = None
            n = 1
        else:  # absent: both slots missing, no leave
            row.clock_in = row.clock_out = None
            n = 2
            for e in list(row.ticket.entries):
                if e.eng is row.eng and e.day == d:
                    row.ticket.entries.remove(e)
                    self.w.entries.remove(e)
        row.tag = "injected"
        self.ra_counts[(row.eng.eid, month_key(d))] += n
        return n

    def _ra_month_plan(self, eng, months_targets):
        """Place anomalies (count per month); what a month can't hold moves to the next listed one,
        and what is left at the end goes to any listed month with rows to spare."""
        carry = 0
        for month, target in months_targets:
            carry = self._ra_place(eng, month, target + carry)
        for month, _target in months_targets:
            if carry <= 0:
                break
            carry = self._ra_place(eng, month, carry)

    def _ra_place(self, eng, month: str, want: int) -> int:
        rows = self._ra_rows(eng, month)
        self.rng.shuffle(rows)
        got = 0
        while rows and want - got >= 1:
            row = rows.pop()
            got += self._anomaly(row, "absent" if want - got >= 2 else "late")
            self.expect("RA-01", ticket=row.ticket, eng=eng, day=row.day)
        return want - got

    def ra(self):
        w = self.w
        if len(w.residents) < 4:
            return
        x, y, z, wres = w.residents[:4]
        m = w.end.replace(day=1)
        m1 = _prev_month(m)
        m2 = _prev_month(m1)
        # X: 4 + 4 + 5 anomalies over the last three months -> RA-05 (and RA-04 for the last month)
        self._ra_month_plan(x, [(month_key(m), 5), (month_key(m1), 4), (month_key(m2), 4)])
        self.note("RA-05", f"{x.eid}: 13 unexcused anomalies over {month_key(m2)}..{month_key(m)}")
        # Y: 5 anomalies in one month -> RA-04
        self._ra_month_plan(y, [(month_key(m1), 5), (month_key(m), 0)])
        self.note("RA-04", f"{y.eid}: 5 unexcused anomalies in {month_key(m1)}")
        # Z: plain RA-01s and RA-06s
        rows = [r for r in self._ra_rows(z, month_key(m)) if r.day <= self.end - timedelta(days=1)]
        r = self.pick(rows)
        if r:
            self._anomaly(r, "late")
            self.expect("RA-01", ticket=r.ticket, eng=z, day=r.day)
            self.note("RA-01", f"{z.eid} late on {r.day}, no exception flow")
        rows = [r for r in self._ra_rows(z, month_key(m1)) + self._ra_rows(z, month_key(m))
                if r.day <= self.end - timedelta(days=6)]
        r = self.pick(rows)
        if r:
            self._anomaly(r, "early")
            r.flow, r.flow_sub = "已驳回", at(r.day, 19 * 60)
            r.flow_at = min(at(nth_workday_after(r.day, 1), 10 * 60), at(r.day + DAY, 10 * 60 + 30))
            self.expect("RA-01", ticket=r.ticket, eng=z, day=r.day)
            self.note("RA-01", f"{z.eid} left early on {r.day}, exception flow 已驳回")
        # RA-06 month: the latest whose deadline is well over by as_of
        mm = m1
        while ra06_deadline_end(mm) > self.T - timedelta(days=3):
            mm = _prev_month(mm)
        rows = self._ra_rows(z, month_key(mm))
        self.rng.shuffle(rows)
        if len(rows) >= 2:
            r1, r2 = rows[0], rows[1]
            self._anomaly(r1, "missing_out")
            r1.flow, r1.flow_sub, r1.flow_at = None, at(r1.day + DAY, 10 * 60), None  # still 审批中
            self._anomaly(r2, "late")
            r2.flow, r2.flow_sub = "已通过", at(r2.day, 19 * 60)
            r2.flow_at = ra06_deadline_end(r2.day) + timedelta(hours=34)
            for r in (r1, r2):
                self.expect("RA-06", ticket=r.ticket, eng=z, day=r.day)
                self.expect("RA-01", ticket=r.ticket, eng=z, day=r.day)
            self.note("RA-06", f"{z.eid}: flow still 审批中 past the deadline ({r1.day}); flow approved late ({r2.day})")
        # counts -> RA-04 / RA-05
        first_month: dict[str, str] = {}
        for r in w.attendance:
            if r.day <= self.end:
                k = month_key(r.day)
                if r.eng.eid not in first_month or k < first_month[r.eng.eid]:
                    first_month[r.eng.eid] = k
        engs = {e for e, _ in self.ra_counts}
        for eid in sorted(engs):
            eng = w.by_eid[eid]
            cur = date(int(first_month[eid][:4]), int(first_month[eid][5:]), 1)
            while cur <= m:
                k = month_key(cur)
                if self.ra_counts.get((eid, k), 0) > 4:
                    self.expect("RA-04", eng=eng, month=k)
                p1 = _prev_month(cur)
                p2 = _prev_month(p1)
                total = sum(self.ra_counts.get((eid, month_key(x_)), 0) for x_ in (cur, p1, p2))
                if total > 12:
                    self.expect("RA-05", eng=eng, month=k)
                cur = (cur.replace(day=28) + timedelta(days=4)).replace(day=1)
        # RA-07: the resident line starts after the first attendance day
        t = next((t for t in w.residencies if t.eng is wres and t.residency[0] >= w.start), None)
        if t:
            first = min(r.day for r in w.attendance if r.ticket is t)
            line = t.residency[2]
            line.start = first + timedelta(days=3)
            self.used_lines.add(id(line))
            self.expect("RA-07", ticket=t, eng=wres)
            self.note("RA-07", f"{t.no}: first attendance {first}, 驻场 PO line starts {line.start}")

    # ------------------------------------------------------------------ PO lines, PO-08, PO-09

    def po_lines(self):
        w = self.w
        # PO-09: resident tickets without PO / with a PO number ISC does not have
        if len(w.residents) >= 4:
            y, z = w.residents[1], w.residents[2]
            ty = max((t for t in w.residencies if t.eng is y), key=lambda t: t.residency[0])
            tz = max((t for t in w.residencies if t.eng is z), key=lambda t: t.residency[0])
            ty.po_no = ty.po_known = None
            self.expect("PO-09", ticket=ty)
            self.note("PO-09", f"resident ticket {ty.no} has attendance but no PO号")
            known = {line.po_no for line in w.lines}
            bogus = f"PO{tz.created:%Y%m%d}999"
            while bogus in known:
                bogus = bogus[:-1] + str((int(bogus[-1]) + 1) % 10)
            tz.po_no = bogus
            self.expect("PO-09", ticket=tz)
            self.note("PO-09", f"resident ticket {tz.no} carries PO号 {bogus}, which ISC does not have")
        # PO-01: a mid-year 维保 line ending 30 Jun
        cands = [line for line in w.lines if line.tag == "midyear" and id(line) not in self.used_lines]
        line = self.pick(cands)
        if line:
            line.end = date(line.end.year, 6, 30)
            self.used_lines.add(id(line))
            self.expect("PO-01", line=line)
            self.note("PO-01", f"维保 line {line.po_no}/{line.line_no} ends {line.end}, not 31 Jul")

    def po08(self):
        w = self.w
        limit = self.T - timedelta(days=31)
        refd = {}
        for line in w.lines:
            for t in line.tickets:
                refd[id(t)] = line
        cands = [t for t in w.tickets if t.type in PER_TICKET_PO and t.closed is not None and t.closed < limit
                 and self.free(t) and id(t) in refd and len(refd[id(t)].tickets) >= 2]
        for variant in ("none", "unknown"):
            t = self.pick(cands)
            if not t:
                break
            cands.remove(t)
            line = refd[id(t)]
            line.tickets.remove(t)
            if variant == "none":
                t.po_no = t.po_known = None
                self.note("PO-08", f"{t.no} closed {t.closed:%Y-%m-%d}, in no PO line, no PO号")
            else:
                t.po_no = f"PO{t.closed:%Y%m%d}998"
                self.note("PO-08", f"{t.no} closed {t.closed:%Y-%m-%d}, PO号 {t.po_no} unknown to ISC")
            self.use(t)
            self.expect("PO-08", ticket=t)

    # ------------------------------------------------------------------ AT

    def at(self):
        w = self.w
        by_ticket = defaultdict(list)
        for a in w.attachments:
            if a.ticket is not None:
                by_ticket[id(a.ticket)].append(a)
        closed = [t for t in self.visible_field_tickets() if t.closed is not None and t.closed < self.T]
        t = self.pick([t for t in closed if t.type == "巡检"])
        if t:
            for a in by_ticket[id(t)]:
                if a.kind == "健康检查报告":
                    w.attachments.remove(a)
            self.use(t)
            self.expect("AT-01", ticket=t)
            self.note("AT-01", f"closed 巡检 {t.no} lacks 健康检查报告")
        t = self.pick([t for t in closed if t.type in PERSON_DAY_TYPES and self.free(t)])
        if t:
            for a in by_ticket[id(t)]:
                if a.kind == "单次人天日报":
                    w.attachments.remove(a)
            self.use(t)
            self.expect("AT-01", ticket=t)
            self.note("AT-01", f"closed {t.type} {t.no} lacks 单次人天日报")
        cands = [t for t in self.visible_field_tickets() if any(
            a.kind == "现场技术服务报告" and a.uploaded < self.T for a in by_ticket[id(t)])]
        for variant in ("no_ticket", "no_customer"):
            t = self.pick([t for t in cands if self.free(t)])
            if not t:
                break
            for a in by_ticket[id(t)]:
                if a.kind == "现场技术服务报告":
                    a.file_name = (f"现场技术服务报告_{t.customer}.pdf" if variant == "no_ticket"
                                   else f"{t.no}_现场技术服务报告_终版.pdf")
            self.use(t)
            self.expect("AT-02", ticket=t)
            self.note("AT-02", f"现场技术服务报告 of {t.no} named without the "
                               f"{'ticket number' if variant == 'no_ticket' else 'customer name'}")

    # ------------------------------------------------------------------ DQ

    def dq(self):
        w = self.w
        rng = self.rng
        d = w.end - timedelta(days=self.ri(3, 9))
        eng = rng.choice(w.field)
        ghost = f"WO{d - timedelta(days=2):%Y%m%d}99991"
        e = Entry(eng=eng, day=d, ticket=None, ticket_no=ghost, hours=Decimal("3"), kind="远程",
                  note="远程协助处理告警", hist=[(at(d, 19 * 60), "已提交")], seq=w.seq())
        w.entries.append(e)
        self.expect("DQ-01", ticket_no=ghost)
        self.note("DQ-01", f"timesheet entry names ticket {ghost}, which no work-order extract has")
        d2 = w.end - timedelta(days=self.ri(10, 20))
        ghost2 = f"WO{d2:%Y%m%d}99992"
        w.attachments.append(Attachment(ticket=None, ticket_no=ghost2, kind="其他", file_name=f"{ghost2}_现场照片.zip",
                                        uploaded=at(d2, 16 * 60), by=eng.name))
        self.expect("DQ-01", ticket_no=ghost2)
        self.note("DQ-01", f"attachment on ticket {ghost2}, which no work-order extract has")
        # DQ-02: a punched ticket lost its longitude; an unpunched one has no coordinates at all
        t = self.pick([t for t in self.single_visit_tickets() if t.classified != "是" and t.lng is not None])
        if t:
            t.lng = None
            self.use(t)
            self.expect("DQ-02", ticket=t)
            self.note("DQ-02", f"{t.no}: not classified, 局点经度 empty")
        cands = [t for t in w.tickets if t.created < self.T and self.free(t) and t.lng is not None
                 and t.type != "驻场" and (t.cancelled is not None or (t.visits and t.visits[0].day > self.end))]
        t = self.pick(cands)
        if t:
            t.lng = t.lat = None
            t.classified = None
            self.use(t)
            self.expect("DQ-02", ticket=t)
            self.note("DQ-02", f"{t.no}: 是否涉密 empty, no coordinates")

    # ------------------------------------------------------------------ CH

    def _clean_hist(self, rfc):
        tasks = rfc.tasks
        for task in tasks:
            task.hist = [(rfc.plan_ok, "未开始"), (rfc.planned_start - timedelta(hours=24), "准备"),
                         (task.started, "实施中"), (task.completed, "完成")]
        last = max(t_.completed for t_ in tasks)
        rfc.hist = [(rfc.submitted, "PM审批"), (rfc.pm, "PSE评审"), (rfc.plan_ok, "客户审批"),
                    (min(t_.started for t_ in tasks), "实施"), (last + timedelta(minutes=20), "完成")]

    def _no_ext(self, rfc):
        rfc.ext_sub = rfc.ext_at = rfc.ext_state = None

    def ch(self):
        w = self.w
        T = self.T
        regions = sorted({e.region for e in w.field})
        reg = lambda: self.rng.choice(regions)  # noqa: E731
        end = self.end

        # CH-01 (a): 实施, task never started, PM approval 40 days ago
        r = w.make_rfc(reg(), at(end - timedelta(days=42), 10 * 60), score=2, level="Low", n_tasks=1)
        self._no_ext(r)
        for task in r.tasks:
            task.started = task.verified = task.completed = task.g_completed = None
            task.hist = [(r.plan_ok, "未开始")]
        r.hist = [(r.submitted, "PM审批"), (r.pm, "PSE评审"), (r.plan_ok, "客户审批"),
                  (r.plan_ok + timedelta(days=2), "实施")]
        self.expect("CH-01", rfc=r)
        self.note("CH-01", "RFC in 实施, its only task 未开始, PM approval 40+ days before as_of")
        # CH-01 (b): 客户审批 with an approved extension, PM approval 70 days ago (deadline +65 d)
        r = w.make_rfc(reg(), at(end - timedelta(days=72), 10 * 60), score=3, level="Low", n_tasks=2)
        for task in r.tasks:
            task.started = task.verified = task.completed = task.g_completed = None
        r.tasks[0].hist = [(r.plan_ok, "未开始"), (r.plan_ok + timedelta(days=3), "取消")]
        r.tasks[1].hist = [(r.plan_ok, "未开始")]
        r.hist = [(r.submitted, "PM审批"), (r.pm, "PSE评审"), (r.plan_ok, "客户审批")]
        r.ext_sub = r.pm + timedelta(days=20)
        r.ext_at = r.ext_sub + timedelta(days=1)
        r.ext_state = "已通过"
        self.expect("CH-01", rfc=r)
        self.note("CH-01", "RFC in 客户审批 with extension 已通过, tasks 取消/未开始, PM approval 70 days before as_of")

        # CH-02 (a): 客户审批, PM approval 26 days before as_of, start planned after as_of
        pm = T - timedelta(days=26) + timedelta(hours=3)
        r = w.make_rfc(reg(), pm - timedelta(hours=5), score=2, level="Low", n_tasks=1)
        self._no_ext(r)
        r.pm = pm
        r.plan_ok = pm + timedelta(days=2)
        r.planned_start = at(end + timedelta(days=4), 22 * 60)
        r.planned_end = r.planned_start + timedelta(hours=3)
        for task in r.tasks:
            task.started = task.verified = task.completed = task.g_completed = None
            task.auth_start = r.planned_start - timedelta(minutes=30)
            task.auth_end = r.planned_end + timedelta(minutes=60)
            task.hist = [(r.plan_ok, "未开始")]
        r.hist = [(r.submitted, "PM审批"), (r.pm, "PSE评审"), (r.plan_ok, "客户审批")]
        self.expect("CH-02", rfc=r)
        self.note("CH-02", "RFC in 客户审批, task 未开始, deadline (PM+31 d) 5 days after as_of")
        # CH-02 (b): 实施 without tasks, PM approval 30 days - 12 h before as_of
        pm = T - timedelta(days=30) + timedelta(hours=12)
        r = w.make_rfc(reg(), pm - timedelta(hours=4), score=1, level="Low", n_tasks=1)
        self._no_ext(r)
        r.pm = pm
        r.plan_ok = pm + timedelta(days=1)
        r.tasks = []
        r.hist = [(r.submitted, "PM审批"), (r.pm, "PSE评审"), (r.plan_ok, "客户审批"),
                  (r.plan_ok + timedelta(days=3), "实施")]
        self.expect("CH-02", rfc=r)
        self.note("CH-02", "RFC in 实施 with no tasks, deadline 1.5 days after as_of")

        # CH-03: lead time too short for High / Fatal
        r = w.make_rfc(reg(), at(end - timedelta(days=20), 10 * 60), score=9, level="High", lead_days=5)
        self.expect("CH-03", rfc=r)
        self.note("CH-03", "risk score 9 (High), planned start ~5.5 days after submission")
        r = w.make_rfc(reg(), at(end - timedelta(days=3), 11 * 60), score=None, level="Fatal", lead_days=8)
        self._no_ext(r)
        self.expect("CH-03", rfc=r)
        self.note("CH-03", "no score, level Fatal, planned start ~8.5 days after submission")

        # CH-04: task started 37+ days after the plan approval day
        r = w.make_rfc(reg(), at(end - timedelta(days=55), 10 * 60), score=2, level="Low", lead_days=40, n_tasks=1)
        self.expect("CH-04", task=r.tasks[0])
        self.note("CH-04", "task started more than 30 days after 方案审核通过时间")

        # CH-05: completion 15 minutes after verification
        r = w.make_rfc(reg(), at(end - timedelta(days=25), 10 * 60), score=2, level="Low", n_tasks=1,
                       guarantor=True)
        task = r.tasks[0]
        task.completed = task.verified + timedelta(minutes=15)
        task.g_completed = task.completed + timedelta(minutes=20)
        self._clean_hist(r)
        self.expect("CH-05", task=task)
        self.note("CH-05", "task 完成 15 min after 验证时间")

        # CH-06: guarantor completion missing / 2.5 h late
        r = w.make_rfc(reg(), at(end - timedelta(days=18), 10 * 60), score=3, level="Low", n_tasks=2,
                       guarantor=True)
        r.tasks[0].g_completed = None
        r.tasks[1].g_completed = r.tasks[1].completed + timedelta(minutes=150)
        self._clean_hist(r)
        for task in r.tasks:
            self.expect("CH-06", task=task)
        self.note("CH-06", "one task without 保障人完成时间, one with it 150 min after completion")

        # CH-07: start before / completion after the authorisation window
        r = w.make_rfc(reg(), at(end - timedelta(days=16), 10 * 60), score=4, level="Low", n_tasks=2,
                       guarantor=True)
        t1, t2 = r.tasks
        t1.started = t1.auth_start - timedelta(minutes=20)
        t2.completed = t2.auth_end + timedelta(minutes=15)
        t2.g_completed = t2.completed + timedelta(minutes=10)
        self._clean_hist(r)
        self.expect("CH-07", task=t1)
        self.expect("CH-07", task=t2)
        self.note("CH-07", "task started 20 min before 授权开始时间; another completed 15 min after 授权结束时间")

        # CH-08: failed change without / with a late retrospective
        r = w.make_rfc(reg(), at(end - timedelta(days=40), 10 * 60), score=5, level="Medium", outcome="fail")
        r.retro = None
        self.expect("CH-08", rfc=r)
        self.note("CH-08", "完成失败 RFC, no 回溯提交时间, deadline passed")
        r = w.make_rfc(reg(), at(end - timedelta(days=45), 10 * 60), score=6, level="Medium", outcome="fail")
        fail_day = max(t_.completed for t_ in r.tasks).date()
        r.retro = at(nth_workday_after(fail_day, 5) + timedelta(days=2), 10 * 60)
        self.expect("CH-08", rfc=r)
        self.note("CH-08", "完成失败 RFC, 回溯提交时间 two days after the 5-working-day deadline")

        # DQ-03: a guarantor the engineer master does not have
        r = w.make_rfc(reg(), at(end - timedelta(days=15), 10 * 60), score=2, level="Low", n_tasks=1,
                       guarantor=True)
        r.tasks[0].guar = UNKNOWN_GUARANTOR
        self.expect("DQ-03", eng=UNKNOWN_GUARANTOR)
        self.note("DQ-03", f"RFC task 保障人工号 {UNKNOWN_GUARANTOR}, not in the engineer master")

    # ------------------------------------------------------------------ PO acceptances

    def _ended_cycles(self, line):
        cyc = cycles(line.service_type, line.start, line.end)
        amts = cycle_amounts(line.amount, line.start, line.end, cyc)
        out = []
        for (s, e), a in zip(cyc, amts, strict=True):
            deadline_end = midnight(nth_workday_after(e, 5) + DAY)
            if deadline_end < self.T - timedelta(days=1):
                out.append((s, e, a))
        return out

    def _covering(self, line, s, e):
        return [a for a in line.acceptances if a.period and a.period[0] <= s and e <= a.period[1]]

    def _live_total(self, line):
        tot = Decimal(0)
        for a in line.acceptances:
            h = a.state_at(self.T)
            if h and h[1] in ("已通过", "审批中"):
                tot += a.amount
        return tot

    def recent_workday(self, back: int) -> date:
        """The latest working day on or before end - back days."""
        d = self.end - timedelta(days=back)
        while not is_workday(d):
            d -= DAY
        return d

    def po_acceptances(self):
        w = self.w
        visible = [line for line in w.lines if line.hist[0][0] < self.T and id(line) not in self.used_lines]
        annual = sorted((line for line in visible if line.tag == "annual"), key=lambda x: -x.start.year)
        resident = [line for line in visible if line.tag == "resident"
                    and line.ticket is not None and line.ticket.po_no == line.po_no]
        # PO-02 (a): the acceptance of an ended cycle is missing
        cands = [line for line in annual if self._ended_cycles(line)]
        line = self.pick(cands)
        if line:
            s, e, _a = self._ended_cycles(line)[-1]
            for acc in self._covering(line, s, e):
                line.acceptances.remove(acc)
                w.acceptances.remove(acc)
            self.used_lines.add(id(line))
            annual.remove(line)
            self.expect("PO-02", line=line, cycle_start=s)
            self.note("PO-02", f"维保 line {line.po_no}/{line.line_no}: cycle {s}..{e} never submitted")
        # PO-02 (b): only a draft (草稿 is ignored everywhere)
        cands = [line for line in resident if self._ended_cycles(line)]
        line = self.pick(cands)
        if line:
            s, e, _a = self._ended_cycles(line)[-1]
            for acc in self._covering(line, s, e):
                sub = acc.hist[0][0]
                acc.hist = [(sub, "草稿", None, None, None)]
                self.used_acc.add(id(acc))
            self.used_lines.add(id(line))
            resident.remove(line)
            self.expect("PO-02", line=line, cycle_start=s)
            self.note("PO-02", f"驻场 line {line.po_no}/{line.line_no}: cycle {s}..{e} only has a 草稿 acceptance")
        # PO-03 (a): misaligned period on a 维保 line (审批中, remark right for its own period)
        for line in annual:
            cyc = cycles(line.service_type, line.start, line.end)
            if len(cyc) < 2:
                continue
            amt = cycle_amounts(line.amount, line.start, line.end, cyc)[1]
            if self._live_total(line) + amt > line.amount - Decimal("0.02"):
                continue
            period = (cyc[0][0] + timedelta(days=4), cyc[1][0] + timedelta(days=3))
            sub_day = self.recent_workday(5)
            acc = w.add_acceptance(line, period, amt, sub_day)
            acc.hist = [h for h in acc.hist if h[1] != "已通过"]
            acc.remark = f"验收周期:{period[0]:%Y-%m-%d}至{period[1]:%Y-%m-%d}"
            self.used_acc.add(id(acc))
            self.used_lines.add(id(line))
            annual.remove(line)
            self.expect("PO-03", acc=acc)
            self.note("PO-03", f"维保 acceptance with period {period[0]}..{period[1]}, not a cycle's bounds")
            break
        # PO-03 (b): no period on a 驻场 line
        for line in resident:
            if self._live_total(line) + line.unit_price > line.amount - Decimal("0.02"):
                continue
            sub_day = self.recent_workday(7)
            acc = w.add_acceptance(line, None, line.unit_price, sub_day, qty=Decimal(1))
            acc.hist = [h for h in acc.hist if h[1] != "已通过"]
            acc.remark = "驻场服务费用验收"
            self.used_acc.add(id(acc))
            self.used_lines.add(id(line))
            resident.remove(line)
            self.expect("PO-03", acc=acc)
            self.note("PO-03", "驻场 acceptance without 验收周期开始/结束")
            break
        # PO-04: remark without the period text (missing; not zero-padded)
        cands = [a for line in annual for a in line.acceptances
                 if a.period and a.period[0].day == 1 and id(a) not in self.used_acc
                 and (h := a.state_at(self.T)) is not None and h[1] == "已通过"]
        for variant in ("missing", "unpadded"):
            a = self.pick(cands)
            if not a:
                break
            cands.remove(a)
            s, e = a.period
            a.remark = (f"{s.year}年{s.month}月维保费用验收" if variant == "missing"
                        else f"验收周期:{s.year}-{s.month}-{s.day}至{e.year}-{e.month}-{e.day}")
            self.used_acc.add(id(a))
            self.expect("PO-04", acc=a)
            self.note("PO-04", f"维保 acceptance remark '{a.remark}'")
        # PO-05: a per-ticket line accepted twice
        cands = [line for line in w.lines if line.tag == "ticket" and id(line) not in self.used_lines
                 and line.acceptances and all((h := a.state_at(self.T)) is not None and h[1] == "已通过"
                                              for a in line.acceptances)]
        line = self.pick(cands)
        if line:
            sub_day = self.recent_workday(4)
            acc = w.add_acceptance(line, None, line.amount, sub_day, qty=line.qty)
            acc.hist = [h for h in acc.hist if h[1] != "已通过"]
            acc.remark = f"{line.service_type}服务验收（重复提交）"
            self.used_acc.add(id(acc))
            self.used_lines.add(id(line))
            self.expect("PO-05", line=line)
            self.note("PO-05", f"line {line.po_no}/{line.line_no}: 已通过 + 审批中 = 2x the line amount")
        self.po06()

    # ------------------------------------------------------------------ PO-06

    def _acc_decisions(self, a) -> dict:
        """{state: decided_on} of one acceptance's decisions as the extracts show them."""
        w = self.w
        dates = w.extract_dates
        first = dates[0]
        shown = set()
        for c in a.changes():
            cd = c.date()
            if cd > self.end:
                continue
            for d in dates:
                if (d == first and cd <= d) or (d - timedelta(days=w.window_days - 1) <= cd <= d):
                    shown.add(d)
        out = {}
        for d in sorted(shown):
            h = a.state_at(midnight(d + DAY))
            if h and h[1] in ("已通过", "已驳回"):
                out[h[1]] = h[3]
        return out

    def _decision_cache(self):
        if not hasattr(self, "_dec"):
            self._dec = {id(a): (a, self._acc_decisions(a)) for a in self.w.acceptances}
            self._rates = defaultdict(lambda: [0, 0])
            for a, decs in self._dec.values():
                self._count(a, decs, 1)
        return self._dec

    def _count(self, a, decs, sign):
        for st, day in decs.items():
            k = (a.line.region, month_key(day))
            self._rates[k][0] += sign
            if st == "已驳回":
                self._rates[k][1] += sign

    def decisions(self):
        """(acceptance, state, decided_on): dated by the newest extract that shows the pair."""
        return [(a, st, day) for a, decs in self._decision_cache().values() for st, day in decs.items()]

    def rates(self):
        self._decision_cache()
        return self._rates

    def _refresh(self, a):
        a_old = self._dec[id(a)][1]
        self._count(a, a_old, -1)
        new = self._acc_decisions(a)
        self._count(a, new, 1)
        self._dec[id(a)] = (a, new)

    def _reject(self, a, then_approve: bool):
        w = self.w
        i = next(i for i, h in enumerate(a.hist) if h[1] == "已通过")
        when, _st, sub_day, dec_day, _r = a.hist[i]
        a.hist = a.hist[:i] + [(when, "已驳回", sub_day, dec_day, "验收材料不全，请补充客户签字页")]
        if then_approve:
            nxt = next((d for d in w.extract_dates if d >= when.date()), None)
            if nxt is None:
                return
            resub_day = nxt + DAY
            resub = at(resub_day, 10 * 60)
            dec2_day = resub_day + timedelta(days=self.ri(1, 4))
            a.hist += [(resub, "审批中", resub_day, None, None),
                       (at(dec2_day, 15 * 60), "已通过", resub_day, dec2_day, None)]
        self.used_acc.add(id(a))

    def po06(self):
        m_cur = month_key(self.end)
        m_prev = month_key(_prev_month(self.end.replace(day=1)))
        regions_done = set()
        for month, then_approve in ((m_prev, True), (m_cur, False)):
            rates = self.rates()
            cands = sorted(r for (r, m), (n, _rej) in rates.items() if m == month and n >= 1
                           and r not in regions_done)
            if not cands:
                continue
            region = self.pick(cands)
            regions_done.add(region)
            pool = [a for a, st, day in self.decisions() if st == "已通过" and a.line.region == region
                    and month_key(day) == month and id(a) not in self.used_acc]
            self.rng.shuffle(pool)
            while pool:
                n, rej = self.rates()[(region, month)]
                if n and rej / n > 0.03:
                    break
                a = pool.pop()
                self._reject(a, then_approve)
                self._refresh(a)
            self.note("PO-06", f"{region} {month}: acceptances rejected"
                               f"{' (resubmitted and approved later)' if then_approve else ''}")
        for (region, month), (n, rej) in sorted((k, tuple(v)) for k, v in self.rates().items()):
            if n and rej / n > 0.03:
                self.expect("PO-06", region=region, month=month)
