// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A byte-at-a-time JSON state machine whose state lives in struct cdp_reader,
 * so that a fragment may end anywhere: inside a number, an escape, a UTF-8
 * sequence or a key. Runs of plain string bytes and digits are skipped in
 * inner loops. The watched value is not copied: in RAW mode the sink gets
 * spans of the fragment being fed; in STRING mode it gets spans of plain bytes
 * and, for escapes, a small bounce buffer flushed at the end of each feed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_reader.h"
#include "utf8.h"

#define BOUNCE_SIZE 4096

enum state {
	/* Between tokens, where whitespace may come: these first. */
	ST_BEGIN,               /* before the top-level '{' */
	ST_KEY_OR_CLOSE,        /* after '{' */
	ST_KEY,                 /* after ',' in an object */
	ST_COLON,               /* after a key */
	ST_VALUE,               /* after ':', or ',' in an array */
	ST_VALUE_OR_CLOSE,      /* after '[' */
	ST_NEXT,                /* after a value: ',' or its container's close */
	ST_DONE,                /* after the top-level '}': whitespace only */
	ST_STRING,
	ST_ESCAPE,              /* after '\' */
	ST_HEX,                 /* in the four digits of \uXXXX */
	ST_LOW_BACKSLASH,       /* after a high surrogate, the '\' of its low half */
	ST_LOW_U,               /* and its 'u' */
	ST_NUM_MINUS,           /* '-' */
	ST_NUM_ZERO,            /* a leading '0' */
	ST_NUM_INT,             /* [1-9][0-9]* */
	ST_NUM_DOT,             /* '.' */
	ST_NUM_FRAC,            /* '.' [0-9]+ */
	ST_NUM_E,               /* 'e' */
	ST_NUM_ESIGN,           /* 'e' and a sign */
	ST_NUM_EXP,             /* 'e' [+-]? [0-9]+ */
	ST_LITERAL,             /* true, false, null */
};

/* Members looked for, as bits: top-level ones, then members of a top-level one. */
enum {
	M_ID            = 1 << 0,
	M_METHOD        = 1 << 1,
	M_ERROR         = 1 << 2,
	M_RESULT        = 1 << 3,
	M_PARAMS        = 1 << 4,
	M_WATCH0        = 1 << 5,       /* watch.path[0] */
	M_MESSAGE       = 1 << 6,       /* error.message */
	M_WATCH1        = 1 << 7,       /* watch.path[1] */
	M_COUNT         = 8,
};
#define M_TOP (M_ID | M_METHOD | M_ERROR | M_RESULT | M_PARAMS | M_WATCH0)

/* Where the decoded bytes of the string being read go, as bits. */
enum {
	TO_KEY          = 1 << 0,       /* matched against names[] */
	TO_METHOD       = 1 << 1,
	TO_ERROR        = 1 << 2,
	TO_SINK         = 1 << 3,       /* the watched string, STRING mode */
};

struct cdp_reader {
	/* Set by begin. */
	struct cdp_reader_watch watch;
	size_t budget;
	const char *names[M_COUNT];
	size_t name_len[M_COUNT];
	unsigned names_set;             /* M_* with a name */
	unsigned watch_mask;            /* M_WATCH0 or M_WATCH1: the watched value; 0: none */

	int err;                        /* sticky */
	enum state state;
	unsigned depth;                 /* open objects and arrays */

	/* Keys and members. */
	bool in_key;
	unsigned alive;                 /* M_* the key read so far still matches */
	size_t key_len;
	unsigned pending;               /* M_* of the key just read, for its value */
	unsigned seen_top;              /* M_* met in the top-level object */
	unsigned ctx2;                  /* M_* of the member whose value is the open depth-2 object */
	unsigned seen2;                 /* M_* met in that object */

