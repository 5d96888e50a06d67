"""One router per resource."""

from open_portal.routes import (
    admin,
    applications,
    audit,
    auth,
    catalog,
    ckan,
    dp,
    exports,
    grants,
    pages,
)

ROUTERS = [
    pages.router,
    auth.router,
    catalog.router,
    ckan.router,
    applications.router,
    grants.router,
    dp.router,
    exports.router,
    audit.router,
    admin.router,
]
