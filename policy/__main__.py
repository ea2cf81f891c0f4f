"""itstack's policy pack. The rules are plain functions (itstack_rules.py, unit-tested over the
mocked graph in tests/test_policy.py); this file only hands them the stack's resources.

Every rule is a stack policy: some need the whole stack (a secret held by one resource, found in
another's plain env). Mandatory: a violation fails `pulumi preview`/`up`."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pulumi_policy.policy as _pp  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy  # noqa: E402

import itstack_rules as R  # noqa: E402

# pulumi-policy unwraps secrets before a rule sees them, so "is this env held as a secret?" could
# not be asked; and wraps props in a proxy that raises on unknowns. Our rules take the engine's
# values with secrets marked (R.Secret) and unknowns as the plain sentinel, and judge only what is
# known.
_pp.deserialize_properties = lambda props, proxy_secrets=False: R.from_wire(dict(props))
_pp.unknown_checking_proxy = lambda value: value

# Which stacks are prod: ITSTACK_POLICY_PROD_STACKS (a regex), default the stack named prod or prod-*.
PROD = re.compile(os.environ.get("ITSTACK_POLICY_PROD_STACKS", r"prod(-.*)?"))


# The engine names the stack in ConfigureStack (a pack run by a language host gets no PULUMI_STACK
# env); pulumi-policy keeps only its tags, so keep the name too.
_STACK: dict = {}
_configure_stack = _pp._PolicyAnalyzerServicer.ConfigureStack


def _remember_stack(self, request, context):
    _STACK["name"] = request.stack
    return _configure_stack(self, request, context)


_pp._PolicyAnalyzerServicer.ConfigureStack = _remember_stack


def _context() -> R.Context:
    stack = _STACK.get("name") or os.environ.get("PULUMI_STACK")
    if not stack:
        raise RuntimeError("the engine did not name the stack (ConfigureStack); cannot tell prod from dev")
    return R.Context(stack=stack, prod=bool(PROD.fullmatch(stack)))


def _policy(rule: R.Rule) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = [R.Resource(r.resource_type, r.name, r.urn, dict(r.props), bool(r.opts.protect))
                     for r in args.resources]
        for v in rule.check(resources, _context()):
            report_violation(v.message, v.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description,
                                 enforcement_level=EnforcementLevel.MANDATORY, validate=validate)


PolicyPack(name="itstack", enforcement_level=EnforcementLevel.MANDATORY, policies=[_policy(r) for r in R.RULES])
