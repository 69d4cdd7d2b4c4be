-- Final table (its row-id index declared inside, so that once it exists the statement is skipped
-- without locking it: a CREATE INDEX IF NOT EXISTS would wait for every running load), the load log,
-- then this execution's own staging table. The advisory lock serialises the CREATE ... IF NOT EXISTS
-- of parallel first runs (a backfill), which would otherwise race on the catalog. It is released
-- when this task's transaction commits.
SELECT pg_advisory_xact_lock(hashtext('zoomcamp taxi tables'));
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
    congestion_surcharge   double precision,
    CONSTRAINT green_tripdata_file_row_id UNIQUE (filename, unique_row_id)
);
CREATE TABLE IF NOT EXISTS public.taxi_loads (
    filename      text PRIMARY KEY,
    rows_in_file  bigint NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
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
