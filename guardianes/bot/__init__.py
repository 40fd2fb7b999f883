"""Channel plugins, one folder each: `plugin.ChannelPlugin` is the protocol, `registry` the list."""
