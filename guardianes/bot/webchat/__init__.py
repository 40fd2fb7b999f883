"""The web chat channel: a browser page that reads the replies the outbox confirmed."""
