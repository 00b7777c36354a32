// A test-only S3 server that checks what it is sent: s3rver (npm, in-process, on its own
// loopback port and data folder) stores the objects; in front of it, on the port the
// agent is given, a verifier recomputes each request's SigV4 signature independently
// (aws4, with the secret it was given) and hashes each body against its
// x-amz-content-sha256, as S3 does. s3rver alone would not do it: it checks access key
// ids but skips SigV4 signatures and payload hashes (its source says so).
//
//   const s3 = await startS3({ region, accessKeyId, secretAccessKey, buckets: ['b'] });
//   s3.endpoint, s3.requests, s3.violations, await s3.objects('b'), s3.failNext(...)
//
// Every check answers as S3 answers (status, error code, XML body) and also lands in
// .violations, so that a test asserts "no violation" after the agent's uploads.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { need } = require('./deps');
const { Listener } = require('./listener');

const S3rver = need('s3rver');
const aws4 = need('aws4');

// S3's error codes the peer answers with: HTTP status and S3's own message.
const ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidPart: [400, 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  NotImplemented: [501, 'A header or parameter you provided implies functionality that is not implemented.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  ServiceUnavailable: [503, 'Service is unable to handle request.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
};
// The code a fault of a given status answers with when none is named.
const CODE_OF_STATUS = { 400: 'InvalidRequest', 403: 'AccessDenied', 404: 'NoSuchKey', 500: 'InternalError', 501: 'NotImplemented', 503: 'SlowDown' };

// S3 refuses a request signed more than 15 minutes away from its clock.
const MAX_SKEW_MS = 15 * 60 * 1000;
const HEX64 = /^[0-9a-f]{64}$/;
// Every part of a multipart upload but the last is at least 5 MiB.
const MIN_PART_SIZE = 5 * 1024 * 1024;
// A CompleteMultipartUpload body read whole (10 000 parts fit in well under this).
const MAX_COMPLETE_XML = 1024 * 1024;

function xmlEscape(s) {
  return String(s).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
}

// An S3 error as S3 sends it: application/xml, <Error><Code/><Message/>...</Error>, the
// request id in a header too; a HEAD's error has no body.
function sendError(req, res, code, message, extra = {}) {
  const [defStatus, defMessage] = ERRORS[code] || [500, code];
  const status = extra.status || defStatus;
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
  const fields = Object.entries(extra).filter(([k]) => k !== 'status')
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message || defMessage)}</Message>` +
    `${fields}<RequestId>${requestId}</RequestId><HostId>inspectd-test-peer</HostId></Error>`;
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// The request's headers as SigV4 reads them: names lowercased, repeated headers joined
// with "," (node would join most with ", ").
function headerMap(req) {
  const h = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    h[k] = k in h ? `${h[k]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  return h;
}

// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/s3/aws4_request, SignedHeaders=a;b, Signature=hex"
function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256 (.+)$/.exec(value);
  if (!m) return null;
  const parts = {};
  for (const piece of m[1].split(/,\s*/)) {
    const eq = piece.indexOf('=');
    if (eq < 0) return null;
    parts[piece.slice(0, eq).trim()] = piece.slice(eq + 1).trim();
  }
  if (!parts.Credential || !parts.SignedHeaders || !parts.Signature) return null;
  const scope = parts.Credential.split('/');
  if (scope.length !== 5) return null;
  const [accessKeyId, date, region, service, terminator] = scope;
  return { accessKeyId, date, region, service, terminator, signedHeaders: parts.SignedHeaders.split(';'), signature: parts.Signature };
}

