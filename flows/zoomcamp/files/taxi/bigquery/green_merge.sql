-- Adds the month's trips that are not in the table yet: the row id is the md5 of the whole CSV
-- record (the same bytes as Postgres's unique_row_id), so a re-load inserts nothing. A row repeated
-- in the file is kept once, as Postgres's DISTINCT ON keeps it: MERGE inserts every unmatched source
-- row, so the source keeps one row per row id (QUALIFY, which BigQuery takes only with a WHERE, GROUP
-- BY or HAVING clause: hence WHERE TRUE). BigQuery runs mutating DML on one table one statement at a
-- time, so months merging in parallel queue up.
MERGE `{{ render(vars.table) }}` AS T
USING (
    SELECT *
    FROM (
        SELECT
            MD5(ARRAY_TO_STRING([
                COALESCE(S.VendorID, ''),
                COALESCE(S.lpep_pickup_datetime, ''),
                COALESCE(S.lpep_dropoff_datetime, ''),
                COALESCE(S.store_and_fwd_flag, ''),
                COALESCE(S.RatecodeID, ''),
                COALESCE(S.PULocationID, ''),
                COALESCE(S.DOLocationID, ''),
                COALESCE(S.passenger_count, ''),
                COALESCE(S.trip_distance, ''),
                COALESCE(S.fare_amount, ''),
                COALESCE(S.extra, ''),
                COALESCE(S.mta_tax, ''),
                COALESCE(S.tip_amount, ''),
                COALESCE(S.tolls_amount, ''),
                COALESCE(S.ehail_fee, ''),
                COALESCE(S.improvement_surcharge, ''),
                COALESCE(S.total_amount, ''),
                COALESCE(S.payment_type, ''),
                COALESCE(S.trip_type, ''),
                COALESCE(S.congestion_surcharge, '')
            ], ',')) AS unique_row_id,
            '{{ render(vars.file) }}' AS filename,
            CAST(S.VendorID AS INT64) AS VendorID,
            CAST(S.lpep_pickup_datetime AS TIMESTAMP) AS lpep_pickup_datetime,
            CAST(S.lpep_dropoff_datetime AS TIMESTAMP) AS lpep_dropoff_datetime,
            S.store_and_fwd_flag AS store_and_fwd_flag,
            CAST(S.RatecodeID AS INT64) AS RatecodeID,
            CAST(S.PULocationID AS INT64) AS PULocationID,
            CAST(S.DOLocationID AS INT64) AS DOLocationID,
            CAST(S.passenger_count AS INT64) AS passenger_count,
            CAST(S.trip_distance AS FLOAT64) AS trip_distance,
            CAST(S.fare_amount AS FLOAT64) AS fare_amount,
            CAST(S.extra AS FLOAT64) AS extra,
            CAST(S.mta_tax AS FLOAT64) AS mta_tax,
            CAST(S.tip_amount AS FLOAT64) AS tip_amount,
            CAST(S.tolls_amount AS FLOAT64) AS tolls_amount,
            CAST(S.ehail_fee AS FLOAT64) AS ehail_fee,
            CAST(S.improvement_surcharge AS FLOAT64) AS improvement_surcharge,
            CAST(S.total_amount AS FLOAT64) AS total_amount,
            CAST(S.payment_type AS INT64) AS payment_type,
            CAST(S.trip_type AS INT64) AS trip_type,
            CAST(S.congestion_surcharge AS FLOAT64) AS congestion_surcharge
        FROM `{{ render(vars.external_table) }}` AS S
    ) AS R
    WHERE TRUE
    QUALIFY ROW_NUMBER() OVER (PARTITION BY R.unique_row_id) = 1
) AS S
ON T.filename = '{{ render(vars.file) }}' AND T.filename = S.filename AND T.unique_row_id = S.unique_row_id
WHEN NOT MATCHED THEN
    INSERT (unique_row_id, filename, VendorID, lpep_pickup_datetime, lpep_dropoff_datetime, store_and_fwd_flag, RatecodeID, PULocationID, DOLocationID, passenger_count, trip_distance, fare_amount, extra, mta_tax, tip_amount, tolls_amount, ehail_fee, improvement_surcharge, total_amount, payment_type, trip_type, congestion_surcharge)
    VALUES (S.unique_row_id, S.filename, S.VendorID, S.lpep_pickup_datetime, S.lpep_dropoff_datetime, S.store_and_fwd_flag, S.RatecodeID, S.PULocationID, S.DOLocationID, S.passenger_count, S.trip_distance, S.fare_amount, S.extra, S.mta_tax, S.tip_amount, S.tolls_amount, S.ehail_fee, S.improvement_surcharge, S.total_amount, S.payment_type, S.trip_type, S.congestion_surcharge)
