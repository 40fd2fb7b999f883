"""The composition root: builds settings, database, channel plugins, scheduler and the app."""
