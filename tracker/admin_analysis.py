"""Admin registrations for the analysis models."""
