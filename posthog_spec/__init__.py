"""The spec, read for both sides: the mock serves what it says, the contracts expect what it says.

`spec/openapi.yaml` is the single source of truth; this package is its one reader. It knows the
operations (routes under both prefixes, ids and short ids, `@current`), the scope each needs,
their success statuses, and PostHog's words (the `x-posthog-texts` catalogue). `mockserver` and
`contracts` import from here and never from each other.
"""

from posthog_spec.document import (
    ENVIRONMENTS_PREFIX,
    FrontRefusal,
    Operation,
    Parameter,
    RateLimit,
    Spec,
    canonical_id,
    default_spec,
    default_spec_path,
)
from posthog_spec.routes import Match, Route, Router
from posthog_spec.scopes import CALLER_REFUSALS, KEY_REFUSALS, key_grants, key_refusal, key_refusal_text, project_refusal
from posthog_spec.texts import Catalogue, PostHogText, Said

__all__ = [
    "CALLER_REFUSALS", "ENVIRONMENTS_PREFIX", "FrontRefusal", "KEY_REFUSALS", "Catalogue", "Match", "Operation", "Parameter", "PostHogText", "RateLimit", "Route",
    "Router", "Said", "Spec", "canonical_id", "default_spec", "default_spec_path", "key_grants", "key_refusal",
    "key_refusal_text", "project_refusal",
]
