"""The `ops` commands, one module per family; each imports its heavy dependencies when it runs."""
