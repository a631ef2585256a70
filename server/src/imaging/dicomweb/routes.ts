// DICOMweb (PS3.18) at /dicomweb: STOW-RS, QIDO-RS and WADO-RS. Thin: each route checks its path
// UIDs and hands over to the handler for its service.
import { Router, type Request } from 'express';
import { Invalid } from '../../fhir/errors.js';
import type { DicomwebContext } from './context.js';
import { retrieveBulk, retrieveFrames } from './frames-handler.js';
import { qido } from './qido-handler.js';
import { rendered } from './rendered-handler.js';
import { retrieveInstances, retrieveMetadata } from './retrieve.js';
import { stow } from './stow.js';
import { wadoUri } from './wado-uri.js';

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

export function dicomwebRoutes(contextFor: (req: Request) => DicomwebContext): Router {
  const router = Router();
  const uids = (req: Request) => {
    const { study, series, instance } = req.params as Record<string, string | undefined>;
    for (const [name, value] of [['study', study], ['series', series], ['instance', instance]] as const) {
      if (value !== undefined && (value.length > 64 || !UID.test(value))) throw new Invalid(`The ${name} UID in the path, '${value.slice(0, 70)}', is not a DICOM UID`);
    }
    return { studyUid: study!, seriesUid: series, sopInstanceUid: instance };
  };

  router.post('/studies', (req, res) => stow(contextFor(req), req, res));
  router.post('/studies/:study', (req, res) => stow(contextFor(req), req, res, uids(req).studyUid));

  router.get('/studies', (req, res) => qido(contextFor(req), req, res, 'study', {}));
  router.get('/series', (req, res) => qido(contextFor(req), req, res, 'series', {}));
  router.get('/instances', (req, res) => qido(contextFor(req), req, res, 'instance', {}));
  router.get('/studies/:study/series', (req, res) => qido(contextFor(req), req, res, 'series', { studyUid: uids(req).studyUid }));
  router.get('/studies/:study/instances', (req, res) => qido(contextFor(req), req, res, 'instance', { studyUid: uids(req).studyUid }));
  router.get('/studies/:study/series/:series/instances', (req, res) => {
    const { studyUid, seriesUid } = uids(req);
    return qido(contextFor(req), req, res, 'instance', { studyUid, seriesUid });
  });

  for (const path of ['/studies/:study', '/studies/:study/series/:series', '/studies/:study/series/:series/instances/:instance']) {
    router.get(path, (req, res) => retrieveInstances(contextFor(req), req, res, uids(req)));
    router.get(`${path}/metadata`, (req, res) => retrieveMetadata(contextFor(req), req, res, uids(req)));
    router.get(`${path}/thumbnail`, (req, res) => rendered(contextFor(req), req, res, uids(req), { thumbnail: true }));
  }
  const instance = '/studies/:study/series/:series/instances/:instance';
  router.get(`${instance}/rendered`, (req, res) => rendered(contextFor(req), req, res, uids(req), { thumbnail: false }));
  router.get(`${instance}/frames/:frames`, (req, res) => retrieveFrames(contextFor(req), req, res, uids(req), req.params.frames as string));
  router.get(`${instance}/frames/:frames/rendered`, (req, res) => rendered(contextFor(req), req, res, uids(req), { frame: req.params.frames as string, thumbnail: false }));
  router.get(`${instance}/frames/:frames/thumbnail`, (req, res) => rendered(contextFor(req), req, res, uids(req), { frame: req.params.frames as string, thumbnail: true }));
  router.get(`${instance}/bulk/*tagPath`, (req, res) => retrieveBulk(contextFor(req), req, res, uids(req), req.params.tagPath as unknown as string[]));
  router.get('/wado', (req, res) => wadoUri(contextFor(req), req, res));
  return router;
}
