#!/usr/bin/env node
// Interop driver: Alibaba Cloud's official Node.js Tea OpenAPI client drives a running smartag-service.
//
// Environment:
//   SMARTAG_ENDPOINT   host:port of the service (required), e.g. 127.0.0.1:8080
//   SMARTAG_CORE       openapi-core (default; what the current generated @alicloud/* product clients,
//                      Smartag's included, extend) or openapi-client (the previous generation)
//   SMARTAG_SIGNING    v3 (default: the SDK's own default, ACS3-HMAC-SHA256), sm3
//                      (signatureAlgorithm 'ACS3-HMAC-SM3': version 3 with SM3 and HMAC-SM3) or v2
//                      (signatureAlgorithm 'v2' = signature version 1.0, HMAC-SHA1)
//   SMARTAG_PARAMS     query (default: the generated Smartag client sends its parameters in the query
//                      string) or body (OpenApiRequest.body: an application/x-www-form-urlencoded
//                      body, which this SDK sends with Transfer-Encoding: chunked)
//   SMARTAG_ACCESS_KEY_ID / SMARTAG_ACCESS_KEY_SECRET (default testid / testsecret, the demo key)
//   SMARTAG_SCENARIO   full (default: everything below, against the built-in demo configuration) or
//                      sts-https: the service serves HTTPS and the key is a temporary (STS) one;
//                      the client sends SMARTAG_SECURITY_TOKEN (Config.securityToken) over HTTPS,
//                      trusting the CA certificate in the PEM file SMARTAG_CA (Config.ca)
// The service must be fresh: the built-in demo configuration (or, for sts-https, a temporary key
// and the instance sag-demo) and an empty database.
//
// The product package @alicloud/smartag20180313 is not in the npm registry, so SmartagClient below
// does exactly what its generated client does for these three operations (extends the OpenApi
// client, sets only the parameters given, calls callApi with the same Params) on the official
// @alicloud/openapi-core / @alicloud/openapi-client.
//
// Prints one line per check, then "N passed, M failed"; exits 1 on any mismatch, 2 on bad usage.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');

const ENDPOINT = process.env.SMARTAG_ENDPOINT;
const CORE = process.env.SMARTAG_CORE || 'openapi-core';
const SIGNING = process.env.SMARTAG_SIGNING || 'v3';
const PARAMS_IN = process.env.SMARTAG_PARAMS || 'query';
const AK = process.env.SMARTAG_ACCESS_KEY_ID || 'testid';
const SECRET = process.env.SMARTAG_ACCESS_KEY_SECRET || 'testsecret';
const SCENARIO = process.env.SMARTAG_SCENARIO || 'full';
const HTTPS = SCENARIO === 'sts-https';
const TOKEN = process.env.SMARTAG_SECURITY_TOKEN;
const CA = HTTPS && process.env.SMARTAG_CA ? require('node:fs').readFileSync(process.env.SMARTAG_CA, 'utf8') : undefined;

function usage(message) {
  console.error(`driver.js: ${message}`);
  process.exit(2);
}
if (!ENDPOINT) usage('set SMARTAG_ENDPOINT to host:port of a running smartag-service');
if (!['openapi-core', 'openapi-client'].includes(CORE)) usage(`SMARTAG_CORE must be openapi-core or openapi-client, not ${CORE}`);
if (!['v3', 'sm3', 'v2'].includes(SIGNING)) usage(`SMARTAG_SIGNING must be v3, sm3 or v2, not ${SIGNING}`);
// Version 3's algorithm and its hash (Node's crypto names), for the wire checks.
const V3 = { v3: ['ACS3-HMAC-SHA256', 'sha256'], sm3: ['ACS3-HMAC-SM3', 'sm3'] }[SIGNING];
if (!['query', 'body'].includes(PARAMS_IN)) usage(`SMARTAG_PARAMS must be query or body, not ${PARAMS_IN}`);
if (!['full', 'sts-https'].includes(SCENARIO)) usage(`SMARTAG_SCENARIO must be full or sts-https, not ${SCENARIO}`);
if (HTTPS && (!TOKEN || !CA)) usage('the sts-https scenario needs SMARTAG_SECURITY_TOKEN and SMARTAG_CA');

// ---- what goes over the wire, and what gets signed ---------------------------------------------

