"""The GKE target: Kestra's Helm chart (distributed components) on GKE, with Cloud SQL and GCS."""
