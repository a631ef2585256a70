// How a page's form runs a hub $operation: the button waits while it runs; on success the form is
// marked (`data-outcome`) and the page moves on; a refusal is shown as the hub words it and the
// button can be pressed again.
import type { AppContext } from '../app-context.js';
import { failureText, showText } from './format.js';
import { isRefusal, operation, type Parameter } from './hospital-api.js';

export interface FormParts {
  form: HTMLElement;
  outcome: HTMLElement;
  submit: HTMLButtonElement;
}

export function submitOperation(app: AppContext, path: string, parameter: Parameter[], parts: FormParts, succeeded: string, then: () => void): void {
  parts.submit.disabled = true;
  delete parts.form.dataset.outcome;
  operation(app, path, parameter)
    .then(() => {
      parts.form.dataset.outcome = succeeded;
      then();
    })
    .catch((err: unknown) => {
      parts.outcome.className = 'error';
      parts.form.dataset.outcome = 'refused';
      showText(parts.outcome, failureText(err, isRefusal(err)));
      parts.submit.disabled = false;
    });
}