// Every request the SDK sends: its request line + headers exactly as written, and its body bytes.
const wire = [];
const realRequest = http.request;
http.request = function request(...args) {
  const req = realRequest.apply(this, args);
  const entry = { head: null, body: [] };
  wire.push(entry);
  const write = req.write;
  req.write = function (chunk, ...rest) {
    if (chunk) entry.body.push(Buffer.from(chunk));
    return write.call(this, chunk, ...rest);
  };
  const end = req.end;
  req.end = function (chunk, ...rest) {
    if (chunk && typeof chunk !== 'function') entry.body.push(Buffer.from(chunk));
    return end.call(this, chunk, ...rest);
  };
  req.on('finish', () => { entry.head = req._header; });
  return req;
};

// What the SDK feeds to HMAC: its string to sign (both signature versions go through createHmac).
const signed = [];
const realCreateHmac = crypto.createHmac;
crypto.createHmac = function createHmac(...args) {
  const h = realCreateHmac.apply(this, args);
  const update = h.update;
  h.update = function (data, ...rest) {
    signed.push(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    return update.call(this, data, ...rest);
  };
  return h;
};

// ---- the SDK -----------------------------------------------------------------------------------

let OpenApi, Config, OpenApiRequest, Params, OpenApiUtil, RuntimeOptions;
if (CORE === 'openapi-core') {
  const core = require('@alicloud/openapi-core');
  OpenApi = core.default;
  ({ Config, OpenApiRequest, Params } = core.$OpenApiUtil);
  OpenApiUtil = core.OpenApiUtil;
  RuntimeOptions = require('@darabonba/typescript').RuntimeOptions;
} else {
  const client = require('@alicloud/openapi-client');
  OpenApi = client.default;
  ({ Config, OpenApiRequest, Params } = client);
  OpenApiUtil = require('@alicloud/openapi-util').default;
  RuntimeOptions = require('@alicloud/tea-util').RuntimeOptions;
}

const FIELDS = {
  CreateSmartAccessGatewayClientUser: {
    bandwidth: 'Bandwidth', clientIp: 'ClientIp', ownerAccount: 'OwnerAccount', ownerId: 'OwnerId',
    password: 'Password', regionId: 'RegionId', resourceOwnerAccount: 'ResourceOwnerAccount',
    resourceOwnerId: 'ResourceOwnerId', smartAGId: 'SmartAGId', userMail: 'UserMail', userName: 'UserName',
  },
  ModifySmartAccessGatewayClientUser: {
    bandwidth: 'Bandwidth', email: 'Email', ownerAccount: 'OwnerAccount', ownerId: 'OwnerId',
    regionId: 'RegionId', resourceOwnerAccount: 'ResourceOwnerAccount', resourceOwnerId: 'ResourceOwnerId',
    smartAGId: 'SmartAGId', userName: 'UserName',
  },
  DescribeSmartAccessGatewayClientUsers: {
    ownerAccount: 'OwnerAccount', ownerId: 'OwnerId', pageNumber: 'PageNumber', pageSize: 'PageSize',
    regionId: 'RegionId', resourceOwnerAccount: 'ResourceOwnerAccount', resourceOwnerId: 'ResourceOwnerId',
    smartAGId: 'SmartAGId', userMail: 'UserMail', userName: 'UserName',
  },
};

class SmartagClient extends OpenApi {
  constructor(config) {
    super(config);
    this._endpointRule = 'regional';
    this.checkConfig(config);
    this._endpoint = this.getEndpoint('smartag', this._regionId, this._endpointRule, this._network,
      this._suffix, this._endpointMap, this._endpoint);
  }

  getEndpoint(productId, regionId, endpointRule, network, suffix, endpointMap, endpoint) {
    if (endpoint !== undefined && endpoint !== null) return endpoint;
    if (endpointMap && endpointMap[regionId]) return endpointMap[regionId];
    return OpenApiUtil.getEndpointRules(productId, regionId, endpointRule, network, suffix);
  }

  async call(action, request) {
    const params = {};
    for (const [field, name] of Object.entries(FIELDS[action])) {
      if (request[field] !== undefined && request[field] !== null) params[name] = request[field];
    }
    const req = new OpenApiRequest(PARAMS_IN === 'query' ? { query: OpenApiUtil.query(params) } : { body: params });
    const p = new Params({
      action, version: '2018-03-13', protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK',
      style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
    });
    return this.callApi(p, req, new RuntimeOptions({}));
  }

  createSmartAccessGatewayClientUser(request) { return this.call('CreateSmartAccessGatewayClientUser', request); }
  modifySmartAccessGatewayClientUser(request) { return this.call('ModifySmartAccessGatewayClientUser', request); }
  describeSmartAccessGatewayClientUsers(request) { return this.call('DescribeSmartAccessGatewayClientUsers', request); }
}

function newClient({ ak = AK, secret = SECRET, region = 'cn-shanghai', token = TOKEN, ca = CA } = {}) {
  const config = new Config({
    accessKeyId: ak, accessKeySecret: secret, endpoint: ENDPOINT, protocol: HTTPS ? 'https' : 'http', regionId: region,
    connectTimeout: 5000, readTimeout: 30000,
  });
  if (token !== undefined) config.securityToken = token;
  if (ca !== undefined) config.ca = ca;
  if (SIGNING === 'v2') config.signatureAlgorithm = 'v2';
  if (SIGNING === 'sm3') config.signatureAlgorithm = 'ACS3-HMAC-SM3';
  return new SmartagClient(config);
}

// ---- expectations (spec/smartag.yaml) -----------------------------------------------------------

const PASSWORD = 'Passw0rd-Interop_1';
const MSG = {
  'ClientUser.BandwidthInvalid': 'The specified Bandwidth is invalid.',
  'ClientUser.EmailInvalid': 'The format of the specified UserEmail is invalid.',
  'ClientUser.NameInvalid': 'The specified UserName is invalid.',
  'ClientUser.NotExist': 'The specified user does not exist.',
  'ClientUser.UserExist': 'The specified user already exists.',
  'SAG.InstanceNoFound': 'The specified SAG instance does not exist.',
  'InvalidAccessKeyId.NotFound': 'Specified access key is not found.',
  MissingParameter: 'The input parameter "Bandwidth" that is mandatory for processing this request is not supplied.',
  InvalidParameter: 'The specified parameter "PageSize" is not valid.',
};

const client = newClient();
const base = { regionId: 'cn-shanghai', smartAGId: 'sag-demo' };

function okBody(res) {
  assert.equal(res.statusCode, 200, `HTTP ${res.statusCode}`);
  assert.ok(res.body && typeof res.body.RequestId === 'string' && res.body.RequestId, `no RequestId: ${JSON.stringify(res.body)}`);
  return res.body;
}

function usersOf(body) {
  const users = body.Users;
  if (users === undefined || users === null || users === '' || (Array.isArray(users) && users.length === 0)) return [];
  assert.ok(Array.isArray(users.User) || Object.keys(users).length === 0, `Users is not {"User": [...]}: ${JSON.stringify(body)}`);
  return users.User || [];
}

async function expectError(promise, code, status = 400, message = MSG[code]) {
  let err;
  try {
    const res = await promise;
    throw new assert.AssertionError({ message: `expected HTTP ${status} ${code}, got success: ${JSON.stringify(res.body)}` });
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const data = err.data || {};
  const got = `HTTP ${err.statusCode} ${err.code}`;
  assert.equal(got, `HTTP ${status} ${code}`, `expected HTTP ${status} ${code}, got ${got}: ${err.message} ${JSON.stringify(data)}`);
  assert.equal(data.Code, code);
  assert.ok(typeof data.RequestId === 'string' && data.RequestId, `no RequestId in ${JSON.stringify(data)}`);
  if (err.requestId !== undefined) assert.equal(err.requestId, data.RequestId);
  assert.ok('HostId' in data, `no HostId in ${JSON.stringify(data)}`);
  if (message !== undefined) {
    assert.equal(data.Message, message);
    assert.ok(err.message.includes(`code: ${status}, ${message} request id: ${data.RequestId}`), err.message);
  }
  return err;
}

async function describeAll(pageSize) {
  const users = [];
  const pages = [];
  for (let page = 1; page < 1000; page++) {
    const body = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, pageNumber: page, pageSize }));
    assert.equal(body.PageNumber, page);
    assert.equal(body.PageSize, pageSize);
    const batch = usersOf(body);
    pages.push(batch.length);
    users.push(...batch);
    if (batch.length === 0 || users.length >= body.TotalCount) return { users, total: body.TotalCount, pages };
  }
  throw new Error('paging does not end');
}

