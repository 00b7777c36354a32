// A test-only fake of Grafana Pyroscope's ingest endpoint. No Pyroscope server is
// packaged for Debian or npm (nor can a release binary be fetched here), hence this fake:
// it checks each request as Pyroscope's server reads it and records what it would store.
//
// What Pyroscope's HTTP API defines (docs: "Pyroscope server HTTP API", POST /ingest),
// and what its server code does with a pprof upload (pkg/og/convert/pprof: the body is a
// multipart form whose *file* fields are read: "profile", optionally "prev_profile" and
// "sample_type_config"), and what grafana/pyroscope-nodejs sends (POST /ingest?name=
// APP{labels}&from=S&until=S&spyName=nodespy[&sampleRate=N], one part
// name="profile"; filename="profile", a gzipped pprof):
//   - name is required: "app.name{key=value,key2=value2}";
//   - from and until are required, in unix seconds;
//   - format absent or "pprof" (a multipart body is read as pprof either way);
//   - the profile part must carry a filename: Go's multipart reader files only those, a
//     part without one is a form value, and Pyroscope then ingests nothing (answering
//     200 all the same);
//   - the pprof may be gzipped or not; at most 4 MiB decompressed and 16 000 samples
//     (validation.max-profile-size-bytes, validation.max-profile-stacktrace-samples);
//   - authentication is a reverse proxy's (basic or bearer); multi-tenant mode requires
//     X-Scope-OrgID and answers 401 "no org id" without it.
// Anything else wrong in a request is answered 400 and recorded in .violations.
'use strict';
const zlib = require('node:zlib');
const { need } = require('./deps');
const { Listener } = require('./listener');

const pprof = need('pprof-format');

const MAX_BODY = 64 * 1024 * 1024;            // read whole; the fake's own bound
const MAX_PROFILE_BYTES = 4 * 1024 * 1024;    // Pyroscope's default, decompressed
const MAX_SAMPLES = 16000;                    // Pyroscope's default
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_.]*$/;

// "app.cpu{env=staging,region=us-west-1}" -> { app, labels } or throws.
function parseName(name) {
  const m = /^([^{}]+)(?:\{([^{}]*)\})?$/.exec(name);
  if (!m) throw new Error(`name ${JSON.stringify(name)} is not app{key=value,...}`);
  const labels = {};
  for (const pair of (m[2] || '').split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new Error(`label ${JSON.stringify(pair)} has no "="`);
    const k = pair.slice(0, eq).trim();
    if (!LABEL_NAME.test(k)) throw new Error(`label name ${JSON.stringify(k)} is not valid`);
    if (k in labels) throw new Error(`label ${k} given twice`);
    labels[k] = pair.slice(eq + 1).trim();
  }
  return { app: m[1], labels };
}

// The parts of a multipart/form-data body: [{ name, filename, contentType, data }], or
// throws on a body Go's mime/multipart would refuse (no closing delimiter, and so on).
function parseMultipart(body, boundary) {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error('no multipart delimiter');
  const parts = [];
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) throw new Error('a multipart delimiter line without CRLF');
    const headEnd = body.indexOf('\r\n\r\n', lineEnd);
    if (headEnd < 0) throw new Error('a multipart part without a header/body separator');
    const headers = {};
    for (const line of body.subarray(lineEnd + 2, headEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const end = body.indexOf(next, headEnd + 4);
    if (end < 0) throw new Error('a multipart body without its closing delimiter');
    const disposition = headers['content-disposition'] || '';
    if (!/^form-data\b/i.test(disposition)) throw new Error(`a part whose Content-Disposition is ${JSON.stringify(disposition)}`);
    const param = (k) => { const m = new RegExp(`\\b${k}="([^"]*)"`).exec(disposition); return m ? m[1] : null; };
    parts.push({ name: param('name'), filename: param('filename'), contentType: headers['content-type'] || null, data: body.subarray(headEnd + 4, end) });
    pos = end + 2;
  }
}

