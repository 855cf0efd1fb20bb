"""Use cases behind the routes; routes stay thin."""
