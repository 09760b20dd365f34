-- sheet: 考勤规则
-- Open findings of the resident attendance rules (RA-01, RA-04 … RA-07) and CAL-01 of :business_date,
-- readable for clerks. Engineer names from the engineer master (never phone numbers).
with titles (rule_code, title) as (
    values
    ('RA-01', '驻场考勤异常未消除'),
    ('RA-04', '月度考勤异常超过4次'),
    ('RA-05', '连续3个月考勤异常超过12次'),
    ('RA-06', '考勤异常电子流未按时审批'),
    ('RA-07', '入场早于PO开始日期'),
    ('CAL-01', '工作日历缺少年份')
),

open_findings as (
    select
        f.*,
        t.title
    from recon.findings_as_of(cast(:business_date as date)) as f
    inner join titles as t on t.rule_code = f.rule_code
    where f.status = 'open'
),

slot_text as (
    select
        f.finding_id,
        string_agg(
            case s.value ->> 'slot' when 'in' then '上班' else '下班' end
            || case s.value ->> 'kind'
                when 'missing' then '缺卡'
                when 'late' then '迟到 ' || (s.value ->> 'minutes') || ' 分钟'
                when 'early' then '早退 ' || (s.value ->> 'minutes') || ' 分钟'
            end,
            '，' order by s.value ->> 'slot'
        ) as slots
    from open_findings as f
    cross join
        lateral jsonb_array_elements(
            case when jsonb_typeof(f.details -> 'slots') = 'array' then f.details -> 'slots' else '[]'::jsonb end
        ) as s (value)
    group by f.finding_id
),

rendered as (
    select
        f.*,
        case f.rule_code
            when 'RA-01'
                then st.slots
                    || coalesce('（异常电子流：' || nullif(f.details ->> 'exception_flow', '无') || '）', '')
            when 'RA-04'
                then '本月异常 ' || (f.details ->> 'count') || ' 次（缺卡 ' || (f.details ->> 'missing')
                    || '，迟到 ' || (f.details ->> 'late') || '，早退 ' || (f.details ->> 'early') || '）'
            when 'RA-05'
                then '近三个月异常 ' || (f.details ->> 'count') || ' 次：' || (
                        select string_agg(m.key || ' ' || m.value || ' 次', '，' order by m.key)
                        from jsonb_each_text(f.details -> 'months') as m
                    )
            when 'RA-06'
                then st.slots || '；电子流' || (f.details ->> 'exception_flow')
                    || coalesce('（审批于 ' || replace(f.details ->> 'decided_at', 'T', ' ') || '）', '')
                    || '，截止 ' || (f.details ->> 'deadline')
            when 'RA-07'
                then '首个考勤日 ' || (f.details ->> 'first_day') || '，早于 PO ' || (f.details ->> 'po_no')
                    || ' 第 ' || (f.details ->> 'po_line_no') || ' 行驻场服务开始日期 ' || (f.details ->> 'service_start')
            when 'CAL-01' then (f.details ->> 'year') || ' 年不在工作日历中，已按周一至周五计算（用于 '
                || (
                    select string_agg(u.value, '、' order by u.value)
                    from jsonb_array_elements_text(f.details -> 'used_by') as u (value)
                )
                || ' 期限）；请在日历文件中补充该年'
        end as evidence
    from open_findings as f
    left join slot_text as st on st.finding_id = f.finding_id
),

final as (
    select
        r.rule_code as "规则",
        case r.severity when 'error' then '错误' when 'warning' then '警告' else '提示' end as "级别",
        r.region as "区域",
        r.ticket_no as "工单号",
        r.engineer_id as "工程师工号",
        e.engineer_name as "工程师姓名",
        r.day as "日期",
        r.month as "月份",
        r.title as "问题",
        coalesce(r.evidence, r.details::text) as "证据",
        r.first_seen_as_of as "首次发现",
        case when r.is_new then '是' else '否' end as "是否新增"
    from rendered as r
    left join timesheet_engineers as e on e.engineer_id = r.engineer_id
)

select * from final
order by "规则", "区域", "工程师工号", "工单号", "日期", "月份"
