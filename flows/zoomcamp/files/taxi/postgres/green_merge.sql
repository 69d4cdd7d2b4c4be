-- One pass from staging to the final table. The row id is the md5 of the whole CSV record (every
-- field in file order, comma-joined): rows that differ in any field are different trips, a row repeated
-- in the file is kept once, and a row the month already has is skipped before its fields are cast.
-- Loads of the same file wait for each other on an advisory lock (so the second sees the first's
-- rows), loads of different months do not. The unique index on (filename, unique_row_id) is the
-- guarantee behind it: a duplicate could only fail the statement, never be stored. Rows go in row-id
-- order, so the month's index entries append to one region of the index.
SET LOCAL work_mem = '256MB';
SELECT pg_advisory_xact_lock(hashtext('zoomcamp taxi load'), hashtext('{{ render(vars.file) }}'));
INSERT INTO {{ render(vars.table) }} (
    unique_row_id, filename, VendorID, lpep_pickup_datetime, lpep_dropoff_datetime,
    store_and_fwd_flag, RatecodeID, PULocationID, DOLocationID, passenger_count,
    trip_distance, fare_amount, extra, mta_tax, tip_amount, tolls_amount, ehail_fee,
    improvement_surcharge, total_amount, payment_type, trip_type, congestion_surcharge
)
SELECT DISTINCT ON (s.row_id)
    s.row_id,
    '{{ render(vars.file) }}',
    VendorID::integer, lpep_pickup_datetime::timestamp, lpep_dropoff_datetime::timestamp,
    store_and_fwd_flag, RatecodeID::integer, PULocationID::integer, DOLocationID::integer,
    passenger_count::integer, trip_distance::double precision, fare_amount::double precision,
    extra::double precision, mta_tax::double precision, tip_amount::double precision,
    tolls_amount::double precision, ehail_fee::double precision, improvement_surcharge::double precision,
    total_amount::double precision, payment_type::integer, trip_type::integer,
    congestion_surcharge::double precision
FROM (
    SELECT md5(
            coalesce(VendorID, '') || ',' ||
            coalesce(lpep_pickup_datetime, '') || ',' ||
            coalesce(lpep_dropoff_datetime, '') || ',' ||
            coalesce(store_and_fwd_flag, '') || ',' ||
            coalesce(RatecodeID, '') || ',' ||
            coalesce(PULocationID, '') || ',' ||
            coalesce(DOLocationID, '') || ',' ||
            coalesce(passenger_count, '') || ',' ||
            coalesce(trip_distance, '') || ',' ||
            coalesce(fare_amount, '') || ',' ||
            coalesce(extra, '') || ',' ||
            coalesce(mta_tax, '') || ',' ||
            coalesce(tip_amount, '') || ',' ||
            coalesce(tolls_amount, '') || ',' ||
            coalesce(ehail_fee, '') || ',' ||
            coalesce(improvement_surcharge, '') || ',' ||
            coalesce(total_amount, '') || ',' ||
            coalesce(payment_type, '') || ',' ||
            coalesce(trip_type, '') || ',' ||
            coalesce(congestion_surcharge, '')
        )::uuid AS row_id, *
    FROM {{ render(vars.staging_table) }}
    OFFSET 0  -- computed once: keeps the planner from copying the md5 into the join and the output
) AS s
WHERE NOT EXISTS (
    SELECT 1 FROM {{ render(vars.table) }} AS t
    WHERE t.filename = '{{ render(vars.file) }}' AND t.unique_row_id = s.row_id
)
ORDER BY s.row_id;
INSERT INTO public.taxi_loads (filename, rows_in_file)
SELECT '{{ render(vars.file) }}', count(*) FROM {{ render(vars.staging_table) }}
ON CONFLICT (filename) DO UPDATE SET rows_in_file = excluded.rows_in_file, loaded_at = now();
DROP TABLE {{ render(vars.staging_table) }};