// Where a request goes, path-style (/BUCKET/KEY, Host 127.0.0.1 or localhost) or
// virtual-hosted (Host BUCKET.localhost: curl resolves *.localhost to 127.0.0.1 itself,
// no DNS involved). Returns { style, bucket, key, pathStyleUrl } or null for a path that
// does not decode.
function route(req) {
  const host = (req.headers.host || '').replace(/:\d+$/, '');
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q);
  let decoded;
  try { decoded = decodeURIComponent(rawPath); } catch { return null; }
  const vhost = /^(.+)\.localhost$/.exec(host);
  if (vhost) {
    return { style: 'virtual', bucket: vhost[1], key: decoded.slice(1), pathStyleUrl: `/${encodeURIComponent(vhost[1])}${rawPath}${rawQuery}` };
  }
  const slash = decoded.indexOf('/', 1);
  return {
    style: 'path',
    bucket: slash < 0 ? decoded.slice(1) : decoded.slice(1, slash),
    key: slash < 0 ? '' : decoded.slice(slash + 1),
    pathStyleUrl: req.url,
  };
}

class S3Peer {
  constructor(opts) {
    this.region = opts.region || 'us-east-1';
    this.credentials = new Map();
    if (opts.accessKeyId) this.addCredentials(opts);
    for (const c of opts.credentials || []) this.addCredentials(c);
    this.buckets = opts.buckets || [];
    this.requests = [];
    this.violations = [];
    this.faults = [];        // { kind: 'fail' | 'reset', left, ... }, taken in order
    this.stallUntil = 0;
    this.held = new Set();   // stalled responses, cut on close()
    this.agent = new http.Agent({ keepAlive: true });
    this.listener = new Listener((req, res) => this.handle(req, res));
  }

  // Another key pair the peer accepts (a rotation, temporary credentials): S3 knows
  // every key it issued. sessionToken, when given, must come with each request.
  addCredentials({ accessKeyId, secretAccessKey, sessionToken }) {
    this.credentials.set(accessKeyId, { secretAccessKey, sessionToken: sessionToken || null });
  }

  async start() {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-s3-'));
    this.s3rver = new S3rver({
      address: '127.0.0.1', port: 0, silent: true, directory: this.dataDir,
      configureBuckets: this.buckets.map((name) => ({ name })),
    });
    const addr = await this.s3rver.run();
    this.backendPort = addr.port;
    this.port = await this.listener.listen();
    this.endpoint = `http://127.0.0.1:${this.port}`;
    return this;
  }

  violation(rec, what) {
    const line = `${rec.method} ${rec.path}${rec.query ? `?${rec.query}` : ''}: ${what}`;
    this.violations.push(line);
    (rec.violations = rec.violations || []).push(what);
  }

  // The next n requests are answered with this S3 error (their bodies read and checked
  // first): failNext(2, { status: 503 }) -> 503 SlowDown, as S3 throttling.
  failNext(n, { status, code, message } = {}) {
    code = code || CODE_OF_STATUS[status] || 'InternalError';
    status = status || (ERRORS[code] || [500])[0];
    this.faults.push({ kind: 'fail', left: n, status, code, message });
  }

  // The next n requests see their connection destroyed after afterBytes of their body
  // (half the Content-Length by default; at once for a request without a body): a
  // connection lost mid-upload.
  resetNext(n, { afterBytes } = {}) {
    this.faults.push({ kind: 'reset', left: n, afterBytes });
  }

  // For ms milliseconds (Infinity: until stall(0)), requests are accepted and read, and
  // never answered: a server that hangs. Their connections stay open until the client
  // gives up, down() or close().
  stall(ms) {
    this.stallUntil = ms === Infinity ? Infinity : Date.now() + ms;
  }

  down() {
    for (const res of this.held) res.destroy();
    this.held.clear();
    return this.listener.down();
  }

  up() {
    return this.listener.up();
  }

