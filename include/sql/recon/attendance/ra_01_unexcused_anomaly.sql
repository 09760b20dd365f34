-- rule: RA-01
-- severity: warning
-- title: 驻场考勤异常未消除
-- explain: 驻场工程师当天上班或下班打卡缺卡、迟到或早退，且没有已批准的请假或按时通过的异常电子流。
-- clause: 第6部分 4.2(3)1)
-- One finding per attendance row (ticket, engineer, day); both slots' evidence in details. A flow still
-- 审批中 does not excuse (yet); a 已驳回 flow never does. Region: the ticket's.
with anomalous_rows as (
    select
        s.ticket_no,
        s.engineer_id,
        s.work_date,
        max(s.exception_flow) as exception_flow,
        jsonb_agg(
            jsonb_build_object(
                'slot', s.slot, 'kind', s.kind, 'minutes', s.minutes, 'expected_at', s.slot_at,
                'punched_at', s.punched_at
            )
            order by s.slot
        ) as slots
    from attendance_slots as s
    where s.counted
    group by s.ticket_no, s.engineer_id, s.work_date
),

final as (
    select
        w.region,
        a.ticket_no,
        a.engineer_id,
        a.work_date as day,
        jsonb_build_object('slots', a.slots, 'exception_flow', a.exception_flow) as details
    from anomalous_rows as a
    left join netcare_workorders as w on w.ticket_no = a.ticket_no
)

select * from final