	/* Strings. */
	unsigned to;                    /* TO_* */
	unsigned char u8_need, u8_lo, u8_hi;    /* continuation bytes due, range of the next */
	unsigned char hex_n;
	uint32_t cp, high;              /* \uXXXX being read; a high surrogate waiting for its low */
	size_t method_len, error_len;

	/* Numbers and literals. */
	bool id_track, id_ok;
	uint64_t id_acc;
	const char *literal;
	unsigned char literal_i;

	/* The watched value. */
	bool watching;
	unsigned watch_depth;           /* depth its container is at */
	const unsigned char *raw_start; /* RAW: where its bytes start in the fragment being fed */
	size_t bounce_len;

	struct cdp_reader_header h;
	/* Not cleared by begin. */
	uint8_t is_array[CDP_READER_DEPTH_MAX / 8];     /* bit d: level d+1 is an array */
	char bounce[BOUNCE_SIZE];
};

static const char *const top_names[] = { "id", "method", "error", "result", "params" };

static const unsigned char is_ws[256] = { [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1 };

/* What a string holds as it is: printable ASCII but '"' and '\'. */
static const unsigned char is_plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

static inline bool is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10;
}

static int hex_digit(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

struct cdp_reader *cdp_reader__new(void)
{
	struct cdp_reader *r = calloc(1, sizeof(*r));

	if (r)
		cdp_reader__begin(r, NULL, 0);
	return r;
}

void cdp_reader__free(struct cdp_reader *r)
{
	free(r);
}

int cdp_reader__begin(struct cdp_reader *r, const struct cdp_reader_watch *watch, size_t budget)
{
	memset(r, 0, offsetof(struct cdp_reader, is_array));
	r->budget = budget;
	for (unsigned i = 0; i < sizeof(top_names) / sizeof(top_names[0]); i++) {
		r->names[i] = top_names[i];
		r->name_len[i] = strlen(top_names[i]);
	}
	r->names[6] = "message";
	r->name_len[6] = strlen("message");
	r->names_set = M_TOP & ~M_WATCH0;
	r->names_set |= M_MESSAGE;
	if (!watch || !watch->path[0])
		return 0;

	if (!watch->sink || (watch->mode != CDP_READER_RAW && watch->mode != CDP_READER_STRING))
		return r->err = -EINVAL;
	r->watch = *watch;
	r->names[5] = watch->path[0];
	r->name_len[5] = strlen(watch->path[0]);
	r->names_set |= M_WATCH0;
	r->watch_mask = M_WATCH0;
	if (watch->path[1]) {
		r->names[7] = watch->path[1];
		r->name_len[7] = strlen(watch->path[1]);
		r->names_set |= M_WATCH1;
		r->watch_mask = M_WATCH1;
	}
	return 0;
}

static int sink(struct cdp_reader *r, const void *buf, size_t len)
{
	int rc;

	if (len == 0)
		return 0;
	r->h.watched_bytes += len;
	rc = r->watch.sink(r->watch.ctx, buf, len);
	return rc < 0 ? rc : 0;
}

static int flush_bounce(struct cdp_reader *r)
{
	size_t n = r->bounce_len;

	r->bounce_len = 0;
	return sink(r, r->bounce, n);
}

/* Decoded bytes of the string being read, to wherever r->to says. */
static int emit(struct cdp_reader *r, const char *s, size_t n)
{
	int rc;

	if (r->to & TO_KEY) {
		for (unsigned m = r->alive; m; m &= m - 1) {
			int i = __builtin_ctz(m);

			if (n > r->name_len[i] - r->key_len || memcmp(r->names[i] + r->key_len, s, n) != 0)
				r->alive &= ~(1u << i);
		}
		r->key_len += n;
		if (!r->alive)
			r->to &= ~TO_KEY;
	}
	if (r->to & TO_METHOD) {
		if (n > CDP_READER_METHOD_MAX - 1 - r->method_len || memchr(s, '\0', n))
			return -EPROTO;
		memcpy(r->h.method + r->method_len, s, n);
		r->method_len += n;
	}
	if (r->to & TO_ERROR) {
		size_t room = CDP_READER_ERROR_MAX - 1 - r->error_len;

		if (n > room)
			r->h.error_truncated = true;
		memcpy(r->h.error + r->error_len, s, n < room ? n : room);
		r->error_len += n < room ? n : room;
	}
	if (r->to & TO_SINK) {
		if (n > BOUNCE_SIZE - r->bounce_len && (rc = flush_bounce(r)) < 0)
			return rc;
		if (n >= BOUNCE_SIZE)
			return sink(r, s, n);
		memcpy(r->bounce + r->bounce_len, s, n);
		r->bounce_len += n;
	}
	return 0;
}

static int emit_code_point(struct cdp_reader *r, uint32_t cp)
{
	char u[UTF8_MAX];

	return emit(r, u, utf8_encode(cp, u));
}

/* The lead byte of a multi-byte UTF-8 sequence (RFC 3629's table): what must follow. */
static int utf8_lead(struct cdp_reader *r, unsigned char c)
{
	if (c < 0xc2 || c > 0xf4)
		return -EPROTO;
	r->u8_lo = 0x80;
	r->u8_hi = 0xbf;
	if (c < 0xe0) {
		r->u8_need = 1;
	} else if (c < 0xf0) {
		r->u8_need = 2;
		if (c == 0xe0)
			r->u8_lo = 0xa0;        /* overlong */
		else if (c == 0xed)
			r->u8_hi = 0x9f;        /* a surrogate */
	} else {
		r->u8_need = 3;
		if (c == 0xf0)
			r->u8_lo = 0x90;        /* overlong */
		else if (c == 0xf4)
			r->u8_hi = 0x8f;        /* beyond U+10FFFF */
	}
	return 0;
}

/* A value ended just before after. */
static int value_end(struct cdp_reader *r, const unsigned char *after)
{
	int rc = 0;

	if (r->watching && r->depth == r->watch_depth) {
		r->watching = false;
		if (r->watch.mode == CDP_READER_RAW)
			rc = sink(r, r->raw_start, (size_t)(after - r->raw_start));
		else
			rc = flush_bounce(r);
	}
	r->state = r->depth ? ST_NEXT : ST_DONE;
	return rc;
}

static int number_end(struct cdp_reader *r, const unsigned char *after)
{
	if (r->id_track) {
		r->id_track = false;
		if (r->id_ok) {
			r->h.has_id = true;
			r->h.id = (int)r->id_acc;
		} else {
			r->h.id_invalid = true;
		}
	}
	return value_end(r, after);
}

static void id_digit(struct cdp_reader *r, unsigned char c)
{
	if (!r->id_track)
		return;
	r->id_acc = r->id_acc * 10 + (uint64_t)(c - '0');
	if (r->id_acc > INT_MAX) {
		r->id_ok = false;
		r->id_acc = INT_MAX;    /* no overflow however long */
	}
}

static inline bool top_is_array(const struct cdp_reader *r)
{
	unsigned d = r->depth - 1;

	return r->is_array[d / 8] >> (d % 8) & 1;
}

static int open_container(struct cdp_reader *r, bool array, unsigned member)
{
	unsigned d = r->depth;

	if (d == CDP_READER_DEPTH_MAX)
		return -EPROTO;
	if (array)
		r->is_array[d / 8] |= (uint8_t)(1u << d % 8);
	else
		r->is_array[d / 8] &= (uint8_t)~(1u << d % 8);
	r->depth = d + 1;
	if (r->depth == 2) {
		r->ctx2 = member;
		r->seen2 = 0;
	}
	r->state = array ? ST_VALUE_OR_CLOSE : ST_KEY_OR_CLOSE;
	return 0;
}

static int close_container(struct cdp_reader *r, const unsigned char *p)
{
	if ((*p == ']') != top_is_array(r))
		return -EPROTO;
	r->depth--;
	return value_end(r, p + 1);
}

static void key_begin(struct cdp_reader *r)
{
	unsigned alive = 0;

	if (r->depth == 1) {
		alive = M_TOP;
	} else if (r->depth == 2) {
		if (r->ctx2 & M_ERROR)
			alive |= M_MESSAGE;
		if (r->ctx2 & M_WATCH0)
			alive |= M_WATCH1;
	}
	r->alive = alive & r->names_set;
	r->key_len = 0;
	r->in_key = true;
	r->to = r->alive ? TO_KEY : 0;
	r->state = ST_STRING;
}

static int key_end(struct cdp_reader *r)
{
	unsigned matched = 0, *seen = r->depth == 1 ? &r->seen_top : &r->seen2;

	if (r->to & TO_KEY)
		for (unsigned m = r->alive; m; m &= m - 1)
			if (r->name_len[__builtin_ctz(m)] == r->key_len)
				matched |= m & -m;
	if (matched & *seen)
		return -EPROTO;
	*seen |= matched;
	r->pending = matched;
	r->in_key = false;
	r->to = 0;
	r->state = ST_COLON;
	return 0;
}

/* The first byte of a value, at p. */
static int value_begin(struct cdp_reader *r, const unsigned char *p)
{
	unsigned char c = *p;
	unsigned m = r->pending;
	bool watch = m & r->watch_mask;
	bool number = c == '-' || is_digit(c);

	r->pending = 0;
	if (m & M_ERROR)
		r->h.has_error = true;
	if (m & M_RESULT)
		r->h.has_result = true;
	if (m & M_PARAMS)
		r->h.has_params = true;
	if (m & M_ID) {
		if (number) {
			r->id_track = true;
			r->id_ok = c != '-';
			r->id_acc = 0;
		} else {
			r->h.id_invalid = true;
		}
	}
	if (watch) {
		r->h.watched_seen = true;
		if (r->watch.mode == CDP_READER_STRING && c != '"')
			return -EPROTO;
		r->watching = true;
		r->watch_depth = r->depth;
		r->raw_start = p;
	}

	if (number) {
		id_digit(r, c);
		r->state = c == '-' ? ST_NUM_MINUS : c == '0' ? ST_NUM_ZERO : ST_NUM_INT;
		return 0;
	}
	switch (c) {
	case '{':
		return open_container(r, false, m);
	case '[':
		return open_container(r, true, m);
	case '"':
		r->in_key = false;
		r->to = 0;
		if (m & M_METHOD) {
			r->h.has_method = true;
			r->to |= TO_METHOD;
		}
		if (m & M_MESSAGE)
			r->to |= TO_ERROR;
		if (watch && r->watch.mode == CDP_READER_STRING)
			r->to |= TO_SINK;
		r->state = ST_STRING;
		return 0;
	case 't':
		r->literal = "true";
		break;
	case 'f':
		r->literal = "false";
		break;
	case 'n':
		r->literal = "null";
		break;
	default:
		return -EPROTO;
	}
	r->literal_i = 1;
	r->state = ST_LITERAL;
	return 0;
}

static int string_end(struct cdp_reader *r, const unsigned char *after)
{
	if (r->in_key)
		return key_end(r);
	r->to = 0;
	return value_end(r, after);
}

static int escape(struct cdp_reader *r, unsigned char c)
{
	static const char simple[256] = {
		['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b', ['f'] = '\f',
		['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
	};

	if (c == 'u') {
		r->hex_n = 0;
		r->cp = 0;
		r->state = ST_HEX;
		return 0;
	}
	if (!simple[c])
		return -EPROTO;
	r->state = ST_STRING;
	return r->to ? emit(r, &simple[c], 1) : 0;
}

static int hex(struct cdp_reader *r, unsigned char c)
{
	int v = hex_digit(c);
	uint32_t cp;

	if (v < 0)
		return -EPROTO;
	r->cp = r->cp << 4 | (uint32_t)v;
	if (++r->hex_n < 4)
		return 0;
	cp = r->cp;
	if (r->high) {
		if (cp < 0xdc00 || cp > 0xdfff)
			return -EPROTO;
		cp = 0x10000 + ((r->high - 0xd800) << 10) + (cp - 0xdc00);
		r->high = 0;
	} else if (cp >= 0xd800 && cp <= 0xdbff) {
		r->high = cp;
		r->state = ST_LOW_BACKSLASH;
		return 0;
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return -EPROTO;
	}
	r->state = ST_STRING;
	return r->to ? emit_code_point(r, cp) : 0;
}

/* Bytes of a string up to end, its closing quote or a backslash; p is advanced. */
static int string_run(struct cdp_reader *r, const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp, *run = p;
	int rc = 0;

	for (;;) {
		for (; r->u8_need && p < end; p++) {
			if (*p < r->u8_lo || *p > r->u8_hi)
				return -EPROTO;
			r->u8_need--;
			r->u8_lo = 0x80;
			r->u8_hi = 0xbf;
		}
		while (p < end && is_plain[*p])
			p++;
		if (p == end || *p < 0x80)
			break;
		if (utf8_lead(r, *p) < 0)
			return -EPROTO;
		p++;
	}
	if (r->to && p > run && (rc = emit(r, (const char *)run, (size_t)(p - run))) < 0)
		return rc;
	*pp = p;
	if (p == end)
		return 0;
	if (*p == '"') {
		*pp = p + 1;
		return string_end(r, p + 1);
	}
	if (*p == '\\') {
		*pp = p + 1;
		r->state = ST_ESCAPE;
		return 0;
	}
	return -EPROTO;         /* a control character */
}

static int fail(struct cdp_reader *r, int err)
{
	r->err = err;
	r->watching = false;
	return err;
}

int cdp_reader__feed(struct cdp_reader *r, const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	int rc = 0;

	if (r->err)
		return r->err;
	if (len > r->budget - r->h.message_bytes)
		return fail(r, -EMSGSIZE);
	r->h.message_bytes += len;
	r->raw_start = p;

	while (p < end) {
		unsigned char c = *p;

		if (r->state <= ST_DONE && is_ws[c]) {
			p++;
			continue;
		}
		switch (r->state) {
		case ST_BEGIN:
			rc = c == '{' ? value_begin(r, p) : -EPROTO;
			p++;
			break;
		case ST_KEY_OR_CLOSE:
			if (c == '}') {
				rc = close_container(r, p);
				p++;
				break;
			}
			/* fall through */
		case ST_KEY:
			if (c != '"')
				return fail(r, -EPROTO);
			key_begin(r);
			p++;
			break;
		case ST_COLON:
			if (c != ':')
				return fail(r, -EPROTO);
			r->state = ST_VALUE;
			p++;
			break;
		case ST_VALUE_OR_CLOSE:
			if (c == ']') {
				rc = close_container(r, p);
				p++;
				break;
			}
			/* fall through */
		case ST_VALUE:
			if (!r->pending && (unsigned)(c - '1') < 9) {
				r->state = ST_NUM_INT;  /* the common case, in short */
				p++;
				break;
			}
			rc = value_begin(r, p);
			p++;
			break;
		case ST_NEXT:
			if (c == ',')
				r->state = top_is_array(r) ? ST_VALUE : ST_KEY;
			else if (c == '}' || c == ']')
				rc = close_container(r, p);
			else
				rc = -EPROTO;
			p++;
			break;
		case ST_DONE:
			return fail(r, -EPROTO);

		case ST_STRING:
			rc = string_run(r, &p, end);
			break;
		case ST_ESCAPE:
			rc = escape(r, c);
			p++;
			break;
		case ST_HEX:
			rc = hex(r, c);
			p++;
			break;
		case ST_LOW_BACKSLASH:
			if (c != '\\')
				return fail(r, -EPROTO);
			r->state = ST_LOW_U;
			p++;
			break;
		case ST_LOW_U:
			if (c != 'u')
				return fail(r, -EPROTO);
			r->hex_n = 0;
			r->cp = 0;
			r->state = ST_HEX;
			p++;
			break;

		case ST_NUM_MINUS:
			if (!is_digit(c))
				return fail(r, -EPROTO);
			r->state = c == '0' ? ST_NUM_ZERO : ST_NUM_INT;
			p++;
			break;
		case ST_NUM_ZERO:
			if (is_digit(c))
				return fail(r, -EPROTO);        /* a leading zero */
			goto fraction_or_end;
		case ST_NUM_INT:
			if (r->id_track) {
				for (; p < end && is_digit(*p); p++)
					id_digit(r, *p);
			} else if (top_is_array(r)) {
				/* Runs of integers ("samples", "timeDeltas"): no value
				 * here is watched or kept, so ",[1-9]" goes on in place. */
				for (;;) {
					while (p < end && is_digit(*p))
						p++;
					if (end - p < 2 || p[0] != ',' || (unsigned)(p[1] - '1') >= 9)
						break;
					p += 2;
				}
			} else {
				while (p < end && is_digit(*p))
					p++;
			}
			if (p == end)
				break;
			c = *p;
fraction_or_end:
			if (c == '.') {
				r->id_ok = false;
				r->state = ST_NUM_DOT;
				p++;
			} else if (c == 'e' || c == 'E') {
				r->id_ok = false;
				r->state = ST_NUM_E;
				p++;
			} else {
				rc = number_end(r, p);  /* c is read again as what follows */
			}
			break;
		case ST_NUM_DOT:
			if (!is_digit(c))
				return fail(r, -EPROTO);
			r->state = ST_NUM_FRAC;
			p++;
			break;
		case ST_NUM_FRAC:
			while (p < end && is_digit(*p))
				p++;
			if (p == end)
				break;
			if (*p == 'e' || *p == 'E') {
				r->state = ST_NUM_E;
				p++;
			} else {
				rc = number_end(r, p);
			}
			break;
		case ST_NUM_E:
			if (c == '+' || c == '-') {
				r->state = ST_NUM_ESIGN;
				p++;
				break;
			}
			/* fall through */
		case ST_NUM_ESIGN:
			if (!is_digit(c))
				return fail(r, -EPROTO);
			r->state = ST_NUM_EXP;
			p++;
			break;
		case ST_NUM_EXP:
			while (p < end && is_digit(*p))
				p++;
			if (p < end)
				rc = number_end(r, p);
			break;

		case ST_LITERAL:
			if (c != (unsigned char)r->literal[r->literal_i])
				return fail(r, -EPROTO);
			p++;
			if (r->literal[++r->literal_i] == '\0')
				rc = value_end(r, p);
			break;
		}
		if (rc < 0)
			return fail(r, rc);
	}

	/* What of the watched value this fragment held goes out now. */
	if (r->watching) {
		if (r->watch.mode == CDP_READER_RAW)
			rc = sink(r, r->raw_start, (size_t)(end - r->raw_start));
		else
			rc = flush_bounce(r);
		if (rc < 0)
			return fail(r, rc);
	}
	return 0;
}

/* The length of s[0..n) without a UTF-8 sequence the end cuts short. */
static size_t utf8_whole(const char *s, size_t n)
{
	size_t i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return n - (i - 1) < need ? i - 1 : n;
}

int cdp_reader__end(struct cdp_reader *r, struct cdp_reader_header *header)
{
	if (!r->err && r->state != ST_DONE)
		fail(r, -EPROTO);
	if (r->h.error_truncated) {
		size_t n = utf8_whole(r->h.error, r->error_len);

		memset(r->h.error + n, 0, r->error_len - n);
		r->error_len = n;
	}
	*header = r->h;
	return r->err;
}
