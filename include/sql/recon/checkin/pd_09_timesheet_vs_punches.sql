-- rule: PD-09
-- severity: warning / error
-- title: 工时填报与打卡不符
-- explain: 有打卡人天却没有对应工时填报（提醒）；填报了“现场”工时却没有当天的打卡人天（错误）。
-- clause: 第1部分 步骤5 "每天完成工时填报"; 第2部分 步骤8 "工时系统2.0自动关联工单打卡记录"
-- Known tickets of every type but POC and 驻场 (read as the ticket types punched in NetCare,
-- whether or not the ticket has punches).
-- punched_not_filed (warning): a punched person-day with no entry of that engineer, ticket and
-- work date whose approval is not 已驳回 and hours > 0.
-- filed_not_punched (error): an entry with 工作类型=现场, any approval state, on such a ticket,
-- with no punched person-day of that engineer on that ticket that day. The two kinds cannot hit
-- one subject (ticket, engineer, day); entries of one subject give one finding.
with tickets as (
    select
        w.ticket_no,
        w.region
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
),

on_site_entries as (
    select
        e.entry_id,
        e.ticket_no,
        e.engineer_id,
        e.work_date,
        e.hours,
        e.approval
    from timesheet_entries as e
    inner join tickets as t on t.ticket_no = e.ticket_no
    where e.work_kind = '现场'
),

punched_not_filed as (
    select
        d.ticket_no,
        d.engineer_id,
        d.day,
        'warning' as severity,
        jsonb_build_object('kind', 'punched_not_filed', 'visits', d.visits) as details
    from punched_person_days as d
    where not exists (
            select 1
            from timesheet_entries as e
            where e.ticket_no = d.ticket_no
                and e.engineer_id = d.engineer_id
                and e.work_date = d.day
                and e.approval <> '已驳回'
                and e.hours > 0
        )
),

filed_not_punched as (
    select
        e.ticket_no,
        e.engineer_id,
        e.work_date as day,
        'error' as severity,
        jsonb_build_object(
            'kind', 'filed_not_punched',
            'entries', jsonb_agg(
                jsonb_build_object('entry_id', e.entry_id, 'hours', e.hours, 'approval', e.approval)
                order by e.entry_id
            )
        ) as details
    from on_site_entries as e
    where not exists (
            select 1
            from punched_person_days as d
            where d.ticket_no = e.ticket_no
                and d.engineer_id = e.engineer_id
                and d.day = e.work_date
        )
    group by e.ticket_no, e.engineer_id, e.work_date
),

both_kinds as (
    select * from punched_not_filed
    union all
    select * from filed_not_punched
),

final as (
    select
        b.severity,
        t.region,
        b.ticket_no,
        b.engineer_id,
        b.day,
        b.details
    from both_kinds as b
    inner join tickets as t on t.ticket_no = b.ticket_no
)

select * from final
