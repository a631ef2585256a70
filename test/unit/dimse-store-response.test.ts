// The hub encodes C-STORE responses itself (imaging/dimse/store-response.ts). Its bytes must be
// exactly what dcmjs-dimse's own response would put on the wire: dcmjs is the oracle here, for
// success and failure, UIDs of odd and even length, and an error comment of odd and even length.
import { describe, expect, it } from '@jest/globals';
import dimse from 'dcmjs-dimse';
import { StoreResponse } from '../../server/src/imaging/dimse/store-response.js';

function request(sopClassUid: string, sopInstanceUid: string, messageId: number) {
  const req = new dimse.requests.CStoreRequest(new dimse.Dataset({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, '1.2.840.10008.1.2'));
  req.setMessageId(messageId);
  return req;
}

function libraryBytes(req: ReturnType<typeof request>, status: number, comment?: string): Buffer {
  const response = dimse.responses.CStoreResponse.fromRequest(req);
  response.setStatus(status);
  if (comment) response.setErrorComment(comment);
  return response.getCommandDataset().getDenaturalizedCommandDataset();
}

const CASES: { name: string; sopClass: string; sopInstance: string; messageId: number; status: number; comment?: string }[] = [
  { name: 'success, odd-length class UID', sopClass: '1.2.840.10008.5.1.4.1.1.2', sopInstance: '1.2.3.45', messageId: 7, status: 0x0000 },
  { name: 'success, even-length UIDs', sopClass: '1.2.840.10008.5.1.4.1.1.7', sopInstance: '1.2.3.4', messageId: 65535, status: 0x0000 },
  { name: 'failure with an odd-length comment', sopClass: '1.2.840.10008.5.1.4.1.1.4', sopInstance: '2.25.1234567', messageId: 1, status: 0xa700, comment: 'bad thing' },
  { name: 'failure with an even-length comment', sopClass: '1.2.840.10008.5.1.4.1.1.4', sopInstance: '2.25.12345678', messageId: 300, status: 0xc000, comment: 'The object is empty' },
  { name: 'warning status', sopClass: '1.2.840.10008.5.1.4.1.1.2', sopInstance: '1.2.3.45.6', messageId: 2, status: 0xb000 },
];

describe('C-STORE response encoding', () => {
  it.each(CASES)('equals dcmjs-dimse\'s bytes: $name', ({ sopClass, sopInstance, messageId, status, comment }) => {
    const req = request(sopClass, sopInstance, messageId);
    const ours = new StoreResponse(req, status, comment);
    expect(ours.getCommandDataset().getDenaturalizedCommandDataset().toString('hex')).toBe(libraryBytes(req, status, comment).toString('hex'));
  });

  it('keeps the elements readable for the library (status, UIDs, message id)', () => {
    const req = request('1.2.840.10008.5.1.4.1.1.2', '1.2.3.45', 9);
    const ours = new StoreResponse(req, 0xa700, 'Out of resources');
    expect(ours.getStatus()).toBe(0xa700);
    expect(ours.getErrorComment()).toBe('Out of resources');
    expect(ours.getAffectedSopInstanceUid()).toBe('1.2.3.45');
    expect(ours.getMessageIdBeingRespondedTo()).toBe(9);
    expect(ours.getDataset()).toBeUndefined();
    expect(ours.toString()).toBe('C-STORE RESPONSE [status: 0xa700]');
  });
});
