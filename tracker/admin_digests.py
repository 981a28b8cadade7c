"""Admin registrations for the digests models."""
