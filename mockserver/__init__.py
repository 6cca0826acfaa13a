"""A stateful mock of PostHog's insights and elements API, driven by spec/openapi.yaml."""

from mockserver.app import create_app
from mockserver.settings import Settings

__all__ = ["create_app", "Settings"]