// ---- checks ------------------------------------------------------------------------------------

const checks = [];
// The checks of the full scenario, and those of sts-https.
const check = (name, fn) => { if (SCENARIO === 'full') checks.push({ name, fn }); };
const stsCheck = (name, fn) => { if (SCENARIO === 'sts-https') checks.push({ name, fn }); };

stsCheck('STS credentials over HTTPS: create, then describe', async () => {
  const body = okBody(await client.createSmartAccessGatewayClientUser({
    ...base, userMail: 'sts@example.com', bandwidth: 20, userName: 'sts00004', password: PASSWORD,
  }));
  assert.equal(body.UserName, 'sts00004');
  const found = okBody(await client.describeSmartAccessGatewayClientUsers(base));
  assert.deepEqual(usersOf(found).map((u) => u.UserName), ['sts00004']);
});

stsCheck('another security token, or none, is refused', async () => {
  const field = SIGNING === 'v2' ? 'SecurityToken' : 'x-acs-security-token';
  await expectError(newClient({ token: 'CAIS+another/token==' }).describeSmartAccessGatewayClientUsers(base),
    'InvalidSecurityToken.MismatchWithAccessKey', 400, `The security token does not belong to the AccessKey (${field}).`);
  await expectError(newClient({ token: null }).describeSmartAccessGatewayClientUsers(base),
    'MissingSecurityToken', 400, `The security token of the temporary AccessKey is not supplied (${field}).`);
});

