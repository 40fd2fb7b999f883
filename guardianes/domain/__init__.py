"""The lowest layer (stdlib only): statuses, coordinates, dates and time zones shared by all."""
