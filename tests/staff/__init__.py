"""The staff JSON API the advisor console and the supervisor page use."""
