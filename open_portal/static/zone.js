// Tell the portal the browser's time zone, so that times are shown in it.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("pds-tz=" + zone) < 0) {
    document.cookie = "pds-tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
})();
