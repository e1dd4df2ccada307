"""The REST API, `/api/v1/`: a thin adapter over the same services the pages and the command
line call. Schemas come from type hints (django-ninja), and so does the OpenAPI 3 document at
`/api/v1/openapi.json`. Bearer tokens (`ekort.services.tokens`) act with their account's roles.
"""
