"""A Wildix PBX simulator: realistic, signed Wildix webhook events for testing and demos.

It plays Wildix and shares no code with the integration: only the published wire format.
"""
