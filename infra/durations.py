"""Durations written as Go's time.Duration.String() writes them, the form the Docker provider reads back
(`container.Config.Healthcheck.Interval.String()` in kreuzwerker/terraform-provider-docker
resource_docker_container_funcs.go): "60s" would come back as "1m0s" and show a diff on every preview.
Compose parses the same form (Kestra's Micronaut does not: see infra/kestra_config.py)."""


def go_duration(seconds: int) -> str:
    """Whole seconds in Go's canonical form: 5 -> "5s", 60 -> "1m0s", 3600 -> "1h0m0s"."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
