-- Runs after <taxi>_merge.sql, in the same transaction, for green and yellow alike: gives the month's
-- new table its primary key (built once, after its rows are in: one sort instead of an index insert per
-- row) and a CHECK on its file (which spares ATTACH its validation scan), records the file in
-- taxi_loads, drops staging, then swaps the month in. Only these last statements touch the final table:
-- ATTACH PARTITION takes a lock that lets reads and other months' loads go on, while dropping a month's
-- old partition (a re-load of a changed file) locks it briefly.
ALTER TABLE public.{{ render(vars.new_partition) }}
    ALTER COLUMN unique_row_id SET NOT NULL,
    ALTER COLUMN filename SET NOT NULL,
    ADD CONSTRAINT {{ render(vars.new_partition) }}_file CHECK (filename = '{{ render(vars.file) }}'),
    ADD CONSTRAINT {{ render(vars.new_partition) }}_row_id PRIMARY KEY (unique_row_id);
INSERT INTO public.taxi_loads (filename, rows_in_file, rows_loaded, file_md5)
SELECT '{{ render(vars.file) }}', count(*), (SELECT count(*) FROM public.{{ render(vars.new_partition) }}),
    '{{ outputs.extract.vars.file_md5 }}'
FROM {{ render(vars.staging_table) }}
ON CONFLICT (filename) DO UPDATE SET rows_in_file = excluded.rows_in_file, rows_loaded = excluded.rows_loaded,
    file_md5 = excluded.file_md5, loaded_at = now();
DROP TABLE {{ render(vars.staging_table) }};
DROP TABLE IF EXISTS public.{{ render(vars.partition) }};
ALTER TABLE public.{{ render(vars.new_partition) }} RENAME TO {{ render(vars.partition) }};
ALTER TABLE public.{{ render(vars.partition) }} RENAME CONSTRAINT {{ render(vars.new_partition) }}_file TO {{ render(vars.partition) }}_file;
ALTER INDEX public.{{ render(vars.new_partition) }}_row_id RENAME TO {{ render(vars.partition) }}_row_id;
ALTER TABLE {{ render(vars.table) }} ATTACH PARTITION public.{{ render(vars.partition) }} FOR VALUES IN ('{{ render(vars.file) }}');
