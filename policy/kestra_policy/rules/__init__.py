"""The policies, one module per concern; each rule is a plain function (args, report_violation)."""
