COPY payroll TO 'payroll_copy.csv'
