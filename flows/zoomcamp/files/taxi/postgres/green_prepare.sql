-- Runs after load_log.sql, under its advisory lock. The final table, partitioned by file: each load
-- builds its month as a table and attaches it (see <taxi>_merge.sql). Once it exists, CREATE ... IF NOT
-- EXISTS skips it without locking it. Then this execution's own staging table.
CREATE TABLE IF NOT EXISTS {{ render(vars.table) }} (
    unique_row_id          uuid NOT NULL,
    filename               text NOT NULL,
    VendorID               integer,
    lpep_pickup_datetime   timestamp,
    lpep_dropoff_datetime  timestamp,
    store_and_fwd_flag     text,
    RatecodeID             integer,
    PULocationID           integer,
    DOLocationID           integer,
    passenger_count        integer,
    trip_distance          double precision,
    fare_amount            double precision,
    extra                  double precision,
    mta_tax                double precision,
    tip_amount             double precision,
    tolls_amount           double precision,
    ehail_fee              double precision,
    improvement_surcharge  double precision,
    total_amount           double precision,
    payment_type           integer,
    trip_type              integer,
    congestion_surcharge   double precision
) PARTITION BY LIST (filename);
DROP TABLE IF EXISTS {{ render(vars.staging_table) }};
CREATE UNLOGGED TABLE {{ render(vars.staging_table) }} (
    VendorID               text,
    lpep_pickup_datetime   text,
    lpep_dropoff_datetime  text,
    store_and_fwd_flag     text,
    RatecodeID             text,
    PULocationID           text,
    DOLocationID           text,
    passenger_count        text,
    trip_distance          text,
    fare_amount            text,
    extra                  text,
    mta_tax                text,
    tip_amount             text,
    tolls_amount           text,
    ehail_fee              text,
    improvement_surcharge  text,
    total_amount           text,
    payment_type           text,
    trip_type              text,
    congestion_surcharge   text
);
