-- The final table: one row per trip, partitioned by pickup day, clustered by source file so a
-- month's MERGE reads only that month's rows.
CREATE TABLE IF NOT EXISTS `{{ render(vars.table) }}` (
    unique_row_id BYTES NOT NULL OPTIONS (description = 'md5 of the whole CSV record, as in Postgres'),
    filename STRING NOT NULL OPTIONS (description = 'The source file the row was loaded from'),
    VendorID INT64,
    tpep_pickup_datetime TIMESTAMP,
    tpep_dropoff_datetime TIMESTAMP,
    passenger_count INT64,
    trip_distance FLOAT64,
    RatecodeID INT64,
    store_and_fwd_flag STRING,
    PULocationID INT64,
    DOLocationID INT64,
    payment_type INT64,
    fare_amount FLOAT64,
    extra FLOAT64,
    mta_tax FLOAT64,
    tip_amount FLOAT64,
    tolls_amount FLOAT64,
    improvement_surcharge FLOAT64,
    total_amount FLOAT64,
    congestion_surcharge FLOAT64
)
PARTITION BY DATE(tpep_pickup_datetime)
CLUSTER BY filename
