"""One router per resource."""

from open_portal.routes import admin, applications, audit, auth, catalog, ckan, grants, pages

ROUTERS = [
    pages.router,
    auth.router,
    catalog.router,
    ckan.router,
    applications.router,
    grants.router,
    audit.router,
    admin.router,
]
