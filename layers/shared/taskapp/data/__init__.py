"""Data access: one module per aggregate, pynamodb models and the queries each access pattern needs."""