stsCheck('a certificate from an untrusted CA is refused before anything is sent', async () => {
  let err;
  try {
    await newClient({ ca: null }).describeSmartAccessGatewayClientUsers(base);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call succeeded without the CA');
  assert.match(`${err.code} ${err.message}`, /certificate|CERT/i, `${err.code} ${err.message}`);
});

check('create with username and password', async () => {
  const body = okBody(await client.createSmartAccessGatewayClientUser({
    ...base, userMail: 'alice@example.com', bandwidth: 20, userName: 'alice01', password: PASSWORD,
  }));
  assert.deepEqual([body.UserName, body.UserMail, body.Bandwidth], ['alice01', 'alice@example.com', 20]);
  assert.match(body.ClientIp, /^10\.10\.0\.\d+$/);
  const found = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userName: 'alice01' }));
  assert.equal(found.TotalCount, 1);
  const [user] = usersOf(found);
  assert.deepEqual([user.UserName, user.UserMail, user.Bandwidth, user.ClientIp, user.State],
    ['alice01', 'alice@example.com', 20, body.ClientIp, 0]);
});

check('create without username: the mail is the username', async () => {
  const body = okBody(await client.createSmartAccessGatewayClientUser({ ...base, userMail: 'nouser@example.com', bandwidth: 5 }));
  assert.deepEqual([body.UserName, body.UserMail, body.Bandwidth], ['nouser@example.com', 'nouser@example.com', 5]);
});

check('create with special characters and owner parameters', async () => {
  // '@', '+', '*', '~', a space: encoded by the SDK (querystring leaves '*' raw), re-encoded by the
  // server exactly as the SDK signed them.
  const body = okBody(await client.createSmartAccessGatewayClientUser({
    ...base, userName: 'john.doe-x_1@corp', userMail: 'john+sag@example.com', bandwidth: 2000,
    password: 'Pw_@-12345678', ownerId: 1234567890123, resourceOwnerId: 42, ownerAccount: 'owner@example.com',
    resourceOwnerAccount: 'ro account*~',
  }));
  assert.deepEqual([body.UserName, body.UserMail, body.Bandwidth], ['john.doe-x_1@corp', 'john+sag@example.com', 2000]);
  const found = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userMail: 'john+sag@example.com' }));
  assert.deepEqual(usersOf(found).map((u) => u.UserName), ['john.doe-x_1@corp']);
});

check('awkward characters in parameters are signed alike', async () => {
  // OwnerAccount is accepted and not interpreted: every value must pass the signature check.
  for (const value of ['账户 ü', 'a&b=c%d', 'x+y/z?#', '', 'tab\tnl\n', "*~'()!$,;:"]) {
    const body = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, ownerAccount: value, resourceOwnerAccount: value })
      .catch((e) => { throw new Error(`OwnerAccount ${JSON.stringify(value)}: ${e.code} ${e.message}`); }));
    assert.equal(typeof body.TotalCount, 'number');
  }
});

