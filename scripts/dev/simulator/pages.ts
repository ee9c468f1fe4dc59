/**
 * The simulator's pages: Chinese first, English underneath, no scripts and no external assets.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const style = `
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f2f4f7;margin:0;color:#1f2329}
header{background:#b71c1c;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:2px 0 0;font-size:12px;opacity:.85}
main{max-width:380px;margin:32px auto;background:#fff;border-radius:6px;padding:24px 28px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h2{font-size:18px;margin:0 0 2px}
.en{color:#6b7280;font-size:12px;margin:0 0 16px}
label{display:block;font-size:14px;margin:12px 0 4px}
label small{color:#6b7280}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;height:38px;padding:0 10px;border:1px solid #c9cdd4;border-radius:4px;font-size:15px}
button{margin-top:18px;width:100%;height:40px;border:0;border-radius:4px;background:#b71c1c;color:#fff;font-size:16px;cursor:pointer}
.error{background:#fdecea;color:#b71c1c;border-radius:4px;padding:8px 10px;font-size:14px}
.note{color:#6b7280;font-size:12px;margin-top:18px;line-height:1.6}
.face{width:120px;height:120px;border-radius:50%;border:3px dashed #b71c1c;margin:18px auto;display:flex;align-items:center;justify-content:center;font-size:40px}
a{color:#b71c1c}
`;

export function layout(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - 国家政务服务平台</title>
<style>${style}</style>
</head>
<body>
<header><h1>国家政务服务平台 统一身份认证</h1><p>National Government Service Platform · Unified Identity Authentication (simulator)</p></header>
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

export function loginPage(options: LoginPageOptions): string {
  const error = options.error
    ? '<p class="error" role="alert">用户名或密码错误<br><small>Incorrect username or password</small></p>'
    : '';
  return layout('登录', `
<h2>登录</h2>
<p class="en">Log in to continue to ${escapeHtml(options.clientName)}</p>
${error}
<form method="post" action="/interaction/${escapeHtml(options.uid)}/login" autocomplete="off">
  <label for="username">用户名 <small>Username</small></label>
  <input type="text" id="username" name="username" value="${escapeHtml(options.username ?? '')}" required autofocus>
  <label for="password">密码 <small>Password</small></label>
  <input type="password" id="password" name="password" required>
  <button type="submit">登录</button>
</form>
<p class="note">演示账号 Demo accounts: zhangsan · lisi · wangwu · zhaoliu，密码 password: tongban-demo<br>
<a href="/interaction/${escapeHtml(options.uid)}/abort">取消登录 Cancel</a></p>`);
}

export function facePage(uid: string, name: string): string {
  const masked = name.length > 1 ? `${name[0]}${'*'.repeat(name.length - 1)}` : name;
  return layout('人脸识别（模拟）', `
<h2>人脸识别（模拟）</h2>
<p class="en">Face check (simulated)</p>
<p>${escapeHtml(masked)}，当前业务要求更高的实名等级，请完成人脸识别。</p>
<p class="en">This service asks for a higher assurance level: please complete the face check.</p>
<div class="face" aria-hidden="true">☺</div>
<form method="post" action="/interaction/${escapeHtml(uid)}/face">
  <button type="submit">开始人脸识别 <small>Start face check</small></button>
</form>`);
}

export function logoutPage(form: string, host: string): string {
  // The confirmation is a field of the form itself, so a plain form submission confirms.
  const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"><button type="submit">退出登录 <small>Sign out</small></button></form>');
  return layout('退出登录', `
<h2>确认退出登录？</h2>
<p class="en">Sign out of the national platform at ${escapeHtml(host)}?</p>
<p>退出后，通过国家政务服务平台登录的各应用将一并退出。</p>
<p class="en">Every application you signed in to through the national platform is signed out too.</p>
${confirmed}`);
}

export function loggedOutPage(): string {
  return layout('已退出', `
<h2>您已安全退出</h2>
<p class="en">You have signed out.</p>`);
}

export function errorPage(title: string, english: string, detail?: Record<string, unknown>): string {
  const rows = detail
    ? Object.entries(detail).map(([key, value]) => `<div><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</div>`).join('')
    : '';
  return layout(title, `
<h2>${escapeHtml(title)}</h2>
<p class="en">${escapeHtml(english)}</p>
${rows ? `<p class="error">${rows}</p>` : ''}`);
}
