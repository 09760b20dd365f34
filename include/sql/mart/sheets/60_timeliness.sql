-- sheet: 服务时效
-- Open SL findings (service timeliness, part 12 KPIs 8 and 12) of :business_date for clerks: when the
-- ticket was received, dispatched, completed and close-requested, its deadline and how late it is —
-- in minutes for SL-01, in working days (after the deadline day, up to the dispatch / request day or
-- the business date) for SL-02 and SL-03. SL-04 rows are due soon, not late. Titles from the date's
-- recon.rule_catalogue (its thresholds the run's parameters).
with open_findings as (
    select
        f.*,
        t.title,
        cast(f.details ->> 'received' as timestamp) as received_at,
        cast(f.details ->> 'dispatched' as timestamp) as dispatched_at,
        cast(f.details ->> 'completed_at' as timestamp) as completed_at,
        cast(f.details ->> 'close_requested_at' as timestamp) as close_requested_at,
        cast(f.details ->> 'deadline' as timestamp) as deadline,
        cast(f.details ->> 'deadline_day' as date) as deadline_day
    from recon.findings_as_of(cast(:business_date as date)) as f
    inner join recon.rule_catalogue as t
        on t.rule_code = f.rule_code and t.business_date = cast(:business_date as date)
    where f.status = 'open'
        and t.rule_family = 'timeliness'
),

late_days as (
    select
        o.finding_id,
        (
            select count(*)
            from generate_series(
                    o.deadline_day + 1,
                    coalesce(
                        cast(coalesce(o.dispatched_at, o.close_requested_at) as date), cast(:business_date as date)
                    ),
                    interval '1 day'
                ) as g (d)
            where ops.is_working_day(cast(g.d as date))
        ) as working_days_late
    from open_findings as o
    where o.rule_code in ('SL-02', 'SL-03')
),

final as (
    select
        o.rule_code as "规则",
        o.region as "区域",
        o.ticket_no as "工单号",
        w.ticket_type as "工单类型",
        w.sla_class as "服务级别",
        w.customer_name as "客户名称",
        w.engineer_name as "工程师",
        o.title as "问题",
        o.received_at as "收到时间（MSD派单）",
        o.dispatched_at as "派发时间（FSIP）",
        o.completed_at as "完工时间",
        o.close_requested_at as "关单申请时间",
        case
            when o.deadline_day is not null then to_char(o.deadline_day, 'YYYY-MM-DD') || ' 当天结束前'
            else to_char(o.deadline, 'YYYY-MM-DD HH24:MI') || ' 前'
        end as "时限",
        case
            when o.rule_code = 'SL-01'
                then
                    case when o.dispatched_at is null then '至今未派发，已超时 ' else '晚 ' end
                    || trim_scale(cast(o.details ->> 'minutes_late' as numeric)) || ' 分钟'
            when o.rule_code = 'SL-04'
                then '尚未申请关单，还剩 ' || (
                        select count(*)
                        from
                            generate_series(cast(:business_date as date) + 1, o.deadline_day, interval '1 day') as g (d)
                        where ops.is_working_day(cast(g.d as date))
                    ) || ' 个工作日'
            when coalesce(o.dispatched_at, o.close_requested_at) is null
                then
                    case when o.rule_code = 'SL-02' then '至今未派发，' else '至今未申请关单，' end
                    || '已超时 ' || d.working_days_late || ' 个工作日'
            else '晚 ' || d.working_days_late || ' 个工作日'
        end as "超时情况",
        case o.rule_code
            when 'SL-01' then 'PM 说明派发超时原因，以后按时派发'
            when 'SL-02' then 'PM 说明原因并尽快在 FSIP 派发'
            when 'SL-03' then 'FSE 在 NetCare 提交关单申请并说明超时原因'
            else 'FSE 在时限前在 NetCare 提交关单申请'
        end as "处理办法",
        case when o.is_new then '是' else '否' end as "是否新增"
    from open_findings as o
    left join late_days as d on d.finding_id = o.finding_id
    left join netcare_workorders as w on w.ticket_no = o.ticket_no
)

select * from final
order by "规则", "区域", "工单号"