  async close() {
    await this.down();
    this.agent.destroy();
    if (this.s3rver) await this.s3rver.close().catch(() => {});
    if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  // The objects of a bucket as stored: [{ key, size, etag, contentType, meta }], meta
  // holding the x-amz-meta-* headers they were stored with (names as sent, lowercased).
  async objects(bucket) {
    const { objects } = await this.s3rver.store.listObjects(bucket, {});
    return objects.filter((o) => this.stored(bucket, o.key)).map((o) => ({
      key: o.key,
      size: o.size,
      etag: o.metadata.etag,
      contentType: o.metadata['content-type'],
      meta: Object.fromEntries(Object.entries(o.metadata).filter(([k]) => k.startsWith('x-amz-meta-'))),
    }));
  }

  // Whether an upload of key completed: s3rver writes an object's metadata.json once
  // its body is all written, never for a body cut short (whose partial file it leaves).
  stored(bucket, key) {
    return fs.existsSync(this.s3rver.store.getResourcePath(bucket, key, 'metadata.json'));
  }

  // An object's content as a readable stream, or null.
  async objectStream(bucket, key) {
    if (!this.stored(bucket, key)) return null;
    const o = await this.s3rver.store.getObject(bucket, key);
    return o ? o.content : null;
  }

  // An object's content as a Buffer, or null (for small objects: a large one streams).
  async getObject(bucket, key) {
    const stream = await this.objectStream(bucket, key);
    if (!stream) return null;
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return Buffer.concat(chunks);
  }

  // Multipart uploads begun and neither completed nor aborted: [{ uploadId, key }].
  uploads(bucket) {
    const dir = this.uploadsDir(bucket);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((uploadId) => ({
      uploadId,
      key: fs.readFileSync(path.join(dir, uploadId, 'key'), 'utf8'),
    }));
  }

  // Where s3rver 3.7.1 keeps a bucket's multipart uploads (its FilesystemStore).
  uploadsDir(bucket) {
    return this.s3rver.store.getResourcePath(bucket, undefined, 'uploads');
  }

  takeFault() {
    if (Date.now() < this.stallUntil) return { kind: 'stall' };
    const f = this.faults[0];
    if (!f) return null;
    if (--f.left <= 0) this.faults.shift();
    return f;
  }

  // S3's rules for CompleteMultipartUpload's list: parts in ascending order, each uploaded
  // with that ETag, each but the last at least 5 MiB. Returns null or { code, why }.
  checkParts(bucket, uploadId, xml) {
    const dir = path.join(this.uploadsDir(bucket), path.basename(uploadId));
    const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      number: Number((/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]) || [])[1]),
      etag: ((/<ETag>([^<]*)<\/ETag>/.exec(m[1]) || [])[1] || '').replace(/&quot;|"/g, ''),
    }));
    if (!parts.length || parts.some((p) => !Number.isInteger(p.number))) return { code: 'MalformedXML', why: `a CompleteMultipartUpload body S3 cannot read: ${xml.slice(0, 200)}` };
    for (let i = 1; i < parts.length; i++) {
      if (parts[i].number <= parts[i - 1].number) return { code: 'InvalidPartOrder', why: `parts listed out of order (${parts.map((p) => p.number)})` };
    }
    for (const [i, p] of parts.entries()) {
      const file = path.join(dir, String(p.number));
      let md5 = null;
      try { md5 = fs.readFileSync(`${file}.md5`, 'utf8'); } catch { /* never uploaded */ }
      if (md5 === null || md5 !== p.etag) return { code: 'InvalidPart', why: `part ${p.number}: ${md5 === null ? 'never uploaded' : `ETag ${p.etag}, uploaded as ${md5}`}` };
      const size = fs.statSync(file).size;
      if (i < parts.length - 1 && size < MIN_PART_SIZE) return { code: 'EntityTooSmall', why: `part ${p.number} of ${size} bytes, not the last: S3's minimum is 5 MiB` };
    }
    return null;
  }

  // --- one request ---------------------------------------------------------------------

  handle(req, res) {
    const q = req.url.indexOf('?');
    const rec = {
      method: req.method,
      path: q < 0 ? req.url : req.url.slice(0, q),
      query: q < 0 ? '' : req.url.slice(q + 1),
      headers: req.headers,
      status: null,
      signatureOk: null,
      payloadHashOk: null,
      bytes: 0,
      startedAt: Date.now(),    // ms: when the request came in, and (finish) when it was answered
      answeredAt: null,
    };
    this.requests.push(rec);
    res.on('finish', () => { rec.status = res.statusCode; rec.answeredAt = Date.now(); });

    const fault = this.takeFault();
    if (fault && fault.kind === 'reset') return this.reset(req, rec, fault);
    if (fault && fault.kind === 'stall') {
      rec.fault = 'stall';
      this.held.add(res);
      req.resume();
      return;
    }

    const where = route(req);
    if (where) Object.assign(rec, { style: where.style, bucket: where.bucket, key: where.key });
    const denied = where ? this.verify(req, rec) : { code: 'InvalidURI', why: 'the path does not percent-decode' };
    rec.signatureOk = !denied;
    if (denied) this.violation(rec, denied.why);

    // S3 refuses a PUT without a length (a chunked PutObject or UploadPart): 411.
    let refused = denied;
    if (!refused && req.method === 'PUT' && req.headers['content-length'] === undefined) {
      refused = { code: 'MissingContentLength', why: 'a PUT without Content-Length (S3 answers 411)' };
      this.violation(rec, refused.why);
    }

    if (fault && fault.kind === 'fail') {
      rec.fault = 'fail';
      return this.drain(req, rec).then((ok) => ok && sendError(req, res, fault.code, fault.message, { status: fault.status }));
    }
    if (refused) {
      return this.drain(req, rec).then((ok) => ok && sendError(req, res, refused.code, refused.message, refused.extra));
    }
    return this.serve(req, res, rec, where);
  }

  // Read part of the body, then cut the connection.
  reset(req, rec, fault) {
    rec.fault = 'reset';
    const length = Number(req.headers['content-length'] || 0);
    const after = fault.afterBytes !== undefined ? fault.afterBytes : Math.max(1, Math.floor(length / 2));
    const cut = () => req.socket.destroy();
    if (!length && req.headers['transfer-encoding'] === undefined) return cut();
    req.on('data', (d) => {
      rec.bytes += d.length;
      if (rec.bytes >= after) cut();
    });
    req.on('end', cut);
  }

  // Check a request's signature as S3 does. Returns null when it is right, or what S3
  // answers: { code, message, extra, why } (why: the violation, in words).
  verify(req, rec) {
    const h = headerMap(req);
    if ('X-Amz-Algorithm' in Object.fromEntries(new URLSearchParams(rec.query))) {
      return { code: 'NotImplemented', message: 'presigned URLs: not supported by this test peer', why: 'a presigned (query-signed) request' };
    }
    if (!h.authorization) return { code: 'AccessDenied', why: 'an unsigned request (no Authorization header)' };
    const auth = parseAuthorization(h.authorization);
    if (!auth) return { code: 'AuthorizationHeaderMalformed', why: `a malformed Authorization header: ${h.authorization}` };
    rec.accessKeyId = auth.accessKeyId;
    const cred = this.credentials.get(auth.accessKeyId);
    if (!cred) return { code: 'InvalidAccessKeyId', extra: { AWSAccessKeyId: auth.accessKeyId }, why: `an unknown access key id ${auth.accessKeyId}` };
    if (auth.region !== this.region) {
      return { code: 'AuthorizationHeaderMalformed', message: `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${this.region}'`, extra: { Region: this.region }, why: `signed for region ${auth.region}, not ${this.region}` };
    }
    if (auth.service !== 's3' || auth.terminator !== 'aws4_request') {
      return { code: 'AuthorizationHeaderMalformed', why: `a credential scope for ${auth.service}/${auth.terminator}, not s3/aws4_request` };
    }

    // The time: x-amz-date in ISO 8601 basic form, the scope's date its first 8 digits,
    // within 15 minutes of the server's clock.
    const amzDate = h['x-amz-date'];
    if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
      return { code: 'AccessDenied', message: 'AWS authentication requires a valid Date or x-amz-date header', why: `no valid x-amz-date (${amzDate})` };
    }
    if (amzDate.slice(0, 8) !== auth.date) {
      return { code: 'AuthorizationHeaderMalformed', message: 'Invalid credential date. Date is not the same as X-Amz-Date.', why: `a credential date ${auth.date} that is not x-amz-date's ${amzDate}` };
    }
    const when = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`);
    if (Math.abs(Date.now() - when) > MAX_SKEW_MS) {
      return { code: 'RequestTimeTooSkewed', extra: { RequestTime: amzDate, ServerTime: new Date().toISOString() }, why: `x-amz-date ${amzDate} more than 15 minutes off` };
    }

    // The payload hash: S3 requires x-amz-content-sha256 with SigV4 (curl 7.88 does not
    // add it by itself).
    const payload = h['x-amz-content-sha256'];
    if (payload === undefined) return { code: 'InvalidRequest', message: 'Missing required header for this request: x-amz-content-sha256', why: 'no x-amz-content-sha256 header' };
    if (/^STREAMING-/.test(payload)) return { code: 'NotImplemented', message: `${payload}: not supported by this test peer`, why: `a streaming payload signature (${payload})` };
    if (payload !== 'UNSIGNED-PAYLOAD' && !HEX64.test(payload)) {
      return { code: 'InvalidArgument', message: 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.', why: `x-amz-content-sha256 is ${payload}` };
    }

    // What must be signed: the Host, and every x-amz-* header sent (S3 answers
    // "There were headers present in the request which were not signed").
    const signed = new Set(auth.signedHeaders);
    if (!signed.has('host')) return { code: 'AccessDenied', message: 'Host header is not signed', why: 'the Host header is not signed' };
    const unsigned = Object.keys(h).filter((k) => k.startsWith('x-amz-') && !signed.has(k));
    if (unsigned.length) {
      return { code: 'AccessDenied', message: 'There were headers present in the request which were not signed', extra: { HeadersNotSigned: unsigned.join(', ') }, why: `headers not signed: ${unsigned.join(', ')}` };
    }
    const missing = auth.signedHeaders.filter((k) => !(k in h));
    if (missing.length) return { code: 'SignatureDoesNotMatch', why: `SignedHeaders names headers not sent: ${missing.join(', ')}` };

    // Temporary credentials: the session token comes with each request (signed, above).
    const token = h['x-amz-security-token'];
    if ((cred.sessionToken || token !== undefined) && token !== cred.sessionToken) {
      return { code: 'InvalidToken', why: cred.sessionToken ? (token === undefined ? 'no x-amz-security-token for temporary credentials' : 'an x-amz-security-token that is not the one issued') : 'an x-amz-security-token for credentials that have none' };
    }

    // The signature itself, recomputed by aws4 over the request as received.
    const expected = this.sign(req, h, auth, cred, amzDate);
    rec.canonicalRequest = expected.canonicalRequest;
    if (expected.error) return { code: 'InvalidURI', why: expected.error };
    if (auth.signature !== expected.signature) {
      return {
        code: 'SignatureDoesNotMatch',
        extra: { AWSAccessKeyId: auth.accessKeyId, StringToSign: expected.stringToSign, CanonicalRequest: expected.canonicalRequest },
        why: `signature mismatch; the canonical request S3 computes is:\n${expected.canonicalRequest}`,
      };
    }
    return null;
  }

  // The signature S3 computes for this request, by aws4. S3's rules, which aws4 applies
  // for service "s3": the canonical URI is the path as sent, each segment decoded and
  // encoded once (RFC 3986, uppercase hex; '/' kept), never twice nor normalised; the
  // query sorted and encoded the same way; the canonical headers exactly those the
  // Authorization header lists; the payload hash the x-amz-content-sha256 header.
  sign(req, h, auth, cred, amzDate) {
    const q = req.url.indexOf('?');
    // aws4 reads a raw '+' in a path as a space (form encoding); in S3's path it is a
    // '+', which the canonical URI encodes as %2B.
    const urlPath = (q < 0 ? req.url : req.url.slice(0, q)).replace(/\+/g, '%2B') + (q < 0 ? '' : req.url.slice(q));
    const signed = Object.fromEntries(auth.signedHeaders.map((k) => [k, true]));
    const notSigned = Object.fromEntries(Object.keys(h).filter((k) => !signed[k]).map((k) => [k, true]));
    try {
      const signer = new aws4.RequestSigner({
        method: req.method, host: h.host, path: urlPath, headers: h, service: 's3', region: this.region,
        doNotModifyHeaders: true, extraHeadersToInclude: signed, extraHeadersToIgnore: notSigned,
      }, { accessKeyId: auth.accessKeyId, secretAccessKey: cred.secretAccessKey });
      signer.datetime = amzDate;
      const canonicalRequest = signer.canonicalString();
      return { canonicalRequest, stringToSign: signer.stringToSign(), signature: signer.signature() };
    } catch (e) {
      return { error: `the URI does not decode (${e.message})`, signature: '' };
    }
  }

  // Read a body to its end, checking its hash; passes each chunk to sink (a writable),
  // with its backpressure, when one is given. Resolves true at its end, false when the
  // client went away first.
  drain(req, rec, sink = null) {
    const want = req.headers['x-amz-content-sha256'];
    const hash = crypto.createHash('sha256');
    return new Promise((resolve) => {
      let ended = false;
      req.on('data', (d) => {
        hash.update(d);
        rec.bytes += d.length;
        if (sink && !sink.write(d)) {
          req.pause();
          sink.once('drain', () => req.resume());
        }
      });
      req.on('end', () => {
        ended = true;
        if (want && HEX64.test(want)) {
          const got = hash.digest('hex');
          rec.payloadHashOk = got === want;
          if (!rec.payloadHashOk) this.violation(rec, `x-amz-content-sha256 ${want} but the body's SHA-256 is ${got} (${rec.bytes} bytes)`);
        }
        resolve(true);
      });
      req.on('close', () => {
        if (!ended) {
          rec.aborted = true;
          resolve(false);
        }
      });
    });
  }

  // A request signed right: answered here (AbortMultipartUpload, which s3rver 3.7.1 does
  // not implement) or forwarded to s3rver path-style, its body streamed through while it
  // is hashed, s3rver's answer held until the hash is known.
  async serve(req, res, rec, where) {
    const query = new URLSearchParams(rec.query);
    const uploadId = query.get('uploadId');
    if (uploadId !== null) {
      const dir = path.join(this.uploadsDir(where.bucket), path.basename(uploadId));
      if (!fs.existsSync(dir)) {
        await this.drain(req, rec);
        return sendError(req, res, 'NoSuchUpload', undefined, { UploadId: uploadId });
      }
      if (req.method === 'DELETE') {
        await this.drain(req, rec);
        fs.rmSync(dir, { recursive: true, force: true });
        res.writeHead(204);
        return res.end();
      }
    }

    // CompleteMultipartUpload: its XML is small; read it whole and check the parts as
    // S3 does (s3rver 3.7.1 checks none of it).
    let completeBody = null;
    if (req.method === 'POST' && uploadId !== null) {
      const chunks = [];
      let size = 0;
      const complete = await this.drain(req, rec, { write: (d) => { size += d.length; if (size <= MAX_COMPLETE_XML) chunks.push(d); return true; } });
      if (!complete) return;
      if (rec.payloadHashOk === false) return sendError(req, res, 'XAmzContentSHA256Mismatch');
      if (size > MAX_COMPLETE_XML) return sendError(req, res, 'MaxMessageLengthExceeded', undefined, { status: 400 });
      completeBody = Buffer.concat(chunks);
      const wrong = this.checkParts(where.bucket, uploadId, completeBody.toString('utf8'));
      if (wrong) {
        this.violation(rec, wrong.why);
        return sendError(req, res, wrong.code);
      }
    }

    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i].toLowerCase();
      // s3rver does not check signatures; without Authorization it takes the request as
      // anonymous and does not look up the key (its registry knows only its own).
      if (k === 'authorization' || k === 'host' || k === 'expect' || k === 'connection') continue;
      headers[k] = k in headers ? `${headers[k]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
    }
    headers.host = `127.0.0.1:${this.backendPort}`;
    const up = http.request({ agent: this.agent, host: '127.0.0.1', port: this.backendPort, method: req.method, path: where.pathStyleUrl, headers });
    const answer = new Promise((resolve, reject) => {
      up.on('response', resolve);
      up.on('error', reject);
    });
    answer.catch(() => {});

    if (completeBody) {
      up.end(completeBody);
      return this.relay(res, answer);
    }
    const complete = await this.drain(req, rec, up);
    const putObject = req.method === 'PUT' && uploadId === null && where.key;
    if (!complete || rec.payloadHashOk === false) {
      // S3 stores nothing of a body cut short or with the wrong hash: s3rver must not
      // see its end. (s3rver wrote into the object's file as the bytes came: the
      // partial object is removed, and with it any earlier version of that key, which
      // S3 would have kept.)
      up.destroy();
      if (putObject) await this.s3rver.store.deleteObject(where.bucket, where.key).catch(() => {});
      if (!complete) return;
      return sendError(req, res, 'XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: req.headers['x-amz-content-sha256'],
        S3ComputedContentSHA256: '(see the test peer\'s violations)',
      });
    }
    up.end();
    return this.relay(res, answer);
  }

  // s3rver's answer, as it is, to the client.
  async relay(res, answer) {
    let ures;
    try {
      ures = await answer;
    } catch (e) {
      return sendError(res.req, res, 'InternalError', `the test peer's s3rver failed: ${e.message}`);
    }
    const out = [];
    for (let i = 0; i < ures.rawHeaders.length; i += 2) {
      if (!/^(connection|keep-alive)$/i.test(ures.rawHeaders[i])) out.push(ures.rawHeaders[i], ures.rawHeaders[i + 1]);
    }
    res.writeHead(ures.statusCode, out);
    ures.pipe(res);
  }
}

