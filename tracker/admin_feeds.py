"""Admin registrations for the feeds models."""
