"""Record linkage as pure functions: normalise → encode (keyed) → block → compare → estimate → cluster."""
