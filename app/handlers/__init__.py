"""User-task handlers (one module per kind of task) and service operations."""
