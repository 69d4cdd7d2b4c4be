-- This execution's view of the month's CSV in the bucket: every field as text, exactly as in the file.
CREATE OR REPLACE EXTERNAL TABLE `{{ render(vars.external_table) }}` (
    VendorID STRING,
    lpep_pickup_datetime STRING,
    lpep_dropoff_datetime STRING,
    store_and_fwd_flag STRING,
    RatecodeID STRING,
    PULocationID STRING,
    DOLocationID STRING,
    passenger_count STRING,
    trip_distance STRING,
    fare_amount STRING,
    extra STRING,
    mta_tax STRING,
    tip_amount STRING,
    tolls_amount STRING,
    ehail_fee STRING,
    improvement_surcharge STRING,
    total_amount STRING,
    payment_type STRING,
    trip_type STRING,
    congestion_surcharge STRING
)
OPTIONS (
    format = 'CSV',
    uris = ['{{ render(vars.gcs_file) }}'],
    skip_leading_rows = 1
)
