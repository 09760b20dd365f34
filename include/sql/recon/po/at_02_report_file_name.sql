-- rule: AT-02
-- severity: warning
-- title: 服务报告文件名不规范
-- explain: 现场技术服务报告的文件名必须同时包含工单号和客户名称。
-- clause: 第5部分 4.3 2)
-- Every ticket type (Decision); known tickets, closed or not. Substrings compared after NFKC on
-- both sides. Several bad reports of one ticket give one finding listing them.
with reports as (
    select
        w.ticket_no,
        w.region,
        a.file_name,
        strpos(normalize(a.file_name, nfkc), normalize(w.ticket_no, nfkc)) > 0 as has_ticket,
        strpos(normalize(a.file_name, nfkc), normalize(w.customer_name, nfkc)) > 0 as has_customer
    from netcare_attachments as a
    inner join netcare_workorders as w on w.ticket_no = a.ticket_no
    where a.kind = '现场技术服务报告'
),

final as (
    select
        'AT-02'::text as rule_code,
        'warning'::text as severity,
        r.region,
        r.ticket_no,
        null::text as engineer_id,
        null::date as day,
        null::text as rfc_no,
        null::text as task_no,
        null::text as po_no,
        null::integer as po_line_no,
        null::date as cycle_start,
        null::text as acceptance_no,
        null::text as month,
        jsonb_build_object(
            'files', jsonb_agg(
                jsonb_build_object(
                    'file_name', r.file_name,
                    'has_ticket_no', r.has_ticket,
                    'has_customer', r.has_customer
                ) order by r.file_name
            )
        ) as details
    from reports as r
    where not (r.has_ticket and r.has_customer)
    group by r.region, r.ticket_no
)

select * from final
