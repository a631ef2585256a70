// The OAuth sign-in page and the error page for requests that must not redirect. Pure string
// rendering: no templates, no scripts, no external resources, every interpolation escaped.
import { createHash } from 'node:crypto';
import { CSP_DIRECTIVES, serializeCsp } from '../http/security-headers.js';

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Lang = 'zh' | 'en';
/** [Chinese, English] */
type Text = readonly [string, string];

const T = {
  title: ['登录', 'Sign in'],
  requests: ['以下应用请求访问您的数据：', 'This application asks for access to your data:'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  submit: ['登录并授权', 'Sign in and allow'],
  noScopes: ['（未请求具体权限）', '(no specific permissions requested)'],
} satisfies Record<string, Text>;

/** Primary language first, the other below it in smaller type; both escaped. */
function bi(text: Text, lang: Lang): string {
  const [first, second] = lang === 'en' ? [text[1], text[0]] : text;
  return `${escapeHtml(first)}<span class="alt">${escapeHtml(second)}</span>`;
}

// The single stylesheet of both pages. CSP default-src 'self' blocks inline styles, so pages send
// pageCsp(), which allows exactly this text by its hash.
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;background:#f4f6f8;color:#1d2430;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}.alt{display:block;font-size:.8em;color:#5b6472}
label{display:block;margin-top:1rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font:inherit}
button{margin-top:1.5rem;width:100%;padding:.6rem;font:inherit;background:#1657a8;color:#fff;border:0;border-radius:4px}
.error{background:#fdecea;color:#8a1c12;padding:.75rem;border-radius:4px;margin-bottom:1rem}
.scopes{padding-left:1.2rem}code{font-size:.85em;color:#5b6472}`;

export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * The Content-Security-Policy to send with these pages: the site policy plus this page's style hash,
 * and form-action widened to the client's redirect_uri, because Chrome and Safari apply form-action
 * to the redirect that follows the POST (w3c/webappsec-csp#8) and would otherwise stop the OAuth flow.
 */
export function pageCsp(redirectUri?: string): string {
  const targets = ["'self'"];
  const source = redirectUri ? cspSourceOf(redirectUri) : undefined;
  if (source) targets.push(source);
  return serializeCsp({ ...CSP_DIRECTIVES, 'style-src': PAGE_STYLE_HASH, 'form-action': targets.join(' ') });
}

/** https://client.example → its origin; a native app's `com.example.app:/cb` → `com.example.app:`. */
function cspSourceOf(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  // Exclude schemes that would make form-action meaningless or dangerous.
  if (/^(javascript|data|blob|file|filesystem):$/.test(url.protocol)) return undefined;
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

// SMART on FHIR scopes in plain words. Unknown scopes are still listed, verbatim.
const CONTEXT: Record<string, Text> = {
  patient: ['您本人的', "your own"],
  user: ['您有权查看的', 'the'],
  system: ['系统中所有的', 'all'],
};
const FIXED: Record<string, Text> = {
  openid: ['确认您的身份', 'Confirm who you are'],
  fhirUser: ['知道您的用户档案', 'Know your user profile'],
  profile: ['知道您的用户档案', 'Know your user profile'],
  offline_access: ['在您离线时继续访问', 'Keep access while you are away'],
  online_access: ['在您登录期间访问', 'Keep access while you are signed in'],
  'launch/patient': ['选择一位患者', 'Choose a patient'],
  launch: ['从当前应用上下文启动', 'Start from the current context'],
};

export function describeScope(scope: string): Text {
  if (FIXED[scope]) return FIXED[scope];
  const m = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|(?=[cruds])c?r?u?d?s?)$/.exec(scope);
  if (!m) return [scope, scope];
  const [, ctx, type, perm] = m;
  // SMART v1 read/write/*, or v2 letters (c)reate (r)ead (u)pdate (d)elete (s)earch.
  const v1 = perm === 'read' || perm === 'write' || perm === '*';
  const reads = v1 ? perm !== 'write' : /[rs]/.test(perm);
  const writes = v1 ? perm !== 'read' : /[cud]/.test(perm);
  const verb: Text = reads && writes ? ['读取和修改', 'Read and change'] : writes ? ['修改', 'Change'] : ['读取', 'Read'];
  const what: Text = type === '*' ? ['全部健康记录', 'health records'] : [`${type} 记录`, `${type} records`];
  return [`${verb[0]}${CONTEXT[ctx][0]}${what[0]}`, `${verb[1]} ${CONTEXT[ctx][1]} ${what[1]}`];
}

function page(lang: Lang, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="${lang === 'en' ? 'en' : 'zh-CN'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

export interface LoginPageOptions {
  /** Where the form posts (same origin; form-action 'self'). */
  action: string;
  /** The pending authorization request (client_id, state, code_challenge, ...), carried through the POST. */
  hidden: Record<string, string>;
  clientName: string;
  scopes: string[];
  error?: string;
  /** Refilled after a failed attempt; the password never is. */
  username?: string;
  lang?: Lang;
}

export function renderLoginPage(opts: LoginPageOptions): string {
  const lang = opts.lang ?? 'zh';
  const hidden = Object.entries(opts.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const scopes = opts.scopes.length
    ? opts.scopes.map((s) => `<li>${bi(describeScope(s), lang)}<code>${escapeHtml(s)}</code></li>`).join('\n')
    : `<li>${bi(T.noScopes, lang)}</li>`;
  const error = opts.error ? `<div class="error" role="alert">${escapeHtml(opts.error)}</div>\n` : '';
  // Focus the field the user has to type in next.
  const focusUser = opts.username ? '' : ' autofocus';
  const focusPassword = opts.username ? ' autofocus' : '';
  const body = `<h1>${bi(T.title, lang)}</h1>
${error}<p><strong>${escapeHtml(opts.clientName)}</strong></p>
<p>${bi(T.requests, lang)}</p>
<ul class="scopes">
${scopes}
</ul>
<form method="post" action="${escapeHtml(opts.action)}" autocomplete="on">
${hidden}
<label for="username">${bi(T.username, lang)}</label>
<input type="text" id="username" name="username" value="${escapeHtml(opts.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" required${focusUser}>
<label for="password">${bi(T.password, lang)}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${focusPassword}>
<button type="submit">${bi(T.submit, lang)}</button>
</form>`;
  return page(lang, `${T.title[lang === 'en' ? 1 : 0]} - ${opts.clientName}`, body);
}

/** For failures that must not redirect (unknown client_id, unregistered redirect_uri): RFC 6749 §4.1.2.1. */
export function renderErrorPage(title: string, message: string): string {
  return page('zh', title, `<h1>${escapeHtml(title)}</h1>\n<p role="alert">${escapeHtml(message)}</p>`);
}
