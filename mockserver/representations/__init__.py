"""How PostHog shows each resource, one module per resource: the store hands over rows, these
turn them into the JSON PostHog's serializers write (field names, order, nulls)."""
