"""pytest fixtures that start the QBO simulator."""
