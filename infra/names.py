"""The stack's vocabulary, shared by the service set and Kestra's configuration: service names (the
hostnames on the Docker network and the compose service names), databases, users, ports and paths."""

KESTRA = "kestra"
KESTRA_POSTGRES = "kestra-postgres"
TAXI_POSTGRES = "taxi-postgres"
PGADMIN = "pgadmin"

TAXI_DATABASE = "ny_taxi"
TAXI_USER = "taxi"
KESTRA_DATABASE = "kestra"
KESTRA_DB_USER = "kestra"
POSTGRES_PORT = 5432
KESTRA_API_PORT = 8080
PGADMIN_CONTAINER_PORT = 80

KESTRA_STORAGE_DIR = "/app/storage"
KESTRA_WORKING_DIR = "/tmp/kestra-wd"  # same path on host and in Kestra, as Docker task runners need
