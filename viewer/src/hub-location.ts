// Where the hub's endpoints are, as seen from this page. The hub serves the viewer at
// <root>/viewer/, so OAuth, FHIR and DICOMweb sit beside it under the same root — also when a
// proxy publishes the hub below a path prefix (https://example.cn/suhe/viewer/).
export interface HubLocation {
  /** The viewer's own address, without query or fragment: also its OAuth redirect URI. */
  viewerUrl: string;
  fhirBase: string;
  dicomweb: string;
  /** The imaging cloud's own API (shares; share links below /shared/). */
  imaging: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
}

export function hubLocation(href: string): HubLocation {
  const url = new URL(href);
  const at = url.pathname.lastIndexOf('/viewer/');
  const rootPath = at >= 0 ? url.pathname.slice(0, at) : '';
  const root = `${url.origin}${rootPath}`;
  return {
    viewerUrl: `${root}/viewer/`,
    fhirBase: `${root}/fhir`,
    dicomweb: `${root}/dicomweb`,
    imaging: `${root}/imaging`,
    authorizeUrl: `${root}/oauth2/authorize`,
    tokenUrl: `${root}/oauth2/token`,
    revokeUrl: `${root}/oauth2/revoke`,
  };
}
