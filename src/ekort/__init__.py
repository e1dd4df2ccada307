"""ekort: card management for Swedish health-care e-service cards (SITHS, e-tjänstekort)."""
