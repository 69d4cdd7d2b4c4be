"""CrossGuard policies for the kestra-stack Pulumi project.

`policy/__main__.py` serves them to the Pulumi engine (`pulumi preview --policy-pack policy/`);
`kestra_policy.offline` runs the same functions over an offline plan (`ops plan`).
"""
