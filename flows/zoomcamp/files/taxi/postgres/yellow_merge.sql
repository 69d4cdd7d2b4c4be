-- Builds the month as a table of its own, which attach_month.sql (run next, in the same transaction)
-- makes the final table's partition for this file: no load writes into an index shared with other
-- months. The row id is the md5 of the whole CSV record (every field in file order, comma-joined): rows
-- that differ in any field are different trips, and a row repeated in the file is kept once (DISTINCT
-- ON). A plain SELECT from staging lets PostgreSQL plan CREATE TABLE AS in parallel: workers compute the
-- md5s and casts and sort their share, the leader merges and writes (a subquery with OFFSET or LIMIT
-- would keep it to one process). Loads of the same file take turns on an advisory lock, and the later
-- one replaces the earlier one's partition.
SET LOCAL work_mem = '256MB';
SELECT pg_advisory_xact_lock(hashtext('zoomcamp taxi load'), hashtext('{{ render(vars.file) }}'));
CREATE TABLE public.{{ render(vars.new_partition) }} AS
SELECT DISTINCT ON (unique_row_id)
    md5(
        coalesce(VendorID, '') || ',' ||
        coalesce(tpep_pickup_datetime, '') || ',' ||
        coalesce(tpep_dropoff_datetime, '') || ',' ||
        coalesce(passenger_count, '') || ',' ||
        coalesce(trip_distance, '') || ',' ||
        coalesce(RatecodeID, '') || ',' ||
        coalesce(store_and_fwd_flag, '') || ',' ||
        coalesce(PULocationID, '') || ',' ||
        coalesce(DOLocationID, '') || ',' ||
        coalesce(payment_type, '') || ',' ||
        coalesce(fare_amount, '') || ',' ||
        coalesce(extra, '') || ',' ||
        coalesce(mta_tax, '') || ',' ||
        coalesce(tip_amount, '') || ',' ||
        coalesce(tolls_amount, '') || ',' ||
        coalesce(improvement_surcharge, '') || ',' ||
        coalesce(total_amount, '') || ',' ||
        coalesce(congestion_surcharge, '')
    )::uuid AS unique_row_id,
    '{{ render(vars.file) }}'::text AS filename,
    VendorID::integer, tpep_pickup_datetime::timestamp, tpep_dropoff_datetime::timestamp,
    passenger_count::integer, trip_distance::double precision, RatecodeID::integer,
    store_and_fwd_flag, PULocationID::integer, DOLocationID::integer, payment_type::integer,
    fare_amount::double precision, extra::double precision, mta_tax::double precision,
    tip_amount::double precision, tolls_amount::double precision,
    improvement_surcharge::double precision, total_amount::double precision,
    congestion_surcharge::double precision
FROM {{ render(vars.staging_table) }}
ORDER BY unique_row_id;
