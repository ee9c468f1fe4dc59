// The error catalogue: every code has a status and both wordings; throw sites get them by naming the code.
import assert from 'node:assert/strict';
import { codeOf, describeError, messageOf, messages, tongbanError, TongbanError, isTongbanError, type ErrorKey } from '../../broker/platform/errors.ts';
import { describeOAuthError } from '../../broker/platform/pages/oauth-errors.ts';

describe('error catalogue', () => {
  it('gives every entry an HTTP status and wording in Chinese and English', () => {
    for (const [key, entry] of Object.entries(messages)) {
      assert.ok(entry.status >= 400 && entry.status < 600, `${key}: status ${entry.status}`);
      assert.ok(entry.zh.length > 0 && entry.en.length > 0, `${key}: wording`);
      assert.match(codeOf(key as ErrorKey), /^[a-z_]+$/, key);
    }
  });

  it('builds an error from its code alone, with a private detail', () => {
    const error = tongbanError('upstream_denied', { detail: 'authorization response error access_denied' });
    assert.ok(isTongbanError(error));
    assert.equal(error.code, 'upstream_denied');
    assert.equal(error.status, 403);
    assert.equal(error.message, 'The national government service platform did not authenticate you.');
    assert.equal(error.messageZh, '国家政务服务平台未完成身份认证。');
    assert.equal(error.detail, 'authorization response error access_denied');
    assert.equal(error.messageIn('en'), error.message);
  });

  it('keeps the code of a variant and its own status', () => {
    const error = tongbanError('form_too_large');
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.status, 413);
    assert.equal(describeError('assurance_too_low', { required: 4, achieved: 3 }).code, 'unmet_authentication_requirements');
  });

  it('fills placeholders, joining lists the way each language does', () => {
    assert.equal(messageOf('resource_invalid', 'en', { problems: ['a', 'b'] }), 'Invalid resource server: a; b');
    assert.equal(messageOf('resource_invalid', 'zh-CN', { problems: ['a', 'b'] }), '资源服务登记信息不正确：a；b');
    assert.equal(messageOf('resource_not_found', 'zh-CN', { identifier: 'https://api.example' }), '未登记资源服务 https://api.example。');
  });

  it('still takes explicit wording from callers not yet converted', () => {
    const error = new TongbanError('something_else', { message: 'Plain.', status: 418 });
    assert.equal(error.code, 'something_else');
    assert.equal(error.status, 418);
    assert.equal(error.messageZh, 'Plain.');
    assert.equal(error.key, undefined);
  });

  it('words oidc-provider errors for people, and unknown ones generically', () => {
    assert.equal(describeOAuthError('invalid_request', 'interaction session not found').code, 'session_not_found');
    assert.equal(describeOAuthError('invalid_client').messageZh, '发起登录的应用未在通办注册，或已被停用。');
    const unknown = describeOAuthError('invalid_token', 'whatever');
    assert.equal(unknown.code, 'invalid_token');
    assert.equal(unknown.messageZh, '请求无法完成。');
    assert.equal(unknown.message, 'The request could not be completed. (whatever)');
  });
});
