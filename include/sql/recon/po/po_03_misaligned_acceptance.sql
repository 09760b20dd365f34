-- rule: PO-03
-- severity: error
-- title: 验收周期与PO周期不对齐
-- explain: 维保/驻场PO行的验收单，其验收周期必须从该行某个验收周期的开始日开始、到某个验收周期的结束日结束；没有周期或超出服务期也算。
-- clause: 派生规则
-- Any approval state but 草稿. A period ending before it starts is misaligned too (reading: it
-- cannot be a union of whole cycles). Acceptances of lines unknown to ISC are not 维保/驻场 lines.
with lines as (
    select
        l.po_no,
        l.po_line_no,
        l.region
    from isc_po_lines as l
    where l.service_type in ('维保', '驻场')
),

cycle_starts as (
    select distinct
        c.po_no,
        c.po_line_no,
        c.cycle_start
    from mart.cycle_schedule as c
    where c.business_date = :business_date
),

cycle_ends as (
    select distinct
        c.po_no,
        c.po_line_no,
        c.cycle_end
    from mart.cycle_schedule as c
    where c.business_date = :business_date
),

checked as (
    select
        a.acceptance_no,
        a.po_no,
        a.po_line_no,
        a.period_start,
        a.period_end,
        a.approval,
        l.region,
        s.cycle_start is not null as starts_on_cycle,
        e.cycle_end is not null as ends_on_cycle
    from isc_acceptances as a
    inner join lines as l on l.po_no = a.po_no and l.po_line_no = a.po_line_no
    left join cycle_starts as s
        on s.po_no = a.po_no and s.po_line_no = a.po_line_no and s.cycle_start = a.period_start
    left join cycle_ends as e
        on e.po_no = a.po_no and e.po_line_no = a.po_line_no and e.cycle_end = a.period_end
    where a.approval <> '草稿'
),

final as (
    select
        k.region,
        k.acceptance_no,
        jsonb_build_object(
            'po_no', k.po_no,
            'po_line_no', k.po_line_no,
            'period_start', k.period_start,
            'period_end', k.period_end,
            'approval', k.approval,
            'kind', case
                when k.period_start is null or k.period_end is null then 'no_period'
                else 'misaligned'
            end
        ) as details
    from checked as k
    where k.period_start is null
        or k.period_end is null
        or k.period_end < k.period_start
        or not k.starts_on_cycle
        or not k.ends_on_cycle
)

select * from final
