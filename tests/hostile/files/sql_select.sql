select employee_id as "User ID", program, status, completed_at from completions
