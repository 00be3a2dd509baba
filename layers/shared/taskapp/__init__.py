"""Shared code of the task-management backend, shipped to every function as one SAM layer."""
