-- Runs first in prepare_tables, for green and yellow alike, before <taxi>_prepare.sql in the same
-- transaction. The advisory lock serialises the CREATE ... IF NOT EXISTS of parallel first runs (a
-- backfill, or green and yellow at once), here and in <taxi>_prepare.sql, which would otherwise race on
-- the catalog (released when the task commits). Then the load log: rows in the file, rows kept, and the
-- file's md5, which lets a forced re-load of an unchanged file stop before its COPY (compare.sql).
SELECT pg_advisory_xact_lock(hashtext('zoomcamp taxi tables'));
CREATE TABLE IF NOT EXISTS public.taxi_loads (
    filename      text PRIMARY KEY,
    rows_in_file  bigint NOT NULL,
    rows_loaded   bigint NOT NULL,
    file_md5      text NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
