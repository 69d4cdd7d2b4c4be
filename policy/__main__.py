"""The policy pack the Pulumi engine runs: `pulumi preview --policy-pack policy/`.

The engine starts `python -m pulumi.policy <engine> .` in this directory, so kestra_policy is importable
from here as well as from the installed project. PolicyPack(...) serves gRPC and blocks; the guard keeps
an import of this file from serving.
"""
from pulumi_policy import PolicyPack

from kestra_policy import pack

if __name__ == "__main__":
    PolicyPack(name=pack.NAME, description=pack.DESCRIPTION, enforcement_level=pack.DEFAULT_ENFORCEMENT, policies=pack.POLICIES)
