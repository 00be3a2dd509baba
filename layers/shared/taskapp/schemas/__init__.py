"""Request and response models: the one place where field rules live, shared by handlers and the OpenAPI spec.

One module per aggregate (accounts, tasks, ingest, events, health), each imported by its own path: a function
defines only the models of the modules it imports (pydantic's class creation is ~0.7 ms a model even with
`defer_build`, and no function needs more than a third of them). Nothing is re-exported here for that reason.

Requests forbid unknown fields and use strict types, so `"5"` is not silently an int and a typo is a 400.
"""
