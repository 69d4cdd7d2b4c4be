-- This execution's view of the month's CSV in the bucket: every field as text, exactly as in the file.
CREATE OR REPLACE EXTERNAL TABLE `{{ render(vars.external_table) }}` (
    VendorID STRING,
    tpep_pickup_datetime STRING,
    tpep_dropoff_datetime STRING,
    passenger_count STRING,
    trip_distance STRING,
    RatecodeID STRING,
    store_and_fwd_flag STRING,
    PULocationID STRING,
    DOLocationID STRING,
    payment_type STRING,
    fare_amount STRING,
    extra STRING,
    mta_tax STRING,
    tip_amount STRING,
    tolls_amount STRING,
    improvement_surcharge STRING,
    total_amount STRING,
    congestion_surcharge STRING
)
OPTIONS (
    format = 'CSV',
    uris = ['{{ render(vars.gcs_file) }}'],
    skip_leading_rows = 1
)
