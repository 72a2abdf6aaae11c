"""Back-office pages: dashboard, fines, evidence pack, admin start page."""
