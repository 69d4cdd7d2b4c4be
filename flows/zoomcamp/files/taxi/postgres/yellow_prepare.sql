-- Runs after load_log.sql, under its advisory lock. The final table, partitioned by file: each load
-- builds its month as a table and attaches it (see <taxi>_merge.sql). Once it exists, CREATE ... IF NOT
-- EXISTS skips it without locking it. Then this execution's own staging table.
CREATE TABLE IF NOT EXISTS {{ render(vars.table) }} (
    unique_row_id          uuid NOT NULL,
    filename               text NOT NULL,
    VendorID               integer,
    tpep_pickup_datetime   timestamp,
    tpep_dropoff_datetime  timestamp,
    passenger_count        integer,
    trip_distance          double precision,
    RatecodeID             integer,
    store_and_fwd_flag     text,
    PULocationID           integer,
    DOLocationID           integer,
    payment_type           integer,
    fare_amount            double precision,
    extra                  double precision,
    mta_tax                double precision,
    tip_amount             double precision,
    tolls_amount           double precision,
    improvement_surcharge  double precision,
    total_amount           double precision,
    congestion_surcharge   double precision
) PARTITION BY LIST (filename);
DROP TABLE IF EXISTS {{ render(vars.staging_table) }};
CREATE UNLOGGED TABLE {{ render(vars.staging_table) }} (
    VendorID               text,
    tpep_pickup_datetime   text,
    tpep_dropoff_datetime  text,
    passenger_count        text,
    trip_distance          text,
    RatecodeID             text,
    store_and_fwd_flag     text,
    PULocationID           text,
    DOLocationID           text,
    payment_type           text,
    fare_amount            text,
    extra                  text,
    mta_tax                text,
    tip_amount             text,
    tolls_amount           text,
    improvement_surcharge  text,
    total_amount           text,
    congestion_surcharge   text
);
