"""What the portal shows: the pages (rendered from templates) and the JSON bodies (pydantic
models) built from service objects. Routes parse input, call the service and hand its result
here; they build no page and no body themselves.
"""