check('create errors arrive as the SDK error with Code, Message, RequestId', async () => {
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, userName: 'alice01', password: PASSWORD, userMail: 'other@example.com', bandwidth: 20,
  }), 'ClientUser.UserExist');
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, userName: 'bigbw001', password: PASSWORD, userMail: 'bw@example.com', bandwidth: 2001,
  }), 'ClientUser.BandwidthInvalid');
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, userName: 'nobw0001', password: PASSWORD, userMail: 'bw@example.com',
  }), 'MissingParameter');
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, userName: 'abc def*1', password: PASSWORD, userMail: 'abc@example.com', bandwidth: 20,
  }), 'ClientUser.NameInvalid');
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, userMail: 'not-an-email', bandwidth: 20,
  }), 'ClientUser.EmailInvalid');
  await expectError(client.createSmartAccessGatewayClientUser({
    ...base, smartAGId: 'sag-doesnotexist', userMail: 'x@example.com', bandwidth: 20,
  }), 'SAG.InstanceNoFound');
});

check('modify bandwidth and mail', async () => {
  const body = okBody(await client.modifySmartAccessGatewayClientUser({
    ...base, userName: 'alice01', bandwidth: 50, email: 'alice.new@example.com',
  }));
  assert.deepEqual([body.UserName, body.UserMail, body.Bandwidth], ['alice01', 'alice.new@example.com', 50]);
  const [user] = usersOf(okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userName: 'alice01' })));
  assert.deepEqual([user.UserMail, user.Bandwidth], ['alice.new@example.com', 50]);
  await expectError(client.modifySmartAccessGatewayClientUser({ ...base, userName: 'nobody123', bandwidth: 10 }),
    'ClientUser.NotExist');
  await expectError(client.modifySmartAccessGatewayClientUser({ ...base, userName: 'alice01', bandwidth: 10, email: 'nope' }),
    'ClientUser.EmailInvalid');
});

check('describe: every page until TotalCount', async () => {
  const before = okBody(await client.describeSmartAccessGatewayClientUsers(base)).TotalCount;
  assert.equal(before, 3);
  const names = Array.from({ length: 22 }, (_, i) => `pageuser${String(i).padStart(2, '0')}`);
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(names.slice(i, i + 4).map((n) => client.createSmartAccessGatewayClientUser({
      ...base, userName: n, password: PASSWORD, userMail: `${n}@example.com`, bandwidth: 20,
    }).then(okBody)));
  }
  const { users, total, pages } = await describeAll(10);
  assert.equal(total, 25);
  assert.deepEqual(pages, [10, 10, 5]);
  const seen = users.map((u) => u.UserName);
  assert.equal(new Set(seen).size, seen.length, `duplicates across pages: ${seen}`);
  for (const n of names) assert.ok(seen.includes(n), `${n} not listed`);
  const again = await describeAll(7);
  assert.deepEqual([again.total, again.pages], [25, [7, 7, 7, 4]]);
  const beyond = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, pageNumber: 4, pageSize: 10 }));
  assert.deepEqual([beyond.TotalCount, usersOf(beyond).length], [25, 0]);
});

check('describe: filters and paging errors', async () => {
  const byName = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userName: 'pageuser07' }));
  assert.deepEqual(usersOf(byName).map((u) => u.UserName), ['pageuser07']);
  const byMail = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userMail: 'nouser@example.com' }));
  assert.deepEqual(usersOf(byMail).map((u) => u.UserName), ['nouser@example.com']);
  const none = okBody(await client.describeSmartAccessGatewayClientUsers({ ...base, userName: 'pageuser07', userMail: 'nouser@example.com' }));
  assert.equal(none.TotalCount, 0);
  await expectError(client.describeSmartAccessGatewayClientUsers({ ...base, pageSize: 101 }), 'InvalidParameter');
  await expectError(client.describeSmartAccessGatewayClientUsers({ ...base, smartAGId: 'sag-doesnotexist' }), 'SAG.InstanceNoFound');
});

