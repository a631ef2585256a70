// Typed errors thrown anywhere below the HTTP layer. One express error handler
// (fhir/http/error-handler.ts) turns each into an OperationOutcome with its status.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly expression?: string[],
    readonly extraIssues: OperationOutcomeIssue[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }

  toOperationOutcome(): OperationOutcome {
    const issue: OperationOutcomeIssue = { severity: 'error', code: this.code, diagnostics: this.message };
    if (this.expression?.length) issue.expression = this.expression;
    return { resourceType: 'OperationOutcome', issue: this.extraIssues.length ? this.extraIssues : [issue] };
  }
}

/** 400: the request is malformed or the resource is invalid. */
export class Invalid extends FhirError {
  constructor(message: string, expression?: string[], issues: OperationOutcomeIssue[] = []) {
    super(400, issues.length ? issues[0].code : 'invalid', message, expression, issues);
  }
}
/** 401: no valid access token. The error handler adds the WWW-Authenticate challenge. */
export class Unauthorized extends FhirError {
  constructor(message: string) {
    super(401, 'login', message);
  }
}
/** 403 */
export class Forbidden extends FhirError {
  constructor(message = 'Forbidden') {
    super(403, 'forbidden', message);
  }
}
/** 404 */
export class NotFound extends FhirError {
  constructor(message: string) {
    super(404, 'not-found', message);
  }
}
/** 405 */
export class MethodNotAllowed extends FhirError {
  constructor(message: string) {
    super(405, 'not-supported', message);
  }
}
/** 406: asked for a format we do not produce. */
export class NotAcceptable extends FhirError {
  constructor(message: string) {
    super(406, 'not-supported', message);
  }
}
/** 409: version conflict or duplicate. */
export class Conflict extends FhirError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
/** 410: the resource was deleted. */
export class Gone extends FhirError {
  constructor(message: string) {
    super(410, 'deleted', message);
  }
}
/** 412: If-Match or a conditional operation's precondition failed. */
export class PreconditionFailed extends FhirError {
  constructor(message: string) {
    super(412, 'conflict', message);
  }
}
/** 413 */
export class PayloadTooLarge extends FhirError {
  constructor(message: string) {
    super(413, 'too-costly', message);
  }
}
/** 415 */
export class UnsupportedMediaType extends FhirError {
  constructor(message: string) {
    super(415, 'not-supported', message);
  }
}
/** 422: well-formed but breaks a business rule. */
export class Unprocessable extends FhirError {
  constructor(message: string, expression?: string[]) {
    super(422, 'business-rule', message, expression);
  }
}

export function operationOutcome(severity: 'error' | 'warning' | 'information', code: IssueCode, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}
