/**
 * The cookie-jar browser the simulator and flow tests drive pages with: cookie scoping and expiry,
 * and form parsing.
 */
import { strict as assert } from 'node:assert';
import { CookieJar, parseForm } from '../support/browser.ts';

describe('national-platform simulator', function () {
  describe('browser helper', function () {
    it('honours host, path and expiry, ignoring ports', function () {
      let now = 1_000_000;
      const jar = new CookieJar(() => now);
      jar.set('http://127.0.0.1:3100/auth/x', 'a=1; Path=/auth; HttpOnly');
      jar.set('http://127.0.0.1:3100/', 'b=2; Max-Age=10');
      jar.set('http://127.0.0.1:3100/', 'c=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
      jar.set('http://example.cn/', 'd=4; Domain=other.cn');
      assert.equal(jar.header('http://127.0.0.1:3000/auth/y'), 'a=1; b=2');
      assert.equal(jar.header('http://127.0.0.1:3000/authz'), 'b=2');
      assert.equal(jar.header('http://localhost:3100/auth'), undefined);
      now += 11_000;
      assert.equal(jar.header('http://127.0.0.1/auth'), 'a=1');
      jar.set('http://127.0.0.1/', 'a=; Path=/auth; Max-Age=0');
      assert.equal(jar.header('http://127.0.0.1/auth'), undefined);
      assert.equal(jar.all().length, 0);
    });

    it('parses a form with hidden fields, entities and the default button', function () {
      const html = '<form method="post" action="/x?a=1&amp;b=2"><input type="hidden" name="xsrf" value="t&quot;k">'
        + '<input name="u"><input type="checkbox" name="c" value="1"><select name="s"><option value="p">P</option><option value="q" selected>Q</option></select>'
        + '<button type="submit" name="go" value="yes">Go</button></form>';
      const form = parseForm(html, 'http://127.0.0.1:3100/page');
      assert.equal(form.action, 'http://127.0.0.1:3100/x?a=1&b=2');
      assert.equal(form.method, 'POST');
      assert.deepEqual(form.fields, [['xsrf', 't"k'], ['u', ''], ['s', 'q'], ['go', 'yes']]);
    });
  });
});