check('wrong secret: SignatureDoesNotMatch/IncompleteSignature with the string the SDK signed', async () => {
  const wrong = newClient({ secret: 'wrongsecret' });
  const count = async () => okBody(await client.describeSmartAccessGatewayClientUsers(base)).TotalCount;
  const before = await count();
  for (const attempt of [
    () => wrong.describeSmartAccessGatewayClientUsers(base),
    () => wrong.createSmartAccessGatewayClientUser({ ...base, userName: 'sneaky01', password: PASSWORD, userMail: 's@example.com', bandwidth: 20 }),
  ]) {
    const from = signed.length;
    let err;
    try {
      await attempt();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'a request signed with a wrong secret succeeded');
    const data = err.data || {};
    assert.equal(err.statusCode, 400, `${err.statusCode} ${err.code} ${err.message}`);
    assert.ok(['SignatureDoesNotMatch', 'IncompleteSignature'].includes(err.code), `${err.code}: ${err.message}`);
    assert.ok(typeof data.RequestId === 'string' && data.RequestId, JSON.stringify(data));
    const mine = signed.slice(from);
    assert.equal(mine.length, 1, `expected one string to sign, got ${JSON.stringify(mine)}`);
    const marker = 'server string to sign is:';
    assert.ok(typeof data.Message === 'string' && data.Message.includes(marker), `no "${marker}" in ${JSON.stringify(data.Message)}`);
    // The server rebuilt exactly the string this SDK signed: only the secret differs.
    assert.equal(data.Message.split(marker)[1], mine[0]);
    assert.ok(err.message.includes(marker), err.message);
  }
  assert.equal(await count(), before, 'a create signed with a wrong secret created a user');
});

check('unknown AccessKeyId: InvalidAccessKeyId.NotFound (404)', async () => {
  const stranger = newClient({ ak: 'nosuchkey' });
  await expectError(stranger.describeSmartAccessGatewayClientUsers(base), 'InvalidAccessKeyId.NotFound', 404);
  await expectError(stranger.createSmartAccessGatewayClientUser({ ...base, userMail: 'ghost@example.com', bandwidth: 20 }),
    'InvalidAccessKeyId.NotFound', 404);
});

check(`wire: ${SIGNING} signing, parameters in the ${PARAMS_IN}`, async () => {
  assert.ok(wire.length > 40, `only ${wire.length} requests recorded`);
  for (const { head, body } of wire) {
    assert.ok(head, 'a request was never sent');
    const [requestLine, ...lines] = head.split('\r\n');
    const headers = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const target = requestLine.split(' ')[1];
    const bodyText = Buffer.concat(body).toString('utf8');
    assert.ok(requestLine.startsWith('POST /'), requestLine);
    if (V3) {
      const [algorithm, hash] = V3;
      assert.match(headers.authorization || '', new RegExp(`^${algorithm} Credential=[^,]+,SignedHeaders=[a-z0-9;-]+,Signature=[0-9a-f]{64}$`));
      assert.ok(!/[?&]Action=/.test(target) && !/[?&]Signature=/.test(target), target);
      assert.equal(headers['x-acs-version'], '2018-03-13');
      assert.ok(headers['x-acs-action'] && headers['x-acs-date'] && headers['x-acs-signature-nonce'] && headers['x-acs-content-sha256']);
      assert.equal(headers['x-acs-content-sha256'], crypto.createHash(hash).update(Buffer.concat(body)).digest('hex'));
    } else {
      assert.ok(/[?&]SignatureVersion=1\.0/.test(target) && /[?&]Signature=/.test(target), target);
      assert.ok(/[?&]Format=json(&|$)/.test(target), target);
      assert.equal(headers.authorization, undefined);
    }
    if (PARAMS_IN === 'query') {
      assert.equal(headers['content-length'], '0', head);
      assert.equal(bodyText, '');
      assert.ok(/[?&]RegionId=/.test(target), target);
    } else {
      assert.equal(headers['transfer-encoding'], 'chunked', head);
      assert.equal(headers['content-type'], 'application/x-www-form-urlencoded', head);
      assert.ok(/(^|&)RegionId=/.test(bodyText), bodyText);
      assert.ok(!/[?&]RegionId=/.test(target), target);
    }
  }
});

// ---- run ---------------------------------------------------------------------------------------

(async () => {
  console.log(`Node ${process.version}, @alicloud/${CORE} ${require(`@alicloud/${CORE}/package.json`).version}, `
    + `signing ${SIGNING}, parameters in the ${PARAMS_IN}, endpoint ${ENDPOINT}, scenario ${SCENARIO}`);
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of checks) {
    try {
      await fn();
      passed += 1;
      console.log(`ok   ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}\n     ${String(e && e.stack || e).split('\n').join('\n     ')}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
