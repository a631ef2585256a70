// Reading the Parameters resource an $operation is called with: each reader names the parameter
// in its error, so a caller knows exactly what to fix.
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { Invalid } from './errors.js';

/** The parameters of a Parameters body; Invalid for anything else. */
export function parametersOf(body: unknown): ParametersParameter[] {
  if (!body || (body as Resource).resourceType !== 'Parameters') throw new Invalid('Expected a Parameters resource');
  return (body as Parameters).parameter ?? [];
}

export function stringParam(params: ParametersParameter[], name: string): string | undefined {
  return params.find((x) => x.name === name)?.valueString;
}

/** Every value of a repeated string (or code/date) parameter. */
export function stringParams(params: ParametersParameter[], name: string): string[] {
  return params.filter((x) => x.name === name).map((x) => x.valueString ?? x.valueCode ?? x.valueDate ?? '').filter(Boolean);
}

export function integerParams(params: ParametersParameter[], name: string): number[] {
  return params.filter((x) => x.name === name).map((x) => x.valueInteger ?? x.valuePositiveInt ?? Number.NaN);
}

/** The id in a `Type/id` reference parameter (valueReference or valueString); Invalid when missing or of another type. */
export function referenceParam(params: ParametersParameter[], name: string, type: string, options: { bareId?: boolean } = {}): string {
  const p = params.find((x) => x.name === name);
  const ref = p?.valueReference?.reference ?? p?.valueString;
  const pattern = options.bareId ? new RegExp(`^(?:${type}/)?([A-Za-z0-9\\-.]{1,64})$`) : new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`);
  const m = ref ? pattern.exec(ref) : null;
  if (!m) throw new Invalid(`Parameter "${name}" must be a ${type} reference (${type}/<id>)`, [name]);
  return m[1];
}
