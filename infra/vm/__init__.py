"""The Compute Engine VM target: the service set as a compose file on a shielded, private VM."""