// What a decoded pprof holds, checked as a pprof reader must (every index in range).
// Returns the summary, or throws with what is wrong.
function summarize(profile) {
  const strings = profile.stringTable.strings;
  const str = (i, what) => {
    i = Number(i);
    if (!(i >= 0 && i < strings.length)) throw new Error(`${what}: string index ${i} out of range (${strings.length} strings)`);
    return strings[i];
  };
  if (strings[0] !== '') throw new Error('string_table[0] is not ""');
  const sampleTypes = profile.sampleType.map((t, i) => [str(t.type, `sample_type[${i}].type`), str(t.unit, `sample_type[${i}].unit`)]);
  if (!sampleTypes.length) throw new Error('no sample_type');
  const functions = new Map();
  for (const f of profile.function) {
    if (!Number(f.id)) throw new Error('a function with id 0');
    functions.set(Number(f.id), { name: str(f.name, `function ${f.id} name`), systemName: str(f.systemName, `function ${f.id} system_name`), filename: str(f.filename, `function ${f.id} filename`), line: Number(f.startLine) });
  }
  const locations = new Map();
  for (const l of profile.location) {
    if (!Number(l.id)) throw new Error('a location with id 0');
    for (const line of l.line) {
      if (!functions.has(Number(line.functionId))) throw new Error(`location ${l.id} names function ${line.functionId}, which is not in the profile`);
    }
    locations.set(Number(l.id), l);
  }
  const totals = Object.fromEntries(sampleTypes.map(([t]) => [t, 0]));
  const self = sampleTypes.map(() => new Map());
  profile.sample.forEach((s, i) => {
    if (s.value.length !== sampleTypes.length) throw new Error(`sample ${i} has ${s.value.length} values for ${sampleTypes.length} sample types`);
    for (const id of s.locationId) if (!locations.has(Number(id))) throw new Error(`sample ${i} names location ${id}, which is not in the profile`);
    for (const lab of s.label) str(lab.key, `sample ${i} label key`);
    // The leaf: the first location, its first (innermost) line.
    const leaf = s.locationId.length ? locations.get(Number(s.locationId[0])) : null;
    const fn = leaf && leaf.line.length ? functions.get(Number(leaf.line[0].functionId)).name : '(unknown)';
    s.value.forEach((v, j) => {
      totals[sampleTypes[j][0]] += Number(v);
      self[j].set(fn, (self[j].get(fn) || 0) + Number(v));
    });
  });
  const selfByType = Object.fromEntries(sampleTypes.map(([t], j) => [t, [...self[j]].sort((a, b) => b[1] - a[1])]));
  return {
    sampleTypes,
    periodType: profile.periodType ? [str(profile.periodType.type, 'period_type.type'), str(profile.periodType.unit, 'period_type.unit')] : null,
    period: Number(profile.period),
    samples: profile.sample.length,
    totals,
    self: selfByType,
    top: selfByType[sampleTypes[0][0]][0] || null,
    functions: [...functions.values()],
  };
}

class PyroscopePeer {
  constructor({ basicAuth, bearer, tenant } = {}) {
    // basicAuth: { user, password } or "user:password".
    if (basicAuth && typeof basicAuth === 'object') basicAuth = `${basicAuth.user}:${basicAuth.password}`;
    this.authorization = basicAuth ? `Basic ${Buffer.from(basicAuth).toString('base64')}` : bearer ? `Bearer ${bearer}` : null;
    this.tenant = tenant || null;
    this.requests = [];
    this.profiles = [];
    this.violations = [];
    this.faults = [];
    this.listener = new Listener((req, res) => this.handle(req, res));
  }

