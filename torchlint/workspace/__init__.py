"""Where the files come from: discovery, configuration, notebooks, the prefilter and the cache."""
