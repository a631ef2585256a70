import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { describeScope, escapeHtml, pageCsp, PAGE_STYLE_HASH, renderErrorPage, renderLoginPage } from '../../server/src/auth/login-page.js';

const XSS = '<script>alert("x")</script>';

const base = {
  action: '/oauth2/authorize',
  hidden: { client_id: 'viewer', state: 'abc', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' },
  clientName: 'Imaging Viewer',
  scopes: ['openid', 'patient/*.read', 'patient/Observation.rs', 'user/Patient.cruds', 'custom.scope'],
};

/** Every external reference a browser would fetch or navigate to. */
function externalRefs(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*([^"'\s>]*)/gi)]
    .map((m) => m[1])
    .filter((v) => /^(?:https?:)?\/\//i.test(v));
}

describe('escapeHtml', () => {
  it('escapes markup and both quote styles', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;');
    expect(escapeHtml(undefined)).toBe('');
  });
});

describe('renderLoginPage', () => {
  it('renders a complete page with the form, hidden fields and labelled inputs', () => {
    const html = renderLoginPage(base);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<form method="post" action="/oauth2/authorize"');
    for (const [name, value] of Object.entries(base.hidden)) {
      expect(html).toContain(`<input type="hidden" name="${name}" value="${value}">`);
    }
    expect(html).toMatch(/<label for="username">用户名<span class="alt">Username<\/span><\/label>/);
    expect(html).toMatch(/<label for="password">密码<span class="alt">Password<\/span><\/label>/);
    expect(html).toContain('id="username" name="username"');
    expect(html).toMatch(/type="password" id="password" name="password" autocomplete="current-password"/);
    expect(html).toContain('Imaging Viewer');
    expect(html).not.toContain('role="alert"');
  });

  it('lists the requested scopes in plain words and verbatim', () => {
    const html = renderLoginPage(base);
    expect(html).toContain('Read your own health records');
    expect(html).toContain('Read your own Observation records');
    expect(html).toContain('Read and change the Patient records');
    expect(html).toContain('Confirm who you are');
    expect(html).toContain('<code>custom.scope</code>');
    expect(describeScope('patient/Observation.write')).toEqual(['修改您本人的Observation 记录', 'Change your own Observation records']);
    expect(describeScope('patient/Observation.')).toEqual(['patient/Observation.', 'patient/Observation.']);
  });

  it('puts English first when asked', () => {
    const html = renderLoginPage({ ...base, lang: 'en' });
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Username<span class="alt">用户名</span>');
  });

  it('shows the error in an alert and keeps the username, focusing the password', () => {
    const html = renderLoginPage({ ...base, error: 'Wrong username or password', username: 'dr.li' });
    expect(html).toContain('<div class="error" role="alert">Wrong username or password</div>');
    expect(html).toContain('value="dr.li"');
    expect(html).toMatch(/name="password"[^>]*autofocus/);
  });

  it('escapes every interpolated field', () => {
    const html = renderLoginPage({
      action: `/oauth2/authorize?x="><script>`,
      hidden: { [`n"${XSS}`]: XSS, state: `"onmouseover="alert(1)` },
      clientName: XSS,
      scopes: [XSS, `patient/${XSS}.read`],
      error: XSS,
      username: `"><script>alert(1)</script>`,
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('"onmouseover=');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(html).toContain('value="&#34;onmouseover=&#34;alert(1)"');
  });

  it('loads nothing external and runs no script', () => {
    for (const html of [renderLoginPage({ ...base, error: 'x' }), renderErrorPage('t', 'm')]) {
      expect(externalRefs(html)).toEqual([]);
      expect(html).not.toMatch(/<(script|link|img|iframe|object)\b/i);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html).not.toMatch(/(src|href)\s*=\s*["']?[^"'>]*http/i);
    }
  });
});

describe('renderErrorPage', () => {
  it('escapes title and message', () => {
    const html = renderErrorPage(XSS, `redirect_uri ${XSS} is not registered`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<title>&#60;script&#62;');
    expect(html).toContain('role="alert"');
    expect(html).not.toContain('<form');
  });
});

describe('pageCsp', () => {
  it('allows exactly the inline stylesheet by hash', () => {
    const html = renderLoginPage(base);
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1];
    expect(PAGE_STYLE_HASH).toBe(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(pageCsp()).toBe(
      `default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'; style-src ${PAGE_STYLE_HASH}`,
    );
  });

  it("widens form-action to the redirect target only (Chrome checks the POST's redirect)", () => {
    expect(pageCsp('https://App.Example.org:443/cb?x=1')).toContain("form-action 'self' https://app.example.org;");
    expect(pageCsp('com.example.viewer:/callback')).toContain("form-action 'self' com.example.viewer:;");
    expect(pageCsp('javascript:alert(1)')).toContain("form-action 'self';");
    expect(pageCsp('not a url; script-src *')).toContain("form-action 'self';");
  });
});
