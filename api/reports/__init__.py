"""Reports: management figures from hits, fines and car heartbeats; the dashboard."""
