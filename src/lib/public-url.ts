// What of a feed location may leave the process (trace attributes, logs): a URL's origin and path
// only. Agencies hand out feed URLs with the key in the userinfo or the query (`?api_key=`, `?token=`),
// and a fragment is never needed to say which feed it was. A local path is shown as it is.
export function publicLocation(location: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location) || !URL.canParse(location)) return location;
  const url = new URL(location);
  return `${url.origin}${url.pathname}`;
}
