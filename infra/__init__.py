"""The Pulumi program: data lake on GCP and the Kestra service set on local Docker or a GCE VM."""
