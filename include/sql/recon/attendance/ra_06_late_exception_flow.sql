-- rule: RA-06
-- severity: warning
-- title: 考勤异常电子流未按时审批
-- explain: 考勤异常的电子流须在次月第{ra06_flow_working_days}个工作日（按国家法定节假日及调休）结束前审批通过；超期仍在审批中或超期才通过的会标出。
-- clause: 第6部分 4.2(3)8)
-- Deadline = end of ops.working_days_after(last day of the row's month, :ra06_flow_working_days).
-- Still 审批中 when as_of is after the deadline, or 已通过 after it; only rows with a judged anomalous
-- slot, never leave-excused rows; a 已驳回 flow is RA-01 only (see attendance_slots.flow_late).
with late_rows as (
    select
        s.ticket_no,
        s.engineer_id,
        s.work_date,
        max(s.exception_flow) as exception_flow,
        max(s.exception_decided_at) as exception_decided_at,
        max(s.ra06_deadline) as ra06_deadline,
        jsonb_agg(jsonb_build_object('slot', s.slot, 'kind', s.kind) order by s.slot) as slots
    from attendance_slots as s
    where s.flow_late
    group by s.ticket_no, s.engineer_id, s.work_date
),

final as (
    select
        w.region,
        l.ticket_no,
        l.engineer_id,
        l.work_date as day,
        jsonb_build_object(
            'exception_flow', l.exception_flow,
            'decided_at', l.exception_decided_at,
            'deadline', l.ra06_deadline,
            'slots', l.slots
        ) as details
    from late_rows as l
    left join netcare_workorders as w on w.ticket_no = l.ticket_no
)

select * from final
