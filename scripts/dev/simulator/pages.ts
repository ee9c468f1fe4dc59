/**
 * The simulator's pages: in one language (messages.ts, the simulator's own catalogue), standard or
 * 适老化 (large text, strong contrast), with the switches for both; no scripts and no external assets.
 */
import { defaultView, say, type SimulatorView } from './messages.ts';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const style = `
*{box-sizing:border-box}
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f2f4f7;margin:0;color:#1f2329;line-height:1.6}
header{background:#a51818;color:#fff;padding:12px 20px;display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:8px}
header p{margin:0;font-weight:600}
nav{display:flex;flex-wrap:wrap;gap:8px}
nav a{color:#fff;border:1px solid #fff;border-radius:4px;padding:0 12px;min-height:44px;display:inline-flex;align-items:center;text-decoration:none}
main{max-width:26rem;margin:24px auto;background:#fff;border-radius:6px;padding:24px 20px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.25rem;margin:0 0 8px}
label{display:block;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;min-height:44px;padding:0 10px;border:1px solid #6b7280;border-radius:4px;font-size:1rem}
button{margin-top:18px;width:100%;min-height:44px;border:0;border-radius:4px;background:#a51818;color:#fff;font-size:1rem;cursor:pointer}
:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
.error{background:#fdecea;color:#8b1212;border-radius:4px;padding:8px 10px}
.note{color:#4b5563;font-size:.875rem;margin-top:18px}
.note a,a.way-on{display:inline-flex;align-items:center;min-height:44px}
.face{width:120px;height:120px;border-radius:50%;border:3px dashed #a51818;margin:18px auto;display:flex;align-items:center;justify-content:center;font-size:40px}
a{color:#8b1212}
.elder body{font-size:1.25rem;line-height:1.8;color:#000;background:#fff}
.elder header,.elder button{background:#7a1010}
.elder nav a,.elder button,.elder input[type=text],.elder input[type=password]{min-height:52px;font-size:1.25rem}
.elder main{max-width:34rem;border:2px solid #000;box-shadow:none}
.elder .note{color:#222;font-size:1.1rem}
.elder a{color:#6b0c0c}
.elder header nav a{color:#fff}
`;

export function layout(title: string, content: string, view: SimulatorView = defaultView): string {
  const other = view.locale === 'en' ? 'zh-CN' : 'en';
  const back = encodeURIComponent(view.returnTo);
  return `<!DOCTYPE html>
<html lang="${view.locale}"${view.elder ? ' class="elder"' : ''}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - ${escapeHtml(say(view, 'platform'))}</title>
<style>${style}</style>
</head>
<body>
<header><p>${escapeHtml(say(view, 'platform'))}</p><nav class="switches" aria-label="${escapeHtml(say(view, 'settings'))}"><a href="/preferences?lang=${other}&amp;return=${back}" lang="${other}" hreflang="${other}" title="${escapeHtml(say(view, 'otherLanguageName'))}">${escapeHtml(say(view, 'otherLanguage'))}</a>
<a href="/preferences?display=${view.elder ? 'standard' : 'elder'}&amp;return=${back}">${escapeHtml(say(view, view.elder ? 'elderOff' : 'elderOn'))}</a></nav></header>
<main>
${content}
</main>
</body>
</html>`;
}

export interface LoginPageOptions {
  readonly uid: string;
  readonly clientName: string;
  readonly username?: string;
  readonly error?: boolean;
}

export function loginPage(options: LoginPageOptions, view: SimulatorView = defaultView): string {
  const error = options.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(say(view, 'wrongPassword'))}</p>` : '';
  const uid = escapeHtml(options.uid);
  return layout(say(view, 'loginTitle'), `
<h1>${escapeHtml(say(view, 'loginTitle'))}</h1>
<p>${escapeHtml(say(view, 'loginFor', { client: options.clientName }))}</p>
<div aria-live="polite">${error}</div>
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label for="username">${escapeHtml(say(view, 'username'))}</label>
  <input type="text" id="username" name="username" value="${escapeHtml(options.username ?? '')}" required autofocus${options.error ? ' aria-describedby="login-error" aria-invalid="true"' : ''}>
  <label for="password">${escapeHtml(say(view, 'password'))}</label>
  <input type="password" id="password" name="password" required>
  <button type="submit">${escapeHtml(say(view, 'submitLogin'))}</button>
</form>
<p class="note">${escapeHtml(say(view, 'demoAccounts'))}<br>
<a href="/interaction/${uid}/abort">${escapeHtml(say(view, 'cancelLogin'))}</a></p>`, view);
}

export function facePage(uid: string, name: string, view: SimulatorView = defaultView): string {
  const masked = name.length > 1 ? `${name[0]}${'*'.repeat(name.length - 1)}` : name;
  return layout(say(view, 'faceTitle'), `
<h1>${escapeHtml(say(view, 'faceTitle'))}</h1>
<p>${escapeHtml(say(view, 'faceText', { name: masked }))}</p>
<div class="face" aria-hidden="true">☺</div>
<form method="post" action="/interaction/${escapeHtml(uid)}/face">
  <button type="submit">${escapeHtml(say(view, 'faceStart'))}</button>
</form>`, view);
}

export function logoutPage(form: string, host: string, view: SimulatorView = defaultView): string {
  // The confirmation is a field of the form itself, so a plain form submission confirms.
  const confirmed = form.replace('</form>', `<input type="hidden" name="logout" value="yes"><button type="submit">${escapeHtml(say(view, 'logoutConfirm'))}</button></form>`);
  return layout(say(view, 'logoutConfirm'), `
<h1>${escapeHtml(say(view, 'logoutTitle'))}</h1>
<p>${escapeHtml(say(view, 'logoutText', { host }))}</p>
${confirmed}`, view);
}

export function loggedOutPage(view: SimulatorView = defaultView): string {
  return layout(say(view, 'loggedOutTitle'), `
<h1>${escapeHtml(say(view, 'loggedOutTitle'))}</h1>`, view);
}

/** A link on from an error page: where it goes and what it says. */
export interface WayOn {
  readonly href: string;
  readonly label: string;
}

/** An error page: its title and explanation in the view's language, a way on and protocol details if any. */
export function errorPage(title: string, explanation: string, detail?: Record<string, unknown>, view: SimulatorView = defaultView, wayOn?: WayOn): string {
  const rows = detail
    ? Object.entries(detail).map(([key, value]) => `<div><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</div>`).join('')
    : '';
  return layout(title, `
<h1>${escapeHtml(title)}</h1>
<div role="alert" id="error-message"><p>${escapeHtml(explanation)}</p></div>
${wayOn ? `<p><a class="way-on" href="${escapeHtml(wayOn.href)}">${escapeHtml(wayOn.label)}</a></p>` : ''}
${rows ? `<div class="error" lang="en">${rows}</div>` : ''}`, view);
}
