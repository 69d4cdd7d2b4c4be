-- True when the month is loaded from exactly this file and its partition still holds every row the
-- load kept: same number of records, same order-independent checksum of them, same row count. A
-- forced re-load of an unchanged file then stops here, after its COPY.
SELECT coalesce((
    SELECT l.rows_in_file = f.records AND l.fingerprint = f.fingerprint
        AND l.rows_loaded = (SELECT count(*) FROM {{ render(vars.table) }} WHERE filename = '{{ render(vars.file) }}')
    FROM public.taxi_loads AS l,
        (SELECT count(*) AS records, sum(hash_record_extended(s, 0)) AS fingerprint
         FROM {{ render(vars.staging_table) }} AS s) AS f
    WHERE l.filename = '{{ render(vars.file) }}'
), false) AS unchanged
