ATTACH 'other.duckdb' AS other
