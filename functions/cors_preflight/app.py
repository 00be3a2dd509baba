"""OPTIONS on any path (no auth): the CORS preflight browsers send before a cross-origin call with a token or JSON.

One function for every path (`OPTIONS /{proxy+}` in template.yaml): API Gateway hands a method that a resource does
not declare to the greedy `{proxy+}` resource that does. The answer comes from `taskapp.api.EdgeHeaders`, the same
rules (Powertools' CORSConfig, the WebOrigins parameter) that put the CORS headers on every other answer.
"""

# First of all: pauses the garbage collector while the modules below load; preflight_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from taskapp.api import preflight_handler

handler = preflight_handler()
