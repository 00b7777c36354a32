// Test-only AWS credential endpoints, on 127.0.0.1 ephemeral ports, as an agent finds
// them on ECS/EKS and EC2:
//
//   startContainerCreds({ token, creds, mode }): the container credentials endpoint
//     (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN: ECS task
//     roles, EKS Pod Identity).
//   startImds({ role, creds, mode }): EC2's instance metadata service, IMDSv2 only
//     (AWS_EC2_METADATA_SERVICE_ENDPOINT).
//
// creds is { accessKeyId, secretAccessKey, sessionToken }, as startS3 takes it: hand
// both the same object and the S3 peer accepts what these endpoints issue. Both can be
// changed while running (.creds = ..., .mode = ...) to rotate keys or turn hostile.
//
// Modes, for the request that returns credentials:
//   'ok'          the credentials, expiring in an hour
//   'expire-soon' the credentials, expiring 2 minutes from now (SDKs refresh credentials
//                 expiring within 5 minutes before using them)
//   'hang'        the request is read and never answered
//   'garbage'     200 with a body that is not JSON
'use strict';
const crypto = require('node:crypto');
const { Listener } = require('./listener');

const MODES = ['ok', 'expire-soon', 'hang', 'garbage'];

function expiration(mode) {
  return new Date(Date.now() + (mode === 'expire-soon' ? 2 * 60 : 60 * 60) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

class Endpoint {
  constructor({ creds, mode = 'ok' }) {
    if (!MODES.includes(mode)) throw new Error(`mode ${mode}: one of ${MODES.join(', ')}`);
    this.creds = creds;
    this.mode = mode;
    this.requests = [];
    this.held = new Set();
    this.listener = new Listener((req, res) => this.record(req, res));
  }

  async start() {
    this.port = await this.listener.listen();
    return this;
  }

  record(req, res) {
    const rec = { method: req.method, path: req.url, headers: req.headers, status: null };
    this.requests.push(rec);
    res.on('finish', () => { rec.status = res.statusCode; });
    req.resume();
    req.on('end', () => this.handle(req, res, rec));
  }

  send(res, status, body, type = 'text/plain') {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  // The credentials answer in the mode the endpoint is in; fields adds the endpoint's own.
  sendCreds(res, rec, fields = {}) {
    rec.issued = this.mode;
    if (this.mode === 'hang') {
      this.held.add(res);
      return;
    }
    if (this.mode === 'garbage') return this.send(res, 200, '<html>{"AccessKeyId": \x00 not json', 'application/json');
    const { accessKeyId, secretAccessKey, sessionToken } = this.creds;
    this.send(res, 200, JSON.stringify({
      ...fields,
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretAccessKey,
      Token: sessionToken,
      Expiration: expiration(this.mode),
    }), 'application/json');
  }

  down() {
    for (const res of this.held) res.destroy();
    this.held.clear();
    return this.listener.down();
  }

  up() {
    return this.listener.up();
  }

  close() {
    return this.down();
  }
}

// The container endpoint answers a GET only when its Authorization header is the token,
// as it is (no "Bearer"): what AWS SDKs send from AWS_CONTAINER_AUTHORIZATION_TOKEN.
class ContainerCreds extends Endpoint {
  constructor(opts) {
    super(opts);
    this.token = opts.token;
  }

  async start() {
    await super.start();
    this.url = `http://127.0.0.1:${this.port}/v2/credentials`;
    return this;
  }

  handle(req, res, rec) {
    rec.authorized = this.token === undefined || req.headers.authorization === this.token;
    if (req.method !== 'GET' || req.url.split('?')[0] !== '/v2/credentials') return this.send(res, 404, 'Not Found');
    if (!rec.authorized) {
      return this.send(res, 401, JSON.stringify({ Code: 'AccessDenied', Message: 'Unauthorized: the Authorization header is missing or wrong' }), 'application/json');
    }
    return this.sendCreds(res, rec, { RoleArn: 'arn:aws:iam::123456789012:role/inspectd-test' });
  }
}

// IMDSv2: a session token first (PUT /latest/api/token with its TTL in
// X-aws-ec2-metadata-token-ttl-seconds, 1 to 21600), then GETs carrying it in
// X-aws-ec2-metadata-token; a GET without a valid one is 401 (no IMDSv1 fallback).
class Imds extends Endpoint {
  constructor(opts) {
    super(opts);
    this.role = opts.role || 'inspectd-test-role';
    this.tokens = new Map(); // token -> expiry (ms)
  }

  async start() {
    await super.start();
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  handle(req, res, rec) {
    const urlPath = req.url.split('?')[0];
    if (urlPath === '/latest/api/token') {
      if (req.method !== 'PUT') return this.send(res, 405, 'Method Not Allowed');
      // IMDS refuses token requests that went through a proxy.
      if (req.headers['x-forwarded-for'] !== undefined) return this.send(res, 403, 'Forbidden');
      const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      if (!/^\d+$/.test(ttl || '') || Number(ttl) < 1 || Number(ttl) > 21600) return this.send(res, 400, 'Bad Request');
      const token = crypto.randomBytes(32).toString('base64');
      this.tokens.set(token, Date.now() + Number(ttl) * 1000);
      rec.tokenIssued = true;
      res.setHeader('X-aws-ec2-metadata-token-ttl-seconds', ttl);
      return this.send(res, 200, token);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.send(res, 405, 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    rec.authorized = token !== undefined && (this.tokens.get(token) || 0) > Date.now();
    if (!rec.authorized) return this.send(res, 401, 'Unauthorized');
    const base = '/latest/meta-data/iam/security-credentials/';
    if (urlPath === base) return this.send(res, 200, this.role);
    if (urlPath === base + this.role) {
      return this.sendCreds(res, rec, { Code: 'Success', LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Type: 'AWS-HMAC' });
    }
    return this.send(res, 404, 'Not Found');
  }
}

// Start the container credentials endpoint: .url (the FULL_URI), .requests (each
// { method, path, headers, status, authorized, issued: the mode credentials were
// answered in }), .mode, .creds, .down(), .up(), .close().
function startContainerCreds(opts) {
  return new ContainerCreds(opts).start();
}

// Start an IMDSv2: .url (the endpoint), .requests (each { method, path, headers, status,
// authorized, tokenIssued, issued }), .role, .mode, .creds, .down(), .up(), .close().
function startImds(opts) {
  return new Imds(opts).start();
}

module.exports = { startContainerCreds, startImds, MODES };
