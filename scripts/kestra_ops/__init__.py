"""The `ops` CLI: seeds flows, namespace files, KV entries and backfills into Kestra."""
