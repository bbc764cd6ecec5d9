"""``tools dashboard``: a local web app over one stack (Starlette, Jinja2 templates, uvicorn).

Needs rollcall-tools' ``dashboard`` extra (the workspace root installs it); nothing else in
rollcall imports this package, so the web stack never reaches the Lambda image or the edge.
Each page is one module with a :class:`~rollcall_tools.dashboard.pages.Page` and its
templates; :data:`~rollcall_tools.dashboard.app.PAGES` lists them.
"""
