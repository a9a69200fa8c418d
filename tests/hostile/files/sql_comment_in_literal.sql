select '--' as a; drop table payroll; -- '
