"""Views: what hitnb shows in a notebook (badge, experiment tables, comparison plots)."""
