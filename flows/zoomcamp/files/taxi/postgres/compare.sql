-- Runs after extract, before COPY: true when the month is loaded from a file with exactly this md5 (the
-- download's, computed by extract) and its partition still holds every row that load kept. A forced
-- re-load of an unchanged file then stops here, before its COPY.
SELECT coalesce((
    SELECT l.file_md5 = '{{ outputs.extract.vars.file_md5 }}'
        AND l.rows_loaded = (SELECT count(*) FROM {{ render(vars.table) }} WHERE filename = '{{ render(vars.file) }}')
    FROM public.taxi_loads AS l
    WHERE l.filename = '{{ render(vars.file) }}'
), false) AS unchanged
