"""aggregator: fetch news feeds, normalize and store their items, republish them."""

__version__ = "0.1.0"
