// Routes live in the fragment (#/, #/study/<uid>), so the viewer's address — and its OAuth
// redirect URI — stays exactly <hub>/viewer/, and no route ever reaches the server.
export type Route = { screen: 'worklist' } | { screen: 'study'; studyUid: string };

export function parseRoute(hash: string): Route {
  const study = /^#\/study\/([^/]+)$/.exec(hash);
  if (study) {
    const uid = decodeURIComponent(study[1]);
    if (/^[0-9.]{1,64}$/.test(uid)) return { screen: 'study', studyUid: uid };
  }
  return { screen: 'worklist' };
}
