// Validates every write against the base R4 definitions (validator/base-validator.ts, compiled
// per type for speed) and, when a resource claims one of the project's profiles in meta.profile,
// against that profile too (@medplum/core's validator, which handles slicing). Extra rules that FHIRPath cannot
// say well (the resident ID check character, ID-01) hook in per profile.
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Patient, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { Invalid } from './errors.js';
import { checkResidentIdAgainstPatient } from './identity/resident-id.js';
import { validateBase } from './validator/base-validator.js';
import type { ResourceValidator } from './repository.js';

export const CN_PATIENT_PROFILE = 'http://suhe.example.cn/fhir/StructureDefinition/cn-patient';

type ExtraRule = (resource: Resource) => OperationOutcomeIssue[];

const EXTRA_RULES: Record<string, ExtraRule> = {
  // ID-01: the check character and the agreement of sex and birth date with the number.
  [CN_PATIENT_PROFILE]: (resource) =>
    checkResidentIdAgainstPatient(resource as Patient).map((problem) => ({
      severity: 'error',
      code: 'invariant',
      diagnostics: problem,
      expression: ['Patient.identifier'],
    })),
};

export class R4Validator implements ResourceValidator {
  private readonly profiles = new Map<string, StructureDefinition>();

  constructor(profiles: StructureDefinition[]) {
    for (const sd of profiles) if (sd.url) this.profiles.set(sd.url, sd);
  }

  knownProfiles(): string[] {
    return [...this.profiles.keys()];
  }

  /**
   * `skipExtraRules`: for records received from a federation source, which are stored even when
   * their resident ID number fails ID-01 — the master patient index flags them instead.
   */
  validate(resource: Resource, options: { skipExtraRules?: boolean } = {}): void {
    const issues = this.check(resource, options).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (issues.length) {
      const summary = issues.map((i) => located(i, resource.resourceType)).join('; ');
      throw new Invalid(`Invalid ${resource.resourceType}: ${summary}`, issues[0].expression, issues);
    }
  }

  /** All issues, errors and warnings, as $validate reports them. */
  check(resource: Resource, options: { skipExtraRules?: boolean } = {}): OperationOutcomeIssue[] {
    if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
      return [{ severity: 'error', code: 'structure', diagnostics: 'The body is not a FHIR resource (expected a JSON object)' }];
    }
    const issues = validateBase(resource);
    for (const url of resource.meta?.profile ?? []) {
      const profile = this.profiles.get(url.split('|')[0]);
      if (!profile) continue; // profiles we do not hold are not enforced (as the spec allows)
      issues.push(...runValidation(() => validateResource(resource, { profile })));
      if (!options.skipExtraRules) issues.push(...(EXTRA_RULES[profile.url!]?.(resource) ?? []));
    }
    return issues.map(withDiagnostics);
  }
}

function runValidation(run: () => OperationOutcomeIssue[] | void): OperationOutcomeIssue[] {
  try {
    return run() ?? [];
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
    return [{ severity: 'error', code: 'structure', diagnostics: (err as Error).message }];
  }
}

/** "path: diagnostics", without saying the path twice when the diagnostics start with it (code bindings). */
function located(issue: OperationOutcomeIssue, fallback: string): string {
  const where = issue.expression?.[0] ?? fallback;
  const what = issue.diagnostics ?? issue.details?.text ?? '';
  return what.startsWith(`${where}: `) ? what : `${where}: ${what}`;
}

function withDiagnostics(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  return issue.diagnostics || !issue.details?.text ? issue : { ...issue, diagnostics: issue.details.text };
}
