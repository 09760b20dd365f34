import datetime as dt, time
import sqlalchemy as sa
from fieldrecon.rules import run_family
from tests.factories import put

def test_scale(engine):
    fid = put(engine, "isc_po_lines", [], dt.date(2026, 11, 1))
    fid2 = put(engine, "isc_acceptances", [], dt.date(2026, 11, 1))
    fid3 = put(engine, "netcare_workorders", [], dt.date(2026, 11, 1))
    with engine.begin() as c:
        c.execute(sa.text("""insert into staging.isc_po_lines_rows (file_id,row_no,extract_date,po_no,po_line_no,service_type,region,quantity,line_amount,service_start,service_end,issued_on,po_status,contract_no,ticket_refs)
        select :f, g, '2026-11-01', 'P'||g, 1, case when g%3=0 then '驻场' when g%3=1 then '维保' else '巡检' end, 'R'||(g%8), 1, 100000+g*0.37, date '2025-08-01' + (g%40), date '2026-07-31', '2025-08-01', '已接收', 'HT'||(g%500), 'T'||g||';T'||(g+1)
        from generate_series(1,20000) g"""), {"f": fid})
        c.execute(sa.text("""insert into staging.isc_acceptances_rows (file_id,row_no,extract_date,acceptance_no,po_no,po_line_no,period_start,period_end,amount,approval,decided_on,remark)
        select :f, g, '2026-11-01', 'A'||g, 'P'||(g%20000), 1, date_trunc('month', date '2025-09-01' + (g%300))::date, (date_trunc('month', date '2025-09-01' + (g%300)) + interval '1 month' - interval '1 day')::date, 100, case when g%10=0 then '已驳回' else '已通过' end, date '2025-10-01' + (g%300), 'x'
        from generate_series(1,100000) g"""), {"f": fid2})
        c.execute(sa.text("""insert into staging.netcare_workorders_rows (file_id,row_no,extract_date,ticket_no,ticket_type,status,region,customer_name,created_at,closed_at,contract_no)
        select :f, g, '2026-11-01', 'T'||g, case when g%4=0 then '现场问题处理' else '巡检' end, '已关闭', 'R'||(g%8), 'C', '2026-01-01', timestamp '2025-09-01' + (g%400) * interval '1 day', 'HT'||(g%500)
        from generate_series(1,400000) g"""), {"f": fid3})
    t = time.monotonic()
    print(run_family(engine, "po", dt.date(2026, 11, 3)))
    print("family", time.monotonic() - t)
    with engine.connect() as c:
        for q in ("select count(*) from mart.acceptance_todo('2026-11-03')", "select count(*) from mart.revenue('2026-11-03')"):
            t = time.monotonic(); print(q, c.execute(sa.text(q)).scalar(), time.monotonic() - t)
        print(c.execute(sa.text("select rule_code, seconds from recon.rule_runs")).all())
