// What an online visit leaves in FHIR, built here so the operations stay about rules:
// - the Encounter (class VR, virtual), started from the appointment;
// - each chat message, file or call start/end as a Communication of the encounter;
// - at the end (IH-11) the same record a physical visit leaves: the diagnosis (Condition,
//   encounter-diagnosis) and an outpatient record (Composition) whose custodian is the doctor's
//   physical institution — the record is shared with it; and a referral offline (IH-03) as a
//   ServiceRequest with its reason;
// - IH-12 retention classes as meta.tags: outpatient records 15 years, chat/audio/video 3 years.
import type { Appointment, Attachment, Coding, Communication, Composition, Condition, Encounter, ServiceRequest } from '@medplum/fhirtypes';

export const RETENTION_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/retention';
export const RETAIN_OUTPATIENT: Coding = { system: RETENTION_SYSTEM, code: 'outpatient-15y', display: 'Outpatient record: keep ≥15 years (IH-12)' };
export const RETAIN_CONVERSATION: Coding = { system: RETENTION_SYSTEM, code: 'conversation-3y', display: 'Chat, audio and video of a consultation: keep ≥3 years (IH-12)' };
const SOURCE = 'urn:suhe:internet-hospital';
const VIRTUAL = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' };
export const VIDEO_CALL_CATEGORY = { system: 'https://suhe.example.cn/fhir/CodeSystem/communication-category', code: 'video-call', display: 'Video call' };

export function visitEncounter(appointment: Appointment, doctor: string, institution: string | undefined, now: Date): Encounter {
  const patient = appointment.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
  return {
    resourceType: 'Encounter',
    meta: { source: SOURCE, tag: [RETAIN_OUTPATIENT] },
    status: 'in-progress',
    class: VIRTUAL,
    ...(appointment.serviceType ? { serviceType: appointment.serviceType[0] } : {}),
    ...(patient ? { subject: { reference: patient } } : {}),
    participant: [{ individual: { reference: doctor } }],
    appointment: [{ reference: `Appointment/${appointment.id}` }],
    period: { start: now.toISOString() },
    ...(appointment.reasonReference ? { reasonReference: appointment.reasonReference } : {}),
    ...(institution ? { serviceProvider: { reference: institution } } : {}),
  };
}

export function visitMessage(encounter: Encounter, sender: string, recipients: string[], content: { text?: string; attachment?: Attachment }, now: Date): Communication {
  return {
    resourceType: 'Communication',
    meta: { source: SOURCE, tag: [RETAIN_CONVERSATION] },
    // in-progress until a recipient's device has it; then completed, with `received`.
    status: 'in-progress',
    encounter: { reference: `Encounter/${encounter.id}` },
    ...(encounter.subject ? { subject: encounter.subject } : {}),
    sender: { reference: sender },
    ...(recipients.length ? { recipient: recipients.map((reference) => ({ reference })) } : {}),
    sent: now.toISOString(),
    payload: [content.attachment ? { contentAttachment: content.attachment } : { contentString: content.text ?? '' }],
  };
}

export function callEvent(encounter: Encounter, by: string, what: 'started' | 'ended', now: Date): Communication {
  return {
    ...visitMessage(encounter, by, [], { text: `video call ${what}` }, now),
    status: 'completed',
    category: [{ coding: [VIDEO_CALL_CATEGORY] }],
  };
}

export interface VisitOutcome {
  summary: string;
  diagnosis?: Coding;
  /** IH-03: ended to be seen in person. */
  referral?: { reason: string };
}

/** The record of the visit (IH-11), the referral (IH-03), for the encounter's patient. */
export function visitRecord(encounter: Encounter, doctor: string, institution: string | undefined, outcome: VisitOutcome, now: Date): { condition?: Condition; composition: Composition; referral?: ServiceRequest } {
  const at = now.toISOString();
  const subject = encounter.subject!;
  const condition: Condition | undefined = outcome.diagnosis
    ? {
        resourceType: 'Condition',
        meta: { source: SOURCE, tag: [RETAIN_OUTPATIENT] },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
        code: { coding: [outcome.diagnosis] },
        subject,
        encounter: { reference: `Encounter/${encounter.id}` },
        recorder: { reference: doctor },
        recordedDate: at,
      }
    : undefined;
  const referral: ServiceRequest | undefined = outcome.referral
    ? {
        resourceType: 'ServiceRequest',
        meta: { source: SOURCE, tag: [RETAIN_OUTPATIENT] },
        status: 'active',
        intent: 'order',
        category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
        code: { text: 'In-person visit (referred from an online consultation)' },
        subject,
        encounter: { reference: `Encounter/${encounter.id}` },
        requester: { reference: doctor },
        authoredOn: at,
        reasonCode: [{ text: outcome.referral.reason }],
        ...(institution ? { performer: [{ reference: institution }] } : {}),
      }
    : undefined;
  const composition: Composition = {
    resourceType: 'Composition',
    meta: { source: SOURCE, tag: [RETAIN_OUTPATIENT] },
    status: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '11488-4', display: 'Consult note' }], text: '门诊病历（互联网诊疗）' },
    subject,
    encounter: { reference: `Encounter/${encounter.id}` },
    date: at,
    author: [{ reference: doctor }],
    title: '互联网诊疗门诊病历',
    ...(institution ? { custodian: { reference: institution } } : {}),
    section: [
      { title: '诊疗经过 Summary', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXml(outcome.summary)}</div>` } },
      ...(outcome.diagnosis ? [{ title: '诊断 Diagnosis', code: { coding: [{ system: 'http://loinc.org', code: '29548-5', display: 'Diagnosis Narrative' }] }, text: { status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXml(outcome.diagnosis.display ?? outcome.diagnosis.code ?? '')}</div>` } }] : []),
      ...(outcome.referral ? [{ title: '转线下就诊 Referred offline', text: { status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXml(outcome.referral.reason)}</div>` } }] : []),
    ],
  };
  return { condition, composition, referral };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}