// Start an S3 peer: { region, accessKeyId, secretAccessKey, sessionToken, buckets,
// credentials: [more key pairs] }. Resolves to the S3Peer, listening:
//   .port, .endpoint          "http://127.0.0.1:PORT"; virtual-hosted: BUCKET.localhost:PORT
//   .requests                 [{ method, path (as sent), query (as sent, no '?'), headers,
//                             status (null: never answered), signatureOk, payloadHashOk
//                             (null: UNSIGNED-PAYLOAD or not checked), bytes (of body read),
//                             style ('path'|'virtual'), bucket, key (decoded), accessKeyId,
//                             canonicalRequest (what S3 computes), fault ('fail'|'reset'|
//                             'stall'), aborted (the client went away), violations }]
//   .violations               ["METHOD /path?query: what was wrong", ...]
//   .objects(bucket)          [{ key, size, etag, contentType, meta: { 'x-amz-meta-*': v } }]
//   .getObject(bucket, key)   Buffer or null; .objectStream(bucket, key) a stream or null
//   .uploads(bucket)          multipart uploads still open: [{ uploadId, key }]
//   .failNext(n, { status, code, message }), .resetNext(n, { afterBytes }), .stall(ms),
//   .down(), .up(), .addCredentials({...}), .close()
async function startS3(opts = {}) {
  const peer = new S3Peer(opts);
  try {
    return await peer.start();
  } catch (e) {
    await peer.close().catch(() => {});
    throw e;
  }
}

module.exports = { startS3, S3Peer, ERRORS };