  async start() {
    this.port = await this.listener.listen();
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  // The next n requests are read and answered with status (500, 503, 429...).
  failNext(n, status = 503) {
    this.faults.push({ left: n, status });
  }

  down() { return this.listener.down(); }
  up() { return this.listener.up(); }
  close() { return this.listener.close(); }

  // The self value of each function in a recorded profile, by a sample type's name (the
  // first sample type when none is named), largest first: [[function, value], ...].
  top(profile, type) {
    return profile.self[type || profile.sampleTypes[0][0]] || [];
  }

  violation(rec, what) {
    this.violations.push(`${rec.method} ${rec.url}: ${what}`);
    (rec.violations = rec.violations || []).push(what);
  }

  reject(res, rec, status, what) {
    this.violation(rec, what);
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(`${what}\n`);
  }

  handle(req, res) {
    const rec = { method: req.method, url: req.url, headers: req.headers, status: null, bytes: 0 };
    this.requests.push(rec);
    res.on('finish', () => { rec.status = res.statusCode; });
    const chunks = [];
    let tooBig = false;
    req.on('data', (d) => {
      rec.bytes += d.length;
      if (rec.bytes > MAX_BODY) tooBig = true;
      else chunks.push(d);
    });
    req.on('end', () => {
      const fault = this.faults[0];
      if (fault) {
        if (--fault.left <= 0) this.faults.shift();
        rec.fault = fault.status;
        res.writeHead(fault.status, { 'Content-Type': 'text/plain' });
        return res.end(`injected ${fault.status}\n`);
      }
      if (tooBig) return this.reject(res, rec, 413, `a body over ${MAX_BODY} bytes`);
      this.ingest(req, res, rec, Buffer.concat(chunks));
    });
  }

  ingest(req, res, rec, body) {
    const url = new URL(req.url, 'http://peer');
    if (url.pathname !== '/ingest') return this.reject(res, rec, 404, `${url.pathname}: not /ingest`);
    if (req.method !== 'POST') return this.reject(res, rec, 405, `${req.method}: ingest takes POST`);

    // The reverse proxy's authentication, then the tenant (dskit: 401 "no org id").
    if (this.authorization && req.headers.authorization !== this.authorization) {
      return this.reject(res, rec, 401, req.headers.authorization ? 'wrong Authorization' : 'no Authorization');
    }
    const tenant = req.headers['x-scope-orgid'];
    if (this.tenant && !tenant) return this.reject(res, rec, 401, 'no org id (X-Scope-OrgID missing)');
    if (this.tenant && tenant !== this.tenant) this.violation(rec, `sent to tenant ${tenant}, not ${this.tenant}`);

    const q = url.searchParams;
    let series;
    try {
      if (!q.get('name')) throw new Error('no name');
      series = parseName(q.get('name'));
    } catch (e) {
      return this.reject(res, rec, 400, e.message);
    }
    const times = {};
    for (const k of ['from', 'until']) {
      const v = q.get(k);
      if (!/^\d+$/.test(v || '')) return this.reject(res, rec, 400, `${k}=${v}: not unix seconds`);
      times[k] = Number(v);
      // Seconds, not milliseconds: between 2001 and a day from now.
      if (times[k] < 1e9 || times[k] > Date.now() / 1000 + 86400) return this.reject(res, rec, 400, `${k}=${v}: not a time in unix seconds`);
    }
    if (times.until < times.from) return this.reject(res, rec, 400, `until ${times.until} before from ${times.from}`);
    const format = q.get('format');
    if (format !== null && format !== 'pprof') return this.reject(res, rec, 400, `format=${format}: this fake reads pprof only`);
    const sampleRate = q.get('sampleRate');
    if (sampleRate !== null && !/^[1-9]\d*$/.test(sampleRate)) return this.reject(res, rec, 400, `sampleRate=${sampleRate}: not a positive integer`);

    const ct = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] || '');
    if (!ct) return this.reject(res, rec, 400, `Content-Type ${req.headers['content-type']}: not multipart/form-data with a boundary`);
    let parts;
    try {
      parts = parseMultipart(body, ct[1] || ct[2]);
    } catch (e) {
      return this.reject(res, rec, 400, `multipart: ${e.message}`);
    }
    const part = parts.find((p) => p.name === 'profile');
    if (!part) return this.reject(res, rec, 400, `no "profile" part (parts: ${parts.map((p) => p.name)})`);
    if (part.filename === null) return this.reject(res, rec, 400, 'the "profile" part has no filename: Pyroscope reads only file parts, and would ingest nothing');
    for (const p of parts) {
      if (!['profile', 'prev_profile', 'sample_type_config'].includes(p.name)) this.violation(rec, `an unknown part "${p.name}" (ignored by Pyroscope)`);
    }

    let raw = part.data;
    const gzipped = raw[0] === 0x1f && raw[1] === 0x8b;
    try {
      if (gzipped) raw = zlib.gunzipSync(raw, { maxOutputLength: MAX_PROFILE_BYTES + 1 });
    } catch (e) {
      if (e.code === 'ERR_BUFFER_TOO_LARGE') return this.reject(res, rec, 422, `decompressed size exceeds maximum allowed size of ${MAX_PROFILE_BYTES} bytes`);
      return this.reject(res, rec, 400, `the profile does not gunzip: ${e.message}`);
    }
    if (raw.length > MAX_PROFILE_BYTES) return this.reject(res, rec, 422, `decompressed size exceeds maximum allowed size of ${MAX_PROFILE_BYTES} bytes`);
    let summary;
    try {
      summary = summarize(pprof.Profile.decode(raw));
    } catch (e) {
      return this.reject(res, rec, 400, `the profile is not a valid pprof: ${e.message}`);
    }
    if (summary.samples > MAX_SAMPLES) return this.reject(res, rec, 400, `${summary.samples} samples, over the limit of ${MAX_SAMPLES}`);

    const profile = {
      ...series,
      from: times.from,
      until: times.until,
      spyName: q.get('spyName'),
      sampleRate: sampleRate === null ? null : Number(sampleRate),
      tenant: tenant || null,
      gzipped,
      bytes: part.data.length,
      ...summary,
    };
    rec.profile = profile;
    this.profiles.push(profile);
    res.writeHead(200);
    res.end();
  }
}

// Start the fake: { basicAuth, bearer, tenant }. Resolves to the peer, listening:
//   .url                 "http://127.0.0.1:PORT" (ingest at .url + "/ingest")
//   .requests            [{ method, url, headers, status, bytes, fault, violations, profile }]
//   .profiles            what was ingested: [{ app, labels, from, until, spyName, sampleRate,
//                        tenant, gzipped, bytes, sampleTypes: [[type, unit]], periodType,
//                        period, samples, totals: { type: sum }, self: { type: [[fn, v]] },
//                        top: [fn, value] by the first sample type, functions:
//                        [{ name, systemName, filename, line }] }]
//   .violations          every malformed request, in words
//   .top(profile, type)  self values by a named sample type
//   .failNext(n, status), .down(), .up(), .close()
function startPyroscope(opts) {
  return new PyroscopePeer(opts).start();
}

module.exports = { startPyroscope, parseName, parseMultipart };
